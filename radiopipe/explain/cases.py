"""Which held-out cases get a page in the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radiopipe.errors import ConfigError


def select_cases(
    oof: pd.DataFrame, classes: list[str], *, explicit: list[str], n_cases: int
) -> list[str]:
    """The case ids to show: the configured ones, or a spread picked from the predictions.

    Without ``explicit`` ids, cases are taken class by class in rounds: first, for each true
    class, the held-out case predicted most confidently and correctly; then, for each class, the
    case most confidently predicted as another class (the instructive errors); then the next
    ones, until ``n_cases`` are chosen. Ties go to the earlier row.

    Parameters
    ----------
    oof : pandas.DataFrame
        Held-out predictions: ``case_id``, ``label`` and ``proba__<class>`` (NaN: not tested).
    classes : list of str
    explicit : list of str
        Configured case ids (``report.cases``).
    n_cases : int

    Raises
    ------
    ConfigError
        When a configured case has no held-out prediction.
    """
    proba = oof[[f"proba__{c}" for c in classes]].to_numpy(dtype=np.float64)
    tested = ~np.isnan(proba).any(axis=1)
    ids = oof["case_id"].astype(str).to_numpy()
    if explicit:
        missing = [c for c in explicit if c not in set(ids[tested])]
        if missing:
            raise ConfigError(
                f"report.cases names case(s) without a held-out prediction: {', '.join(missing)}"
                "; list case ids of the cohort that the validation design tests"
            )
        return list(dict.fromkeys(explicit))
    labels = oof["label"].astype(str).to_numpy()
    predicted = np.asarray(classes, dtype=object)[np.nan_to_num(proba).argmax(axis=1)]
    queues = []
    for kind in ("correct", "wrong"):
        for k, name in enumerate(classes):
            rows = np.flatnonzero(tested & (labels == name))
            right = predicted[rows] == name
            rows = rows[right] if kind == "correct" else rows[~right]
            if kind == "correct":
                confidence = proba[rows, k]
            else:
                confidence = np.where(np.arange(len(classes)) == k, -1.0, proba[rows]).max(axis=1)
            queues.append(list(ids[rows[np.argsort(-confidence, kind="stable")]]))
    chosen: list[str] = []
    depth = 0
    while len(chosen) < n_cases and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(chosen) < n_cases:
                chosen.append(queue[depth])
        depth += 1
    return chosen

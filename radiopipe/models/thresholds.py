"""A decision threshold fixed inside each outer training set, and the calls it makes on the outer
test fold (two classes).

In every outer training set the chosen model (its search's hyperparameters, the configured
calibration) is fitted again on each inner training part and predicts the inner held-out part;
the threshold maximising Youden's J on these inner out-of-fold probabilities is then applied
unchanged to the outer test fold. No outer test row shapes its own threshold.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.base import clone

from radiopipe.evaluate import youden_threshold
from radiopipe.models.designs import OuterSplit, Splits, grouped_kfold
from radiopipe.models.factory import Candidate
from radiopipe.models.fitting import FitSettings, fit_candidate


def inner_threshold(candidate: Candidate, X, y: np.ndarray, groups: np.ndarray, inner: Splits,
                    best_params: dict, settings: FitSettings) -> float:
    """Youden's threshold on the inner out-of-fold probabilities of one outer training set.

    Parameters
    ----------
    candidate : Candidate
    X : pandas.DataFrame
        The outer training rows.
    y : array of {0, 1}
        Their class codes.
    groups : array
        Their patient ids.
    inner : list of (train, test)
        Patient-grouped splits of these rows (the design's inner splits).
    best_params : dict
        The hyperparameters the search chose on these rows (empty without a search).
    settings : FitSettings
        The calibration and seed of the outer fit; no search is run again.

    Returns
    -------
    float
        Threshold on the positive class's probability (NaN when the inner test rows lack a
        class).
    """
    fixed = replace(candidate, estimator=clone(candidate.estimator).set_params(**best_params),
                    search_space=None)
    no_search = FitSettings(settings.search.model_copy(update={"n_iter": 0}),
                            settings.calibration, settings.seed)
    scores, rows = [], []
    for train, test in inner:
        calibration = (grouped_kfold(y[train], groups[train], len(inner), settings.seed,
                                     lower=True) if settings.calibration != "none" else [])
        fitted = fit_candidate(fixed, X.iloc[train], y[train], groups[train], calibration,
                               no_search)
        proba = fitted.estimator.predict_proba(X.iloc[test])
        classes = list(np.asarray(fitted.estimator.classes_))
        scores.append(proba[:, classes.index(1)] if 1 in classes else np.zeros(len(test)))
        rows.append(test)
    return youden_threshold(y[np.concatenate(rows)] == 1, np.concatenate(scores))


def threshold_calls(proba_by_repeat: np.ndarray, splits: list[OuterSplit],
                    thresholds: list[float]) -> np.ndarray:
    """Positive (1) / negative (0) calls of every outer test row, -1 where untested.

    Parameters
    ----------
    proba_by_repeat : array of shape (R, n, 2)
        Held-out probabilities per repeat.
    splits : list of OuterSplit
    thresholds : list of float
        One per split (a NaN threshold makes no call).

    Returns
    -------
    numpy.ndarray of shape (R, n)
    """
    calls = np.full(proba_by_repeat.shape[:2], -1, dtype=np.int64)
    for split, threshold in zip(splits, thresholds, strict=True):
        if np.isnan(threshold):
            continue
        score = proba_by_repeat[split.repeat, split.test, 1]
        calls[split.repeat, split.test] = (score >= threshold).astype(np.int64)
    return calls

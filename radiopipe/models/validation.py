"""Run candidates through a design's splits: fit on each outer training set, predict its test rows.

Every (candidate, split) pair is an independent task, spread over processes with joblib; with
``n_jobs=1`` they run in order in this process. Every split is checked for a patient on both
sides before anything is fitted. Each finished fit logs one INFO line (``train: outer split 3/5
done (xgboost, 41 s)``), so a long validation shows its progress.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import delayed

from radiopipe.models.designs import OuterSplit, check_disjoint
from radiopipe.models.factory import Candidate
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.thresholds import inner_threshold
from radiopipe.parallel import unordered_results

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationResult:
    """Held-out predictions of one candidate under one design.

    Attributes
    ----------
    name : str
    kind : {'model', 'ensemble'}
    proba : numpy.ndarray of shape (n, K)
        Class probabilities of every row from models that never saw it, averaged over repeats;
        NaN for rows no split tests (training-only rows of a single split).
    fold : numpy.ndarray of shape (n,)
        Outer fold that tested the row (first repeat), -1 if none.
    best_params : list of dict
        The search's choice per outer split.
    models : list of estimator or None
        The model fitted on each outer split's training rows, in split order, when
        :func:`validate` was asked to keep them (None otherwise).
    by_repeat : numpy.ndarray of shape (R, n, K)
        The held-out probabilities of each repeat of the design on its own (NaN where a repeat
        did not test the row); R is 1 for designs without repeats.
    thresholds : list of float or None
        Youden's threshold fixed inside each outer training set (see
        :mod:`radiopipe.models.thresholds`), in split order, when :func:`validate` was asked
        for them (None otherwise).
    """

    name: str
    kind: str
    proba: np.ndarray
    fold: np.ndarray
    best_params: list[dict]
    models: list | None = None
    by_repeat: np.ndarray | None = None
    thresholds: list[float] | None = None

    @property
    def tested(self) -> np.ndarray:
        """Rows with a held-out prediction."""
        return ~np.isnan(self.proba).any(axis=1)


def validate(
    candidates: list[Candidate],
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    splits: list[OuterSplit],
    settings: FitSettings,
    *,
    n_jobs: int = 1,
    keep_models: frozenset[str] = frozenset(),
    thresholds_for: frozenset[str] = frozenset(),
) -> list[ValidationResult]:
    """Held-out probabilities of every candidate under the same splits.

    Parameters
    ----------
    candidates : list of Candidate
    X : pandas.DataFrame
        Model inputs, one row per case.
    y : array of int
        Class codes 0..K-1.
    groups : array
        Patient ids.
    splits : list of OuterSplit
        From :func:`radiopipe.models.designs.design_splits`.
    settings : FitSettings
    n_jobs : int
        Parallel (candidate, split) tasks.
    keep_models : frozenset of str
        Names of the candidates whose fitted split models are returned (``models``); the others'
        are dropped as soon as they have predicted.
    thresholds_for : frozenset of str
        Names of the candidates (two classes) whose Youden threshold is fixed inside every outer
        training set on inner out-of-fold probabilities (``thresholds``).

    Returns
    -------
    list of ValidationResult
        In ``candidates`` order.
    """
    for split in splits:
        check_disjoint(groups, split.train, split.test)
        for inner_train, inner_test in split.inner:
            check_disjoint(groups[split.train], inner_train, inner_test)
    tasks = [(c, s) for c in candidates for s in splits]
    outputs: list = [None] * len(tasks)
    jobs = (delayed(_fit_predict)(c, X, y, groups, s, settings, keep=c.name in keep_models,
                                  threshold=c.name in thresholds_for, task=t)
            for t, (c, s) in enumerate(tasks))
    with unordered_results(jobs, n_jobs) as finished:
        for done, (t, output, seconds) in enumerate(finished, start=1):
            outputs[t] = output
            candidate, split = tasks[t]
            overall = f"; {done}/{len(tasks)} fits" if len(candidates) > 1 else ""
            logger.info("train: outer split %d/%d done (%s, %.0f s%s)", t % len(splits) + 1,
                        len(splits), candidate.name, seconds, overall)
    n_classes = int(y.max()) + 1
    n_repeats = max(split.repeat for split in splits) + 1
    results = []
    for i, candidate in enumerate(candidates):
        total = np.zeros((len(y), n_classes))
        count = np.zeros(len(y))
        fold = np.full(len(y), -1)
        by_repeat = np.full((n_repeats, len(y), n_classes), np.nan)
        params, models, thresholds = [], [], []
        for split, (proba, best, model, threshold) in zip(
            splits, outputs[i * len(splits) : (i + 1) * len(splits)]
        ):
            total[split.test] += proba
            count[split.test] += 1
            by_repeat[split.repeat, split.test] = proba
            fold[split.test] = np.where(fold[split.test] < 0, split.fold, fold[split.test])
            params.append(best)
            models.append(model)
            thresholds.append(threshold)
        with np.errstate(invalid="ignore"):  # rows never tested stay NaN on purpose
            mean = total / count[:, None]
        kept = models if candidate.name in keep_models else None
        fixed = thresholds if candidate.name in thresholds_for else None
        results.append(ValidationResult(candidate.name, candidate.kind, mean, fold, params, kept,
                                        by_repeat, fixed))
    return results


def _fit_predict(candidate, X, y, groups, split: OuterSplit, settings, *, keep: bool,
                 threshold: bool, task: int):
    """Fit on the split's training rows only; (``task``, (probabilities of its test rows, the
    search's choice, the fitted model when ``keep``, the in-fold threshold when ``threshold``),
    seconds taken)."""
    start = time.perf_counter()
    train_X, train_y, train_groups = X.iloc[split.train], y[split.train], groups[split.train]
    fitted = fit_candidate(candidate, train_X, train_y, train_groups, split.inner, settings)
    proba = predict_codes(fitted.estimator, X.iloc[split.test], int(y.max()) + 1)
    cut = (inner_threshold(candidate, train_X, train_y, train_groups, split.inner,
                           fitted.best_params, settings) if threshold else None)
    output = proba, fitted.best_params, fitted.estimator if keep else None, cut
    return task, output, time.perf_counter() - start


def predict_codes(estimator, X, n_classes: int) -> np.ndarray:
    """``predict_proba`` spread onto all ``n_classes`` codes (a class absent from training: 0)."""
    proba = np.zeros((len(X), n_classes))
    proba[:, np.asarray(estimator.classes_, dtype=np.int64)] = estimator.predict_proba(X)
    return proba

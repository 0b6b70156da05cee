"""Classification metrics of held-out predictions, patient-bootstrap confidence intervals, and the
tables behind the report's curves (ROC, precision-recall, calibration, decision curve).

Binary tasks score the positive (second) class; multi-class tasks average one-vs-rest scores over
the classes (macro). Rank metrics are computed here with NumPy (equal to scikit-learn's
``roc_auc_score`` and ``average_precision_score``; the tests hold them to it) so a thousand
bootstrap resamples per model stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn import metrics

CI_LEVEL = 0.95
_LOGIT_EPS = 1e-8  # probabilities are clipped to [eps, 1 - eps] before the logit
SCALAR_METRICS = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "brier",
    "calibration_slope",
    "calibration_intercept",
)


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count one half); NaN without both classes.

    .. math:: \\mathrm{AUC} = \\frac{\\sum_{i \\in +} r_i - n_+(n_+ + 1)/2}{n_+ n_-}

    with :math:`r` the average ranks of the scores.
    """
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")  # AUC is undefined without both classes
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(positive: np.ndarray, score: np.ndarray) -> float:
    """Average precision :math:`\\sum_n (R_n - R_{n-1}) P_n` over the distinct score thresholds.

    NaN when there is no positive row (recall is undefined).
    """
    n_pos = int(positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    score, positive = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # end of each tie block
    tp = np.cumsum(positive)[last]
    precision = tp / (last + 1)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def calibration_slope_intercept(positive: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Logistic recalibration of predicted probabilities (Cox 1958).

    Slope :math:`b` from :math:`\\mathrm{logit}\\,P(y=1) = a + b\\,\\mathrm{logit}(p)`; intercept
    (calibration in the large) :math:`a` from :math:`\\mathrm{logit}\\,P(y=1) = a +
    \\mathrm{logit}(p)`. Ideal: slope 1, intercept 0. NaN where the maximum-likelihood fit does
    not exist: a single class, or scores that separate the classes perfectly.
    """
    if positive.all() or not positive.any():
        return float("nan"), float("nan")
    x = _logit(p)
    y = positive.astype(np.float64)
    design = np.column_stack([np.ones_like(x), x])
    slope_fit = _newton_logistic(design, y, offset=np.zeros_like(x))
    intercept_fit = _newton_logistic(design[:, :1], y, offset=x)
    slope = float("nan") if slope_fit is None else float(slope_fit[1])
    intercept = float("nan") if intercept_fit is None else float(intercept_fit[0])
    return slope, intercept


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(p / (1 - p))


def _newton_logistic(design, y, offset, max_iter: int = 50) -> np.ndarray | None:
    """Unpenalised logistic regression by Newton-Raphson; None if it diverges (separation)."""
    beta = np.zeros(design.shape[1])
    for _ in range(max_iter):
        eta = np.clip(design @ beta + offset, -700, 700)
        mu = 1 / (1 + np.exp(-eta))
        weight = mu * (1 - mu)
        hessian = design.T @ (design * weight[:, None])
        if np.linalg.cond(hessian) > 1e12:
            return None
        step = np.linalg.solve(hessian, design.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return beta
    return None


def scalar_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Every metric of :data:`SCALAR_METRICS` for class codes ``y`` and probabilities ``proba``.

    Parameters
    ----------
    y : array of int
        Class codes 0..K-1.
    proba : array of shape (n, K)

    Returns
    -------
    dict
        Brier score: :math:`\\frac1n \\sum_i (p_{i1} - y_i)^2` for two classes,
        :math:`\\frac1n \\sum_i \\sum_k (p_{ik} - [y_i = k])^2` for more (range 0-2).
    """
    n_classes = proba.shape[1]
    onehot = np.eye(n_classes, dtype=bool)[y]
    shown = [1] if n_classes == 2 else range(n_classes)
    aucs = [binary_auc(onehot[:, k], proba[:, k]) for k in shown]
    aps = [average_precision(onehot[:, k], proba[:, k]) for k in shown]
    calibration = np.array([calibration_slope_intercept(onehot[:, k], proba[:, k]) for k in shown])
    counts = _confusion(y, proba.argmax(axis=1), n_classes)
    true_total, predicted_total, hits = counts.sum(axis=1), counts.sum(axis=0), np.diag(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(true_total > 0, hits / true_total, 0.0)
        precision = np.where(predicted_total > 0, hits / predicted_total, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    squared = ((proba - onehot) ** 2).sum(axis=1)
    present = true_total > 0
    return {
        "roc_auc": _mean(aucs),
        "pr_auc": _mean(aps),
        "accuracy": float(hits.sum() / len(y)),
        # scikit-learn's balanced accuracy averages recall over the classes present in y.
        "balanced_accuracy": float(recall[present].mean()),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "f1_macro": float(f1.mean()),
        "brier": float(squared.mean() / (2 if n_classes == 2 else 1)),
        "calibration_slope": _mean(calibration[:, 0]),
        "calibration_intercept": _mean(calibration[:, 1]),
    }


def _mean(values) -> float:
    """Mean, NaN if any part is undefined (a macro average over an undefined class is too)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()) if not np.isnan(values).any() else float("nan")


def _confusion(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(y * n_classes + predicted, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def classification_metrics(y: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> dict:
    """Scalar metrics, per-class ROC-AUC and PR-AUC, and the confusion matrix.

    Parameters
    ----------
    y : array of int
        True class codes 0..K-1.
    proba : array of shape (n, K)
        Predicted probabilities.
    classes : sequence of str
        Class names by code.

    Returns
    -------
    dict
        :data:`SCALAR_METRICS` (see :func:`scalar_metrics`), ``roc_auc_per_class`` and
        ``pr_auc_per_class`` (one-vs-rest) and ``confusion_matrix`` (rows: true, columns:
        predicted, in ``classes`` order).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    >>> classification_metrics(y, p, ["a", "b"])["roc_auc"]
    1.0
    """
    onehot = np.eye(len(classes), dtype=bool)[y]
    return {
        **scalar_metrics(y, proba),
        "roc_auc_per_class": {
            name: binary_auc(onehot[:, k], proba[:, k]) for k, name in enumerate(classes)
        },
        "pr_auc_per_class": {
            name: average_precision(onehot[:, k], proba[:, k]) for k, name in enumerate(classes)
        },
        "confusion_matrix": _confusion(y, proba.argmax(axis=1), len(classes)).tolist(),
    }


def patient_resamples(groups: np.ndarray, *, n_resamples: int, seed: int):
    """Row indices of bootstrap resamples over patients, one array per resample.

    Each resample draws as many patients as there are, with replacement, and takes all their
    cases, so cases of one patient stay together. The same ``groups`` and ``seed`` draw the same
    patients, so every interval of a run (metrics, per-class AUCs, calibration bands) comes from
    the same resamples.

    Parameters
    ----------
    groups : array
        Patient id per row.
    n_resamples : int
    seed : int

    Yields
    ------
    numpy.ndarray
        Row indices of one resample.
    """
    patients, codes = np.unique(groups, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(patients)))
    sizes = np.bincount(codes, minlength=len(patients))
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        drawn = rng.integers(0, len(patients), len(patients))
        yield order[_expand(starts[drawn], sizes[drawn])]


def percentile_interval(values: np.ndarray) -> list[float] | None:
    """The central :data:`CI_LEVEL` percentile interval of the defined (non-NaN) values."""
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    tail = (1 - CI_LEVEL) / 2 * 100
    return [float(v) for v in np.percentile(values, [tail, 100 - tail])]


def bootstrap_intervals(
    y: np.ndarray, proba: np.ndarray, groups: np.ndarray, *, n_resamples: int, seed: int
) -> dict[str, list[float] | None]:
    """Percentile 95% confidence intervals by resampling patients with replacement.

    Resamples come from :func:`patient_resamples`. Resamples where a metric is undefined (a
    class missing) are left out of that metric's interval.

    Parameters
    ----------
    y : array of int
    proba : array of shape (n, K)
    groups : array
        Patient id per row.
    n_resamples : int
        0 gives no intervals.
    seed : int
        The same seed draws the same patients for every model (paired intervals).

    Returns
    -------
    dict
        ``metric -> [low, high]``, or None where no resample defined the metric.
    """
    values = np.full((n_resamples, len(SCALAR_METRICS)), np.nan)
    for r, rows in enumerate(patient_resamples(groups, n_resamples=n_resamples, seed=seed)):
        scores = scalar_metrics(y[rows], proba[rows])
        values[r] = [scores[m] for m in SCALAR_METRICS]
    return {name: percentile_interval(values[:, j]) for j, name in enumerate(SCALAR_METRICS)}


def per_class_auc_intervals(
    y: np.ndarray, proba: np.ndarray, classes: Sequence[str], groups: np.ndarray, *,
    n_resamples: int, seed: int,
) -> dict[str, list[float] | None]:
    """95% patient-bootstrap intervals of every class's one-vs-rest ROC-AUC.

    Parameters
    ----------
    y : array of int
    proba : array of shape (n, K)
    classes : sequence of str
    groups : array
        Patient id per row.
    n_resamples : int
        0 gives no intervals.
    seed : int
        The seed of the run's other intervals (:func:`bootstrap_intervals`).

    Returns
    -------
    dict
        ``class -> [low, high]``, or None where no resample defined the AUC.
    """
    onehot = np.eye(len(classes), dtype=bool)[y]
    values = np.full((n_resamples, len(classes)), np.nan)
    for r, rows in enumerate(patient_resamples(groups, n_resamples=n_resamples, seed=seed)):
        values[r] = [binary_auc(onehot[rows, k], proba[rows, k]) for k in range(len(classes))]
    return {name: percentile_interval(values[:, k]) for k, name in enumerate(classes)}


def roc_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """ROC-AUC as :func:`scalar_metrics` gives it: the positive class's for two classes, the
    one-vs-rest macro average for more (NaN where a class is missing)."""
    onehot = np.eye(proba.shape[1], dtype=bool)[y]
    shown = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    return _mean([binary_auc(onehot[:, k], proba[:, k]) for k in shown])


def paired_auc_difference(
    y: np.ndarray, proba: np.ndarray, reference: np.ndarray, groups: np.ndarray, *,
    n_resamples: int, seed: int,
) -> tuple[float, list[float] | None]:
    """:func:`roc_auc` of ``proba`` minus that of ``reference`` on the same rows, with its paired
    95% patient-bootstrap interval (both AUCs on each resample of :func:`patient_resamples`).

    Parameters
    ----------
    y : array of int
        Class codes.
    proba, reference : array of shape (n, K)
        Two models' probabilities of the same rows.
    groups : array
        Patient id per row.
    n_resamples, seed : int
        The run's bootstrap (the same resamples as its other intervals).

    Returns
    -------
    (float, list or None)
        The difference (NaN when undefined) and ``[low, high]``.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> a = np.array([[.9, .1], [.8, .2], [.2, .8], [.1, .9]])
    >>> b = np.array([[.9, .1], [.1, .9], [.2, .8], [.8, .2]])
    >>> paired_auc_difference(y, a, b, np.arange(4), n_resamples=0, seed=0)
    (0.5, None)
    """
    difference = roc_auc(y, proba) - roc_auc(y, reference)
    values = np.full(n_resamples, np.nan)
    for r, rows in enumerate(patient_resamples(groups, n_resamples=n_resamples, seed=seed)):
        values[r] = roc_auc(y[rows], proba[rows]) - roc_auc(y[rows], reference[rows])
    return difference, percentile_interval(values)


def youden_threshold(positive: np.ndarray, score: np.ndarray) -> float:
    """The score threshold :math:`t` (a case is positive when its score is :math:`\\ge t`) that
    maximises Youden's :math:`J = \\mathrm{sensitivity} + \\mathrm{specificity} - 1`; of tied
    thresholds the highest. NaN without both classes.

    Examples
    --------
    >>> youden_threshold(np.array([False, False, True, True]), np.array([.1, .4, .35, .8]))
    0.8
    """
    if positive.all() or not positive.any():
        return float("nan")
    fpr, tpr, thresholds = metrics.roc_curve(positive, score)
    best = int(np.argmax(tpr[1:] - fpr[1:])) + 1  # the first point (threshold inf) calls none
    return float(thresholds[best])


def threshold_rates(positive: np.ndarray, calls: np.ndarray) -> tuple[float, float]:
    """Pooled sensitivity and specificity of positive/negative calls.

    Parameters
    ----------
    positive : array of bool, shape (n,)
    calls : array of int, shape (R, n)
        1 (called positive), 0 (called negative) or -1 (not tested) per repeat and row; every
        call counts once.

    Returns
    -------
    (float, float)
        NaN where a class has no call.
    """
    made = calls >= 0
    hit = calls == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        sensitivity = (hit & positive).sum() / (made & positive).sum()
        specificity = (made & ~hit & ~positive).sum() / (made & ~positive).sum()
    return float(sensitivity), float(specificity)


def threshold_intervals(
    positive: np.ndarray, calls: np.ndarray, groups: np.ndarray, *, n_resamples: int, seed: int
) -> dict[str, list[float] | None]:
    """95% patient-bootstrap intervals of :func:`threshold_rates` (the run's resamples)."""
    values = np.full((n_resamples, 2), np.nan)
    for r, rows in enumerate(patient_resamples(groups, n_resamples=n_resamples, seed=seed)):
        values[r] = threshold_rates(positive[rows], calls[:, rows])
    return {"sensitivity": percentile_interval(values[:, 0]),
            "specificity": percentile_interval(values[:, 1])}


def _expand(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenate the ranges ``starts[i] .. starts[i] + sizes[i] - 1``."""
    total = int(sizes.sum())
    offsets = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes)
    return np.arange(total) + offsets


def roc_curves(y: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """One-vs-rest ROC curve points of every class (binary tasks: the positive class only).

    Returns
    -------
    pandas.DataFrame
        Columns ``class, fpr, tpr, threshold``.
    """
    frames = []
    for k in _shown(classes):
        fpr, tpr, thresholds = metrics.roc_curve(y == k, proba[:, k])
        frames.append(
            pd.DataFrame({"class": classes[k], "fpr": fpr, "tpr": tpr, "threshold": thresholds})
        )
    return pd.concat(frames, ignore_index=True)


def pr_curves(y: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """One-vs-rest precision-recall curve points (binary tasks: the positive class only).

    Returns
    -------
    pandas.DataFrame
        Columns ``class, recall, precision``.
    """
    frames = []
    for k in _shown(classes):
        precision, recall, _ = metrics.precision_recall_curve(y == k, proba[:, k])
        frames.append(pd.DataFrame({"class": classes[k], "recall": recall, "precision": precision}))
    return pd.concat(frames, ignore_index=True)


def calibration_table(
    y: np.ndarray, proba: np.ndarray, classes: Sequence[str], *, n_bins: int = 10,
    groups: np.ndarray | None = None, n_resamples: int = 0, seed: int = 0,
) -> pd.DataFrame:
    """Observed frequency against mean predicted probability in equal-width bins (one-vs-rest),
    with each bin's case count and a patient-bootstrap band of the observed frequency.

    Parameters
    ----------
    y : array of int
    proba : array of shape (n, K)
    classes : sequence of str
    n_bins : int
        Equal-width bins over [0, 1].
    groups : array, optional
        Patient id per row (needed for the band).
    n_resamples, seed : int
        The bootstrap of :func:`patient_resamples`; 0 resamples (or no ``groups``) gives no band.

    Returns
    -------
    pandas.DataFrame
        Columns ``class, bin, bin_low, bin_high, n, n_patients, mean_predicted, observed,
        observed_low, observed_high``: ``n`` cases of ``n_patients`` patients fall in the bin;
        ``observed_low``/``observed_high`` bound the 95% band of the observed frequency (NaN
        without a bootstrap). Empty bins are left out.
    """
    shown = _shown(classes)
    bins = np.minimum((proba[:, shown] * n_bins).astype(int), n_bins - 1)  # (n, shown)
    cells = bins + n_bins * np.arange(len(shown))  # one cell per (class, bin)
    positive = y[:, None] == np.asarray(shown)[None, :]
    n_cells = n_bins * len(shown)
    bands = np.full((n_resamples if groups is not None else 0, n_cells), np.nan)
    if groups is not None:
        for r, rows in enumerate(patient_resamples(groups, n_resamples=n_resamples, seed=seed)):
            count = np.bincount(cells[rows].ravel(), minlength=n_cells)
            hits = np.bincount(cells[rows].ravel(), weights=positive[rows].ravel(),
                               minlength=n_cells)
            with np.errstate(invalid="ignore", divide="ignore"):
                bands[r] = hits / count
    rows = []
    for j, k in enumerate(shown):
        p = proba[:, k]
        for b in np.unique(bins[:, j]):
            inside = bins[:, j] == b
            band = percentile_interval(bands[:, j * n_bins + b]) or [np.nan, np.nan]
            rows.append(
                {
                    "class": classes[k],
                    "bin": int(b),
                    "bin_low": b / n_bins,
                    "bin_high": (b + 1) / n_bins,
                    "n": int(inside.sum()),
                    "n_patients": (int(len(np.unique(groups[inside])))
                                   if groups is not None else np.nan),
                    "mean_predicted": float(p[inside].mean()),
                    "observed": float((y[inside] == k).mean()),
                    "observed_low": band[0],
                    "observed_high": band[1],
                }
            )
    return pd.DataFrame(rows)


def decision_curve(
    y: np.ndarray, p_positive: np.ndarray, thresholds: np.ndarray | None = None
) -> pd.DataFrame:
    """Net benefit of treating by the model, treating all and treating none (binary tasks).

    .. math:: \\mathrm{NB}(t) = \\frac{TP(t)}{n} - \\frac{FP(t)}{n} \\frac{t}{1-t}

    with a case treated when :math:`p \\ge t` (Vickers & Elkin 2006).

    Parameters
    ----------
    y : array of {0, 1}
    p_positive : array
        Probability of the positive class.
    thresholds : array, optional
        Default 0.01..0.99 by 0.01.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold, model, treat_all, treat_none``.
    """
    if thresholds is None:
        thresholds = np.round(np.arange(1, 100) / 100, 2)
    positive = np.asarray(y) == 1
    n = len(positive)
    treated = p_positive[None, :] >= thresholds[:, None]
    tp = (treated & positive).sum(axis=1)
    fp = (treated & ~positive).sum(axis=1)
    odds = thresholds / (1 - thresholds)
    prevalence = positive.mean()
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "model": tp / n - fp / n * odds,
            "treat_all": prevalence - (1 - prevalence) * odds,
            "treat_none": 0.0,
        }
    )


def _shown(classes: Sequence[str]) -> list[int]:
    return [1] if len(classes) == 2 else list(range(len(classes)))

"""What the design checks of ``metrics.json`` hold: the primary model's ROC-AUC per repeat, the
labels a shuffled-label control learns from, a negative-control image's ROC-AUC with its
interval, the pooled calls of an in-fold threshold, and the paired ROC-AUC difference of a
feature set against the main one.

Plain functions on validation results; `radiopipe.models.design_validations` runs the extra
validations they need.
"""

from __future__ import annotations

import numpy as np

from radiopipe.config import BootstrapConfig
from radiopipe.evaluate import (
    interval_table,
    paired_auc_difference,
    roc_auc,
    threshold_intervals,
    threshold_rates,
)
from radiopipe.models.designs import OuterSplit
from radiopipe.models.thresholds import threshold_calls
from radiopipe.models.validation import ValidationResult


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def repeat_aucs(y: np.ndarray, result: ValidationResult) -> list[dict]:
    """ROC-AUC of each repeat's held-out probabilities on their own (one entry per repeat)."""
    rows = []
    for r, proba in enumerate(result.by_repeat):
        tested = ~np.isnan(proba).any(axis=1)
        rows.append({"repeat": r, "roc_auc": _none_if_nan(roc_auc(y[tested], proba[tested]))})
    return rows


def auc_of(y: np.ndarray, result: ValidationResult) -> float | None:
    """ROC-AUC of a result's (repeat-averaged) held-out probabilities."""
    tested = result.tested
    return _none_if_nan(roc_auc(y[tested], result.proba[tested]))


def shuffled_labels(y: np.ndarray, groups: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """``n`` label vectors permuted across patients.

    Each patient takes the label of another patient (its most frequent label, the lowest code on
    a tie) for all its cases, so a patient's cases keep one label and the patients per class
    stay as they were. Permutation ``k`` is drawn from ``numpy.random.default_rng([seed, k])``.
    """
    patients, codes = np.unique(groups, return_inverse=True)
    counts = np.zeros((len(patients), int(y.max()) + 1), dtype=np.int64)
    np.add.at(counts, (codes, y), 1)
    label = counts.argmax(axis=1)
    return [label[np.random.default_rng([seed, k]).permutation(len(patients))][codes]
            for k in range(n)]


def threshold_summary(y: np.ndarray, groups: np.ndarray, result: ValidationResult,
                      splits: list[OuterSplit], bootstrap: BootstrapConfig) -> dict:
    """Pooled sensitivity and specificity of the in-fold thresholds' calls on the outer test
    folds, with 95% patient-bootstrap intervals (every repeat's call counts)."""
    calls = threshold_calls(result.by_repeat, splits, result.thresholds)
    positive = y == 1
    sensitivity, specificity = threshold_rates(positive, calls)
    intervals = threshold_intervals(positive, calls, groups, n_resamples=bootstrap.n_resamples,
                                    seed=bootstrap.seed, method=bootstrap.method)
    return {
        "method": "youden_in_fold",
        "thresholds": [_none_if_nan(t) for t in result.thresholds],
        "sensitivity": _none_if_nan(sensitivity),
        "specificity": _none_if_nan(specificity),
        "ci": intervals.bounds,
        "ci_fallback": intervals.fallback,
        "n_calls": int((calls >= 0).sum()),
    }


def auc_difference(y: np.ndarray, groups: np.ndarray, result: ValidationResult,
                   reference: ValidationResult, versus: str,
                   bootstrap: BootstrapConfig) -> dict:
    """``result``'s ROC-AUC minus ``reference``'s on the rows both tested, with the paired
    patient-bootstrap interval (the run's resamples)."""
    both = result.tested & reference.tested
    value, interval = paired_auc_difference(
        y[both], result.proba[both], reference.proba[both], groups[both],
        n_resamples=bootstrap.n_resamples, seed=bootstrap.seed, method=bootstrap.method,
    )
    return {"versus": versus, "value": _none_if_nan(value),
            "ci": interval.bounds["roc_auc_difference"], "ci_fallback": interval.fallback}


def control_auc(y: np.ndarray, groups: np.ndarray, result: ValidationResult, control: str,
                bootstrap: BootstrapConfig) -> dict:
    """ROC-AUC of a negative control's held-out probabilities with its 95% patient-bootstrap
    interval (the run's resamples and interval method): ``{"control", "roc_auc", "ci",
    "ci_fallback"}``."""
    return {"control": control, **auc_interval(y, groups, result, bootstrap)}


def auc_interval(y: np.ndarray, groups: np.ndarray, result: ValidationResult,
                 bootstrap: BootstrapConfig) -> dict:
    """ROC-AUC of a result's held-out probabilities against labels ``y`` with its 95%
    patient-bootstrap interval: ``{"roc_auc", "ci", "ci_fallback"}``."""
    tested = result.tested
    y, proba, groups = y[tested], result.proba[tested], groups[tested]
    intervals = interval_table(["roc_auc"], lambda rows: [roc_auc(y[rows], proba[rows])], groups,
                               n_resamples=bootstrap.n_resamples, seed=bootstrap.seed,
                               method=bootstrap.method)
    return {"roc_auc": _none_if_nan(roc_auc(y, proba)), "ci": intervals.bounds["roc_auc"],
            "ci_fallback": intervals.fallback}

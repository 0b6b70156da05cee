"""Model health: whether the validated primary model learned anything, with stable codes.

Codes (stable, after the run diagnostics of :mod:`radiopipe.checks`):

RPD007  error    the held-out predictions are constant or nearly so: the model learned nothing.
RPD008  warning  the ROC-AUC's 95% interval includes 0.5 (chance).
RPD009  warning  the Brier score is no better than predicting every case the class prevalence.
RPD010  warning  the primary (saved) model's ROC-AUC lies far below the best compared model's.
RPD011  warning  an outer fold trained or tested on one class only.

Severity 'error' marks a model whose predictions carry no information; 'warning' one whose
results need care. The findings are plain records (:class:`~radiopipe.records.HealthFinding`),
stored in ``metrics.json`` and in every bundle of the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from radiopipe.evaluate import scalar_metrics
from radiopipe.records import CandidateSummary, HealthFinding

HEALTH_CHECKS = {
    "RPD007": "the model's predictions are constant (it learned nothing)",
    "RPD008": "ROC-AUC interval includes chance (0.5)",
    "RPD009": "no better than the prevalence baseline",
    "RPD010": "primary model far below the best compared model",
    "RPD011": "an outer fold with one class",
}
LEARNED_NOTHING = "RPD007"
CONSTANT_SPREAD = 0.01  # probabilities within this range of each other count as constant
AUC_GAP = 0.05  # the primary model's ROC-AUC this far below the best compared one is flagged
_ORDER = {"error": 0, "warning": 1}


def constant_predictions(proba: np.ndarray, *, spread: float = CONSTANT_SPREAD
                         ) -> HealthFinding | None:
    """RPD007: every class's held-out probability varies by less than ``spread`` over the cases.

    Parameters
    ----------
    proba : array of shape (n, K)
        Held-out probabilities of the tested rows.
    """
    ranges = proba.max(axis=0) - proba.min(axis=0)
    if len(proba) < 2 or ranges.max() >= spread:
        return None
    values = ", ".join(f"{v:.3f}" for v in proba.mean(axis=0))
    return HealthFinding(
        LEARNED_NOTHING, "error",
        f"the model learned nothing: it gives every held-out case the same probabilities "
        f"({values}, range {ranges.max():.2g}); its ROC-AUC, explanations and case pages carry "
        "no information. Check the features, the labels and the model's settings (e.g. "
        "min_child_weight against the cohort size) before using it.",
    )


def chance_interval(auc: float | None, interval: Sequence[float] | None) -> HealthFinding | None:
    """RPD008: the ROC-AUC's 95% patient-bootstrap interval includes 0.5."""
    if auc is None or interval is None or not interval[0] <= 0.5 <= interval[1]:
        return None
    return HealthFinding(
        "RPD008", "warning",
        f"ROC-AUC {auc:.3f} (95% CI {interval[0]:.3f} to {interval[1]:.3f}) does not exclude "
        "chance (0.5); the cohort cannot show that the model discriminates. Add patients or "
        "simplify the model.",
    )


def prevalence_baseline(y: np.ndarray, proba: np.ndarray) -> HealthFinding | None:
    """RPD009: the Brier score is no lower than that of the class prevalence as a prediction.

    The baseline gives every case the classes' shares among the tested cases; for two classes
    its Brier score is :math:`\\pi (1 - \\pi)`.
    """
    prevalence = np.bincount(y, minlength=proba.shape[1]) / len(y)
    brier = scalar_metrics(y, proba)["brier"]
    baseline = scalar_metrics(y, np.tile(prevalence, (len(y), 1)))["brier"]
    if brier < baseline:
        return None
    return HealthFinding(
        "RPD009", "warning",
        f"Brier score {brier:.3f} is no better than {baseline:.3f}, that of giving every case "
        "the class prevalence; the probabilities add nothing to the base rate.",
    )


def primary_below_best(comparison: Sequence[CandidateSummary], *, gap: float = AUC_GAP
                       ) -> HealthFinding | None:
    """RPD010: the primary model's ROC-AUC is more than ``gap`` below the best compared one's
    (same feature set)."""
    primary = next(c for c in comparison if c.primary)
    rivals = [c for c in comparison if c.feature_set == primary.feature_set and not c.primary
              and c.metrics["roc_auc"] is not None]
    if not rivals:
        return None
    best = max(rivals, key=lambda c: c.metrics["roc_auc"])
    own = primary.metrics["roc_auc"]
    if own is not None and best.metrics["roc_auc"] - own <= gap:
        return None
    shown = "undefined" if own is None else f"{own:.3f}"
    return HealthFinding(
        "RPD010", "warning",
        f"the saved model {primary.model} has ROC-AUC {shown}, the compared model {best.model} "
        f"{best.metrics['roc_auc']:.3f}; set model.name to {best.model} to save that one.",
    )


def one_class_folds(y: np.ndarray, splits) -> HealthFinding | None:
    """RPD011: outer splits whose training or test rows hold a single class.

    Parameters
    ----------
    y : array of int
        Class codes of every row.
    splits : sequence of OuterSplit
    """
    n_classes = len(np.unique(y))
    bad = []
    for i, split in enumerate(splits):
        if len(np.unique(y[split.train])) < n_classes:
            bad.append(f"training rows of split {i}")
        if len(np.unique(y[split.test])) < 2:
            bad.append(f"test rows of split {i}")
    if not bad:
        return None
    return HealthFinding(
        "RPD011", "warning",
        f"{len(bad)} fold part(s) hold one class only ({', '.join(bad[:4])}"
        f"{' ...' if len(bad) > 4 else ''}); their ROC-AUC is undefined and their model cannot "
        "tell the classes apart. Lower model.cv.n_splits or add patients.",
    )


def model_health(y: np.ndarray, proba: np.ndarray, tested: np.ndarray, splits,
                 comparison: Sequence[CandidateSummary]) -> list[HealthFinding]:
    """Every health finding of the primary model, most severe first.

    Parameters
    ----------
    y : array of int
        Class codes of every row.
    proba : array of shape (n, K)
        The primary model's held-out probabilities (NaN for untested rows).
    tested : array of bool
        Rows with a held-out prediction.
    splits : sequence of OuterSplit
        The design's outer splits.
    comparison : sequence of CandidateSummary
        Every validated candidate, the primary one included.

    Returns
    -------
    list of HealthFinding
    """
    primary = next(c for c in comparison if c.primary)
    found = [
        constant_predictions(proba[tested]),
        chance_interval(primary.metrics["roc_auc"], primary.ci["roc_auc"]),
        prevalence_baseline(y[tested], proba[tested]),
        primary_below_best(comparison),
        one_class_folds(y, splits),
    ]
    return sorted((f for f in found if f is not None), key=lambda f: (_ORDER[f.severity], f.code))


def learned_nothing(health: Sequence[HealthFinding]) -> bool:
    """Whether the findings say the model's predictions are constant."""
    return any(f.code == LEARNED_NOTHING for f in health)

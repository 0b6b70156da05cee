"""Diagnostics of a run, with stable codes: each finding has a code, a severity, a message and the
table behind it.

Codes (stable: reports, tests and users may rely on them):

RPD001  a patient's cases sit in two splits (train and test, or two test folds): leakage.
RPD002  highly correlated feature pairs (redundant features; unstable importances).
RPD003  class imbalance (accuracy and calibration mislead; read balanced metrics).
RPD004  a single feature alone separates the classes (a leak or a trivial task).
RPD005  cases failed feature extraction and are missing from the analysis.
RPD006  the kept fold models that explain held-out cases no longer predict what validation
        recorded (a model file replaced or a non-deterministic prediction).
RPD007-RPD011  the primary model's health (:mod:`radiopipe.models.health`): constant
        predictions, an interval including chance, no better than the prevalence, far below the
        best compared model, a fold with one class; found by the train stage and kept in its
        records.
RPD012  a configured feature set (``model.feature_sets``: tumour volume alone, one modality)
        predicts at least as well as the main set (warning), or the main set's lead over it is
        within chance (info): the full model adds nothing measurable over what that set holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from radiopipe.models.health import HEALTH_CHECKS
from radiopipe.records import CandidateSummary, HealthFinding, ValidationRecord

CHECKS = {
    "RPD001": "patient in two splits",
    "RPD002": "highly correlated features",
    "RPD003": "class imbalance",
    "RPD004": "a single feature separates the classes",
    "RPD005": "failed cases",
    "RPD006": "explained models differ from validated models",
    **HEALTH_CHECKS,
    "RPD012": "a feature set predicts as well as the main set",
}
# RPD002 skips a column whose standard deviation is at most this share of its largest absolute
# value: the rounding noise of a feature that is constant in exact arithmetic.
NEAR_CONSTANT = 1e-9
_LISTED = 5  # skipped columns named in a message


@dataclass(frozen=True)
class Finding:
    """One diagnostic finding.

    Attributes
    ----------
    code : str
        Stable code, a key of :data:`CHECKS`.
    severity : {'error', 'warning', 'info'}
    message : str
        What was found and what to do.
    table : pandas.DataFrame
        The rows behind the finding.
    """

    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def title(self) -> str:
        """The check's name."""
        return CHECKS[self.code]


def patient_in_two_splits(predictions: pd.DataFrame) -> Finding | None:
    """RPD001: patients whose cases got different held-out folds (or were partly untested).

    Parameters
    ----------
    predictions : pandas.DataFrame
        ``case_id``, ``patient_id`` and ``fold`` (-1 for rows only ever trained on).
    """
    folds = predictions.groupby("patient_id", sort=True)["fold"]
    shared = folds.nunique()
    shared = shared[shared > 1].index
    if not len(shared):
        return None
    rows = predictions[predictions["patient_id"].isin(shared)]
    table = rows.groupby("patient_id", sort=True).agg(
        cases=("case_id", lambda s: ", ".join(map(str, s))),
        folds=("fold", lambda s: ", ".join(str(f) for f in sorted(set(s)))),
    ).reset_index()
    return Finding(
        "RPD001", "error",
        f"{len(table)} patient(s) have cases in two splits (fold -1: training only); their "
        "held-out predictions may have seen the same patient in training. Check the manifest's "
        "patient_id column.",
        table,
    )


def correlated_features(features: pd.DataFrame, *, threshold: float = 0.95,
                        filtered_in_fold: float | None = None) -> Finding | None:
    """RPD002: feature pairs whose absolute Pearson correlation is at least ``threshold``.

    Constant and near-constant columns are skipped: a column whose standard deviation is at most
    :data:`NEAR_CONSTANT` times its largest absolute value (floating-point noise around one value,
    such as the shape of a fixed ROI) has no correlation to speak of, yet its noise can correlate
    at :math:`|r| = 1` with another such column. The finding's message names the skipped columns.

    Parameters
    ----------
    features : pandas.DataFrame
        One column per feature (NaN filled by the column mean).
    threshold : float
    filtered_in_fold : float or None
        The run's in-fold correlation filter threshold, if any (the finding is then
        informational: the filter keeps one feature of each such pair in every training fold).

    Examples
    --------
    >>> table = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8.1], "c": [5.0] * 4})
    >>> correlated_features(table).table[["feature_a", "feature_b"]].values.tolist()
    [['a', 'b']]
    """
    values = features.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        values = np.where(np.isnan(values), np.nanmean(values, axis=0), values)
    keep, constant = _varying_columns(values)
    z = (values[:, keep] - values[:, keep].mean(axis=0)) / values[:, keep].std(axis=0)
    r = (z.T @ z) / len(z)
    i, j = np.triu_indices(len(keep), k=1)
    strong = np.abs(r[i, j]) >= threshold
    if not strong.any():
        return None
    names = np.asarray(features.columns)[keep]
    table = pd.DataFrame(
        {"feature_a": names[i[strong]], "feature_b": names[j[strong]], "r": r[i, j][strong]}
    )
    table = table.iloc[np.argsort(-np.abs(table["r"].to_numpy()), kind="stable")]
    handled = filtered_in_fold is not None and filtered_in_fold <= threshold
    how = ("the in-fold correlation filter keeps one feature of each pair in every training fold"
           if handled else "set model.preprocessing.correlation_threshold to drop one of each "
           "pair inside the folds")
    skipped = ""
    if len(constant):
        shown = [str(c) for c in features.columns[constant]]
        listed = ", ".join(shown[:_LISTED]) + (
            f" and {len(shown) - _LISTED} more" if len(shown) > _LISTED else "")
        skipped = (f" {len(shown)} constant or near-constant feature(s) were skipped (no "
                   f"correlation to measure): {listed}.")
    return Finding(
        "RPD002", "info" if handled else "warning",
        f"{len(table)} feature pair(s) correlate with |r| >= {threshold:g}; importances spread "
        f"over redundant features. {how[0].upper() + how[1:]}.{skipped}",
        table.reset_index(drop=True),
    )


def _varying_columns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the columns that vary, and of the constant or near-constant ones."""
    spread = values.std(axis=0)
    scale = np.abs(values).max(axis=0, initial=0.0)
    varying = np.isfinite(spread) & (spread > NEAR_CONSTANT * scale)
    return np.flatnonzero(varying), np.flatnonzero(~varying)


def class_imbalance(labels: Sequence[str], *, ratio: float = 0.5) -> Finding | None:
    """RPD003: the smallest class has fewer than ``ratio`` times the largest class's cases."""
    counts = pd.Series(list(labels), dtype=object).value_counts().sort_index()
    if len(counts) < 2 or counts.min() >= ratio * counts.max():
        return None
    table = pd.DataFrame({"class": counts.index, "cases": counts.to_numpy()})
    table["share"] = table["cases"] / table["cases"].sum()
    return Finding(
        "RPD003", "warning",
        f"class '{counts.idxmin()}' has {counts.min()} case(s), '{counts.idxmax()}' "
        f"{counts.max()}; read balanced accuracy, PR curves and calibration rather than accuracy.",
        table,
    )


def single_feature_separation(features: pd.DataFrame, labels: Sequence[str], *,
                              threshold: float = 0.99) -> Finding | None:
    """RPD004: a feature whose one-vs-rest ROC-AUC alone reaches ``threshold`` (or 1 - it).

    The AUC of each feature for each class (two classes: the second) is the Mann-Whitney
    statistic of its ranks, :math:`(R_1 - n_1 (n_1 + 1) / 2) / (n_1 n_0)`; missing values take
    the column median.
    """
    labels = np.asarray(list(labels), dtype=object)
    classes = sorted(set(labels))
    values = features.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        values = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
    ranks = rankdata(values, axis=0)
    rows = []
    for name in classes[1:] if len(classes) == 2 else classes:
        positive = labels == name
        n1, n0 = positive.sum(), (~positive).sum()
        auc = (ranks[positive].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
        separation = np.maximum(auc, 1 - auc)
        for j in np.flatnonzero(separation >= threshold):
            rows.append({"feature": features.columns[j], "class": name, "auc": auc[j],
                         "separation": separation[j]})
    if not rows:
        return None
    table = pd.DataFrame(rows).sort_values("separation", ascending=False, kind="stable")
    best = table.iloc[0]
    return Finding(
        "RPD004", "warning",
        f"{table['feature'].nunique()} feature(s) alone separate a class from the others "
        f"(best: {best['feature']}, whose {'higher' if best['auc'] >= 0.5 else 'lower'} "
        f"values alone tell '{best['class']}' from the rest with ROC-AUC "
        f"{best['separation']:.3f}); check "
        "that no feature encodes the label, the site or the scanner before trusting the model.",
        table.reset_index(drop=True),
    )


def failed_cases(failures: list[dict]) -> Finding | None:
    """RPD005: cases without features (``[{'case_id': ..., 'reason': ...}]``)."""
    if not failures:
        return None
    return Finding(
        "RPD005", "warning",
        f"{len(failures)} case(s) failed feature extraction and are not analysed; if failures "
        "concentrate in one class or site, the results are biased. Reasons are in failures/.",
        pd.DataFrame(failures, columns=["case_id", "reason"]),
    )


def explained_models_differ(difference: float, *, tolerance: float = 1e-6) -> Finding | None:
    """RPD006: the kept fold models (which the SHAP values explain) predict differently from
    what validation recorded."""
    if not np.isfinite(difference) or difference <= tolerance:
        return None
    return Finding(
        "RPD006", "warning",
        f"the kept fold models that explain the held-out cases predict up to {difference:.2g} "
        "in probability away from what validation recorded; the explanations describe models "
        "other than the validated ones. Rerun 'radiopipe train'.",
        pd.DataFrame({"max_abs_probability_difference": [difference]}),
    )


def feature_set_rivals(comparison: Sequence[CandidateSummary]) -> Finding | None:
    """RPD012: feature sets the main set does not beat, from the paired ROC-AUC differences
    (set minus main, on the same held-out rows) of the primary model.

    A set whose difference is at least 0 is a warning: what it holds alone predicts as well as
    the full model. A set below the main set by a difference whose 95% interval reaches 0 is
    info: the main set's lead over it is within chance.
    """
    rows = []
    for entry in comparison:
        difference = entry.auc_difference
        if difference is None or difference["value"] is None:
            continue
        low, high = difference["ci"] if difference["ci"] is not None else (np.nan, np.nan)
        if difference["value"] >= 0:
            verdict = "at least as good"
        elif not high < 0:  # NaN (no interval) counts as not shown to be worse
            verdict = "within chance"
        else:
            continue
        rows.append({"feature_set": entry.feature_set, "model": entry.model,
                     "roc_auc": entry.metrics["roc_auc"], "versus": difference["versus"],
                     "auc_difference": difference["value"], "ci_low": low, "ci_high": high,
                     "verdict": verdict})
    if not rows:
        return None
    table = pd.DataFrame(rows)
    listed = "; ".join(
        f"{r.feature_set} (ΔROC-AUC {r.auc_difference:+.3f}, 95% CI {r.ci_low:+.3f} to "
        f"{r.ci_high:+.3f})" for r in table.itertuples())
    versus = table["versus"].iloc[0]
    if (table["verdict"] == "at least as good").any():
        return Finding(
            "RPD012", "warning",
            f"the main feature set ({versus}) is not better than feature set(s) it was compared "
            f"with by the same design: {listed}. What such a set holds alone predicts as well "
            "as the full model; report the simpler model, or show what the rest adds.",
            table)
    return Finding(
        "RPD012", "info",
        f"the main feature set ({versus}) scores above these feature sets, by differences "
        f"whose 95% intervals reach 0: {listed}. Its lead over them is within chance.", table)


def not_applicable(record: ValidationRecord) -> dict[str, str]:
    """The checks a run gives nothing to check, with the reason (RPD012 without feature sets)."""
    if any(c.auc_difference is not None for c in record.comparison):
        return {}
    return {"RPD012": "no model.feature_sets to compare with the main set"}


def health_findings(health: Sequence[HealthFinding]) -> list[Finding]:
    """RPD007-RPD011: the train stage's model health findings as diagnostics."""
    return [Finding(h.code, h.severity, h.message) for h in health]


def run_checks(features: pd.DataFrame, predictions: pd.DataFrame, *, failures: list[dict],
               correlation_filter: float | None = None,
               model_difference: float = np.nan,
               health: Sequence[HealthFinding] = (),
               comparison: Sequence[CandidateSummary] = ()) -> list[Finding]:
    """Every diagnostic of a run, errors first.

    Parameters
    ----------
    features : pandas.DataFrame
        The feature columns of the analysed cases.
    predictions : pandas.DataFrame
        Held-out predictions: ``case_id``, ``patient_id``, ``label`` and ``fold``.
    failures : list of dict
        Failed cases with their reasons.
    correlation_filter : float or None
        The run's in-fold correlation threshold.
    model_difference : float
        See :func:`explained_models_differ` (NaN: no explanations).
    health : sequence of HealthFinding
        The train stage's model health findings (``ValidationRecord.health``).
    comparison : sequence of CandidateSummary
        The validated candidates (``ValidationRecord.comparison``), for RPD012.

    Returns
    -------
    list of Finding
    """
    found = [
        patient_in_two_splits(predictions),
        correlated_features(features, filtered_in_fold=correlation_filter),
        class_imbalance(predictions["label"]),
        single_feature_separation(features, predictions["label"]),
        failed_cases(failures),
        explained_models_differ(model_difference),
        *health_findings(health),
        feature_set_rivals(comparison),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted((f for f in found if f is not None), key=lambda f: (order[f.severity], f.code))

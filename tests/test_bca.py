"""BCa intervals over patients: against scipy's BCa, the patient-level jackknife, degenerate
cases falling back to percentile."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
from scipy import stats

from radiopipe.bca import bca_interval, confidence_interval, patient_jackknife
from radiopipe.config import BootstrapConfig
from radiopipe.evaluate import (
    binary_auc,
    bootstrap_intervals,
    paired_auc_difference,
    per_class_auc_intervals,
    scalar_metrics,
)


def _cohort(n: int = 60, seed: int = 3):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    p1 = np.clip(0.5 + 0.25 * (y - 0.5) + 0.25 * rng.normal(size=n), 0.01, 0.99)
    return y, np.column_stack([1 - p1, p1])


def _scipy_bca(y, proba, metric, n_resamples, seed):
    """scipy's BCa of ``metric`` over rows, its resamples drawn by the generator we seed."""
    def statistic(rows):
        rows = rows.astype(int)
        return scalar_metrics(y[rows], proba[rows])[metric]

    result = stats.bootstrap((np.arange(len(y)).astype(float),), statistic, vectorized=False,
                             n_resamples=n_resamples, method="BCa", confidence_level=0.95,
                             rng=np.random.default_rng(seed))
    return [result.confidence_interval.low, result.confidence_interval.high]


@pytest.mark.parametrize("metric", ["roc_auc", "brier", "balanced_accuracy"])
def test_bca_equals_scipy_with_one_case_per_patient(metric):
    # One case per patient: the patient bootstrap draws rows as scipy does (the same generator
    # calls), and the patient-level jackknife is scipy's leave-one-out.
    y, proba = _cohort()
    ours = bootstrap_intervals(y, proba, np.arange(len(y)), n_resamples=400, seed=7)
    assert ours.fallback == []
    expected = _scipy_bca(y, proba, metric, 400, 7)
    np.testing.assert_allclose(ours.bounds[metric], expected, rtol=0, atol=1e-10)
    percentile = bootstrap_intervals(y, proba, np.arange(len(y)), n_resamples=400, seed=7,
                                     method="percentile")
    assert percentile.bounds[metric] != ours.bounds[metric]


def test_the_jackknife_leaves_out_every_case_of_one_patient():
    groups = np.array(["p2", "p1", "p2", "p3", "p1"])
    left = [groups[rows].tolist() for rows in patient_jackknife(groups)]
    assert left == [["p2", "p2", "p3"], ["p1", "p3", "p1"], ["p2", "p1", "p2", "p1"]]


def test_two_copies_of_each_case_give_the_one_copy_interval():
    # Every patient holds two identical cases. ROC-AUC and Brier do not change when every row
    # is doubled, the patient bootstrap draws the same patients, and the patient-level
    # jackknife leaves out both copies: the interval is scipy's on one copy. A jackknife over
    # rows would leave one copy in and give another acceleration.
    y, proba = _cohort()
    doubled = np.repeat(np.arange(len(y)), 2)
    ours = bootstrap_intervals(y[doubled], proba[doubled], doubled, n_resamples=300, seed=2)
    for metric in ("roc_auc", "brier"):
        expected = _scipy_bca(y, proba, metric, 300, 2)
        np.testing.assert_allclose(ours.bounds[metric], expected, rtol=0, atol=1e-10)


def test_bca_by_hand_on_a_small_sample():
    # Mean of 1..5 plus an outlier; bootstrap values given, jackknife by hand.
    data = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    values = np.array([2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0])
    estimate = data.mean()  # 4.0: four values below, one equal -> share (4 + 5) / 16
    jackknife = np.array([np.delete(data, i).mean() for i in range(5)])
    d = jackknife.mean() - jackknife
    a = (d**3).sum() / (6 * (d**2).sum() ** 1.5)
    z0 = stats.norm.ppf(9 / 16)
    z = z0 + stats.norm.ppf([0.025, 0.975])
    alpha = stats.norm.cdf(z0 + z / (1 - a * z))
    assert bca_interval(values, estimate, jackknife) == pytest.approx(
        np.percentile(values, alpha * 100).tolist(), abs=1e-12)


def test_undefined_bca_falls_back_to_percentile_and_says_so():
    y, proba = _cohort(40)
    groups = np.arange(40)
    # One positive case: leaving its patient out leaves one class, the AUC jackknife value is
    # undefined; accuracy is defined everywhere and keeps its BCa interval.
    y_rare = np.zeros(40, dtype=int)
    y_rare[0] = 1
    intervals = bootstrap_intervals(y_rare, proba, groups, n_resamples=200, seed=0)
    assert "roc_auc" in intervals.fallback and "accuracy" not in intervals.fallback
    percentile = bootstrap_intervals(y_rare, proba, groups, n_resamples=200, seed=0,
                                     method="percentile")
    assert intervals.bounds["roc_auc"] == percentile.bounds["roc_auc"]
    # All bootstrap values equal (a perfect separation): the percentile interval [1, 1].
    perfect = np.column_stack([1 - y, y]).astype(float)
    per_class = per_class_auc_intervals(y, perfect, ["a", "b"], groups, n_resamples=50, seed=0)
    assert per_class.bounds == {"a": [1.0, 1.0], "b": [1.0, 1.0]}
    assert per_class.fallback == ["a", "b"]
    _, difference = paired_auc_difference(y, proba, proba, groups, n_resamples=50, seed=0,
                                           method="percentile")
    assert difference.fallback == []  # percentile asked for: nothing fell back


def test_the_method_is_validated():
    assert BootstrapConfig().method == "bca"
    with pytest.raises(pydantic.ValidationError, match="'bca' or 'percentile'"):
        BootstrapConfig(method="studentized")
    with pytest.raises(ValueError, match="must be one of bca, percentile"):
        confidence_interval(np.ones(3), 1.0, np.ones(3), "basic")
    assert np.isnan(binary_auc(np.zeros(3, dtype=bool), np.ones(3)))

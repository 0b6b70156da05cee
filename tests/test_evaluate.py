"""Held-out metrics by hand and against scikit-learn, and patient-bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from radiopipe.evaluate import (
    SCALAR_METRICS,
    average_precision,
    binary_auc,
    bootstrap_intervals,
    calibration_slope_intercept,
    calibration_table,
    classification_metrics,
    decision_curve,
    paired_auc_difference,
    patient_resamples,
    per_class_auc_intervals,
    pr_curves,
    roc_auc,
    roc_curves,
    threshold_intervals,
    threshold_rates,
    youden_threshold,
)


def test_binary_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])
    m = classification_metrics(y, proba, ["neg", "pos"])
    # predictions 0, 1, 1, 0: one error per class
    assert m["accuracy"] == 0.5
    assert m["confusion_matrix"] == [[1, 1], [1, 1]]
    # positive-class scores 0.1, 0.6 (neg) vs 0.7, 0.2 (pos): 3 of 4 pairs ranked right
    assert m["roc_auc"] == pytest.approx(0.75)
    # ranked 0.7 (pos), 0.6 (neg), 0.2 (pos), 0.1: AP = 1/2 * 1 + 1/2 * 2/3
    assert m["pr_auc"] == pytest.approx(0.5 + 1 / 3)
    # Brier: (0.1^2 + 0.6^2 + 0.3^2 + 0.8^2) / 4
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.09 + 0.64) / 4)


def test_multiclass_macro_auc_is_the_mean_of_one_vs_rest():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.5, 0.4, 0.1],
         [0.2, 0.2, 0.6]]
    )
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m["roc_auc"] == pytest.approx(np.mean(list(m["roc_auc_per_class"].values())))
    # predicted 0, 1, 2, 1, 0, 2: recall 1/2 (a), 1/2 (b), 2/2 (c)
    assert m["balanced_accuracy"] == pytest.approx(np.mean([0.5, 0.5, 1.0]))


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_every_metric_equals_scikit_learn(n_classes):
    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 200)
    logits = rng.normal(size=(200, n_classes)) + 1.5 * np.eye(n_classes)[y]
    proba = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 2)  # ties
    proba /= proba.sum(axis=1, keepdims=True)
    m = classification_metrics(y, proba, [f"c{k}" for k in range(n_classes)])
    predicted = proba.argmax(axis=1)
    labels = list(range(n_classes))
    if n_classes == 2:
        auc = metrics.roc_auc_score(y, proba[:, 1])
        ap = metrics.average_precision_score(y, proba[:, 1])
        brier = metrics.brier_score_loss(y, proba[:, 1])
    else:
        auc = metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
        ap = metrics.average_precision_score(np.eye(n_classes)[y], proba, average="macro")
        brier = metrics.brier_score_loss(y, proba, labels=labels)
    expected = {
        "roc_auc": auc,
        "pr_auc": ap,
        "accuracy": metrics.accuracy_score(y, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(y, predicted),
        "precision_macro": metrics.precision_score(y, predicted, average="macro", zero_division=0),
        "recall_macro": metrics.recall_score(y, predicted, average="macro", zero_division=0),
        "f1_macro": metrics.f1_score(y, predicted, average="macro", zero_division=0),
        "brier": brier,
    }
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, rel=1e-12), name


def test_auc_and_ap_are_undefined_without_both_classes():
    assert np.isnan(binary_auc(np.array([True, True]), np.array([0.2, 0.4])))
    assert np.isnan(average_precision(np.array([False, False]), np.array([0.2, 0.4])))


def test_calibration_slope_and_intercept():
    rng = np.random.default_rng(0)
    logit = rng.normal(scale=2.0, size=20000)
    truth = 1 / (1 + np.exp(-logit))
    y = rng.random(20000) < truth
    slope, intercept = calibration_slope_intercept(y, truth)
    assert slope == pytest.approx(1.0, abs=0.05) and intercept == pytest.approx(0.0, abs=0.05)
    # Over-confident predictions (logits doubled) have slope about 1/2.
    slope, _ = calibration_slope_intercept(y, 1 / (1 + np.exp(-2 * logit)))
    assert slope == pytest.approx(0.5, abs=0.05)
    # Predictions shifted up by 1 logit have intercept about -1.
    _, intercept = calibration_slope_intercept(y, 1 / (1 + np.exp(-(logit + 1))))
    assert intercept == pytest.approx(-1.0, abs=0.05)


def test_calibration_is_undefined_under_perfect_separation_or_one_class():
    y = np.array([False, False, True, True])
    assert np.isnan(calibration_slope_intercept(y, np.array([0.1, 0.2, 0.8, 0.9]))[0])
    assert np.isnan(calibration_slope_intercept(y[:2], np.array([0.1, 0.2]))[0])


def test_decision_curve_by_hand():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.4, 0.6, 0.1])
    curve = decision_curve(y, p, np.array([0.5]))
    # t = 0.5: treated 0.9 (TP) and 0.6 (FP): NB = 1/4 - 1/4 * 1 = 0; treat all: 1/2 - 1/2 = 0
    assert curve["model"].iloc[0] == pytest.approx(0.0)
    curve = decision_curve(y, p, np.array([0.2]))
    # t = 0.2: treated 0.9, 0.4 (TP), 0.6 (FP): NB = 2/4 - 1/4 * 1/4; all: 1/2 - 1/2 * 1/4
    assert curve["model"].iloc[0] == pytest.approx(0.5 - 1 / 16)
    assert curve["treat_all"].iloc[0] == pytest.approx(0.5 - 1 / 8)


def test_bootstrap_resamples_patients_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(100), 2)
    y = np.repeat(rng.integers(0, 2, 100), 2)
    p1 = np.clip(0.5 + 0.3 * (y - 0.5) + 0.25 * rng.normal(size=200), 0.01, 0.99)
    proba = np.column_stack([1 - p1, p1])
    intervals = bootstrap_intervals(y, proba, groups, n_resamples=300, seed=0)
    point = classification_metrics(y, proba, ["a", "b"])
    assert set(intervals) == set(SCALAR_METRICS)
    for name in ("roc_auc", "pr_auc", "accuracy", "brier"):
        low, high = intervals[name]
        assert low < point[name] < high, name
    again = bootstrap_intervals(y, proba, groups, n_resamples=300, seed=0)
    assert again == intervals
    assert bootstrap_intervals(y, proba, groups, n_resamples=0, seed=0)["roc_auc"] is None


def test_curve_tables_cover_each_class():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[y] * 0.6 + 0.1
    for table in (roc_curves(y, proba, ["a", "b", "c"]), pr_curves(y, proba, ["a", "b", "c"])):
        assert set(table["class"]) == {"a", "b", "c"}
    assert roc_curves(y, proba, ["a", "b", "c"]).groupby("class")["tpr"].max().eq(1.0).all()
    calibration = calibration_table(y, proba, ["a", "b", "c"])
    assert calibration.groupby("class")["n"].sum().eq(6).all()


def _three_class_cohort(seed: int = 2, patients: int = 80):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(patients), 3)
    y = np.repeat(rng.integers(0, 3, patients), 3)
    logits = 1.5 * np.eye(3)[y] + rng.normal(size=(len(y), 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba, groups


def test_patient_resamples_keep_a_patients_cases_together():
    groups = np.array(["p1", "p1", "p2", "p3", "p3", "p3"])
    for rows in patient_resamples(groups, n_resamples=20, seed=0):
        drawn = groups[rows]
        for patient, size in (("p1", 2), ("p2", 1), ("p3", 3)):
            assert (drawn == patient).sum() % size == 0
        assert len(np.unique(drawn)) <= 3


def test_per_class_auc_intervals_bracket_each_class_auc():
    y, proba, groups = _three_class_cohort()
    classes = ["a", "b", "c"]
    intervals = per_class_auc_intervals(y, proba, classes, groups, n_resamples=200, seed=0)
    point = classification_metrics(y, proba, classes)["roc_auc_per_class"]
    assert list(intervals) == classes
    for name in classes:
        low, high = intervals[name]
        assert low < point[name] < high
    none = per_class_auc_intervals(y, proba, classes, groups, n_resamples=0, seed=0)
    assert none == dict.fromkeys(classes)


def test_calibration_table_has_bin_counts_and_bootstrap_bands():
    y, proba, groups = _three_class_cohort()
    classes = ["a", "b", "c"]
    table = calibration_table(y, proba, classes, groups=groups, n_resamples=200, seed=0)
    assert {"n", "n_patients", "observed_low", "observed_high", "bin_low", "bin_high"} <= set(
        table.columns)
    assert table.groupby("class")["n"].sum().eq(len(y)).all()
    assert (table["n_patients"] <= table["n"]).all()
    assert (table["observed_low"] <= table["observed"] + 1e-12).all()
    assert (table["observed"] <= table["observed_high"] + 1e-12).all()
    wide = table[table["n"] >= 30]
    assert (wide["observed_high"] - wide["observed_low"] > 0).all()
    # By hand: the bin's observed frequency is the share of its cases of that class.
    first = table.iloc[0]
    k = classes.index(first["class"])
    inside = np.minimum((proba[:, k] * 10).astype(int), 9) == first["bin"]
    assert first["n"] == inside.sum()
    assert first["observed"] == pytest.approx((y[inside] == k).mean())
    plain = calibration_table(y, proba, classes)
    assert plain["observed_low"].isna().all() and plain["n"].tolist() == table["n"].tolist()


def test_youden_threshold_by_hand():
    # Scores 0.1 0.4 (negative) and 0.35 0.8 (positive): J is 0.5 at >= 0.8 and at >= 0.35,
    # 0 at >= 0.4 and at >= 0.1; the higher of the tied thresholds is taken.
    positive = np.array([False, False, True, True])
    assert youden_threshold(positive, np.array([0.1, 0.4, 0.35, 0.8])) == 0.8
    # Separable: J = 1 only at the lowest positive score.
    assert youden_threshold(positive, np.array([0.1, 0.2, 0.6, 0.9])) == 0.6
    assert np.isnan(youden_threshold(np.array([True, True]), np.array([0.1, 0.2])))


def test_threshold_rates_pool_every_repeats_calls_and_skip_untested_rows():
    positive = np.array([True, True, False, False])
    calls = np.array([[1, 0, 0, -1],    # repeat 0: row 3 untested
                      [1, 1, 1, 0]])    # repeat 1
    sensitivity, specificity = threshold_rates(positive, calls)
    assert sensitivity == 3 / 4  # 3 positive calls of 4 positive rows called
    assert specificity == 2 / 3  # 2 negative calls of 3 negative rows called
    groups = np.array(["a", "b", "c", "d"])
    intervals = threshold_intervals(positive, calls, groups, n_resamples=200, seed=0)
    for key, value in (("sensitivity", sensitivity), ("specificity", specificity)):
        low, high = intervals[key]
        assert 0 <= low <= value <= high <= 1


def test_paired_auc_difference_uses_the_same_resamples_for_both_models():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    good = np.column_stack([1 - (y * 0.6 + rng.random(60) * 0.4), y * 0.6 + rng.random(60) * 0.4])
    weak = np.column_stack([1 - (y * 0.1 + rng.random(60) * 0.9), y * 0.1 + rng.random(60) * 0.9])
    groups = np.arange(60) // 2
    value, (low, high) = paired_auc_difference(y, good, weak, groups, n_resamples=300, seed=1)
    assert value == pytest.approx(roc_auc(y, good) - roc_auc(y, weak))
    assert 0 < low <= value <= high
    same, interval = paired_auc_difference(y, good, good, groups, n_resamples=50, seed=1)
    assert same == 0 and interval == [0.0, 0.0]  # paired: identical models never differ
    assert roc_auc(y, good) == pytest.approx(metrics.roc_auc_score(y, good[:, 1]))

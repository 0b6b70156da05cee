"""Diagnostics: every code fires on the data it describes, and only there."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from radiopipe.checks import (
    CHECKS,
    class_imbalance,
    correlated_features,
    explained_models_differ,
    failed_cases,
    feature_set_rivals,
    not_applicable,
    patient_in_two_splits,
    run_checks,
    single_feature_separation,
)
from radiopipe.records import CandidateSummary


def _predictions(folds, patients=None):
    n = len(folds)
    return pd.DataFrame({
        "case_id": [f"c{i}" for i in range(n)],
        "patient_id": patients or [f"p{i}" for i in range(n)],
        "label": ["a", "b"] * (n // 2),
        "fold": folds,
    })


def test_rpd001_a_patient_in_two_folds_or_partly_untested():
    assert patient_in_two_splits(_predictions([0, 0, 1, 1], ["p1", "p1", "p2", "p2"])) is None
    finding = patient_in_two_splits(_predictions([0, 1, 1, -1], ["p1", "p1", "p2", "p2"]))
    assert finding.code == "RPD001" and finding.severity == "error"
    assert finding.table.to_dict("list") == {
        "patient_id": ["p1", "p2"], "cases": ["c0, c1", "c2, c3"], "folds": ["0, 1", "-1, 1"],
    }


def test_rpd002_correlated_pairs_with_their_r():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    features = pd.DataFrame({"f_a": a, "f_b": -2 * a + 1e-3 * rng.normal(size=50),
                             "f_c": rng.normal(size=50), "f_flat": np.ones(50)})
    finding = correlated_features(features, threshold=0.95)
    assert finding.severity == "warning"
    assert finding.table[["feature_a", "feature_b"]].values.tolist() == [["f_a", "f_b"]]
    assert finding.table["r"].iloc[0] < -0.99
    assert correlated_features(features, filtered_in_fold=0.9).severity == "info"
    assert correlated_features(features[["f_a", "f_c"]]) is None


def test_rpd002_skips_constant_and_near_constant_features_and_names_them():
    rng = np.random.default_rng(1)
    a = rng.normal(size=60)
    # Two columns constant in exact arithmetic, carrying rounding noise that correlates at
    # |r| = 1 between them (as a fixed ROI's shape features do), and one real correlated pair.
    noise = rng.normal(size=60) * 1e-13
    features = pd.DataFrame({
        "shape_volume": 33.5 + noise, "shape_area": 0.0 + 2 * noise * 1e-3 + 1.2e-3,
        "real_a": a, "real_b": 3 * a + 0.05 * rng.normal(size=60), "other": rng.normal(size=60),
    })
    assert np.corrcoef(features["shape_volume"], features["shape_area"])[0, 1] > 0.999
    finding = correlated_features(features, threshold=0.95)
    assert finding.table[["feature_a", "feature_b"]].values.tolist() == [["real_a", "real_b"]]
    assert "2 constant or near-constant feature(s) were skipped" in finding.message
    assert "shape_volume, shape_area" in finding.message


def test_rpd003_class_imbalance():
    assert class_imbalance(["a"] * 10 + ["b"] * 6) is None
    finding = class_imbalance(["a"] * 10 + ["b"] * 4)
    assert finding.code == "RPD003" and "class 'b' has 4 case(s)" in finding.message
    assert finding.table["share"].round(3).tolist() == [0.714, 0.286]


def test_rpd004_one_feature_separates_the_classes():
    labels = ["a"] * 5 + ["b"] * 5
    features = pd.DataFrame({"leak": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                             "noise": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]}, dtype=float)
    finding = single_feature_separation(features, labels)
    assert finding.code == "RPD004"
    assert finding.table.to_dict("records") == [
        {"feature": "leak", "class": "b", "auc": 1.0, "separation": 1.0}
    ]
    assert "whose higher values alone tell 'b' from the rest with ROC-AUC 1.000" in (
        finding.message)
    assert single_feature_separation(features[["noise"]], labels) is None
    # one-vs-rest for three classes: 'low' values mark class c only
    three = pd.DataFrame({"f": [9, 8, 7, 6, 5, 4, 1, 2, 3]}, dtype=float)
    found = single_feature_separation(three, list("aaabbbccc"))
    assert found.table["class"].tolist() == ["a", "c"]
    assert "whose higher values alone tell 'a'" in found.message  # the first of equal ones


def test_rpd005_and_rpd006():
    assert failed_cases([]) is None
    assert failed_cases([{"case_id": "x", "reason": "bad"}]).table.shape == (1, 2)
    assert explained_models_differ(0.0) is None and explained_models_differ(np.nan) is None
    assert explained_models_differ(0.01).code == "RPD006"


def test_run_checks_orders_errors_first():
    predictions = _predictions([0, 1, 1, 1], ["p1", "p1", "p2", "p3"])
    features = pd.DataFrame({"f": [1.0, 3.0, 2.0, 4.0]})  # a: 1, 2; b: 3, 4
    findings = run_checks(features, predictions, failures=[{"case_id": "z", "reason": "r"}])
    assert [f.code for f in findings] == ["RPD001", "RPD004", "RPD005"]
    assert set(CHECKS) == {f"RPD{i:03d}" for i in range(1, 13)}


def _summary(feature_set, auc, difference=None):
    return CandidateSummary(
        model="logistic", kind="model", feature_set=feature_set, primary=feature_set == "image",
        metrics={"roc_auc": auc}, ci={"roc_auc": None}, best_params=[],
        auc_difference=None if difference is None else {
            "versus": "image", "value": difference[0], "ci": list(difference[1:]),
            "ci_fallback": []})


def test_rpd012_a_feature_set_as_good_as_the_main_set_warns_one_within_chance_informs():
    main = _summary("image", 0.742)
    suvmax = _summary("suvmax", 0.781, (0.040, -0.054, 0.158))
    volume = _summary("volume", 0.607, (-0.135, -0.291, 0.039))
    mr = _summary("mr", 0.544, (-0.197, -0.340, -0.044))  # clearly worse: not listed
    finding = feature_set_rivals([main, suvmax, volume, mr])
    assert (finding.code, finding.severity) == ("RPD012", "warning")
    assert finding.message.startswith(
        "the main feature set (image) is not better than feature set(s) it was compared with by "
        "the same design: suvmax (ΔROC-AUC +0.040, 95% CI -0.054 to +0.158); volume (ΔROC-AUC "
        "-0.135, 95% CI -0.291 to +0.039).")
    assert finding.table["verdict"].tolist() == ["at least as good", "within chance"]
    within = feature_set_rivals([main, volume, mr])
    assert (within.severity, within.table["feature_set"].tolist()) == ("info", ["volume"])
    assert feature_set_rivals([main, mr]) is None and feature_set_rivals([main]) is None
    predictions = _predictions([0, 1, 0, 1])
    codes = [f.code for f in run_checks(pd.DataFrame({"f": [1.0, 1.5, 1.2, 1.1]}), predictions,
                                        failures=[], comparison=[main, suvmax])]
    assert "RPD012" in codes



def test_rpd012_is_not_applicable_without_feature_sets_and_says_so(tmp_path):
    from radiopipe.report.diagnostics import diagnostics_section

    main = _summary("image", 0.742)
    record = SimpleNamespace(comparison=[main])
    skipped = not_applicable(record)
    assert skipped == {"RPD012": "no model.feature_sets to compare with the main set"}
    assert not_applicable(SimpleNamespace(comparison=[main, _summary("v", 0.6, (-0.1, -0.2, 0.0))
                                                      ])) == {}
    html = diagnostics_section([], tmp_path, not_applicable=skipped)
    assert "<code>RPD012</code></td>" not in html  # not listed as passed
    assert ("Not applicable to this run: <code>RPD012</code> a feature set predicts as well as "
            "the main set (no model.feature_sets to compare with the main set).") in html
    outcomes = pd.read_csv(tmp_path / "report_diagnostics.csv").set_index("code")["severity"]
    assert outcomes["RPD012"] == "not applicable" and outcomes["RPD001"] == "passed"

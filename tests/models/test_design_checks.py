"""The study-design comparisons of the train stage on a small synthetic cohort: named feature
sets under the main set's splits with paired ROC-AUC differences, the spread over repeats and
seeds, the shuffled-label control and sensitivity/specificity at an in-fold Youden threshold.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import make_cohort

from radiopipe import api
from radiopipe.config import ModelConfig, parse_config
from radiopipe.errors import ConfigError, DataError
from radiopipe.evaluate import roc_auc
from radiopipe.models.design_checks import repeat_aucs, shuffled_labels
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.infold import InputColumns
from radiopipe.models.inputs import matched_columns
from radiopipe.models.summary import per_fold
from radiopipe.models.validation import ValidationResult, validate
from radiopipe.records import ValidationRecord
from radiopipe.report.design_checks import design_checks_html
from radiopipe.report.layout import table
from radiopipe.report.performance import performance_html
from radiopipe.run_folder import RunFolder
from radiopipe.stages.train import train

FEATURES = {"backend": "pyradiomics", "families": ["firstorder"], "bin_width": 10}
MEAN = "original__firstorder__Mean"
STUDY = {
    "name": "logistic",
    "compare": ["xgboost"],
    "xgboost": {"n_estimators": 20},
    "bootstrap": {"n_resamples": 50},
    "preprocessing": {"selection": "mrmr", "n_features": 5, "correlation_threshold": 0.9},
    "cv": {"design": "repeated_kfold", "n_splits": 3, "n_repeats": 2, "inner_splits": 2,
           "seeds": [0, 1]},
    "feature_sets": [{"name": "mean-alone", "columns": [MEAN]},
                     {"name": "spread", "columns": ["*__Variance", "*__Range"]}],
    "controls": {"shuffled_labels": 2},
    "threshold": "youden_in_fold",
}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """(manifest, features.parquet) of a 24-case two-class cohort, first-order features."""
    folder = tmp_path_factory.mktemp("cohort")
    manifest = make_cohort(folder / "cohort", n_per_class=12)
    loaded = parse_config(
        {"name": "extract", "output_dir": "run", "data": {"manifest": "cohort/manifest.csv"},
         "features": FEATURES},
        base_dir=folder,
    )
    api.extract(loaded, progress=False)
    return manifest, folder / "run" / "features.parquet"


def _loaded(folder, extracted, model, frame=None):
    manifest, features = extracted
    run = folder / "run"
    run.mkdir()
    if frame is None:
        shutil.copy(features, run / "features.parquet")
    else:
        frame.to_parquet(run / "features.parquet")
    return parse_config(
        {"name": "t", "output_dir": str(run), "data": {"manifest": str(manifest)},
         "features": FEATURES, "model": model},
        base_dir=folder,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory, extracted):
    """(loaded config, metrics.json as a dict) of one training with every check switched on."""
    loaded = _loaded(tmp_path_factory.mktemp("study"), extracted, STUDY)
    return loaded, train(loaded).to_json()


def test_named_feature_sets_run_the_primary_model_on_the_same_splits(study):
    loaded, metrics = study
    rows = {(c["model"], c["feature_set"]): c for c in metrics["comparison"]}
    assert set(rows) == {("logistic", "image"), ("xgboost", "image"),
                         ("logistic", "mean-alone"), ("logistic", "spread")}
    predictions = pd.read_parquet(RunFolder(loaded.output_dir).comparison_predictions)
    folds = {fs: part.sort_values("case_id")["fold"].to_numpy()
             for fs, part in predictions[predictions.model == "logistic"].groupby("feature_set")}
    assert np.array_equal(folds["mean-alone"], folds["image"])
    assert np.array_equal(folds["spread"], folds["image"])
    for name in ("mean-alone", "spread"):
        entry = rows[("logistic", name)]
        low, high = entry["ci"]["roc_auc"]
        assert low <= entry["metrics"]["roc_auc"] <= high
        difference = entry["auc_difference"]
        assert difference["versus"] == "image"
        expected = entry["metrics"]["roc_auc"] - metrics["metrics"]["roc_auc"]
        assert difference["value"] == pytest.approx(expected)
        assert difference["ci"][0] <= difference["value"] <= difference["ci"][1]
    assert rows[("logistic", "image")]["auc_difference"] is None
    assert rows[("xgboost", "image")]["auc_difference"] is None


def test_spread_over_repeats_and_seeds_is_recorded(study):
    _, metrics = study
    checks = metrics["checks"]
    assert [r["repeat"] for r in checks["repeats"]] == [0, 1]
    assert all(0 <= r["roc_auc"] <= 1 for r in checks["repeats"])
    assert [s["seed"] for s in checks["seeds"]] == [0, 1]
    assert checks["seeds"][0]["roc_auc"] == metrics["metrics"]["roc_auc"]


def test_shuffled_labels_and_the_in_fold_threshold_are_recorded(study):
    _, metrics = study
    checks = metrics["checks"]
    assert [s["permutation"] for s in checks["shuffled_labels"]] == [0, 1]
    assert all(0 <= s["roc_auc"] <= 1 for s in checks["shuffled_labels"])
    for permuted in checks["shuffled_labels"]:  # each permutation's AUC with its interval
        low, high = permuted["ci"]
        assert low <= permuted["roc_auc"] <= high
    threshold = checks["threshold"]
    assert threshold["method"] == "youden_in_fold"
    assert len(threshold["thresholds"]) == 6  # 3 folds x 2 repeats
    assert threshold["n_calls"] == 24 * 2  # every case once per repeat
    for key in ("sensitivity", "specificity"):
        low, high = threshold["ci"][key]
        assert 0 <= low <= threshold[key] <= high <= 1


def test_metrics_json_reads_back_and_the_report_shows_every_check(study, tmp_path):
    loaded, metrics = study
    record = ValidationRecord.from_json(json.loads(json.dumps(metrics)))
    oof = pd.read_parquet(RunFolder(loaded.output_dir).oof_predictions)
    sets = [s.model_dump() for s in loaded.config.model.feature_sets]
    sets.append({"name": "stable", "columns": ["*"], "stability_threshold": 0.9})
    html, figures = performance_html(record, oof, lambda path, frame: None, tmp_path, table,
                                     feature_sets=sets)
    assert ("<b>stable</b>: *, through the in-fold stability filter (ICC(1,1) ≥ 0.9 over the "
            "perturbed versions of each training set&#39;s cases).") in html
    for text in ("ΔROC-AUC vs image", "<th>permutation</th><th>ROC-AUC (95% CI)</th>",
                 "Spread over repeats", "averages each case's probability",
                 "Spread over seeds", "Shuffled-label control", "leaks",
                 "Youden's J on inner out-of-fold", "sensitivity", "specificity",
                 "The folds of the first of 2 repeats, each scored on the probabilities of its "
                 "own model"):
        assert text in html, text
    assert "mean-alone" in html and figures.startswith("<h2>Figures</h2>")


def test_per_fold_scores_each_fold_on_its_own_models_probabilities():
    """Under repeats, a fold of the first repeat is scored on that repeat's probabilities, not on
    the average over repeats (which mixes in models of other repeats' folds)."""
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    first = np.array([0.2, 0.8, 0.3, 0.7, 0.9, 0.1, 0.6, 0.4])  # fold 0 perfect, fold 1 inverted
    second = 1 - first
    by_repeat = np.stack([np.column_stack([1 - p, p]) for p in (first, second)])
    result = ValidationResult("logistic", "model", by_repeat.mean(axis=0),
                              np.array([0, 0, 0, 0, 1, 1, 1, 1]), [{}], by_repeat=by_repeat)
    assert per_fold(y, result) == [{"fold": 0, "n_test": 4, "roc_auc": 1.0},
                                   {"fold": 1, "n_test": 4, "roc_auc": 0.0}]


def test_checks_are_off_by_default_and_the_report_shows_none():
    model = ModelConfig()
    assert model.feature_sets == [] and model.controls.shuffled_labels == 0
    assert model.threshold == "none" and model.cv.seeds == []
    record_checks = ValidationRecord.__dataclass_fields__["checks"].default_factory()
    assert (record_checks.repeats, record_checks.seeds, record_checks.shuffled_labels,
            record_checks.threshold) == ([], [], [], None)


def test_a_pattern_matching_no_column_names_the_set_and_the_pattern(tmp_path, extracted):
    model = {**STUDY, "cv": {"n_splits": 3}, "controls": {}, "threshold": "none",
             "feature_sets": [{"name": "pet-only", "columns": ["pet__*"]}]}
    loaded = _loaded(tmp_path, extracted, model)
    with pytest.raises(ConfigError, match="'pet-only': pattern 'pet__\\*' matches no feature"):
        train(loaded)


def test_matched_columns_keeps_table_order_and_accepts_several_patterns():
    columns = ["pet__a__x", "mr__a__x", "pet__b__y", "mr__b__y"]
    assert matched_columns(columns, "s", ["*__y", "pet__a__x"]) == ["pet__a__x", "pet__b__y",
                                                                    "mr__b__y"]
    with pytest.raises(ConfigError, match="'s': pattern 'ct__\\*'"):
        matched_columns(columns, "s", ["pet__*", "ct__*"])


@pytest.mark.parametrize("sets, message", [
    ([{"name": "image", "columns": ["*"]}], "built-in feature set"),
    ([{"name": "a", "columns": ["*"]}, {"name": "a", "columns": ["x"]}], "share a name"),
    ([{"name": "a", "columns": []}], "at least 1 item"),
])
def test_feature_set_settings_are_checked(sets, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"name": "x", "data": {"builtin": "mni152_tissue"},
                      "model": {"feature_sets": sets}})


def test_seeds_need_a_kfold_design():
    with pytest.raises(ConfigError, match="'seeds' applies to designs"):
        parse_config({"name": "x", "data": {"builtin": "mni152_tissue"},
                      "model": {"cv": {"design": "train_val_test", "seeds": [1]}}})


def test_the_in_fold_threshold_needs_two_classes(tmp_path, extracted):
    frame = pd.read_parquet(extracted[1])
    frame.loc[frame["patient_id"].isin(["p0-0", "p0-1", "p0-2", "p1-0", "p1-1", "p1-2"]),
              "label"] = "grey"
    loaded = _loaded(tmp_path, extracted, {"threshold": "youden_in_fold"}, frame)
    with pytest.raises(DataError, match="model.threshold 'youden_in_fold' needs two classes"):
        train(loaded)


def test_shuffled_labels_keep_each_patients_cases_together_and_the_class_sizes():
    groups = np.repeat([f"p{i}" for i in range(10)], 2)
    y = np.repeat([0] * 6 + [1] * 4, 2)
    first, second = shuffled_labels(y, groups, 2, seed=0)
    for permuted in (first, second):
        assert all(len(set(permuted[groups == g])) == 1 for g in np.unique(groups))
        assert np.bincount(permuted).tolist() == np.bincount(y).tolist()
    assert not np.array_equal(first, second)
    assert np.array_equal(shuffled_labels(y, groups, 2, seed=0)[1], second)


def _synthetic(n_patients=24, seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"p{i}" for i in range(n_patients)], 2)
    y = np.repeat(np.arange(n_patients) % 2, 2)
    X = pd.DataFrame({"a": y + rng.normal(0, 1.0, len(y)), "b": rng.normal(0, 1, len(y))})
    return X, y, groups


def test_the_threshold_of_a_split_never_sees_its_test_labels():
    X, y, groups = _synthetic()
    model = ModelConfig(name="logistic")
    splits = design_splits(model.cv, y, groups)
    candidate = make_candidate(model, "logistic", InputColumns(image=("a", "b")), seed=0)
    settings = FitSettings(model.search)
    [first] = validate([candidate], X, y, groups, splits, settings,
                       thresholds_for=frozenset({"logistic"}))
    flipped = y.copy()
    flipped[splits[0].test] = 1 - flipped[splits[0].test]
    [second] = validate([candidate], X, flipped, groups, splits, settings,
                        thresholds_for=frozenset({"logistic"}))
    assert second.thresholds[0] == first.thresholds[0]
    assert first.thresholds[1:] != second.thresholds[1:]  # their training sets changed


def test_each_repeats_auc_scores_that_repeats_predictions_alone():
    X, y, groups = _synthetic()
    model = ModelConfig(name="logistic", cv={"design": "repeated_kfold", "n_splits": 3,
                                             "n_repeats": 3})
    splits = design_splits(model.cv, y, groups)
    candidate = make_candidate(model, "logistic", InputColumns(image=("a", "b")), seed=0)
    [result] = validate([candidate], X, y, groups, splits, FitSettings(model.search))
    rows = repeat_aucs(y, result)
    assert len(rows) == 3
    for r, row in enumerate(rows):
        assert row["roc_auc"] == pytest.approx(roc_auc(y, result.by_repeat[r]))
    assert np.allclose(np.nanmean(result.by_repeat, axis=0), result.proba)


def test_the_design_check_section_is_empty_without_checks(study):
    _, metrics = study
    data = json.loads(json.dumps(metrics))
    data["checks"] = {"repeats": [], "seeds": [], "shuffled_labels": [], "threshold": None,
                      "negative_images": []}
    assert design_checks_html(ValidationRecord.from_json(data), table) == ""

"""Stability filtering inside the folds: the config, the train stage reading the robustness run's
perturbed versions, the bundle's record of the kept features, and stage reuse."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from conftest import make_cohort, write_config

from radiopipe import api
from radiopipe.cli import main
from radiopipe.config import load_config
from radiopipe.errors import ConfigError, DataError
from radiopipe.models.bundle import load_bundle

FEATURES = {"backend": "native", "families": ["firstorder", "shape"], "bin_width": 10}
MODEL = {"name": "logistic", "cv": {"n_splits": 3, "seed": 0},
         "preprocessing": {"stability_threshold": 0.9}}
ROBUSTNESS = {"noise": {"repetitions": 2}}


@pytest.fixture
def config(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=8)
    return write_config(tmp_path, manifest, features=FEATURES, model=MODEL,
                        robustness=ROBUSTNESS)


def test_train_filters_by_the_icc_and_the_bundles_record_the_kept_features(config, caplog):
    api.extract(config, progress=False)
    with pytest.raises(DataError, match="robustness_features.parquet, and the run folder has "
                       "none: run 'radiopipe robustness CONFIG' first"):
        api.train(config)
    api.robustness(config, progress=False)
    training = api.train(config)
    final = training.record.final_model["stability"]
    assert final["threshold"] == 0.9 and final["icc_kind"] == "ICC(1,1)"
    assert 0 < final["n_kept"] < final["n_measured"]
    run = config.parent / "run"
    manifest = json.loads((run / "model" / "bundle.json").read_text(encoding="utf-8"))
    features = {f["feature"]: f for f in manifest["stability"]["features"]}
    # the classes differ in mean intensity, which noise barely moves; the spread it swamps
    assert features["original__firstorder__Mean"]["kept"]
    assert not features["original__firstorder__Entropy"]["kept"]
    assert all(f["kept"] == (f["icc"] is not None and f["icc"] >= 0.9) for f in features.values())
    assert sum(f["kept"] for f in features.values()) == final["n_kept"]
    fold = json.loads((run / "fold_models" / "split-000" / "bundle.json").read_text("utf-8"))
    assert fold["stability"]["n_measured"] == final["n_measured"]
    bundle = load_bundle(run / "model")  # skops rebuilds the filter without the perturbed table
    [selector] = [s for _, s in bundle.estimator.steps if type(s).__name__ == "StabilityFilter"]
    assert selector.perturbed is None and selector.support_.sum() == final["n_kept"]
    out = config.parent / "predicted"
    args = ["-q", "predict", "--model", str(run / "model"), "--manifest",
            str(config.parent / "cohort" / "manifest.csv"), "--out", str(out)]
    assert main(args) == 0  # the saved filter predicts new cases as the refitted model did
    predicted = pd.read_csv(out / "predictions.csv")
    refitted = pd.read_parquet(run / "final_model_predictions.parquet")
    columns = ["proba__bright", "proba__dark"]
    np.testing.assert_allclose(predicted[columns].to_numpy(), refitted[columns].to_numpy())

    caplog.set_level(logging.INFO, logger="radiopipe")
    api.train(config)
    assert "train: reused" in caplog.text
    caplog.clear()
    write_config(config.parent, config.parent / "cohort" / "manifest.csv", features=FEATURES,
                 model=MODEL, robustness={**ROBUSTNESS, "seed": 1})
    api.robustness(config, progress=False)
    api.train(config)
    assert "train: running (inputs changed: robustness_features.parquet)" in caplog.text


def test_run_runs_the_robustness_stage_and_the_report_shows_the_iccs(config):
    result = api.run(config, progress=False)
    run = config.parent / "run"
    stability = result.training.record.final_model["stability"]
    assert stability["n_kept"] > 0
    table = pd.read_parquet(run / "robustness.parquet")
    noise = table[table["icc_kind"] == "ICC(1,1)"].set_index("feature")["icc"]
    catalogue = pd.read_csv(run / "report_feature_catalogue.csv").set_index("feature")
    assert catalogue.loc["original__firstorder__Mean", "icc"] == pytest.approx(
        noise["original__firstorder__Mean"])
    reach = int((noise >= 0.9).sum())
    html = (run / "report.html").read_text(encoding="utf-8")
    assert ('<a href="#robustness">Feature robustness</a>' in html
            and '<section id="robustness"><h2>Feature robustness</h2>' in html)
    assert (f"ICC(1,1) of every feature, its lowest over the perturbation kinds (noise), by "
            f"image type and family, on 16 cases; the dashed line marks the threshold 0.90, "
            f"which {reach} of the {len(noise)} features reach.") in html
    assert (f"the final model, fitted on every case, kept {stability['n_kept']} of the "
            f"{stability['n_measured']} measured features") in html
    figure_table = pd.read_csv(run / "report_robustness.csv")
    assert list(figure_table.columns) == ["feature", "image_type", "family", "icc"]
    assert len(figure_table) == len(noise)


def test_the_report_leaves_robustness_out_without_a_robustness_run(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=8)
    config = write_config(tmp_path, manifest, features=FEATURES,
                          model={"name": "logistic", "cv": {"n_splits": 2, "seed": 0}},
                          explain={"enabled": False})
    api.run(config, progress=False)
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Feature robustness" not in html
    assert "icc" not in pd.read_csv(tmp_path / "run" / "report_feature_catalogue.csv").columns


def test_a_threshold_without_a_perturbation_names_the_fix(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=2)
    path = write_config(tmp_path, manifest, model=MODEL)
    with pytest.raises(ConfigError, match="the robustness section chooses no perturbation: add "
                       r"one \(robustness: \{noise: \{repetitions: 2\}\}\) or set the threshold"):
        load_config(path)


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_a_threshold_outside_0_1_is_refused(tmp_path, value):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=2)
    model = {**MODEL, "preprocessing": {"stability_threshold": value}}
    path = write_config(tmp_path, manifest, model=model, robustness=ROBUSTNESS)
    with pytest.raises(ConfigError, match="'model.preprocessing.stability_threshold' should be"):
        load_config(path)


def test_a_feature_set_with_the_filter_is_validated_beside_the_main_set_without_it(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=8)
    model = {"name": "logistic", "cv": {"n_splits": 3, "seed": 0},
             "feature_sets": [{"name": "stable", "columns": ["original__*"],
                               "stability_threshold": 0.9}]}
    config = write_config(tmp_path, manifest, features=FEATURES, model=model,
                          robustness=ROBUSTNESS)
    assert load_config(config).config.model.stability_filtered
    result = api.run(config, progress=False)  # runs the robustness stage for the feature set
    record = result.training.record
    main_set, stable = record.comparison
    assert (main_set.feature_set, stable.feature_set) == ("image", "stable")
    assert "stability" not in record.final_model  # the main set is fitted without the filter
    assert stable.auc_difference is not None
    # the filter drops the entropy that noise swamps, so the two validations differ
    assert stable.metrics["brier"] != main_set.metrics["brier"]

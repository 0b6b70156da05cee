"""The train and predict stages end to end on a small synthetic image cohort.

Features are extracted once per module (pyradiomics backend, first-order only); each test copies
the feature table into its own run folder and trains with its own model settings.
"""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import make_cohort

from radiopipe import api
from radiopipe.cli import main
from radiopipe.config import parse_config
from radiopipe.errors import DataError
from radiopipe.run_folder import RunFolder
from radiopipe.stages.predict import explain_case, predict
from radiopipe.stages.train import train

FEATURES = {"backend": "pyradiomics", "families": ["firstorder"], "bin_width": 10}


def _add_columns(manifest):
    """Age (numeric, one missing), sex (categorical) and three sites, by patient."""
    with manifest.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.default_rng(0)
    for i, row in enumerate(rows):
        row["age"] = "" if i == 3 else f"{50 + 20 * rng.random():.1f}"
        row["sex"] = ["f", "m"][i % 2]
        row["site"] = ["north", "south", "east"][int(row["patient_id"].split("-")[1]) % 3]
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """(manifest, features.parquet) of a 48-case cohort with clinical columns and sites."""
    folder = tmp_path_factory.mktemp("cohort")
    manifest = _add_columns(make_cohort(folder / "cohort", n_per_class=24))
    loaded = parse_config(
        {"name": "extract", "output_dir": "run", "data": {"manifest": "cohort/manifest.csv"},
         "features": FEATURES},
        base_dir=folder,
    )
    api.extract(loaded, progress=False)
    return manifest, folder / "run" / "features.parquet"


def _train(tmp_path, extracted, run_name="run", **model):
    manifest, features = extracted
    run = tmp_path / run_name
    run.mkdir()
    shutil.copy(features, run / "features.parquet")
    model.setdefault("xgboost", {"n_estimators": 30})
    model.setdefault("bootstrap", {"n_resamples": 100})
    loaded = parse_config(
        {"name": "t", "output_dir": str(run), "data": {"manifest": str(manifest)},
         "features": FEATURES, "model": model},
        base_dir=tmp_path,
    )
    return loaded, train(loaded).to_json()


def test_zoo_and_ensemble_under_nested_cv_are_compared_with_intervals(tmp_path, extracted):
    loaded, metrics = _train(
        tmp_path, extracted,
        compare=["lightgbm", "svm", "random_forest", "logistic", "vote"],
        ensembles=[{"name": "vote", "members": ["xgboost", "logistic"], "weights": "fitted"}],
        cv={"n_splits": 3, "inner_splits": 2},
        search={"n_iter": 2},
        lightgbm={"n_estimators": 30},
        random_forest={"n_estimators": 30},
    )
    names = [c["model"] for c in metrics["comparison"]]
    assert names == ["xgboost", "lightgbm", "svm", "random_forest", "logistic", "vote"]
    for entry in metrics["comparison"]:
        low, high = entry["ci"]["roc_auc"]
        assert low <= entry["metrics"]["roc_auc"] <= high
        assert entry["metrics"]["roc_auc"] > 0.8, entry["model"]  # dark vs bright is easy
    assert metrics["metrics"]["roc_auc"] == metrics["comparison"][0]["metrics"]["roc_auc"]
    assert metrics["validation"]["nested"] and len(metrics["comparison"][0]["best_params"]) == 3
    report = api.write_report(loaded).path.read_text(encoding="utf-8")
    assert "<h3>Model comparison (same splits)</h3>" in report
    for name in names:
        assert f"<td>{name}" in report
    long = pd.read_parquet(loaded.output_dir / "comparison_predictions.parquet")
    assert set(long["model"]) == set(names)


def test_predict_reproduces_the_final_model_and_refuses_a_tampered_bundle(
    tmp_path, extracted, capsys
):
    loaded, _ = _train(tmp_path, extracted)
    manifest, _ = extracted
    bundle = loaded.output_dir / "model"
    out = tmp_path / "predicted"
    args = ["-q", "predict", "--model", str(bundle), "--manifest", str(manifest), "--out", str(out)]
    assert main(args) == 0
    predicted = pd.read_csv(out / "predictions.csv")
    final = pd.read_parquet(RunFolder(loaded.output_dir).final_predictions)
    assert predicted["case_id"].tolist() == final["case_id"].tolist()
    columns = ["proba__bright", "proba__dark"]
    np.testing.assert_array_equal(predicted[columns].to_numpy(), final[columns].to_numpy())
    assert set(predicted["predicted"]) <= {"bright", "dark"}

    capsys.readouterr()
    with open(bundle / "estimator.skops", "ab") as handle:
        handle.write(b"\0")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("radiopipe: error: bundle 'model': file 'estimator.skops' does not match")
    assert err.count("\n") == 1


def test_predict_and_explain_write_into_the_bundles_run_folder_not_the_current_folder(
    tmp_path, extracted, monkeypatch
):
    loaded, _ = _train(tmp_path, extracted)
    manifest, _ = extracted
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    bundle = loaded.output_dir / "model"
    assert main(["-q", "predict", "--model", str(bundle), "--manifest", str(manifest)]) == 0
    case = pd.read_csv(manifest)["case_id"].iloc[0]
    assert main(["-q", "explain", "--model", str(bundle), "--manifest", str(manifest),
                 "--case", case]) == 0
    assert list(elsewhere.iterdir()) == []
    assert (loaded.output_dir / "predictions" / "predictions.csv").is_file()
    assert (loaded.output_dir / "explanations" / f"explain-{case}.html").is_file()
    assert api.default_output(bundle, "predict") == loaded.output_dir / "predictions"


def test_predict_needs_no_labels_for_new_cases(tmp_path, extracted):
    loaded, _ = _train(tmp_path, extracted)
    manifest, _ = extracted
    unlabelled = manifest.parent / "new_cases.csv"
    frame = pd.read_csv(manifest, dtype=str).drop(columns="label").head(5)
    frame.to_csv(unlabelled, index=False)
    out = tmp_path / "predicted"
    args = ["-q", "predict", "--model", str(loaded.output_dir / "model"), "--manifest",
            str(unlabelled), "--out", str(out)]
    assert main(args) == 0
    predicted = pd.read_csv(out / "predictions.csv")
    final = pd.read_parquet(RunFolder(loaded.output_dir).final_predictions).head(5)
    columns = ["proba__bright", "proba__dark"]
    np.testing.assert_array_equal(predicted[columns].to_numpy(), final[columns].to_numpy())


def test_clinical_covariates_compare_image_clinical_and_combined(tmp_path, extracted):
    _, metrics = _train(
        tmp_path, extracted,
        name="logistic",
        clinical={"numeric": ["age"], "categorical": ["sex"]},
        cv={"n_splits": 3},
    )
    sets = [(c["model"], c["feature_set"]) for c in metrics["comparison"]]
    assert sets == [("logistic", "combined"), ("logistic", "image"), ("logistic", "clinical")]
    auc = {c["feature_set"]: c["metrics"]["roc_auc"] for c in metrics["comparison"]}
    assert auc["image"] > 0.8 and abs(auc["clinical"] - 0.5) < 0.3  # age and sex are noise
    assert metrics["features"]["clinical"] == ["clinical__age", "clinical__sex"]


def test_external_sites_and_train_val_test_evaluate_held_out_rows_only(tmp_path, extracted):
    _, metrics = _train(
        tmp_path, extracted, "external", cv={"design": "external", "external_sites": ["east"]}
    )
    n_east = 16  # patients 0..11 per class, every third at 'east', two cases each
    assert metrics["task"]["n_tested"] == n_east
    assert metrics["validation"]["scheme"].startswith("external validation on held-out site(s)")
    loaded, metrics = _train(
        tmp_path, extracted, "split", cv={"design": "train_val_test"}, search={"n_iter": 2}
    )
    assert 0 < metrics["task"]["n_tested"] < metrics["task"]["n_cases"]
    oof = pd.read_parquet(loaded.output_dir / "oof_predictions.parquet")
    untested = metrics["task"]["n_cases"] - metrics["task"]["n_tested"]
    assert oof["proba__dark"].isna().sum() == untested
    assert "held-out test" in api.write_report(loaded).path.read_text(encoding="utf-8")


def test_combat_by_site_trains_and_refuses_an_unknown_site(tmp_path, extracted):
    loaded, metrics = _train(tmp_path, extracted, preprocessing={"harmonise": "combat"},
                             cv={"n_splits": 3})
    assert metrics["comparison"][0]["metrics"]["roc_auc"] > 0.8
    manifest, _ = extracted
    new = tmp_path / "new.csv"
    frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    frame["image"] = [str(manifest.parent / p) for p in frame["image"]]
    frame["mask"] = [str(manifest.parent / p) for p in frame["mask"]]
    frame.loc[0, "site"] = "west"
    frame.to_csv(new, index=False)
    with pytest.raises(DataError, match="knows only east, north, south; new cases come from west"):
        predict(loaded.output_dir / "model", new, tmp_path / "pred", progress=False)


def test_metrics_json_is_strict_json(tmp_path, extracted):
    loaded, _ = _train(tmp_path, extracted, cv={"n_splits": 3})
    text = (loaded.output_dir / "metrics.json").read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in metrics.json"))


def test_same_seed_same_data_same_metrics_json(tmp_path, extracted):
    settings = {"compare": ["random_forest"], "random_forest": {"n_estimators": 30},
                "cv": {"n_splits": 3}, "search": {"n_iter": 2}}
    _, first = _train(tmp_path, extracted, "first", **settings)
    _, second = _train(tmp_path, extracted, "second", **settings)
    first.pop("config_hash"), second.pop("config_hash")  # the output folders differ
    assert first == second


def test_predict_flags_cases_outside_the_training_distribution(tmp_path, extracted, caplog):
    loaded, _ = _train(tmp_path, extracted)
    manifest, _ = extracted
    frame = pd.read_csv(manifest, dtype=str, keep_default_na=False).head(3)
    folder = tmp_path / "new"
    folder.mkdir()
    for i, row in frame.iterrows():
        image = sitk.ReadImage(str(manifest.parent / row["image"]))
        mask = sitk.ReadImage(str(manifest.parent / row["mask"]))
        if i == 1:  # intensities rescaled, as from another scanner's calibration
            image = sitk.Cast(image, sitk.sitkFloat32) * 10 + 1000
        if i == 2:  # 2 mm voxels where training had 1 mm
            image.SetSpacing((2.0, 2.0, 2.0))
            mask.SetSpacing((2.0, 2.0, 2.0))
        sitk.WriteImage(image, str(folder / f"image-{i}.nrrd"))
        sitk.WriteImage(mask, str(folder / f"mask-{i}.nrrd"))
        frame.loc[i, ["image", "mask"]] = [f"image-{i}.nrrd", f"mask-{i}.nrrd"]
    frame.to_csv(folder / "new.csv", index=False)
    with caplog.at_level("WARNING", logger="radiopipe"):
        outcome = predict(RunFolder(loaded.output_dir).bundle, folder / "new.csv",
                          tmp_path / "pred", progress=False)
    table = pd.read_csv(outcome.predictions, keep_default_na=False).set_index("case_id")
    first, rescaled, coarse = frame["case_id"]
    assert not table.loc[first, "shift_flagged"] and table.loc[first, "shift_acquisition"] == ""
    assert table.loc[rescaled, "shift_flagged"]
    assert "intensity_p99" in table.loc[rescaled, "shift_acquisition"]
    assert "original__firstorder__" in table.loc[rescaled, "shift_features"]
    assert table.loc[coarse, "shift_flagged"]
    assert table.loc[coarse, "shift_acquisition"].startswith("spacing_x 2 (training 1 to 1)")
    assert f"2 of 3 new case(s) lie outside the training distribution ({rescaled}, {coarse})" in (
        caplog.text
    )
    page = explain_case(RunFolder(loaded.output_dir).bundle, folder / "new.csv", rescaled,
                        tmp_path / "page", progress=False).predictions
    assert "Caution: this case lies outside the data the model was trained on" in (
        page.read_text(encoding="utf-8")
    )

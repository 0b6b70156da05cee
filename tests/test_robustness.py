"""The robustness run: perturbed versions of every case through the extraction engine, the ICC
table in robustness.parquet, the test-retest ICC, the command and its one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import sphere_mask, write_config, write_image

from radiopipe import api
from radiopipe.cli import EXIT_CASES_FAILED, EXIT_OK, EXIT_USAGE, main

FEATURES = {"backend": "native", "families": ["firstorder", "shape"], "bin_width": 10}


def _cohort(folder: Path, *, repeats: int = 0, tiny_case: bool = False) -> Path:
    """Six balls of different radii and intensities (three patients); with ``repeats``, each
    patient scanned that many times (``repeat`` column)."""
    rng = np.random.default_rng(0)
    rows = []
    scans = max(repeats, 1)
    for i in range(6 if not repeats else 3):
        for r in range(scans):
            case_id = f"c{i}" if not repeats else f"c{i}-r{r}"
            radius = 3.0 + 0.6 * i
            mask = sphere_mask((14, 16, 16), radius)
            if tiny_case and i == 0:
                mask[:] = 0
                mask[7, 8, 8:11] = 1
            image = (60 + 15 * i + rng.normal(0, 5, mask.shape) + 20 * mask).astype(np.float32)
            write_image(folder / f"{case_id}-image.nrrd", image)
            write_image(folder / f"{case_id}-mask.nrrd", mask)
            row = {"case_id": case_id, "image": f"{case_id}-image.nrrd",
                   "mask": f"{case_id}-mask.nrrd", "label": "a",
                   "patient_id": f"p{i if repeats else i // 2}"}
            if repeats:
                row["repeat"] = str(r + 1)
            rows.append(row)
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _config(tmp_path, manifest, **robustness) -> Path:
    return write_config(tmp_path, manifest, features=FEATURES, robustness=robustness)


def test_the_run_writes_one_icc_row_per_feature_kind_and_icc_and_reuses_it(tmp_path, capsys):
    config = _config(tmp_path, _cohort(tmp_path / "cohort"), noise={"repetitions": 2},
                     translation={"fractions": [0.25, 0.5]}, volume={"fractions": [-0.1, 0.1]})
    result = api.robustness(config, progress=False)
    table = pd.read_parquet(result.path)
    assert list(table.columns) == [
        "feature", "modality", "image_type", "family", "perturbation", "icc_kind", "icc",
        "ci_low", "ci_high", "n_cases", "n_perturbations"]
    assert set(table["perturbation"]) == {"noise", "translation", "volume"}
    features = table["feature"].nunique()
    assert len(table) == features * 3 * 3
    assert (table["n_cases"] == 6).all() and (table["n_perturbations"] == 3).all()
    volume = table.set_index(["feature", "perturbation", "icc_kind"])["icc"]
    # shape is untouched by noise and barely moved by sub-voxel translation
    assert volume["original__shape__VoxelVolume", "noise", "ICC(1,1)"] == 1.0
    assert volume["original__shape__VoxelVolume", "translation", "ICC(1,1)"] > 0.95
    assert volume["original__firstorder__Mean", "noise", "ICC(3,1)"] > 0.95
    values = pd.read_parquet(result.path.parent / "robustness_features.parquet")
    assert len(values) == 6 * (1 + 2 + 2 + 2)
    assert not (result.path.parent / "robustness" / "images").exists()  # only when asked
    summary = result.summary()
    shape = table[(table["family"] == "shape") & (table["perturbation"] == "noise")
                  & (table["icc_kind"] == "ICC(1,1)")]
    assert summary.loc[("-", "shape", "noise"), "robust"] == (shape["icc"] >= 0.9).mean() > 0.5
    assert main(["-q", "robustness", str(config)]) == EXIT_OK  # reused, and printed
    out = capsys.readouterr().out
    assert "robustness.parquet" in out and "fraction of features with ICC(1,1) >= 0.9" in out


def test_perturbed_images_are_written_only_when_asked(tmp_path):
    config = _config(tmp_path, _cohort(tmp_path / "cohort"), rotation={"angles": [20]},
                     write_images=True)
    result = api.robustness(config, progress=False)
    folder = result.path.parent / "robustness" / "images" / "c0"
    written = sorted(p.name for p in folder.iterdir())
    assert written == ["rotation_20_image.nii", "rotation_20_mask.nii"]


def test_repeat_scans_add_a_test_retest_icc_over_patients(tmp_path):
    config = _config(tmp_path, _cohort(tmp_path / "cohort", repeats=2), noise={"repetitions": 1})
    table = api.robustness(config, progress=False).table
    retest = table[table["perturbation"] == "repeat"]
    assert (retest["n_cases"] == 3).all() and (retest["n_perturbations"] == 2).all()
    assert len(retest) == table["feature"].nunique() * 3


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_a_repeat_column_with_one_scan_per_patient_is_one_line_naming_the_patient(
        tmp_path, capsys):
    manifest = _cohort(tmp_path / "cohort")
    rows = pd.read_csv(manifest, dtype=str)
    rows["repeat"] = "1"
    rows["patient_id"] = rows["case_id"]
    rows.to_csv(manifest, index=False)
    config = _config(tmp_path, manifest, noise={"repetitions": 1})
    assert main(["-q", "robustness", str(config)]) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert "patient 'c0' has one scan (case 'c0')" in err
    assert "add the patient's repeat scans, or remove the 'repeat' column" in err


@pytest.mark.parametrize("threshold", [1.5, -0.1])
def test_a_threshold_outside_0_1_is_one_line_naming_the_key(tmp_path, capsys, threshold):
    config = _config(tmp_path, _cohort(tmp_path / "cohort"), noise={"repetitions": 1},
                     threshold=threshold)
    assert main(["-q", "robustness", str(config)]) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert "'robustness.threshold'" in err
    assert "set robustness.threshold to a value such as 0.9" in err


def test_no_perturbation_chosen_is_one_line(tmp_path, capsys):
    config = _config(tmp_path, _cohort(tmp_path / "cohort"))
    assert main(["-q", "robustness", str(config)]) == EXIT_USAGE
    assert "set one of robustness.noise" in _one_line_error(capsys)


def test_a_shrink_that_empties_one_roi_fails_that_case_alone(tmp_path, capsys):
    config = _config(tmp_path, _cohort(tmp_path / "cohort", tiny_case=True),
                     volume={"fractions": [-0.9]})
    assert main(["-q", "robustness", str(config)]) == EXIT_CASES_FAILED
    assert "1 case(s) failed: c0 (reasons in robustness/failures/)" in capsys.readouterr().err
    reason = (tmp_path / "run" / "robustness" / "failures" / "c0.json").read_text("utf-8")
    assert "case 'c0': robustness.volume fraction -0.9 shrinks its 3-voxel ROI to nothing" in reason
    table = pd.read_parquet(tmp_path / "run" / "robustness.parquet")
    assert (table["n_cases"] == 5).all()

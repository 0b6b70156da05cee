"""The sarcoma study's configuration, run end to end on 18 of its 51 patients with reduced folds,
so that its wiring (two modalities per patient, feature sets, controls, the stability filter, the
in-fold threshold, the report's study pieces) stays green. No AUC is asserted: the subset is far
too small to estimate one, and the study reports whatever it measures."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPO
from reference_data import data_folder

STUDY = REPO / "configs"
N_EVENTS, N_FREE = 8, 10


def _subset_config(tmp_path):
    manifest = pd.read_csv(STUDY / "sts_lung_metastasis.csv")
    for column in [c for c in manifest.columns if c.startswith(("image__", "mask__"))]:
        manifest[column] = [str((STUDY / p).resolve()) for p in manifest[column]]
    subset = pd.concat([manifest[manifest["label"] == "lung_metastasis"].head(N_EVENTS),
                        manifest[manifest["label"] == "free_of_lung_metastasis"].head(N_FREE)])
    subset.to_csv(tmp_path / "subset.csv", index=False)
    config = yaml.safe_load((STUDY / "sts_lung_metastasis.yaml").read_text(encoding="utf-8"))
    config["output_dir"] = "run"
    config["data"]["manifest"] = "subset.csv"
    model = config["model"]
    model["cv"].update(n_splits=2, n_repeats=1, inner_splits=2, seeds=[0, 1])
    model["search"]["n_iter"] = 2
    model["bootstrap"]["n_resamples"] = 100
    model["controls"]["shuffled_labels"] = 1
    config["robustness"] = {"seed": 0, "noise": {"repetitions": 1}}
    config["report"].update(n_cases=1, pdf="never")
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_the_study_runs_end_to_end_on_a_subset(tmp_path):
    data_folder("sts", "nifti")
    config = _subset_config(tmp_path)
    # Its own interpreter, as a batch job runs it: after the slow suite's earlier tests, the
    # test process's reused joblib worker pool has twice left a worker's result unread (no
    # loky manager thread in the parent), hanging the robustness stage; alone it passes.
    done = subprocess.run([sys.executable, "-m", "radiopipe", "-q", "run", str(config)],
                          capture_output=True, encoding="utf-8", cwd=tmp_path, timeout=800)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    primary = next(line for line in lines if line.startswith("saved model: logistic"))
    volume = next(line for line in lines if line.startswith("feature set volume: logistic"))
    assert "95% CI" in primary and "95% CI" in volume
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    sets = [c["feature_set"] for c in metrics["comparison"] if c["model"] == "logistic"]
    assert sets == ["image", "volume", "suvmax", "pet", "mr", "pet_mr_stable"]
    assert [c["model"] for c in metrics["comparison"] if c["feature_set"] == "image"] == [
        "logistic", "random_forest", "svm", "xgboost"]
    checks = metrics["checks"]
    assert [s["seed"] for s in checks["seeds"]] == [0, 1]
    assert len(checks["shuffled_labels"]) == 1 and checks["threshold"] is not None
    assert [c["control"] for c in checks["negative_images"]] == ["shuffled_voxels", "random_roi"]
    html = (run / "report.html").read_text(encoding="utf-8")
    for piece in ("Voxel sizes by modality", "Published estimates", "Vallières et al. 2015",
                  "Few events per feature: 8 of the 18 patients",
                  "pet (PT); intensities in SUV", "whole slice of the pet (PT) image",
                  "feature maps are drawn for cases of one image", "mr_t1: slice",
                  "Compute time", "feature extraction (36 images of 18 cases)"):
        assert piece in html, piece
    voxels = pd.read_csv(run / "report_voxel_sizes.csv")
    assert voxels["modality"].tolist() == ["pet", "mr_t1"]
    assert voxels["features computed at (mm)"].tolist() == ["4 × 4 × 4", "2 × 2 × 2"]

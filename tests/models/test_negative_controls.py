"""Negative-control images: the ROI's intensities shuffled within it or drawn from the whole
image, extracted by the robustness machinery, validated under the main design's splits and
recorded beside the shuffled-label control."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import sphere_mask, write_config, write_image

from radiopipe import api
from radiopipe.preprocess.negative_controls import negative_image
from radiopipe.report.design_checks import design_checks_html
from radiopipe.report.layout import table

MODEL = {"name": "logistic", "cv": {"n_splits": 3, "seed": 0}, "bootstrap": {"n_resamples": 50},
         "controls": {"negative_images": ["shuffled_voxels", "random_roi"]}}


def _images(seed=0):
    rng = np.random.default_rng(seed)
    mask = sphere_mask((6, 8, 8), 2.5)
    values = rng.normal(100, 20, mask.shape).astype(np.float32)
    values[mask > 0] += 300
    image = sitk.GetImageFromArray(values)
    return image, sitk.GetImageFromArray(mask), values, mask > 0


def test_shuffled_voxels_permute_the_roi_and_leave_the_rest():
    image, mask, values, roi = _images()
    out = sitk.GetArrayFromImage(negative_image("shuffled_voxels", image, mask,
                                                np.random.default_rng(0)))
    np.testing.assert_array_equal(out[~roi], values[~roi])
    np.testing.assert_array_equal(np.sort(out[roi]), np.sort(values[roi]))
    assert not np.array_equal(out[roi], values[roi])
    assert out.dtype == values.dtype and image.GetSpacing() == (1.0, 1.0, 1.0)


def test_random_roi_draws_the_roi_from_the_whole_image_and_is_seeded():
    image, mask, values, roi = _images()
    out = [sitk.GetArrayFromImage(negative_image("random_roi", image, mask, rng))
           for rng in (np.random.default_rng(s) for s in (0, 0, 1))]
    np.testing.assert_array_equal(out[0], out[1])
    assert not np.array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[0][~roi], values[~roi])
    assert np.isin(out[0][roi], values).all()
    assert out[0][roi].mean() < values[roi].mean() - 100  # mostly background now


def test_an_unknown_control_is_refused():
    image, mask, *_ = _images()
    with pytest.raises(ValueError, match="'flipped' is not a negative control; choose one of "
                       "shuffled_voxels, random_roi"):
        negative_image("flipped", image, mask, np.random.default_rng(0))


def _cohort(folder, n_per_class=9):
    """A small bright or dark ball in a large background that is the same for both classes."""
    rng = np.random.default_rng(0)
    mask = sphere_mask((16, 20, 20), 3.0)
    rows = []
    for k, label in enumerate(("dark", "bright")):
        for i in range(n_per_class):
            case_id = f"{label}-{i}"
            image = rng.normal(100, 20, mask.shape).astype(np.float32)
            image[mask > 0] += 40 * k + rng.normal(0, 5)
            write_image(folder / f"{case_id}-image.nrrd", image)
            write_image(folder / f"{case_id}-mask.nrrd", mask)
            rows.append({"case_id": case_id, "image": f"{case_id}-image.nrrd",
                         "mask": f"{case_id}-mask.nrrd", "label": label,
                         "patient_id": f"p{k}-{i}"})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def test_each_control_is_validated_under_the_main_splits_and_recorded(tmp_path):
    features = {"backend": "native", "families": ["firstorder"], "bin_width": 10}
    config = write_config(tmp_path, _cohort(tmp_path / "cohort"), features=features, model=MODEL)
    api.extract(config, progress=False)
    training = api.train(config, progress=False)
    run = tmp_path / "run"
    values = pd.read_parquet(run / "negative_controls.parquet")
    assert sorted(values["control"].unique()) == ["random_roi", "shuffled_voxels"]
    assert len(values) == 2 * 18
    checks = training.record.checks.negative_images
    assert [c["control"] for c in checks] == ["shuffled_voxels", "random_roi"]
    real = training.record.metrics["roc_auc"]
    by_name = {c["control"]: c for c in checks}
    # first-order features do not see where a voxel lies: shuffling changes none of them
    assert by_name["shuffled_voxels"]["roc_auc"] == pytest.approx(real)
    # the ROI's intensities drawn from the background: the class signal is gone
    assert real > 0.9 and abs(by_name["random_roi"]["roc_auc"] - 0.5) < 0.3
    low, high = by_name["random_roi"]["ci"]
    assert low <= by_name["random_roi"]["roc_auc"] <= high
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["checks"]["negative_images"] == checks
    reads = json.loads((run / "stages" / "train.json").read_text(encoding="utf-8"))
    assert "negative_controls.parquet" in json.dumps(reads)
    html = design_checks_html(training.record, table)
    for text in ("Negative-control images", "real images", "shuffled_voxels", "random_roi",
                 "texture gone", "the ROI's volume, shape or position", "should lie near 0.5"):
        assert text in html, text

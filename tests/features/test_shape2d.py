"""2D shape: hand-computed contours and pyradiomics parity on real slices."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import pyradiomics_case

from radiopipe.features.mesh import contour
from radiopipe.features.shape2d import FEATURE_NAMES, compute_shape2d

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((REPO / "features" / "shape2d.yaml").read_text(encoding="utf-8"))
PYRADIOMICS = [
    (f["pyradiomics"], f["name"], f["tolerance"]) for f in CATALOGUE["features"] if f["pyradiomics"]
]


def test_single_pixel_contour_is_a_diamond():
    outline = contour(np.ones((1, 1), dtype=bool), (2.0, 1.0))
    assert outline.area == pytest.approx(1.0)  # half of the 2 x 1 pixel
    assert outline.perimeter == pytest.approx(4 * np.hypot(1.0, 0.5))
    assert len(outline.vertices) == 4


def test_hand_computed_square():
    # 2 x 2 pixels: the contour cuts a 0.5 x 0.5 triangle off each corner of the 2 x 2 square.
    features = compute_shape2d(np.ones((2, 2), dtype=bool), (1.0, 1.0), mode="pyradiomics")
    assert tuple(features) == FEATURE_NAMES
    assert features["MeshSurface"] == pytest.approx(3.5)
    assert features["PixelSurface"] == 4.0
    assert features["Perimeter"] == pytest.approx(4 + 4 * np.sqrt(0.5))
    perimeter = 4 + 4 * np.sqrt(0.5)
    assert features["Sphericity"] == pytest.approx(2 * np.sqrt(np.pi * 3.5) / perimeter)
    assert features["MaximumDiameter"] == pytest.approx(np.hypot(2.0, 1.0))  # (0.5, 0) to (1.5, 2)
    assert features["MajorAxisLength"] == features["MinorAxisLength"] == pytest.approx(2.0)
    assert features["Elongation"] == pytest.approx(1.0)


def test_diagonal_pixels_stay_apart():
    mask = np.array([[1, 0], [0, 1]], dtype=bool)
    assert contour(mask, (1.0, 1.0)).area == pytest.approx(1.0)  # two diamonds of 0.5


def test_one_slice_volume_and_single_pixel_are_accepted():
    mask = np.zeros((1, 4, 4), dtype=bool)
    mask[0, 2, 1] = True
    features = compute_shape2d(mask, (3.0, 1.0, 1.0), mode="ibsi")
    assert features["PixelSurface"] == 1.0
    assert np.isnan(features["Elongation"])  # no major axis: 0 / 0
    assert all(np.isfinite(v) for k, v in features.items() if k != "Elongation")


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="'mask' parameter"):
        compute_shape2d(np.ones((2, 2, 2)), (1.0, 1.0))
    with pytest.raises(ValueError, match="at least one pixel"):
        compute_shape2d(np.zeros((2, 2)), (1.0, 1.0))
    with pytest.raises(ValueError, match="'mode' parameter"):
        compute_shape2d(np.ones((2, 2)), (1.0, 1.0), mode="other")


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
def test_pyradiomics_parity_on_the_largest_slice(case):
    radiomics = pytest.importorskip("radiomics")
    from radiomics import shape2D

    radiomics.setVerbosity(logging.ERROR)
    _, label = pyradiomics_case(case).images()
    mask = sitk.GetArrayFromImage(label) == 1
    z = int(np.argmax(mask.sum(axis=(1, 2))))
    rows, columns = np.nonzero(mask[z])
    crop = (z, slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1))
    slice_label = sitk.GetImageFromArray(mask[crop][None].astype(np.uint8))
    slice_label.SetSpacing(label.GetSpacing())
    extractor = shape2D.RadiomicsShape2D(slice_label, slice_label, label=1, force2D=True)
    for name in extractor.getFeatureNames():
        extractor.enableFeatureByName(name)
    expected = {name: float(value) for name, value in extractor.execute().items()}
    ours = compute_shape2d(mask[z], label.GetSpacing()[::-1], mode="pyradiomics")
    # pyradiomics also computes its deprecated features; the catalogue names the reported ones.
    assert {pyradiomics_name for pyradiomics_name, _, _ in PYRADIOMICS} <= set(expected)
    mismatches = [
        (name, ours[name], expected[pyradiomics_name])
        for pyradiomics_name, name, tolerance in PYRADIOMICS
        if abs(ours[name] - expected[pyradiomics_name])
        > tolerance["absolute"] + tolerance["relative"] * abs(expected[pyradiomics_name])
    ]
    assert not mismatches


@pytest.mark.reference
def test_contour_matches_pyradiomics_on_random_masks():
    radiomics = pytest.importorskip("radiomics")
    from radiomics import shape2D

    radiomics.setVerbosity(logging.ERROR)
    rng = np.random.default_rng(5)
    for _ in range(150):
        mask = rng.random((1, *rng.integers(1, 8, size=2))) < rng.uniform(0.2, 0.9)
        if not mask.any():
            continue
        spacing = tuple(rng.uniform(0.3, 3.0, size=3))
        label = sitk.GetImageFromArray(mask.astype(np.uint8))
        label.SetSpacing(spacing[::-1])
        expected = shape2D.RadiomicsShape2D(label, label, label=1, force2D=True).execute()
        ours = compute_shape2d(mask, spacing, mode="pyradiomics")
        for name in ("MeshSurface", "Perimeter", "MaximumDiameter"):
            reference = float(expected[name])
            assert ours[name] == pytest.approx(reference, rel=1e-9, abs=1e-9), (name, mask)

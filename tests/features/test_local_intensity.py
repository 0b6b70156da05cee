"""Local intensity peaks: hand-computed spheres, an exact cross-check and the IBSI-1 phantom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from reference_data import ibsi_phantom, with_a_reference_value

from radiopipe.features.local_intensity import (
    FEATURE_NAMES,
    PEAK_RADIUS_MM,
    compute_local_intensity,
    sphere_offsets,
)

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "local_intensity.yaml").read_text(encoding="utf-8")
)
IBSI_TAGS = [(f["ibsi_tag"], f["name"]) for f in CATALOGUE["features"] if f["ibsi_tag"]]


def test_sphere_holds_the_voxels_within_one_cubic_centimetre():
    assert PEAK_RADIUS_MM == pytest.approx(6.2035, abs=1e-4)
    # 5 mm voxels: offsets with 5 |d| <= 6.2 are the centre and its 6 face neighbours.
    assert len(sphere_offsets((5.0, 5.0, 5.0))) == 7
    # 2 mm voxels: |d|^2 <= 9.62, i.e. all offsets with squared length 0..9 in a 7^3 cube.
    offsets = sphere_offsets((2.0, 2.0, 2.0))
    assert np.all((offsets**2).sum(axis=1) <= 9) and len(offsets) == 123


def test_hand_computed_peaks():
    # 5 mm voxels in one plane: a sphere is a voxel and its 4 in-plane neighbours (the slice
    # neighbours do not exist). The brightest ROI voxel (5) sits in the corner.
    image = np.array([[[5.0, 1.0, 0.0], [1.0, 4.0, 3.0], [0.0, 3.0, 0.0]]])
    mask = image > 0
    features = compute_local_intensity(image, mask, (5.0, 5.0, 5.0))
    assert tuple(features) == FEATURE_NAMES
    assert features["LocalIntensityPeak"] == pytest.approx((5 + 1 + 1) / 3)
    # Peaks: corner 7/3, its neighbours (1 + 5 + 4 + 0) / 4 = 2.5, centre 12/5, edges 7/4.
    assert features["GlobalIntensityPeak"] == pytest.approx(2.5)


def test_spheres_take_voxels_outside_the_roi():
    image = np.zeros((1, 3, 3))
    image[0, 1, 1] = 1.0
    image[0, 0, 1] = 100.0  # outside the ROI, inside the sphere
    mask = np.zeros(image.shape, dtype=bool)
    mask[0, 1, 1] = True
    features = compute_local_intensity(image, mask, (5.0, 5.0, 5.0))
    assert features["LocalIntensityPeak"] == pytest.approx(101 / 5)
    assert features["GlobalIntensityPeak"] == pytest.approx(101 / 5)


def test_global_peak_matches_exact_sphere_sums():
    rng = np.random.default_rng(3)
    image = rng.normal(0, 100, (6, 14, 13))
    mask = np.zeros(image.shape, dtype=bool)
    mask[1:5, 2:12, 3:9] = rng.random((4, 10, 6)) < 0.6
    spacing = (2.5, 1.2, 1.2)
    offsets = sphere_offsets(spacing)
    shape = np.array(image.shape)
    best = -np.inf
    for centre in np.argwhere(mask):
        points = centre + offsets
        points = points[np.all((points >= 0) & (points < shape), axis=1)]
        best = max(best, image[tuple(points.T)].mean())
    peak = compute_local_intensity(image, mask, spacing)["GlobalIntensityPeak"]
    assert peak == pytest.approx(best, rel=1e-12)


def test_bad_input_is_rejected():
    image = np.ones((2, 2, 2))
    with pytest.raises(ValueError, match="'spacing' parameter"):
        compute_local_intensity(image, image > 0, (1.0, 1.0))
    with pytest.raises(ValueError, match="at least one voxel"):
        compute_local_intensity(image, image > 1, (1.0, 1.0, 1.0))


@pytest.fixture(scope="module")
def phantom():
    phantom = ibsi_phantom()
    return compute_local_intensity(phantom.image.array, phantom.mask.array, phantom.image.spacing)


@pytest.mark.reference
@pytest.mark.parametrize("tag, name", with_a_reference_value(IBSI_TAGS))
def test_ibsi_digital_phantom(phantom, digital_phantom_references, tag, name):
    reference = digital_phantom_references[tag]
    assert reference.passes(phantom[name]), (tag, phantom[name], reference.value)

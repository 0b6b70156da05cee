"""Intensity-volume histogram: a hand-computed curve and the IBSI-1 phantom references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from reference_data import ibsi_phantom, with_a_reference_value

from radiopipe.features.intensity_volume import FEATURE_NAMES, compute_intensity_volume

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "intensity_volume.yaml").read_text(encoding="utf-8")
)
IBSI_TAGS = [(f["ibsi_tag"], f["name"]) for f in CATALOGUE["features"] if f["ibsi_tag"]]


def test_hand_computed_curve():
    # Ten voxels 0, 0, 0, 0, 10, 10, 20, 30, 40, 50 on a 10 HU grid 0..50 (K = 5 steps).
    values = np.array([[[0, 0, 0, 0, 10, 10, 20, 30, 40, 50]]], dtype=float)
    features = compute_intensity_volume(values, values >= 0, step=10.0)
    assert tuple(features) == FEATURE_NAMES
    # nu at i = 0..50: 1.0, 0.6, 0.4, 0.3, 0.2, 0.1; gamma = 0, 0.2, ..., 1.
    assert features["VolumeAt10PercentIntensity"] == pytest.approx(0.6)  # first gamma >= 0.1: 0.2
    assert features["VolumeAt90PercentIntensity"] == pytest.approx(0.1)  # gamma 1
    assert features["IntensityAt10PercentVolume"] == 50.0
    assert features["IntensityAt90PercentVolume"] == 10.0
    assert features["VolumeDifference10To90PercentIntensity"] == pytest.approx(0.5)
    assert features["IntensityDifference10To90PercentVolume"] == 40.0
    trapezoids = 0.2 * (1.0 + 0.6 + 0.6 + 0.4 + 0.4 + 0.3 + 0.3 + 0.2 + 0.2 + 0.1) / 2
    assert features["AreaUnderCurve"] == pytest.approx(trapezoids)


def test_intensity_falls_back_to_the_top_of_the_grid():
    # 95 % of the voxels at the maximum: no grid point holds at most 90 % of the volume.
    values = np.array([1.0] + [3.0] * 19).reshape(1, 4, 5)
    features = compute_intensity_volume(values, values > 0)
    assert features["IntensityAt90PercentVolume"] == 3.0


def test_lower_bound_extends_the_grid():
    values = np.array([[[2.0, 3.0, 4.0]]])
    features = compute_intensity_volume(values, values > 0, lower_bound=0.0)
    # gamma = i / 4: the first grid point with gamma >= 0.1 is i = 1, where nu = 1.
    assert features["VolumeAt10PercentIntensity"] == 1.0
    assert features["VolumeAt90PercentIntensity"] == pytest.approx(1 / 3)


def test_single_intensity_leaves_volume_fractions_undefined():
    values = np.full((2, 2, 2), 5.0)
    features = compute_intensity_volume(values, values > 0)
    assert np.isnan(features["VolumeAt10PercentIntensity"])
    assert np.isnan(features["AreaUnderCurve"])
    assert features["IntensityAt10PercentVolume"] == features["IntensityAt90PercentVolume"] == 5.0


def test_bad_input_is_rejected():
    values = np.array([[[1.0, 2.0]]])
    with pytest.raises(ValueError, match="'step' parameter"):
        compute_intensity_volume(values, values > 0, step=0)
    with pytest.raises(ValueError, match="'upper_bound' parameter"):
        compute_intensity_volume(values, values > 0, upper_bound=0.0)
    with pytest.raises(ValueError, match="at least one voxel"):
        compute_intensity_volume(values, values > 5)


@pytest.fixture(scope="module")
def phantom():
    phantom = ibsi_phantom()
    # IBSI evaluates the phantom's IVH on its grey levels 1..6 directly.
    return compute_intensity_volume(phantom.image.array, phantom.mask.array)


@pytest.mark.reference
@pytest.mark.parametrize("tag, name", with_a_reference_value(IBSI_TAGS))
def test_ibsi_digital_phantom(phantom, digital_phantom_references, tag, name):
    reference = digital_phantom_references[tag]
    assert reference.passes(phantom[name]), (tag, phantom[name], reference.value)

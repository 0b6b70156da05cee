"""Intensity-histogram features: a hand-computed histogram and the IBSI-1 phantom references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from reference_data import ibsi_phantom, with_a_reference_value

from radiopipe.features.firstorder import compute_firstorder
from radiopipe.features.intensity_histogram import FEATURE_NAMES, compute_intensity_histogram

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "intensity_histogram.yaml").read_text(encoding="utf-8")
)
IBSI_TAGS = [(f["ibsi_tag"], f["name"]) for f in CATALOGUE["features"] if f["ibsi_tag"]]


def test_hand_computed_histogram():
    # Levels 1, 1, 2, 2, 2, 4 of N_g = 5: n = (2, 3, 0, 1, 0); the 5 lies outside the ROI.
    levels = np.array([[[1, 1, 2, 2, 2, 4, 5]]])
    mask = levels < 5
    features = compute_intensity_histogram(levels, mask, 5)
    assert tuple(features) == FEATURE_NAMES
    assert features["Mean"] == pytest.approx(2.0)
    assert features["Variance"] == pytest.approx(1.0)  # (1 + 1 + 0 + 0 + 0 + 4) / 6
    assert features["Mode"] == 2.0
    p = np.array([2, 3, 1]) / 6
    assert features["Entropy"] == pytest.approx(-np.sum(p * np.log2(p)))
    assert features["Uniformity"] == pytest.approx(1 / 9 + 1 / 4 + 1 / 36)
    # H' = (3 - 2, (0 - 2) / 2, (1 - 3) / 2, (0 - 0) / 2, 0 - 1) = (1, -1, -1, 0, -1)
    assert features["MaximumHistogramGradient"] == 1.0
    assert features["MaximumHistogramGradientGreyLevel"] == 1.0
    assert features["MinimumHistogramGradient"] == -1.0
    assert features["MinimumHistogramGradientGreyLevel"] == 2.0  # first of the minima
    assert features["Range"] == 3.0
    assert features["MedianAbsoluteDeviation"] == pytest.approx(4 / 6)  # |X - 2|: 1 1 0 0 0 2
    assert features["Skewness"] == pytest.approx((-1 - 1 + 8) / 6)


def test_mode_ties_go_to_the_level_closest_to_the_mean():
    levels = np.array([[[1, 1, 3, 3, 4]]])  # mean 2.4: levels 1 and 3 tie, 3 is closer
    assert compute_intensity_histogram(levels, levels > 0, 4)["Mode"] == 3.0


def test_statistics_agree_with_firstorder_on_the_levels():
    rng = np.random.default_rng(1)
    levels = rng.integers(1, 9, (3, 6, 7))
    mask = rng.random(levels.shape) < 0.7
    histogram = compute_intensity_histogram(levels, mask, 8)
    statistics = compute_firstorder(levels, mask, spacing=(1, 1, 1), mode="ibsi", levels=levels)
    for name in ("Mean", "Variance", "Skewness", "Kurtosis", "Median", "10Percentile",
                 "InterquartileRange", "RobustMeanAbsoluteDeviation", "Entropy", "Uniformity"):
        assert histogram[name] == pytest.approx(statistics[name], rel=1e-12), name


def test_single_level_gives_defined_values():
    levels = np.ones((2, 2, 2), dtype=int)
    features = compute_intensity_histogram(levels, levels > 0, 1)
    assert all(np.isfinite(v) for v in features.values())
    assert features["Skewness"] == features["Kurtosis"] == features["Entropy"] == 0.0
    assert features["MaximumHistogramGradient"] == features["MinimumHistogramGradient"] == 0.0


def test_bad_input_is_rejected():
    levels = np.array([[[1, 2, 3]]])
    with pytest.raises(ValueError, match="'n_levels' parameter"):
        compute_intensity_histogram(levels, levels > 0, 2)
    with pytest.raises(ValueError, match="at least one voxel"):
        compute_intensity_histogram(levels, levels > 5, 3)


@pytest.fixture(scope="module")
def phantom():
    phantom = ibsi_phantom()
    # The phantom is already discretised: its grey levels 1..6 are the levels.
    return compute_intensity_histogram(phantom.image.array.astype(int), phantom.mask.array, 6)


@pytest.mark.reference
@pytest.mark.parametrize("tag, name", with_a_reference_value(IBSI_TAGS))
def test_ibsi_digital_phantom(phantom, digital_phantom_references, tag, name):
    reference = digital_phantom_references[tag]
    assert reference.passes(phantom[name]), (tag, phantom[name], reference.value)

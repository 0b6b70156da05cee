"""NGLDM: hand-computed matrix, coarseness parameter, IBSI-1 digital phantom, degenerate ROIs.

pyradiomics implements this matrix as its GLDM; parity is tested in ``test_gldm.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from reference_data import (
    ct_phantom_config_a,
    ibsi_failures,
    ibsi_phantom,
    ibsi_references,
)

from radiopipe.features import ngldm

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "ngldm.yaml").read_text(encoding="utf-8")
)["features"]
NAMES = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE}

# Hand example (one slice, 8 in-plane neighbours, alpha = 0): a corner (level 1) sees 2, 2, 3 and
# has no dependent neighbour (j = 1); an edge (level 2) sees 1, 1, 2, 2, 3 and has two (j = 3);
# the centre (level 3) has none (j = 1).
IMAGE_3X3 = np.array([[1, 2, 1], [2, 3, 2], [1, 2, 1]])
NGLDM_3X3 = np.array([[4, 0], [0, 4], [1, 0]])  # columns: j = 1, 3
# With alpha = 1: a corner depends on its two 2s (j = 3), an edge on all five neighbours (j = 6),
# the centre on its four 2s (j = 5).
NGLDM_3X3_ALPHA_1 = np.array([[4, 0, 0], [0, 0, 4], [0, 1, 0]])  # columns: j = 3, 5, 6


def test_matrix_of_hand_example():
    matrix = ngldm.ngldm_matrix(IMAGE_3X3[None], IMAGE_3X3[None] > 0, 3, aggregation="2D")
    assert matrix.values.tolist() == [1, 3]
    np.testing.assert_array_equal(matrix.counts[0], NGLDM_3X3)


def test_coarseness_parameter():
    matrix = ngldm.ngldm_matrix(
        IMAGE_3X3[None], IMAGE_3X3[None] > 0, 3, aggregation="2D", alpha=1
    )
    assert matrix.values.tolist() == [3, 5, 6]
    np.testing.assert_array_equal(matrix.counts[0], NGLDM_3X3_ALPHA_1)


def test_features_of_hand_example():
    values = ngldm.compute_ngldm(IMAGE_3X3, IMAGE_3X3 > 0, 3, aggregation="2D")
    assert values["SmallDependenceEmphasis"] == pytest.approx((4 + 4 / 9 + 1) / 9)
    assert values["LargeDependenceEmphasis"] == pytest.approx((4 + 4 * 9 + 1) / 9)
    assert values["HighGrayLevelEmphasis"] == pytest.approx((4 + 4 * 4 + 9) / 9)
    assert values["DependenceNonUniformity"] == pytest.approx((5**2 + 4**2) / 9)
    assert values["DependencePercentage"] == 1.0
    probabilities = np.array([4, 4, 1]) / 9
    entropy = -np.sum(probabilities * np.log2(probabilities))
    assert values["DependenceEntropy"] == pytest.approx(entropy)
    assert values["DependenceEnergy"] == pytest.approx(33 / 81)


def test_pyradiomics_documentation_example():
    # The 5x5 example of pyradiomics' GLDM documentation (alpha 0, distance 1) and its matrix.
    image = np.array(
        [[5, 2, 5, 4, 4], [3, 3, 3, 1, 3], [2, 1, 1, 1, 3], [4, 2, 2, 2, 3], [3, 5, 3, 3, 2]]
    )
    expected = [[0, 1, 2, 1], [1, 2, 3, 0], [1, 4, 4, 0], [1, 2, 0, 0], [3, 0, 0, 0]]
    matrix = ngldm.ngldm_matrix(image[None], image[None] > 0, 5, aggregation="2_5D")
    np.testing.assert_array_equal(matrix.counts[0], expected)


def test_neighbours_outside_the_roi_never_depend():
    # Outside the ROI the level array holds 0, within alpha = 1 of level 1: it must not count.
    mask = np.zeros((1, 3, 3), dtype=bool)
    mask[0, 1, 1] = True
    values = ngldm.compute_ngldm(
        np.ones((1, 3, 3), int), mask, 1, aggregation="3D", alpha=1
    )
    assert values["LargeDependenceEmphasis"] == 1.0


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == ngldm.FEATURE_NAMES


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"aggregation": "2D_comb"}, "aggregation"),
        ({"aggregation": "3D", "mode": "IBSI"}, "mode"),
        ({"aggregation": "3D", "alpha": -1}, "alpha"),
        ({"aggregation": "3D", "distance": 1.5}, "distance"),
    ],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        ngldm.compute_ngldm(IMAGE_3X3, IMAGE_3X3 > 0, 3, **arguments)


@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_degenerate_rois_give_finite_values(aggregation):
    single_voxel = ngldm.compute_ngldm(
        np.array([[[3]]]), np.array([[[True]]]), 4, aggregation=aggregation
    )
    assert single_voxel["SmallDependenceEmphasis"] == 1.0
    assert single_voxel["DependenceEntropy"] == 0.0
    flat = ngldm.compute_ngldm(
        np.full((1, 3, 3), 2), np.ones((1, 3, 3), bool), 2, aggregation=aggregation
    )
    for values in (single_voxel, flat):
        assert tuple(values) == ngldm.FEATURE_NAMES
        assert all(math.isfinite(value) for value in values.values())


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    levels = phantom.image.array.astype(int)
    ours = ngldm.compute_ngldm(levels, phantom.mask.array, 6, aggregation=aggregation)
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (17, {})


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D"])
def test_ibsi_ct_phantom_config_a(aggregation):
    levels, mask, _, n_levels = ct_phantom_config_a()
    ours = ngldm.compute_ngldm(levels, mask, n_levels, aggregation=aggregation)
    references = ibsi_references("A").values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (17, {})

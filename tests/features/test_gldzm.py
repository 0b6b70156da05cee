"""GLDZM: hand-computed distances and matrix, IBSI-1 digital phantom, degenerate ROIs.

pyradiomics has no GLDZM, so there is no parity test.
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

from radiopipe.features import gldzm

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "gldzm.yaml").read_text(encoding="utf-8")
)["features"]
NAMES = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE}

# Hand example (one slice): three nested square rings. In-plane 4-connected distances to the
# edge are 1 (outer ring, level 1), 2 (middle ring, level 2) and 3 (centre, level 3).
IMAGE_5X5 = np.array(
    [
        [1, 1, 1, 1, 1],
        [1, 2, 2, 2, 1],
        [1, 2, 3, 2, 1],
        [1, 2, 2, 2, 1],
        [1, 1, 1, 1, 1],
    ]
)


def test_edge_distance_of_hand_example():
    distance = gldzm.edge_distance(IMAGE_5X5[None] > 0, in_plane_only=True)
    np.testing.assert_array_equal(distance[0], IMAGE_5X5)  # the levels mark the rings
    # In 3D, a single slice touches the outside above and below: every voxel is on the edge.
    assert (gldzm.edge_distance(IMAGE_5X5[None] > 0, in_plane_only=False) == 1).all()


def test_matrix_of_hand_example():
    matrix = gldzm.gldzm_matrix(IMAGE_5X5[None], IMAGE_5X5[None] > 0, 3, aggregation="2D")
    assert matrix.values.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(matrix.counts[0], np.eye(3))


def test_features_of_hand_example():
    values = gldzm.compute_gldzm(IMAGE_5X5, IMAGE_5X5 > 0, 3, aggregation="2D")
    assert values["SmallDistanceEmphasis"] == pytest.approx((1 + 1 / 4 + 1 / 9) / 3)
    assert values["LargeDistanceEmphasis"] == pytest.approx(14 / 3)
    assert values["LargeDistanceHighGrayLevelEmphasis"] == pytest.approx((1 + 16 + 81) / 3)
    assert values["ZonePercentage"] == pytest.approx(3 / 25)
    assert values["ZoneDistanceVariance"] == pytest.approx(2 / 3)
    assert values["ZoneDistanceEntropy"] == pytest.approx(math.log2(3))
    in_3d = gldzm.compute_gldzm(IMAGE_5X5, IMAGE_5X5 > 0, 3, aggregation="3D")
    assert in_3d["LargeDistanceEmphasis"] == 1.0


def test_morphological_mask_defines_the_edge():
    # A hole in the intensity mask at the centre makes the middle ring touch an edge, unless the
    # (hole-free) morphological mask defines the edge.
    mask = IMAGE_5X5 > 0
    mask[2, 2] = False
    with_hole = gldzm.compute_gldzm(IMAGE_5X5, mask, 3, aggregation="2D")
    morphological = gldzm.compute_gldzm(
        IMAGE_5X5, mask, 3, aggregation="2D", roi_edge_mask=IMAGE_5X5 > 0
    )
    assert with_hole["LargeDistanceEmphasis"] == 1.0
    assert morphological["LargeDistanceEmphasis"] == pytest.approx((1 + 4) / 2)


def test_morphological_mask_beyond_the_roi_box():
    # The edge mask reaches past the ROI's bounding box: distances must be measured in it.
    edge_mask = np.ones((1, 5, 5), dtype=bool)
    mask = np.zeros((1, 5, 5), dtype=bool)
    mask[0, 2, 2] = True
    values = gldzm.compute_gldzm(
        IMAGE_5X5[None], mask, 3, aggregation="2D", roi_edge_mask=edge_mask
    )
    assert values["LargeDistanceEmphasis"] == 9.0


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == gldzm.FEATURE_NAMES


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"aggregation": "2D_avg"}, "aggregation"),
        ({"aggregation": "3D", "mode": "pyrad"}, "mode"),
        ({"aggregation": "3D", "roi_edge_mask": np.ones((2, 2), bool)}, "edge mask"),
    ],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        gldzm.compute_gldzm(IMAGE_5X5, IMAGE_5X5 > 0, 3, **arguments)


@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_degenerate_rois_give_finite_values(aggregation):
    single_voxel = gldzm.compute_gldzm(
        np.array([[[2]]]), np.array([[[True]]]), 2, aggregation=aggregation
    )
    assert single_voxel["SmallDistanceEmphasis"] == 1.0
    flat = gldzm.compute_gldzm(
        np.full((3, 3, 3), 1), np.ones((3, 3, 3), bool), 1, aggregation=aggregation
    )
    for values in (single_voxel, flat):
        assert tuple(values) == gldzm.FEATURE_NAMES
        assert all(math.isfinite(value) for value in values.values())


def test_pyradiomics_mode_equals_ibsi_mode():
    ibsi = gldzm.compute_gldzm(IMAGE_5X5, IMAGE_5X5 > 0, 3, aggregation="3D")
    pyradiomics = gldzm.compute_gldzm(
        IMAGE_5X5, IMAGE_5X5 > 0, 3, aggregation="3D", mode="pyradiomics"
    )
    assert pyradiomics == ibsi


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    levels = phantom.image.array.astype(int)
    ours = gldzm.compute_gldzm(levels, phantom.mask.array, 6, aggregation=aggregation)
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (16, {})


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D"])
def test_ibsi_ct_phantom_config_a(aggregation):
    levels, mask, morphological, n_levels = ct_phantom_config_a()
    ours = gldzm.compute_gldzm(
        levels, mask, n_levels, aggregation=aggregation, roi_edge_mask=morphological
    )
    references = ibsi_references("A").values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (16, {})

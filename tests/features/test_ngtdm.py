"""NGTDM: hand-computed matrix, IBSI-1 digital phantom, pyradiomics parity, degenerate ROIs."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import (
    ct_phantom_config_a,
    ibsi_failures,
    ibsi_phantom,
    ibsi_references,
    pyradiomics_case,
)

from radiopipe.features import ngtdm
from radiopipe.features.neighbourhood import neighbour_statistics, slice_groups
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "ngtdm.yaml").read_text(encoding="utf-8")
)["features"]
NAMES = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE}

# Hand example (one slice, 8 in-plane neighbours):
# - each corner (level 1) sees 2, 2, 3: mean 7/3, |1 - 7/3| = 4/3, so s_1 = 4 * 4/3;
# - each edge (level 2) sees 1, 1, 2, 2, 3: mean 9/5, |2 - 9/5| = 1/5, so s_2 = 4/5;
# - the centre (level 3) sees four 1 and four 2: mean 3/2, so s_3 = 3/2.
IMAGE_3X3 = np.array([[1, 2, 1], [2, 3, 2], [1, 2, 1]])
COUNTS_3X3 = [4, 4, 1]
DIFFERENCES_3X3 = [16 / 3, 4 / 5, 3 / 2]


def test_matrix_of_hand_example():
    matrix = ngtdm.ngtdm_matrix(IMAGE_3X3[None], IMAGE_3X3[None] > 0, 3, aggregation="2D")
    assert matrix.counts[0].tolist() == COUNTS_3X3
    np.testing.assert_allclose(matrix.differences[0], DIFFERENCES_3X3)


def test_features_of_hand_example():
    values = ngtdm.compute_ngtdm(IMAGE_3X3, IMAGE_3X3 > 0, 3, aggregation="2D")
    p = np.array(COUNTS_3X3) / 9
    s = np.array(DIFFERENCES_3X3)
    weighted = p * s  # 64/27, 16/45, 1/6
    assert values["Coarseness"] == pytest.approx(1 / weighted.sum())
    # sum_ij p_i p_j (i - j)^2 = 2 (16 + 4 * 4 + 4) / 81 over N_gp (N_gp - 1) = 6 pairs.
    assert values["Contrast"] == pytest.approx(72 / 81 / 6 * s.sum() / 9)
    # |i p_i - j p_j| over ordered pairs: 2 (4/9 + 1/9 + 5/9).
    assert values["Busyness"] == pytest.approx(weighted.sum() / (20 / 9))
    pair_terms = (
        1 * (weighted[0] + weighted[1]) / (p[0] + p[1])
        + 2 * (weighted[0] + weighted[2]) / (p[0] + p[2])
        + 1 * (weighted[1] + weighted[2]) / (p[1] + p[2])
    )
    assert values["Complexity"] == pytest.approx(2 * pair_terms / 9)
    # sum_ij (p_i + p_j)(i - j)^2 = 2 (8/9 + 4 * 5/9 + 5/9).
    assert values["Strength"] == pytest.approx(2 * 33 / 9 / s.sum())


def test_neighbours_outside_the_roi_and_isolated_voxels_are_left_out():
    # Without the centre and one corner, each remaining corner sees two 2s (s_1 = 3 * 1); the
    # edges see means 5/3, 5/3, 3/2, 3/2 (s_2 = 1/3 + 1/3 + 1/2 + 1/2).
    mask = IMAGE_3X3 > 0
    mask[1, 1] = mask[0, 0] = False
    matrix = ngtdm.ngtdm_matrix(
        np.where(mask, IMAGE_3X3, 0)[None], mask[None], 3, aggregation="2D"
    )
    assert matrix.counts[0].tolist() == [3, 4, 0]
    np.testing.assert_allclose(matrix.differences[0], [3, 5 / 3, 0])
    lone = np.zeros((3, 3), dtype=bool)
    lone[0, 0] = lone[2, 2] = True
    empty = ngtdm.ngtdm_matrix(np.where(lone, 1, 0)[None], lone[None], 1, aggregation="3D")
    assert empty.counts.sum() == 0


@pytest.mark.parametrize("aggregation", ["2D", "3D"])
def test_matrix_equals_the_bincounts_of_the_tone_differences(aggregation):
    # The one-pass sums against np.bincount over the voxels with a neighbour, bit for bit.
    rng = np.random.default_rng(4)
    levels = rng.integers(1, 6, (5, 11, 9)) * (rng.random((5, 11, 9)) < 0.7)
    mask = levels > 0
    matrix = ngtdm.ngtdm_matrix(levels, mask, 5, aggregation=aggregation)
    statistics = neighbour_statistics(levels, distance=1, in_plane_only=aggregation == "2D")
    has = statistics.count > 0
    grey = levels[mask][has]
    group, n_groups = slice_groups(mask, aggregation)
    cell = group[has] * 5 + grey - 1
    difference = np.abs(grey - statistics.level_sum[has] / statistics.count[has])
    np.testing.assert_array_equal(
        matrix.counts.reshape(-1), np.bincount(cell, minlength=n_groups * 5)
    )
    np.testing.assert_array_equal(
        matrix.differences.reshape(-1),
        np.bincount(cell, weights=difference, minlength=n_groups * 5),
    )


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == ngtdm.FEATURE_NAMES


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"aggregation": "3D_comb"}, "aggregation"),
        ({"aggregation": "3D", "mode": "IBSI"}, "mode"),
        ({"aggregation": "3D", "distance": 0}, "distance"),
    ],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        ngtdm.compute_ngtdm(IMAGE_3X3, IMAGE_3X3 > 0, 3, **arguments)


@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_degenerate_rois_follow_pyradiomics_conventions(aggregation):
    homogeneous = dict.fromkeys(ngtdm.FEATURE_NAMES, 0.0) | {"Coarseness": 1.0e6}
    single_voxel = ngtdm.compute_ngtdm(
        np.array([[[3]]]), np.array([[[True]]]), 4, aggregation=aggregation
    )
    flat = ngtdm.compute_ngtdm(
        np.full((2, 3, 3), 2), np.ones((2, 3, 3), bool), 2, aggregation=aggregation
    )
    assert single_voxel == homogeneous
    assert flat == homogeneous


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    levels = phantom.image.array.astype(int)
    ours = ngtdm.compute_ngtdm(levels, phantom.mask.array, 6, aggregation=aggregation)
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (5, {})


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D"])
def test_ibsi_ct_phantom_config_a(aggregation):
    levels, mask, _, n_levels = ct_phantom_config_a()
    ours = ngtdm.compute_ngtdm(levels, mask, n_levels, aggregation=aggregation)
    references = ibsi_references("A").values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (5, {})


def _pyradiomics_ngtdm(image: np.ndarray, mask: np.ndarray, **settings) -> dict[str, float]:
    radiomics_ngtdm = pytest.importorskip("radiomics.ngtdm")
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = radiomics_ngtdm.RadiomicsNGTDM(
        sitk.GetImageFromArray(image), sitk.GetImageFromArray(mask.astype(np.uint8)), **settings
    )
    return {name: float(value) for name, value in extractor.execute().items()}


def _discretised(image: np.ndarray, mask: np.ndarray, bin_width: float):
    """pyradiomics' binWidth discretisation of the (cropped) ROI."""
    discretised = fixed_bin_size_pyradiomics(image[mask], bin_width)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    return levels, discretised.n_levels


def _assert_pyradiomics_parity(ours: dict, reference: dict) -> None:
    mismatches = {}
    for entry in CATALOGUE:
        name, tolerance = entry["name"], entry["tolerance"]
        expected = reference[entry["pyradiomics"]]
        if not math.isclose(
            ours[name], expected, rel_tol=tolerance["relative"], abs_tol=tolerance["absolute"]
        ):
            mismatches[name] = (ours[name], expected)
    assert len(reference) == len(CATALOGUE)
    assert not mismatches


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize("settings, aggregation", [({}, "3D"), ({"force2D": True}, "2_5D")])
def test_pyradiomics_parity(case, settings, aggregation):
    image, mask = pyradiomics_case(case).arrays(crop=True)
    image = image.astype(np.float64)
    reference = _pyradiomics_ngtdm(image, mask, binWidth=25, **settings)
    levels, n_levels = _discretised(image, mask, 25.0)
    ours = ngtdm.compute_ngtdm(levels, mask, n_levels, aggregation=aggregation, mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
def test_pyradiomics_parity_of_distance():
    # pyradiomics' distances=[1, 2] is the Chebyshev ball of radius 2.
    image, mask = pyradiomics_case("breast1").arrays(crop=True)
    image = image.astype(np.float64)
    reference = _pyradiomics_ngtdm(image, mask, binWidth=10, distances=[1, 2])
    levels, n_levels = _discretised(image, mask, 10.0)
    ours = ngtdm.compute_ngtdm(levels, mask, n_levels, aggregation="3D", distance=2)
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["flat", "one_slice", "isolated_voxels"])
def test_degenerate_rois_match_pyradiomics(case):
    image = np.random.default_rng(3).integers(1, 5, size=(3, 4, 4)).astype(np.float64)
    mask = np.ones(image.shape, dtype=bool)
    if case == "flat":
        image[:] = 2
    elif case == "one_slice":
        mask[[0, 2]] = False
    else:
        mask[:] = False
        mask[0, 0, 0] = mask[2, 3, 3] = mask[0, 3, 0] = True
    reference = _pyradiomics_ngtdm(image, mask, binWidth=1)
    levels, n_levels = _discretised(image, mask, 1.0)
    ours = ngtdm.compute_ngtdm(levels, mask, n_levels, aggregation="3D", mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)

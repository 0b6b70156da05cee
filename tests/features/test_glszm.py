"""GLSZM: hand-computed matrix, IBSI-1 digital phantom, pyradiomics parity, degenerate ROIs."""

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

from radiopipe.features import glszm
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "glszm.yaml").read_text(encoding="utf-8")
)["features"]
NAMES = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE}

# Hand example (one slice). With 8-connectivity: level 1 forms one diagonal zone of 5 voxels,
# level 2 a zone of 4 (joined through the (0,1)-(1,0) diagonal) and the lone (3,3), level 3 a zone
# of 4, level 4 a zone of 2.
IMAGE_4X4 = np.array(
    [
        [1, 2, 2, 3],
        [2, 1, 3, 3],
        [2, 3, 1, 1],
        [4, 4, 1, 2],
    ]
)
SIZES_4X4 = [1, 2, 4, 5]
GLSZM_4X4 = np.array(
    [
        [0, 0, 0, 1],
        [1, 0, 1, 0],
        [0, 0, 1, 0],
        [0, 1, 0, 0],
    ]
)


def test_matrix_of_hand_example():
    matrix = glszm.glszm_matrix(IMAGE_4X4[None], IMAGE_4X4[None] > 0, 4, aggregation="2D")
    assert matrix.values.tolist() == SIZES_4X4
    np.testing.assert_array_equal(matrix.counts[0], GLSZM_4X4)
    assert matrix.n_voxels.tolist() == [16]


def test_features_of_hand_example():
    values = glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4 > 0, 4, aggregation="2D")
    # Five zones of sizes 5, 4, 1, 4, 2 and grey levels 1, 2, 2, 3, 4.
    assert values["SmallAreaEmphasis"] == pytest.approx((1 / 25 + 1 / 16 + 1 + 1 / 16 + 1 / 4) / 5)
    assert values["LargeAreaEmphasis"] == pytest.approx((25 + 16 + 1 + 16 + 4) / 5)
    assert values["LowGrayLevelZoneEmphasis"] == pytest.approx((1 + 2 / 4 + 1 / 9 + 1 / 16) / 5)
    assert values["GrayLevelNonUniformity"] == pytest.approx(7 / 5)
    assert values["SizeZoneNonUniformityNormalized"] == pytest.approx(7 / 25)
    assert values["ZonePercentage"] == pytest.approx(5 / 16)
    assert values["ZoneVariance"] == pytest.approx(2.16)
    assert values["ZoneEntropy"] == pytest.approx(math.log2(5))


def test_pyradiomics_documentation_example():
    # The 5x5 example of pyradiomics' GLSZM documentation and the matrix it gives.
    image = np.array(
        [[5, 2, 5, 4, 4], [3, 3, 3, 1, 3], [2, 1, 1, 1, 3], [4, 2, 2, 2, 3], [3, 5, 3, 3, 2]]
    )
    expected = [[0, 0, 0, 1, 0], [1, 0, 0, 0, 1], [1, 0, 1, 0, 1], [1, 1, 0, 0, 0], [3, 0, 0, 0, 0]]
    matrix = glszm.glszm_matrix(image[None], image[None] > 0, 5, aggregation="2_5D")
    np.testing.assert_array_equal(matrix.counts[0], expected)


def test_zones_join_diagonally_across_slices_only_in_3d():
    levels = np.full((2, 2, 2), 2)
    levels[0, 0, 0] = levels[1, 1, 1] = 1
    mask = np.ones(levels.shape, dtype=bool)
    in_3d = glszm.glszm_matrix(levels, mask, 2, aggregation="3D")
    in_plane = glszm.glszm_matrix(levels, mask, 2, aggregation="2_5D")
    assert in_3d.counts.sum() == 2  # one zone per level
    assert in_plane.counts.sum() == 4  # level 1 and level 2 split by slice
    per_slice = glszm.glszm_matrix(levels, mask, 2, aggregation="2D")
    assert per_slice.counts.shape[0] == 2


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == glszm.FEATURE_NAMES


def test_two_dimensional_input_equals_single_slice():
    flat = glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4 > 0, 4, aggregation="2D")
    volume = glszm.compute_glszm(IMAGE_4X4[None], IMAGE_4X4[None] > 0, 4, aggregation="3D")
    assert flat == pytest.approx(volume)


@pytest.mark.parametrize(
    "arguments, message",
    [({"aggregation": "3D_avg"}, "aggregation"), ({"aggregation": "3D", "mode": "IBSI"}, "mode")],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4 > 0, 4, **arguments)


def test_bad_levels_and_empty_mask_are_rejected():
    with pytest.raises(ValueError, match="1..n_levels=3"):
        glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4 > 0, 3, aggregation="3D")
    with pytest.raises(ValueError, match="empty"):
        glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4 > 9, 4, aggregation="3D")
    with pytest.raises(ValueError, match="same 2D or 3D shape"):
        glszm.compute_glszm(IMAGE_4X4, IMAGE_4X4[:2] > 0, 4, aggregation="3D")


@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_degenerate_rois_give_finite_values(aggregation):
    single_voxel = glszm.compute_glszm(
        np.array([[[3]]]), np.array([[[True]]]), 4, aggregation=aggregation
    )
    assert single_voxel["ZonePercentage"] == 1.0
    assert single_voxel["GrayLevelVariance"] == 0.0
    flat = glszm.compute_glszm(np.full((2, 3, 3), 2), np.ones((2, 3, 3), bool), 2, aggregation="3D")
    assert flat["LargeAreaEmphasis"] == 18.0**2
    for values in (single_voxel, flat):
        assert all(math.isfinite(value) for value in values.values())


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    levels = phantom.image.array.astype(int)
    ours = glszm.compute_glszm(levels, phantom.mask.array, 6, aggregation=aggregation)
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (16, {})


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D"])
def test_ibsi_ct_phantom_config_a(aggregation):
    levels, mask, _, n_levels = ct_phantom_config_a()
    ours = glszm.compute_glszm(levels, mask, n_levels, aggregation=aggregation)
    references = ibsi_references("A").values()
    assert ibsi_failures(ours, references, NAMES, aggregation) == (16, {})


def _pyradiomics_glszm(image: np.ndarray, mask: np.ndarray, **settings) -> dict[str, float]:
    radiomics_glszm = pytest.importorskip("radiomics.glszm")
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = radiomics_glszm.RadiomicsGLSZM(
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
    reference = _pyradiomics_glszm(image, mask, binWidth=25, **settings)
    levels, n_levels = _discretised(image, mask, 25.0)
    ours = glszm.compute_glszm(levels, mask, n_levels, aggregation=aggregation, mode="pyradiomics")
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
    reference = _pyradiomics_glszm(image, mask, binWidth=1)
    levels, n_levels = _discretised(image, mask, 1.0)
    ours = glszm.compute_glszm(levels, mask, n_levels, aggregation="3D", mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)

"""GLDZM: hand-computed distances and matrix, IBSI-1 digital phantom, degenerate ROIs.

pyradiomics has no GLDZM, so there is no parity test.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml

from radiopipe.features import gldzm
from radiopipe.preprocess.discretise import fixed_bin_size

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
CATALOGUE = yaml.safe_load((REPO / "features" / "gldzm.yaml").read_text(encoding="utf-8"))["features"]

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


def _data_folder(*parts: str) -> Path:
    folder = DATA.joinpath(*parts)
    if not folder.is_dir():
        pytest.skip(f"reference data folder {folder} is missing")
    return folder


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


@cache
def _ibsi_phantom() -> tuple[np.ndarray, np.ndarray, list[str]]:
    folder = _data_folder("ibsi1")
    nifti = folder / "digital_phantom" / "nifti"
    image = sitk.GetArrayFromImage(sitk.ReadImage(nifti / "image" / "phantom.nii.gz"))
    mask = sitk.GetArrayFromImage(sitk.ReadImage(nifti / "mask" / "mask.nii.gz")).astype(bool)
    rows = (folder / "reference_values" / "ibsi_1_dig_phantom.csv").read_text(encoding="utf-8").splitlines()[1:]
    return image.astype(int), mask, rows


@cache
def _ibsi_ct_phantom_config_a():
    """IBSI-1 CT phantom, configuration A: no resampling, re-segmentation to [-500, 400] HU,
    fixed bin size 25 HU from -500 HU; the unsegmented mask is the morphological mask."""
    folder = _data_folder("ibsi1")
    nifti = folder / "ct_phantom" / "nifti"
    image = sitk.GetArrayFromImage(sitk.ReadImage(nifti / "image" / "phantom.nii.gz"))
    morphological = sitk.GetArrayFromImage(sitk.ReadImage(nifti / "mask" / "mask.nii.gz")) > 0
    mask = morphological & (image >= -500) & (image <= 400)
    discretised = fixed_bin_size(image[mask].astype(np.float64), 25.0, lower_bound=-500.0)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    rows = (folder / "reference_values" / "ibsi_1_chest_config_a.csv").read_text(encoding="utf-8").splitlines()[1:]
    return levels, mask, morphological, discretised.n_levels, rows


def _ibsi_failures(ours: dict, rows: list[str], aggregation: str) -> tuple[int, dict]:
    """Compare with the dzm_ rows of an IBSI table for one aggregation.

    The tables give 3 significant digits: half a unit of the last one is allowed on top of the
    tolerance (which is 0 for the digital phantom).
    """
    names = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE}
    checked, failures = 0, {}
    for value, tolerance, tag in (row.split(";") for row in rows):
        if not (tag.startswith("dzm_") and tag.endswith("_" + aggregation) and value):
            continue
        stem, reference = tag[: -len(aggregation) - 1], float(value)
        rounding = 0.5 * 10 ** (math.floor(math.log10(abs(reference))) - 2) if reference else 1e-9
        checked += 1
        if abs(ours[names[stem]] - reference) > float(tolerance) + rounding:
            failures[stem] = (ours[names[stem]], reference)
    return checked, failures


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation):
    image, mask, rows = _ibsi_phantom()
    ours = gldzm.compute_gldzm(image, mask, 6, aggregation=aggregation)
    assert _ibsi_failures(ours, rows, aggregation) == (16, {})


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D"])
def test_ibsi_ct_phantom_config_a(aggregation):
    levels, mask, morphological, n_levels, rows = _ibsi_ct_phantom_config_a()
    ours = gldzm.compute_gldzm(
        levels, mask, n_levels, aggregation=aggregation, roi_edge_mask=morphological
    )
    assert _ibsi_failures(ours, rows, aggregation) == (16, {})

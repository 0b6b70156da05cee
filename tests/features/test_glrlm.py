"""GLRLM: hand-computed matrix, IBSI-1 digital phantom, pyradiomics parity, degenerate ROIs."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_failures, ibsi_phantom, pyradiomics_case

from radiopipe.features import glrlm
from radiopipe.features.directions import (
    DIRECTIONAL_AGGREGATIONS,
    direction_offsets,
    flat_steps,
    voxel_lattice,
)
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "glrlm.yaml").read_text(encoding="utf-8")
)["features"]

# Hand example: a 4x4 slice and its run length matrix along +x (offset (0, 0, 1)); rows are grey
# levels 1..4, columns run lengths 1..4.
IMAGE_4X4 = np.array(
    [
        [1, 1, 2, 3],
        [1, 1, 2, 3],
        [1, 4, 4, 3],
        [2, 2, 3, 3],
    ]
)
GLRLM_4X4_PLUS_X = np.array(
    [
        [1, 2, 0, 0],
        [2, 1, 0, 0],
        [3, 1, 0, 0],
        [0, 1, 0, 0],
    ]
)


def test_run_length_counts_of_hand_example():
    counts = glrlm.run_length_counts(IMAGE_4X4[None], 4, np.array([[0, 0, 1]]), False)
    assert counts.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(counts[0, 0], GLRLM_4X4_PLUS_X)


@pytest.mark.parametrize("slice_wise", [False, True])
@pytest.mark.parametrize("fill", [0.1, 0.8])  # the two kernels of run_length_counts
@pytest.mark.parametrize("n_grey", [1, 3])  # long runs, short runs
@pytest.mark.parametrize("shape", [(6, 9, 7), (1, 2, 13), (12, 1, 3)])
def test_run_length_counts_equal_walking_every_run(slice_wise, fill, n_grey, shape):
    # The voxel-by-voxel count over two slices of positions against the kernel that walks each
    # run of the ROI.
    rng = np.random.default_rng(5)
    levels = rng.integers(1, n_grey + 1, shape) * (rng.random(shape) < fill)
    offsets = direction_offsets(1, slice_wise)
    lattice = voxel_lattice(levels, padding=1)
    group = lattice.slice_index if slice_wise else np.zeros_like(lattice.roi)
    n_groups = shape[0] if slice_wise else 1
    walked = np.zeros((n_groups, len(offsets), n_grey, max(shape)), dtype=np.int64)
    glrlm._count_runs(lattice.values, lattice.roi, flat_steps(offsets, lattice.strides), group,
                      walked)
    by_plane = np.zeros_like(walked)
    padded = np.pad(levels.astype(np.int32), 1)
    plane = padded.shape[1] * padded.shape[2]
    steps = np.abs(flat_steps(offsets, (plane, padded.shape[2], 1)))
    position = np.empty(2 * plane * len(offsets), dtype=np.int16)
    glrlm._count_runs_by_plane(padded.reshape(-1), steps, plane, slice_wise, position, by_plane)
    np.testing.assert_array_equal(by_plane, walked)
    np.testing.assert_array_equal(glrlm.run_length_counts(levels, n_grey, offsets, slice_wise),
                                  walked)


def test_runs_longer_than_16_bits_are_counted():
    levels = np.ones((3, 3, 40000), dtype=np.int64)
    levels[1, 1, ::2] = 2
    counts = glrlm.run_length_counts(levels, 2, np.array([[0, 0, 1]]), False)[0, 0]
    assert counts[0, 39999] == 8  # every row but the middle one: one run of level 1
    assert counts[0, 0] == counts[1, 0] == 20000  # the middle row: runs of one voxel
    assert counts.sum() == 40008


def test_features_of_hand_example():
    r = GLRLM_4X4_PLUS_X[None].astype(float)
    statistics = glrlm.run_length_statistics(r, np.arange(1.0, 5.0))
    # 11 runs: 6 of length 1 and 5 of length 2, covering the 16 voxels.
    assert glrlm.short_run_emphasis(statistics)[0] == pytest.approx((6 + 5 / 4) / 11)
    assert glrlm.long_run_emphasis(statistics)[0] == pytest.approx((6 + 5 * 4) / 11)
    assert glrlm.high_grey_level_run_emphasis(statistics)[0] == pytest.approx(67 / 11)
    assert glrlm.grey_level_non_uniformity(statistics)[0] == pytest.approx(35 / 11)
    assert glrlm.run_length_non_uniformity(statistics)[0] == pytest.approx(61 / 11)
    assert glrlm.run_percentage(statistics)[0] == pytest.approx(11 / 16)


def test_runs_stop_at_the_roi_border():
    levels = np.array([[[1, 1, 1, 1, 1]]])
    mask = np.array([[[True, True, False, True, True]]])
    values = glrlm.compute_glrlm(levels, mask, 1, aggregation="3D_avg")
    assert values["LongRunEmphasis"] == pytest.approx(4.0)
    assert values["RunPercentage"] == pytest.approx(0.5)


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == glrlm.FEATURE_NAMES


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="aggregation"):
        glrlm.compute_glrlm(IMAGE_4X4, IMAGE_4X4 > 0, 4, aggregation="2D")
    with pytest.raises(ValueError, match="mode"):
        glrlm.compute_glrlm(IMAGE_4X4, IMAGE_4X4 > 0, 4, aggregation="2D_avg", mode="pyrad")
    with pytest.raises(ValueError, match="empty"):
        glrlm.compute_glrlm(IMAGE_4X4, IMAGE_4X4 > 9, 4, aggregation="2D_avg")


def test_single_voxel_has_no_direction():
    mask = np.zeros((3, 3, 3), dtype=bool)
    mask[1, 1, 1] = True
    values = glrlm.compute_glrlm(np.full((3, 3, 3), 2), mask, 2, aggregation="3D_avg")
    assert set(values) == set(glrlm.FEATURE_NAMES)
    assert all(math.isnan(value) for value in values.values())


def test_through_plane_directions_of_one_slice_roi_are_unused():
    levels = np.array([[[1, 1, 2]], [[2, 2, 2]]])
    mask = np.zeros(levels.shape, dtype=bool)
    mask[0] = True
    values = glrlm.compute_glrlm(levels, mask, 2, aggregation="3D_avg")
    # Only +x fits the one-row ROI: runs (1, length 2) and (2, length 1).
    assert values["RunPercentage"] == pytest.approx(2 / 3)
    assert values["LongRunEmphasis"] == pytest.approx(2.5)


def _pyradiomics_glrlm(image: np.ndarray, mask: np.ndarray, **settings) -> dict[str, float]:
    radiomics_glrlm = pytest.importorskip("radiomics.glrlm")
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = radiomics_glrlm.RadiomicsGLRLM(
        sitk.GetImageFromArray(image.astype(np.float64)),
        sitk.GetImageFromArray(mask.astype(np.uint8)),
        **settings,
    )
    extractor.enableAllFeatures()
    return {name: float(value) for name, value in extractor.execute().items()}


def _assert_pyradiomics_parity(ours: dict, reference: dict) -> None:
    mismatches = {}
    for entry in CATALOGUE:
        name, tolerance = entry["name"], entry["tolerance"]
        expected = reference[entry["pyradiomics"]]
        if not math.isclose(
            ours[name], expected, rel_tol=tolerance["relative"], abs_tol=tolerance["absolute"]
        ):
            mismatches[name] = (ours[name], expected)
    assert not mismatches


def _discretised(image: np.ndarray, mask: np.ndarray, bin_width: float):
    """pyradiomics' binWidth discretisation of the ROI, cropped to its bounding box."""
    corners = np.argwhere(mask)
    box = tuple(slice(low, high + 1) for low, high in zip(corners.min(0), corners.max(0)))
    image, mask = image[box].astype(np.float64), mask[box]
    discretised = fixed_bin_size_pyradiomics(image[mask], bin_width)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    return levels, mask, discretised.n_levels


@pytest.mark.reference
@pytest.mark.parametrize("case", ["flat", "one_slice"])
def test_degenerate_rois_match_pyradiomics(case):
    rng = np.random.default_rng(7)
    image = rng.integers(1, 5, size=(3, 4, 4))
    mask = np.ones(image.shape, dtype=bool)
    if case == "flat":
        image[:] = 2
    else:
        mask[[0, 2]] = False
    reference = _pyradiomics_glrlm(image, mask, binWidth=1)
    levels, cropped, n_levels = _discretised(image, mask, 1.0)
    ours = glrlm.compute_glrlm(levels, cropped, n_levels, aggregation="3D_avg", mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", DIRECTIONAL_AGGREGATIONS)
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    ours = glrlm.compute_glrlm(
        phantom.image.array.astype(int), phantom.mask.array, 6, aggregation=aggregation
    )
    names = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE if entry["ibsi_tag"]}
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, names, aggregation) == (16, {})


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize(
    "settings, aggregation",
    [
        ({}, "3D_avg"),
        ({"force2D": True}, "2_5D_avg"),
        ({"weightingNorm": "no_weighting"}, "3D_comb"),
    ],
)
def test_pyradiomics_parity(case, settings, aggregation):
    image, mask = pyradiomics_case(case).arrays()
    reference = _pyradiomics_glrlm(image, mask, binWidth=25, **settings)
    levels, cropped, n_levels = _discretised(image, mask, 25.0)
    ours = glrlm.compute_glrlm(
        levels, cropped, n_levels, aggregation=aggregation, mode="pyradiomics"
    )
    _assert_pyradiomics_parity(ours, reference)

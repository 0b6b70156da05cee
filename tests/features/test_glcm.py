"""GLCM: hand-computed matrix, IBSI-1 digital phantom, pyradiomics parity, degenerate ROIs."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_failures, ibsi_phantom, pyradiomics_case

from radiopipe.features import cooccurrence, glcm
from radiopipe.features.cooccurrence import cooccurrence_counts
from radiopipe.features.directions import (
    DIRECTIONAL_AGGREGATIONS,
    aggregation_offsets,
    direction_offsets,
    flat_steps,
    voxel_lattice,
)
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "glcm.yaml").read_text(encoding="utf-8")
)["features"]

# Hand example: a 4x4 slice and its GLCM along +x (offset (0, 0, 1)), counted by hand.
IMAGE_4X4 = np.array(
    [
        [1, 1, 2, 3],
        [1, 1, 2, 3],
        [1, 4, 4, 3],
        [2, 2, 3, 3],
    ]
)
GLCM_4X4_PLUS_X = np.array(
    [
        [2, 2, 0, 1],
        [0, 1, 3, 0],
        [0, 0, 1, 0],
        [0, 0, 1, 1],
    ]
)


def test_cooccurrence_counts_of_hand_example():
    counts = cooccurrence_counts(IMAGE_4X4[None], 4, np.array([[0, 0, 1]]), False)
    assert counts.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(counts[0, 0], GLCM_4X4_PLUS_X)


@pytest.mark.parametrize("slice_wise", [False, True])
@pytest.mark.parametrize("distance", [1, 2])
@pytest.mark.parametrize("shape", [(6, 9, 7), (1, 5, 12), (9, 1, 2)])
def test_box_walk_counts_the_pairs_of_the_voxel_list(slice_wise, distance, shape):
    # The slice-by-slice walk of the padded box against the kernel the batched path runs on a
    # list of the ROI voxels and their slices.
    rng = np.random.default_rng(sum(shape) + distance)
    levels = rng.integers(1, 5, shape) * (rng.random(shape) < 0.6)
    offsets = aggregation_offsets("2D_avg" if slice_wise else "3D_avg", shape, distance)
    lattice = voxel_lattice(levels, padding=distance)
    groups = lattice.slice_index if slice_wise else np.zeros_like(lattice.roi)
    listed = np.zeros((shape[0] if slice_wise else 1, len(offsets), 4, 4))
    cooccurrence._count_pairs(lattice.values, lattice.roi, groups,
                              flat_steps(offsets, lattice.strides), listed)
    np.testing.assert_array_equal(
        cooccurrence_counts(levels, 4, offsets, slice_wise), listed
    )


def test_features_of_hand_example():
    symmetric = GLCM_4X4_PLUS_X + GLCM_4X4_PLUS_X.T
    p = (symmetric / symmetric.sum())[None].astype(float)
    statistics = glcm.cooccurrence_statistics(p, np.arange(1.0, 5.0))
    # 24 symmetric pairs; off-diagonal counts 4, 6, 2 at |i - j| = 1, 1, 3 and 2 at |i - j| = 1.
    assert glcm.contrast(statistics)[0] == pytest.approx(30 / 24)
    assert glcm.dissimilarity(statistics)[0] == pytest.approx(18 / 24)
    assert glcm.difference_average(statistics)[0] == pytest.approx(18 / 24)
    assert glcm.joint_energy(statistics)[0] == pytest.approx(58 / 576)
    assert glcm.joint_maximum(statistics)[0] == pytest.approx(4 / 24)
    assert glcm.joint_average(statistics)[0] == pytest.approx(55 / 24)
    assert glcm.sum_average(statistics)[0] == pytest.approx(2 * 55 / 24)
    assert glcm.inverse_variance(statistics)[0] == pytest.approx((4 + 6 + 2) / 24 + 2 / 9 / 24)
    assert glcm.sum_variance(statistics)[0] == pytest.approx(glcm.cluster_tendency(statistics)[0])


def test_direction_offsets():
    assert len(direction_offsets(1)) == 13
    assert len(direction_offsets(1, in_plane=True)) == 4
    assert len(direction_offsets(2)) == 49
    offsets = direction_offsets(2)
    assert np.abs(offsets).max(axis=1).tolist() == [2] * 49
    first_nonzero = offsets[np.arange(49), np.argmax(offsets != 0, axis=1)]
    assert (first_nonzero > 0).all()


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == glcm.FEATURE_NAMES


def test_two_dimensional_input_equals_single_slice():
    mask = IMAGE_4X4 > 0
    flat = glcm.compute_glcm(IMAGE_4X4, mask, 4, aggregation="2D_avg")
    volume = glcm.compute_glcm(IMAGE_4X4[None], mask[None], 4, aggregation="2D_avg")
    assert flat == volume


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"aggregation": "3D"}, "aggregation"),
        ({"aggregation": "3D_avg", "mode": "IBSI"}, "mode"),
        ({"aggregation": "3D_avg", "distance": 0}, "distance"),
        ({"aggregation": "3D_avg", "symmetric": "yes"}, "symmetric"),
    ],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        glcm.compute_glcm(IMAGE_4X4, IMAGE_4X4 > 0, 4, **arguments)


def test_bad_levels_and_empty_mask_are_rejected():
    with pytest.raises(ValueError, match="1..n_levels=3"):
        glcm.compute_glcm(IMAGE_4X4, IMAGE_4X4 > 0, 3, aggregation="3D_avg")
    with pytest.raises(ValueError, match="empty"):
        glcm.compute_glcm(IMAGE_4X4, IMAGE_4X4 > 9, 4, aggregation="3D_avg")
    with pytest.raises(ValueError, match="whole numbers"):
        glcm.compute_glcm(IMAGE_4X4 + 0.5, IMAGE_4X4 > 0, 5, aggregation="3D_avg")


def test_single_voxel_has_no_pairs():
    mask = np.zeros((3, 3, 3), dtype=bool)
    mask[1, 1, 1] = True
    values = glcm.compute_glcm(np.ones((3, 3, 3), int), mask, 1, aggregation="3D_avg")
    assert set(values) == set(glcm.FEATURE_NAMES)
    assert all(math.isnan(value) for value in values.values())


def _pyradiomics_glcm(image: np.ndarray, mask: np.ndarray, **settings) -> dict[str, float]:
    radiomics_glcm = pytest.importorskip("radiomics.glcm")
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = radiomics_glcm.RadiomicsGLCM(
        sitk.GetImageFromArray(image.astype(np.float64)),
        sitk.GetImageFromArray(mask.astype(np.uint8)),
        **settings,
    )
    extractor.enableAllFeatures()
    return {name: float(value) for name, value in extractor.execute().items()}


def _discretised(image: np.ndarray, mask: np.ndarray, bin_width: float):
    """pyradiomics' binWidth discretisation of the ROI, cropped to its bounding box."""
    corners = np.argwhere(mask)
    box = tuple(slice(low, high + 1) for low, high in zip(corners.min(0), corners.max(0)))
    image, mask = image[box].astype(np.float64), mask[box]
    discretised = fixed_bin_size_pyradiomics(image[mask], bin_width)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    return levels, mask, discretised.n_levels


def _assert_pyradiomics_parity(ours: dict, reference: dict) -> None:
    mismatches = {}
    for entry in CATALOGUE:
        name, tolerance = entry["name"], entry["tolerance"]
        # pyradiomics deprecated these two as equal to another feature; compare with that one.
        reference_name = {"SumVariance": "ClusterTendency", "Dissimilarity": "DifferenceAverage"}
        expected = reference[entry["pyradiomics"] or reference_name[name]]
        if not math.isclose(
            ours[name], expected, rel_tol=tolerance["relative"], abs_tol=tolerance["absolute"]
        ):
            mismatches[name] = (ours[name], expected)
    assert not mismatches


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
    reference = _pyradiomics_glcm(image, mask, binWidth=1)
    levels, cropped, n_levels = _discretised(image, mask, 1.0)
    ours = glcm.compute_glcm(levels, cropped, n_levels, aggregation="3D_avg", mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", DIRECTIONAL_AGGREGATIONS)
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    ours = glcm.compute_glcm(
        phantom.image.array.astype(int), phantom.mask.array, 6, aggregation=aggregation
    )
    names = {entry["ibsi_tag"]: entry["name"] for entry in CATALOGUE if entry["ibsi_tag"]}
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, names, aggregation) == (25, {})


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
    reference = _pyradiomics_glcm(image, mask, binWidth=25, **settings)
    levels, cropped, n_levels = _discretised(image, mask, 25.0)
    ours = glcm.compute_glcm(levels, cropped, n_levels, aggregation=aggregation, mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize(
    "settings, options",
    [
        ({"distances": [2]}, {"distance": 2}),
        ({"symmetricalGLCM": False}, {"symmetric": False}),
    ],
)
def test_pyradiomics_parity_of_options(settings, options):
    image, mask = pyradiomics_case("breast1").arrays()
    reference = _pyradiomics_glcm(image, mask, binWidth=10, **settings)
    levels, cropped, n_levels = _discretised(image, mask, 10.0)
    ours = glcm.compute_glcm(
        levels, cropped, n_levels, aggregation="3D_avg", mode="pyradiomics", **options
    )
    _assert_pyradiomics_parity(ours, reference)

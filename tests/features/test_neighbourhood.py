"""The flat lattice the neighbourhood kernels walk (offsets that cannot reach a voxel left out),
the one pass of neighbour statistics NGTDM and GLDM share, and the work the families of one image
share through its memo."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.features import glcm, gldm, glrlm, glszm, ngldm, ngtdm
from radiopipe.features.neighbourhood import (
    FlatLattice,
    chebyshev_offsets,
    flat_lattice,
    neighbour_blocks,
    neighbour_kernel,
)
from radiopipe.features.zones import earlier_rows, union_find_runs


def _full_lattice(levels: np.ndarray, offsets: np.ndarray) -> FlatLattice:
    """Every offset kept, padded by the widest reach on every axis."""
    padding = int(np.abs(offsets).max())
    padded = np.pad(levels.astype(np.int32), padding)
    _, n_y, n_x = padded.shape
    values = padded.reshape(-1)
    steps = offsets @ np.array([n_y * n_x, n_x, 1], dtype=np.int64)
    return FlatLattice(values, np.flatnonzero(values), steps, offsets)


def _levels(shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    levels = rng.integers(1, 4, size=shape)
    levels[rng.random(shape) < 0.3] = 0
    return levels


@pytest.mark.parametrize(
    ("shape", "distance", "in_plane_only"),
    [((1, 30, 40), 1, False), ((1, 30, 40), (1, 2), False), ((2, 25, 20), 2, False),
     ((6, 3, 1), 1, False), ((5, 20, 20), 1, True), ((1, 1, 1), 1, False)],
)
def test_kernels_read_the_pruned_lattice_as_the_full_one(shape, distance, in_plane_only):
    levels = _levels(shape, seed=sum(shape))
    levels.reshape(-1)[0] = 2  # at least one ROI voxel
    offsets = chebyshev_offsets(distance, in_plane_only)
    full, pruned = _full_lattice(levels, offsets), flat_lattice(levels, offsets)
    assert np.array_equal(full.values[full.roi], pruned.values[pruned.roi])
    for alpha in (0.0, 1.0):
        for expected, got in zip(neighbour_kernel(*full[:3], alpha),
                                 neighbour_kernel(*pruned[:3], alpha)):
            assert np.array_equal(expected, got)
    if distance == 1:
        assert np.array_equal(union_find_runs(*full[:2], *earlier_rows(full)),
                              union_find_runs(*pruned[:2], *earlier_rows(pruned)))


def test_a_single_slice_is_walked_in_its_plane():
    lattice = flat_lattice(np.ones((1, 4, 5), dtype=np.int64), chebyshev_offsets(1, False))
    assert lattice.steps.size == 8
    assert lattice.values.size == 6 * 7  # padded in-plane only


def _neighbours_by_offset(levels, offsets, alpha):
    """Dependence counts, neighbour sums and counts of the ROI voxels, one array pass per
    offset (the reference the compiled single pass must equal)."""
    reach = int(np.abs(offsets).max())
    padded = np.pad(levels, reach)
    inside = tuple(slice(reach, reach + n) for n in levels.shape)
    centre = padded[inside]
    dependence = np.ones(levels.shape, dtype=np.int64)
    total, count = np.zeros(levels.shape), np.zeros(levels.shape)
    for offset in offsets:
        shifted = padded[tuple(slice(s.start + d, s.stop + d) for s, d in zip(inside, offset))]
        present = shifted > 0
        dependence += present & (np.abs(shifted - centre) <= alpha)
        total += np.where(present, shifted, 0)
        count += present
    roi = levels > 0
    return dependence[roi], total[roi], count[roi]


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.5])
@pytest.mark.parametrize(("distance", "in_plane_only"), [(1, False), (2, False), (1, True)])
def test_one_pass_equals_the_statistics_by_offset(alpha, distance, in_plane_only):
    levels = _levels((5, 9, 11), seed=7)
    offsets = chebyshev_offsets(distance, in_plane_only)
    lattice = flat_lattice(levels, offsets)
    for expected, got in zip(_neighbours_by_offset(levels, offsets, alpha),
                             neighbour_kernel(*lattice[:3], alpha)):
        assert np.array_equal(expected, got)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize(("distance", "in_plane_only"), [(1, False), (2, False), (1, True)])
def test_block_pass_equals_the_voxel_pass(alpha, distance, in_plane_only):
    # Dense slices (blocks read whole), sparse ones (read voxel by voxel) and empty ones (skipped).
    rng = np.random.default_rng(3)
    levels = rng.integers(1, 5, size=(9, 40, 50))
    fill = np.array([0.9, 0.9, 0.05, 0.0, 0.0, 0.6, 0.01, 0.9, 0.3])[:, None, None]
    levels[rng.random(levels.shape) >= fill] = 0
    lattice = flat_lattice(levels, chebyshev_offsets(distance, in_plane_only))
    for expected, got in zip(neighbour_kernel(*lattice[:3], alpha),
                             neighbour_blocks(*lattice[:3], alpha)):
        assert expected.dtype == got.dtype
        assert np.array_equal(expected, got)


@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
@pytest.mark.parametrize("alpha", [0, 1])
def test_families_sharing_a_memo_equal_each_alone(aggregation, alpha):
    levels = _levels((4, 12, 10), seed=11)
    mask = levels > 0
    alone = [
        glszm.compute_glszm(levels, mask, 3, aggregation=aggregation),
        gldm.compute_gldm(levels, mask, 3, aggregation=aggregation, gldm_a=alpha),
        ngtdm.compute_ngtdm(levels, mask, 3, aggregation=aggregation),
        ngldm.compute_ngldm(levels, mask, 3, aggregation=aggregation, alpha=1 - alpha),
    ]
    memo: dict = {}
    shared = [
        glszm.compute_glszm(levels, mask, 3, aggregation=aggregation, memo=memo),
        gldm.compute_gldm(levels, mask, 3, aggregation=aggregation, gldm_a=alpha, memo=memo),
        ngtdm.compute_ngtdm(levels, mask, 3, aggregation=aggregation, memo=memo),
        ngldm.compute_ngldm(levels, mask, 3, aggregation=aggregation, alpha=1 - alpha, memo=memo),
    ]
    assert memo  # the work was shared
    for expected, got in zip(alone, shared):
        assert expected.keys() == got.keys()
        np.testing.assert_array_equal(list(expected.values()), list(got.values()))


@pytest.mark.parametrize("aggregation", ["2D_avg", "2_5D_comb", "3D_avg"])
@pytest.mark.parametrize("mode", ["ibsi", "pyradiomics"])
def test_directional_families_sharing_a_memo_equal_each_alone(aggregation, mode):
    levels = _levels((4, 12, 10), seed=5)
    mask = levels > 0
    memo: dict = {}
    for compute in (glcm.compute_glcm, glrlm.compute_glrlm, glcm.compute_glcm):
        alone = compute(levels, mask, 3, aggregation=aggregation, mode=mode)
        shared = compute(levels, mask, 3, aggregation=aggregation, mode=mode, memo=memo)
        assert alone.keys() == shared.keys()
        np.testing.assert_array_equal(list(alone.values()), list(shared.values()))
    assert len(memo) == 1

"""Batching bookkeeping (NumPy) and each matrix ingredient by hand, on NumPy and on the device."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_helpers import random_roi

from radiopipe.features.neighbourhood import chebyshev_offsets
from radiopipe.gpu import matrices
from radiopipe.gpu.packing import (
    RoiItem,
    dense_rows,
    matrix_index,
    owner,
    pack,
    roi_means,
)
from radiopipe.xp import to_numpy


def _item(levels, mask=None) -> RoiItem:
    """An RoiItem whose intensities are its levels (mask: levels > 0 unless given)."""
    levels = np.asarray(levels)
    mask = levels > 0 if mask is None else np.asarray(mask, dtype=bool)
    return RoiItem(mask, levels[mask].astype(float), levels[mask], int(levels.max()), 1.0)


def test_pack_places_each_roi_in_its_own_planes():
    first = np.array([[[1, 0, 2], [0, 3, 0]]])  # one slice, 2 x 3
    second = np.array([[[4]], [[5]]])  # two slices, 1 x 1
    batch = pack([_item(first), _item(second)], pad=1, xp=np)
    # Planes: pad, first (1), pad, second (2), pad; rows 2 + 2, columns 3 + 2.
    assert batch.shape == (6, 4, 5)
    assert batch.roi_start.tolist() == [0, 3, 5]
    assert batch.voxel_roi.tolist() == [0, 0, 0, 1, 1]
    assert batch.voxel_slice.tolist() == [0, 0, 0, 0, 1]
    assert batch.voxel_levels.tolist() == [1, 2, 3, 4, 5]
    assert batch.voxel_values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    lattice = batch.levels.reshape(batch.shape)
    np.testing.assert_array_equal(lattice[1, 1:3, 1:4], first[0])
    np.testing.assert_array_equal(lattice[3:5, 1, 1], [4, 5])
    assert int(lattice.sum()) == 15  # nothing else was written
    assert np.array_equal(batch.levels[batch.voxels], batch.voxel_levels)
    assert batch.levels.size == 6 * 4 * 5
    assert batch.steps(np.array([[1, 0, 0], [0, 0, -1]])).tolist() == [20, -1]


def test_no_neighbour_of_an_roi_reads_another_roi():
    rng = np.random.default_rng(0)
    items = [_item(*random_roi(rng, shape, 4)) for shape in [(2, 5, 4), (1, 3, 6), (3, 2, 2)]]
    batch = pack(items, pad=1, xp=np)
    first_plane = np.array([1, 4, 6])  # pad, 2 slices, pad, 1 slice, pad, 3 slices, pad
    assert batch.shape[0] == 10
    plane_size = batch.shape[1] * batch.shape[2]
    for step in batch.steps(chebyshev_offsets(1, in_plane_only=False)):
        neighbour = batch.voxels + step
        inside = batch.levels[neighbour] > 0
        plane = neighbour[inside] // plane_size
        roi_of_neighbour = np.searchsorted(first_plane, plane, "right") - 1
        assert np.array_equal(roi_of_neighbour, batch.voxel_roi[inside])


def test_matrix_index_per_slice_and_per_roi():
    items = [_item(np.ones((2, 1, 2), dtype=int)), _item(np.ones((1, 1, 1), dtype=int))]
    batch = pack(items, pad=1, xp=np)
    per_slice = matrix_index(batch, per_slice=True)
    assert per_slice.voxel_matrix.tolist() == [0, 0, 1, 1, 2]
    assert per_slice.matrix_roi.tolist() == [0, 0, 1]
    per_roi = matrix_index(batch, per_slice=False)
    assert per_roi.voxel_matrix.tolist() == [0, 0, 0, 0, 1]
    assert per_roi.n_matrices == 2


def test_segment_helpers():
    assert owner(np.array([0, 0, 3, 4]), 4, np).tolist() == [1, 1, 1, 2]
    rows = dense_rows(np.array([5.0, 6.0, 7.0]), np.array([0, 1, 3]), -1.0)
    assert rows.tolist() == [[5.0, -1.0], [6.0, 7.0]]
    means = roi_means(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1, 1]), 2)
    assert np.isnan(means[0]).all() and means[1].tolist() == [2.0, 3.0]


def test_pack_refuses_inconsistent_items():
    bad = RoiItem(np.ones((1, 1, 2), dtype=bool), np.zeros(1), np.ones(1, dtype=int), 1, 1.0)
    with pytest.raises(ValueError, match="one grey level per True voxel"):
        pack([bad], pad=1, xp=np)
    with pytest.raises(ValueError, match="'pad'"):
        pack([_item([[[1]]])], pad=0, xp=np)
    with pytest.raises(ValueError, match="at least one ROI"):
        pack([], pad=1, xp=np)


def test_pair_counts_by_hand(xp):
    # Two ROIs in one launch, pairs along +x: [1 2 2] -> (1,2), (2,2); [2 1] -> (2,1).
    batch = pack([_item([[[1, 2, 2]]]), _item([[[2, 1]]])], pad=1, xp=xp)
    index = matrix_index(batch, per_slice=False)
    counts = to_numpy(matrices.pair_counts(batch, np.array([[0, 0, 1]]), index, n_grey=2))
    assert counts.shape == (2, 1, 2, 2)
    assert counts[0, 0].tolist() == [[0.0, 1.0], [0.0, 1.0]]
    assert counts[1, 0].tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_run_counts_by_hand(xp):
    # [1 1 2] along x: a run of 1s of length 2 and a run of 2s of length 1; along y every run
    # has length 1.
    batch = pack([_item([[[1, 1, 2]]])], pad=1, xp=xp)
    index = matrix_index(batch, per_slice=False)
    offsets = np.array([[0, 0, 1], [0, 1, 0]])
    counts = to_numpy(matrices.run_counts(batch, offsets, index, n_grey=2, max_length=3))
    assert counts[0, 0].tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert counts[0, 1].tolist() == [[2.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


def test_zones_and_edge_distance_by_hand(xp):
    # 3 x 3 slice: a ring of 1s around a 2, and a 1 that touches the ring only diagonally.
    levels = np.array([[[1, 1, 1, 0, 0], [1, 2, 1, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 1, 0]]])
    batch = pack([_item(levels)], pad=1, xp=xp)
    ids = to_numpy(matrices.zone_ids(batch, in_plane_only=True))
    _, zone = np.unique(ids, return_inverse=True)
    assert zone.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]  # the lone 1 joins diagonally
    full = np.ones((1, 3, 3), dtype=int)
    distances = to_numpy(matrices.edge_distances(pack([_item(full)], pad=1, xp=xp),
                                                 in_plane_only=True))
    assert distances.tolist() == [1, 1, 1, 1, 2, 1, 1, 1, 1]


def test_neighbourhood_statistics_by_hand(xp):
    # [1 2 2]: neighbours (in-plane, distance 1) of the 1: {2}; of the middle 2: {1, 2}.
    batch = pack([_item([[[1, 2, 2]]])], pad=1, xp=xp)
    total, count, dependence = matrices.neighbourhood_statistics(
        batch, distance=1, in_plane_only=True, alpha=0.0
    )
    assert to_numpy(total).tolist() == [2.0, 3.0, 2.0]
    assert to_numpy(count).tolist() == [1.0, 2.0, 1.0]
    assert to_numpy(dependence).tolist() == [1, 2, 2]

"""The flat lattice the neighbourhood kernels walk: offsets that cannot reach a voxel left out."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.features.neighbourhood import FlatLattice, chebyshev_offsets, flat_lattice
from radiopipe.features.ngldm import _count_dependent
from radiopipe.features.ngtdm import _neighbour_sums
from radiopipe.features.zones import union_find_zones


def _full_lattice(levels: np.ndarray, offsets: np.ndarray) -> FlatLattice:
    """Every offset kept, padded by the widest reach on every axis."""
    padding = int(np.abs(offsets).max())
    padded = np.pad(levels.astype(np.int32), padding)
    _, n_y, n_x = padded.shape
    values = padded.reshape(-1)
    steps = offsets @ np.array([n_y * n_x, n_x, 1], dtype=np.int64)
    return FlatLattice(values, np.flatnonzero(values), steps)


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
        assert np.array_equal(_count_dependent(*full, alpha), _count_dependent(*pruned, alpha))
    for expected, got in zip(_neighbour_sums(*full), _neighbour_sums(*pruned)):
        assert np.array_equal(expected, got)
    if distance == 1:
        assert np.array_equal(union_find_zones(*full), union_find_zones(*pruned))


def test_a_single_slice_is_walked_in_its_plane():
    lattice = flat_lattice(np.ones((1, 4, 5), dtype=np.int64), chebyshev_offsets(1, False))
    assert lattice.steps.size == 8
    assert lattice.values.size == 6 * 7  # padded in-plane only

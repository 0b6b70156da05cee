"""The shared helpers of the zone families (GLSZM, GLDZM, NGLDM matrices)."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.features.neighbourhood import chebyshev_offsets, flat_lattice
from radiopipe.features.zones import distinct_values, flood_fill_zones, union_find_zones


@pytest.mark.parametrize("high", [3, 40, 10**9])  # counted, counted, sorted (values too large)
def test_distinct_values_equal_unique_with_inverse(high):
    values = np.random.default_rng(high).integers(0, high, 500)
    distinct, column = distinct_values(values)
    expected, inverse = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(distinct, expected)
    np.testing.assert_array_equal(column, inverse.reshape(-1))
    np.testing.assert_array_equal(distinct[column], values)


def test_distinct_values_of_negative_values_are_sorted_out():
    distinct, column = distinct_values(np.array([-2, 7, -2]))
    assert distinct.tolist() == [-2, 7] and column.tolist() == [0, 1, 0]


@pytest.mark.parametrize("in_plane_only", [False, True])
def test_union_find_numbers_the_zones_of_the_flood_fill(in_plane_only):
    rng = np.random.default_rng(9)
    for _ in range(20):
        levels = rng.integers(1, 4, (5, 8, 6)) * (rng.random((5, 8, 6)) < 0.7)
        lattice = flat_lattice(levels, chebyshev_offsets(1, in_plane_only))
        np.testing.assert_array_equal(
            union_find_zones(lattice.values, lattice.roi, lattice.steps),
            flood_fill_zones(lattice.values, lattice.roi, lattice.steps),
        )

"""The shared helpers of the zone families (GLSZM, GLDZM, NGLDM matrices)."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.features.neighbourhood import chebyshev_offsets, flat_lattice
from radiopipe.features.zones import (
    distinct_values,
    earlier_rows,
    flood_fill_zones,
    union_find_runs,
)


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
@pytest.mark.parametrize("shape", [(5, 8, 6), (1, 30, 20), (12, 12, 12), (6, 9, 1), (4, 1, 7)])
@pytest.mark.parametrize("n_levels", [1, 2, 4])
def test_union_find_numbers_the_zones_of_the_flood_fill(in_plane_only, shape, n_levels):
    rng = np.random.default_rng(9)
    for _ in range(20):
        levels = rng.integers(1, n_levels + 1, shape) * (rng.random(shape) < 0.7)
        if not levels.any():
            continue
        lattice = flat_lattice(levels, chebyshev_offsets(1, in_plane_only))
        expected = flood_fill_zones(lattice.values, lattice.roi, lattice.steps)
        np.testing.assert_array_equal(
            union_find_runs(lattice.values, lattice.roi, *earlier_rows(lattice)), expected
        )


def test_earlier_rows_are_the_row_before_and_the_three_of_the_slice_before():
    lattice = flat_lattice(np.ones((3, 3, 3), dtype=np.int64), chebyshev_offsets(1, False))
    n_y, n_x = 5, 5
    rows, reach = earlier_rows(lattice)
    assert reach == 1
    assert rows.tolist() == sorted([n_x, n_y * n_x - n_x, n_y * n_x, n_y * n_x + n_x])
    column = flat_lattice(np.ones((3, 3, 1), dtype=np.int64), chebyshev_offsets(1, True))
    assert earlier_rows(column)[1] == 0

"""The bounding box of a small mask (one compiled scan) against the axis-by-axis search."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.preprocess.crop import COMPILED_SCAN_VOXELS, bounding_box


def _bounds_by_any(mask: np.ndarray) -> tuple[tuple[int, int], ...]:
    bounds = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        occupied = np.flatnonzero(mask.any(axis=others))
        bounds.append((int(occupied[0]), int(occupied[-1])))
    return tuple(bounds)


@pytest.mark.parametrize("shape", [(6, 9, 7), (1, 5, 4), (13, 11), (1, 1, 1), (80, 90, 100)])
@pytest.mark.parametrize("fraction", [0.002, 0.3])
def test_bounding_box_equals_the_search_along_each_axis(shape, fraction):
    rng = np.random.default_rng(sum(shape))
    mask = (rng.random(shape) < fraction).astype(np.uint8)
    mask.flat[rng.integers(mask.size)] = 1
    box = bounding_box(mask)
    assert box == _bounds_by_any(mask.astype(bool))
    assert all(isinstance(value, int) for bounds in box for value in bounds)


@pytest.mark.parametrize("shape", [(4, 5, 6), (300, 300)])
def test_an_empty_mask_has_no_bounding_box(shape):
    assert (np.prod(shape) <= COMPILED_SCAN_VOXELS) == (len(shape) == 3)  # both scans are tried
    with pytest.raises(ValueError, match="The mask is empty"):
        bounding_box(np.zeros(shape, dtype=bool))

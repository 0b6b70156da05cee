"""Helpers of the GPU tests: the ``xp`` fixture, random ROIs, value comparison.

Tests taking ``xp`` run twice: with NumPy (the batched code on the CPU, which checks the
batching bookkeeping everywhere) and with CuPy (marked ``gpu``: the CUDA kernels). Test modules
import the fixture from here (a conftest.py here would shadow tests/conftest.py's helpers).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

# float64 paths: the batched formulas equal the native ones to rounding (NumPy, any summation
# order) or to relative 1e-6 (CuPy: atomic sums in another order, cuSOLVER eigenvalues).
TOLERANCE = {"numpy": (1e-9, 1e-12), "cupy": (1e-6, 1e-9)}
# MCC is the square root of an eigenvalue: near 0, an eigensolver's 1e-16 becomes 1e-8.
SQRT_EIGENVALUE_ATOL = 1e-6



def assert_same_features(ours: dict, native: dict, xp, context: str = "") -> None:
    """Equal keys, and values equal within the namespace's tolerance (NaN equals NaN)."""
    assert set(ours) == set(native), f"{context}: keys differ: {sorted(set(ours) ^ set(native))}"
    rtol, atol = TOLERANCE[xp.__name__]
    bad = []
    for key, expected in native.items():
        value = ours[key]
        if math.isnan(expected) and math.isnan(value):
            continue
        allowed = atol + rtol * abs(expected)
        if key.endswith("MCC"):
            allowed = max(allowed, SQRT_EIGENVALUE_ATOL)
        if not abs(value - expected) <= allowed:
            bad.append(f"{key}: {value!r} != {expected!r}")
    assert not bad, f"{context}: {len(bad)} of {len(native)} differ:\n" + "\n".join(bad[:20])


def random_roi(rng: np.random.Generator, shape, n_levels: int):
    """A blobby ROI (at least one voxel) and grey levels 1..n_levels with flat patches."""
    mask = ndimage.gaussian_filter(rng.normal(size=shape), 1.0) > -0.1
    mask.flat[rng.integers(mask.size)] = True
    levels = rng.integers(1, n_levels + 1, size=shape)
    flat = rng.random(shape) < 0.4
    levels = np.where(flat, np.minimum(levels, 2), levels)
    return levels, mask


ROI_SHAPES = [
    ((3, 7, 6), 5),  # small 3D
    ((1, 9, 8), 4),  # one slice
    ((4, 4, 5), 7),
    ((1, 1, 1), 3),  # one voxel
    ((2, 5, 1), 3),  # one column wide
    ((1, 6, 6), 1),  # one grey level
    ((5, 6, 7), 9),
    ((1, 24, 24), 12),  # a 2D patch
]
"""(shape, n_levels) of the random ROIs, degenerate ones included."""

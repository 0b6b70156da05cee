"""NGTDM features of every kernel (pyradiomics' ``ngtdm``, voxel-based), over the levels present.

pyradiomics' C code takes, for each counted voxel of a centre's kernel, the mean grey level of
its 26 neighbours that lie in the same kernel cube and are counted; the voxel adds one to
:math:`n_i` of its level :math:`i` and the absolute difference between its level and that mean
to :math:`s_i` (0 when it has no such neighbour: it still counts in :math:`n_i`). A compiled loop
fills :math:`n_i, s_i` per centre, listing the levels the kernel holds (at most one per kernel
voxel), and sums every feature over those levels and their pairs by the formulas of
:mod:`radiopipe.features.ngtdm` (whose docstrings define them; absent levels, :math:`p_i = 0`,
add nothing to any of them).
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.ngtdm import FEATURE_NAMES, HOMOGENEOUS_COARSENESS
from radiopipe.voxelwise.kernels import KernelInput
from radiopipe.voxelwise.sparse import touch

__all__ = ["FEATURE_NAMES", "ngtdm_maps"]


def ngtdm_maps(kernels: KernelInput, names) -> dict:
    """NGTDM features of every centre's kernel.

    Parameters
    ----------
    kernels : KernelInput
    names : collection of str
        Features wanted (:data:`FEATURE_NAMES`).

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_centres,)
    """
    half = direction_offsets(1)
    offsets = np.concatenate([half, -half])
    values = np.empty((len(kernels.centres), len(FEATURE_NAMES)))
    _kernel_features(kernels.level_index(), kernels.grey_levels.astype(np.float64),
                     kernels.centres, offsets, kernels.radius, values)
    return {name: values[:, FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(index, grey_levels, centres, offsets, radius,
                     out):  # pragma: no cover - compiled
    """``out[c]``: the features of centre ``c``'s kernel, in :data:`FEATURE_NAMES`' order."""
    n_grey = grey_levels.shape[0]
    counts = np.zeros(n_grey)
    differences = np.zeros(n_grey)
    present = np.empty(n_grey, dtype=np.int64)
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        n_present = 0
        for z in range(z0 - radius, z0 + radius + 1):
            for y in range(y0 - radius, y0 + radius + 1):
                for x in range(x0 - radius, x0 + radius + 1):
                    level = index[z, y, x]
                    if level < 0:
                        continue
                    total = 0.0
                    n_neighbours = 0.0
                    for d in range(offsets.shape[0]):
                        nz, ny, nx = z + offsets[d, 0], y + offsets[d, 1], x + offsets[d, 2]
                        if (abs(nz - z0) <= radius and abs(ny - y0) <= radius
                                and abs(nx - x0) <= radius and index[nz, ny, nx] >= 0):
                            total += grey_levels[index[nz, ny, nx]]
                            n_neighbours += 1.0
                    n_present = touch(counts, present, n_present, level, 1.0)
                    if n_neighbours > 0:
                        differences[level] += abs(grey_levels[level] - total / n_neighbours)
        _features(counts, differences, grey_levels, present[:n_present], out[c])


@numba.njit(cache=True, nogil=True)
def _features(counts, differences, grey_levels, present, out):  # pragma: no cover - compiled
    """Coarseness, contrast, busyness, complexity, strength of one kernel's :math:`n_i, s_i`.

    Zeroes ``counts`` and ``differences`` at the ``present`` levels.
    """
    n_valid = 0.0
    for a in present:
        n_valid += counts[a]
    weighted_total = difference_total = 0.0
    for a in present:
        weighted_total += counts[a] / n_valid * differences[a]
        difference_total += differences[a]
    spread = gaps = complexity = strength = 0.0
    for a in present:
        p_a = counts[a] / n_valid
        i = grey_levels[a]
        for b in present:
            p_b = counts[b] / n_valid
            j = grey_levels[b]
            squared_gap = (i - j) ** 2
            spread += p_a * p_b * squared_gap
            gaps += abs(i * p_a - j * p_b)
            complexity += abs(i - j) * ((p_a * differences[a] + p_b * differences[b])
                                        / (p_a + p_b))
            strength += (p_a + p_b) * squared_gap
    pairs = present.shape[0] * (present.shape[0] - 1)
    out[0] = 1.0 / weighted_total if weighted_total > 0 else HOMOGENEOUS_COARSENESS
    out[1] = spread / pairs * difference_total / n_valid if pairs > 0 else 0.0
    out[2] = weighted_total / gaps if gaps > 0 else 0.0
    out[3] = complexity / n_valid
    out[4] = strength / difference_total if difference_total > 0 else 0.0
    for a in present:
        counts[a] = 0.0
        differences[a] = 0.0

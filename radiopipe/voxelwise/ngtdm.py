"""NGTDM features of every kernel at once (pyradiomics' ``ngtdm``, voxel-based).

pyradiomics' C code takes, for each counted voxel of a centre's kernel, the mean grey level of
its 26 neighbours that lie in the same kernel cube and are counted; the voxel adds one to
:math:`n_i` of its level :math:`i` and the absolute difference between its level and that mean
to :math:`s_i` (0 when it has no such neighbour: it still counts in :math:`n_i`). A compiled loop
fills :math:`n_i, s_i` per centre over the grey levels present where the kernels count, and the
features are :mod:`radiopipe.features.ngtdm`'s own functions on the stack, a batch of centres at
a time to bound memory.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.ngtdm import FEATURE_NAMES, ToneDifferenceMatrix, ngtdm_features
from radiopipe.voxelwise.kernels import KernelInput

__all__ = ["FEATURE_NAMES", "ngtdm_maps"]

# Level pairs held at once: bounds a batch's memory to a few hundred MB over the features.
_BATCH_ENTRIES = 4_000_000


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
    grey_levels = kernels.grey_levels.astype(np.int64)
    lookup = np.full(int(kernels.levels.max()) + 1, -1, dtype=np.int64)
    lookup[grey_levels] = np.arange(len(grey_levels))
    index = np.where(kernels.counted, lookup[kernels.levels], -1).astype(np.int64)
    n_centres = len(kernels.centres)
    batch = max(1, _BATCH_ENTRIES // len(grey_levels) ** 2)
    out = {name: np.empty(n_centres) for name in names}
    for start in range(0, n_centres, batch):
        centres = kernels.centres[start:start + batch]
        counts = np.zeros((len(centres), len(grey_levels)))
        differences = np.zeros((len(centres), len(grey_levels)))
        _tone_differences(index, grey_levels, centres, offsets, kernels.radius, counts,
                          differences)
        matrix = ToneDifferenceMatrix(counts, differences, grey_levels.astype(np.float64))
        values = ngtdm_features(matrix)
        for name in names:
            out[name][start:start + len(centres)] = values[name]
    return out


@numba.njit(cache=True, nogil=True)
def _tone_differences(index, grey_levels, centres, offsets, radius, counts,
                      differences):  # pragma: no cover - compiled
    """``counts[c, i]`` and ``differences[c, i]``: :math:`n_i` and :math:`s_i` of kernel ``c``."""
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
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
                    counts[c, level] += 1.0
                    if n_neighbours > 0:
                        differences[c, level] += abs(grey_levels[level] - total / n_neighbours)

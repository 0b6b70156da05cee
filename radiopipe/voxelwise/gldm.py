"""GLDM features of every kernel at once (pyradiomics' ``gldm``, voxel-based).

pyradiomics' C code counts, for each counted voxel of a centre's kernel, its 26 neighbours that
lie in the same kernel cube, are counted and have the same grey level (``gldm_a = 0``); the voxel
adds one to the matrix entry of its level and of that count plus one (its dependence). A compiled
loop fills those matrices, a batch of centres at a time to bound memory; the matrices' rows are
the grey levels present where the kernels count, their columns the dependences 1..27, and the
features are :mod:`radiopipe.features.ngldm`'s own functions on the stack (pyradiomics' GLDM is
IBSI's NGLDM, see :mod:`radiopipe.features.gldm`). Every centre counts itself, so no kernel is
empty.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.gldm import FEATURE_NAMES
from radiopipe.features.ngldm import ngldm_features
from radiopipe.features.zones import LevelMatrix
from radiopipe.voxelwise.kernels import KernelInput

__all__ = ["FEATURE_NAMES", "gldm_maps"]

# Matrix entries held at once: bounds a batch's memory to a few hundred MB over the features.
_BATCH_ENTRIES = 4_000_000


def gldm_maps(kernels: KernelInput, names) -> dict:
    """GLDM features of every centre's kernel.

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
    n_values = len(offsets) + 1
    dependences = np.arange(1.0, n_values + 1.0)
    n_centres = len(kernels.centres)
    batch = max(1, _BATCH_ENTRIES // (len(grey_levels) * n_values))
    out = {name: np.empty(n_centres) for name in names}
    for start in range(0, n_centres, batch):
        centres = kernels.centres[start:start + batch]
        counts = np.zeros((len(centres), len(grey_levels), n_values))
        _count_dependences(index, centres, offsets, kernels.radius, counts)
        used = counts.any(axis=(0, 1))
        matrix = LevelMatrix(counts[:, :, used], grey_levels.astype(np.float64),
                             dependences[used], counts.sum(axis=(1, 2)))
        values = ngldm_features(matrix, mode="pyradiomics")
        for name in names:
            out[name][start:start + len(centres)] = values[name]
    return out


@numba.njit(cache=True, nogil=True)
def _count_dependences(index, centres, offsets, radius, counts):  # pragma: no cover - compiled
    """``counts[c, i, k]``: voxels of level ``i`` with ``k`` equal neighbours in kernel ``c``."""
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        for z in range(z0 - radius, z0 + radius + 1):
            for y in range(y0 - radius, y0 + radius + 1):
                for x in range(x0 - radius, x0 + radius + 1):
                    level = index[z, y, x]
                    if level < 0:
                        continue
                    dependence = 0
                    for d in range(offsets.shape[0]):
                        nz, ny, nx = z + offsets[d, 0], y + offsets[d, 1], x + offsets[d, 2]
                        if (abs(nz - z0) <= radius and abs(ny - y0) <= radius
                                and abs(nx - x0) <= radius and index[nz, ny, nx] == level):
                            dependence += 1
                    counts[c, level, dependence] += 1.0

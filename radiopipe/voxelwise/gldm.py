"""GLDM features of every kernel (pyradiomics' ``gldm``, voxel-based), over sparse matrices.

pyradiomics' C code counts, for each counted voxel of a centre's kernel, its 26 neighbours that
lie in the same kernel cube, are counted and have the same grey level (``gldm_a = 0``); the voxel
adds one to the matrix entry of its level and of that count plus one (its dependence). A compiled
loop fills each centre's matrix as its non-zero entries (at most one per kernel voxel) and sums
the features over them (:func:`radiopipe.voxelwise.sparse.level_matrix_features`, the formulas
of :mod:`radiopipe.features.ngldm`: pyradiomics' GLDM is IBSI's NGLDM, see
:mod:`radiopipe.features.gldm`). The rows are the grey levels present where the kernels count.
Every centre counts itself, so no kernel is empty.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features import ngldm
from radiopipe.features.directions import direction_offsets
from radiopipe.features.gldm import FEATURE_NAMES
from radiopipe.voxelwise.kernels import KernelInput
from radiopipe.voxelwise.sparse import (
    N_LEVEL_FEATURES,
    add_entry,
    level_matrix_features,
    level_scratch,
)

__all__ = ["FEATURE_NAMES", "gldm_maps"]


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
    values = np.empty((len(kernels.centres), N_LEVEL_FEATURES))
    _kernel_features(kernels.level_index(), kernels.grey_levels.astype(np.int64),
                     kernels.centres, offsets, kernels.radius, values)
    return {name: values[:, ngldm.FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(index, grey_levels, centres, offsets, radius,
                     out):  # pragma: no cover - compiled
    """``out[c]``: the NGLDM features of the dependence matrix of centre ``c``'s kernel."""
    counts, entry_row, entry_column, row_sums, rows, column_sums, columns = level_scratch(
        grey_levels.shape[0], offsets.shape[0] + 1)
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        n_entries = 0
        n_voxels = 0.0
        for z in range(z0 - radius, z0 + radius + 1):
            for y in range(y0 - radius, y0 + radius + 1):
                for x in range(x0 - radius, x0 + radius + 1):
                    level = index[z, y, x]
                    if level < 0:
                        continue
                    dependence = 1
                    for d in range(offsets.shape[0]):
                        nz, ny, nx = z + offsets[d, 0], y + offsets[d, 1], x + offsets[d, 2]
                        if (abs(nz - z0) <= radius and abs(ny - y0) <= radius
                                and abs(nx - x0) <= radius and index[nz, ny, nx] == level):
                            dependence += 1
                    n_entries = add_entry(counts, entry_row, entry_column, n_entries, level,
                                          dependence, 1.0)
                    n_voxels += 1.0
        level_matrix_features(counts, entry_row, entry_column, n_entries, grey_levels,
                              n_voxels, row_sums, rows, column_sums, columns, out[c])

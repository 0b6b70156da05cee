"""GLSZM features of every kernel (pyradiomics' ``glszm``, voxel-based), over sparse matrices.

pyradiomics' C code grows the zones of each centre inside the centre's kernel cube only: a zone
is a set of counted voxels of one grey level connected through their 26 neighbours *within the
cube*, so two voxels joined only through a path leaving the cube are two zones. A compiled flood
fill per centre counts the zones as the matrix's non-zero entries (at most one per kernel voxel)
and sums the features over them (:func:`radiopipe.voxelwise.sparse.level_matrix_features`, the
formulas of :mod:`radiopipe.features.glszm`; :math:`N_v` of the zone percentage is the kernel's
counted voxels). Every centre counts itself, so no kernel is empty.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.glszm import FEATURE_NAMES
from radiopipe.voxelwise.kernels import KernelInput
from radiopipe.voxelwise.sparse import (
    N_LEVEL_FEATURES,
    add_entry,
    level_matrix_features,
    level_scratch,
)

__all__ = ["FEATURE_NAMES", "glszm_maps"]


def glszm_maps(kernels: KernelInput, names) -> dict:
    """GLSZM features of every centre's kernel.

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
    values = np.empty((len(kernels.centres), N_LEVEL_FEATURES))
    _kernel_features(kernels.level_index(), kernels.grey_levels.astype(np.int64),
                     kernels.centres, np.concatenate([half, -half]), kernels.radius, values)
    return {name: values[:, FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(index, grey_levels, centres, offsets, radius,
                     out):  # pragma: no cover - compiled
    """``out[c]``: the size zone features of centre ``c``'s kernel."""
    side = 2 * radius + 1
    n_cube = side**3
    counts, entry_row, entry_column, row_sums, rows, column_sums, columns = level_scratch(
        grey_levels.shape[0], n_cube)
    zoned = np.zeros((side, side, side), dtype=np.bool_)
    stack = np.empty((n_cube, 3), dtype=np.int64)
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0] - radius, centres[c, 1] - radius, centres[c, 2] - radius
        zoned[:] = False
        n_entries = 0
        n_voxels = 0.0
        for z in range(side):
            for y in range(side):
                for x in range(side):
                    level = index[z0 + z, y0 + y, x0 + x]
                    if level < 0 or zoned[z, y, x]:
                        continue
                    zoned[z, y, x] = True
                    stack[0, 0], stack[0, 1], stack[0, 2] = z, y, x
                    top = 1
                    size = 0
                    while top > 0:
                        top -= 1
                        vz, vy, vx = stack[top, 0], stack[top, 1], stack[top, 2]
                        size += 1
                        for d in range(offsets.shape[0]):
                            nz, ny, nx = vz + offsets[d, 0], vy + offsets[d, 1], vx + offsets[d, 2]
                            if (0 <= nz < side and 0 <= ny < side and 0 <= nx < side
                                    and not zoned[nz, ny, nx]
                                    and index[z0 + nz, y0 + ny, x0 + nx] == level):
                                zoned[nz, ny, nx] = True
                                stack[top, 0], stack[top, 1], stack[top, 2] = nz, ny, nx
                                top += 1
                    n_entries = add_entry(counts, entry_row, entry_column, n_entries, level,
                                          size, 1.0)
                    n_voxels += size
        level_matrix_features(counts, entry_row, entry_column, n_entries, grey_levels,
                              n_voxels, row_sums, rows, column_sums, columns, out[c])

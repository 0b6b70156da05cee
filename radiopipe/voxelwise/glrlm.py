"""GLRLM features of every kernel (pyradiomics' ``glrlm``, voxel-based), over sparse matrices.

pyradiomics' C code runs, for each centre, along each of the 13 directions inside the centre's
kernel cube only: a run is a maximal line of consecutive counted voxels of one grey level that
the cube does not cut, so a run leaving the cube ends at its face. A compiled loop counts each
direction's runs as the matrix's non-zero entries (at most one per kernel voxel) and sums the
features over them (:func:`radiopipe.voxelwise.sparse.level_matrix_features`, the formulas of
:mod:`radiopipe.features.glrlm`; :math:`N_v` of the run percentage is the kernel's counted
voxels, each on one run per direction). pyradiomics drops a direction in which no line through
the cube holds two counted voxels (its matrix holds runs of one voxel only, as in a 2D ROI seen
across its plane); each feature is the mean over the other directions, as pyradiomics' default
``3D_avg`` (NaN when none is left: a counted voxel with no counted voxel in any direction).
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.glrlm import FEATURE_NAMES
from radiopipe.voxelwise.kernels import KernelInput
from radiopipe.voxelwise.sparse import (
    N_LEVEL_FEATURES,
    add_entry,
    level_matrix_features,
    level_scratch,
)

__all__ = ["FEATURE_NAMES", "glrlm_maps"]


def glrlm_maps(kernels: KernelInput, names) -> dict:
    """GLRLM features of every centre's kernel.

    Parameters
    ----------
    kernels : KernelInput
    names : collection of str
        Features wanted (:data:`FEATURE_NAMES`).

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_centres,)
    """
    values = np.empty((len(kernels.centres), N_LEVEL_FEATURES))
    _kernel_features(kernels.level_index(), kernels.grey_levels.astype(np.int64),
                     kernels.centres, direction_offsets(1), kernels.radius, values)
    return {name: values[:, FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(index, grey_levels, centres, offsets, radius,
                     out):  # pragma: no cover - compiled
    """``out[c]``: the run length features of centre ``c``'s kernel, averaged over directions.

    Each centre's cube of level indices is copied once into a small array that every
    direction's runs then read.
    """
    side = 2 * radius + 1
    counts, entry_row, entry_column, row_sums, rows, column_sums, columns = level_scratch(
        grey_levels.shape[0], side)
    features = np.empty(out.shape[1])
    cube = np.empty((side, side, side), dtype=np.int64)
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0] - radius, centres[c, 1] - radius, centres[c, 2] - radius
        out[c, :] = 0.0
        n_voxels = 0.0
        for z in range(side):
            for y in range(side):
                for x in range(side):
                    cube[z, y, x] = index[z0 + z, y0 + y, x0 + x]
                    if cube[z, y, x] >= 0:
                        n_voxels += 1.0
        n_directions = 0
        for d in range(offsets.shape[0]):
            dz, dy, dx = offsets[d, 0], offsets[d, 1], offsets[d, 2]
            n_entries = 0
            lined = False  # whether a line along the direction holds two counted voxels
            for z in range(side):
                for y in range(side):
                    for x in range(side):
                        level = cube[z, y, x]
                        if level < 0:
                            continue
                        step = 1
                        while not lined and _in_cube(z + step * dz, y + step * dy,
                                                     x + step * dx, side):
                            lined = cube[z + step * dz, y + step * dy, x + step * dx] >= 0
                            step += 1
                        if (_in_cube(z - dz, y - dy, x - dx, side)
                                and cube[z - dz, y - dy, x - dx] == level):
                            continue  # not a run's first voxel
                        length = 1
                        while (_in_cube(z + length * dz, y + length * dy, x + length * dx, side)
                               and cube[z + length * dz, y + length * dy,
                                        x + length * dx] == level):
                            length += 1
                        n_entries = add_entry(counts, entry_row, entry_column, n_entries,
                                              level, length, 1.0)
            level_matrix_features(counts, entry_row, entry_column, n_entries, grey_levels,
                                  n_voxels, row_sums, rows, column_sums, columns, features)
            if lined:
                n_directions += 1
                for k in range(out.shape[1]):
                    out[c, k] += features[k]
        for k in range(out.shape[1]):
            out[c, k] = out[c, k] / n_directions if n_directions > 0 else np.nan


@numba.njit(cache=True, nogil=True, inline="always")
def _in_cube(z, y, x, side):  # pragma: no cover - compiled
    """Whether ``(z, y, x)`` lies in a cube of ``side`` voxels indexed from 0."""
    return 0 <= z < side and 0 <= y < side and 0 <= x < side

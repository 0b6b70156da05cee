"""GLCM features of every kernel at once (pyradiomics' ``glcm``, voxel-based).

For each centre and each of the 13 directions (pyradiomics' angles at ``distance``), a compiled
loop counts the pairs ``(a, a + d)`` whose two voxels both lie in the centre's kernel and are
both counted (pyradiomics' C code counts the same pairs). The matrices keep a row and a column
per grey level present where the kernels count (pyradiomics deletes the levels absent from the
whole ROI, not per kernel), are symmetrised and normalised per direction; a direction without a
pair gives no matrix, and each feature is the mean over the centre's other directions (NaN when
it has none: a kernel whose counted voxels have no counted neighbour). The features are
:mod:`radiopipe.features.glcm`'s own functions, run on stacks of matrices, a batch of centres at
a time to bound memory.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.features.glcm import FEATURES, cooccurrence_statistics
from radiopipe.voxelwise.kernels import KernelInput

FEATURE_NAMES = tuple(FEATURES)
# Matrix entries held at once: bounds a batch's memory to about 1 GB over the statistics.
_BATCH_ENTRIES = 4_000_000


def glcm_maps(kernels: KernelInput, names, *, distance: int = 1, symmetric: bool = True) -> dict:
    """GLCM features of every centre's kernel.

    Parameters
    ----------
    kernels : KernelInput
    names : collection of str
        Features wanted (:data:`FEATURE_NAMES`).
    distance : int
        pyradiomics' ``distances=[distance]``.
    symmetric : bool
        pyradiomics' ``symmetricalGLCM``.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_centres,)
    """
    offsets = direction_offsets(distance)
    n_grey = len(kernels.grey_levels)
    lookup = np.full(int(kernels.levels.max()) + 1, -1, dtype=np.int64)
    lookup[kernels.grey_levels] = np.arange(n_grey)
    index = np.where(kernels.counted, lookup[kernels.levels], -1).astype(np.int64)
    n_centres = len(kernels.centres)
    batch = max(1, _BATCH_ENTRIES // (len(offsets) * n_grey * n_grey))
    out = {name: np.empty(n_centres) for name in names}
    for start in range(0, n_centres, batch):
        centres = kernels.centres[start:start + batch]
        counts = np.zeros((len(centres), len(offsets), n_grey, n_grey))
        _count_pairs(index, centres, offsets, kernels.radius, counts)
        values = _features(counts, kernels.grey_levels.astype(np.float64), names, symmetric)
        for name in names:
            out[name][start:start + len(centres)] = values[name]
    return out


def _features(counts, grey_levels, names, symmetric: bool) -> dict:
    """Mean of each feature over the non-empty directions of each centre."""
    if symmetric:
        counts = counts + np.swapaxes(counts, 2, 3)
    n_centres, n_directions = counts.shape[:2]
    flat = counts.reshape(n_centres * n_directions, *counts.shape[2:])
    totals = flat.sum(axis=(1, 2))
    present = totals > 0
    shared = cooccurrence_statistics(flat[present] / totals[present, None, None], grey_levels)
    per_direction = np.full(n_centres * n_directions, np.nan)
    result = {}
    n_present = present.reshape(n_centres, n_directions).sum(axis=1)
    for name in names:
        per_direction[present] = np.broadcast_to(FEATURES[name](shared), (int(present.sum()),))
        table = per_direction.reshape(n_centres, n_directions)
        total = np.where(np.isnan(table), 0.0, table).sum(axis=1)
        result[name] = np.where(n_present > 0, total / np.maximum(n_present, 1), np.nan)
    return result


@numba.njit(cache=True, nogil=True)
def _count_pairs(index, centres, offsets, radius, counts):  # pragma: no cover - compiled
    """``counts[c, d, i, j]``: level pairs ``(i, j)`` at offset ``d`` in centre ``c``'s kernel."""
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        for d in range(offsets.shape[0]):
            dz, dy, dx = offsets[d, 0], offsets[d, 1], offsets[d, 2]
            for z in range(max(z0 - radius, z0 - radius - dz),
                           min(z0 + radius, z0 + radius - dz) + 1):
                for y in range(max(y0 - radius, y0 - radius - dy),
                               min(y0 + radius, y0 + radius - dy) + 1):
                    for x in range(max(x0 - radius, x0 - radius - dx),
                                   min(x0 + radius, x0 + radius - dx) + 1):
                        i = index[z, y, x]
                        if i < 0:
                            continue
                        j = index[z + dz, y + dy, x + dx]
                        if j >= 0:
                            counts[c, d, i, j] += 1.0

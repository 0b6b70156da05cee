"""The grey level co-occurrence matrices (GLCM; IBSI section 3.6) of a discretised ROI.

`cooccurrence_counts` counts grey-level pairs per slice and direction in one compiled loop over
the ROI's box (the batched GPU path runs the same loop, `_count_pairs`, on its packed lattice);
`glcm_matrices` symmetrises, merges them as the aggregation asks and normalises them. The
features are in `radiopipe.features.glcm`.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import (
    DirectionalInput,
    aggregation_offsets,
    direction_lengths,
    directional_matrices,
    flat_steps,
    per_slice,
)
from radiopipe.xp import get_namespace


def cooccurrence_counts(levels, n_grey: int, offsets: np.ndarray, slice_wise: bool):
    """Count grey-level pairs ``(levels[v], levels[v + offset])`` over the ROI.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey-level indices ``1..n_grey`` inside the ROI, 0 outside.
    n_grey : int
        Size of the matrix axis.
    offsets : ndarray of int, shape (n_directions, 3)
        Offsets ``(dz, dy, dx)``; a pair counts when both voxels lie in the ROI.
    slice_wise : bool
        One matrix per slice (pairs must then be in-plane) instead of one for the volume.

    Returns
    -------
    ndarray of float64, shape (n_slices, n_directions, n_grey, n_grey)
        ``counts[s, d, i - 1, j - 1]``: pairs with index ``i`` at the voxel and ``j`` at its
        neighbour (not symmetrised); ``n_slices`` is 1 unless ``slice_wise``.

    Notes
    -----
    One compiled loop visits every (ROI voxel, direction) pair once (the batched GPU path runs
    the same loop on its packed lattice, and a CUDA kernel with one thread per pair on the
    device).

    Examples
    --------
    >>> levels = np.array([[[1, 2, 2]]])
    >>> cooccurrence_counts(levels, 2, np.array([[0, 0, 1]]), False)[0, 0].tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    """
    levels = np.asarray(levels)
    n_groups = levels.shape[0] if slice_wise else 1
    counts = np.zeros((n_groups, len(offsets), n_grey, n_grey))
    if len(offsets) == 0:
        return counts
    padding = int(np.abs(offsets).max())
    padded = np.pad(levels.astype(np.int32, copy=False), padding)
    _, n_y, n_x = padded.shape
    steps = flat_steps(offsets, (n_y * n_x, n_x, 1))
    _count_pairs_in_box(padded.reshape(-1), steps, n_y * n_x, padding, slice_wise, counts)
    return counts


@numba.njit(cache=True, nogil=True)
def _count_pairs(values, roi, groups, steps, counts):  # pragma: no cover - compiled
    """``counts[g, d, i - 1, j - 1] += 1`` for each ROI voxel of level i, group g, whose
    neighbour along direction d has level j > 0 (``values``: flat padded levels; ``counts``
    C-contiguous).

    Flat unsigned indices (a negative step wraps to the same sum) spare Numba its
    negative-index tests: 1.25x faster than the four-index loop on a 140k-voxel ROI.
    """
    n_directions, n_grey = steps.shape[0], counts.shape[2]
    per_direction = n_grey * n_grey
    flat = counts.reshape(-1)
    for n in range(roi.shape[0]):
        voxel = np.uint64(roi[n])
        row = (groups[n] * n_directions * per_direction + (values[voxel] - 1) * n_grey) - 1
        for direction in range(n_directions):
            neighbour = values[voxel + np.uint64(steps[direction])]
            if neighbour > 0:
                flat[np.uint64(row + direction * per_direction + neighbour)] += 1.0


@numba.njit(cache=True, nogil=True)
def _count_pairs_in_box(values, steps, plane, padding, slice_wise, counts):  # pragma: no cover
    """`_count_pairs` of every ROI voxel of a padded box (``values``: its levels, flattened;
    ``plane``: the size of one padded slice; ``padding``: its width), the group of a voxel its
    slice when ``slice_wise``.

    The box is walked slice by slice, voxels outside the ROI skipped, instead of building a list
    of the ROI voxels and their slices first.
    """
    n_directions, n_grey = steps.shape[0], counts.shape[2]
    per_direction = n_grey * n_grey
    flat = counts.reshape(-1)
    for z in range(padding, values.size // plane - padding):
        group = z - padding if slice_wise else 0
        for p in range(plane):
            voxel = np.uint64(z * plane + p)
            level = values[voxel]
            if level == 0:
                continue
            row = (group * n_directions * per_direction + (level - 1) * n_grey) - 1
            for direction in range(n_directions):
                neighbour = values[voxel + np.uint64(steps[direction])]
                if neighbour > 0:
                    flat[np.uint64(row + direction * per_direction + neighbour)] += 1.0


def glcm_matrices(
    prepared: DirectionalInput,
    *,
    distance: int | tuple[int, ...] = 1,
    symmetric: bool = True,
    weighting: str | None = None,
    spacing=(1.0, 1.0, 1.0),
):
    """Normalised GLCMs of an aggregation, one per slice and/or direction as it asks.

    Parameters
    ----------
    prepared : DirectionalInput
        From `radiopipe.features.directions.prepare_directional_input`.
    distance : int or tuple of int
        Chebyshev distance between paired voxels; a tuple pairs voxels at each of its
        distances, every offset a direction of its own (pyradiomics' ``distances``).
    symmetric : bool
        Count each pair in both orders (:math:`P + P^T`), as IBSI and pyradiomics do by default.
    weighting : {'manhattan', 'euclidean', 'infinity'}, optional
        Weight each direction's matrix by :math:`e^{-d^2}`, ``d`` its offset's length in mm by
        that norm, when a ``'_comb'`` aggregation merges them (pyradiomics' ``weightingNorm``).
    spacing : sequence of float
        Voxel size ``(z, y, x)`` in mm, for ``weighting``.

    Returns
    -------
    array of float64, shape (n_matrices, n_grey, n_grey)
        Non-empty matrices, each summing to 1.
    """
    xp = get_namespace(prepared.levels)
    offsets = aggregation_offsets(prepared.aggregation, prepared.levels.shape, distance)
    counts = cooccurrence_counts(
        prepared.levels, len(prepared.grey_levels), offsets, per_slice(prepared.aggregation)
    )
    if symmetric:
        counts = counts + xp.swapaxes(counts, -1, -2)
    weights = None
    if weighting is not None:
        weights = np.exp(-direction_lengths(offsets, spacing, weighting) ** 2)
    matrices = directional_matrices(counts, prepared.aggregation, weights)
    return matrices / xp.sum(matrices, axis=(1, 2), keepdims=True)

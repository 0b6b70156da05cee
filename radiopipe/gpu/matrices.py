"""Raw texture-matrix ingredients of a packed batch: pair counts, runs, zones, neighbourhoods.

Each function takes a `radiopipe.gpu.packing.PackedBatch` and returns arrays of its namespace.
On CuPy arrays it launches one kernel of `radiopipe.gpu.kernels` for the whole batch; on NumPy
arrays it runs the native engine's own Numba kernels on the same lattice, which is what lets
the CPU tests check the batched bookkeeping against the native per-ROI functions.
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.cooccurrence import _count_pairs
from radiopipe.features.gldzm import edge_distance
from radiopipe.features.glrlm import _count_runs
from radiopipe.features.neighbourhood import chebyshev_offsets, neighbour_kernel
from radiopipe.features.zones import flood_fill_zones
from radiopipe.gpu.kernels import i32, i64, launch
from radiopipe.gpu.packing import MatrixIndex, PackedBatch
from radiopipe.xp import get_namespace

_FACE_OFFSETS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.int64
)
_LARGEST_DISTANCE = 1 << 29


def _on_device(batch: PackedBatch) -> bool:
    return get_namespace(batch.levels) is not np


def pair_counts(batch: PackedBatch, offsets: np.ndarray, index: MatrixIndex, n_grey: int):
    """GLCM counts ``(n_matrices, n_directions, n_grey, n_grey)`` (not symmetrised), float64.

    ``counts[m, d, a - 1, b - 1]`` counts the ROI voxels of matrix ``m`` with level ``a`` whose
    neighbour at ``offsets[d]`` lies in the same ROI with level ``b``.
    """
    xp = get_namespace(batch.levels)
    n_directions = len(offsets)
    shape = (index.n_matrices, n_directions, n_grey, n_grey)
    steps = batch.steps(offsets)
    n_voxels = batch.voxels.shape[0]
    if _on_device(batch):
        counts = xp.zeros(shape, dtype=xp.uint32)
        launch(
            "pair_counts",
            n_voxels * n_directions,
            (batch.levels, batch.voxels, index.voxel_matrix, steps, i64(n_voxels),
             i32(n_directions), i32(n_grey), counts),
        )
        return counts.astype(xp.float64)
    counts = np.zeros(shape, dtype=np.float64)
    _count_pairs(batch.levels.astype(np.int64), batch.voxels, index.voxel_matrix, steps, counts)
    return counts


def run_counts(
    batch: PackedBatch, offsets: np.ndarray, index: MatrixIndex, n_grey: int, max_length: int
):
    """GLRLM counts ``(n_matrices, n_directions, n_grey, max_length)``, float64.

    ``counts[m, d, a - 1, l - 1]`` counts the runs of level ``a`` and length ``l`` along
    ``offsets[d]`` that start in matrix ``m``.
    """
    xp = get_namespace(batch.levels)
    n_directions = len(offsets)
    shape = (index.n_matrices, n_directions, n_grey, max_length)
    steps = batch.steps(offsets)
    n_voxels = batch.voxels.shape[0]
    if _on_device(batch):
        counts = xp.zeros(shape, dtype=xp.uint32)
        launch(
            "run_lengths",
            n_voxels * n_directions,
            (batch.levels, batch.voxels, index.voxel_matrix, steps, i64(n_voxels),
             i32(n_directions), i32(n_grey), i32(max_length), counts),
        )
        return counts.astype(xp.float64)
    counts = np.zeros(shape, dtype=np.int64)
    _count_runs(batch.levels.astype(np.int64), batch.voxels, steps, index.voxel_matrix, counts)
    return counts.astype(np.float64)


def zone_ids(batch: PackedBatch, *, in_plane_only: bool):
    """An id per ROI voxel, equal for two voxels exactly when they lie in the same zone.

    Zones are connected sets of voxels of one grey level, connected through their 26 (3D) or 8
    in-plane Chebyshev neighbours, as in the native GLSZM.
    """
    xp = get_namespace(batch.levels)
    neighbours = chebyshev_offsets(1, in_plane_only)
    n_voxels = batch.voxels.shape[0]
    if not _on_device(batch):
        steps = batch.steps(neighbours)
        return flood_fill_zones(batch.levels.astype(np.int64), batch.voxels, steps)
    if batch.levels.shape[0] >= np.iinfo(np.int32).max:
        raise ValueError("A packed batch for zone labelling must hold fewer than 2**31 voxels.")
    # The union is symmetric, so the first half of the neighbourhood (the offsets after the
    # centre in C order) reaches every pair of neighbours once.
    forward = neighbours[len(neighbours) // 2 :]
    steps = batch.steps(forward)
    parent = xp.empty(batch.levels.shape[0], dtype=xp.int32)
    roots = xp.empty(n_voxels, dtype=xp.int32)
    launch("zone_init", n_voxels, (batch.voxels, i64(n_voxels), parent))
    launch(
        "zone_merge",
        n_voxels * len(forward),
        (batch.levels, batch.voxels, steps, i64(n_voxels), i32(len(forward)), parent),
    )
    launch("zone_roots", n_voxels, (batch.voxels, i64(n_voxels), parent, roots))
    return roots


def edge_distances(batch: PackedBatch, *, in_plane_only: bool):
    """City-block distance of every ROI voxel to the outside of its ROI (1 on the edge).

    Steps join face neighbours (6 in 3D, 4 in-plane), as the native GLDZM measures them; the
    empty padding around each box makes the box border an edge.
    """
    xp = get_namespace(batch.levels)
    if not _on_device(batch):
        mask = (batch.levels > 0).reshape(batch.shape)
        return edge_distance(mask, in_plane_only=in_plane_only).reshape(-1)[batch.voxels]
    faces = _FACE_OFFSETS[2:] if in_plane_only else _FACE_OFFSETS
    steps = batch.steps(faces)
    n_voxels = batch.voxels.shape[0]
    distance = xp.zeros(batch.levels.shape[0], dtype=xp.int32)
    distance[batch.voxels] = _LARGEST_DISTANCE
    changed = xp.zeros(1, dtype=xp.int32)
    # Each sweep settles at least one more layer; no distance exceeds half the largest box side.
    for _ in range(int(batch.box_shapes.max()) + 1):
        changed.fill(0)
        launch(
            "edge_distance_sweep",
            n_voxels,
            (batch.voxels, steps, i64(n_voxels), i32(len(faces)), distance, changed),
        )
        if not int(changed[0]):
            break
    return distance[batch.voxels]


def neighbourhood_statistics(
    batch: PackedBatch, *, distance: int, in_plane_only: bool, alpha: float
):
    """Per ROI voxel: sum and number of its ROI neighbours, and its dependence count.

    Neighbours lie within Chebyshev ``distance`` (in-plane only for 2D and 2.5D); the dependence
    count is 1 + the neighbours whose level differs by at most ``alpha``.

    Returns
    -------
    neighbour_sum : array of float64, shape (n_voxels,)
    neighbour_count : array of float64, shape (n_voxels,)
    dependence : array of int64, shape (n_voxels,)
    """
    xp = get_namespace(batch.levels)
    offsets = chebyshev_offsets(distance, in_plane_only)
    steps = batch.steps(offsets)
    n_voxels = batch.voxels.shape[0]
    if not _on_device(batch):
        values = batch.levels.astype(np.int64)
        dependence, total, count = neighbour_kernel(values, batch.voxels, steps, float(alpha))
        return total, count, dependence
    total = xp.empty(n_voxels, dtype=xp.float64)
    count = xp.empty(n_voxels, dtype=xp.int32)
    dependence = xp.empty(n_voxels, dtype=xp.int32)
    launch(
        "neighbourhood",
        n_voxels,
        (batch.levels, batch.voxels, steps, i64(n_voxels), i32(len(offsets)),
         np.float64(alpha), total, count, dependence),
    )
    return total, count.astype(xp.float64), dependence.astype(xp.int64)

r"""The *grey level x count* matrices that GLSZM, GLDZM, NGLDM and GLDM share.

IBSI gives these matrices the same feature formulas. This module holds their container
(:class:`LevelMatrix`), its construction from per-event grey levels and column values, the zone
labelling GLSZM and GLDZM both start from (:func:`label_zones`, :func:`zone_table`) and the
shared formulas. With :math:`N_s = \sum_{ij} P_{ij}` events (zones, or voxels for the NGLDM),
:math:`p_{ij} = P_{ij}/N_s`, :math:`i` the grey level and :math:`j` the column value (zone size,
zone distance or dependence count).

Examples
--------
>>> levels = np.array([[[1, 1, 2], [2, 2, 2]]])
>>> zone_group, zone_level, zone_size, voxel_zone = zone_table(levels, levels > 0, "3D")
>>> zone_level.tolist(), zone_size.tolist()
([1, 2], [2, 4])
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from radiopipe.features.neighbourhood import in_plane, neighbourhood_lattice, slice_groups
from radiopipe.xp import get_namespace

# pyradiomics adds machine epsilon inside the logarithm of its entropies: log2(p + eps).
PYRADIOMICS_EPS = float(np.spacing(1))


class LevelMatrix(NamedTuple):
    """A stack of grey level x count matrices, one per group (slice for ``'2D'``).

    Attributes
    ----------
    counts : ndarray of float64, shape (n_groups, n_levels, n_values)
        :math:`P_{ij}` for every group.
    grey_levels : ndarray of float64, shape (n_levels,)
        Row values :math:`i = 1..n_levels`.
    values : ndarray of float64, shape (n_values,)
        Column values :math:`j` (the distinct zone sizes, distances or dependence counts that
        occur); columns that would stay empty in every group are not stored.
    n_voxels : ndarray of float64, shape (n_groups,)
        ROI voxels behind each matrix :math:`N_v`.
    """

    counts: np.ndarray
    grey_levels: np.ndarray
    values: np.ndarray
    n_voxels: np.ndarray


def level_matrix(groups, grey, values, *, n_groups: int, n_levels: int, n_voxels) -> LevelMatrix:
    """Count events by group, grey level and column value.

    Parameters
    ----------
    groups, grey, values : ndarray of int, shape (n_events,)
        Group (0..n_groups-1), grey level (1..n_levels) and column value of every event.
    n_groups, n_levels : int
    n_voxels : array, shape (n_groups,)
        ROI voxels per group.
    """
    distinct, column = distinct_values(values)
    flat = (groups * n_levels + (grey - 1)) * len(distinct) + column
    counts = np.bincount(flat, minlength=n_groups * n_levels * len(distinct))
    return LevelMatrix(
        counts.reshape(n_groups, n_levels, len(distinct)).astype(np.float64),
        np.arange(1, n_levels + 1, dtype=np.float64),
        distinct.astype(np.float64),
        np.asarray(n_voxels, dtype=np.float64),
    )


def distinct_values(values) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of a 1D integer array, flattened.

    Non-negative values no larger than a few times their count (zone sizes, dependence counts,
    distances) are counted with ``bincount`` instead of sorted: the same result, several times
    faster on large ROIs.

    Examples
    --------
    >>> [a.tolist() for a in distinct_values(np.array([5, 2, 5, 0]))]
    [[0, 2, 5], [2, 1, 2, 0]]
    """
    values = np.asarray(values).reshape(-1)
    if (
        values.size == 0
        or values.dtype.kind not in "iu"
        or values.min() < 0
        or values.max() > 4 * values.size + 1024
    ):
        distinct, column = np.unique(values, return_inverse=True)
        return distinct, column.reshape(-1)
    present = np.bincount(values) > 0
    distinct = np.flatnonzero(present).astype(values.dtype, copy=False)
    column = (np.cumsum(present) - 1)[values]
    return distinct, column


@numba.njit(cache=True, nogil=True)
def flood_fill_zones(values, roi, steps):  # pragma: no cover - compiled by Numba
    """Zone index of each ROI voxel by depth-first flood fill over equal-valued neighbours."""
    zone = np.full(values.size, -1, dtype=np.int64)
    stack = np.empty(roi.size, dtype=np.int64)
    n_zones = 0
    for start in roi:
        if zone[start] >= 0:
            continue
        level = values[start]
        zone[start] = n_zones
        stack[0] = start
        top = 1
        while top > 0:
            top -= 1
            voxel = stack[top]
            for k in range(steps.size):
                neighbour = voxel + steps[k]
                if values[neighbour] == level and zone[neighbour] < 0:
                    zone[neighbour] = n_zones
                    stack[top] = neighbour
                    top += 1
        n_zones += 1
    return zone[roi]


def earlier_rows(lattice) -> tuple[np.ndarray, int]:
    """The rows `union_find_runs` reads before a run: positive flat distances back from a voxel
    to the voxel of each earlier row of its neighbourhood straight above or behind it (``dx = 0``),
    and how far the neighbourhood reaches along x (0 when the lattice keeps no x offset).
    """
    earlier = lattice.steps < 0
    row_steps = lattice.steps - lattice.offsets[:, 2]
    rows = np.unique(-row_steps[earlier & (row_steps < 0)])
    reach = int(np.abs(lattice.offsets[:, 2]).max()) if len(lattice.offsets) else 0
    return rows.astype(np.int64), reach


@numba.njit(cache=True, nogil=True)
def union_find_runs(values, roi, rows, reach):  # pragma: no cover - compiled by Numba
    """`flood_fill_zones` of ROI voxels ``roi`` in increasing order, by union-find over runs.

    With an x reach of 1, consecutive voxels of one level along x form a run, one zone already;
    each run is joined to the runs of its level that touch it in the earlier ``rows``
    (`earlier_rows`), read from one voxel before the run to one after it, each touching run
    once (the scan jumps past its end). A zone's root is its first run, so the runs, then the
    voxels, are numbered in order of first voxel, as the flood fill does. With no x reach every
    run is one voxel. Finds and joins once per touching run instead of once per equal
    neighbour voxel: 1.3x faster than joining voxels on a 140k-voxel ROI.
    """
    n_voxels = roi.size
    run_of = np.empty(values.size, dtype=np.int64)
    run_last = np.empty(n_voxels, dtype=np.int64)
    run_start = np.empty(n_voxels + 1, dtype=np.int64)
    parent = np.empty(n_voxels, dtype=np.int64)
    n_runs = 0
    index = 0
    while index < n_voxels:
        first = roi[index]
        level = values[np.uint64(first)]
        last = first
        while reach > 0 and values[np.uint64(last + 1)] == level:
            last += 1
        run = n_runs
        n_runs += 1
        run_start[run] = index
        run_last[run] = last
        for voxel in range(first, last + 1):
            run_of[np.uint64(voxel)] = run
        index += last - first + 1
        root = run
        for row in rows:
            voxel = first - reach - row
            end = last + reach - row
            while voxel <= end:
                if values[np.uint64(voxel)] != level:
                    voxel += 1
                    continue
                touching = run_of[np.uint64(voxel)]
                voxel = run_last[touching] + 2  # the voxel after a run's end is not of its level
                other = _find_root(parent, touching)
                if other < root:
                    if root != run:
                        parent[root] = other
                    root = other
                elif other > root:
                    parent[other] = root
        parent[run] = root
    run_start[n_runs] = n_voxels
    zone = np.empty(n_voxels, dtype=np.int64)
    zone_of_run = np.empty(n_runs, dtype=np.int64)
    n_zones = 0
    for run in range(n_runs):
        root = _find_root(parent, run)
        if root == run:
            zone_of_run[run] = n_zones
            n_zones += 1
        else:
            zone_of_run[run] = zone_of_run[root]
        zone[run_start[run]:run_start[run + 1]] = zone_of_run[run]
    return zone


@numba.njit(cache=True, nogil=True)
def _find_root(parent, node):  # pragma: no cover - compiled by Numba
    """Root of ``node``'s tree, halving the path on the way (roots point to themselves)."""
    while True:
        up = parent[node]
        if up == node:
            return node
        parent[node] = parent[up]
        node = up


def label_zones(levels: np.ndarray, *, in_plane_only: bool, memo: dict | None = None) -> np.ndarray:
    """Zone index of every ROI voxel (C order).

    A zone is a connected set of voxels sharing one grey level, connected through their
    Chebyshev neighbours (26 in 3D, 8 in-plane). Labelling is a loop that cannot be vectorised,
    so it runs as a Numba kernel over a `FlatLattice` (`union_find_runs`).

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels >= 1 inside the ROI, 0 outside.
    in_plane_only : bool
        Join in-plane neighbours only (2D and 2.5D zones).
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): the lattice of its other
        distance-1 neighbourhood families.

    Returns
    -------
    ndarray of int64, shape (n_voxels,)
        Zone index 0..n_zones-1 of each ROI voxel, numbered in order of first voxel.
    """
    lattice = neighbourhood_lattice(levels, 1, in_plane_only, memo)
    return union_find_runs(lattice.values, lattice.roi, *earlier_rows(lattice))


def zone_table(
    levels, mask, aggregation, *, memo: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-zone group, grey level and size, and each voxel's zone (``memo``: see
    :func:`label_zones`).

    Returns
    -------
    zone_group, zone_level, zone_size : ndarray of int, shape (n_zones,)
    voxel_zone : ndarray of int, shape (n_voxels,)
    """
    voxel_zone = label_zones(levels, in_plane_only=in_plane(aggregation), memo=memo)
    voxel_group, _ = slice_groups(mask, aggregation)
    zone_size = np.bincount(voxel_zone)
    zone_level = np.zeros(len(zone_size), dtype=np.int64)
    zone_level[voxel_zone] = levels[mask]
    zone_group = np.zeros(len(zone_size), dtype=np.int64)
    zone_group[voxel_zone] = voxel_group
    return zone_group, zone_level, zone_size, voxel_zone

def emphasis(counts, grey_levels, values, grey_power: int, value_power: int):
    r"""Mean of :math:`i^a j^b` over the events: all eight *emphasis* features.

    .. math:: F = \frac{1}{N_s} \sum_{i,j} P_{ij}\, i^a\, j^b

    e.g. small zone emphasis is ``(a, b) = (0, -2)``, high grey level zone emphasis ``(2, 0)``.

    Parameters
    ----------
    counts : array, shape (..., n_levels, n_values)
    grey_levels : array, shape (n_levels,)
    values : array, shape (n_values,)
    grey_power, value_power : int
        Exponents :math:`a` and :math:`b`.

    Returns
    -------
    array, shape (...)
    """
    xp = get_namespace(counts)
    weights = grey_levels[:, None] ** float(grey_power) * values[None, :] ** float(value_power)
    return xp.sum(counts * weights, axis=(-2, -1)) / xp.sum(counts, axis=(-2, -1))


def grey_level_non_uniformity(counts, *, normalised: bool):
    r"""Grey level non-uniformity :math:`\sum_i (\sum_j P_{ij})^2 / N_s` (divided by
    :math:`N_s^2` when ``normalised``)."""
    xp = get_namespace(counts)
    n_events = xp.sum(counts, axis=(-2, -1))
    squares = xp.sum(xp.sum(counts, axis=-1) ** 2, axis=-1)
    return squares / (n_events**2 if normalised else n_events)


def value_non_uniformity(counts, *, normalised: bool):
    r"""Column (zone size, distance, dependence) non-uniformity
    :math:`\sum_j (\sum_i P_{ij})^2 / N_s` (divided by :math:`N_s^2` when ``normalised``)."""
    xp = get_namespace(counts)
    n_events = xp.sum(counts, axis=(-2, -1))
    squares = xp.sum(xp.sum(counts, axis=-2) ** 2, axis=-1)
    return squares / (n_events**2 if normalised else n_events)


def percentage(counts, n_voxels):
    r"""Events per ROI voxel :math:`N_s / N_v` (zone percentage, dependence count percentage)."""
    xp = get_namespace(counts)
    return xp.sum(counts, axis=(-2, -1)) / n_voxels


def grey_level_variance(counts, grey_levels):
    r"""Grey level variance :math:`\sum_{ij} p_{ij} (i - \mu)^2`,
    :math:`\mu = \sum_{ij} p_{ij} i`."""
    xp = get_namespace(counts)
    row_probability = xp.sum(counts, axis=-1) / xp.sum(counts, axis=(-2, -1))[..., None]
    mean = xp.sum(row_probability * grey_levels, axis=-1)
    return xp.sum(row_probability * (grey_levels - mean[..., None]) ** 2, axis=-1)


def value_variance(counts, values):
    r"""Column value variance :math:`\sum_{ij} p_{ij} (j - \mu)^2`,
    :math:`\mu = \sum_{ij} p_{ij} j`."""
    xp = get_namespace(counts)
    column_probability = xp.sum(counts, axis=-2) / xp.sum(counts, axis=(-2, -1))[..., None]
    mean = xp.sum(column_probability * values, axis=-1)
    return xp.sum(column_probability * (values - mean[..., None]) ** 2, axis=-1)


def joint_entropy(counts, *, eps: float = 0.0):
    r"""Entropy :math:`-\sum_{ij} p_{ij} \log_2 (p_{ij} + \epsilon)`.

    IBSI uses :math:`\epsilon = 0` (empty cells contribute nothing); pyradiomics adds machine
    epsilon (``PYRADIOMICS_EPS``).
    """
    xp = get_namespace(counts)
    probability = counts / xp.sum(counts, axis=(-2, -1))[..., None, None]
    # log2(1) = 0 keeps empty cells out of the sum without a log(0) warning.
    logarithm = xp.log2(xp.where(probability > 0, probability + eps, 1.0))
    return -xp.sum(probability * logarithm, axis=(-2, -1))


def joint_energy(counts):
    r"""Energy (second moment) :math:`\sum_{ij} p_{ij}^2`."""
    xp = get_namespace(counts)
    return xp.sum(counts**2, axis=(-2, -1)) / xp.sum(counts, axis=(-2, -1)) ** 2

"""Texture families of a whole batch of ROIs: matrices built at once, formulas run on stacks.

For each family the matrices of every ROI of a `radiopipe.gpu.packing.PackedBatch` come from one
pass of `radiopipe.gpu.matrices`; the family's own array-namespace formulas
(`radiopipe.features.glcm.FEATURES`, `radiopipe.features.glszm.glszm_features`, ...) then run
once over the stacked matrices, and the values are averaged per ROI. The functions return a
``(n_roi, n_features)`` array in the batch's namespace, columns in the family's ``FEATURE_NAMES``
order, so that values stay where they were computed until the caller copies them once.

Stacking needs one matrix axis for all ROIs: grey levels ``1..G``, ``G`` the largest level of the
batch, ROIs with fewer levels (or, in mode 'pyradiomics', absent levels that the native engine
drops from its axis) having empty rows. Every formula is a sum over the matrix entries weighted
by the entries themselves, so empty rows change no value; the few that depend on the axis itself
are handled where noted (GLCM ``Idn``, ``Idmn``, ``MCC``).
"""

from __future__ import annotations

import numpy as np

from radiopipe.features import glcm, gldm, gldzm, glrlm, glszm, ngldm, ngtdm
from radiopipe.features.directions import DIRECTIONAL_AGGREGATIONS, MODES, direction_offsets
from radiopipe.features.neighbourhood import AGGREGATIONS
from radiopipe.features.ngtdm import ToneDifferenceMatrix
from radiopipe.features.zones import LevelMatrix
from radiopipe.gpu import matrices
from radiopipe.gpu.packing import PackedBatch, matrix_index, roi_means
from radiopipe.xp import get_namespace, to_numpy

# Elements of the largest float64 temporary a formula may create at once (2 GiB); larger stacks
# are evaluated in chunks of matrices.
CHUNK_ELEMENTS = 1 << 28
# cuSOLVER's batched symmetric eigensolver (CuPy's batched eigvalsh) stops at 32 x 32.
_LARGEST_BATCHED_EIGENPROBLEM = 32


def glcm_batch(
    batch: PackedBatch, *, aggregation: str, mode: str = "ibsi", distance: int = 1,
    symmetric: bool = True,
):
    """GLCM features of every ROI (`radiopipe.features.glcm.compute_glcm`, batched).

    The formulas run once on the stack of all matrices, on the batch's axis ``1..G``. Three
    depend on the axis itself: ``Idn`` and ``Idmn`` divide by ``N_g`` (``n_levels`` in mode
    'ibsi', the highest level present in mode 'pyradiomics'), so they are evaluated again per
    group of ROIs sharing an ``N_g``, on matrices cut to ``1..N_g``; ``MCC`` is unchanged by empty
    rows (they add zero eigenvalues) except where the native axis holds a single level (one
    level present in mode 'pyradiomics', ``n_levels = 1`` in mode 'ibsi'): 1 there, as natively.
    """
    _check(aggregation, mode, DIRECTIONAL_AGGREGATIONS)
    xp = get_namespace(batch.levels)
    offsets, _ = _fitting_directions(batch, aggregation, distance)
    names = glcm.FEATURE_NAMES
    if len(offsets) == 0:
        return xp.full((batch.n_rois, len(names)), xp.nan)
    index = matrix_index(batch, per_slice=aggregation.startswith("2D"))
    n_grey = int(batch.n_levels.max())
    counts = matrices.pair_counts(batch, offsets, index, n_grey)
    if symmetric:
        counts = counts + xp.swapaxes(counts, -1, -2)
    stack, stack_roi = _directional_stack(counts, index.matrix_roi, aggregation)
    histogram = level_histogram(batch)
    axis = _glcm_axis(batch, histogram, mode)
    n_present = to_numpy(xp.sum(histogram > 0, axis=1))
    single_level = (n_present == 1) if mode == "pyradiomics" else (batch.n_levels == 1)
    grey_levels = xp.arange(1, n_grey + 1, dtype=xp.float64)
    values = []
    for chunk in _chunks(np.arange(stack.shape[0]), n_grey * n_grey):
        p = stack[xp.asarray(chunk)]
        p = p / xp.sum(p, axis=(1, 2), keepdims=True)
        statistics = glcm.cooccurrence_statistics(p, grey_levels)
        features = {name: formula(statistics) for name, formula in glcm.FEATURES.items()
                    if name != "MCC"}
        features["MCC"] = _maximal_correlation(statistics)
        lone = xp.asarray(single_level[stack_roi[chunk]])
        features["MCC"] = xp.where(lone, 1.0, features["MCC"])
        features.update(_axis_dependent(statistics, axis[stack_roi[chunk]]))
        values.append(_columns(features, names))
    return _roi_table(values, stack_roi, batch.n_rois, len(names), xp)


def glrlm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi"):
    """GLRLM features of every ROI (`radiopipe.features.glrlm.compute_glrlm`, batched)."""
    _check(aggregation, mode, DIRECTIONAL_AGGREGATIONS)
    xp = get_namespace(batch.levels)
    offsets, fits = _fitting_directions(batch, aggregation, 1)
    names = glrlm.FEATURE_NAMES
    if len(offsets) == 0:
        return xp.full((batch.n_rois, len(names)), xp.nan)
    index = matrix_index(batch, per_slice=aggregation.startswith("2D"))
    n_grey = int(batch.n_levels.max())
    counts = matrices.run_counts(batch, offsets, index, n_grey, int(batch.box_shapes.max()))
    # A direction that does not fit an ROI's box holds only runs of length 1; the native engine
    # leaves it out (as pyradiomics does), so its counts are dropped here.
    counts = counts * xp.asarray(fits[index.matrix_roi], dtype=xp.float64)[:, :, None, None]
    stack, stack_roi = _directional_stack(counts, index.matrix_roi, aggregation)
    grey_levels = xp.arange(1, n_grey + 1, dtype=xp.float64)
    values = []
    for chunk in _chunks(np.arange(stack.shape[0]), n_grey * stack.shape[2]):
        statistics = glrlm.run_length_statistics(stack[xp.asarray(chunk)], grey_levels)
        values.append(_columns({k: f(statistics) for k, f in glrlm.FEATURES.items()}, names))
    return _roi_table(values, stack_roi, batch.n_rois, len(names), xp)


def glszm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi"):
    """GLSZM features of every ROI (`radiopipe.features.glszm.compute_glszm`, batched)."""
    _check(aggregation, mode, AGGREGATIONS)
    index, zone_voxel, _, size = _zones(batch, aggregation)
    events = (index.voxel_matrix[zone_voxel], batch.voxel_levels[zone_voxel], size)
    return _level_matrix_features(
        batch, index, events, lambda m: glszm.glszm_features(m, mode=mode), glszm.FEATURE_NAMES
    )


def gldzm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi"):
    """GLDZM features of every ROI (`radiopipe.features.gldzm.compute_gldzm`, batched).

    The ROI edge is the ROI itself (the extraction passes no separate morphological mask).
    """
    _check(aggregation, mode, AGGREGATIONS)
    xp = get_namespace(batch.levels)
    index, zone_voxel, voxel_zone, _ = _zones(batch, aggregation)
    distance = matrices.edge_distances(batch, in_plane_only=aggregation != "3D")
    zone_distance = _segment_minimum(distance.astype(xp.int64), voxel_zone, zone_voxel.shape[0])
    events = (index.voxel_matrix[zone_voxel], batch.voxel_levels[zone_voxel], zone_distance)
    return _level_matrix_features(
        batch, index, events, gldzm.gldzm_features, gldzm.FEATURE_NAMES
    )


def ngtdm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi", distance: int = 1):
    """NGTDM features of every ROI (`radiopipe.features.ngtdm.compute_ngtdm`, batched)."""
    _check(aggregation, mode, AGGREGATIONS)
    _check_distance(batch, distance)
    xp = get_namespace(batch.levels)
    index = matrix_index(batch, per_slice=aggregation == "2D")
    total, count, _ = matrices.neighbourhood_statistics(
        batch, distance=distance, in_plane_only=aggregation != "3D", alpha=0.0
    )
    n_grey = int(batch.n_levels.max())
    has_neighbour = count > 0
    grey = batch.voxel_levels.astype(xp.float64)
    mean = total / xp.where(has_neighbour, count, 1.0)
    cell = (index.voxel_matrix * n_grey + batch.voxel_levels - 1)[has_neighbour]
    size = index.n_matrices * n_grey
    difference = xp.abs(grey - mean)[has_neighbour]
    matrix = ToneDifferenceMatrix(
        xp.bincount(cell, minlength=size).reshape(-1, n_grey).astype(xp.float64),
        xp.bincount(cell, weights=difference, minlength=size).reshape(-1, n_grey),
        xp.arange(1, n_grey + 1, dtype=xp.float64),
    )
    occupied = _occupied_matrices(batch, index)
    kept = ToneDifferenceMatrix(
        matrix.counts[xp.asarray(occupied)], matrix.differences[xp.asarray(occupied)],
        matrix.grey_levels,
    )
    values = _columns(ngtdm.ngtdm_features(kept), ngtdm.FEATURE_NAMES)
    return _roi_table([values], index.matrix_roi[occupied], batch.n_rois, values.shape[1], xp)


def ngldm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi", alpha: float = 0,
                distance: int = 1):
    """NGLDM features of every ROI (`radiopipe.features.ngldm.compute_ngldm`, batched)."""
    return _dependence_features(
        batch, aggregation, mode, alpha, distance,
        lambda m: ngldm.ngldm_features(m, mode=mode), ngldm.FEATURE_NAMES,
    )


def gldm_batch(batch: PackedBatch, *, aggregation: str, mode: str = "ibsi", gldm_a: float = 0,
               distance: int = 1):
    """pyradiomics' GLDM features of every ROI (`radiopipe.features.gldm.compute_gldm`, batched)."""
    def features(matrix: LevelMatrix) -> dict:
        values = ngldm.ngldm_features(matrix, mode=mode)
        return {name: values[name] for name in gldm.FEATURE_NAMES}

    return _dependence_features(
        batch, aggregation, mode, gldm_a, distance, features, gldm.FEATURE_NAMES
    )


def level_histogram(batch: PackedBatch):
    """Voxels of each grey level in each ROI, shape ``(n_roi, max n_levels)``."""
    xp = get_namespace(batch.levels)
    n_grey = int(batch.n_levels.max())
    key = batch.voxel_roi * n_grey + batch.voxel_levels - 1
    counts = xp.bincount(key, minlength=batch.n_rois * n_grey)
    return counts.reshape(batch.n_rois, n_grey)


def _check(aggregation: str, mode: str, allowed: tuple[str, ...]) -> None:
    if aggregation not in allowed:
        raise ValueError(
            f"The 'aggregation' parameter must be one of {allowed}. Got {aggregation!r} instead."
        )
    if mode not in MODES:
        raise ValueError(f"The 'mode' parameter must be one of {MODES}. Got {mode!r} instead.")


def _check_distance(batch: PackedBatch, distance: int) -> None:
    if not (isinstance(distance, (int, np.integer)) and 1 <= distance <= batch.pad):
        raise ValueError(
            f"The 'distance' parameter must be an int in 1..{batch.pad} (the batch's padding). "
            f"Got {distance!r} instead."
        )


def _fitting_directions(batch: PackedBatch, aggregation: str, distance: int):
    """Offsets of the aggregation that fit some ROI's box, and which ROI each fits.

    As `radiopipe.features.directions.aggregation_offsets`: an offset is used for an ROI when it
    steps less than the box extent along every axis.

    Returns
    -------
    offsets : ndarray of int64, shape (n_directions, 3)
    fits : ndarray of bool, shape (n_roi, n_directions)
    """
    _check_distance(batch, distance)
    offsets = direction_offsets(distance, in_plane=not aggregation.startswith("3D"))
    fits = (np.abs(offsets)[None, :, :] < batch.box_shapes[:, None, :]).all(axis=2)
    used = fits.any(axis=0)
    return offsets[used], fits[:, used]


def _directional_stack(counts, matrix_roi: np.ndarray, aggregation: str):
    """Merge directions for the '_comb' aggregations and keep the non-empty matrices.

    Returns
    -------
    stack : array, shape (n_kept, a, b)
    stack_roi : ndarray of int64, shape (n_kept,)
        ROI of each kept matrix.
    """
    xp = get_namespace(counts)
    if aggregation.endswith("_comb"):
        counts = xp.sum(counts, axis=1, keepdims=True)
    n_directions = counts.shape[1]
    stack = counts.reshape((-1,) + counts.shape[2:])
    kept = np.flatnonzero(to_numpy(xp.sum(stack, axis=(1, 2)) > 0))
    return stack[xp.asarray(kept)], np.repeat(matrix_roi, n_directions)[kept]


def _glcm_axis(batch: PackedBatch, histogram, mode: str) -> np.ndarray:
    """``N_g`` of every ROI (host array): ``n_levels``, or the highest level present."""
    if mode == "ibsi":
        return batch.n_levels
    present = to_numpy(histogram > 0)
    return present.shape[1] - np.argmax(present[:, ::-1], axis=1)


def _maximal_correlation(statistics):
    """GLCM ``MCC`` of a stack (`radiopipe.features.glcm.maximal_correlation_coefficient`)."""
    xp = get_namespace(statistics.p)
    if xp is np or statistics.p.shape[1] <= _LARGEST_BATCHED_EIGENPROBLEM:
        return glcm.maximal_correlation_coefficient(statistics)
    # No batched eigensolver on the device for larger matrices: the same formula on a host copy
    # of the matrices (LAPACK), its result copied back.
    host = glcm.cooccurrence_statistics(to_numpy(statistics.p), to_numpy(statistics.i[:, 0]))
    return xp.asarray(glcm.maximal_correlation_coefficient(host))


def _axis_dependent(statistics, axis: np.ndarray) -> dict:
    """GLCM ``Idn`` and ``Idmn`` of each matrix with its own ``N_g`` (``axis``, host array).

    These two formulas read only the difference distribution ``p_difference`` and ``N_g``, the
    largest grey level ``i``: each group of matrices sharing an ``N_g`` is evaluated with the
    grey levels ``1..N_g`` (its matrices have no entry beyond them).
    """
    xp = get_namespace(statistics.p)
    out = {name: xp.empty(statistics.p.shape[0]) for name in ("Idn", "Idmn")}
    for size in np.unique(axis):
        rows = xp.asarray(np.flatnonzero(axis == size))
        levels = xp.arange(1, size + 1, dtype=xp.float64)
        cut = statistics._replace(p_difference=statistics.p_difference[rows], i=levels[:, None])
        out["Idn"][rows] = glcm.normalised_inverse_difference(cut)
        out["Idmn"][rows] = glcm.normalised_inverse_difference_moment(cut)
    return out


def _zones(batch: PackedBatch, aggregation: str):
    """Zones of the batch: matrix index, first voxel, zone of each voxel, and size of each zone."""
    xp = get_namespace(batch.levels)
    index = matrix_index(batch, per_slice=aggregation == "2D")
    ids = matrices.zone_ids(batch, in_plane_only=aggregation != "3D")
    _, zone_voxel, voxel_zone, size = xp.unique(
        ids, return_index=True, return_inverse=True, return_counts=True
    )
    return index, zone_voxel, voxel_zone.reshape(-1), size


def _dependence_features(batch, aggregation, mode, alpha, distance, features, names):
    _check(aggregation, mode, AGGREGATIONS)
    _check_distance(batch, distance)
    if not alpha >= 0:
        raise ValueError(f"The 'alpha' parameter must be a number >= 0. Got {alpha!r} instead.")
    index = matrix_index(batch, per_slice=aggregation == "2D")
    _, _, dependence = matrices.neighbourhood_statistics(
        batch, distance=distance, in_plane_only=aggregation != "3D", alpha=float(alpha)
    )
    events = (index.voxel_matrix, batch.voxel_levels, dependence)
    return _level_matrix_features(batch, index, events, features, names)


def _level_matrix_features(batch: PackedBatch, index, events, features, names):
    """Evaluate grey level x value matrices (GLSZM, GLDZM, NGLDM, GLDM) built from events.

    ``events`` = (matrix, grey level, column value) of every zone or voxel. Matrices of slices
    without ROI voxels are left out; the columns of each chunk are the values that occur in it.
    """
    xp = get_namespace(batch.levels)
    event_matrix, event_level, event_value = events
    occupied = _occupied_matrices(batch, index)
    compact = np.full(index.n_matrices, -1, dtype=np.int64)
    compact[occupied] = np.arange(len(occupied))
    event_matrix = xp.asarray(compact)[event_matrix]
    n_voxels = xp.bincount(index.voxel_matrix, minlength=index.n_matrices).astype(xp.float64)
    n_voxels = n_voxels[xp.asarray(occupied)]
    n_grey = int(batch.n_levels.max())
    n_columns = int(xp.unique(event_value).shape[0])
    grey_levels = xp.arange(1, n_grey + 1, dtype=xp.float64)
    values = []
    for chunk in _chunks(np.arange(len(occupied)), n_grey * n_columns):
        first, stop = int(chunk[0]), int(chunk[-1]) + 1
        selected = (event_matrix >= first) & (event_matrix < stop)
        distinct, column = xp.unique(event_value[selected], return_inverse=True)
        n_distinct = distinct.shape[0]
        cell = ((event_matrix[selected] - first) * n_grey + event_level[selected] - 1)
        cell = cell * n_distinct + column.reshape(-1)
        counts = xp.bincount(cell, minlength=(stop - first) * n_grey * n_distinct)
        matrix = LevelMatrix(
            counts.reshape(stop - first, n_grey, n_distinct).astype(xp.float64),
            grey_levels,
            distinct.astype(xp.float64),
            n_voxels[first:stop],
        )
        values.append(_columns(features(matrix), names))
    return _roi_table(values, index.matrix_roi[occupied], batch.n_rois, len(names), xp)


def _occupied_matrices(batch: PackedBatch, index) -> np.ndarray:
    """Matrices holding at least one ROI voxel (slices of a box without any are left out)."""
    xp = get_namespace(batch.levels)
    counts = xp.bincount(index.voxel_matrix, minlength=index.n_matrices)
    return np.flatnonzero(to_numpy(counts > 0))


def _segment_minimum(values, segment, n_segments: int):
    """Smallest of ``values`` in each segment ``0..n_segments - 1`` (each holding a value).

    A lexicographic sort by segment, then value, puts each segment's minimum first.
    """
    xp = get_namespace(values)
    order = xp.lexsort(xp.stack([values, segment.astype(values.dtype)]))
    first = xp.searchsorted(segment[order], xp.arange(n_segments, dtype=segment.dtype))
    return values[order][first]


def _chunks(rows: np.ndarray, elements_per_row: int):
    """Split ``rows`` so that a chunk's float64 temporaries stay under ``CHUNK_ELEMENTS``."""
    size = max(1, CHUNK_ELEMENTS // max(elements_per_row, 1))
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _columns(features: dict, names: tuple[str, ...]):
    """Stack per-matrix feature arrays as columns in ``names`` order."""
    xp = get_namespace(*features.values())
    return xp.stack([xp.asarray(features[name], dtype=xp.float64) for name in names], axis=1)


def _roi_table(values: list, row_roi: np.ndarray, n_rois: int, n_features: int, xp):
    """Per-ROI means of stacked per-matrix features; NaN rows for ROIs without a matrix."""
    if not values:
        return xp.full((n_rois, n_features), xp.nan)
    return roi_means(xp.concatenate(values, axis=0), xp.asarray(row_roi), n_rois)

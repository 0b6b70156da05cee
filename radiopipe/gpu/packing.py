"""Batching bookkeeping: many discretised ROIs packed into one array, so one launch serves all.

Every ROI (one image type of one case, cropped to its bounding box) becomes an `RoiItem`. `pack`
stacks the items along the slice axis of one zero-filled grey-level volume of shape
``(n_planes, Y + 2 pad, X + 2 pad)``, ``Y`` and ``X`` the largest box extents of the batch, with
``pad`` empty planes before, between and after the ROIs::

    plane  0 .. pad-1             zeros
    plane  pad .. pad+z_0-1       ROI 0 (its box at rows/columns pad..)
    next pad planes               zeros
    ...

All ROIs then share one set of strides, so a neighbour offset is one flat step for every voxel,
and no neighbour within ``pad`` voxels ever reads another ROI. Each ROI voxel is listed once with
its flat index, its ROI and its slice in the ROI's box. The functions work on NumPy or CuPy
arrays alike (the namespace is an argument), which lets the CPU tests check this bookkeeping.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from radiopipe.xp import get_namespace


class RoiItem(NamedTuple):
    """One discretised ROI of one image, the unit of a batch.

    Attributes
    ----------
    mask : array of bool, shape (z, y, x)
        The ROI cropped to its bounding box.
    values : array of float64, shape (n_voxels,)
        Intensities of the ROI voxels in C order (``image[mask]``).
    levels : array of int, shape (n_voxels,)
        Their grey levels ``1..n_levels`` (same order).
    n_levels : int
        Number of grey levels of the discretisation.
    voxel_volume : float
        Volume of one voxel in mm^3 (first-order TotalEnergy).
    """

    mask: object
    values: object
    levels: object
    n_levels: int
    voxel_volume: float


class PackedBatch(NamedTuple):
    """Grey levels of a batch of ROIs on one lattice (see the module docstring).

    Attributes
    ----------
    levels : array of int32, shape (n_planes * Yp * Xp,)
        Flattened packed grey levels, 0 outside every ROI.
    shape : tuple of int
        ``(n_planes, Yp, Xp)``.
    pad : int
        Empty voxels around every ROI box.
    voxels : array of int64, shape (n_voxels,)
        Flat index of every ROI voxel, ROI after ROI, C order within each.
    voxel_roi, voxel_slice : arrays of int64, shape (n_voxels,)
        ROI of each voxel and its slice (z) within the ROI's box.
    voxel_levels : array of int32, shape (n_voxels,)
        Grey level of each voxel.
    voxel_values : array of float64, shape (n_voxels,)
        Intensity of each voxel (``RoiItem.values``, concatenated).
    roi_start : ndarray of int64, shape (n_roi + 1,)
        ``voxels[roi_start[r]:roi_start[r + 1]]`` belong to ROI ``r`` (host array).
    box_shapes : ndarray of int64, shape (n_roi, 3)
        Box shape of each ROI (host array).
    n_levels : ndarray of int64, shape (n_roi,)
        Number of grey levels of each ROI's discretisation (host array).
    voxel_volumes : ndarray of float64, shape (n_roi,)
        Volume of one voxel of each ROI in mm^3 (host array).
    """

    levels: object
    shape: tuple[int, int, int]
    pad: int
    voxels: object
    voxel_roi: object
    voxel_slice: object
    voxel_levels: object
    voxel_values: object
    roi_start: np.ndarray
    box_shapes: np.ndarray
    n_levels: np.ndarray
    voxel_volumes: np.ndarray

    @property
    def n_rois(self) -> int:
        """Number of ROIs in the batch."""
        return len(self.box_shapes)

    @property
    def strides(self) -> tuple[int, int, int]:
        """Flat-index step of one voxel along z, y and x."""
        _, n_y, n_x = self.shape
        return (n_y * n_x, n_x, 1)

    def steps(self, offsets: np.ndarray):
        """Flat-index step of each offset ``(dz, dy, dx)`` (int64, namespace of ``levels``)."""
        xp = get_namespace(self.levels)
        steps = np.asarray(offsets, dtype=np.int64).reshape(-1, 3) @ np.asarray(self.strides)
        return xp.asarray(steps, dtype=xp.int64)


def pack(items: list[RoiItem], *, pad: int, xp) -> PackedBatch:
    """Pack ROIs into one lattice in namespace ``xp`` (see `PackedBatch`).

    Host (NumPy) items are concatenated on the host and copied to the device once; device items
    are concatenated there. The ROI voxels are then scattered into the lattice in one operation.

    Parameters
    ----------
    items : list of RoiItem
        At least one ROI; ``len(levels)`` must equal the number of True voxels of ``mask``.
    pad : int
        Empty voxels around each box, >= the longest neighbour offset used on the batch.
    xp : module
        ``numpy`` or ``cupy``: where the packed arrays live.

    Examples
    --------
    >>> item = RoiItem(np.array([[[True, False, True]]]), np.array([5.0, 7.0]),
    ...                np.array([1, 2]), 2, 1.0)
    >>> batch = pack([item, item], pad=1, xp=np)
    >>> batch.shape, batch.voxels.tolist(), batch.voxel_roi.tolist()
    ((5, 3, 5), [21, 23, 51, 53], [0, 0, 1, 1])
    """
    if not items:
        raise ValueError("pack needs at least one ROI. Got an empty list instead.")
    if not (isinstance(pad, (int, np.integer)) and pad >= 1):
        raise ValueError(f"The 'pad' parameter of pack must be an int >= 1. Got {pad!r} instead.")
    box_shapes = np.array([_box_shape(item.mask) for item in items], dtype=np.int64)
    counts = np.array([len(item.levels) for item in items], dtype=np.int64)
    depth, rows, columns = box_shapes[:, 0], box_shapes[:, 1], box_shapes[:, 2]
    n_y, n_x = int(rows.max()) + 2 * pad, int(columns.max()) + 2 * pad
    first_plane = pad + np.concatenate(([0], np.cumsum(depth + pad)[:-1]))
    n_planes = pad + int(np.sum(depth + pad))

    masks = _concatenate([item.mask.reshape(-1) for item in items], xp).astype(bool)
    levels = _concatenate([item.levels for item in items], xp).astype(xp.int32)
    positions = xp.flatnonzero(masks)
    if positions.shape[0] != levels.shape[0]:
        raise ValueError(
            "Every RoiItem must hold one grey level per True voxel of its mask. "
            f"Got {levels.shape[0]} levels for {positions.shape[0]} ROI voxels instead."
        )
    box_start = np.concatenate(([0], np.cumsum(box_shapes.prod(axis=1))))
    roi_start = np.concatenate(([0], np.cumsum(counts)))
    voxel_roi = owner(roi_start, positions.shape[0], xp)
    local = positions - xp.asarray(box_start[:-1])[voxel_roi]
    plane_size = xp.asarray(rows * columns)[voxel_roi]
    row_size = xp.asarray(columns)[voxel_roi]
    voxel_slice = local // plane_size
    y = (local % plane_size) // row_size
    x = local % row_size
    voxels = ((xp.asarray(first_plane)[voxel_roi] + voxel_slice) * n_y + pad + y) * n_x + pad + x
    packed = xp.zeros(n_planes * n_y * n_x, dtype=xp.int32)
    packed[voxels] = levels
    return PackedBatch(
        levels=packed,
        shape=(n_planes, n_y, n_x),
        pad=int(pad),
        voxels=voxels.astype(xp.int64),
        voxel_roi=voxel_roi,
        voxel_slice=voxel_slice.astype(xp.int64),
        voxel_levels=levels,
        voxel_values=_concatenate([item.values for item in items], xp).astype(xp.float64),
        roi_start=roi_start,
        box_shapes=box_shapes,
        n_levels=np.array([int(item.n_levels) for item in items], dtype=np.int64),
        voxel_volumes=np.array([item.voxel_volume for item in items], dtype=np.float64),
    )


class MatrixIndex(NamedTuple):
    """Which matrix of a family each ROI voxel counts into.

    Attributes
    ----------
    voxel_matrix : array of int64, shape (n_voxels,)
        Matrix of each voxel: its ROI's first matrix plus its slice when matrices are per slice.
    matrix_roi : ndarray of int64, shape (n_matrices,)
        ROI of each matrix (host array).
    n_matrices : int
    """

    voxel_matrix: object
    matrix_roi: np.ndarray
    n_matrices: int


def matrix_index(batch: PackedBatch, *, per_slice: bool) -> MatrixIndex:
    """One matrix per ROI, or per slice of each ROI's box when ``per_slice``.

    Slices of a box without ROI voxels get a matrix too; it stays empty and the families leave
    it out, as the native engine leaves such slices out.

    Examples
    --------
    >>> item = RoiItem(np.ones((2, 1, 1), dtype=bool), np.zeros(2), np.ones(2, dtype=int), 1, 1.0)
    >>> index = matrix_index(pack([item, item], pad=1, xp=np), per_slice=True)
    >>> index.voxel_matrix.tolist(), index.matrix_roi.tolist()
    ([0, 1, 2, 3], [0, 0, 1, 1])
    """
    xp = get_namespace(batch.voxels)
    per_roi = batch.box_shapes[:, 0] if per_slice else np.ones(batch.n_rois, dtype=np.int64)
    first_matrix = np.concatenate(([0], np.cumsum(per_roi)[:-1]))
    voxel_matrix = xp.asarray(first_matrix)[batch.voxel_roi]
    if per_slice:
        voxel_matrix = voxel_matrix + batch.voxel_slice
    matrix_roi = np.repeat(np.arange(batch.n_rois, dtype=np.int64), per_roi)
    return MatrixIndex(voxel_matrix, matrix_roi, int(per_roi.sum()))


def roi_means(values, roi, n_rois: int):
    """Mean of each column of ``values`` over the rows of each ROI; NaN for an ROI without rows.

    Parameters
    ----------
    values : array, shape (n_rows, n_columns)
        Per-matrix features, say.
    roi : array of int, shape (n_rows,)
        ROI of each row.
    n_rois : int

    Returns
    -------
    array of float64, shape (n_rois, n_columns)

    Examples
    --------
    >>> roi_means(np.array([[1.0], [3.0], [5.0]]), np.array([0, 0, 2]), 3)[:, 0].tolist()
    [2.0, nan, 5.0]
    """
    xp = get_namespace(values)
    roi = xp.asarray(roi)
    n_rows, n_columns = values.shape
    count = xp.bincount(roi, minlength=n_rois).astype(xp.float64)
    # One bincount for all columns: row r's column k goes to cell roi[r] * n_columns + k.
    cell = (roi[:, None] * n_columns + xp.arange(n_columns)[None, :]).reshape(-1)
    sums = xp.bincount(cell, weights=values.reshape(-1), minlength=n_rois * n_columns)
    sums = sums.reshape(n_rois, n_columns)
    # An ROI without any matrix has undefined features (e.g. a single voxel has no direction).
    safe = xp.where(count > 0, count, 1.0)[:, None]
    return xp.where(count[:, None] > 0, sums / safe, xp.nan)


def dense_rows(values, roi_start: np.ndarray, fill):
    """Ragged per-ROI values as the rows of a padded ``(n_roi, longest)`` array.

    Parameters
    ----------
    values : array, shape (n_values,)
        Values ROI after ROI.
    roi_start : ndarray of int64, shape (n_roi + 1,)
        Offsets of each ROI's values.
    fill : scalar
        Value of the padding.

    Examples
    --------
    >>> dense_rows(np.array([1.0, 2.0, 3.0]), np.array([0, 2, 3]), 0.0).tolist()
    [[1.0, 2.0], [3.0, 0.0]]
    """
    xp = get_namespace(values)
    counts = np.diff(roi_start)
    n_rois, width = len(counts), max(int(counts.max()), 1)
    row = owner(roi_start, values.shape[0], xp)
    column = xp.arange(values.shape[0], dtype=xp.int64) - xp.asarray(roi_start[:-1])[row]
    dense = xp.full((n_rois, width), fill, dtype=values.dtype)
    dense[row, column] = values
    return dense


def owner(starts: np.ndarray, n_values: int, xp):
    """Segment of each of ``n_values`` consecutive values, given the segments' start offsets.

    Examples
    --------
    >>> owner(np.array([0, 2, 2, 3]), 3, np).tolist()
    [0, 0, 2]
    """
    bounds = xp.asarray(np.asarray(starts, dtype=np.int64)[1:])
    return xp.searchsorted(bounds, xp.arange(n_values, dtype=xp.int64), side="right")


def _box_shape(mask) -> tuple[int, int, int]:
    if mask.ndim != 3:
        raise ValueError(f"An RoiItem's mask must be 3D (z, y, x). Got shape {mask.shape} instead.")
    return tuple(int(size) for size in mask.shape)


def _concatenate(arrays: list, xp):
    """Concatenate where the arrays are; host arrays bound for the device travel as one copy."""
    if all(get_namespace(array) is np for array in arrays):
        return xp.asarray(np.concatenate([np.asarray(array) for array in arrays]))
    return xp.concatenate([xp.asarray(array) for array in arrays])

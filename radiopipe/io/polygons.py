"""Closed planar polygons filled on a pixel grid: the rasteriser of RTSTRUCT contours.

Convention: a pixel belongs to a polygon when its centre (integer index ``(i, j)``) is inside by
the even-odd rule, counted with half-open edges: an edge covers the rows ``min(y) <= j < max(y)``
and a centre counts as left of an edge when ``i < x_edge``. A centre on a left or lower edge is
inside, one on a right or upper edge outside, so two polygons that share an edge tile without
gap or overlap. Several polygons on one slice combine by XOR (even-odd), so a polygon inside
another is a hole. On the IBSI CT phantom and the STS series no voxel centre lies on a contour
(counting boundary centres as inside gives the same masks), and this rule reproduces the IBSI's
own voxelisation voxel for voxel.
"""

from __future__ import annotations

import numpy as np


def fill_polygon(vertices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The pixels of a ``(rows, columns)`` grid whose centres lie inside a closed polygon.

    Parameters
    ----------
    vertices : numpy.ndarray
        ``(n, 2)`` vertices as continuous ``(column, row)`` indices (x, y), in order; the last
        joins the first.
    shape : tuple of int
        ``(rows, columns)`` of the grid.

    Returns
    -------
    numpy.ndarray
        Boolean ``shape`` array.

    Examples
    --------
    >>> fill_polygon(np.array([[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]]), (4, 4)).sum()
    np.int64(4)
    """
    out = np.zeros(shape, dtype=bool)
    x, y = np.asarray(vertices, dtype=float).T
    if x.size < 3:
        return out
    rows = np.arange(max(int(np.ceil(y.min())), 0), min(int(np.ceil(y.max())), shape[0]))
    columns = np.arange(max(int(np.ceil(x.min())), 0), min(int(np.ceil(x.max())), shape[1]))
    if rows.size == 0 or columns.size == 0:
        return out
    x_next, y_next = np.roll(x, -1), np.roll(y, -1)
    centre_y = rows[:, None].astype(float)
    crosses = (y <= centre_y) != (y_next <= centre_y)  # half-open: min(y) <= j < max(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x + (centre_y - y) * (x_next - x) / (y_next - y)
    x_cross = np.where(crosses, x_cross, -np.inf)
    count = (columns[None, :, None] < x_cross[:, None, :]).sum(axis=-1)
    out[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1] = count % 2 == 1
    return out


def fill_polygons(polygons: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Several polygons of one slice combined by XOR: a polygon inside another is a hole."""
    out = np.zeros(shape, dtype=bool)
    for vertices in polygons:
        out ^= fill_polygon(vertices, shape)
    return out

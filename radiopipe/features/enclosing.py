r"""The bodies enclosing a ROI's mesh whose volume and area the shape densities divide by.

Axis-aligned bounding box, oriented minimum bounding box (approximate), ellipsoids (IBSI's
Legendre-series surface area) and the minimum volume enclosing ellipsoid: IBSI section 3.1
("Volume density" and "Area density" features). `radiopipe.features.shape` calls them only when
one of their features is asked for.

Examples
--------
>>> round(ellipsoid_surface_area(1.0, 1.0, 1.0), 6)  # a unit sphere, 4 pi
12.566371
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np

# Degree at which IBSI truncates its Legendre series for the surface area of an ellipsoid.
_ELLIPSOID_SERIES_DEGREE = 20
# Relative difference below which two candidate boxes of the OMBB count as equally small.
_TIE = 1e-12
# Khachiyan's algorithm stops once every point is inside the ellipsoid scaled by 1 + this.
_MVEE_TOLERANCE = 1e-6
_MVEE_MAX_ITERATIONS = 100_000


def box_area(extent) -> float:
    """Surface area of a box of edge lengths ``extent``."""
    a, b, c = extent
    return 2.0 * (a * b + b * c + a * c)


def ellipsoid_volume(semi_axes) -> float:
    """Volume of an ellipsoid of ``semi_axes``."""
    return 4.0 / 3.0 * np.pi * float(np.prod(semi_axes))


def ellipsoid_surface_area(a: float, b: float, c: float) -> float:
    r"""IBSI's Legendre-series approximation of the surface area of an ellipsoid.

    .. math::
        A = 4 \pi a b \sum_{\nu=0}^{20} \frac{(\alpha\beta)^\nu}{1 - 4\nu^2}
            P_\nu\!\left(\frac{\alpha^2 + \beta^2}{2 \alpha \beta}\right),
        \quad \alpha = \sqrt{1 - b^2/a^2},\ \beta = \sqrt{1 - c^2/a^2},

    for semi-axes :math:`a \ge b \ge c`. It is IBSI's definition (the phantom's reference values
    need it), not the exact area. Each term is expanded as the homogeneous polynomial
    :math:`\sum_k p_{\nu k} (\alpha\beta)^{\nu-k} ((\alpha^2+\beta^2)/2)^k`, which stays finite
    when :math:`\alpha\beta = 0` (spheroids, spheres).
    """
    if a == 0:
        return 0.0
    alpha = np.sqrt(max(1.0 - (b / a) ** 2, 0.0))
    beta = np.sqrt(max(1.0 - (c / a) ** 2, 0.0))
    coefficients, nu, k = _legendre_series_terms()
    powers = (alpha * beta) ** np.maximum(nu - k, 0) * ((alpha**2 + beta**2) / 2.0) ** k
    total = np.sum(coefficients * powers, axis=1) / (1.0 - 4.0 * nu[:, 0] ** 2)
    return float(4.0 * np.pi * a * b * total.sum())


@cache
def _legendre_series_terms() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power coefficients p[nu, k] of P_nu for nu <= 20, with the nu and k index grids."""
    size = _ELLIPSOID_SERIES_DEGREE + 1
    coefficients = np.zeros((size, size))
    for nu in range(size):
        coefficients[nu, : nu + 1] = np.polynomial.legendre.leg2poly([0.0] * nu + [1.0])
    nu, k = np.indices((size, size), dtype=float)
    return coefficients, nu, k


def oriented_minimum_bounding_box(points) -> tuple[float, float]:
    """Volume and area of a small oriented box around 3D ``points`` (approximate OMBB).

    Candidates: for every distinct facet normal of the convex hull, the box with one face on
    that facet plane and the minimum-area rectangle (rotating calipers) of the projection on it.
    The exact 3D minimum need not have a face flush with a hull facet, so this is an upper bound;
    IBSI-1 gives no reference value for the OMBB densities. The candidates are searched in one
    compiled loop (`_smallest_facet_box`). Symmetric ROIs have several smallest boxes of different
    area: the smallest area among them is taken (ties within 1e-12 relative), rather than
    whichever box rounding ranks first, so the area density does not depend on round-off.
    """
    from scipy.spatial import ConvexHull  # IBSI's oriented box only

    points = np.ascontiguousarray(points, dtype=np.float64)
    normals = ConvexHull(points).equations[:, :3]
    # n and -n give the same box: keep one sign (first non-zero component positive).
    leading = normals[np.arange(len(normals)), np.argmax(np.abs(normals) > 1e-12, axis=1)]
    normals = np.unique(np.round(normals * np.sign(leading)[:, None], 12), axis=0)
    normals = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    volume, area = _smallest_facet_box(points, normals)
    return float(volume), float(area)


@numba.njit(cache=True)
def _smallest_facet_box(points, normals):  # pragma: no cover - compiled by Numba
    """Volume and area of the smallest box with a face normal to one of ``normals``."""
    best_volume, best_area = np.inf, np.inf
    for k in range(normals.shape[0]):
        normal = normals[k]
        helper = np.zeros(3)
        helper[np.argmin(np.abs(normal))] = 1.0  # the axis least parallel to the normal
        first = _cross(normal, helper)
        first = first / np.sqrt(np.sum(first * first))
        second = _cross(normal, first)
        height = np.ptp(points @ normal)
        width, depth = _minimum_area_rectangle(points @ first, points @ second)
        volume = width * depth * height
        area = 2.0 * (width * depth + depth * height + width * height)
        if _smaller(volume, area, best_volume, best_area):
            best_volume, best_area = volume, area
    return best_volume, best_area


@numba.njit(cache=True)
def _smaller(size, tie_break, best_size, best_tie_break):  # pragma: no cover - compiled by Numba
    """Whether ``size`` beats ``best_size``; sizes equal to rounding go to the smaller tie-break.

    Symmetric ROIs have several boxes (rectangles) of the same volume (area) but different area
    (perimeter); which one floating-point rounding happens to rank first is arbitrary, so the
    smallest size is taken to relative ``_TIE`` and, among those, the smallest tie-break.
    """
    if size < best_size * (1.0 - _TIE):
        return True
    return size <= best_size * (1.0 + _TIE) and tie_break < best_tie_break


@numba.njit(cache=True)
def _cross(a, b):  # pragma: no cover - compiled by Numba
    return np.array(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


@numba.njit(cache=True)
def _minimum_area_rectangle(x, y):  # pragma: no cover - compiled by Numba
    """Side lengths of the minimum-area rectangle around the 2D points ``(x, y)``.

    Rotating calipers: one side of the minimum lies along an edge of the convex hull, so every
    hull edge direction is tried.
    """
    hull = _convex_hull_2d(x, y)
    best_area, best_width, best_depth = np.inf, 0.0, 0.0
    for k in range(hull.shape[0]):
        following = hull[(k + 1) % hull.shape[0]]
        edge_x, edge_y = x[following] - x[hull[k]], y[following] - y[hull[k]]
        length = np.sqrt(edge_x * edge_x + edge_y * edge_y)
        if length == 0.0:
            continue
        along = x[hull] * (edge_x / length) + y[hull] * (edge_y / length)
        across = x[hull] * (-edge_y / length) + y[hull] * (edge_x / length)
        width, depth = np.ptp(along), np.ptp(across)
        if _smaller(width * depth, width + depth, best_area, best_width + best_depth):
            best_area, best_width, best_depth = width * depth, width, depth
    return best_width, best_depth


@numba.njit(cache=True)
def _convex_hull_2d(x, y):  # pragma: no cover - compiled by Numba
    """Indices of the convex hull vertices of the points ``(x, y)``, counter-clockwise.

    Andrew's monotone chain; collinear points on an edge are left out.
    """
    by_y = np.argsort(y, kind="mergesort")
    order = by_y[np.argsort(x[by_y], kind="mergesort")]  # by x, ties by y
    n = order.shape[0]
    hull = np.empty(2 * n, dtype=np.int64)
    size = 0
    for sweep in range(2):  # lower chain left to right, then upper chain right to left
        floor = size
        for k in range(n):
            point = order[k] if sweep == 0 else order[n - 1 - k]
            while size >= floor + 2 and _turn(x, y, hull[size - 2], hull[size - 1], point) <= 0:
                size -= 1
            hull[size] = point
            size += 1
        size -= 1  # the chain's last point starts the other chain
    return hull[: max(size, 1)]


@numba.njit(cache=True)
def _turn(x, y, a, b, c):  # pragma: no cover - compiled by Numba
    """Twice the signed area of the triangle ``a, b, c`` (> 0: counter-clockwise)."""
    return (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a])


def minimum_volume_enclosing_ellipsoid(points) -> np.ndarray:
    """Semi-axes (descending) of the minimum volume ellipsoid around ``points``.

    Khachiyan's algorithm with Todd and Yildirim's away steps, stopped once every point lies
    within the ellipsoid scaled by ``1 + 1e-6``, so the volume is within about 2e-6 of the
    minimum. Each step changes the weighted scatter matrix by a rank-one term, so its inverse and
    the point distances are updated in O(n) (Sherman-Morrison) and recomputed every 64 steps and
    before stopping. IBSI-1 gives no reference value for the MVEE densities.
    """
    points = np.asarray(points, dtype=float)
    n, d = points.shape
    lifted = np.hstack([points, np.ones((n, 1))]).T  # (d + 1, n)
    weights = np.full(n, 1.0 / n)
    stale = True
    for iteration in range(_MVEE_MAX_ITERATIONS):
        fresh = stale or iteration % 64 == 0
        if fresh:
            inverse = np.linalg.inv((lifted * weights) @ lifted.T)
            distances = np.sum(lifted * (inverse @ lifted), axis=0)
        far = int(np.argmax(distances))
        near = int(np.argmin(np.where(weights > 0, distances, np.inf)))
        grow = distances[far] / (d + 1.0) - 1.0
        stale = grow <= _MVEE_TOLERANCE  # confirm convergence on exact distances
        if stale and fresh:
            break
        if stale:
            continue
        if grow > 1.0 - distances[near] / (d + 1.0):
            point = far
            step = (distances[far] - d - 1.0) / ((d + 1.0) * (distances[far] - 1.0))
            scale, change = 1.0 - step, step
        else:  # away step: shrink the weight of the point deepest inside
            point = near
            step = (d + 1.0 - distances[near]) / ((d + 1.0) * (distances[near] - 1.0))
            step = min(step, weights[near] / (1.0 - weights[near]))
            scale, change = 1.0 + step, -step
        weights = scale * weights
        weights[point] = max(weights[point] + change, 0.0)
        # scatter' = scale * scatter + change * q q^T, q = lifted[:, point]
        u = inverse @ lifted[:, point]
        ratio = change / scale
        denominator = 1.0 + ratio * distances[point]
        inverse = (inverse - ratio * np.outer(u, u) / denominator) / scale
        distances = (distances - ratio * (u @ lifted) ** 2 / denominator) / scale
    centre = points.T @ weights
    shape = np.linalg.inv((points.T * weights) @ points - np.outer(centre, centre)) / d
    return np.sort(1.0 / np.sqrt(np.linalg.eigvalsh(shape)))[::-1]

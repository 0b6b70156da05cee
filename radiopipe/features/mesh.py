r"""Marching-cubes surface of a 3D mask and marching-squares contour of a 2D mask (their diameters:
`radiopipe.features.diameters`).

Mesh vertices sit halfway along every grid edge whose two end voxels differ (the 0.5 iso-level of
a binary mask), on the mask padded by one empty voxel on every side. Coordinates are
``index * spacing`` in mm on that padded grid, (z, y, x) order.

The triangles of each 2x2x2 cube configuration reproduce pyradiomics' ``cshape.c``, which uses the
classic Lorensen-Cline table for the 128 configurations whose corner (1, 1, 0) is empty, and for
the other 128 the triangles of the complement with the volume sign negated. The triangulation of
the non-planar polygons was fitted to pyradiomics 3.1 on random masks (area and volume agree to
rounding), so the mesh volume and area equal pyradiomics' ``MeshVolume`` and ``SurfaceArea``.

Volume and area are sums of per-configuration constants, so no triangle list is ever built. With
the cube origin :math:`P` and the in-cube vertex offsets :math:`u, v, w` of a triangle (mm),

.. math::
    6 V = \sum_{\text{triangles}} (P + u) \cdot ((P + v) \times (P + w))
        = \sum_c \Big(\sum_{\text{cubes of } c} P\Big) \cdot N_c + n_c s_c,

with :math:`N_c = \sum (u \times v + v \times w + w \times u)` and
:math:`s_c = \sum u \cdot (v \times w)` over the triangles of configuration :math:`c`, and
:math:`A = \sum_c n_c A_c` with :math:`A_c = \sum \tfrac12 |(v - u) \times (w - u)|`.

Examples
--------
>>> mesh = surface_mesh(np.ones((1, 1, 1), dtype=bool), (1.0, 1.0, 1.0))
>>> round(mesh.volume, 6), round(mesh.area, 6), len(mesh.vertices)
(0.166667, 1.732051, 6)
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numba
import numpy as np

# Cube corner k sits at offset (k >> 2, (k >> 1) & 1, k & 1) in (z, y, x); bit k of a
# configuration is set when that corner is inside the mask.
_CUBE_CORNERS = np.array([(k >> 2, (k >> 1) & 1, k & 1) for k in range(8)], dtype=float)
_CUBE_EDGES = ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 3), (2, 6), (3, 7), (4, 5), (4, 6),
               (5, 7), (6, 7))
_EDGE_MIDPOINTS = np.array([(_CUBE_CORNERS[a] + _CUBE_CORNERS[b]) / 2 for a, b in _CUBE_EDGES])
# pyradiomics replaces a configuration with corner (1, 1, 0) inside by its complement.
_FLIP_BIT = 6
# Triangles of the 128 configurations without the flip corner, in increasing configuration order:
# three hexadecimal edge indices (into _CUBE_EDGES) per triangle, ordered so that the normal
# (v - u) x (w - u) points from the inside corners to the outside ones.
_TRIANGLES = (
    "", "210", "034", "342132", "651", "650260", "034651", "534654642", "357", "210357", "574054",
    "742572152", "731671", "267730270", "674164014", "742672", "289", "910890", "034289",
    "489349139", "651289", "965895850", "034651289", "653963893483", "289357", "910890357",
    "574054289", "574489549159", "731671289", "967730970890", "674164014289", "896486467", "a84",
    "210a84", "3a8038", "13aa821a2", "651a84", "650260a84", "3a8038651", "53aa825a2652",
    "357a84", "210357a84", "7a8578058", "a827a2572152", "731671a84", "267730270a84",
    "1677a8178018", "a827a2672", "4a9249", "a91a104a0", "3a9392032", "3a9139", "6514a9249",
    "a96650a604a0", "3a9392032651", "653963a93", "4a9249357", "a91a104a0357", "a927a2572052",
    "57a15a1a9", "7316714a9249", "730670960a904a0", "01606707a0a9092", "7a9679", "7ba", "2107ba",
    "0347ba", "3421327ba", "6517ba", "6502607ba", "0346517ba", "5346546427ba", "5ba35a",
    "2105ba35a", "05bba40b4", "5baa425a2152", "a31ba16b1", "a30ba06b0260", "ba46b4164014",
    "ba46b4642", "2897ba", "9108907ba", "0342897ba", "4893491397ba", "6512897ba", "9658958507ba",
    "0346512897ba", "6539638934837ba", "2895ba35a", "9108905ba35a", "05bba40b4289",
    "ba45b4154489149", "a31ba16b1289", "8966ba6a3630860", "ba46b4164014289", "8964866ba46a",
    "b847b4", "210b847b4", "37b03b0b8", "b827b2372132", "651b847b4", "650260b847b4",
    "37b03b0b8651", "65337b3b8382632", "5b8584354", "2105b8584354", "5b8058", "5b8582152",
    "b84431b416b1", "843b836b3263230", "16b01b0b8", "b826b2", "2477b9279", "910b907b0470",
    "b927b2372032", "7b9379139", "6512477b9279", "7b9479965950490", "b927b2372032651",
    "653963b937b3", "5b9359439249", "43545b4b9491410", "05bb920b2", "5b9159", "b92b24b43b316b1",
    "4306b9", "16b01bb920b2", "6b9",
)

# Square corner k sits at (k >> 1, k & 1) in (y, x); edges in the order they are met walking
# round the square: (0, 0)-(0, 1), (0, 1)-(1, 1), (1, 1)-(1, 0), (1, 0)-(0, 0).
_SQUARE_CORNERS = np.array([(k >> 1, k & 1) for k in range(4)], dtype=float)
_SQUARE_CYCLE = (0, 1, 3, 2)


class SurfaceMesh(NamedTuple):
    """Measures of the marching-cubes surface of a 3D mask.

    Attributes
    ----------
    volume : float
        Enclosed (signed) volume in mm^3.
    area : float
        Surface area in mm^2.
    vertices : ndarray, shape (n, 3)
        The distinct mesh vertices in mm, (z, y, x), padded-grid coordinates.
    lattice : ndarray of int, shape (n, 3)
        The same vertices in half voxels (``vertices = lattice * spacing / 2``): exact grid
        positions, for :func:`line_extremes`.
    """

    volume: float
    area: float
    vertices: np.ndarray
    lattice: np.ndarray


class Contour(NamedTuple):
    """Measures of the marching-squares contour of a 2D mask.

    Attributes
    ----------
    area : float
        Enclosed (signed) area in mm^2.
    perimeter : float
        Contour length in mm.
    vertices : ndarray, shape (n, 2)
        The distinct contour vertices in mm, (y, x), padded-grid coordinates.
    """

    area: float
    perimeter: float
    vertices: np.ndarray


@cache
def _cube_table() -> tuple[np.ndarray, np.ndarray]:
    """Triangle vertex offsets (256, 5, 3, 3) in voxels and the per-configuration volume sign."""
    offsets = np.zeros((256, 5, 3, 3))
    sign = np.ones(256)
    base = [c for c in range(256) if not (c >> _FLIP_BIT) & 1]
    for config in range(256):
        source = config ^ 0xFF if (config >> _FLIP_BIT) & 1 else config
        sign[config] = -1.0 if source != config else 1.0
        edges = [int(digit, 16) for digit in _TRIANGLES[base.index(source)]]
        triangles = _EDGE_MIDPOINTS[edges].reshape(-1, 3, 3)
        offsets[config, : len(triangles)] = triangles
    return offsets, sign


@cache
def _cube_constants(spacing: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-configuration area ``A_c``, signed normal sum ``N_c`` and volume term ``s_c``.

    Cached per spacing: a cohort usually shares a few spacings. The arrays are read-only.
    """
    offsets, sign = _cube_table()
    u, v, w = (offsets[:, :, k] * np.asarray(spacing, dtype=float) for k in range(3))
    area = 0.5 * np.linalg.norm(np.cross(v - u, w - u), axis=-1).sum(axis=1)
    normal = (np.cross(u, v) + np.cross(v, w) + np.cross(w, u)).sum(axis=1) * sign[:, None]
    triple = np.einsum("ctk,ctk->ct", u, np.cross(v, w)).sum(axis=1) * sign
    for constants in (area, normal, triple):
        constants.flags.writeable = False
    return area, normal, triple


def _padded(mask) -> np.ndarray:
    """The mask as uint8 0 / 1, padded with one empty voxel on every side."""
    mask = np.asarray(mask, dtype=bool)
    padded = np.zeros(tuple(n + 2 for n in mask.shape), dtype=np.uint8)
    padded[tuple(slice(1, n + 1) for n in mask.shape)] = mask
    return padded


@numba.njit(cache=True, nogil=True)
def _cube_sums(padded, spacing):  # pragma: no cover - compiled
    """Per cube configuration of a padded 3D mask (corner k at ``_CUBE_CORNERS[k]``), over the
    cubes cut by the surface: their number and the sums of their origins (mm), (256, 3), both
    accumulated in C order of the cubes."""
    counts = np.zeros(256)
    sums = np.zeros((256, 3))
    n_z, n_y, n_x = padded.shape
    for z in range(n_z - 1):
        for y in range(n_y - 1):
            for x in range(n_x - 1):
                config = (
                    padded[z, y, x] | padded[z, y, x + 1] << 1 | padded[z, y + 1, x] << 2
                    | padded[z, y + 1, x + 1] << 3 | padded[z + 1, y, x] << 4
                    | padded[z + 1, y, x + 1] << 5 | padded[z + 1, y + 1, x] << 6
                    | padded[z + 1, y + 1, x + 1] << 7
                )
                if config == 0 or config == 255:
                    continue
                counts[config] += 1.0
                sums[config, 0] += z * spacing[0]
                sums[config, 1] += y * spacing[1]
                sums[config, 2] += x * spacing[2]
    return counts, sums


@numba.njit(cache=True, nogil=True)
def _square_sums(padded, spacing):  # pragma: no cover - compiled
    """`_cube_sums` of a padded 2D mask: per square configuration (corner k at
    ``_SQUARE_CORNERS[k]``) over the squares cut by the contour, their number and the sums of
    their origins (mm), (16, 2)."""
    counts = np.zeros(16)
    sums = np.zeros((16, 2))
    n_y, n_x = padded.shape
    for y in range(n_y - 1):
        for x in range(n_x - 1):
            config = (
                padded[y, x] | padded[y, x + 1] << 1 | padded[y + 1, x] << 2
                | padded[y + 1, x + 1] << 3
            )
            if config == 0 or config == 15:
                continue
            counts[config] += 1.0
            sums[config, 0] += y * spacing[0]
            sums[config, 1] += x * spacing[1]
    return counts, sums


def _edge_lattice(padded: np.ndarray) -> np.ndarray:
    """Midpoints of the grid edges whose end voxels differ, in half voxels (int): the edges
    along axis 0 first, then 1 (then 2), each in C order. A 2D mask is one slice of a volume
    that has no edge across it."""
    if padded.ndim == 2:
        return _edge_lattice_3d(padded[None])[:, 1:]
    return _edge_lattice_3d(padded)


@numba.njit(cache=True, nogil=True)
def _edge_lattice_3d(padded):  # pragma: no cover - compiled
    """`_edge_lattice` of a 3D mask in one compiled pass per axis."""
    n_z, n_y, n_x = padded.shape
    out = np.empty((3 * padded.size, 3), dtype=np.int64)
    n = 0
    for axis in range(3):
        step_z, step_y, step_x = int(axis == 0), int(axis == 1), int(axis == 2)
        for z in range(n_z - step_z):
            for y in range(n_y - step_y):
                for x in range(n_x - step_x):
                    if padded[z, y, x] != padded[z + step_z, y + step_y, x + step_x]:
                        out[n, 0] = 2 * z + step_z
                        out[n, 1] = 2 * y + step_y
                        out[n, 2] = 2 * x + step_x
                        n += 1
    return out[:n].copy()


def _edge_vertices(padded: np.ndarray, spacing) -> np.ndarray:
    """Midpoints (mm) of the grid edges whose end voxels differ."""
    return _edge_lattice(padded) * (np.asarray(spacing, dtype=float) / 2)


def surface_mesh(mask, spacing) -> SurfaceMesh:
    """Volume, area and vertices of the marching-cubes surface of a 3D mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (z, y, x)
        The ROI; it is padded with one empty voxel on every side.
    spacing : tuple of 3 float
        Voxel spacing in mm, (z, y, x).

    Returns
    -------
    SurfaceMesh
    """
    padded = _padded(mask)
    spacing = tuple(float(s) for s in spacing)
    counts, origin_sums = _cube_sums(padded, np.asarray(spacing))
    area_c, normal_c, triple_c = _cube_constants(spacing)
    volume = (np.sum(origin_sums * normal_c) + counts @ triple_c) / 6.0
    lattice = _edge_lattice(padded)
    vertices = lattice * (np.asarray(spacing, dtype=float) / 2)
    return SurfaceMesh(float(volume), float(counts @ area_c), vertices, lattice)


@cache
def _square_table() -> tuple[np.ndarray, np.ndarray]:
    """Segment end points (16, 2, 2, 2) in pixels and the number of segments per configuration.

    A segment joins the midpoints of the two cut edges next to each inside corner region; where
    two diagonal corners are inside they stay apart (one segment each), as in pyradiomics. The
    inside lies to the left of every segment, which makes the enclosed area positive.
    """
    ends = np.zeros((16, 2, 2, 2))
    n_segments = np.zeros(16, dtype=int)
    for config in range(16):
        inside = [(config >> k) & 1 for k in _SQUARE_CYCLE]
        cut = [k for k in range(4) if inside[k] != inside[(k + 1) % 4]]
        if len(cut) == 4:
            pairs = [((k - 1) % 4, k) for k in range(4) if inside[k]]
        else:
            pairs = [tuple(cut)] if cut else []
        for n, (first, second) in enumerate(pairs):
            a, b = (_square_edge_midpoint(k) for k in (first, second))
            corner = _SQUARE_CORNERS[_SQUARE_CYCLE[second]]
            if not inside[second]:
                corner = _SQUARE_CORNERS[_SQUARE_CYCLE[(second + 1) % 4]]
            if _cross2(b - a, corner - a) < 0:
                a, b = b, a
            ends[config, n] = a, b
        n_segments[config] = len(pairs)
    return ends, n_segments


def _square_edge_midpoint(k: int) -> np.ndarray:
    """Midpoint of the k-th edge met walking round the square."""
    return (_SQUARE_CORNERS[_SQUARE_CYCLE[k]] + _SQUARE_CORNERS[_SQUARE_CYCLE[(k + 1) % 4]]) / 2


def _cross2(p, q):
    """z component of the cross product of (y, x) vectors."""
    return p[..., 0] * q[..., 1] - p[..., 1] * q[..., 0]


def contour(mask, spacing) -> Contour:
    """Area, perimeter and vertices of the marching-squares contour of a 2D mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (y, x)
    spacing : tuple of 2 float
        Pixel spacing in mm, (y, x).

    Returns
    -------
    Contour
    """
    padded = _padded(mask)
    counts, origin_sums = _square_sums(padded, np.asarray(spacing, dtype=float))
    ends, _ = _square_table()
    ends = ends * np.asarray(spacing, dtype=float)
    a, b = ends[:, :, 0], ends[:, :, 1]
    length = np.linalg.norm(b - a, axis=-1).sum(axis=1)
    # a x b for a = P + p, b = P + q: P x (q - p) + p x q, summed per configuration.
    direction = (b - a).sum(axis=1)
    own = _cross2(a, b).sum(axis=1)
    twice_area = np.sum(_cross2(origin_sums, direction)) + counts @ own
    return Contour(float(twice_area / 2.0), float(counts @ length), _edge_vertices(padded, spacing))

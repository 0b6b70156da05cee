"""Local binary pattern image type in 3D, as pyradiomics computes it (``lbp-3D-m<n>``, ``-k``).

pyradiomics' ``getLBP3DImage`` (Banerjee et al. 2013) samples each voxel's neighbourhood at the
vertices of an icosphere, thresholds the samples at the voxel's own value and expands the binary
pattern in spherical harmonics: image ``lbp-3D-m<n + 1>`` is, for each degree ``n < levels``, the
norm over the vertices of the pattern's degree-``n`` part (rotation invariant), and ``lbp-3D-k``
the kurtosis of the samples. Every voxel's value depends on its own neighbourhood alone, so the
voxels outside a ``region`` are not computed (pyradiomics computes the ROI's voxels only; the
families read no other).

The icosphere is generated here with trimesh's own arithmetic (an icosahedron, each subdivision
splitting every edge at its midpoint, every vertex then pushed onto the sphere), so its vertices
equal ``trimesh.creation.icosphere``'s bit for bit and in its order without needing trimesh: the
samples are thresholded at exactly the same points and summed in the same order.
"""

from __future__ import annotations

import numpy as np

from radiopipe.xp import get_namespace, to_numpy

# trimesh's icosahedron (resources/creation.json): unit vertices and faces.
_A, _B = 0.5257311121191336, 0.85065080835204
_ICOSAHEDRON_VERTICES = np.array([
    [-_A, _B, 0.0], [_A, _B, 0.0], [-_A, -_B, 0.0], [_A, -_B, 0.0],
    [0.0, -_A, _B], [0.0, _A, _B], [0.0, -_A, -_B], [0.0, _A, -_B],
    [_B, 0.0, -_A], [_B, 0.0, _A], [-_B, 0.0, -_A], [-_B, 0.0, _A],
])
_ICOSAHEDRON_FACES = np.array([
    [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
    [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
    [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
])


def icosphere_vertices(subdivisions: int = 1, radius: float = 1.0) -> np.ndarray:
    """Vertices of an icosphere, as ``trimesh.creation.icosphere(subdivisions, radius)`` has them.

    Parameters
    ----------
    subdivisions : int
        Times every triangle is split into four (12, 42, 162, ... vertices).
    radius : float
        Radius of the sphere.

    Returns
    -------
    ndarray of float64, shape (n, 3)
        The vertices in trimesh's order (sums over them then add in the same order).

    Examples
    --------
    >>> icosphere_vertices(1).shape
    (42, 3)
    >>> bool(np.allclose(np.linalg.norm(icosphere_vertices(2, 2.0), axis=1), 2.0))
    True
    """
    vertices, faces = _ICOSAHEDRON_VERTICES.copy(), _ICOSAHEDRON_FACES
    for _ in range(int(subdivisions)):
        vertices, faces = _subdivide(vertices, faces)
        vertices = _onto_sphere(vertices, float(radius))
    if subdivisions <= 0:
        vertices = _onto_sphere(vertices, float(radius))
    return vertices


def _subdivide(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every edge split at its midpoint (the mean of its two ends), every face into four, in
    trimesh's order: the midpoints appended by edge (higher, lower vertex index), the four faces
    of each face in its place."""
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    key = edges[:, 1] * len(vertices) + edges[:, 0]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    middle = vertices[edges[first]].mean(axis=1)
    mid = inverse.reshape(-1, 3) + len(vertices)  # the midpoints of edges ab, bc, ca
    a, b, c = faces.T
    ab, bc, ca = mid.T
    new_faces = np.column_stack([a, ab, ca, ab, b, bc, ca, bc, c, ab, bc, ca]).reshape(-1, 3)
    return np.vstack([vertices, middle]), new_faces


def _onto_sphere(vertices: np.ndarray, radius: float) -> np.ndarray:
    """Vertices moved along their direction onto the sphere, in trimesh's arithmetic."""
    scalar = np.sqrt(np.dot(vertices**2, [1, 1, 1]))
    unit = vertices / scalar.reshape((-1, 1))
    return vertices + unit * (radius - scalar).reshape((-1, 1))


def local_binary_pattern_3d(
    image,
    *,
    levels: int = 2,
    radius: float = 1.0,
    subdivisions: int = 1,
    region: tuple[slice, ...] | None = None,
) -> dict:
    """pyradiomics' LBP 3D images: rotation-invariant spherical-harmonic pattern norms and the
    kurtosis of each voxel's spherical samples.

    Parameters
    ----------
    image : array
        (z, y, x) image in its own type, NumPy or CuPy (filtered on the host, returned in its
        namespace). As in pyradiomics, the samples keep the image's type: an integer image's
        interpolated samples are integers.
    levels : int
        Spherical-harmonic degrees ``0..levels - 1`` (pyradiomics' ``lbp3DLevels``).
    radius : float
        Icosphere radius in voxels (``lbp3DIcosphereRadius``).
    subdivisions : int
        Icosphere subdivisions (``lbp3DIcosphereSubdivision``).
    region : tuple of slice, optional
        Compute the images over this box only.

    Returns
    -------
    dict of str to array
        ``'lbp-3D-m1'``, ..., ``'lbp-3D-m<levels>'`` and ``'lbp-3D-k'``, float64, shaped as
        ``image`` or ``region``.

    Notes
    -----
    Deviations kept for pyradiomics' values (``definitions: pyradiomics``), each where
    pyradiomics makes it:

    - the vertex offsets are in voxels along the array axes (vertex x along axis 0), whatever
      the spacing;
    - pyradiomics computes a vertex's polar angle ``arccos(z / r)`` and azimuth
      ``arctan2(y, x)`` but passes them to SciPy's former ``sph_harm(m, n, theta, phi)`` as its
      azimuth and polar angle respectively: the harmonics are evaluated at swapped angles.
      Written here with ``sph_harm_y(n, m, polar, azimuth)``, the successor SciPy keeps, at the
      same swapped angles. The harmonics are then no longer orthogonal over the sphere: a flat
      neighbourhood (all samples equal) keeps a degree-1 part, which would vanish at the true
      angles;
    - the norm over the vertices is ``sqrt(sum(g ** 2))`` of the complex projections ``g``
      (not of ``|g| ** 2``), its real part kept.
    """
    from scipy.ndimage import map_coordinates
    from scipy.special import sph_harm_y

    xp = get_namespace(image)
    host = to_numpy(image)
    if host.ndim != 3:
        raise ValueError(f"LBP 3D needs a 3D image. Got {host.ndim} dimensions instead.")
    if region is None:
        region = tuple(slice(0, size) for size in host.shape)
    vertices = icosphere_vertices(subdivisions, radius)
    polar = np.arccos(np.true_divide(vertices[:, 2], radius))
    azimuth = np.arctan2(vertices[:, 1], vertices[:, 0])
    degrees = [(n, m) for n in range(levels) for m in range(-n, n + 1)]
    # pyradiomics' sph_harm(m, n, polar, azimuth): scipy's azimuth and polar slots swapped.
    harmonics = np.column_stack([sph_harm_y(n, m, azimuth, polar) for n, m in degrees])
    degree_of = np.array([n for n, _ in degrees])

    grid = np.indices(tuple(s.stop - s.start for s in region)).reshape(3, -1).T
    centres = grid + np.array([s.start for s in region])  # (Np, 3) voxel indices
    coords = centres[None, :, :] + vertices[:, None, :]  # (Nv, Np, 3)
    samples = map_coordinates(host, coords.T, order=3)  # (Np, Nv), in the image's type
    kurtosis = _kurtosis(samples)
    pattern = np.greater_equal(samples, host[tuple(centres.T)][:, None]).astype(int)
    coefficients = (pattern[:, :, None] * harmonics[None, :, :]).sum(axis=1)  # (Np, x)
    shape = tuple(s.stop - s.start for s in region)
    # One (Np, Nv, levels) stack reduced over its middle axis, as pyradiomics does: the same
    # summation order, so that equal patterns give bit-equal values (percentiles read ties).
    projections = np.concatenate([
        np.sum(coefficients[:, None, degree_of == n] * harmonics[None, :, degree_of == n],
               axis=2, keepdims=True)
        for n in range(levels)
    ], axis=2)
    norms = np.real(np.sqrt(np.sum(projections**2, axis=1)))  # (Np, levels)
    images = {
        f"lbp-3D-m{n + 1}": xp.asarray(np.ascontiguousarray(norms[:, n]).reshape(shape))
        for n in range(levels)
    }
    images["lbp-3D-k"] = xp.asarray(kurtosis.reshape(shape))
    return images


def _kurtosis(samples: np.ndarray) -> np.ndarray:
    """Excess kurtosis of each row (biased), NaN where the row is constant: SciPy's
    ``scipy.stats.kurtosis(samples, axis=1)`` without its warning for constant rows."""
    values = samples.astype(np.float64)
    mean = values.mean(axis=1, keepdims=True)
    centred = values - mean
    squared = centred**2
    m2 = squared.mean(axis=1)
    m4 = (squared * squared).mean(axis=1)
    constant = m2 <= (np.finfo(np.float64).resolution * mean[:, 0]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kurtosis = m4 / m2**2 - 3.0
    return np.where(constant, np.nan, kurtosis)

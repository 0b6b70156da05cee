r"""Shape / morphology features of a 3D ROI (IBSI section 3.1, prefix ``morph_``; pyradiomics
``shape``).

Size and compactness come from the marching-cubes surface of the mask (:mod:`.mesh`): mesh volume
:math:`V`, surface area :math:`A`. Diameters are the largest distances between mesh vertices,
found among the vertices first or last on their grid lines (pair by pair, or on their convex hull
when a density needs the hull anyway or the vertices are many). Axis lengths come from the
principal moments :math:`\lambda_{major} \ge \lambda_{minor} \ge \lambda_{least}` of the
voxel-centre coordinates (mm). Densities divide :math:`V` and :math:`A` by the volume and area of
an enclosing body: axis-aligned bounding box, oriented minimum bounding box, approximate enclosing
ellipsoid (semi-axes :math:`2\sqrt{\lambda}`), minimum volume enclosing ellipsoid and convex hull
(the bodies in :mod:`.enclosing`).

Features that need intensities (centre of mass shift, integrated intensity, Moran's I, Geary's C)
are computed only when ``image`` is given.

Modes differ in one place: the covariance of the voxel coordinates is normalised by :math:`N`
in pyradiomics and by :math:`N - 1` in IBSI (the IBSI-1 phantom axis lengths need the latter),
which changes the axis lengths and the approximate-ellipsoid densities.

Examples
--------
>>> cube = np.ones((2, 2, 2), dtype=bool)
>>> features = compute_shape(cube, (1.0, 1.0, 1.0), mode="pyradiomics")
>>> features["VoxelVolume"], round(features["Maximum3DDiameter"], 4)
(8.0, 2.4495)
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.diameters import (
    hull_candidates,
    line_extremes,
    max_distance,
    max_distance_in_planes,
)
from radiopipe.features.enclosing import (
    box_area,
    ellipsoid_surface_area,
    ellipsoid_volume,
    minimum_volume_enclosing_ellipsoid,
    oriented_minimum_bounding_box,
)
from radiopipe.features.mesh import surface_mesh
from radiopipe.preprocess.crop import crop_slices
from radiopipe.xp import to_numpy

MODES = ("ibsi", "pyradiomics")

FEATURE_NAMES = (
    "MeshVolume",
    "VoxelVolume",
    "SurfaceArea",
    "SurfaceVolumeRatio",
    "Sphericity",
    "Compactness1",
    "Compactness2",
    "SphericalDisproportion",
    "Asphericity",
    "Maximum3DDiameter",
    "Maximum2DDiameterSlice",
    "Maximum2DDiameterColumn",
    "Maximum2DDiameterRow",
    "MajorAxisLength",
    "MinorAxisLength",
    "LeastAxisLength",
    "Elongation",
    "Flatness",
    "VolumeDensityAxisAlignedBoundingBox",
    "AreaDensityAxisAlignedBoundingBox",
    "VolumeDensityOrientedMinimumBoundingBox",
    "AreaDensityOrientedMinimumBoundingBox",
    "VolumeDensityApproximateEnclosingEllipsoid",
    "AreaDensityApproximateEnclosingEllipsoid",
    "VolumeDensityMinimumVolumeEnclosingEllipsoid",
    "AreaDensityMinimumVolumeEnclosingEllipsoid",
    "VolumeDensityConvexHull",
    "AreaDensityConvexHull",
    "CentreOfMassShift",
    "IntegratedIntensity",
    "MoransI",
    "GearysC",
)
INTENSITY_FEATURES = ("CentreOfMassShift", "IntegratedIntensity", "MoransI", "GearysC")

# The largest distances within planes of constant z, y and x.
_PLANE_DIAMETERS = ("Maximum2DDiameterSlice", "Maximum2DDiameterColumn", "Maximum2DDiameterRow")
# The features computed from the convex hull of the mesh vertices (densities of enclosing bodies).
_HULL_FEATURES = frozenset(
    name for name in FEATURE_NAMES if name.startswith(("VolumeDensity", "AreaDensity"))
)


def compute_shape(
    mask, spacing, *, mode: str = "ibsi", image=None, intensity_mask=None, features=None
) -> dict[str, float]:
    r"""Shape features of a 3D ROI.

    Parameters
    ----------
    mask : array of bool, shape (z, y, x)
        The ROI; must hold at least one voxel. It is cropped to its bounding box first (as
        pyradiomics' extractor does), so the mesh origin matches pyradiomics'.
    spacing : tuple of 3 float
        Voxel spacing in mm, (z, y, x).
    mode : {'ibsi', 'pyradiomics'}
        Covariance normalisation of the principal axes (see the module docstring).
    image : array of float, shape (z, y, x), optional
        Intensities; needed for ``INTENSITY_FEATURES``, which are left out without it.
    intensity_mask : array of bool, same shape, optional
        The ROI after re-segmentation (IBSI's intensity mask, a subset of ``mask``); defaults to
        ``mask``. IBSI's intensity-based morphological features mix the two masks: the centre of
        mass shift runs from ``mask``'s centroid to the intensity mask's intensity-weighted
        centroid, the integrated intensity is the mesh volume of ``mask`` times the intensity
        mask's mean, Moran's I and Geary's C run over the intensity mask.
    features : iterable of str, optional
        Names (from ``FEATURE_NAMES``) to return; default all. The costly IBSI-only bodies (the
        oriented minimum bounding box, the minimum volume enclosing ellipsoid) and Moran's I /
        Geary's C are computed only when one of their features is asked for.

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order. Ratios whose denominator vanishes (zero mesh
        volume, a zero-extent axis, a flat enclosing ellipsoid) are NaN: they are undefined.

    Notes
    -----
    :math:`\mathrm{sphericity} = (36 \pi V^2)^{1/3} / A`, compactness 1
    :math:`= V / (\sqrt{\pi} A^{3/2})`, compactness 2 :math:`= 36 \pi V^2 / A^3`, spherical
    disproportion :math:`= A / (36 \pi V^2)^{1/3}`, asphericity = spherical disproportion - 1;
    axis length :math:`= 4 \sqrt{\lambda}`, elongation
    :math:`= \sqrt{\lambda_{minor} / \lambda_{major}}`, flatness
    :math:`= \sqrt{\lambda_{least} / \lambda_{major}}`.
    """
    if mode not in MODES:
        raise ValueError(
            f"The 'mode' parameter of compute_shape must be one of {MODES}. Got {mode!r} instead."
        )
    wanted = _wanted(features)
    mask, image, intensity_mask, spacing = _prepare(mask, image, intensity_mask, spacing)
    mesh = surface_mesh(mask, spacing)
    extremes = line_extremes(mesh.lattice)
    along_z, along_y, along_x = extremes.T
    candidates = mesh.vertices[hull_candidates(mesh.lattice, extremes=extremes)]
    # Per plane of constant z, y or x, the vertices extreme along both of its axes.
    in_plane = (along_y & along_x, along_z & along_x, along_z & along_y)
    moments = principal_moments(mask, spacing, ddof=1 if mode == "ibsi" else 0)
    values = {
        **_size_features(mesh.volume, mesh.area, np.count_nonzero(mask) * float(np.prod(spacing))),
        **{
            name: max_distance_in_planes(mesh.vertices[in_plane[axis]], axis)
            for axis, name in enumerate(_PLANE_DIAMETERS)
        },
        **_axis_features(moments),
    }
    if wanted.isdisjoint(_HULL_FEATURES):
        # Only the diameter would need the hull: the line extremes are searched pair by pair.
        values["Maximum3DDiameter"] = max_distance(candidates)
    else:
        from scipy.spatial import ConvexHull  # the hull densities only (IBSI features)

        hull = ConvexHull(candidates)
        hull_points = candidates[hull.vertices]
        values["Maximum3DDiameter"] = max_distance(hull_points, on_hull=True)
        values.update(
            _density_features(mesh.volume, mesh.area, hull, hull_points, moments, wanted)
        )
    if image is not None and not wanted.isdisjoint(INTENSITY_FEATURES):
        values.update(
            _intensity_features(image, mask, intensity_mask, spacing, mesh.volume, wanted)
        )
    kept = wanted.intersection(values)
    return {name: float(values[name]) for name in FEATURE_NAMES if name in kept}


def _wanted(features) -> frozenset[str]:
    if features is None:
        return frozenset(FEATURE_NAMES)
    wanted = frozenset(features)
    unknown = sorted(wanted - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(
            f"The 'features' parameter of compute_shape must name features of FEATURE_NAMES. "
            f"Got {unknown} instead."
        )
    return wanted


def _prepare(mask, image, intensity_mask, spacing):
    """Validate the inputs and crop them to the ROI's bounding box."""
    mask = np.asarray(to_numpy(mask), dtype=bool)
    if mask.ndim != 3:
        raise ValueError(
            "The 'mask' parameter of compute_shape must be 3D (z, y, x). "
            f"Got shape {mask.shape} instead."
        )
    if not mask.any():
        raise ValueError(
            "The 'mask' parameter of compute_shape must hold at least one voxel. "
            "Got an empty mask instead."
        )
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != 3 or min(spacing) <= 0:
        raise ValueError(
            "The 'spacing' parameter of compute_shape must be 3 floats > 0. "
            f"Got {spacing!r} instead."
        )
    slices = crop_slices(mask)
    if image is not None:
        image = to_numpy(image)
        if image.shape != mask.shape:
            raise ValueError(
                "The 'image' parameter of compute_shape must have the mask's shape "
                f"{mask.shape}. Got {image.shape} instead."
            )
        image = image[slices].astype(np.float64)
    if intensity_mask is None:
        intensity_mask = mask
    intensity_mask = np.asarray(to_numpy(intensity_mask), dtype=bool)
    if intensity_mask.shape != mask.shape or (intensity_mask & ~mask).any():
        raise ValueError(
            "The 'intensity_mask' parameter of compute_shape must be a subset of the mask, "
            f"shape {mask.shape}. Got shape {intensity_mask.shape} instead."
        )
    return mask[slices], image, intensity_mask[slices], spacing


def ratio_or_nan(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN where the denominator vanishes (the ratio is undefined)."""
    return numerator / denominator if denominator != 0 else float("nan")


def _size_features(volume: float, area: float, voxel_volume: float) -> dict[str, float]:
    sphere_area = (36.0 * np.pi * volume**2) ** (1.0 / 3.0)  # area of the sphere of volume V
    disproportion = ratio_or_nan(area, sphere_area)
    return {
        "MeshVolume": volume,
        "VoxelVolume": voxel_volume,
        "SurfaceArea": area,
        "SurfaceVolumeRatio": ratio_or_nan(area, volume),
        "Sphericity": ratio_or_nan(sphere_area, area),
        "Compactness1": ratio_or_nan(volume, np.sqrt(np.pi) * area**1.5),
        "Compactness2": ratio_or_nan(36.0 * np.pi * volume**2, area**3),
        "SphericalDisproportion": disproportion,
        "Asphericity": disproportion - 1.0,
    }


def principal_moments(mask, spacing, *, ddof: int) -> np.ndarray:
    """Eigenvalues (ascending) of the covariance of the ROI's voxel-centre coordinates in mm.

    ``ddof=0`` normalises by :math:`N` (pyradiomics), ``ddof=1`` by :math:`N - 1` (IBSI). A single
    voxel has zero extent: its moments are 0 in both modes. Round-off negatives down to -1e-10
    (flat ROIs) are set to 0, as pyradiomics does.
    """
    coordinates = voxel_indices(mask) * np.asarray(spacing, dtype=float)
    n = len(coordinates)
    if n < 2:
        return np.zeros(mask.ndim)
    centred = coordinates - coordinates.mean(axis=0)
    moments = np.sort(np.linalg.eigvalsh(centred.T @ centred / (n - ddof)))
    moments[(moments < 0) & (moments > -1e-10)] = 0.0
    return moments


def voxel_indices(mask) -> np.ndarray:
    """``np.argwhere(mask)`` of a 2D or 3D mask, found in one compiled pass: the (n, ndim) int64
    indices of its voxels in C order, laid out as argwhere's (the transpose of an (ndim, n)
    array), so that reductions over them add in the same order."""
    mask = np.asarray(mask, dtype=bool)
    indices = _voxel_indices_3d(mask.reshape((1,) * (3 - mask.ndim) + mask.shape))
    return indices[3 - mask.ndim :].T


@numba.njit(cache=True, nogil=True)
def _voxel_indices_3d(mask):  # pragma: no cover - compiled
    """The (3, n) indices of the voxels of a 3D mask."""
    n_z, n_y, n_x = mask.shape
    out = np.empty((3, np.count_nonzero(mask)), dtype=np.int64)
    n = 0
    for z in range(n_z):
        for y in range(n_y):
            for x in range(n_x):
                if mask[z, y, x]:
                    out[0, n] = z
                    out[1, n] = y
                    out[2, n] = x
                    n += 1
    return out


def _axis_features(moments: np.ndarray) -> dict[str, float]:
    least, minor, major = moments
    return {
        "MajorAxisLength": 4.0 * np.sqrt(major),
        "MinorAxisLength": 4.0 * np.sqrt(minor),
        "LeastAxisLength": 4.0 * np.sqrt(least),
        # A single voxel has no major axis: both ratios are 0 / 0.
        "Elongation": np.sqrt(ratio_or_nan(minor, major)),
        "Flatness": np.sqrt(ratio_or_nan(least, major)),
    }


def _density_features(volume, area, hull, hull_points, moments, wanted) -> dict[str, float]:
    extent = np.ptp(hull_points, axis=0)
    features = {
        "VolumeDensityAxisAlignedBoundingBox": ratio_or_nan(volume, np.prod(extent)),
        "AreaDensityAxisAlignedBoundingBox": ratio_or_nan(area, box_area(extent)),
        "VolumeDensityConvexHull": ratio_or_nan(volume, hull.volume),
        "AreaDensityConvexHull": ratio_or_nan(area, hull.area),
    }
    if _wants_body(wanted, "OrientedMinimumBoundingBox"):
        box_volume, box_surface = oriented_minimum_bounding_box(hull_points)
        features["VolumeDensityOrientedMinimumBoundingBox"] = ratio_or_nan(volume, box_volume)
        features["AreaDensityOrientedMinimumBoundingBox"] = ratio_or_nan(area, box_surface)
    ellipsoids = {}
    if _wants_body(wanted, "ApproximateEnclosingEllipsoid"):
        ellipsoids["ApproximateEnclosingEllipsoid"] = 2.0 * np.sqrt(moments[::-1])
    if _wants_body(wanted, "MinimumVolumeEnclosingEllipsoid"):
        ellipsoids["MinimumVolumeEnclosingEllipsoid"] = minimum_volume_enclosing_ellipsoid(
            hull_points
        )
    for body, semi_axes in ellipsoids.items():
        features[f"VolumeDensity{body}"] = ratio_or_nan(volume, ellipsoid_volume(semi_axes))
        features[f"AreaDensity{body}"] = ratio_or_nan(area, ellipsoid_surface_area(*semi_axes))
    return features


def _wants_body(wanted: frozenset[str], body: str) -> bool:
    return f"VolumeDensity{body}" in wanted or f"AreaDensity{body}" in wanted


def _intensity_features(image, mask, intensity_mask, spacing, volume, wanted) -> dict[str, float]:
    scale = np.asarray(spacing, dtype=float)
    values = image[intensity_mask]
    geometric_centre = np.argwhere(mask).mean(axis=0) * scale
    total = values.sum()
    # The intensity-weighted centre is undefined when the intensities sum to 0.
    weighted_centre = (
        (np.argwhere(intensity_mask) * scale).T @ values / total
        if total != 0
        else np.full(3, np.nan)
    )
    features = {
        "CentreOfMassShift": float(np.linalg.norm(geometric_centre - weighted_centre)),
        "IntegratedIntensity": float(values.mean() * volume),
    }
    if "MoransI" in wanted or "GearysC" in wanted:
        features["MoransI"], features["GearysC"] = spatial_autocorrelation(
            image, intensity_mask, spacing
        )
    return features


def spatial_autocorrelation(image, mask, spacing) -> tuple[float, float]:
    r"""Moran's I and Geary's C of the ROI intensities with inverse-distance weights.

    .. math::
        I = \frac{N}{\sum w_{ij}} \frac{\sum w_{ij} (x_i - \mu)(x_j - \mu)}{\sum (x_i - \mu)^2},
        \quad
        C = \frac{N - 1}{2 \sum w_{ij}} \frac{\sum w_{ij} (x_i - x_j)^2}{\sum (x_i - \mu)^2},

    over ordered voxel pairs :math:`i \ne j` of the ROI, :math:`w_{ij} = 1 / \lVert r_i - r_j
    \rVert` (mm). The weights depend only on the displacement, so every pair sum is a
    correlation with the kernel :math:`w(d)`, computed exactly by FFT on a grid of twice the
    bounding box: O(n log n) time and O(bounding box) memory instead of O(N^2). A flat ROI
    (one intensity, or one voxel) gets :math:`I = C = 1`, the convention of the IBSI reference
    implementation (MIRP), where the ratios would be 0 / 0.
    """
    values = image[mask]
    deviation = np.where(mask, image - values.mean(), 0.0)
    squares = float(np.sum(deviation**2))
    if squares == 0 or len(values) < 2:
        return 1.0, 1.0
    from scipy import fft  # Moran's I and Geary's C only (IBSI features)

    shape = mask.shape
    fft_shape = [fft.next_fast_len(2 * n - 1, real=True) for n in shape]
    kernel = fft.rfftn(_inverse_distance_kernel(shape, fft_shape, spacing), fft_shape)

    def weighted_sum_around(field):
        """sum_j w(r - r_j) field(r_j) at every voxel r of the bounding box."""
        full = fft.irfftn(fft.rfftn(field, fft_shape) * kernel, fft_shape)
        return full[tuple(slice(0, n) for n in shape)]

    around_roi = weighted_sum_around(mask.astype(float))
    weight_sum = float(np.sum(around_roi[mask]))
    cross = float(np.sum(deviation * weighted_sum_around(deviation)))
    spread = float(np.sum(deviation**2 * around_roi))  # sum_ij w_ij x_i^2 (deviations)
    n = len(values)
    moran = n / weight_sum * cross / squares
    geary = (n - 1) / (2.0 * weight_sum) * (2.0 * spread - 2.0 * cross) / squares
    return float(moran), float(geary)


def _inverse_distance_kernel(shape, fft_shape, spacing) -> np.ndarray:
    """1 / |d| (mm) for displacements |d_k| < shape_k, wrapped onto the FFT grid; 0 elsewhere."""
    squared = np.zeros(fft_shape)
    valid = np.ones(fft_shape, dtype=bool)
    for axis, (n, length, step) in enumerate(zip(shape, fft_shape, spacing)):
        index = np.arange(length)
        displacement = np.where(index < length - index, index, index - length)
        view = [1] * len(shape)
        view[axis] = length
        squared = squared + ((displacement * step) ** 2).reshape(view)
        valid &= (np.abs(displacement) < n).reshape(view)
    kernel = np.zeros(fft_shape)
    usable = valid & (squared > 0)
    kernel[usable] = 1.0 / np.sqrt(squared[usable])
    return kernel

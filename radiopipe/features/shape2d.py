r"""Shape features of a 2D ROI (pyradiomics ``shape2D``; IBSI-1 defines no 2D morphology).

The contour is the marching-squares line of the mask (:func:`.mesh.contour`): vertices halfway
along every pixel edge whose two pixels differ, diagonal neighbours kept apart. :math:`A` is the
area it encloses, :math:`P` its length; axis lengths come from the principal moments
:math:`\lambda_{major} \ge \lambda_{minor}` of the pixel-centre coordinates (mm).

Modes differ only in the covariance normalisation of the principal moments, as in
:mod:`.shape`: :math:`N` in pyradiomics, :math:`N - 1` in IBSI mode (for consistency with the 3D
IBSI axis lengths; IBSI itself has no 2D reference).

Examples
--------
>>> square = np.ones((2, 2), dtype=bool)
>>> features = compute_shape2d(square, (1.0, 1.0), mode="pyradiomics")
>>> features["MeshSurface"], features["PixelSurface"], round(features["Perimeter"], 4)
(3.5, 4.0, 6.8284)
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.diameters import max_distance
from radiopipe.features.mesh import contour
from radiopipe.features.shape import MODES, principal_moments, ratio_or_nan
from radiopipe.xp import to_numpy

FEATURE_NAMES = (
    "MeshSurface",
    "PixelSurface",
    "Perimeter",
    "PerimeterSurfaceRatio",
    "Sphericity",
    "SphericalDisproportion",
    "MaximumDiameter",
    "MajorAxisLength",
    "MinorAxisLength",
    "Elongation",
)


def compute_shape2d(mask, spacing, *, mode: str = "ibsi") -> dict[str, float]:
    r"""Shape features of a 2D ROI.

    Parameters
    ----------
    mask : array of bool, shape (y, x), or (1, y, x) for one slice of a volume
        The ROI; must hold at least one pixel.
    spacing : tuple of float
        Pixel spacing in mm, (y, x); a (z, y, x) spacing is accepted and its z dropped.
    mode : {'ibsi', 'pyradiomics'}
        Covariance normalisation of the principal axes (see the module docstring).

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order; ratios with a vanishing denominator are NaN
        (undefined).

    Notes
    -----
    :math:`\mathrm{sphericity} = 2 \sqrt{\pi A} / P`, spherical disproportion = 1 / sphericity,
    axis length :math:`= 4 \sqrt{\lambda}`, elongation
    :math:`= \sqrt{\lambda_{minor} / \lambda_{major}}`; the maximum diameter is the largest
    distance between contour vertices.
    """
    if mode not in MODES:
        raise ValueError(
            f"The 'mode' parameter of compute_shape2d must be one of {MODES}. Got {mode!r} instead."
        )
    mask, spacing = _prepare(mask, spacing)
    outline = contour(mask, spacing)
    minor, major = principal_moments(mask, spacing, ddof=1 if mode == "ibsi" else 0)
    area, perimeter = outline.area, outline.perimeter
    sphericity = ratio_or_nan(2.0 * np.sqrt(np.pi * area), perimeter)
    features = {
        "MeshSurface": area,
        "PixelSurface": np.count_nonzero(mask) * spacing[0] * spacing[1],
        "Perimeter": perimeter,
        "PerimeterSurfaceRatio": ratio_or_nan(perimeter, area),
        "Sphericity": sphericity,
        "SphericalDisproportion": ratio_or_nan(1.0, sphericity),
        "MaximumDiameter": max_distance(outline.vertices),
        "MajorAxisLength": 4.0 * np.sqrt(major),
        "MinorAxisLength": 4.0 * np.sqrt(minor),
        # A single pixel has no major axis: the ratio is 0 / 0.
        "Elongation": np.sqrt(ratio_or_nan(minor, major)),
    }
    return {name: float(features[name]) for name in FEATURE_NAMES}


def _prepare(mask, spacing) -> tuple[np.ndarray, tuple[float, float]]:
    mask = np.asarray(to_numpy(mask), dtype=bool)
    if mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.ndim != 2:
        raise ValueError(
            "The 'mask' parameter of compute_shape2d must be 2D (y, x) or one slice (1, y, x). "
            f"Got shape {mask.shape} instead."
        )
    if not mask.any():
        raise ValueError(
            "The 'mask' parameter of compute_shape2d must hold at least one pixel. "
            "Got an empty mask instead."
        )
    spacing = tuple(float(s) for s in spacing)[-2:]
    if len(spacing) != 2 or min(spacing) <= 0:
        raise ValueError(
            "The 'spacing' parameter of compute_shape2d must be floats > 0. "
            f"Got {spacing!r} instead."
        )
    return mask, spacing

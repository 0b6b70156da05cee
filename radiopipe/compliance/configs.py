"""The IBSI-1 image-processing configurations A-E of the lung-cancer CT phantom.

Transcribed from the IBSI reference manual (chapter "Reference data sets"). All configurations use
a symmetric GLCM at Chebyshev distance 1, NGTDM/NGLDM distance 1, GLSZM/GLDZM linkage distance 1
and NGLDM coarseness 0. Resampled intensities are rounded to the nearest integer (HU) and
interpolated masks are thresholded at a partial volume of 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class IbsiConfiguration:
    """One IBSI-1 processing configuration.

    Attributes
    ----------
    name : str
        'A' .. 'E'.
    dimensions : {'2D', '3D'}
        Slice-wise (2D) or volumetric (3D) processing and texture.
    spacing : tuple of float or None
        Resampled voxel spacing (z, y, x) in mm; None keeps the native grid; ``z`` None keeps the
        native slice spacing (in-plane interpolation).
    interpolator : {'linear', 'bspline'} or None
        Image interpolation (bi/trilinear or tricubic spline).
    resegment_range : tuple or None
        Intensity range kept in the ROI (HU).
    outlier_sigma : float or None
        Remove ROI intensities outside mean +- sigma * sd.
    discretisation : {'fixed_bin_size', 'fixed_bin_number'}
    bin_width : float or None
    bin_count : int or None
    ivh : tuple
        IVH discretisation: ('none',), ('fixed_bin_size', width) or ('fixed_bin_number', bins).
    """

    name: str
    dimensions: Literal["2D", "3D"]
    spacing: tuple[float | None, float, float] | None
    interpolator: Literal["linear", "bspline"] | None
    resegment_range: tuple[float, float] | None
    outlier_sigma: float | None
    discretisation: Literal["fixed_bin_size", "fixed_bin_number"]
    bin_width: float | None
    bin_count: int | None
    ivh: tuple


CONFIGURATIONS = {
    "A": IbsiConfiguration("A", "2D", None, None, (-500.0, 400.0), None, "fixed_bin_size", 25.0, None, ("none",)),
    "B": IbsiConfiguration(
        "B", "2D", (None, 2.0, 2.0), "linear", (-500.0, 400.0), None, "fixed_bin_number", None, 32, ("none",)
    ),
    "C": IbsiConfiguration(
        "C", "3D", (2.0, 2.0, 2.0), "linear", (-1000.0, 400.0), None, "fixed_bin_size", 25.0, None,
        ("fixed_bin_size", 2.5),
    ),
    "D": IbsiConfiguration(
        "D", "3D", (2.0, 2.0, 2.0), "linear", None, 3.0, "fixed_bin_number", None, 32, ("none",)
    ),
    "E": IbsiConfiguration(
        "E", "3D", (2.0, 2.0, 2.0), "bspline", (-1000.0, 400.0), 3.0, "fixed_bin_number", None, 32,
        ("fixed_bin_number", 1000),
    ),
}

"""The IBSI-1 image-processing configurations A-E of the lung-cancer CT phantom, as settings.

Transcribed from the IBSI reference manual (chapter "Reference data sets"). All configurations use
a symmetric GLCM at Chebyshev distance 1, NGTDM/NGLDM distance 1, GLSZM/GLDZM linkage distance 1
and NGLDM coarseness 0. Resampled intensities are rounded to the nearest integer (HU) and
interpolated masks are thresholded at a partial volume of 0.5.

:func:`feature_settings` turns a configuration into ordinary feature settings
(`radiopipe.config.FeatureConfig`, ``definitions: ibsi``), so that the compliance run computes
through the production engine exactly what a user's config with those settings computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from radiopipe.config import FeatureConfig
from radiopipe.features.registry import FAMILIES


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


_NO_IVH_DISCRETISATION = ("none",)

CONFIGURATIONS = {
    "A": IbsiConfiguration(
        name="A",
        dimensions="2D",
        spacing=None,
        interpolator=None,
        resegment_range=(-500.0, 400.0),
        outlier_sigma=None,
        discretisation="fixed_bin_size",
        bin_width=25.0,
        bin_count=None,
        ivh=_NO_IVH_DISCRETISATION,
    ),
    "B": IbsiConfiguration(
        name="B",
        dimensions="2D",
        spacing=(None, 2.0, 2.0),
        interpolator="linear",
        resegment_range=(-500.0, 400.0),
        outlier_sigma=None,
        discretisation="fixed_bin_number",
        bin_width=None,
        bin_count=32,
        ivh=_NO_IVH_DISCRETISATION,
    ),
    "C": IbsiConfiguration(
        name="C",
        dimensions="3D",
        spacing=(2.0, 2.0, 2.0),
        interpolator="linear",
        resegment_range=(-1000.0, 400.0),
        outlier_sigma=None,
        discretisation="fixed_bin_size",
        bin_width=25.0,
        bin_count=None,
        ivh=("fixed_bin_size", 2.5),
    ),
    "D": IbsiConfiguration(
        name="D",
        dimensions="3D",
        spacing=(2.0, 2.0, 2.0),
        interpolator="linear",
        resegment_range=None,
        outlier_sigma=3.0,
        discretisation="fixed_bin_number",
        bin_width=None,
        bin_count=32,
        ivh=_NO_IVH_DISCRETISATION,
    ),
    "E": IbsiConfiguration(
        name="E",
        dimensions="3D",
        spacing=(2.0, 2.0, 2.0),
        interpolator="bspline",
        resegment_range=(-1000.0, 400.0),
        outlier_sigma=3.0,
        discretisation="fixed_bin_number",
        bin_width=None,
        bin_count=32,
        ivh=("fixed_bin_number", 1000),
    ),
}
"""The five configurations by name, as the IBSI-1 manual's tables give them."""


def feature_settings(configuration: IbsiConfiguration | None) -> FeatureConfig:
    """The feature settings of one configuration; None gives the digital phantom's.

    The digital phantom needs no processing: its values are its grey levels 1..6, which a fixed
    bin size of 1 from its lowest level keeps, and its intensity-volume histogram reads them
    as they are.

    Examples
    --------
    >>> settings = feature_settings(CONFIGURATIONS["B"])
    >>> settings.resampled_spacing, settings.discretisation, settings.bin_count
    ([2.0, 2.0, None], 'fixed_bin_number', 32)
    """
    common = {"definitions": "ibsi", "image_types": ["original"], "families": list(FAMILIES)}
    if configuration is None:
        return FeatureConfig(
            **common, discretisation="fixed_bin_size", bin_width=1.0, ivh_discretisation="none"
        )
    scheme, *parameters = configuration.ivh
    ivh = {"ivh_discretisation": scheme}
    if scheme == "fixed_bin_size":
        ivh["ivh_bin_width"] = parameters[0]
    elif scheme == "fixed_bin_number":
        ivh["ivh_bin_count"] = parameters[0]
    grid = {}
    if configuration.spacing is not None:
        grid = {
            "resampled_spacing": list(reversed(configuration.spacing)),  # (x, y, z) in the config
            "grid_alignment": "ibsi",
            "interpolator": configuration.interpolator,
            "round_resampled": True,
        }
    binning = (
        {"bin_width": configuration.bin_width}
        if configuration.discretisation == "fixed_bin_size"
        else {"bin_count": configuration.bin_count}
    )
    return FeatureConfig(
        **common,
        **grid,
        **binning,
        **ivh,
        resegment_range=(
            None if configuration.resegment_range is None else list(configuration.resegment_range)
        ),
        resegment_outliers=configuration.outlier_sigma,
        discretisation=configuration.discretisation,
    )

"""The closed table of feature families: name -> how to compute it and what it outputs.

Families fall into four kinds that take different inputs:

``intensity``
    the intensities of the ROI (first-order statistics; local intensity needs the neighbourhood).
``morphology``
    the ROI mask and spacing (shape); computed once per case, on the original image only.
``histogram``
    the discretised ROI (intensity histogram, intensity-volume histogram).
``texture``
    the discretised ROI and an aggregation (GLCM, GLRLM, GLSZM, GLDM, NGTDM, GLDZM, NGLDM);
    ``directional`` texture families use the six directional aggregations, the others the three
    plain ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from radiopipe.features import (
    firstorder,
    glcm,
    gldm,
    gldzm,
    glrlm,
    glszm,
    intensity_histogram,
    intensity_volume,
    local_intensity,
    ngldm,
    ngtdm,
    shape,
    shape2d,
)
from radiopipe.features.catalogue import load_catalogue
from radiopipe.features.columns import split_column


@dataclass(frozen=True)
class Family:
    """One feature family.

    Attributes
    ----------
    name : str
        Family name in feature columns (``{image_type}__{family}__{feature}``).
    kind : {'intensity', 'morphology', 'histogram', 'texture'}
    compute : callable
        The family's ``compute_*`` function.
    feature_names : tuple of str
        Every name the family can output.
    directional : bool
        Texture families with directions (GLCM, GLRLM).
    """

    name: str
    kind: Literal["intensity", "morphology", "histogram", "texture"]
    compute: Callable[..., dict[str, float]]
    feature_names: tuple[str, ...]
    directional: bool = False


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("firstorder", "intensity", firstorder.compute_firstorder, firstorder.FEATURE_NAMES),
        Family("shape", "morphology", shape.compute_shape, shape.FEATURE_NAMES),
        Family("glcm", "texture", glcm.compute_glcm, glcm.FEATURE_NAMES, directional=True),
        Family("glrlm", "texture", glrlm.compute_glrlm, glrlm.FEATURE_NAMES, directional=True),
        Family("glszm", "texture", glszm.compute_glszm, glszm.FEATURE_NAMES),
        Family("gldm", "texture", gldm.compute_gldm, gldm.FEATURE_NAMES),
        Family("ngtdm", "texture", ngtdm.compute_ngtdm, ngtdm.FEATURE_NAMES),
        Family("gldzm", "texture", gldzm.compute_gldzm, gldzm.FEATURE_NAMES),
        Family("ngldm", "texture", ngldm.compute_ngldm, ngldm.FEATURE_NAMES),
        Family(
            "intensity_histogram",
            "histogram",
            intensity_histogram.compute_intensity_histogram,
            intensity_histogram.FEATURE_NAMES,
        ),
        Family(
            "intensity_volume",
            "histogram",
            intensity_volume.compute_intensity_volume,
            intensity_volume.FEATURE_NAMES,
        ),
        Family(
            "local_intensity",
            "intensity",
            local_intensity.compute_local_intensity,
            local_intensity.FEATURE_NAMES,
        ),
    )
}
"""Every family radiopipe computes, by name."""

SHAPE_2D = Family("shape2d", "morphology", shape2d.compute_shape2d, shape2d.FEATURE_NAMES)
"""Shape of a planar ROI; its features are reported under the family name ``shape``."""


@cache
def pyradiomics_feature_names() -> dict[str, frozenset[str]]:
    """Column family -> the features pyradiomics computes, for families pyradiomics has.

    Under ``definitions: pyradiomics`` the engine reports exactly pyradiomics' feature set: the
    IBSI-only extras of these families (e.g. shape's enclosing-ellipsoid densities) are left
    out, while families pyradiomics lacks (GLDZM, NGLDM, ...) are reported whole. Planar shape
    (pyradiomics' shape2D) reports under the column family ``shape``.
    """
    names: dict[str, set[str]] = {}
    for family in load_catalogue().values():
        column_family = "shape" if family.family == SHAPE_2D.name else family.family
        kept = {f.name for f in family.features if f.pyradiomics}
        if kept:
            names.setdefault(column_family, set()).update(kept)
    return {family: frozenset(kept) for family, kept in names.items()}


def reported(features: dict[str, float], definitions: str) -> dict[str, float]:
    """The features one set of definitions reports (see `pyradiomics_feature_names`)."""
    if definitions != "pyradiomics":
        return features
    allowed = pyradiomics_feature_names()
    out = {}
    for key, value in features.items():
        _, family, name = split_column(key)
        if family not in allowed or name in allowed[family]:
            out[key] = value
    return out


def plain_aggregation(aggregation: str) -> str:
    """The aggregation of non-directional families matching a directional one.

    Examples
    --------
    >>> plain_aggregation("2_5D_avg")
    '2_5D'
    """
    return aggregation.rsplit("_", 1)[0] if aggregation.endswith(("_avg", "_comb")) else aggregation

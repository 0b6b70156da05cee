"""The closed table of feature families: name -> `Family` (how to compute it, what it outputs).

Every family is computed as ``FAMILIES[name].compute(inputs, settings)`` (see
`radiopipe.features.family`); the functions below adapt a :class:`FamilyInput` and the feature
settings to each family module's own ``compute_*`` function, which the tests also call directly.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from radiopipe.columns import split_column
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
from radiopipe.features.family import Family, FamilyInput

if TYPE_CHECKING:
    from radiopipe.config import FeatureConfig


def _firstorder(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return firstorder.compute_firstorder(
        inputs.image, inputs.roi, spacing=inputs.spacing, mode=settings.definitions,
        levels=inputs.levels, n_levels=inputs.n_levels,
        voxel_array_shift=settings.voxel_array_shift,
    )


def _shape(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    """3D shape of the morphological mask (planar shape for a 2D case); its intensity features
    over the intensity mask."""
    if inputs.planar:
        return SHAPE_2D.compute(inputs, settings)
    wanted = None
    if settings.definitions == "pyradiomics":
        # pyradiomics' feature set only: the slow IBSI-only extras are not computed at all.
        wanted = sorted(pyradiomics_feature_names()["shape"] & set(shape.FEATURE_NAMES))
    return shape.compute_shape(
        inputs.morphological_mask, inputs.spacing, mode=settings.definitions, image=inputs.image,
        intensity_mask=inputs.roi, features=wanted,
    )


def _shape2d(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return shape2d.compute_shape2d(
        inputs.morphological_mask[0], inputs.spacing[1:], mode=settings.definitions
    )


def _texture(name: str, compute):
    """The adapter of texture family ``name``'s ``compute_*(levels, mask, n_levels, *,
    aggregation, mode, memo)``."""

    def adapted(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
        return compute(
            inputs.levels, inputs.roi, inputs.n_levels,
            aggregation=FAMILIES[name].aggregation(settings), mode=settings.definitions,
            memo=inputs.memo,
        )

    return adapted


def _glcm(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return glcm.compute_glcm(
        inputs.levels, inputs.roi, inputs.n_levels,
        aggregation=FAMILIES["glcm"].aggregation(settings), mode=settings.definitions,
        distance=tuple(settings.distances), weighting=settings.direction_weighting,
        spacing=inputs.spacing, memo=inputs.memo,
    )


def _glrlm(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return glrlm.compute_glrlm(
        inputs.levels, inputs.roi, inputs.n_levels,
        aggregation=FAMILIES["glrlm"].aggregation(settings), mode=settings.definitions,
        weighting=settings.direction_weighting, spacing=inputs.spacing, memo=inputs.memo,
    )


def _gldm(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return gldm.compute_gldm(
        inputs.levels, inputs.roi, inputs.n_levels,
        aggregation=FAMILIES["gldm"].aggregation(settings), mode=settings.definitions,
        gldm_a=settings.gldm_a, distance=tuple(settings.distances), memo=inputs.memo,
    )


def _ngtdm(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return ngtdm.compute_ngtdm(
        inputs.levels, inputs.roi, inputs.n_levels,
        aggregation=FAMILIES["ngtdm"].aggregation(settings), mode=settings.definitions,
        distance=tuple(settings.distances), memo=inputs.memo,
    )


def _gldzm(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    # IBSI measures GLDZM distances to the edge of the morphological mask.
    return gldzm.compute_gldzm(
        inputs.levels, inputs.roi, inputs.n_levels,
        aggregation=FAMILIES["gldzm"].aggregation(settings), mode=settings.definitions,
        roi_edge_mask=inputs.morphological_mask,
    )


def _intensity_histogram(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    return intensity_histogram.compute_intensity_histogram(
        inputs.levels, inputs.roi, inputs.n_levels
    )


def _intensity_volume(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    values, step, low, high = intensity_volume.ivh_input(
        inputs.image, inputs.roi, inputs.levels, inputs.n_levels,
        scheme=settings.ivh_discretisation, bin_width=settings.ivh_bin_width,
        bin_count=settings.ivh_bin_count, resegment_range=settings.resegment_range,
    )
    return intensity_volume.compute_intensity_volume(
        values, inputs.roi, step=step, lower_bound=low, upper_bound=high
    )


def _local_intensity(inputs: FamilyInput, settings: FeatureConfig) -> dict[str, float]:
    # The peak spheres reach past the ROI's box: this family reads the surroundings.
    return local_intensity.compute_local_intensity(
        inputs.surroundings, inputs.surroundings_roi, inputs.spacing
    )


# Extensive features (see `Family.extensive`). First-order Energy and TotalEnergy are sums over
# voxels; the non-normalised non-uniformities are sums of squared counts over the number of runs,
# zones or voxels, so grow as n; NGTDM busyness grows as n, coarseness and strength as 1 / n (their
# denominators sum over voxels). Exact for first order; for texture matrices the counts of runs,
# zones and neighbourhoods grow with n up to the effects of the edges.
# tests/explain/test_feature_maps.py measures every exponent by doubling a texture.
_NON_UNIFORMITIES = (("GrayLevelNonUniformity", 1),)
_EXTENSIVE = {
    "firstorder": (("Energy", 1), ("TotalEnergy", 1)),
    "glrlm": (*_NON_UNIFORMITIES, ("RunLengthNonUniformity", 1)),
    "glszm": (*_NON_UNIFORMITIES, ("SizeZoneNonUniformity", 1)),
    "gldzm": (*_NON_UNIFORMITIES, ("ZoneDistanceNonUniformity", 1)),
    "gldm": (*_NON_UNIFORMITIES, ("DependenceNonUniformity", 1)),
    "ngldm": (*_NON_UNIFORMITIES, ("DependenceNonUniformity", 1)),
    "ngtdm": (("Busyness", 1), ("Coarseness", -1), ("Strength", -1)),
}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("firstorder", "intensity", _firstorder, firstorder.FEATURE_NAMES,
               extensive=_EXTENSIVE["firstorder"]),
        Family("shape", "morphology", _shape, shape.FEATURE_NAMES),
        Family(
            "glcm", "texture", _glcm, glcm.FEATURE_NAMES,
            directional=True,
        ),
        Family(
            "glrlm", "texture", _glrlm, glrlm.FEATURE_NAMES,
            directional=True, extensive=_EXTENSIVE["glrlm"],
        ),
        Family("glszm", "texture", _texture("glszm", glszm.compute_glszm), glszm.FEATURE_NAMES,
               extensive=_EXTENSIVE["glszm"]),
        Family("gldm", "texture", _gldm, gldm.FEATURE_NAMES,
               extensive=_EXTENSIVE["gldm"]),
        Family("ngtdm", "texture", _ngtdm, ngtdm.FEATURE_NAMES,
               extensive=_EXTENSIVE["ngtdm"]),
        Family("gldzm", "texture", _gldzm, gldzm.FEATURE_NAMES, extensive=_EXTENSIVE["gldzm"]),
        Family("ngldm", "texture", _texture("ngldm", ngldm.compute_ngldm), ngldm.FEATURE_NAMES,
               extensive=_EXTENSIVE["ngldm"]),
        Family(
            "intensity_histogram", "histogram", _intensity_histogram,
            intensity_histogram.FEATURE_NAMES,
        ),
        Family("intensity_volume", "histogram", _intensity_volume, intensity_volume.FEATURE_NAMES),
        Family(
            "local_intensity", "intensity", _local_intensity, local_intensity.FEATURE_NAMES,
            reach=local_intensity.reach,
        ),
    )
}
"""Every family radiopipe computes, by name."""

SHAPE_2D = Family("shape2d", "morphology", _shape2d, shape2d.FEATURE_NAMES)
"""Shape of a planar ROI; ``FAMILIES['shape']`` computes it for a planar case, and its features
are reported under the family name ``shape``."""


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
    return {key: value for key, value in features.items() if _reported_by_pyradiomics(key)}


@cache
def _reported_by_pyradiomics(key: str) -> bool:
    """Whether column ``key`` is reported under pyradiomics' definitions (memoised: a cohort
    repeats the same few hundred columns for every case)."""
    allowed = pyradiomics_feature_names()
    _, family, name = split_column(key)
    return family not in allowed or name in allowed[family]

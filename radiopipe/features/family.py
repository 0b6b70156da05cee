"""The one interface of every feature family: ``Family.compute(inputs, settings)``.

A :class:`FamilyInput` holds everything a family reads from one image of one case; the feature
settings (`radiopipe.config.FeatureConfig`) say how (definitions, aggregation, discretisation
of the intensity-volume histogram). Every orchestrator (the native engine, the GPU backend's host
path, the compliance run, the feature maps) builds inputs and calls families only through this
interface; the closed table of families is `radiopipe.features.registry`.

Families fall into four kinds:

``intensity``
    the intensities of the ROI (first-order statistics; local intensity reads the surroundings).
``morphology``
    the ROI masks and spacing (shape); computed once per case, on the original image only.
``histogram``
    the discretised ROI (intensity histogram, intensity-volume histogram).
``texture``
    the discretised ROI at an aggregation (GLCM, GLRLM, GLSZM, GLDM, NGTDM, GLDZM, NGLDM);
    ``directional`` texture families use the six directional aggregations, the others the three
    plain ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from radiopipe.config import FeatureConfig


@dataclass(frozen=True)
class FamilyInput:
    """What the families read from one image of one case.

    The arrays of one input share a grid: a box of the prepared image (the morphological mask's
    bounding box for the families of a filtered image; the whole prepared image for morphology).

    Attributes
    ----------
    image : numpy.ndarray
        Intensities (the filtered image, float64; for morphology the prepared original image).
    roi : numpy.ndarray of bool
        The intensity mask: the ROI after re-segmentation.
    morphological_mask : numpy.ndarray of bool
        The ROI before re-segmentation (shape; GLDZM distances to its edge).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    levels : numpy.ndarray of int or None
        Grey levels ``1..n_levels`` inside ``roi``, 0 elsewhere; None for morphology.
    n_levels : int
        Number of grey levels of the discretisation (0 for morphology).
    surroundings : numpy.ndarray or None
        Intensities over a region around the box wide enough for local intensity's spheres
        (float64); None for morphology.
    surroundings_roi : numpy.ndarray of bool or None
        The intensity mask over that region.
    planar : bool
        Whether the case is a 2D image (one slice): shape is then planar shape.
    memo : dict
        Work the families of this image share, computed by the first that needs it (the
        cropped texture inputs of GLCM and GLRLM and of the neighbourhood families, the
        neighbourhood lattice, the neighbour statistics; see
        `radiopipe.features.neighbourhood`); empty at first and private to this input (a
        ``dataclasses.replace`` copy starts empty).
    """

    image: np.ndarray
    roi: np.ndarray
    morphological_mask: np.ndarray
    spacing: tuple[float, float, float]
    levels: np.ndarray | None = None
    n_levels: int = 0
    surroundings: np.ndarray | None = None
    surroundings_roi: np.ndarray | None = None
    planar: bool = False
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class Family:
    """One feature family.

    Attributes
    ----------
    name : str
        Family name in feature columns (`radiopipe.columns`).
    kind : {'intensity', 'morphology', 'histogram', 'texture'}
    compute : callable
        ``compute(inputs: FamilyInput, settings: FeatureConfig) -> {feature: value}``.
    feature_names : tuple of str
        Every name the family can output.
    directional : bool
        Texture families with directions (GLCM, GLRLM).
    reach : callable or None
        For a family that reads the image past the ROI's bounding box (local intensity's
        spheres), ``reach(spacing)``: how many voxels past it, per axis; None for the others.
    extensive : tuple of (str, int)
        The family's extensive features and their exponent e: at a fixed texture they grow as
        ``n ** e`` with the number n of voxels they are computed over (a sum over voxels: 1; the
        reciprocal of one: -1). The others are intensive. Feature maps show these per voxel.
    """

    name: str
    kind: Literal["intensity", "morphology", "histogram", "texture"]
    compute: Callable[[FamilyInput, FeatureConfig], dict[str, float]]
    feature_names: tuple[str, ...]
    directional: bool = False
    reach: Callable[[tuple[float, ...]], np.ndarray] | None = None
    extensive: tuple[tuple[str, int], ...] = ()

    def aggregation(self, settings: FeatureConfig) -> str:
        """The aggregation this family computes at under ``settings`` (see `plain_aggregation`)."""
        if self.directional:
            return settings.aggregation
        return plain_aggregation(settings.aggregation)


def plain_aggregation(aggregation: str) -> str:
    """The aggregation of non-directional families matching a directional one.

    Examples
    --------
    >>> plain_aggregation("2_5D_avg")
    '2_5D'
    """
    return aggregation.rsplit("_", 1)[0] if aggregation.endswith(("_avg", "_comb")) else aggregation


def settings_aggregation(aggregation: str) -> str:
    """The settings' (directional) aggregation under which a family computes at ``aggregation``:
    a directional one is itself, a plain one that of its averaged form.

    Examples
    --------
    >>> settings_aggregation("2_5D"), settings_aggregation("3D_comb")
    ('2_5D_avg', '3D_comb')
    """
    return aggregation if aggregation.endswith(("_avg", "_comb")) else f"{aggregation}_avg"

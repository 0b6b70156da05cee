"""IBSI-1 diagnostic features: how image and masks change with each processing step.

IBSI-1 manual, "Diagnostic features": for the initial and the interpolated image, its dimensions
in voxels and mm and its mean, minimum and maximum intensity (``img_dim_x_init_img``,
``vox_dim_x_interp_img``, ``mean_int_init_img``, ...); for the ROI after segmentation (``init``),
interpolation (``interp``) and re-segmentation (``reseg``), the intensity mask's dimensions, the
bounding boxes and voxel counts of the intensity and morphological masks, and the mean, minimum
and maximum intensity in the intensity mask (``int_mask_bb_dim_x_reseg_roi``, ...).
"""

from __future__ import annotations

import numpy as np

from radiopipe.compliance.data import Phantom
from radiopipe.features.extract import PreparedCase
from radiopipe.preprocess.crop import bounding_box

_AXES = {"x": 2, "y": 1, "z": 0}


def diagnostic_tags(initial: Phantom, prepared: PreparedCase) -> dict[str, float]:
    """Every diagnostic tag of one configuration, by IBSI tag.

    Parameters
    ----------
    initial : Phantom
        The image and mask as read.
    prepared : PreparedCase
        The same after interpolation (``image``, ``mask``: the morphological mask) and
        re-segmentation (``intensity_mask``), by the engine (`radiopipe.features.extract`).
    """
    image, mask = prepared.image, prepared.mask.array
    return {
        **_image_tags(initial.image.array, initial.image.spacing, "init"),
        **_image_tags(image.array, image.spacing, "interp"),
        **_roi_tags(initial.image.array, initial.mask.array, initial.mask.array, "init"),
        **_roi_tags(image.array, mask, mask, "interp"),
        # Re-segmentation changes the intensity mask only; the morphological mask stays.
        **_roi_tags(image.array, prepared.intensity_mask, mask, "reseg"),
    }


def _image_tags(image: np.ndarray, spacing, stage: str) -> dict[str, float]:
    tags = {}
    for name, axis in _AXES.items():
        tags[f"img_dim_{name}_{stage}_img"] = float(image.shape[axis])
        tags[f"vox_dim_{name}_{stage}_img"] = float(spacing[axis])
    tags.update(_intensity_tags(image, f"{{}}_int_{stage}_img"))
    return tags


def _roi_tags(image, intensity_mask, morphological_mask, stage: str) -> dict[str, float]:
    tags = {}
    for prefix, mask in (("int", intensity_mask), ("morph", morphological_mask)):
        box = bounding_box(mask)
        for name, axis in _AXES.items():
            low, high = box[axis]
            tags[f"{prefix}_mask_bb_dim_{name}_{stage}_roi"] = float(high - low + 1)
        tags[f"{prefix}_mask_vox_count_{stage}_roi"] = float(np.count_nonzero(mask))
    for name, axis in _AXES.items():
        tags[f"int_mask_dim_{name}_{stage}_roi"] = float(intensity_mask.shape[axis])
    tags.update(_intensity_tags(image[intensity_mask], f"int_mask_{{}}_int_{stage}_roi"))
    return tags


def _intensity_tags(values: np.ndarray, pattern: str) -> dict[str, float]:
    return {
        pattern.format("mean"): float(np.mean(values)),
        pattern.format("min"): float(np.min(values)),
        pattern.format("max"): float(np.max(values)),
    }

"""Resampling (IBSI and pyradiomics grids) and cropping: by hand, IBSI-1 CT phantom, pyradiomics."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import ibsi_phantom, ibsi_references, pyradiomics_case

from radiopipe.compliance.data import CT_PHANTOM
from radiopipe.io import Volume
from radiopipe.preprocess.crop import bounding_box, crop_slices, crop_to_mask
from radiopipe.preprocess.resample import (
    INTERPOLATORS,
    ibsi_grid,
    resample_image_ibsi,
    resample_mask_ibsi,
    resample_pyradiomics,
)
from radiopipe.preprocess.resegment import resegment

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


class IbsiConfiguration(NamedTuple):
    """Image processing of one IBSI-1 CT phantom configuration (IBSI-1 reference manual,
    "Reference data sets")."""

    spacing: tuple[float | None, ...] | None  # new voxel size (z, y, x) mm; None: no interpolation
    interpolator: str | None  # image interpolator; the ROI is always (bi/tri)linear, threshold 0.5
    intensity_range: tuple[float | None, float | None] | None  # re-segmentation range (HU)
    outlier_sigmas: float | None  # re-segmentation outlier filtering (mean +- n sd)


# A and B are 2D configurations: B interpolates in-plane only (slices stay 3 mm). Every
# interpolated image is rounded to integer HU. Discretisation (A, C: FBS 25 HU; B, D, E: FBN 32)
# does not change the tags checked here.
IBSI_CONFIGURATIONS = {
    "a": IbsiConfiguration(None, None, (-500.0, 400.0), None),
    "b": IbsiConfiguration((None, 2.0, 2.0), "linear", (-500.0, 400.0), None),
    "c": IbsiConfiguration((2.0, 2.0, 2.0), "linear", (-1000.0, 400.0), None),
    "d": IbsiConfiguration((2.0, 2.0, 2.0), "linear", None, 3.0),
    "e": IbsiConfiguration((2.0, 2.0, 2.0), "bspline", (-1000.0, 400.0), 3.0),
}
_AXES = {"x": 2, "y": 1, "z": 0}
IMAGE_TAGS = [f"{kind}_dim_{a}_interp_img" for kind in ("img", "vox") for a in _AXES] + [
    f"{stat}_int_interp_img" for stat in ("mean", "min", "max")
]
ROI_TAGS = [
    tag
    for stage in ("interp", "reseg")
    for tag in (
        [f"int_mask_dim_{a}_{stage}_roi" for a in _AXES]
        + [f"{m}_mask_bb_dim_{a}_{stage}_roi" for m in ("int", "morph") for a in _AXES]
        + [f"{m}_mask_vox_count_{stage}_roi" for m in ("int", "morph")]
        + [f"int_mask_{stat}_int_{stage}_roi" for stat in ("mean", "min", "max")]
    )
]


# --- by hand -------------------------------------------------------------------------------


def _line(values, spacing=1.0) -> Volume:
    array = np.asarray(values, dtype=float).reshape(1, 1, -1)
    return Volume(array, (1.0, 1.0, spacing), (0.0, 0.0, 0.0), IDENTITY)


def test_ibsi_grid_keeps_the_centre():
    # 6 voxels of 1 mm -> ceil(6 / 4) = 2 voxels of 4 mm; first centre at (1 * 5 - 4 * 1) / 2.
    shape, origin = ibsi_grid(_line(np.zeros(6)), (None, None, 4.0))
    assert shape == (1, 1, 2)
    assert origin == pytest.approx((0.5, 0.0, 0.0))
    phantom = Volume(np.zeros((60, 201, 204)), (3.0, 0.977, 0.977), (0.0, 0.0, 0.0), IDENTITY)
    shape, origin = ibsi_grid(phantom, (2.0, 2.0, 2.0))
    assert shape == (90, 99, 100)
    shift = ((0.977 * 203 - 2 * 99) / 2, (0.977 * 200 - 2 * 98) / 2, (3 * 59 - 2 * 89) / 2)
    assert origin == pytest.approx(shift)


def test_ibsi_linear_resampling_by_hand():
    # New centres at 0.5 mm and 2.5 mm: linear interpolation of [0, 10, 20, 30].
    out = resample_image_ibsi(_line([0, 10, 20, 30]), (None, None, 2.0), interpolator="linear")
    np.testing.assert_allclose(out.array.ravel(), [5.0, 25.0])
    assert out.spacing == (1.0, 1.0, 2.0)
    assert out.origin == pytest.approx((0.5, 0.0, 0.0))


def test_ibsi_mask_keeps_partial_volumes_of_at_least_half():
    out = resample_mask_ibsi(_line([0, 1, 1, 1, 0, 0]), (None, None, 2.0))
    # Fractions at 0.5, 2.5, 4.5 mm: 0.5, 1.0, 0.0.
    assert out.array.ravel().tolist() == [True, True, False]


def test_bounding_box_and_crop_by_hand():
    mask = np.zeros((4, 6, 7), dtype=bool)
    mask[1:3, 2, 3:5] = True
    assert bounding_box(mask) == ((1, 2), (2, 2), (3, 4))
    assert crop_slices(mask, 2) == (slice(0, 4), slice(0, 5), slice(1, 7))
    values = np.arange(mask.size).reshape(mask.shape)
    image = Volume(values, (2.0, 1.0, 0.5), (10.0, 20.0, 30.0), IDENTITY)
    roi = Volume(mask, image.spacing, image.origin, IDENTITY)
    cropped, cropped_mask = crop_to_mask(image, roi, 1)
    assert cropped.array.shape == cropped_mask.array.shape == (4, 3, 4)
    assert cropped.origin == pytest.approx((10.0 + 2 * 0.5, 20.0 + 1 * 1.0, 30.0 + 0 * 2.0))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="'interpolator'"):
        resample_image_ibsi(_line([0, 1]), (1.0, 1.0, 2.0), interpolator="cubic")
    with pytest.raises(ValueError, match="one spacing per axis"):
        resample_image_ibsi(_line([0, 1]), (2.0, 2.0))
    with pytest.raises(ValueError, match="> 0"):
        resample_image_ibsi(_line([0, 1]), (0.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="empty"):
        bounding_box(np.zeros((2, 2), dtype=bool))


# --- IBSI-1 CT phantom, configurations A-E ---------------------------------------------------


def _roi_tags(image, intensity_mask, morph_mask, stage: str) -> dict:
    tags = {}
    for masks, prefix in ((intensity_mask, "int"), (morph_mask, "morph")):
        box = bounding_box(masks)
        for axis_name, axis in _AXES.items():
            tags[f"{prefix}_mask_bb_dim_{axis_name}_{stage}_roi"] = box[axis][1] - box[axis][0] + 1
        tags[f"{prefix}_mask_vox_count_{stage}_roi"] = int(masks.sum())
    for axis_name, axis in _AXES.items():
        tags[f"int_mask_dim_{axis_name}_{stage}_roi"] = intensity_mask.shape[axis]
    values = image[intensity_mask]
    for statistic in ("mean", "min", "max"):
        tags[f"int_mask_{statistic}_int_{stage}_roi"] = float(getattr(values, statistic)())
    return tags


@functools.cache
def _configuration_tags(name: str) -> dict[str, float]:
    """The image-processing tags of one configuration, computed with radiopipe."""
    settings = IBSI_CONFIGURATIONS[name]
    phantom = ibsi_phantom(CT_PHANTOM)
    image, mask = phantom.image, phantom.mask
    if settings.spacing is not None:
        image = resample_image_ibsi(image, settings.spacing, interpolator=settings.interpolator)
        image = Volume(np.rint(image.array), image.spacing, image.origin, image.direction)
        mask = resample_mask_ibsi(mask, settings.spacing)
    tags = {}
    for axis_name, axis in _AXES.items():
        tags[f"img_dim_{axis_name}_interp_img"] = image.array.shape[axis]
        tags[f"vox_dim_{axis_name}_interp_img"] = image.spacing[axis]
    for statistic in ("mean", "min", "max"):
        tags[f"{statistic}_int_interp_img"] = float(getattr(image.array, statistic)())
    tags.update(_roi_tags(image.array, mask.array, mask.array, "interp"))
    resegmented = resegment(
        image.array,
        mask.array,
        intensity_range=settings.intensity_range,
        outlier_sigmas=settings.outlier_sigmas,
    )
    # IBSI re-segments the intensity mask only; the morphological mask stays as interpolated.
    tags.update(_roi_tags(image.array, resegmented, mask.array, "reseg"))
    return tags


@pytest.mark.reference
@pytest.mark.parametrize("tag", IMAGE_TAGS + ROI_TAGS)
@pytest.mark.parametrize("configuration", list(IBSI_CONFIGURATIONS))
def test_ibsi_ct_phantom_reference_values(configuration, tag):
    reference = ibsi_references(configuration)[tag]
    value = _configuration_tags(configuration)[tag]
    # A tolerance of 0 admits rounding to 3 significant digits (voxel size 0.977 for 0.97699...).
    assert reference.passes(value), (value, reference.value, reference.tolerance)


# --- pyradiomics parity ----------------------------------------------------------------------


def _assert_same_volume(ours: Volume, reference: sitk.Image) -> None:
    assert ours.array.shape == sitk.GetArrayFromImage(reference).shape
    np.testing.assert_allclose(ours.origin, reference.GetOrigin(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.spacing, tuple(reversed(reference.GetSpacing())), rtol=1e-12)


@pytest.mark.reference
@pytest.mark.parametrize("name", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize(
    ("spacing_xyz", "interpolator", "pad_distance"),
    [
        ([1, 1, 1], "bspline", 5),
        ([2, 2, 0], "linear", 3),
        ([0.7, 0.9, 3], "nearest", 0),
        ([0, 0, 0], "bspline", 5),
    ],
)
def test_resampling_matches_pyradiomics(name, spacing_xyz, interpolator, pad_distance):
    pytest.importorskip("radiomics")
    from radiomics import imageoperations

    case = pyradiomics_case(name)
    image, mask = case.volumes()
    sitk_image, sitk_label = case.images()
    reference_image, reference_mask = imageoperations.resampleImage(
        sitk_image,
        imageoperations.getMask(sitk_label),
        resampledPixelSpacing=spacing_xyz,
        interpolator=INTERPOLATORS[interpolator],
        padDistance=pad_distance,
    )
    spacing = tuple(s or None for s in reversed(spacing_xyz))
    ours, ours_mask = resample_pyradiomics(
        image, mask, spacing, interpolator=interpolator, pad_distance=pad_distance
    )
    _assert_same_volume(ours, reference_image)
    _assert_same_volume(ours_mask, reference_mask)
    assert ours.array.dtype == sitk.GetArrayFromImage(reference_image).dtype
    np.testing.assert_array_equal(ours.array, sitk.GetArrayFromImage(reference_image))
    np.testing.assert_array_equal(ours_mask.array, sitk.GetArrayFromImage(reference_mask) == 1)


@pytest.mark.reference
@pytest.mark.parametrize("name", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize("pad_distance", [0, 5, 40])
def test_crop_matches_pyradiomics(name, pad_distance):
    pytest.importorskip("radiomics")
    from radiomics import imageoperations

    case = pyradiomics_case(name)
    image, mask = case.volumes()
    sitk_image, sitk_label = case.images()
    sitk_mask = imageoperations.getMask(sitk_label)
    box, _ = imageoperations.checkMask(sitk_image, sitk_mask)
    reference_image, reference_mask = imageoperations.cropToTumorMask(
        sitk_image, sitk_mask, box, padDistance=pad_distance
    )
    ours, ours_mask = crop_to_mask(image, mask, pad_distance)
    _assert_same_volume(ours, reference_image)
    np.testing.assert_array_equal(ours.array, sitk.GetArrayFromImage(reference_image))
    np.testing.assert_array_equal(ours_mask.array, sitk.GetArrayFromImage(reference_mask) == 1)

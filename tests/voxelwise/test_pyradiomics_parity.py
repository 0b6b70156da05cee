"""Voxel-wise maps equal pyradiomics' voxel-based extraction on a real MR lesion."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import mappable_features, voxel_maps
from tests.float32_bins import disagreeing_value
from tests.reference_data import pyradiomics_case

radiomics = pytest.importorskip("radiomics")
from radiomics import featureextractor  # noqa: E402

pytestmark = pytest.mark.reference
# pyradiomics' voxel-based extraction fails on MCC (a kernel with a direction without pairs makes
# its Q matrix NaN, so the whole map keeps initValue) and averages JointAverage with a plain mean
# (NaN in every kernel that lacks a direction); radiopipe maps both as every other feature.
DEVIATING = {"original__glcm__MCC", "original__glcm__JointAverage"}


def _lesion_crop():
    """brain1's lesion on three slices, in-plane cut to 16 x 16 voxels (a few hundred voxels)."""
    return pyradiomics_case("brain1").lesion_crop(1, 8)


def _pyradiomics_maps(image, label, radius, bin_width=25.0):
    logging.getLogger("radiomics").setLevel(logging.CRITICAL)
    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=bin_width, kernelRadius=radius, maskedKernel=True, initValue=np.nan)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=[], glcm=[], glrlm=[], glszm=[], gldm=[],
                                   ngtdm=[])
    with warnings.catch_warnings():
        # pyradiomics' nanmean warns on a kernel whose robust range keeps no value (NaN there);
        # raised as an error, it would fail that feature's whole map
        warnings.simplefilter("ignore", RuntimeWarning)
        result = extractor.execute(image, label, voxelBased=True)
    return {key: value for key, value in result.items() if isinstance(value, sitk.Image)}


def _sparse_phantom():
    """Random intensities on a scattered ROI: kernels with isolated voxels and without pairs."""
    rng = np.random.default_rng(3)
    array = rng.uniform(0, 200, size=(5, 9, 9))
    roi = rng.random(array.shape) < 0.45
    image = sitk.GetImageFromArray(array)
    label = sitk.GetImageFromArray(roi.astype(np.uint8))
    for volume in (image, label):
        volume.SetSpacing((0.8, 0.8, 2.0))
    return image, label


def _float32_phantom():
    """The scattered phantom in float32, a tenth of its voxels holding a value that float32 and
    float64 edges of width 0.1 bin apart (pyradiomics' texture maps bin the float32 image with
    float32 edges, its first-order maps bin it as float64)."""
    image, label = _sparse_phantom()
    array = (sitk.GetArrayFromImage(image) / 10).astype(np.float32)
    roi = sitk.GetArrayFromImage(label) == 1
    array[tuple(axis[::10] for axis in np.nonzero(roi))] = disagreeing_value(
        array[roi], binWidth=0.1)
    single = sitk.GetImageFromArray(array)
    single.CopyInformation(image)
    return single, label


def _compare(image, label, radius, bin_width=25.0):
    """Assert every map pyradiomics makes equals ours; the number of maps compared."""
    features = mappable_features()
    ours = voxel_maps(Volume.from_sitk(image), Volume.from_sitk(label), features,
                      FeatureConfig(bin_width=bin_width), kernel_radius=radius, extent="image")
    # the maps over the ROI's box (the default) lie on pyradiomics' own grid
    boxed = voxel_maps(Volume.from_sitk(image), Volume.from_sitk(label), features,
                       FeatureConfig(bin_width=bin_width), kernel_radius=radius)
    theirs = _pyradiomics_maps(image, label, radius, bin_width)
    roi = sitk.GetArrayFromImage(label) == 1
    compared = 0
    for key, their_map in theirs.items():
        _, family, name = key.split("_", 2)
        column = f"original__{family}__{name}"
        ours_map = ours[column]
        assert boxed[column].GetSize() == their_map.GetSize()
        np.testing.assert_allclose(boxed[column].GetOrigin(), their_map.GetOrigin(), atol=1e-9)
        # pyradiomics' map covers the lesion's box widened by the radius; place it on our grid.
        start = ours_map.TransformPhysicalPointToIndex(their_map.GetOrigin())[::-1]
        expected = sitk.GetArrayFromImage(their_map)
        box = tuple(slice(s, s + n) for s, n in zip(start, expected.shape))
        ours_values = sitk.GetArrayFromImage(ours_map)[box][roi[box]]
        their_values = expected[roi[box]]
        assert np.isnan(sitk.GetArrayFromImage(ours_map)[~roi]).all()
        if column in DEVIATING:
            continue
        scale = np.nanmax(np.abs(their_values))
        np.testing.assert_allclose(ours_values, their_values, rtol=1e-6, atol=1e-12 * scale,
                                   err_msg=column)
        compared += 1
    return compared, len(theirs)


@pytest.mark.parametrize("radius", [1, 2])
def test_maps_equal_pyradiomics_voxel_based(radius):
    compared, made = _compare(*_lesion_crop(), radius)
    # every map pyradiomics makes (its deprecated features, such as SumAverage, it leaves out)
    assert compared == made - len(DEVIATING) == 91


@pytest.mark.parametrize("radius", [1, 2])
def test_maps_equal_pyradiomics_on_a_scattered_roi(radius):
    compared, made = _compare(*_sparse_phantom(), radius)
    assert compared == made - len(DEVIATING) == 91


def test_maps_of_a_float32_image_bin_it_as_pyradiomics_does():
    compared, made = _compare(*_float32_phantom(), 1, bin_width=0.1)
    assert compared == made - len(DEVIATING) == 91

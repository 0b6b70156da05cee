"""Voxel-wise maps of LoG and wavelet images equal pyradiomics' voxel-based extraction."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import voxel_maps
from tests.reference_data import pyradiomics_case

radiomics = pytest.importorskip("radiomics")
from radiomics import featureextractor  # noqa: E402

# pyradiomics' voxel-based extraction fails on MCC and leaves JointAverage NaN in kernels lacking
# a direction (see test_pyradiomics_parity.py)
DEVIATING = {"glcm__MCC", "glcm__JointAverage"}


def _lesion_crop():
    """brain1's lesion on five slices (pyradiomics' LoG needs four), cut to 6 x 6 voxels."""
    return pyradiomics_case("brain1").lesion_crop(2, 3)


def _pyradiomics_maps(image, label):
    logging.getLogger("radiomics").setLevel(logging.CRITICAL)
    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=25, kernelRadius=1, maskedKernel=True, initValue=np.nan)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(firstorder=[], glcm=[], glrlm=[], glszm=[], gldm=[],
                                   ngtdm=[])
    extractor.disableAllImageTypes()
    extractor.enableImageTypes(LoG={"sigma": [1.0]}, Wavelet={})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of an empty robust range
        result = extractor.execute(image, label, voxelBased=True)
    return {"__".join(key.split("_", 2)): value for key, value in result.items()
            if isinstance(value, sitk.Image)}


@pytest.mark.reference
def test_filtered_maps_equal_pyradiomics_voxel_based():
    image, label = _lesion_crop()
    theirs = _pyradiomics_maps(image, label)
    settings = FeatureConfig(image_types=["original", "log", "wavelet"], log_sigmas=[1.0])
    ours = voxel_maps(Volume.from_sitk(image), Volume.from_sitk(label), list(theirs), settings)
    roi = sitk.GetArrayFromImage(label) == 1
    compared = set()
    for column, their_map in theirs.items():
        image_type, feature = column.split("__", 1)
        if feature in DEVIATING:
            continue
        start = ours[column].TransformPhysicalPointToIndex(their_map.GetOrigin())[::-1]
        expected = sitk.GetArrayFromImage(their_map)
        box = tuple(slice(s, s + n) for s, n in zip(start, expected.shape))
        their_values = expected[roi[box]]
        scale = np.nanmax(np.abs(their_values))
        np.testing.assert_allclose(sitk.GetArrayFromImage(ours[column])[box][roi[box]],
                                   their_values, rtol=1e-6, atol=1e-12 * scale,
                                   err_msg=column)
        compared.add(image_type)
    # the LoG image and the wavelet's eight decompositions, 91 maps each
    assert len(compared) == 9 and "log-sigma-1-0-mm-3D" in compared
    assert len(theirs) - 2 * len(compared) == 91 * 9


def test_maps_refuse_an_image_type_the_settings_do_not_make():
    image = np.random.default_rng(2).normal(100, 30, size=(6, 8, 8))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[2:4, 2:6, 2:6] = 1
    geometry = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
    with pytest.raises(ValueError, match="cannot compute the image type.s. log-sigma-2-0-mm-3D"):
        voxel_maps(Volume(image, *geometry), Volume(roi, *geometry),
                   ["log-sigma-2-0-mm-3D__glcm__Idm"],
                   FeatureConfig(image_types=["original", "log"], log_sigmas=[1.0]))

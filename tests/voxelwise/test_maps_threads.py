"""Voxel-wise maps do not depend on how many threads share the centres."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import mappable_features, voxel_maps


def _case():
    rng = np.random.default_rng(11)
    image = rng.normal(100.0, 40.0, size=(6, 10, 9))
    roi = rng.random(image.shape) < 0.6
    spacing = (1.0, 0.7, 0.7)
    return (Volume(image, spacing, (0.0, 0.0, 0.0), tuple(np.eye(3).ravel())),
            Volume(roi.astype(np.uint8), spacing, (0.0, 0.0, 0.0), tuple(np.eye(3).ravel())))


def test_maps_equal_whatever_the_threads():
    image, mask = _case()
    features = mappable_features()
    one = voxel_maps(image, mask, features, FeatureConfig(), kernel_radius=2, n_threads=1)
    three = voxel_maps(image, mask, features, FeatureConfig(), kernel_radius=2, n_threads=3)
    assert list(one) == list(three) == features
    for column in features:
        np.testing.assert_array_equal(sitk.GetArrayFromImage(one[column]),
                                      sitk.GetArrayFromImage(three[column]), err_msg=column)


def test_voxel_maps_refuses_no_threads():
    image, mask = _case()
    with pytest.raises(ValueError, match="'n_threads' parameter of voxel_maps must be an int"):
        voxel_maps(image, mask, ["original__glcm__Idm"], FeatureConfig(), n_threads=0)

"""The settings the voxel-wise kernels do not follow are named per family: the kernels compute
pyradiomics' defaults for them, so maps of a family under other values are refused."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.features.engine import extract_features
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import (
    FAMILY_MAPS,
    mappable_features,
    settings_not_followed,
    voxel_maps,
)

SPATIAL = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def test_each_family_names_the_settings_its_kernels_do_not_follow():
    other = FeatureConfig(aggregation="2_5D_avg", distances=[1, 2], gldm_a=1)
    assert {family: settings_not_followed(family, other) for family in FAMILY_MAPS} == {
        "firstorder": [], "glcm": ["aggregation", "distances"], "glrlm": ["aggregation"],
        "glszm": ["aggregation"], "gldm": ["aggregation", "distances", "gldm_a"],
        "ngtdm": ["aggregation", "distances"],
    }
    assert all(settings_not_followed(f, FeatureConfig()) == [] for f in FAMILY_MAPS)
    merged = FeatureConfig(aggregation="3D_comb")  # no directions to merge in GLSZM, GLDM, NGTDM
    assert [f for f in FAMILY_MAPS if settings_not_followed(f, merged)] == ["glcm", "glrlm"]


def _cube_case():
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    return Volume(image, *SPATIAL), Volume(roi, *SPATIAL)


def test_a_kernel_holding_the_whole_roi_gives_the_extracted_feature():
    volume, mask = _cube_case()
    feature = "original__glcm__Contrast"
    settings = FeatureConfig(bin_width=10)
    at_centre = sitk.GetArrayFromImage(voxel_maps(volume, mask, [feature], settings,
                                                  kernel_radius=3, extent="image")[feature])
    np.testing.assert_allclose(at_centre[4, 4, 4],
                               extract_features(volume, mask, settings)[feature], rtol=1e-12)


def test_maps_of_a_family_whose_kernels_ignore_a_setting_are_refused():
    """The kernels read distance 1: under distances [1, 2] a GLCM map would not show the
    extracted GLCM, so it is refused, naming the setting and the fix."""
    volume, mask = _cube_case()
    far = FeatureConfig(bin_width=10, distances=[1, 2])
    with pytest.raises(ValueError, match=r"glcm maps .*distances: \[1\].*distances: \[1, 2\]"):
        voxel_maps(volume, mask, ["original__glcm__Contrast"], far, kernel_radius=1)
    assert not any("__glcm__" in column or "__gldm__" in column
                   for column in mappable_features(far))
    assert "original__glrlm__RunEntropy" in mappable_features(far)
    maps = voxel_maps(volume, mask, ["original__glrlm__RunEntropy"], far, kernel_radius=1)
    assert list(maps) == ["original__glrlm__RunEntropy"]

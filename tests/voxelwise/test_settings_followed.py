"""The settings the voxel-wise kernels do not follow are named per family: the kernels compute
pyradiomics' defaults for them whatever the settings say."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.features.extract import extract_features
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import FAMILY_MAPS, settings_not_followed, voxel_maps

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


def test_a_kernel_holding_the_whole_roi_reads_distance_1_whatever_the_settings():
    """The kernel of the ROI's centre holds the whole ROI: its GLCM is the extracted one at the
    default distance, not at the distances the settings name."""
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    volume, mask = Volume(image, *SPATIAL), Volume(roi, *SPATIAL)
    feature = "original__glcm__Contrast"
    default, far = FeatureConfig(bin_width=10), FeatureConfig(bin_width=10, distances=[1, 2])
    at_centre = [sitk.GetArrayFromImage(voxel_maps(volume, mask, [feature], settings,
                                                   kernel_radius=3, extent="image")[feature])
                 [4, 4, 4] for settings in (default, far)]
    extracted = [extract_features(volume, mask, s)[feature] for s in (default, far)]
    assert at_centre[0] == at_centre[1]
    np.testing.assert_allclose(at_centre[0], extracted[0], rtol=1e-12)
    assert abs(at_centre[1] - extracted[1]) > 1e-3 * abs(extracted[1])

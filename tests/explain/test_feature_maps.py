"""Feature maps: a feature computed voxel-wise in windows, with the extraction's settings."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.config import FeatureConfig
from radiopipe.explain.feature_maps import feature_maps, has_map
from radiopipe.features.extract import extract_features
from radiopipe.io import Volume

PLANAR = ((1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
SPATIAL = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def _planar(array, roi):
    return Volume(array, *PLANAR), Volume(roi.astype(np.uint8), *PLANAR)


def test_a_3x3_window_mean_by_hand():
    image = np.arange(25, dtype=np.float64).reshape(5, 5)
    roi = np.zeros((5, 5), dtype=bool)
    roi[1:4, 1:4] = True  # values 6 7 8 / 11 12 13 / 16 17 18
    settings = FeatureConfig(families=["firstorder"], bin_width=5)
    (item,) = feature_maps(*_planar(image, roi), ["original__firstorder__Mean"], settings, window=3)
    assert item.slice_index == 0 and item.stride == 1 and item.window == 3
    np.testing.assert_array_equal(item.image, image)  # the ROI plus a margin: all of it here
    np.testing.assert_array_equal(item.roi, roi)
    assert item.values[1, 1] == pytest.approx((6 + 7 + 11 + 12) / 4)  # corner: 2x2 of the ROI
    assert item.values[1, 2] == pytest.approx((6 + 7 + 8 + 11 + 12 + 13) / 6)  # edge: 2x3
    assert item.values[2, 2] == pytest.approx(12.0)  # centre: the whole ROI
    assert item.values[3, 3] == pytest.approx((12 + 13 + 17 + 18) / 4)
    assert np.isnan(item.values[~roi]).all()


@pytest.mark.parametrize(
    "feature",
    ["original__glcm__Contrast", "original__glszm__ZoneEntropy", "original__firstorder__Entropy",
     "log-sigma-1-0-mm-3D__ngtdm__Busyness"],
)
def test_a_window_holding_the_whole_roi_gives_the_extracted_value(feature):
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    settings = FeatureConfig(image_types=["original", "log"], log_sigmas=[1.0], bin_width=10)
    volume, mask = Volume(image, *SPATIAL), Volume(roi, *SPATIAL)
    expected = extract_features(volume, mask, settings)[feature]
    (item,) = feature_maps(volume, mask, [feature], settings, window=7)
    assert item.slice_index == 3  # the first of the ROI's equally large slices
    np.testing.assert_allclose(item.values[item.roi], expected, rtol=1e-12)


def test_the_stride_keeps_the_windows_within_the_budget_and_covers_the_roi():
    image = np.random.default_rng(1).normal(size=(20, 20))
    roi = np.zeros((20, 20), dtype=bool)
    roi[2:12, 3:13] = True  # 100 voxels
    settings = FeatureConfig(families=["glcm"], bin_width=0.5)
    (item,) = feature_maps(*_planar(image, roi), ["original__glcm__JointEntropy"], settings,
                           window=3, max_windows=30)
    assert item.stride == 2  # 25 windows on every second voxel of both axes
    assert np.isfinite(item.values[item.roi]).all()


def test_which_features_have_maps():
    assert has_map("original__glcm__Contrast")
    assert has_map("wavelet-LLH__firstorder__Mean")
    assert not has_map("original__shape__Sphericity")  # the whole ROI's shape
    assert not has_map("original__local_intensity__LocalPeak")  # already local
    assert not has_map("clinical__age")
    assert not has_map("cnn__resnet18__embedding")
    assert feature_maps(*_planar(np.zeros((3, 3)), np.ones((3, 3), bool)),
                        ["original__shape__Sphericity"], FeatureConfig()) == []

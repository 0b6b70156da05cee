"""Voxel-wise maps over the ROI's box equal the whole grid's maps there, placed where they lie."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import voxel_maps

FEATURES = ["original__firstorder__Mean", "original__glcm__Idm", "original__ngtdm__Busyness"]


def _case():
    """A ROI in the middle of a 9 x 14 x 12 image, on a rotated grid with an origin."""
    rng = np.random.default_rng(5)
    image = rng.normal(100.0, 40.0, size=(9, 14, 12))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 4:9, 5:8] = rng.random((3, 5, 3)) < 0.8
    roi[4, 6, 6] = 1
    angle = np.deg2rad(30)
    direction = (np.cos(angle), -np.sin(angle), 0.0, np.sin(angle), np.cos(angle), 0.0,
                 0.0, 0.0, 1.0)
    geometry = ((2.0, 0.7, 0.8), (-12.0, 30.0, 5.0), direction)
    return Volume(image, *geometry), Volume(roi, *geometry)


@pytest.mark.parametrize("radius", [1, 2])
def test_roi_extent_maps_are_the_image_maps_box(radius):
    image, mask = _case()
    whole = voxel_maps(image, mask, FEATURES, FeatureConfig(), kernel_radius=radius,
                       extent="image")
    box = voxel_maps(image, mask, FEATURES, FeatureConfig(), kernel_radius=radius)
    for column in FEATURES:
        small, large = box[column], whole[column]
        # the ROI's box (z 3..5, y 4..8, x 5..7) widened by the radius
        assert small.GetSize() == tuple(n + 2 * radius for n in (3, 5, 3))
        assert small.GetSpacing() == large.GetSpacing()
        assert small.GetDirection() == large.GetDirection()
        corner = large.TransformPhysicalPointToIndex(small.GetOrigin())
        assert corner == (5 - radius, 4 - radius, 3 - radius)
        np.testing.assert_allclose(small.GetOrigin(),
                                   large.TransformIndexToPhysicalPoint(corner), atol=1e-9)
        start = corner[::-1]
        expected = sitk.GetArrayFromImage(large)[
            tuple(slice(s, s + n) for s, n in zip(start, small.GetSize()[::-1]))]
        np.testing.assert_array_equal(sitk.GetArrayFromImage(small), expected)


def test_voxel_maps_refuses_an_unknown_extent():
    image, mask = _case()
    with pytest.raises(ValueError, match="'extent' parameter of voxel_maps must be one of"):
        voxel_maps(image, mask, FEATURES, FeatureConfig(), extent="box")

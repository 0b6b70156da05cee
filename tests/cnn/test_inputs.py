"""Input preparation: crops, margin, square physical extent, windowing, resampling, 3D planes."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.cnn.inputs import InputSettings, prepare_inputs

IMAGE_4X4 = np.array(
    [[0, 1, 2, 3],
     [4, 5, 6, 7],
     [8, 9, 10, 11],
     [12, 13, 14, 15]], dtype=np.float32
)


def test_whole_4x4_image_at_its_own_size_is_the_image_windowed():
    # Square image, 4 pixels: the sampling grid falls on the pixel centres, nothing to smooth.
    settings = InputSettings(size=4, region="image", window=(0.0, 15.0))
    prepared = prepare_inputs(IMAGE_4X4, np.ones((4, 4), bool), (1.0, 1.0), settings)
    assert prepared.images.shape == (1, 1, 4, 4) and prepared.planes == ("image",)
    np.testing.assert_allclose(prepared.images[0, 0], IMAGE_4X4 / 15.0, atol=1e-6)
    assert prepared.roi.all()


def test_roi_crop_adds_the_margin_on_each_side():
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    roi = np.zeros((8, 8), bool)
    roi[2:4, 4:6] = True  # 2x2 ROI; margin 0.5 of its extent on each side -> a 4x4 crop
    settings = InputSettings(size=4, margin=0.5, window=(0.0, 63.0))
    prepared = prepare_inputs(image, roi, (1.0, 1.0), settings)
    np.testing.assert_allclose(prepared.images[0, 0], image[1:5, 3:7] / 63.0, atol=1e-6)
    expected_roi = np.zeros((4, 4), bool)
    expected_roi[1:3, 1:3] = True
    np.testing.assert_array_equal(prepared.roi[0], expected_roi)


def test_points_outside_the_image_are_black_and_the_crop_is_square():
    image = np.full((2, 6), 10.0, np.float32)  # a wide image: its square crop overhangs
    settings = InputSettings(size=6, region="image", window=(0.0, 10.0))
    prepared = prepare_inputs(image, np.ones((2, 6), bool), (1.0, 1.0), settings)
    rows_with_image = prepared.images[0, 0].max(axis=1) > 0
    np.testing.assert_array_equal(rows_with_image, [False, False, True, True, False, False])
    assert prepared.images[0, 0][2:4].min() == 1.0


def test_anisotropic_pixels_keep_their_physical_aspect():
    image = np.zeros((10, 20), np.float32)
    roi = np.zeros((10, 20), bool)
    roi[3:7, 6:14] = True  # 4 rows x 2 mm = 8 mm, 8 columns x 1 mm = 8 mm: a physical square
    image[roi] = 1.0
    settings = InputSettings(size=16, margin=0.0, window=(0.0, 1.0))
    square = prepare_inputs(image, roi, (2.0, 1.0), settings).roi[0]
    assert square.any(axis=0).all() and square.any(axis=1).all()  # fills the crop both ways
    wide = prepare_inputs(image, roi, (1.0, 1.0), settings).roi[0]  # 4 mm x 8 mm
    assert wide.any(axis=0).all() and wide.any(axis=1).sum() == 8


def test_default_window_is_the_crop_percentiles():
    image = np.tile(np.linspace(0.0, 1000.0, 16, dtype=np.float32), (16, 1))
    settings = InputSettings(size=16, region="image")
    prepared = prepare_inputs(image, np.ones((16, 16), bool), (1.0, 1.0), settings)
    values = prepared.images[0, 0, 0]
    low, high = np.percentile(image, [0.5, 99.5])
    np.testing.assert_allclose(values, np.clip((image[0] - low) / (high - low), 0, 1), atol=1e-6)


def test_shrinking_smooths_before_sampling():
    checkerboard = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32)
    settings = InputSettings(size=8, region="image", window=(0.0, 1.0))
    prepared = prepare_inputs(checkerboard, np.ones((64, 64), bool), (1.0, 1.0), settings)
    np.testing.assert_allclose(prepared.images[0, 0], 0.5, atol=0.05)  # no aliasing pattern


def test_colour_images_keep_their_channels():
    image = np.zeros((8, 8, 3), np.float32)
    image[..., 0] = 255.0  # pure red
    settings = InputSettings(size=8, region="image", window=(0.0, 255.0))
    prepared = prepare_inputs(image, np.ones((8, 8), bool), (1.0, 1.0), settings)
    assert prepared.images.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(prepared.images[0, :, 4, 4], [1.0, 0.0, 0.0])


def test_3d_slices_mode_gives_one_input_per_roi_slice():
    volume = np.arange(6 * 8 * 8, dtype=np.float32).reshape(6, 8, 8)
    roi = np.zeros((6, 8, 8), bool)
    roi[1:4, 2:6, 2:6] = True
    settings = InputSettings(size=16)
    prepared = prepare_inputs(volume, roi, (3.0, 1.0, 1.0), settings)
    assert prepared.images.shape == (3, 1, 16, 16)
    assert prepared.planes == ("axial z=1", "axial z=2", "axial z=3")


def test_3d_orthogonal_mode_gives_three_planes_with_superior_on_top():
    z = np.arange(9, dtype=np.float32)[:, None, None]
    volume = np.broadcast_to(z, (9, 9, 9)).copy()  # grey value = slice index
    roi = np.zeros((9, 9, 9), bool)
    roi[2:7, 2:7, 2:7] = True
    settings = InputSettings(size=9, volume_mode="orthogonal", margin=0.0, window=(0.0, 8.0))
    prepared = prepare_inputs(volume, roi, (1.0, 1.0, 1.0), settings)
    assert prepared.planes == ("axial z=4", "coronal y=4", "sagittal x=4")
    axial, coronal, sagittal = prepared.images[:, 0]
    np.testing.assert_allclose(axial[2:7, 2:7], 0.5, atol=1e-6)
    for plane in (coronal, sagittal):
        column = plane[1:8, 4]
        assert np.all(np.diff(column) < 0)  # rows run from high z (top) to low z


def test_single_slice_volume_has_only_its_axial_plane():
    roi = np.ones((1, 6, 6), bool)
    settings = InputSettings(size=8, volume_mode="orthogonal")
    prepared = prepare_inputs(np.ones((1, 6, 6), np.float32), roi, (5.0, 1.0, 1.0), settings)
    assert prepared.planes == ("axial z=0",)


def test_constant_image_gives_a_defined_input():
    prepared = prepare_inputs(np.full((6, 6), 7.0), np.ones((6, 6), bool), (1.0, 1.0),
                              InputSettings(size=8))
    assert np.isfinite(prepared.images).all()


@pytest.mark.parametrize(
    ("image", "mask", "message"),
    [
        (np.zeros((4, 4)), np.zeros((4, 4), bool), "no ROI voxel"),
        (np.zeros((4, 5)), np.ones((4, 4), bool), "differ in shape"),
    ],
)
def test_bad_inputs_are_refused(image, mask, message):
    with pytest.raises(ValueError, match=message):
        prepare_inputs(image, mask, (1.0, 1.0), InputSettings(size=8))

"""Image and mask reading: formats, DICOM folders, colour policy, geometry and label checks."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import sphere_mask, write_dicom_series, write_image

from radiopipe.config import DataConfig
from radiopipe.errors import CaseError
from radiopipe.io import Volume, describe_file, read_case, read_image, read_mask, redact_paths
from radiopipe.manifest import Case


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_volume_formats_round_trip(tmp_path, suffix):
    array = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    path = write_image(tmp_path / f"img{suffix}", array, spacing=(0.5, 0.7, 2.0), origin=(1, 2, 3))
    volume = Volume.from_sitk(read_image(path, case_id="c"))
    np.testing.assert_array_equal(volume.array, array)
    assert volume.spacing == pytest.approx((2.0, 0.7, 0.5))  # (z, y, x) like the array
    assert volume.origin == pytest.approx((1, 2, 3))


def _write_ct_series(folder, array, series_uid, description, prefix):
    """A 2.5 mm CT series with its description, files named ``{prefix}NN.dcm``."""
    write_dicom_series(
        folder, array, series_uid, study_uid="1.2.826.0.1.3680043.2.1125.1",
        file_name=prefix + "{:02d}.dcm", slice_spacing=2.5,
        tags={"0008|0016": "1.2.840.10008.5.1.4.1.1.2", "0008|103e": description,
              "0018|0050": "2.5"},
    )


def test_dicom_folder_with_one_series(tmp_path):
    array = np.arange(3 * 8 * 8).reshape(3, 8, 8)
    _write_ct_series(tmp_path / "dcm", array, "1.2.826.0.1.3680043.2.1125.2", "axial", "a")
    volume = Volume.from_sitk(read_image(tmp_path / "dcm", case_id="c"))
    np.testing.assert_array_equal(volume.array, array)
    assert volume.spacing[0] == pytest.approx(2.5)


def test_dicom_folder_with_two_series_is_refused_with_a_listing(tmp_path):
    array = np.zeros((2, 8, 8))
    _write_ct_series(tmp_path / "dcm", array, "1.2.826.0.1.3680043.2.1125.3", "plain", "a")
    _write_ct_series(tmp_path / "dcm", array, "1.2.826.0.1.3680043.2.1125.4", "contrast", "b")
    with pytest.raises(CaseError) as info:
        read_image(tmp_path / "dcm", case_id="c7")
    message = str(info.value)
    assert message.startswith(
        "case 'c7': the image (DICOM folder) holds 2 DICOM series: 1) 2 file(s), modality 'CT', "
        "description '"
    )
    assert "description 'plain'" in message and "description 'contrast'" in message
    assert message.endswith(
        "put each series in its own folder and point the manifest at the one to use"
    )
    assert "dcm" not in message.replace("DICOM", "") and ".dcm" not in message  # no file names


def test_rgb_without_policy_is_refused(tmp_path):
    rgb = sitk.GetImageFromArray(np.zeros((6, 6, 3), dtype=np.uint8), isVector=True)
    sitk.WriteImage(rgb, str(tmp_path / "photo.png"))
    with pytest.raises(CaseError) as info:
        read_image(tmp_path / "photo.png", case_id="x1")
    assert str(info.value) == (
        "case 'x1': the image (.png file) has 3 channels per pixel; set data.channel_policy to one "
        "of luminance, mean, red, green, blue to say how to make it single-channel"
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("luminance", 0.299 * 10 + 0.587 * 20 + 0.114 * 30), ("mean", 20.0), ("green", 20.0)],
)
def test_rgb_with_policy(tmp_path, policy, expected):
    pixels = np.tile(np.array([10, 20, 30], dtype=np.uint8), (6, 6, 1))
    sitk.WriteImage(sitk.GetImageFromArray(pixels, isVector=True), str(tmp_path / "photo.png"))
    image = read_image(tmp_path / "photo.png", case_id="x", channel_policy=policy)
    assert image.GetNumberOfComponentsPerPixel() == 1
    np.testing.assert_allclose(sitk.GetArrayFromImage(image), expected, rtol=1e-6)


def test_geometry_mismatch_shows_both_geometries(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((4, 4, 4), np.float32)), case_id="c"
    )
    write_image(tmp_path / "m.nrrd", np.ones((4, 4, 4), np.uint8), spacing=(1.0, 1.0, 3.0))
    with pytest.raises(CaseError) as info:
        read_mask(tmp_path / "m.nrrd", image, case_id="c3")
    assert str(info.value) == (
        "case 'c3': the image and the mask (.nrrd file) are not on the same grid: "
        "image size (4, 4, 4), "
        "spacing (1, 1, 1), origin (0, 0, 0), direction (1, 0, 0, 0, 1, 0, 0, 0, 1); mask size "
        "(4, 4, 4), spacing (1, 1, 3), origin (0, 0, 0), direction (1, 0, 0, 0, 1, 0, 0, 0, 1); "
        "resample the mask onto the image or raise data.geometry_tolerance "
        "if the difference is rounding (data.correct_mask: true resamples it by nearest "
        "neighbour, as pyradiomics' correctMask)"
    )


def test_geometry_within_tolerance_is_accepted(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((4, 4, 4), np.float32)), case_id="c"
    )
    write_image(tmp_path / "m.nrrd", np.ones((4, 4, 4), np.uint8), origin=(1e-6, 0, 0))
    mask = read_mask(tmp_path / "m.nrrd", image, case_id="c")
    assert sitk.GetArrayViewFromImage(mask).sum() == 64


def test_empty_mask_lists_labels(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((4, 4, 4), np.float32)), case_id="c"
    )
    write_image(tmp_path / "m.nrrd", np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(CaseError) as info:
        read_mask(tmp_path / "m.nrrd", image, case_id="c4")
    assert str(info.value) == (
        "case 'c4': the mask (.nrrd file) is empty (labels present: 0); set data.mask_label to the "
        "label of the region of interest or fix the mask"
    )


def test_missing_label_lists_labels_present(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((4, 4, 4), np.float32)), case_id="c"
    )
    labels = np.zeros((4, 4, 4), np.uint8)
    labels[0, 0, 0], labels[1, 1, 1] = 2, 3
    write_image(tmp_path / "m.nrrd", labels)
    with pytest.raises(CaseError, match=r"has no voxel with label 1 \(labels present: 0, 2, 3\)"):
        read_mask(tmp_path / "m.nrrd", image, case_id="c5")


def test_selected_label_becomes_a_binary_mask(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((12, 12, 12), np.float32)), case_id="c"
    )
    labels = sphere_mask() * 2
    write_image(tmp_path / "m.nrrd", labels)
    mask = read_mask(tmp_path / "m.nrrd", image, case_id="c", label=2)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask), labels // 2)


def test_no_mask_means_whole_image(tmp_path):
    image = read_image(
        write_image(tmp_path / "i.nrrd", np.zeros((3, 4, 5), np.float32)), case_id="c"
    )
    assert sitk.GetArrayViewFromImage(read_mask(None, image, case_id="c")).sum() == 60


def test_unreadable_file_is_named_by_role_and_type_only(tmp_path):
    folder = tmp_path / "Doe^Jane"
    folder.mkdir()
    (folder / "Doe^Jane-ct.nrrd").write_bytes(b"not an image")
    with pytest.raises(
        CaseError, match=r"^case 'c6': cannot read the image \(\.nrrd file\) \("
    ) as info:
        read_image(folder / "Doe^Jane-ct.nrrd", case_id="c6")
    assert str(info.value).endswith("; check the file's format")
    assert "Doe" not in str(info.value) and str(tmp_path) not in str(info.value)


@pytest.mark.parametrize(
    ("name", "described"),
    [("ct.nii.gz", "the image (.nii.gz file)"), ("Scan.NRRD", "the image (.nrrd file)"),
     ("scan.Doe", "the image (file of an unlisted type)")],
)
def test_files_are_described_by_role_and_known_type(tmp_path, name, described):
    assert describe_file("image", tmp_path / name) == described
    assert describe_file("image", tmp_path) == "the image (DICOM folder)"


def test_redact_paths_removes_the_file_and_anything_path_shaped(tmp_path):
    path = tmp_path / "Doe^Jane" / "scan-Doe.nrrd"
    text = f'Could not open "{path}" (scan-Doe.nrrd); also /other/place/x.nii: bad header'
    assert redact_paths(text, path) == 'Could not open "<file>" (<file>); also <file> bad header'


def test_volume_view_shares_the_image_buffer_read_only():
    image = sitk.GetImageFromArray(np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    image.SetSpacing((0.5, 0.7, 2.0))
    copy, view = Volume.from_sitk(image), Volume.from_sitk(image, copy=False)
    np.testing.assert_array_equal(view.array, copy.array)
    assert view.spacing == copy.spacing == (2.0, 0.7, 0.5)
    assert copy.array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view.array[0, 0, 0] = 1


def test_read_case_reads_as_extraction_does(tmp_path):
    labels = sphere_mask().astype(np.uint8) * 2
    values = np.arange(labels.size, dtype=np.float32).reshape(labels.shape)
    image = write_image(tmp_path / "img.nrrd", values)
    mask = write_image(tmp_path / "mask.nrrd", labels)
    case = Case(case_id="c", image=image, mask=mask, label="a", patient_id="p")
    data = DataConfig(manifest="cohort.csv", mask_label=2)
    image_read, mask_read = read_case(case, data)
    assert Volume.from_sitk(image_read).array.shape == labels.shape
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mask_read), labels == 2)
    with pytest.raises(CaseError, match="no voxel with label 1"):
        read_case(case, DataConfig(manifest="cohort.csv"))


def _case(tmp_path, image_array, mask_array=None):
    image = sitk.GetImageFromArray(image_array, isVector=False)
    sitk.WriteImage(image, str(tmp_path / "image.nrrd"))
    mask = None
    if mask_array is not None:
        write_image(tmp_path / "mask.nrrd", mask_array)
        mask = tmp_path / "mask.nrrd"
    return Case(case_id="c9", image=tmp_path / "image.nrrd", mask=mask, label="a", patient_id="p")


def test_a_4d_image_is_refused_with_what_to_do(tmp_path):
    case = _case(tmp_path, np.zeros((3, 4, 5, 6), np.float32))
    with pytest.raises(CaseError, match=r"^case 'c9': the image \(\.nrrd file\) has 4 dimensions "
                                        r"\(size 6x5x4x3\); radiopipe reads 2D and 3D images"):
        read_case(case, DataConfig(manifest="m.csv"))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_voxels_are_refused(tmp_path, value):
    array = np.ones((4, 4, 4), np.float32)
    array[1, 2, 3] = value
    array[0, 0, 0] = value
    case = _case(tmp_path, array)
    with pytest.raises(CaseError, match=r"has 2 non-finite voxel\(s\) \(NaN or infinity\); "
                                        "replace them"):
        read_case(case, DataConfig(manifest="m.csv"))


def test_a_roi_below_the_minimum_size_fails_with_the_setting_to_change(tmp_path):
    mask = np.zeros((6, 6, 6), np.uint8)
    mask[2, 3, 3] = 1
    case = _case(tmp_path, np.ones((6, 6, 6), np.float32), mask)
    with pytest.raises(CaseError, match=r"the region of interest has 1 voxel\(s\), fewer than "
                                        r"data.min_roi_voxels = 2"):
        read_case(case, DataConfig(manifest="m.csv"))
    image, roi = read_case(case, DataConfig(manifest="m.csv", min_roi_voxels=1))
    assert sitk.GetArrayViewFromImage(roi).sum() == 1

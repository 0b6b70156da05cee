"""DICOM-SEG masks: SEGs written by highdicom from the IBSI CT phantom's NIfTI mask (binary and
fractional, several segments) read back voxel-identical; a SEG off the image's grid is refused."""

from __future__ import annotations

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.sr.codedict import codes
from reference_data import ct_phantom_dicom

from radiopipe.config import DataConfig
from radiopipe.errors import CaseError
from radiopipe.io import read_case, read_image, read_seg_mask
from radiopipe.manifest import Case

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def phantom():
    """The CT phantom's series (as read), its source datasets in slice order and its mask."""
    case = ct_phantom_dicom()
    image = read_image(case.series, case_id="phantom")
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(case.series))
    sources = [pydicom.dcmread(f) for f in files]
    for source in sources:  # a one-part name ('PAT1'), which highdicom warns about otherwise
        source.PatientName = f"{source.PatientName}^"
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(case.nifti_mask))) > 0
    return case, image, sources, mask


def _segment(number: int, label: str) -> hd.seg.SegmentDescription:
    return hd.seg.SegmentDescription(
        segment_number=number, segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Neoplasm,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def _write_seg(path, sources, pixels, labels, kind=hd.seg.SegmentationTypeValues.BINARY):
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=pixels, segmentation_type=kind,
        segment_descriptions=[_segment(i + 1, label) for i, label in enumerate(labels)],
        series_instance_uid=hd.UID(), series_number=100, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="radiopipe tests", manufacturer_model_name="tests",
        software_versions="0", device_serial_number="0",
        **({"max_fractional_value": 100} if kind == hd.seg.SegmentationTypeValues.FRACTIONAL
           else {}),
    )
    seg.save_as(path)
    return path


def test_a_seg_written_from_the_phantom_mask_reads_back_voxel_identical(tmp_path, phantom):
    case, image, sources, mask = phantom
    path = _write_seg(tmp_path / "seg.dcm", sources, mask.astype(np.uint8), ["GTV-1"])
    read = sitk.GetArrayFromImage(read_seg_mask(path, image, "GTV-1", case_id="phantom"))
    np.testing.assert_array_equal(read.astype(bool), mask)
    row = Case("phantom", case.series, path, "x", "p", roi="GTV-1")
    _, through_case = read_case(row, DataConfig(manifest="m.csv"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(through_case).astype(bool), mask)


def test_segments_are_picked_by_label_pattern_or_number(tmp_path, phantom):
    _, image, sources, mask = phantom
    core = mask.copy()
    core[: mask.shape[0] // 2] = False
    labels = np.where(core, 2, np.where(mask, 1, 0)).astype(np.uint8)  # a label map: 1, 2
    path = _write_seg(tmp_path / "two.dcm", sources, np.stack([mask & ~core, core], -1)
                      .astype(np.uint8), ["GTV-rim", "GTV-core"])
    for roi, expected in (("GTV-core", labels == 2), ("1", labels == 1), (".*rim", labels == 1)):
        read = sitk.GetArrayFromImage(read_seg_mask(path, image, roi, case_id="phantom"))
        np.testing.assert_array_equal(read.astype(bool), expected)
    with pytest.raises(CaseError, match=r"2 structures matching roi 'GTV.\*' \(1 'GTV-rim', 2 "
                       r"'GTV-core'\)"):
        read_seg_mask(path, image, "GTV.*", case_id="phantom")


def test_a_fractional_seg_keeps_the_voxels_at_least_half_inside(tmp_path, phantom):
    _, image, sources, mask = phantom
    fraction = np.where(mask, 0.75, 0.0)
    fraction[mask.shape[0] // 2] = np.where(mask[mask.shape[0] // 2], 0.25, 0.0)
    path = _write_seg(tmp_path / "fractional.dcm", sources, fraction.astype(np.float32),
                      ["GTV-1"], kind=hd.seg.SegmentationTypeValues.FRACTIONAL)
    read = sitk.GetArrayFromImage(read_seg_mask(path, image, "GTV-1", case_id="phantom"))
    np.testing.assert_array_equal(read.astype(bool), fraction >= 0.5)


def test_a_seg_off_the_image_grid_is_refused_showing_both(tmp_path, phantom):
    _, image, sources, mask = phantom
    path = _write_seg(tmp_path / "seg.dcm", sources, mask.astype(np.uint8), ["GTV-1"])
    moved = sitk.Image(image)
    moved.SetOrigin(tuple(np.asarray(image.GetOrigin()) + (0.0, 0.0, 1.5)))
    with pytest.raises(CaseError, match=r"case 'phantom': the mask \(DICOM-SEG\) does not lie on "
                       r"the image's grid: image size \(204, 201, 60\).*; SEG 204x201 pixels .*; "
                       r"point the manifest's image at the series the SEG was made on"):
        read_seg_mask(path, moved, "GTV-1", case_id="phantom")
    small = sitk.RegionOfInterest(image, (100, 201, 60), (0, 0, 0))
    with pytest.raises(CaseError, match=r"does not lie on the image's grid"):
        read_seg_mask(path, small, "GTV-1", case_id="phantom")

"""Bad RTSTRUCT input, each refused with one line that names the case and the fix. The bad files
are copies of a real structure set (STS_002's PET) edited with pydicom."""

from __future__ import annotations

import copy

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from reference_data import sts_dicom

from radiopipe.config import DataConfig
from radiopipe.errors import CaseError
from radiopipe.io import read_case, read_image, read_rtstruct_mask
from radiopipe.manifest import Case

ROI = "GTV_Mass_PET"


@pytest.fixture(scope="module")
def pet():
    case = sts_dicom("STS_002", "PET")
    return case, read_image(case.series, case_id="sts2")


def _edited(tmp_path, case, edit):
    dataset = pydicom.dcmread(case.rtstruct)
    edit(dataset)
    path = tmp_path / "edited.dcm"
    dataset.save_as(path)
    return path


def _read(path, pet, roi=ROI):
    case, image = pet
    return read_rtstruct_mask(path, image, case.series, roi, case_id="sts2")


def _contours(dataset):
    return dataset.ROIContourSequence[0].ContourSequence


def test_an_absent_roi_lists_the_structures_present(pet):
    with pytest.raises(CaseError, match=r"case 'sts2': .*no structure matching roi 'GTV_Mass_CT' "
                       r"\(structures present: 1 'GTV_Mass_PET'\); set the manifest's 'roi'"):
        _read(pet[0].rtstruct, pet, roi="GTV_Mass_CT")


def test_a_pattern_picks_its_one_match(pet):
    by_name = sitk.GetArrayFromImage(_read(pet[0].rtstruct, pet))
    by_pattern = sitk.GetArrayFromImage(_read(pet[0].rtstruct, pet, roi="GTV.*"))
    np.testing.assert_array_equal(by_name, by_pattern)
    assert by_name.sum() == 555


def _duplicate_roi(name):
    def edit(dataset):
        twin = copy.deepcopy(dataset.StructureSetROISequence[0])
        twin.ROINumber, twin.ROIName = 2, name
        dataset.StructureSetROISequence.append(twin)
        contour = copy.deepcopy(dataset.ROIContourSequence[0])
        contour.ReferencedROINumber = 2
        dataset.ROIContourSequence.append(contour)
    return edit


def test_two_structures_of_one_exact_name_are_refused(tmp_path, pet):
    path = _edited(tmp_path, pet[0], _duplicate_roi(ROI))
    with pytest.raises(CaseError, match=r"has 2 structures named 'GTV_Mass_PET' \(1 'GTV_Mass_PET'"
                       r", 2 'GTV_Mass_PET'\); rename the duplicates or give the structure's "
                       r"number"):
        _read(path, pet)


def test_a_pattern_matching_several_structures_is_refused(tmp_path, pet):
    path = _edited(tmp_path, pet[0], _duplicate_roi("GTV_Node"))
    with pytest.raises(CaseError, match=r"2 structures matching roi 'GTV_.\*' .*give an exact "
                       r"name, or one manifest row per structure"):
        _read(path, pet, roi="GTV_.*")
    assert sitk.GetArrayFromImage(_read(path, pet, roi="GTV_Node")).sum() == 555


def test_a_structure_set_of_another_frame_of_reference_is_refused(tmp_path, pet):
    def edit(dataset):
        dataset.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = "1.2.3.4"
        dataset.StructureSetROISequence[0].ReferencedFrameOfReferenceUID = "1.2.3.4"

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"belongs to another series: its Frame of Reference "
                       r"differs from the image's; point the manifest's image at the series"):
        _read(path, pet)


def test_a_structure_set_referencing_another_series_is_refused(tmp_path, pet):
    def edit(dataset):
        study = dataset.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
        study.RTReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3.4.5"

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"references neither the image's series nor any of its "
                       r"48 images; point the manifest's image"):
        _read(path, pet)


def test_a_contour_on_no_slice_of_the_image_is_refused(tmp_path, pet):
    def edit(dataset):
        points = np.asarray(_contours(dataset)[3].ContourData, dtype=float).reshape(-1, 3)
        points[:, 2] += 500.0
        _contours(dataset)[3].ContourData = [f"{v:.3f}" for v in points.ravel()]

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"contour 4 of structure 'GTV_Mass_PET' lies at slice "
                       r"position [0-9.]+, on no slice of the image \(0\.\.47\); check that"):
        _read(path, pet)


def test_a_contour_between_two_slices_is_refused(tmp_path, pet):
    def edit(dataset):
        points = np.asarray(_contours(dataset)[0].ContourData, dtype=float).reshape(-1, 3)
        points[:, 2] += 0.5 * pet[1].GetSpacing()[2]
        _contours(dataset)[0].ContourData = [f"{v:.3f}" for v in points.ravel()]

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"contour 1 .* on no slice of the image"):
        _read(path, pet)


def test_an_empty_contour_is_refused(tmp_path, pet):
    def edit(dataset):
        _contours(dataset)[1].ContourData = _contours(dataset)[1].ContourData[:3]
        _contours(dataset)[1].NumberOfContourPoints = 1

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"contour 2 of structure 'GTV_Mass_PET' is empty \(1 "
                       r"point\(s\), a closed contour needs 3\); remove or redraw it"):
        _read(path, pet)


def test_a_structure_without_contours_is_refused(tmp_path, pet):
    def edit(dataset):
        del dataset.ROIContourSequence[0].ContourSequence

    path = _edited(tmp_path, pet[0], edit)
    with pytest.raises(CaseError, match=r"structure 'GTV_Mass_PET' has no contour; draw it"):
        _read(path, pet)


def test_read_case_reads_an_rtstruct_mask_by_the_case_roi(pet):
    case = pet[0]
    row = Case("sts2-pet", case.series, case.rtstruct, "x", "sts2", roi=ROI)
    image, mask = read_case(row, DataConfig(manifest="m.csv"))
    assert sitk.GetArrayViewFromImage(mask).sum() == 555
    assert mask.GetSize() == image.GetSize()


def test_an_rtstruct_beside_an_image_file_asks_for_the_series_folder(tmp_path, pet):
    case = pet[0]
    row = Case("sts2-pet", case.nifti_image, case.rtstruct, "x", "sts2", roi=ROI)
    with pytest.raises(CaseError, match=r"case 'sts2-pet': the mask is a DICOM RTSTRUCT, which "
                       r"needs the image as its DICOM series folder"):
        read_case(row, DataConfig(manifest="m.csv"))

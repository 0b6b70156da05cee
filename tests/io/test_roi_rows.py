"""Several ROIs per scan: a manifest ``roi`` pattern becomes one row per matching structure, with
safe case ids and the row's patient; exact names keep one row."""

from __future__ import annotations

import copy
import csv

import pydicom
import pytest
import SimpleITK as sitk
from reference_data import sts_dicom

from radiopipe.config import DataConfig
from radiopipe.errors import ManifestError
from radiopipe.io import read_case
from radiopipe.manifest import read_manifest


def _three_structures(tmp_path):
    """STS_002's PET structure set with two more structures: 'GTV <patient id>/2', 'BODY'."""
    case = sts_dicom("STS_002", "PET")
    dataset = pydicom.dcmread(case.rtstruct)
    for number, name in ((2, f"GTV {dataset.PatientID}/2"), (3, "BODY")):
        roi = copy.deepcopy(dataset.StructureSetROISequence[0])
        roi.ROINumber, roi.ROIName = number, name
        dataset.StructureSetROISequence.append(roi)
        contour = copy.deepcopy(dataset.ROIContourSequence[0])
        contour.ReferencedROINumber = number
        dataset.ROIContourSequence.append(contour)
    path = tmp_path / "rs.dcm"
    dataset.save_as(path)
    return case, path, str(dataset.PatientID)


def _manifest(tmp_path, case, rtstruct, roi):
    path = tmp_path / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["case_id", "image", "mask", "label", "patient_id", "roi"],
            ["sts2", str(case.series), str(rtstruct), "yes", "p2", roi],
            ["other", str(case.series), str(rtstruct), "no", "p9", "BODY"],
        ])
    return path


def test_a_pattern_becomes_one_row_per_structure_of_one_patient(tmp_path):
    case, rtstruct, patient_id = _three_structures(tmp_path)
    manifest = read_manifest(_manifest(tmp_path, case, rtstruct, "GTV.*"))
    ids = [c.case_id for c in manifest.cases]
    assert ids == ["sts2-GTV_Mass_PET", "sts2-GTV_2", "other"]
    assert patient_id not in "".join(ids)
    assert [c.patient_id for c in manifest.cases] == ["p2", "p2", "p9"]
    assert [c.roi for c in manifest.cases] == ["GTV_Mass_PET", f"GTV {patient_id}/2", "BODY"]
    data = DataConfig(manifest="m.csv")
    for row in manifest.cases:
        assert sitk.GetArrayViewFromImage(read_case(row, data)[1]).sum() == 555


def test_an_exact_name_or_a_single_match_keeps_one_row(tmp_path):
    case, rtstruct, _ = _three_structures(tmp_path)
    for roi in ("GTV_Mass_PET", "GTV_Mass.*"):
        manifest = read_manifest(_manifest(tmp_path, case, rtstruct, roi))
        assert [(c.case_id, c.roi) for c in manifest.cases] == [("sts2", roi), ("other", "BODY")]


def test_expanded_case_ids_that_collide_with_a_row_are_refused(tmp_path):
    case, rtstruct, _ = _three_structures(tmp_path)
    path = _manifest(tmp_path, case, rtstruct, "GTV.*")
    text = path.read_text(encoding="utf-8").replace("other,", "sts2-GTV_2,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=r"duplicated case_id sts2-GTV_2"):
        read_manifest(path)

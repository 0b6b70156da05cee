"""No DICOM identifier or absolute path reaches the run's outputs."""

from __future__ import annotations

import csv

import highdicom as hd
import numpy as np
import pyarrow.parquet as pq
import pydicom
import pytest
import SimpleITK as sitk
from conftest import sphere_mask, write_config, write_dicom_series
from pydicom.sr.codedict import codes
from reference_data import ct_phantom_dicom

from radiopipe.cli import main

PATIENT_NAME = "Doe^Canary"
PATIENT_ID = "CANARY-0042"
STUDY_UID = "1.2.826.0.1.3680043.2.1125.777"


def _write_series(folder, array, series_uid):
    write_dicom_series(
        folder, array, series_uid, study_uid=STUDY_UID,
        tags={"0010|0010": PATIENT_NAME, "0010|0020": PATIENT_ID,
              "0020|0052": f"{series_uid}.0",
              # Beside the scanner tags radiopipe reads: identifying ones it must not.
              "0008|0070": "Acme Scanners", "0008|0080": PATIENT_NAME,
              "0008|1010": PATIENT_NAME, "0018|1000": PATIENT_ID},
    )


def _dicom_cohort(folder):
    rng = np.random.default_rng(0)
    mask = sphere_mask((12, 12, 12), 4.0)
    rows = []
    for k, label in enumerate(("low", "high")):
        for i in range(9):
            case_id = f"{label}-{i}"
            series = folder / "dicom" / case_id
            _write_series(series, rng.normal(100 + 60 * k, 15, mask.shape), f"{STUDY_UID}.{k}.{i}")
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
            roi = sitk.GetImageFromArray(mask)
            roi.CopyInformation(reader.Execute())
            sitk.WriteImage(roi, str(folder / f"{case_id}-mask.nrrd"))
            rows.append(
                [case_id, f"dicom/{case_id}", f"{case_id}-mask.nrrd", label, f"p{k}{i // 3}"]
            )
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        csv.writer(handle).writerows([["case_id", "image", "mask", "label", "patient_id"], *rows])
    return manifest


def test_dicom_identifiers_and_paths_stay_out_of_the_outputs(tmp_path):
    manifest = _dicom_cohort(tmp_path / "cohort")
    config = write_config(tmp_path, manifest, features={"families": ["firstorder", "glcm"]})
    assert main(["-q", "run", str(config)]) == 0
    out = tmp_path / "run"
    table = pq.read_table(out / "features.parquet")
    # The header was read (its provenance columns are there), and none of them holds an
    # identifier.
    assert table.column("diagnostics__modality").to_pylist() == ["CT"] * 18
    assert table.column("diagnostics__manufacturer").to_pylist() == ["Acme Scanners"] * 18
    texts = [
        (out / "report.html").read_text(encoding="utf-8"),
        (out / "metrics.json").read_text(encoding="utf-8"),
        str(table.schema.metadata),
        table.to_pandas().to_csv(),
    ]
    for text in texts:
        for secret in (PATIENT_NAME, PATIENT_ID, STUDY_UID, str(tmp_path)):
            assert secret not in text


STRUCTURE_SET_DATE = "19700203"


def _write_rtstruct(path, series, names):
    """A structure set on ``series`` (a folder) with a ball-shaped contour stack per name, its
    header carrying the canary's identifiers."""
    source = pydicom.dcmread(sorted(series.iterdir())[0], stop_before_pixels=True)
    frame = source.FrameOfReferenceUID
    ds = pydicom.Dataset()
    ds.SOPClassUID = pydicom.uid.RTStructureSetStorage
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "RTSTRUCT", PATIENT_NAME, PATIENT_ID
    ds.StudyInstanceUID, ds.StructureSetDate = STUDY_UID, STRUCTURE_SET_DATE
    ds.StructureSetLabel = PATIENT_ID
    reference = pydicom.Dataset()
    reference.FrameOfReferenceUID = frame
    ds.ReferencedFrameOfReferenceSequence = [reference]
    ds.StructureSetROISequence, ds.ROIContourSequence = [], []
    for number, name in enumerate(names, start=1):
        roi = pydicom.Dataset()
        roi.ROINumber, roi.ROIName, roi.ReferencedFrameOfReferenceUID = number, name, frame
        ds.StructureSetROISequence.append(roi)
        contours = []
        for z in range(2, 10):
            radius = np.sqrt(max(16.0 - (z - 5.5) ** 2, 1.0))
            angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            points = np.stack([5.5 + radius * np.cos(angles), 5.5 + radius * np.sin(angles),
                               np.full(angles.size, float(z))], axis=1)
            contour = pydicom.Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(points)
            contour.ContourData = [f"{v:.4f}" for v in points.ravel()]
            contours.append(contour)
        item = pydicom.Dataset()
        item.ReferencedROINumber, item.ContourSequence = number, contours
        ds.ROIContourSequence.append(item)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)


def test_rtstruct_identifiers_and_structure_names_stay_out_of_the_outputs(tmp_path):
    folder = tmp_path / "cohort"
    rng = np.random.default_rng(1)
    rows = []
    for k, label in enumerate(("low", "high")):
        for i in range(6):
            case_id = f"{label}-{i}"
            series = folder / "dicom" / case_id
            _write_series(series, rng.normal(100 + 60 * k, 15, (12, 12, 12)),
                          f"{STUDY_UID}.{k}.{i}")
            _write_rtstruct(folder / f"{case_id}-rs.dcm", series,
                            [f"GTV {PATIENT_NAME} 1", f"GTV {PATIENT_ID} 2", "BODY"])
            # 'GTV.*' becomes two rows per scan; the last case names a structure it lacks.
            roi = "PTV" if (k, i) == (1, 5) else "GTV.*"
            rows.append([case_id, f"dicom/{case_id}", f"{case_id}-rs.dcm", label, f"p{k}{i}",
                         roi])
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        csv.writer(handle).writerows(
            [["case_id", "image", "mask", "label", "patient_id", "roi"], *rows])
    config = write_config(tmp_path, manifest, features={"families": ["firstorder"]})
    assert main(["-q", "extract", str(config)]) == 1  # the case without its structure failed
    out = tmp_path / "run"
    table = pq.read_table(out / "features.parquet")
    assert table.num_rows == 22
    failures = [p.read_text(encoding="utf-8") for p in (out / "failures").iterdir()]
    assert len(failures) == 1 and "structures present: 1 'GTV_1', 2 'GTV_2', 3 'BODY'" in (
        failures[0])
    texts = [str(table.schema.metadata), table.to_pandas().to_csv(), *failures,
             *(p.read_text(encoding="utf-8") for p in (out / "cases").iterdir())]
    name_parts = PATIENT_NAME.split("^")
    for text in texts:
        for secret in (PATIENT_NAME, *name_parts, PATIENT_ID, STUDY_UID, STRUCTURE_SET_DATE,
                       str(tmp_path)):
            assert secret not in text


@pytest.mark.reference
def test_seg_identifiers_and_segment_labels_stay_out_of_the_outputs(tmp_path):
    """A DICOM-SEG (written by highdicom on the real CT phantom) whose header and segment labels
    carry the canary's identifiers: none reaches the feature table or the case records."""
    case = ct_phantom_dicom()
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(case.series))
    sources = [pydicom.dcmread(f) for f in files]
    for source in sources:  # the SEG copies the patient module from its sources
        source.PatientName, source.PatientID = PATIENT_NAME, PATIENT_ID
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(case.nifti_mask))) > 0
    segments = [
        hd.seg.SegmentDescription(
            segment_number=number, segment_label=label,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Neoplasm,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
        for number, label in ((1, f"GTV {PATIENT_NAME}"), (2, f"GTV {PATIENT_ID}"))
    ]
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=np.stack([mask, mask], axis=-1).astype(np.uint8),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=segments,
        series_instance_uid=hd.UID(), series_number=100, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer=PATIENT_NAME, manufacturer_model_name="tests",
        software_versions="0", device_serial_number=PATIENT_ID,
        series_description=f"{PATIENT_NAME} {PATIENT_ID}",
    )
    seg.save_as(tmp_path / "seg.dcm")
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        csv.writer(handle).writerows([["case_id", "image", "mask", "label", "patient_id", "roi"],
                                      ["phantom", str(case.series), "seg.dcm", "", "p0",
                                       "GTV.*"]])
    config = write_config(tmp_path, manifest, features={"families": ["firstorder"]})
    assert main(["-q", "extract", str(config)]) == 0
    out = tmp_path / "run"
    table = pq.read_table(out / "features.parquet")
    assert table.num_rows == 2  # one row per matching segment
    texts = [str(table.schema.metadata), table.to_pandas().to_csv(),
             *(p.read_text(encoding="utf-8") for p in (out / "cases").iterdir())]
    for text in texts:
        for secret in (PATIENT_NAME, *PATIENT_NAME.split("^"), PATIENT_ID, str(tmp_path)):
            assert secret not in text

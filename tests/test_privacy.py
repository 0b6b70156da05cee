"""No DICOM identifier or absolute path reaches the run's outputs."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow.parquet as pq
import SimpleITK as sitk
from conftest import sphere_mask, write_config, write_dicom_series

from radiopipe.cli import main

PATIENT_NAME = "Doe^Canary"
PATIENT_ID = "CANARY-0042"
STUDY_UID = "1.2.826.0.1.3680043.2.1125.777"


def _write_series(folder, array, series_uid):
    write_dicom_series(
        folder, array, series_uid, study_uid=STUDY_UID,
        tags={"0010|0010": PATIENT_NAME, "0010|0020": PATIENT_ID},
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
    texts = [
        (out / "report.html").read_text(encoding="utf-8"),
        (out / "metrics.json").read_text(encoding="utf-8"),
        str(table.schema.metadata),
        table.to_pandas().to_csv(),
    ]
    for text in texts:
        for secret in (PATIENT_NAME, PATIENT_ID, STUDY_UID, str(tmp_path)):
            assert secret not in text

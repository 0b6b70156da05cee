"""Canary: a patient's name planted in DICOM tags and in the input's folder and file names
appears nowhere in what a run writes (report, tables, bundle, explanation pages) or logs."""

from __future__ import annotations

import csv
import logging
import zipfile

import numpy as np
import pyarrow.parquet as pq
import SimpleITK as sitk
from conftest import sphere_mask, write_config, write_dicom_series

from radiopipe.cli import main

PATIENT_NAME = "Doe^Canary"
PATIENT_ID = "CANARY-0042"
SECRETS = ("doe^canary", "canary-0042")  # compared in lower case
STUDY_UID = "1.2.826.0.1.3680043.2.1125.777"
_TEXT_SUFFIXES = (".html", ".csv", ".json", ".yaml", ".txt")


def _write_series(folder, array, series_uid):
    write_dicom_series(
        folder, array, series_uid, study_uid=STUDY_UID,
        file_name=f"{PATIENT_NAME}-{PATIENT_ID}-" + "{:02d}.dcm",
        tags={"0010|0010": PATIENT_NAME, "0010|0020": PATIENT_ID},
    )


def _cohort(folder):
    """18 DICOM cases under folders and files named after the patient, and one broken case."""
    rng = np.random.default_rng(0)
    mask = sphere_mask((12, 12, 12), 4.0)
    private = folder / PATIENT_NAME
    rows = []
    for k, label in enumerate(("low", "high")):
        for i in range(9):
            case_id = f"{label}-{i}"
            series = private / f"{PATIENT_ID}-{case_id}"
            image = rng.normal(100 + 25 * k, 15, mask.shape)
            _write_series(series, image, f"{STUDY_UID}.{k}.{i}")
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
            roi = sitk.GetImageFromArray(mask)
            roi.CopyInformation(reader.Execute())
            mask_file = private / f"{PATIENT_NAME}-{case_id}-mask.nrrd"
            sitk.WriteImage(roi, str(mask_file))
            rows.append([case_id, series.relative_to(folder), mask_file.relative_to(folder),
                         label, f"p{k}{i // 3}"])
    broken = private / f"{PATIENT_NAME}-broken.nrrd"
    broken.write_bytes(b"not an image")
    rows.append(["broken-0", broken.relative_to(folder), rows[0][2], "low", "p99"])
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["case_id", "image", "mask", "label", "patient_id"], *rows])
    return manifest


def _texts(folder):
    """(name, text) of every file radiopipe wrote: tables read back, archives opened."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            yield path.name, str(table.schema.metadata) + table.to_pandas().to_csv()
        elif path.suffix in _TEXT_SUFFIXES:
            yield path.name, path.read_text(encoding="utf-8")
        elif path.suffix == ".skops":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path.name}:{member}", archive.read(member).decode("latin-1")
        elif path.suffix != ".pdf":  # boosters (UBJSON, text) and anything else, as bytes
            yield path.name, path.read_bytes().decode("latin-1")


def test_the_patient_appears_nowhere(tmp_path, capsys, caplog, monkeypatch):
    manifest = _cohort(tmp_path / "cohort")
    config = write_config(
        tmp_path, manifest,
        features={"backend": "native", "families": ["firstorder", "glcm"], "bin_width": 10},
        model={"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 30},
               "bootstrap": {"n_resamples": 50}},
        explain={"enabled": True, "feature_maps": {"window": 3}},
        report={"n_cases": 2},
    )
    caplog.set_level(logging.DEBUG, logger="radiopipe")
    # The CLI attaches its stderr handler once per process; let it attach to this test's stderr.
    package_logger = logging.getLogger("radiopipe")
    kept = [h for h in package_logger.handlers if not getattr(h, "_radiopipe_cli", False)]
    monkeypatch.setattr(package_logger, "handlers", kept)
    assert main(["-v", "run", str(config)]) == 1  # the broken case fails; the rest is written
    out = tmp_path / "run"
    explained = tmp_path / "explained"
    assert main(["-v", "explain", "--model", str(out / "model"), "--case", "high-4",
                 "--manifest", str(manifest), "--out", str(explained)]) == 0
    captured = capsys.readouterr()

    written = dict(_texts(out)) | {f"explained/{k}": v for k, v in _texts(explained)}
    assert "broken-0.json" in written and "report.html" in written
    assert "explain-high-4.html" in " ".join(written) and "feature_maps.parquet" in written
    assert "cannot read the image (.nrrd file)" in written["broken-0.json"]
    assert "features: 18 computed" in captured.err  # radiopipe's log reached the captured stderr
    logs = {"stderr": captured.err, "log records": caplog.text}
    for name, text in {**written, **logs, "stdout": captured.out}.items():
        lowered = text.lower()
        for secret in (*SECRETS, STUDY_UID):
            assert secret not in lowered, f"{secret!r} leaked into {name}"
    for name, text in {**written, **logs}.items():  # stdout echoes the output paths asked for
        assert str(tmp_path).lower() not in text.lower(), f"an absolute path leaked into {name}"

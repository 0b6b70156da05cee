"""``import-features``: a CSV written by pyradiomics' own command line becomes the run's feature
table, and ``train`` and ``report`` run on it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import SimpleITK as sitk
from conftest import make_cohort, write_config
from reference_data import pyradiomics_case

from radiopipe import api
from radiopipe.backends import get_backend
from radiopipe.cli import EXIT_CASES_FAILED, EXIT_OK, EXIT_USAGE, main
from radiopipe.io import read_image, read_mask
from radiopipe.storage import file_sha256
from radiopipe.table import feature_columns, read_table

PARAMS = """setting:
  binWidth: 10
imageType:
  Original: {}
featureClass:
  firstorder:
  glcm:
"""


def _fast(folder, manifest, output_dir="run"):
    """The tiny config (pyradiomics' settings above) without explanations."""
    return write_config(folder, manifest, output_dir=output_dir, explain={"enabled": False},
                        model={"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 20}})


def _pyradiomics_cli(folder, rows):
    """Run pyradiomics' command line in batch mode over ``rows``; its CSV output's path."""
    batch, params, out = folder / "batch.csv", folder / "params.yaml", folder / "pyradiomics.csv"
    with open(batch, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    params.write_text(PARAMS, encoding="utf-8")
    process = subprocess.run(
        [sys.executable, "-c", "import sys; from radiomics.scripts import parse_args; "
         "sys.exit(parse_args())", str(batch), "-p", str(params), "-f", "csv", "-o", str(out)],
        capture_output=True, text=True, encoding="utf-8", check=False,
    )
    assert process.returncode == 0, process.stderr
    return out


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A synthetic cohort, its pyradiomics CSV (rows matched by their Image and Mask paths)."""
    pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) not installed")
    folder = tmp_path_factory.mktemp("imported")
    manifest = make_cohort(folder / "cohort")
    cases = pd.read_csv(manifest)
    rows = [{"Image": f"images/{c}.nrrd", "Mask": f"masks/{c}.nrrd"} for c in cases["case_id"]]
    return folder, manifest, _pyradiomics_cli(folder / "cohort", rows)


def test_import_then_train_and_report(imported, tmp_path, capsys):
    folder, manifest, out = imported
    config = _fast(folder, manifest, output_dir=str(tmp_path / "run"))
    assert main(["import-features", str(out), "--config", str(config), "-q"]) == EXIT_OK
    assert "24 case(s) imported" in capsys.readouterr().out
    table, provenance = read_table(tmp_path / "run" / "features.parquet")
    assert provenance["source"] == {"description": "imported from pyradiomics CSV",
                                    "file": "pyradiomics.csv", "sha256": file_sha256(out)}
    assert set(table["backend"]) == {"pyradiomics CSV"}
    assert table["label"].tolist() == pd.read_csv(manifest)["label"].tolist()
    assert "pyradiomics__diagnostics_Mask-original_VoxelNum" in table.columns
    assert not {"Image", "Mask"} & set(table.columns)
    features = feature_columns(table)
    assert "original__glcm__Contrast" in features and "original__firstorder__Mean" in features

    # the same values as radiopipe's own pyradiomics backend extracts
    elsewhere = api.load_config(config, [f"output_dir={tmp_path / 'extracted'}"])
    extracted = api.extract(elsewhere, progress=False).table
    assert sorted(feature_columns(extracted)) == sorted(features)
    np.testing.assert_allclose(table[features].to_numpy(), extracted[features].to_numpy(),
                               rtol=1e-12)

    # extraction (what 'run' starts with) keeps an imported table instead of overwriting it
    kept = api.extract(api.load_config(config), progress=False)
    assert kept.table["backend"].unique().tolist() == ["pyradiomics CSV"]
    assert read_table(tmp_path / "run" / "features.parquet")[1]["source"] == provenance["source"]

    assert main(["train", str(config), "-q"]) == EXIT_OK
    assert main(["report", str(config), "-q"]) == EXIT_OK
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"]["n_cases"] == 24 and metrics["metrics"]["roc_auc"] > 0.8
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Cohort</h2>" in report
    for text in (report, str(pq.read_schema(tmp_path / "run" / "features.parquet").metadata),
                 table.to_csv()):
        assert str(folder) not in text  # the CSV's absolute Image and Mask paths stay out


def test_case_ids_match_rows_and_a_missing_row_fails_that_case(imported, tmp_path, capsys):
    folder, manifest, out = imported
    frame = pd.read_csv(out)
    frame.insert(0, "ID", [p.split("/")[-1].removesuffix(".nrrd") for p in frame["Image"]])
    frame["Image"] = "elsewhere.nrrd"  # ids match, paths need not
    frame.iloc[1:].to_csv(tmp_path / "ids.csv", index=False)
    config = _fast(folder, manifest, output_dir=str(tmp_path / "run"))
    code = main(["import-features", str(tmp_path / "ids.csv"), "--config", str(config), "-q",
                 "--id-column", "ID"])
    assert code == EXIT_CASES_FAILED
    assert "1 case(s) failed: dark-00" in capsys.readouterr().err
    reason = json.loads((tmp_path / "run" / "failures" / "dark-00.json").read_text("utf-8"))
    assert reason["reason"] == "case 'dark-00': no row in 'ids.csv'"
    table, provenance = read_table(tmp_path / "run" / "features.parquet")
    assert len(table) == 23 and provenance["failed_cases"] == ["dark-00"]


def test_a_row_of_no_case_is_one_line_with_exit_2(imported, tmp_path, capsys):
    folder, manifest, out = imported
    frame = pd.read_csv(out)
    frame.loc[3, "Image"] = str(tmp_path / "unknown.nrrd")
    frame.to_csv(tmp_path / "stray.csv", index=False)
    config = _fast(folder, manifest, output_dir=str(tmp_path / "run"))
    assert main(["import-features", str(tmp_path / "stray.csv"), "--config", str(config)]) \
        == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("radiopipe: error: 'stray.csv' line 5: its Image and Mask paths match "
                          "no case of the manifest")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, message", [
    ("case_id,label\na,1\n", "'bad.csv' has no Image or Mask column"),
    ("Image,Mask\na.nrrd,b.nrrd\n", "'bad.csv' has no feature column"),
    ("Image,Mask,original_glcm_Contrast\na.nrrd,b.nrrd,high\n",
     "'bad.csv' line 2: the value of 'original__glcm__Contrast' is not a number; got 'high'"),
])
def test_a_csv_that_is_not_pyradiomics_output(tmp_path, cohort, text, message, capsys):
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    config = write_config(tmp_path, cohort)
    assert main(["import-features", str(tmp_path / "bad.csv"), "--config", str(config)]) \
        == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.reference
def test_pyradiomics_output_on_real_cases_imports_to_the_reference_backends_values(tmp_path):
    pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) not installed")
    cases = {name: pyradiomics_case(name) for name in ("brain1", "breast1")}
    rows = [{"case_id": n, "Image": str(c.image_path), "Mask": str(c.label_path)}
            for n, c in cases.items()]
    out = _pyradiomics_cli(tmp_path, rows)
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame([{"case_id": n, "image": str(c.image_path), "mask": str(c.label_path),
                   "label": label, "patient_id": n}
                  for (n, c), label in zip(cases.items(), ("a", "b"), strict=True)]
                 ).to_csv(manifest, index=False)
    config = write_config(tmp_path, manifest)  # the pyradiomics backend, PARAMS' settings
    imported = api.import_features(config, out)
    assert imported.failed_cases == [] and imported.counts == {"imported": 2, "failed": 0}
    assert list(imported.table["case_id"]) == ["brain1", "breast1"]
    backend = get_backend("pyradiomics")
    settings = api.load_config(config).config.features
    for index, (name, case) in enumerate(cases.items()):
        image = read_image(case.image_path, case_id=name)
        expected = backend.extract(image, read_mask(case.label_path, image, case_id=name),
                                   settings)
        assert sorted(expected) == sorted(imported.features.columns)
        got = imported.features.loc[name, list(expected)].to_numpy(dtype=float)
        np.testing.assert_allclose(got, list(expected.values()), rtol=1e-12)
        voxels = imported.table.loc[index, "pyradiomics__diagnostics_Mask-original_VoxelNum"]
        assert voxels == int(np.count_nonzero(
            sitk.GetArrayFromImage(sitk.ReadImage(str(case.label_path))) == 1))

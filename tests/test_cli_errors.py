"""A user's mistake or a machine's fault ends in one line and a documented exit code, never a
traceback: 2 for usage, data and environment errors, 130 when interrupted, 3 (with the traceback
saved in the run folder) for an internal error."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import make_cohort, write_config

from radiopipe import api
from radiopipe.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, main
from radiopipe.models.bundle import (
    ESTIMATOR_FILE,
    MANIFEST_FILE,
    _manifest_hash,
    environment_versions,
)
from radiopipe.records import BUNDLE_SCHEMA
from radiopipe.storage import file_sha256


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_a_header_only_manifest(tmp_path, capsys):
    manifest = tmp_path / "cohort.csv"
    manifest.write_text("case_id,image,mask,label,patient_id\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("name: x\noutput_dir: run\ndata: {manifest: cohort.csv}\n", "utf-8")
    assert main(["-q", "extract", str(config)]) == EXIT_USAGE
    assert _one_line_error(capsys) == (
        "radiopipe: error: cohort.csv: the header is there but no case follows; add one row per "
        "case\n"
    )


def test_a_case_id_too_long_for_a_file_name(tmp_path, cohort, capsys):
    text = cohort.read_text(encoding="utf-8").replace("dark-00,", "d" * 250 + ",", 1)
    cohort.write_text(text, encoding="utf-8")
    assert main(["-q", "extract", str(write_config(tmp_path, cohort))]) == EXIT_USAGE
    assert "case_id too long in row 2 (250 characters); use at most 128" in (
        _one_line_error(capsys)
    )


def test_output_dir_naming_a_file(tmp_path, cohort, capsys):
    (tmp_path / "run").write_text("not a folder", encoding="utf-8")
    assert main(["-q", "extract", str(write_config(tmp_path, cohort))]) == EXIT_USAGE
    assert _one_line_error(capsys) == (
        "radiopipe: error: cannot use 'run' (File exists); output_dir (--out) must name a folder, "
        "not a file\n"
    )


@pytest.mark.parametrize(("code", "fix"), [
    (errno.EACCES, "check the folder's permissions"),
    (errno.ENOSPC, "free disk space; finished cases are kept and a rerun resumes from them"),
])
def test_unwritable_or_full_disk(config_file, capsys, monkeypatch, code, fix):
    def refuse(*args, **kwargs):
        raise OSError(code, "simulated", "/somewhere/run/features.parquet")

    monkeypatch.setattr("radiopipe.stages.extract.write_table", refuse)
    assert main(["-q", "extract", str(config_file)]) == EXIT_USAGE
    err = _one_line_error(capsys)
    assert err.startswith("radiopipe: error: cannot use 'features.parquet' (simulated); " + fix)
    assert "/somewhere" not in err


def test_a_damaged_feature_table_at_train(config_file, tmp_path, capsys):
    assert main(["-q", "extract", str(config_file)]) == 0
    table = tmp_path / "run" / "features.parquet"
    table.write_bytes(table.read_bytes()[:100])
    capsys.readouterr()
    assert main(["-q", "train", str(config_file)]) == EXIT_USAGE
    assert "the feature table 'features.parquet' in the run folder cannot be read" in (
        _one_line_error(capsys)
    )


def test_ctrl_c_stops_with_one_line(config_file, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "extract", interrupted)
    assert main(["-q", "run", str(config_file)]) == EXIT_INTERRUPTED
    assert _one_line_error(capsys) == (
        "radiopipe: interrupted; finished cases are kept and a rerun resumes from them\n"
    )


def test_an_internal_error_keeps_its_traceback_in_the_run_folder(config_file, tmp_path, capsys,
                                                                 monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(api, "extract", broken)
    assert main(["-q", "run", str(config_file)]) == EXIT_INTERNAL
    err = _one_line_error(capsys)
    assert err.startswith("radiopipe: internal error (ZeroDivisionError); the traceback is in ")
    (saved,) = (tmp_path / "run" / "errors").glob("traceback-*.txt")
    assert str(saved) in err
    assert "ZeroDivisionError: a bug" in saved.read_text(encoding="utf-8")


def test_a_forged_skops_file_in_a_rehashed_bundle(tmp_path, capsys):
    bundle = tmp_path / "model"
    bundle.mkdir()
    (bundle / ESTIMATOR_FILE).write_bytes(b"not a zip archive")
    manifest = {
        "format": "radiopipe-model-bundle", "format_version": BUNDLE_SCHEMA, "model": "m",
        "kind": "model",
        "classes": ["a", "b"], "config_hash": "0" * 64,
        "input_columns": {"image": [], "numeric": [], "categorical": [], "site": None,
                          "embedding": [], "embedding_components": 8},
        "sites": None, "best_params": {},
        "settings": {"features": {}, "reading": {}, "feature_backend_version": "1",
                     "cnn": None},
        "role": "final", "split": None, "shift": None, "health": [], "feature_columns": [],
            "stability": None,
        "versions": environment_versions(),
        "files": {ESTIMATOR_FILE: file_sha256(bundle / ESTIMATOR_FILE)},
    }
    manifest["manifest_sha256"] = _manifest_hash(manifest)
    (bundle / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    cases = tmp_path / "new.csv"
    cases.write_text("case_id,image,mask,label,patient_id\n", encoding="utf-8")
    out = str(tmp_path / "predicted")
    assert main(["-q", "predict", "--model", str(bundle), "--manifest", str(cases),
                 "--out", out]) == EXIT_USAGE
    assert _one_line_error(capsys) == (
        "radiopipe: error: bundle 'model': estimator.skops is not a skops file (BadZipFile); "
        "rebuild the bundle with 'radiopipe train'\n"
    )


def test_a_non_finite_setting_is_a_config_error(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text("name: x\noutput_dir: o\ndata: {builtin: mni152_tissue}\n"
                      "features: {bin_width: .inf}\n", encoding="utf-8")
    assert main(["validate", str(config)]) == EXIT_USAGE
    assert _one_line_error(capsys) == (
        "radiopipe: error: config.yaml: 'features.bin_width' should be a finite number; got inf\n"
    )


def test_a_real_ctrl_c_keeps_finished_cases_and_the_rerun_resumes(tmp_path):
    make_cohort(tmp_path / "cohort", n_per_class=20)
    (tmp_path / "config.yaml").write_text(
        "name: a\noutput_dir: run\ndata: {manifest: cohort/manifest.csv}\n"
        "features: {backend: pyradiomics}\ncompute: {n_jobs: 2}\n", encoding="utf-8",
    )
    command = [sys.executable, "-m", "radiopipe", "-q", "extract", "config.yaml"]
    process = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, encoding="utf-8",
                               errors="replace")
    cases = tmp_path / "run" / "cases"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cases.glob("*.json"))) < 3:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=120)[1]
    if process.returncode == 0:
        pytest.skip("the extraction finished before the signal arrived")
    assert process.returncode == EXIT_INTERRUPTED
    assert err == "radiopipe: interrupted; finished cases are kept and a rerun resumes from them\n"
    kept = len(list(cases.glob("*.json")))
    rerun = subprocess.run([*command[:3], "extract", "config.yaml"], cwd=tmp_path,
                           capture_output=True, encoding="utf-8", errors="replace", timeout=300)
    assert rerun.returncode == 0
    assert kept >= 3
    assert f"{40 - kept} computed, {kept} reused, 0 failed" in rerun.stderr

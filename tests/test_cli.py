"""The command line end to end on a small synthetic cohort."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from conftest import write_config

from radiopipe.cli import main


@pytest.mark.parametrize("command", ["run", "validate", "extract", "train", "report", "robustness"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "CONFIG" in capsys.readouterr().out


def test_run_end_to_end(config_file, tmp_path, capsys):
    assert main(["-q", "run", str(config_file)]) == 0
    out = tmp_path / "run"
    for name in ("features.parquet", "metrics.json", "report.html", "config.resolved.yaml"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"]["n_cases"] == 24
    assert metrics["metrics"]["roc_auc"] > 0.8  # bright and dark spheres are easy to tell apart
    assert "out-of-fold ROC-AUC:" in capsys.readouterr().out
    table = pq.read_table(out / "features.parquet")
    assert {"case_id", "patient_id", "label", "image_sha256"} <= set(table.column_names)
    assert "original__glcm__Contrast" in table.column_names
    report = (out / "report.html").read_text(encoding="utf-8")
    for section in ("Cohort", "Methods", "Performance (out-of-fold)", "Figures", "Software"):
        assert f"<h2>{section}</h2>" in report
    # comparison, ROC, per-class ROC-AUC, precision-recall, calibration, confusion matrix,
    # decision curve (binary); explanations (on by default): SHAP importance, beeswarm, 4
    # dependence plots, and 6 case pages with a location view, a waterfall, 3 local value maps
    # and a contribution map each
    assert report.count('src="data:image/png;base64,') == 7 + 6 + 6 * 6
    assert (out / "model" / "bundle.json").is_file()


def test_outputs_hold_no_absolute_path(config_file, tmp_path):
    assert main(["-q", "run", str(config_file)]) == 0
    out = tmp_path / "run"
    metadata = pq.read_schema(out / "features.parquet").metadata
    texts = [
        (out / "report.html").read_text(encoding="utf-8"),
        (out / "metrics.json").read_text(encoding="utf-8"),
        str(metadata),
        (out / "model" / "bundle.json").read_text(encoding="utf-8"),
    ]
    for text in texts:
        assert str(tmp_path) not in text


def test_failed_case_gives_exit_code_1_and_the_rest_is_written(
    config_file, cohort, tmp_path, capsys
):
    (cohort.parent / "masks" / "bright-02.nrrd").write_bytes(b"\0")
    assert main(["-q", "run", str(config_file)]) == 1
    out = tmp_path / "run"
    assert (out / "failures" / "bright-02.json").is_file()
    assert (
        json.loads((out / "metrics.json").read_text(encoding="utf-8"))["task"]["failed_cases"]
        == ["bright-02"]
    )
    assert "bright-02" in (out / "report.html").read_text(encoding="utf-8")
    assert "1 case(s) failed: bright-02" in capsys.readouterr().err


def test_predict_has_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["predict", "--help"])
    assert info.value.code == 0
    assert "--model BUNDLE" in capsys.readouterr().out


def test_predict_with_a_missing_bundle_exits_2_with_one_line(tmp_path, cohort, capsys):
    assert main(["predict", "--model", str(tmp_path), "--manifest", str(cohort)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("radiopipe: error: ") and "is not a model bundle" in err
    assert err.count("\n") == 1


def test_config_error_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\noutput_dir: o\ndata: {builtin: mni152_tissue}\nmodel: {nam: xgboost}\n"
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "radiopipe: error: bad.yaml: unknown key 'model.nam'; did you mean 'model.name'?\n"
    )


def test_validate_lists_every_problem_in_one_run_and_a_missing_manifest_is_one(tmp_path,
                                                                                capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\noutput_dir: o\ndata: {manifest: nowhere.csv}\nfeaturs: {}\n"
        "features: {backend: nativ}\nmodel: {name: xgbost, compare: [svm, ridge], cvv: {}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "radiopipe: 6 problems found"
    found = "\n".join(lines)
    for expected in (
        "unknown key 'featurs'; did you mean 'features'?",
        "'features.backend' should be 'native',",
        "unknown key 'model.cvv'; did you mean 'model.cv'?",
        "name 'xgbost' is neither a zoo model",
        "compare 'ridge' is neither a zoo model",
        "data.manifest: manifest '",
    ):
        assert expected in found, expected
    assert "nowhere.csv' does not exist" in found


def test_validate_checks_the_manifest_and_every_file_it_lists(tmp_path, cohort, capsys):
    rows = cohort.read_text(encoding="utf-8").splitlines()
    broken = [rows[0], rows[1], rows[1], rows[2].replace(".nrrd", "-gone.nrrd", 1), *rows[3:]]
    cohort.write_text("\n".join(broken) + "\n", encoding="utf-8")
    config = write_config(tmp_path, cohort)
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "duplicated case_id" in err and "1 file(s) not found" in err
    assert err.splitlines()[-1] == "radiopipe: 2 problems found"


def test_validate_prints_the_hash(config_file, capsys):
    assert main(["validate", str(config_file)]) == 0
    assert capsys.readouterr().out.startswith("config.yaml: valid (config hash ")


def test_train_before_extract_is_a_clear_error(config_file, capsys):
    assert main(["train", str(config_file)]) == 2
    assert "run 'radiopipe extract CONFIG' first" in capsys.readouterr().err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2

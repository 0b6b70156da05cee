"""The command line's global options, ``--set`` overrides and documented exit codes."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
import yaml
from conftest import write_config

from radiopipe import api
from radiopipe.cli import EXIT_CASES_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main
from radiopipe.config import load_config


def _four_fold_config(tmp_path, cohort):
    """The tiny config with 4 outer folds and no explanations (the fastest full run)."""
    return write_config(
        tmp_path, cohort,
        model={"cv": {"n_splits": 4, "seed": 0}, "xgboost": {"n_estimators": 20}},
        explain={"enabled": False},
    )


def test_run_with_options_after_the_subcommand_and_a_set_override(tmp_path, cohort, capsys):
    config = _four_fold_config(tmp_path, cohort)
    assert main(["run", str(config), "-v", "--set", "model.cv.n_splits=3"]) == EXIT_OK
    assert logging.getLogger("radiopipe").level == logging.DEBUG  # -v after the subcommand
    resolved = yaml.safe_load((tmp_path / "run" / "config.resolved.yaml").read_text("utf-8"))
    assert resolved["config"]["model"]["cv"]["n_splits"] == 3
    assert resolved["overrides"] == ["model.cv.n_splits=3"]
    assert resolved["config_hash"] != load_config(config).hash
    assert resolved["config_hash"] == load_config(config, ["model.cv.n_splits=3"]).hash
    assert "out-of-fold ROC-AUC:" in capsys.readouterr().out


@pytest.mark.parametrize("before", [True, False])
def test_quiet_before_or_after_the_subcommand(config_file, before, capsys):
    argv = ["-q", "validate", str(config_file)] if before else ["validate", str(config_file), "-q"]
    assert main(argv) == EXIT_OK
    assert logging.getLogger("radiopipe").level == logging.WARNING


def test_verbose_and_quiet_together_is_a_usage_error(config_file, capsys):
    with pytest.raises(SystemExit) as info:
        main(["-v", "validate", str(config_file), "-q"])
    assert info.value.code == EXIT_USAGE
    assert "-v/--verbose and -q/--quiet exclude each other" in capsys.readouterr().err


def test_set_changes_the_validated_hash_and_repeats(config_file, capsys):
    assert main(["validate", str(config_file)]) == EXIT_OK
    plain = capsys.readouterr().out
    assert main(["validate", str(config_file), "--set", "model.cv.n_splits=2",
                 "--set", "features.image_types=[original, square]"]) == EXIT_OK
    overridden = capsys.readouterr().out
    assert plain.split("config hash ")[1] != overridden.split("config hash ")[1]
    loaded = load_config(config_file, ["model.cv.n_splits=2",
                                       "features.image_types=[original, square]"])
    assert loaded.config.features.image_types == ["original", "square"]
    assert loaded.hash in overridden


@pytest.mark.parametrize("command", ["run", "validate", "extract", "train", "report"])
def test_a_wrong_key_given_with_set_is_the_files_error(config_file, command, capsys):
    assert main([command, str(config_file), "--set", "model.cv.n_split=3"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown key 'model.cv.n_split'; did you mean 'model.cv.n_splits'?" in err
    assert "Traceback" not in err


def test_a_wrong_value_given_with_set_is_the_same_error_as_in_the_file(tmp_path, cohort, capsys):
    config = write_config(tmp_path, cohort, model={"cv": {"n_splits": 1}})
    assert main(["validate", str(config)]) == EXIT_USAGE
    from_file = capsys.readouterr().err
    config = write_config(tmp_path, cohort)
    assert main(["validate", str(config), "--set", "model.cv.n_splits=1"]) == EXIT_USAGE
    from_set = capsys.readouterr().err
    assert from_file.startswith("radiopipe: error: config.yaml: 'model.cv.n_splits' should be")
    assert from_set == from_file.replace("config.yaml:", "config.yaml with --set:")


@pytest.mark.parametrize("setting, message", [
    ("model.cv.n_splits", "expected KEY.PATH=VALUE"),
    ("model..n_splits=3", "expected KEY.PATH=VALUE"),
    ("model.cv.n_splits=[3", "the value is not valid YAML"),
    ("name.first=x", "'name' is a str, not a section of keys"),
])
def test_a_malformed_set_is_one_line_with_exit_2(config_file, setting, message, capsys):
    assert main(["train", str(config_file), "--set", setting]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_internal_error_with_verbose_prints_its_traceback(config_file, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(api, "extract", broken)
    assert main(["extract", str(config_file), "-v"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError: a bug" in err
    assert err.strip().splitlines()[-1].startswith(
        "radiopipe: internal error (ZeroDivisionError); the traceback is in ")


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["import-features", "--help"]])
def test_help_lists_the_exit_codes(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in (EXIT_OK, EXIT_CASES_FAILED, EXIT_USAGE, EXIT_INTERNAL):
        assert f"\n  {code} " in out


def test_python_m_radiopipe_takes_options_after_the_subcommand(config_file):
    process = subprocess.run(
        [sys.executable, "-m", "radiopipe", "validate", str(config_file), "-q",
         "--set", "model.cv.n_splits=2"],
        capture_output=True, text=True, encoding="utf-8", check=False,
    )
    assert process.returncode == EXIT_OK, process.stderr
    assert process.stdout.startswith("config.yaml: valid (config hash ")

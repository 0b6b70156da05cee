"""Devices a config names are checked when it is loaded: a GPU that is not there is a config
error with the fix, before any work; 'auto' says what it chose."""

from __future__ import annotations

import logging

import pytest
from conftest import write_config

from radiopipe import gpu
from radiopipe.cli import main
from radiopipe.config import load_config
from radiopipe.devices import _log_auto_choice, _xgboost_cuda_problem, check_devices

NO_GPU = not gpu.is_available()


@pytest.mark.skipif(not NO_GPU, reason="this machine has a CUDA device")
def test_gpu_settings_without_a_gpu_are_one_config_error(tmp_path, cohort, capsys):
    config = write_config(
        tmp_path, cohort,
        features={"backend": "cupy"},
        model={"name": "xgboost", "compare": ["lightgbm"], "xgboost": {"device": "cuda"},
               "lightgbm": {"device": "gpu"}},
    )
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("radiopipe: error: config.yaml: features.backend 'cupy': ")
    assert "model.xgboost.device 'cuda': " in err and "; set it to 'cpu'" in err
    assert "model.lightgbm.device 'gpu': LightGBM cannot train there" in err
    assert main(["-q", "run", str(config)]) == 2  # the run stops before any case is read
    assert not (tmp_path / "run" / "cases").exists()


def test_an_unused_booster_device_is_not_checked(tmp_path, cohort):
    config = write_config(tmp_path, cohort, model={"name": "logistic",
                                                   "xgboost": {"device": "cuda"}})
    check_devices(load_config(config))


@pytest.mark.skipif(not NO_GPU, reason="this machine has a CUDA device")
def test_auto_says_what_it_chose(tmp_path, cohort, caplog):
    config = write_config(tmp_path, cohort, features={"backend": "auto"})
    _log_auto_choice.cache_clear()  # it logs once per process: let this test see it
    with caplog.at_level(logging.INFO, logger="radiopipe"):
        check_devices(load_config(config))
    assert "features.backend 'auto': running on the CPU ('native'): " in caplog.text


@pytest.mark.gpu
def test_the_xgboost_probe_finds_the_gpu():
    assert _xgboost_cuda_problem() is None

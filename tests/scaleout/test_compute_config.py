"""The compute section: joblib by default, Dask settings validated with clear messages."""

from __future__ import annotations

import pytest

from radiopipe.config import parse_config
from radiopipe.errors import ConfigError

BASE = {"name": "t", "output_dir": "out", "data": {"builtin": "mni152_tissue"}}


def _compute(**compute):
    return parse_config({**BASE, "compute": compute}, source="c.yaml").config.compute


def _error(**compute) -> str:
    with pytest.raises(ConfigError) as info:
        _compute(**compute)
    return str(info.value)


def test_joblib_is_the_default_engine():
    compute = parse_config(BASE).config.compute
    assert (compute.engine, compute.n_jobs, compute.address, compute.n_workers) == (
        "joblib", 1, None, None
    )
    assert compute.distributed_training == "none"


@pytest.mark.parametrize(
    "address", ["tcp://10.0.0.5:8786", "scheduler.example.org:8786", "tls://[::1]:8786"]
)
def test_dask_scheduler_addresses_are_accepted(address):
    assert _compute(engine="dask", address=address).address == address


def test_a_local_cluster_takes_a_worker_count():
    compute = _compute(engine="dask", n_workers=2, distributed_training="joblib")
    assert (compute.n_workers, compute.distributed_training) == (2, "joblib")


def test_distributed_training_names_how_the_cluster_trains():
    assert _compute(engine="dask", distributed_training="boosters").distributed_training == (
        "boosters")
    assert "compute.distributed_training" in _error(engine="dask", distributed_training=True)


def test_dask_settings_need_engine_dask():
    assert _error(address="tcp://10.0.0.5:8786", distributed_training="joblib") == (
        "c.yaml: 'compute' sets 'address' and 'distributed_training', which apply to engine "
        "'dask' only; add 'engine: dask' or remove them; got {'address': 'tcp://10.0.0.5:8786', "
        "'distributed_training': 'joblib'}"
    )
    assert "'compute' sets 'n_workers', which applies to engine 'dask' only" in _error(
        n_workers=2
    )


def test_address_and_worker_count_exclude_each_other():
    assert "'compute' gives both 'address' and 'n_workers'" in _error(
        engine="dask", address="tcp://10.0.0.5:8786", n_workers=2
    )


@pytest.mark.parametrize("address", ["10.0.0.5", "tcp://10.0.0.5", "http://h:8786", "h:99999"])
def test_a_malformed_address_shows_the_expected_form(address):
    assert f"'compute' has 'address' {address!r}, which is not a Dask scheduler address: " \
        "expected [protocol://]host:port such as 'tcp://10.0.0.5:8786'" in _error(
            engine="dask", address=address
        )


def test_unknown_engine_suggests_the_close_one():
    assert "did you mean 'dask'?" in _error(engine="dusk")


def test_worker_count_must_be_positive():
    assert "'compute.n_workers' should be greater than or equal to 1" in _error(
        engine="dask", n_workers=0
    )

"""Extraction on Dask: the same table as the joblib path, nothing finished lost when a worker
dies mid-run, clear errors for clusters that cannot do the work."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the Dask tests need the 'dask' extra")

import dask
from distributed import Client, LocalCluster
from worker_plugins import CaseKillsItsWorker, SlowCases

import radiopipe as rp
from radiopipe.config import ComputeConfig
from radiopipe.errors import ConfigError
from radiopipe.scaleout import dask_cluster

FEATURES = {"backend": "native", "families": ["firstorder", "shape", "glcm", "glszm"],
            "bin_width": 10}


def _config(root, name, compute):
    return rp.make_config(name, data={"manifest": "cohort/manifest.csv"}, features=FEATURES,
                          compute=compute, output_dir=name, base_dir=root)


@pytest.fixture
def cluster():
    """A two-worker LocalCluster of single-threaded processes, and a client of the test's own."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                     dashboard_address=":0") as local,
        Client(local, set_as_default=False) as client,
    ):
        yield local, client


@pytest.mark.slow
def test_two_local_workers_give_the_joblib_table(tmp_path, cohort):
    on_joblib = rp.extract(_config(tmp_path, "joblib", {"n_jobs": 1}), progress=False)
    on_dask = rp.extract(
        _config(tmp_path, "dask", {"engine": "dask", "n_workers": 2}), progress=False
    )
    assert on_dask.counts == {"computed": 24, "reused": 0, "failed": 0}
    pd.testing.assert_frame_equal(on_dask.table, on_joblib.table)  # bit for bit


@pytest.mark.slow
def test_a_killed_worker_loses_no_finished_case(tmp_path, cohort, cluster):
    local, client = cluster
    client.register_plugin(SlowCases(0.5))
    config = _config(tmp_path, "run", {"engine": "dask", "address": local.scheduler_address})
    cases_dir = config.output_dir / "cases"
    seen: dict = {}

    def kill_a_busy_worker_once_cases_finished():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            finished = sorted(cases_dir.glob("*.json")) if cases_dir.is_dir() else []
            busy = [w for w, keys in client.processing().items() if keys]
            if len(finished) >= 4 and busy:
                seen["finished"] = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
                                    for p in finished}
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                seen["killed"] = busy[0]
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker_once_cases_finished)
    killer.start()
    extraction = rp.extract(config, progress=False)
    killer.join()

    assert "killed" in seen, "the run ended before a worker could be killed"
    assert extraction.counts["failed"] == 0 and len(extraction.table) == 24
    for name, (inode, mtime) in seen["finished"].items():
        stat = (cases_dir / name).stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (inode, mtime), f"{name} was rewritten"
    rerun = rp.extract(config, progress=False)
    assert rerun.counts == {"computed": 0, "reused": 24, "failed": 0}
    pd.testing.assert_frame_equal(rerun.table, extraction.table)


@pytest.mark.slow
def test_a_case_whose_workers_keep_dying_is_recorded_as_failed(tmp_path, cohort):
    # The scheduler gives up on a task once its workers died more than allowed-failures times
    # (here at once). A task waiting on the same worker may share its fate: it then fails the
    # same way and is retried by the next run, like any failed case.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                     dashboard_address=":0") as local,
        Client(local, set_as_default=False) as client,
    ):
        client.register_plugin(CaseKillsItsWorker("dark-03"))
        config = _config(tmp_path, "run", {"engine": "dask", "address": local.scheduler_address})
        extraction = rp.extract(config, progress=False)
    reason = extraction.failures["dark-03"]
    assert reason.startswith("case 'dark-03': its Dask task failed (KilledWorker")
    assert reason.endswith("the case may need more memory than a worker has")
    assert all("(KilledWorker" in why for why in extraction.failures.values())
    assert len(extraction.table) + len(extraction.failures) == 24
    out = config.output_dir
    assert {p.stem for p in (out / "failures").glob("*.json")} == set(extraction.failures)
    assert {p.stem for p in (out / "cases").glob("*.json")} == set(extraction.table["case_id"])


def test_workers_that_cannot_read_the_data_are_refused_before_any_task(tmp_path, cluster):
    local, _ = cluster
    with dask_cluster(ComputeConfig(engine="dask", address=local.scheduler_address)) as found:
        assert not found.local and len(found.workers()) == 2
        with pytest.raises(ConfigError, match=r"cannot read case 'a''s image; .*shared filesystem"):
            found.check_workers(readable=tmp_path / "absent.nrrd", writable=tmp_path,
                                what="case 'a''s image")


def test_an_unreachable_scheduler_is_a_config_error(tmp_path, cohort):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _config(tmp_path, "run", {"engine": "dask", "address": f"tcp://127.0.0.1:{port}"})
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConfigError, match=r"cannot reach the Dask scheduler at compute.address"),
    ):
        rp.extract(config, progress=False)


def test_engine_dask_without_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with (
        pytest.raises(ConfigError, match=r"pip install 'radiopipe\[dask\]'"),
        dask_cluster(ComputeConfig(engine="dask", n_workers=1)),
    ):
        pass

"""The README's main job, run as written on the built-in MNI152 data."""

from __future__ import annotations

import pytest
from conftest import REPO

from radiopipe import api
from radiopipe.config import load_config, parse_config, resolved_dict


@pytest.mark.slow
def test_demo_config_runs_and_lands_near_the_documented_auc(tmp_path, monkeypatch):
    monkeypatch.setenv("RADIOPIPE_CACHE", str(tmp_path / "cache"))
    demo = load_config(REPO / "configs" / "demo.yaml")
    data = resolved_dict(demo.config)
    data["output_dir"] = str(tmp_path / "run")
    data["compute"]["n_jobs"] = 2
    outcome = api.run(parse_config(data, base_dir=demo.base_dir), progress=False)
    assert outcome.failed_cases == []
    assert outcome.training.record.task.n_cases == 600
    # Boundary patches are partial-volume and hard; the documented figure is about 0.97.
    assert 0.94 <= outcome.training.record.metrics["roc_auc"] <= 0.99

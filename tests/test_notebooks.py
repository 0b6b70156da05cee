"""Every notebook runs top to bottom in a real Jupyter kernel, and is stored without outputs."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell
# Notebooks run where radiopipe is installed: the kernel gets this interpreter (the venv's).
KERNEL = "python3"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), (
        f"{notebook.name} holds outputs; clear them before committing"
    )


def test_notebooks_import_radiopipe_only():
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        lines = [line.strip() for c in cells if c["cell_type"] == "code" for line in c["source"]]
        imports = [line for line in lines if line.startswith(("import ", "from "))]
        assert all(line.split()[1].split(".")[0] == "radiopipe" for line in imports), (
            notebook.name, imports
        )


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(notebook, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the 'dev' extra")
    import nbformat

    # jupyter_core otherwise warns that its default paths will change (filterwarnings = error).
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("RADIOPIPE_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    document = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        document, timeout=CELL_TIMEOUT, kernel_name=KERNEL,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    outputs = [o for c in document.cells for o in c.get("outputs", [])]
    stderr = "".join(o["text"] for o in outputs if o["output_type"] == "stream"
                     and o["name"] == "stderr")
    assert "Warning" not in stderr, stderr
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures or "plot()" not in notebook.read_text(encoding="utf-8"), "figures must show"

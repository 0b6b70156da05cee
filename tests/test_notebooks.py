"""Every notebook runs top to bottom in a real Jupyter kernel, and is stored without outputs."""

from __future__ import annotations

import json
import subprocess
import sys

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


def _execute(cells: list[str], work, monkeypatch):
    """Run code cells in a fresh kernel (this interpreter's) with ``work`` as its folder."""
    nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the 'dev' extra")
    import nbformat

    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("RADIOPIPE_CACHE", str(work / "cache"))
    document = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        document, timeout=CELL_TIMEOUT, kernel_name=KERNEL,
        resources={"metadata": {"path": str(work)}},
    ).execute()
    return document


@pytest.mark.slow
def test_radiopipe_leaves_the_kernels_matplotlib_backend_alone(tmp_path, monkeypatch):
    from conftest import make_cohort, write_config

    config = write_config(
        tmp_path, make_cohort(tmp_path, n_per_class=6),
        features={"backend": "native", "families": ["firstorder"], "bin_width": 10},
        report={"n_cases": 1, "pdf": "never"},
    )
    document = _execute(
        [
            "%matplotlib inline\nimport matplotlib\nbefore = matplotlib.get_backend()\nbefore",
            "import radiopipe as rp",
            f"run = rp.run({str(config)!r}, progress=False)\nrun",
            f"rp.explain_heldout({str(config)!r}).plot()",
            "import sys\n"
            "assert matplotlib.get_backend() == before, matplotlib.get_backend()\n"
            "pyplot = sys.modules.get('matplotlib.pyplot')\n"
            "assert pyplot is None or not pyplot.get_fignums(), 'pyplot figures left open'",
        ],
        tmp_path, monkeypatch,
    )
    before, _, run, plot, _ = (c.outputs for c in document.cells)
    assert "inline" in before[0]["data"]["text/plain"]
    assert "<strong>" in run[-1]["data"]["text/html"]  # the Run's _repr_html_
    assert "image/png" in plot[-1]["data"]


@pytest.mark.slow
def test_notebooks_execute_from_the_command_line(tmp_path, monkeypatch):
    pytest.importorskip("nbconvert", reason="jupyter nbconvert needs the 'dev' extra")
    import nbformat

    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = tmp_path / "version.ipynb"
    nbformat.write(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import radiopipe\nradiopipe.__version__")]
    ), notebook)
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--output", "executed.ipynb", str(notebook)],
        capture_output=True, encoding="utf-8", cwd=tmp_path, timeout=CELL_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    import radiopipe

    assert executed.cells[0].outputs[0]["data"]["text/plain"] == repr(radiopipe.__version__)

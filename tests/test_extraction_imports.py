"""Extracting features never imports the learning stack (xgboost, lightgbm, shap, scikit-learn,
matplotlib): ``radiopipe extract`` and the API's extraction calls, each in a fresh process. Nor
does it import what its settings and inputs do not need (each costs resident memory): pydicom
for image files, SciPy's ndimage and FFT and the IBSI-2 filter bank for pyradiomics' families
and image types, SciPy's convex hulls (``scipy.spatial``) for a small ROI's shape, joblib's
worker pools for one job, and for one case's extraction (``extract_case``) the cohort's progress
bar (tqdm)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_cohort, write_config

LEARNING_STACK = ("xgboost", "lightgbm", "shap", "sklearn", "matplotlib")
UNNEEDED = ("pydicom", "scipy.ndimage", "scipy.fft", "scipy.spatial", "radiopipe.filters.ibsi2",
            "joblib")
ROOT = Path(__file__).resolve().parents[1]

CALLS = {
    "cli extract": "from radiopipe.cli import main\nassert main(['-q', 'extract', CONFIG]) == 0",
    "api extract": "import radiopipe\nradiopipe.extract(CONFIG, progress=False)",
    "api extract_case": (
        "import radiopipe\nvalues = radiopipe.extract_case(IMAGE, MASK)\nassert len(values) > 50"
    ),
}


def _imported(tmp_path: Path, call: str, watched: tuple[str, ...]) -> list[str]:
    """The modules of ``watched`` imported by a fresh process making ``call`` on a small cohort
    of image files (the native backend, pyradiomics' families and original image)."""
    manifest = make_cohort(tmp_path / "cohort", n_per_class=2)
    config = write_config(tmp_path, manifest, features={"backend": "native", "bin_width": 10})
    image = next((tmp_path / "cohort" / "images").iterdir())
    mask = next((tmp_path / "cohort" / "masks").iterdir())
    script = (
        f"import json, sys\nCONFIG, IMAGE, MASK = {str(config)!r}, {str(image)!r}, "
        f"{str(mask)!r}\n{CALLS[call]}\n"
        f"print(json.dumps(sorted(m for m in {watched!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        encoding="utf-8", env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("call", CALLS)
def test_extraction_imports_no_learning_library(tmp_path, call):
    assert _imported(tmp_path, call, LEARNING_STACK) == []


@pytest.mark.parametrize("call", CALLS)
def test_extraction_imports_only_what_its_inputs_need(tmp_path, call):
    watched = UNNEEDED + (("tqdm",) if call == "api extract_case" else ())
    assert _imported(tmp_path, call, watched) == []

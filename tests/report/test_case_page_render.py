"""A case page of a real CT (pyradiomics' lung1 with its expert lesion mask), rendered in
headless Chromium: the whole slice with the lesion outlined, its position in mm, orientation
labels, a scale bar, values in HU and mm, contributions read as probabilities. The screenshot is
saved as test-artifacts/case_page.png.

The SHAP values are fixed numbers (the page's input), the rest is the real pipeline: the case is
read and located as the explain stage does, and its features are extracted by the native engine.
"""

from __future__ import annotations

import html
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO
from reference_data import data_folder

from radiopipe.api import extract_case
from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.explain.explainers import LOG_ODDS, PROBABILITY, SOFTMAX_INPUT
from radiopipe.explain.location import case_location
from radiopipe.manifest import Case
from radiopipe.report.case_pages import CaseView
from radiopipe.report.new_case import write_new_case_page
from radiopipe.report.pdf import chromium_command

CHROMIUM = Path("/usr/bin/chromium")
SHAP = {  # log-odds of 'malignant': from the reference (0.792, p = 0.69) to p = 0.88
    "original__firstorder__Energy": 0.9,
    "original__shape__MeshVolume": 0.6,
    "original__glcm__Idmn": -0.4,
    "original__firstorder__Mean": 0.3,
    "original__shape__Sphericity": -0.2,
}


@pytest.fixture(scope="module")
def lung_page(tmp_path_factory):
    folder = data_folder("pyradiomics_cases")
    case = Case("lung1", folder / "lung1_image.nrrd", folder / "lung1_label.nrrd", "malignant",
                "p1", clinical={"modality": "CT"})
    location = case_location(case, DataConfig(manifest="manifest.csv"), FeatureConfig())
    values = extract_case(case.image, case.mask,
                          features={"families": ["firstorder", "shape", "glcm"], "bin_width": 25})
    view = CaseView(
        case_id="lung1", label="malignant", probabilities={"benign": 0.12, "malignant": 0.88},
        source="A fixed explanation of a real CT, rendered as the report renders a case.",
        output="malignant", output_space=LOG_ODDS, method="tree (shap.TreeExplainer)",
        base_value=0.792, shap=pd.Series(SHAP), values=values, cohort=None, maps=[],
        location=location,
    )
    out = tmp_path_factory.mktemp("case") / "case.html"
    return write_new_case_page(view, out), location


def test_the_lesion_is_located_on_the_whole_slice(lung_page):
    _, location = lung_page
    assert location.image.shape == (512, 512)  # the whole slice, not a patch
    assert location.n_slices == 48 and 0 <= location.slice_index < 48
    assert location.roi.sum() > 0 and location.roi.sum() < location.roi.size / 50
    assert location.edges == ("A", "P", "R", "L")  # an axial CT as stored
    assert (location.modality, location.intensity_unit) == ("CT", "HU")


def test_the_page_reads_in_units_and_probabilities(lung_page):
    page, location = lung_page
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert f"slice index {location.slice_index} of 48" in text
    assert "ROI centre (mm)" in text and "LPS" in text
    assert "CT; intensities in HU" in text
    assert " HU</td>" in text and " mm³</td>" in text
    assert "log-odds of malignant" in text and "probability of malignant without it" in text
    assert 'title="How similar neighbouring voxel intensities are' in text
    assert "e+0" not in text.split("<img")[0]
    assert (page.parent / "lung1_location.csv").is_file()


def test_case_page_screenshot(lung_page, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"the screenshot needs Chromium at {CHROMIUM} (apt-get install chromium)")
    page, _ = lung_page
    shot = tmp_path / "case_page.png"
    subprocess.run(
        chromium_command(str(CHROMIUM), tmp_path / "profile", "--hide-scrollbars",
                         "--window-size=1100,2000", f"--screenshot={shot}", page.as_uri()),
        capture_output=True, timeout=120, check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "case_page.png").write_bytes(shot.read_bytes())


@pytest.mark.parametrize(("space", "said", "column"), [
    (PROBABILITY, "Contributions are in probability of malignant: from 0.0% for the reference "
     "to 12.0% for this case.", "probability of malignant without it"),
    (SOFTMAX_INPUT, "the probability of malignant for this case is 88.0%", None),
])
def test_every_output_space_says_how_to_read_it(tmp_path, space, said, column):
    shap = pd.Series({"original__shape__MeshVolume": 0.15, "original__firstorder__Mean": -0.03})
    view = CaseView(
        case_id="c1", label=None, probabilities={"benign": 0.12, "malignant": 0.88},
        source="A fixed explanation.", output="malignant", output_space=space,
        method="permutation (shap.PermutationExplainer)", base_value=0.0, shap=shap,
        values=pd.Series({"original__shape__MeshVolume": 1.0, "original__firstorder__Mean": 2.0}),
        cohort=None, maps=[],
    )
    text = html.unescape(write_new_case_page(view, tmp_path / "c1.html").read_text("utf-8"))
    assert said in text
    assert (column in text) if column else ("without it" not in text)
    assert "position</td><td>unknown" in text  # no location: said, not drawn

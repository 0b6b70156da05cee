"""The CNN saliency map on the case pages: a tiny 2D run with radiomics and CNN columns (a toy
TorchScript backbone, on the CPU), its report, and the page of a new case."""

from __future__ import annotations

import csv
import html
import re

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

pytest.importorskip("torch", reason="the CNN branch needs pip install 'radiopipe[cnn]'")

from cnn_toys import disc_image, write_torchscript  # noqa: E402

from radiopipe import api  # noqa: E402
from radiopipe.cli import main  # noqa: E402
from radiopipe.config import parse_config  # noqa: E402
from radiopipe.explain.store import read_explanation, read_saliency  # noqa: E402
from radiopipe.run_folder import RunFolder  # noqa: E402

N_PER_CLASS = 6
N_CASE_PAGES = 3
GROUP = "cnn__torchscript__embedding"


def _write_2d(path, array):
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.8, 0.8))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


def _cohort(folder):
    """Two classes of 2D discs: 'striped' discs carry a texture, 'plain' ones do not."""
    rng = np.random.default_rng(3)
    rows = []
    for label in ("plain", "striped"):
        for i in range(N_PER_CLASS):
            case_id = f"{label}-{i}"
            image, roi = disc_image(size=40, radius=9.0 + i % 3)
            if label == "striped":
                image = image + 60.0 * (np.indices(image.shape)[1] % 4 < 2) * roi
            image = image + rng.normal(0.0, 4.0, image.shape)
            _write_2d(folder / "images" / f"{case_id}.nrrd", image.astype(np.float32))
            _write_2d(folder / "masks" / f"{case_id}.nrrd", roi.astype(np.uint8))
            rows.append({"case_id": case_id, "image": f"images/{case_id}.nrrd",
                         "mask": f"masks/{case_id}.nrrd", "label": label,
                         "patient_id": f"p-{case_id}"})
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder / "manifest.csv"


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saliency")
    manifest = _cohort(folder / "cohort")
    write_torchscript(folder / "toy.pt")
    loaded = parse_config(
        {
            "name": "saliency",
            "output_dir": "run",
            "data": {"manifest": "cohort/manifest.csv"},
            "features": {"kind": "both", "families": ["firstorder", "glcm"], "bin_width": 20},
            "cnn": {"backbone": "torchscript", "weights": "toy.pt", "input_size": 16,
                    "intensity_window": [0, 255], "pca_components": 3,
                    "compare_feature_sets": False},
            "model": {
                "name": "logistic",
                "preprocessing": {"near_constant": None, "correlation_threshold": None},
                "cv": {"n_splits": 3},
                "bootstrap": {"n_resamples": 50},
            },
            "explain": {"feature_maps": {"window": 3}},  # explanations are on by default
            "report": {"n_cases": N_CASE_PAGES, "pdf": "never"},
        },
        base_dir=folder,
    )
    outcome = api.run(loaded, progress=False)
    return loaded, manifest, outcome


def test_every_case_page_shows_the_saliency_beside_the_feature_maps(cnn_run):
    loaded, _, outcome = cnn_run
    report = outcome.report.path.read_text(encoding="utf-8")
    pages = report.split('<section class="case"')[1:]
    assert len(pages) == N_CASE_PAGES
    for page in pages:
        assert 'alt="feature map of' in page
        assert 'alt="CNN saliency of case' in page and "Where the CNN looked" in page
    tables = re.findall(r"Table: <code>([^<]+)</code>", report)
    assert len(tables) == report.count("<img ")
    for name in set(tables):
        assert (loaded.output_dir / name).is_file(), name


def test_the_map_is_finite_and_non_zero_inside_the_crop(cnn_run):
    loaded, _, _ = cnn_run
    maps = read_saliency(RunFolder(loaded.output_dir).cnn_saliency)
    assert len(maps) == N_CASE_PAGES
    for item in maps.values():
        assert item.values.shape == item.image.shape == (16, 16)
        assert np.isfinite(item.values).all()
        assert np.abs(item.values[item.roi]).max() > 0
        assert item.components == tuple(f"cnn__torchscript__pc{i}" for i in (1, 2, 3))
        assert np.abs(item.weights).max() > 0


def test_the_weights_are_the_cases_component_shap_values(cnn_run):
    loaded, _, _ = cnn_run
    explanation, _, _ = read_explanation(RunFolder(loaded.output_dir).shap_values)
    group = explanation.features.index(GROUP)
    np.testing.assert_allclose(explanation.component_values.sum(axis=1),
                               explanation.values[:, group, :], atol=1e-12)
    for case_id, item in read_saliency(RunFolder(loaded.output_dir).cnn_saliency).items():
        row = explanation.case_ids.index(case_id)
        np.testing.assert_array_equal(item.weights, explanation.component_values[row, :, 0])
        table = pd.read_csv(loaded.output_dir / "report_cases" /
                            f"{case_id}_saliency_components.csv")
        np.testing.assert_allclose(table["shap_weight"], item.weights)


def test_a_new_cases_page_shows_its_saliency(cnn_run, tmp_path):
    loaded, manifest, _ = cnn_run
    out = tmp_path / "explained"
    args = ["-q", "explain", "--model", str(loaded.output_dir / "model"), "--case", "striped-1",
            "--manifest", str(manifest), "--out", str(out)]
    assert main(args) == 0
    text = html.unescape((out / "explain-striped-1.html").read_text(encoding="utf-8"))
    assert 'alt="CNN saliency of case striped-1"' in text
    pixels = pd.read_csv(out / "striped-1_saliency.csv")
    assert np.isfinite(pixels["value"]).all() and pixels.loc[pixels["roi"], "value"].abs().max() > 0
    assert (out / "striped-1_saliency_components.csv").is_file()

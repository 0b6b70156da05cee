"""The report of a small run with explanations on: every section, a page per selected case, a
table behind every figure, SHAP values that add up, the PDF, a clean render in headless Chromium,
and the explanation page of a new case."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, make_cohort, write_config
from scipy.special import expit

from radiopipe.cli import main
from radiopipe.explain.store import read_explanation
from radiopipe.report.pdf import chromium_command

SECTIONS = (
    "Model card", "Cohort", "Performance (out-of-fold)", "Figures", "What drives the predictions",
    "Case pages", "Diagnostics", "Methods", "Software", "Feature glossary",
)
N_CASE_PAGES = 4
CHROMIUM = Path("/usr/bin/chromium")
# Records script errors from the start, and each image's naturalWidth once the page has loaded.
_PROBE_HEAD = ("<script>window.__errors=[];window.addEventListener('error',"
               "function(e){window.__errors.push(String(e.message))});</script>")
_PROBE_TAIL = (
    "<script>window.addEventListener('load',function(){var w=[];"
    "document.querySelectorAll('img').forEach(function(i){w.push(i.naturalWidth)});"
    "document.body.setAttribute('data-widths',w.join(','));"
    "document.body.setAttribute('data-errors',JSON.stringify(window.__errors));});</script>"
)


@pytest.fixture(scope="module")
def explained_run(tmp_path_factory):
    """Run folder of a 24-case two-class cohort: native features, xgboost, SHAP, case pages."""
    folder = tmp_path_factory.mktemp("explained")
    manifest = make_cohort(folder / "cohort")
    config = write_config(
        folder, manifest,
        features={"families": ["firstorder", "shape", "glcm", "glszm"], "bin_width": 10},
        model={"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 30},
               "bootstrap": {"n_resamples": 100}},
        explain={"enabled": True, "feature_maps": {"window": 3}},
        report={"n_cases": N_CASE_PAGES},
    )
    assert main(["-q", "run", str(config)]) == 0
    return folder / "run"


def _report(run) -> str:
    return (run / "report.html").read_text(encoding="utf-8")


def test_every_section_and_a_page_per_selected_case(explained_run):
    report = _report(explained_run)
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in report, section
    pages = report.split('<section class="case"')[1:]
    assert len(pages) == N_CASE_PAGES
    for page in pages:
        assert 'alt="waterfall of case' in page and "probability of bright" in page
        assert 'alt="feature map of' in page and 'alt="contribution map of' in page
        assert "Local value of" in page and "log-odds of" in page
        # 3D spheres under pyradiomics definitions: the voxel-wise engine's kernels
        assert "computed by the voxel-wise engine (pyradiomics&#39; voxel-based" in page
        assert 'alt="location of the ROI of case' in page and "ROI centre (mm)" in page
        assert "log-odds of dark" in page and "probability of dark without it" in page
        assert '<span class="term" title="' in page  # feature names explain themselves
        assert not re.search(r"\d\.\d+e[+-]\d", page.split("<img")[0])  # no 1.7e+06
    assert "IBSI reporting items" in report
    assert ("<td>feature map values</td><td>first-order, GLCM, GLRLM, GLSZM, GLDM, NGTDM "
            "features of 3D images: the voxel-wise engine") in report
    card = json.loads((explained_run / "model_card.json").read_text(encoding="utf-8"))
    assert {"intended_use", "data", "model", "evaluation", "limitations"} <= set(card)
    assert re.fullmatch(r"24 cases from \d+ patients .*", card["data"])  # a manifest's unit
    assert "<th>patients</th>" in report
    assert re.search(r"<td>feature extraction \(24 images of 24 cases\)</td><td>\d+\.\d s</td>",
                     report)  # the extract stage's recorded wall time
    assert "<code>RPD004</code>" in report  # intensity alone separates the synthetic classes


def test_every_figure_names_a_table_saved_beside_the_report(explained_run):
    report = _report(explained_run)
    tables = re.findall(r"Table: <code>([^<]+)</code>", report)
    assert len(tables) == report.count("<img ")
    for name in set(tables):
        assert (explained_run / name).is_file(), name


def test_per_class_aucs_and_calibration_bins_carry_patient_bootstrap_intervals(explained_run):
    report = _report(explained_run)
    per_class = pd.read_csv(explained_run / "report_roc_auc_per_class.csv")
    assert per_class["class"].tolist() == ["bright", "dark"]
    assert per_class[["roc_auc", "low", "high"]].notna().all().all()
    assert (per_class["low"] <= per_class["roc_auc"]).all()
    assert (per_class["roc_auc"] <= per_class["high"]).all()
    assert "<th>ROC-AUC (95% CI)</th>" in report and 'alt="ROC-AUC per class"' in report
    calibration = pd.read_csv(explained_run / "report_calibration.csv")
    assert {"n", "n_patients", "observed_low", "observed_high"} <= set(calibration.columns)
    assert calibration["n"].sum() == 24
    assert calibration[["observed_low", "observed_high"]].notna().all().all()
    assert "cases in each bin (column n of the table)" in report
    # The interval shown is named, in the performance section and the methods appendix.
    assert report.count("bias-corrected and accelerated (BCa") == 2
    metrics = json.loads((explained_run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["interval_method"] == "bca"
    assert set(calibration["band_method"]) <= {"bca", "percentile"}


def test_shap_values_cover_every_held_out_case_and_add_up_to_its_prediction(explained_run):
    explanation, folds, meta = read_explanation(explained_run / "shap_values.parquet")
    oof = pd.read_parquet(explained_run / "oof_predictions.parquet").set_index("case_id")
    assert sorted(explanation.case_ids) == sorted(oof.index)
    assert folds.tolist() == oof.loc[list(explanation.case_ids), "fold"].tolist()
    assert meta["model_difference"] == 0.0  # the kept fold models are the validated ones
    assert explanation.outputs == ("dark",)  # the second of the sorted classes
    # log-odds of 'dark' from the fold model -> the validated held-out probability
    proba = oof.loc[list(explanation.case_ids), "proba__dark"].to_numpy()
    np.testing.assert_allclose(expit(explanation.model_output[:, 0]), proba, atol=1e-6)


def test_the_report_stage_reuses_unchanged_explanations(explained_run):
    shap_file = explained_run / "shap_values.parquet"
    before = shap_file.stat().st_mtime_ns
    assert main(["-q", "report", str(explained_run.parent / "config.yaml")]) == 0
    assert shap_file.stat().st_mtime_ns == before


def test_pdf_export(explained_run):
    if not CHROMIUM.is_file():
        pytest.skip(f"PDF export needs Chromium ({CHROMIUM} not found)")
    assert (explained_run / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_pdf_pages_are_numbered_and_none_is_almost_empty(explained_run):
    """Rendered to PNG pages (saved to test-artifacts/report-pdf/): every page says 'page i of
    n', every page but the last is filled at least a fifth of its height (no page holding only a
    heading or one line), and the case pages start on their own pages."""
    if not CHROMIUM.is_file():
        pytest.skip(f"PDF export needs Chromium ({CHROMIUM} not found)")
    import pypdfium2

    pdf = pypdfium2.PdfDocument(explained_run / "report.pdf")
    n = len(pdf)
    assert 10 <= n <= 80
    artifacts = REPO / "test-artifacts" / "report-pdf"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    filled, case_starts = [], 0
    for i, page in enumerate(pdf):
        text = page.get_textpage().get_text_range()
        assert f"page {i + 1} of {n}" in text, f"page {i + 1} has no page number"
        lines = [line.strip() for line in text.splitlines()
                 if line.strip() and not line.startswith("page ")]
        case_starts += bool(lines) and lines[0].startswith("Case ")
        image = page.render(scale=1.0).to_pil()
        image.save(artifacts / f"page-{i + 1:02d}.png")
        ink = np.asarray(image.convert("L"))[: int(image.height * 0.93)] < 200  # above footer
        rows = np.flatnonzero(ink.any(axis=1))
        filled.append((rows.max() - rows.min()) / image.height if len(rows) else 0.0)
    pdf.close()
    sparse = {i + 1: round(float(f), 2) for i, f in enumerate(filled[:-1]) if f < 0.2}
    assert not sparse, f"pages filled less than a fifth of their height: {sparse}"
    assert case_starts == N_CASE_PAGES


def test_report_renders_in_headless_chromium(explained_run, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    report = _report(explained_run)
    probe = tmp_path / "report-probe.html"
    probe.write_text(report.replace("<head>", "<head>" + _PROBE_HEAD, 1)
                     .replace("</body>", _PROBE_TAIL + "</body>"), encoding="utf-8")
    dump = subprocess.run(
        chromium_command(str(CHROMIUM), tmp_path / "profile", "--virtual-time-budget=10000",
                         "--enable-logging=stderr", "--v=0", "--dump-dom", probe.as_uri()),
        capture_output=True, encoding="utf-8", errors="replace", timeout=120, check=True,
    )
    widths = re.search(r'data-widths="([^"]*)"', dump.stdout).group(1).split(",")
    errors = json.loads(re.search(r'data-errors="([^"]*)"', dump.stdout).group(1)
                        .replace("&quot;", '"'))
    assert len(widths) == report.count("<img ") > 0
    assert all(int(w) > 0 for w in widths), "an image did not load"
    assert errors == []
    console = [line for line in dump.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line]

    shot = tmp_path / "report.png"
    subprocess.run(
        chromium_command(str(CHROMIUM), tmp_path / "profile-shot", "--hide-scrollbars",
                         "--window-size=1280,2400", f"--screenshot={shot}",
                         (explained_run / "report.html").as_uri()),
        capture_output=True, timeout=120, check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "report.png")
    print(f"report screenshot: {shot} (copied to {artifacts})")


def test_explain_command_writes_a_new_cases_page(explained_run, tmp_path, capsys):
    manifest = explained_run.parent / "cohort" / "manifest.csv"
    out = tmp_path / "explained"
    args = ["-q", "explain", "--model", str(explained_run / "model"), "--case", "bright-03",
            "--manifest", str(manifest), "--out", str(out)]
    assert main(args) == 0
    page = out / "explain-bright-03.html"
    assert capsys.readouterr().out.strip() == f"explanation: {page}"
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert "Case bright-03" in text and "model bundle 'xgboost'" in text
    assert 'alt="waterfall of case bright-03"' in text and 'alt="feature map of' in text
    assert 'alt="contribution map of' in text  # by the bundle's model
    explanation, folds, _ = read_explanation(out / "shap_values.parquet")
    assert explanation.case_ids == ("bright-03",) and folds.tolist() == [-1]
    final = pd.read_parquet(explained_run / "final_model_predictions.parquet").set_index("case_id")
    assert expit(explanation.model_output[0, 0]) == pytest.approx(
        final.loc["bright-03", "proba__dark"], abs=1e-6
    )
    assert (out / "bright-03_waterfall.csv").is_file() and (out / "bright-03_maps.csv").is_file()
    assert 'alt="location of the ROI of case bright-03"' in text
    assert (out / "bright-03_location.csv").is_file()


def test_explain_command_has_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["explain", "--help"])
    assert info.value.code == 0
    assert "--case ID" in capsys.readouterr().out


def test_explain_command_names_the_cases_a_manifest_has(explained_run, tmp_path, capsys):
    manifest = make_cohort(tmp_path / "new", n_per_class=1)
    args = ["explain", "--model", str(explained_run / "model"), "--case", "nobody",
            "--manifest", str(manifest), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        "radiopipe: error: case 'nobody' is not in manifest.csv; it lists dark-00, bright-00\n"
    )

"""The main job's report (configs/demo.yaml, the built-in MNI152 task) holds every section:
quickly on a smaller cohort, and in full as the README runs it (slow)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from radiopipe import api
from radiopipe.config import load_config, parse_config, resolved_dict

SECTIONS = (
    "Model card", "Cohort", "Performance (out-of-fold)", "Figures", "What drives the predictions",
    "Case pages", "Diagnostics", "Methods", "Software",
)
FIGURES = ("model comparison", "ROC curves", "precision-recall curves", "calibration",
           "confusion matrix", "decision curve", "global SHAP importance", "SHAP beeswarm")


def _demo(tmp_path, monkeypatch, **changes):
    monkeypatch.setenv("RADIOPIPE_CACHE", str(tmp_path / "cache"))
    demo = load_config(REPO / "configs" / "demo.yaml")
    data = resolved_dict(demo.config)
    data["output_dir"] = str(tmp_path / "run")
    data["compute"]["n_jobs"] = 2
    for path, value in changes.items():
        *parents, key = path.split(".")
        target = data
        for part in parents:
            target = target[part]
        target[key] = value
    return parse_config(data, base_dir=demo.base_dir)


def _check_report(run, n_cases: int) -> None:
    report = (run / "report.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in report, section
    for alt in FIGURES:
        assert f'alt="{alt}"' in report, alt
    assert len(re.findall(r'alt="SHAP dependence of ', report)) == 4
    pages = report.split('<section class="case"')[1:]
    assert len(pages) == n_cases
    for page in pages:  # prediction, waterfall and three feature maps on every case page
        assert "predicted class" in page and "probability of grey_matter" in page
        assert page.count('alt="waterfall of case') == 1
        assert page.count('alt="feature map of') == 3
        assert "MR; intensities in a.u." in page  # the dataset declares its modality
    assert (run / "report_decision_curve.csv").read_text(encoding="utf-8").count("csf") == 99
    # The built-in dataset's patient_id counts blocks of one template brain, not patients.
    assert re.search(r"\d+ cases with features from \d+ blocks of one template brain;", report)
    assert "<th>blocks of one template brain</th>" in report
    assert "bootstrap over blocks of one template brain" in report
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d+ cases from \d+ blocks of one template brain .*", card["data"])
    assert "patients" not in card["data"]


def test_demo_report_on_a_smaller_mni152_cohort(tmp_path, monkeypatch):
    loaded = _demo(tmp_path, monkeypatch, **{
        "data.builtin_options.cases_per_class": 20, "model.compare": [], "model.search.n_iter": 0,
        "model.bootstrap.n_resamples": 100, "model.cv.n_splits": 3,
    })
    outcome = api.run(loaded, progress=False)
    assert outcome.failed_cases == []
    _check_report(loaded.output_dir, n_cases=6)


@pytest.mark.slow
def test_the_main_jobs_report_holds_every_section(tmp_path, monkeypatch):
    loaded = _demo(tmp_path, monkeypatch)
    outcome = api.run(loaded, progress=False)
    assert outcome.training.record.task.n_cases == 600
    _check_report(loaded.output_dir, n_cases=6)

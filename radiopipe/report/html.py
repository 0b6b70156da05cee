"""Render ``report.html``: one self-contained page (figures embedded) from a run folder.

Sections, in reading order: model card, cohort, performance with 95% intervals, figures (model
comparison, ROC, precision-recall, calibration, confusion matrix, decision curves), what drives
the predictions (SHAP), case pages, diagnostics, methods appendix (IBSI reporting items), and
software versions. The report names cases by ``case_id`` only; it shows no file path. Every
figure's table is saved beside the report as CSV, and ``report.pdf`` is printed through headless
Chromium when it is installed (``report.pdf: auto``).
"""

from __future__ import annotations

import datetime as _dt
import json
from html import escape
from pathlib import Path

import pandas as pd

from radiopipe.checks import run_checks
from radiopipe.extraction import FAILURES_DIR
from radiopipe.report.cohort import cohort_section
from radiopipe.report.diagnostics import diagnostics_section
from radiopipe.report.explanations import explanation_sections
from radiopipe.report.layout import save_csv, table, write_page
from radiopipe.report.methods import methods_section, software_section
from radiopipe.report.model_card import model_card, model_card_section
from radiopipe.report.pdf import export_pdf
from radiopipe.report.performance import performance_html
from radiopipe.table import FEATURES_FILE, feature_columns, read_table
from radiopipe.training import METRICS_FILE, OOF_FILE

REPORT_FILE = "report.html"
PDF_FILE = "report.pdf"
_CONTENTS = (
    ("model-card", "Model card"),
    ("cohort", "Cohort"),
    ("performance", "Performance"),
    ("figures", "Figures"),
    ("explanations", "What drives the predictions"),
    ("cases", "Case pages"),
    ("diagnostics", "Diagnostics"),
    ("methods", "Methods"),
    ("software", "Software"),
)


def write_report(
    run_dir: Path, *, title: str, config: dict, config_hash: str, versions: dict
) -> Path:
    """Write ``report.html`` and the tables behind its figures into ``run_dir``.

    Parameters
    ----------
    run_dir : Path
        Run folder holding ``features.parquet``, ``metrics.json``, ``oof_predictions.parquet``,
        ``failures/`` and, with explanations on, the explain stage's outputs.
    title : str
        Report title.
    config : dict
        The resolved config (methods appendix, report and explanation settings).
    config_hash : str
        Hash of the resolved config.
    versions : dict
        Software versions.

    Returns
    -------
    Path
        The report file.
    """
    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / METRICS_FILE).read_text(encoding="utf-8"))
    oof = pd.read_parquet(run_dir / OOF_FILE)
    frame, _ = read_table(run_dir / FEATURES_FILE)
    features = frame.set_index("case_id")
    classes = metrics["task"]["classes"]
    failures = _failures(run_dir / FAILURES_DIR, metrics["task"]["failed_cases"])
    performance, figures = performance_html(metrics, oof, save_csv, run_dir, table)
    explanations, cases, refit_difference = explanation_sections(run_dir, features, oof, config)
    findings = run_checks(
        features[feature_columns(frame)], oof, failures=failures,
        correlation_filter=config["model"]["preprocessing"]["correlation_threshold"],
        refit_difference=refit_difference,
    )
    contents = "".join(f'<li><a href="#{key}">{name}</a></li>' for key, name in _CONTENTS)
    body = "\n".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="muted">Run <b>{escape(config["name"])}</b> · generated '
            f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC · config hash "
            f"<code>{config_hash[:12]}</code></p>",
            f"<nav><ol>{contents}</ol></nav>",
            model_card_section(model_card(config, metrics, findings), run_dir),
            cohort_section(oof, features, classes, metrics, failures, run_dir),
            f'<section id="performance">{performance}</section>',
            f'<section id="figures">{figures}</section>',
            explanations,
            cases,
            diagnostics_section(findings, run_dir),
            methods_section(config, metrics, frame, run_dir),
            software_section(versions),
        ]
    )
    path = write_page(run_dir / REPORT_FILE, title, body)
    if config["report"]["pdf"] == "auto":
        export_pdf(path, run_dir / PDF_FILE)
    return path


def _failures(folder: Path, case_ids: list[str]) -> list[dict]:
    records = []
    for case_id in case_ids:
        path = folder / f"{case_id}.json"
        reason = "unknown"
        if path.is_file():
            reason = json.loads(path.read_text(encoding="utf-8"))["reason"]
        records.append({"case_id": case_id, "reason": reason})
    return records

"""Render ``report.html``: one self-contained page (figures embedded) from a run's records.

Sections, in reading order: the model health banner (when the train stage found a problem),
model card, cohort, performance with 95% intervals, figures (model
comparison, ROC, precision-recall, calibration, confusion matrix, decision curves), feature
robustness (when the run folder has a robustness run), what drives
the predictions (SHAP), case pages, diagnostics, methods appendix (IBSI reporting items),
software versions, and a glossary of the features the model uses (meaning and unit; the same
meaning shows on hover over every feature name). The report names cases by ``case_id`` only; it
shows no file path. Every figure's table is saved beside the report as CSV, and ``report.pdf`` is
printed through headless Chromium when it is installed (``report.pdf: auto``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from radiopipe.checks import not_applicable, run_checks
from radiopipe.models.health import learned_nothing
from radiopipe.records import ValidationRecord
from radiopipe.report.cohort import cohort_section
from radiopipe.report.diagnostics import diagnostics_section
from radiopipe.report.explanations import HeldOutExplanations, explanation_sections
from radiopipe.report.glossary import SECTION_ID as GLOSSARY_ID
from radiopipe.report.glossary import glossary_section
from radiopipe.report.health import health_banner
from radiopipe.report.layout import save_csv, table, write_page
from radiopipe.report.methods import methods_section, software_section
from radiopipe.report.model_card import model_card, model_card_section
from radiopipe.report.pdf import export_pdf
from radiopipe.report.performance import performance_html
from radiopipe.report.published import SECTION_ID as PUBLISHED_ID
from radiopipe.report.published import published_section
from radiopipe.report.robustness import SECTION_ID as ROBUSTNESS_ID
from radiopipe.report.robustness import robustness_section
from radiopipe.report.templating import render
from radiopipe.table import feature_columns

_CONTENTS = (
    ("model-card", "Model card"),
    ("cohort", "Cohort"),
    ("performance", "Performance"),
    ("figures", "Figures"),
    (PUBLISHED_ID, "Published estimates"),
    (ROBUSTNESS_ID, "Feature robustness"),
    ("explanations", "What drives the predictions"),
    ("cases", "Case pages"),
    ("diagnostics", "Diagnostics"),
    ("methods", "Methods"),
    ("software", "Software"),
    (GLOSSARY_ID, "Feature glossary"),
)


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, read from the run folder by the report stage.

    Attributes
    ----------
    record : ValidationRecord
        The train stage's record.
    oof : pandas.DataFrame
        The primary model's held-out predictions.
    table : pandas.DataFrame
        The feature table.
    failures : list of dict
        Failed cases (``case_id``, ``reason``).
    explanations : HeldOutExplanations or None
        The explain stage's results (None when explanations are off).
    robustness : pandas.DataFrame or None
        The robustness run's ICC table (``robustness.parquet``), None when it has not run.
    compute_seconds : dict of str to float
        Each stage's wall-clock seconds when it last ran (its record in ``stages/``).
    """

    record: ValidationRecord
    oof: pd.DataFrame
    table: pd.DataFrame
    failures: list[dict]
    explanations: HeldOutExplanations | None
    robustness: pd.DataFrame | None = None
    compute_seconds: dict[str, float] = field(default_factory=dict)


def write_report(
    inputs: ReportInputs, path: Path, *, title: str, config: dict, config_hash: str,
    versions: dict, pdf: Path | None = None,
) -> Path:
    """Write the report to ``path`` and the tables behind its figures beside it.

    Parameters
    ----------
    inputs : ReportInputs
        What the report shows.
    path : Path
        The HTML file; its folder receives ``report_*.csv`` and ``report_cases/``.
    title : str
        Report title.
    config : dict
        The resolved config (methods appendix, report and explanation settings).
    config_hash : str
        Hash of the resolved config.
    versions : dict
        Software versions.
    pdf : Path, optional
        Also print the report to this PDF (``report.pdf: auto``) where Chromium is installed.

    Returns
    -------
    Path
        The report file.
    """
    run_dir = Path(path).parent
    record, oof, frame, failures = inputs.record, inputs.oof, inputs.table, inputs.failures
    features = frame.set_index("case_id")
    classes = record.classes
    unit = config["data"]["grouping_unit"]
    model = config["model"]
    performance, figures = performance_html(
        record, oof, save_csv, run_dir, table, unit=unit, feature_sets=model["feature_sets"],
        stability_icc=model["preprocessing"]["stability_icc"],
    )
    explanations, cases, model_difference = explanation_sections(
        run_dir, inputs.explanations, features, oof, config,
        learned_nothing=learned_nothing(record.health),
    )
    findings = run_checks(
        features[feature_columns(frame)], oof, failures=failures,
        correlation_filter=config["model"]["preprocessing"]["correlation_threshold"],
        model_difference=model_difference, health=record.health, comparison=record.comparison,
    )
    robustness = inputs.robustness
    sections = [
        model_card_section(model_card(config, record, findings, oof), run_dir),
        cohort_section(oof, features, classes, record, failures, run_dir, config, unit=unit),
        Markup('<section id="performance">{}</section>').format(performance),
        Markup('<section id="figures">{}</section>').format(figures),
        published_section(config["report"]["published"], record, table),
        "" if robustness is None else robustness_section(robustness, record, config, run_dir),
        explanations,
        cases,
        diagnostics_section(findings, run_dir, not_applicable=not_applicable(record)),
        methods_section(config, record, frame, run_dir, robustness, inputs.compute_seconds),
        software_section(versions),
        glossary_section(_model_features(inputs, frame)),
    ]
    body = render(
        "report.html.j2", health_banner=health_banner(record.health), title=title,
        run_name=config["name"], generated=f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M}",
        config_hash=config_hash[:12],
        contents=[(key, name) for key, name in _CONTENTS
                  if (key != ROBUSTNESS_ID or robustness is not None)
                  and (key != PUBLISHED_ID or config["report"]["published"])],
        sections=[Markup(section) for section in sections],
    )
    path = write_page(Path(path), title, body)
    if pdf is not None:
        export_pdf(path, pdf)
    return path


def _model_features(inputs: ReportInputs, frame: pd.DataFrame) -> list[str]:
    """The feature columns the glossary explains: the explained model inputs, else the table's
    feature columns."""
    if inputs.explanations is not None:
        return list(inputs.explanations.explanation.features)
    return feature_columns(frame)

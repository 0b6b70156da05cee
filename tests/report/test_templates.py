"""The report's templates: text reaches the page escaped exactly once, HTML passed as Markup
prints as it is, and each converted part renders its exact text."""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from markupsafe import Markup

from radiopipe.explain.explainers import LOG_ODDS
from radiopipe.records import (
    CandidateSummary,
    DesignChecks,
    FeatureSummary,
    FoldModel,
    HealthFinding,
    TaskSummary,
    ValidationRecord,
)
from radiopipe.report.case_pages import CaseView, case_section
from radiopipe.report.layout import LONG_TABLE_ROWS, figure, table, write_page
from radiopipe.report.new_case import write_new_case_page
from radiopipe.report.templating import render

HOSTILE = 'x<script>&amp;"\'y'  # a literal '&amp;': must print as '&amp;amp;'


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def text_of(markup: str) -> str:
    """The text nodes, each with its whitespace runs as one space, joined by ' | '."""
    parser = _Text()
    parser.feed(markup)
    return " | ".join(" ".join(p.split()) for p in parser.parts if p.strip())


def test_table_escapes_text_once_keeps_markup_and_formats_floats():
    out = table(["a<b", "n"], [[HOSTILE, 0.12345], [Markup("<i>kept</i>"), 3]])
    assert "<th>a&lt;b</th>" in out
    assert "<td>x&lt;script&gt;&amp;amp;&#34;&#39;y</td>" in out
    assert '<td class="num">0.123</td>' in out and "<td>3</td>" in out
    assert "<td><i>kept</i></td>" in out
    assert text_of(out) == f"a<b | n | {HOSTILE} | 0.123 | kept | 3"
    assert "class=\"long\"" in table(["a"], [["x"]] * (LONG_TABLE_ROWS + 1))
    assert "class=\"long\"" not in table(["a"], [["x"]] * LONG_TABLE_ROWS)


def test_figure_escapes_alt_and_caption_unless_markup():
    out = figure("data:image/png;base64,AA", HOSTILE, "a & b", "t<1>.csv")
    assert f'alt="{html.escape(HOSTILE).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")}"' \
        in out
    assert "<figcaption>a &amp; b Table: <code>t&lt;1&gt;.csv</code></figcaption>" in out
    assert "<figcaption><b>bold</b></figcaption>" in figure("u", "a", Markup("<b>bold</b>"))
    assert "figcaption" not in figure("u", "a")


def test_templates_refuse_a_missing_value():
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render("new_case.html.j2", title="t", case="")


def test_page_escapes_its_title_and_keeps_its_body(tmp_path):
    page = write_page(tmp_path / "p.html", HOSTILE, Markup("<p>body &amp; more</p>"))
    text = page.read_text(encoding="utf-8")
    assert text.startswith('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">')
    assert "<title>x&lt;script&gt;&amp;amp;&#34;&#39;y</title>" in text
    assert "<body><p>body &amp; more</p></body>" in text
    assert "@page{size:A4" in text and "details{display:none}" in text


def _view(case_id: str = HOSTILE) -> CaseView:
    return CaseView(
        case_id=case_id, label="a&b", probabilities={"a&b": 0.3, "<c>": 0.7},
        source="source <b>&amp;", output="<c>", output_space=LOG_ODDS,
        method="tree (shap.TreeExplainer)", base_value=0.2,
        shap=pd.Series({"original__firstorder__Energy": 0.9, "clinical__age<&>": 0.1}),
        values=pd.Series({"original__firstorder__Energy": 12345.6, "clinical__age<&>": 61}),
        cohort=None, maps=[], location=None)


def test_case_page_text_and_escaping(tmp_path):
    out = case_section(_view(), tmp_path, "cases<&>/")
    assert '<section class="case" id="case-x&lt;script&gt;&amp;amp;&#34;&#39;y">' in out
    assert "<h3>Case x&lt;script&gt;&amp;amp;&#34;&#39;y</h3>" in out
    assert "<p>source &lt;b&gt;&amp;amp;</p>" in out
    assert "<b>&lt;c&gt;</b>" in out and "&amp;lt;" not in out
    assert ("<code>cases&lt;&amp;&gt;/x&lt;script&gt;&amp;amp;&#34;&#39;y_waterfall.csv</code>"
            in out)
    text = text_of(out)
    assert text.startswith(
        f"Case {HOSTILE} | source <b>&amp; | this case | true class | a&b | predicted class | "
        "<c> (misclassified) | probability of a&b | 0.300 | probability of <c> | 0.700 | "
        "position | unknown (the image could not be read again for this page) | Why the model "
        "predicted this | Each bar is one feature's contribution to the model's output for | "
        "<c> | , from the reference (the average training case as the trees saw it "
        "(tree-path-dependent SHAP)) to this case. Red bars push towards <c>, blue bars away "
        "from it. Contributions are in log-odds of <c>"
    )
    assert text.endswith(
        "Where in the image | No feature map: the case's top features are shape, clinical or "
        "CNN features, which describe the whole region, its region is smaller than the map's "
        "window, or maps are turned off (explain.feature_maps.enabled).")
    assert "Explainer: tree (shap.TreeExplainer)." in text
    assert "| age<&> | 61 |" in text and "Where the CNN looked" not in text
    assert (tmp_path / f"{HOSTILE}_waterfall.csv").is_file()


def test_new_case_page_banner_title_and_case(tmp_path):
    health = [HealthFinding("RPD009", "warning", "w & <i>")]
    page = write_new_case_page(_view("case-1"), tmp_path / "case.html", health)
    text = page.read_text(encoding="utf-8")
    assert "<b>warning</b>: w &amp; &lt;i&gt;</li>" in text
    assert "<title>Explanation of case case-1</title>" in text
    assert "<h1>Explanation of case case-1</h1>" in text
    assert text.index('id="model-health"') < text.index("<h1>") < text.index('class="case"')


def test_software_section_escapes_package_and_version():
    from radiopipe.report.methods import software_section

    out = software_section({"pkg<&>": "1.0 & <b>"})
    assert out.startswith('<section id="software"><h2>Software</h2><table>')
    assert "<tr><td>pkg&lt;&amp;&gt;</td><td>1.0 &amp; &lt;b&gt;</td></tr>" in out
    assert text_of(out).startswith("Software | package | version | pkg<&> | 1.0 & <b> |")


ESCAPED = "x&lt;script&gt;&amp;amp;&#34;&#39;y"  # HOSTILE escaped once


def _record(classes=("a", "b"), **changes) -> ValidationRecord:
    """A small train-stage record (3 cases of 2 patients, one failed case)."""
    primary = CandidateSummary(model="xgboost", kind="model", feature_set="image", primary=True,
                               metrics={"roc_auc": 0.9}, ci={"roc_auc": [0.8, 0.95]},
                               best_params=[{}])
    record = ValidationRecord(
        config_hash="0" * 64,
        task=TaskSummary(classes=list(classes), n_cases=3, n_patients=2, n_tested=3,
                         failed_cases=["f<1>"]),
        features=FeatureSummary(backend="native", backend_version="1", n_features=3,
                                kind="radiomics", n_embedding=0, clinical=[]),
        model="xgboost", validation={"scheme": "2-fold", "design": "kfold"},
        metrics={"roc_auc": 0.9, "balanced_accuracy": 0.8},
        confidence_intervals={"roc_auc": [0.8, 0.95], "balanced_accuracy": [0.7, 0.9]},
        per_fold=[], comparison=[primary], best_model="xgboost",
        final_model={"bundle": "model"}, fold_models=[FoldModel(split=0, fold=0, repeat=0)],
        health=[], versions={},
    )
    return dataclasses.replace(record, **changes)


def test_health_banner_text_and_escaping():
    from radiopipe.report.health import health_banner

    out = health_banner([HealthFinding("RPD009", "warning", HOSTILE),
                         HealthFinding("RPD008", "error", "a & b")])
    assert isinstance(out, Markup) and health_banner([]) == ""
    assert out.startswith('<div id="model-health" role="alert" class="health-error" style="')
    assert f"<li><code>RPD009</code> <b>warning</b>: {ESCAPED}</li>" in out
    assert text_of(out) == (
        "This model failed a health check: do not use it before the cause is fixed. | RPD008 | "
        f"error | : a & b | RPD009 | warning | : {HOSTILE}")
    page = render("report.html.j2", health_banner=out, title="t", run_name="r", generated="g",
                  config_hash="h", contents=[], sections=[])
    assert page.startswith('<div id="model-health"')


def test_cohort_section_text_and_escaping(tmp_path):
    from radiopipe.report.cohort import cohort_section

    record = _record(classes=[HOSTILE, "b"])
    oof = pd.DataFrame({"case_id": ["c1", "c2", "c3"], "label": [HOSTILE, "b", "b"],
                        "patient_id": ["p1", "p1", "p2"]})
    features = pd.DataFrame({"site": [HOSTILE, "s2", None], "label": oof["label"].tolist()},
                            index=oof["case_id"])
    out = cohort_section(oof, features, record.classes, record,
                         [{"case_id": "f<1>", "reason": HOSTILE}], tmp_path, {"features": {}},
                         unit="units&")
    assert out.startswith('<section id="cohort"><h2>Cohort</h2>') and out.endswith("</section>")
    assert f"<td>{ESCAPED}</td><td>1</td><td>1</td>" in out and "&amp;amp;amp;" not in out
    assert text_of(out) == (
        "Cohort | 3 cases with features from 2 units&; 1 case(s) failed feature extraction and "
        "are excluded. Cases are named by their case id only. | Grouping unit: units& (the "
        "manifest's patient_id). The cases of one never straddle a train/test split, and the "
        "bootstrap intervals resample them whole. | class | cases | units& | "
        f"{HOSTILE} | 1 | 1 | b | 2 | 2 | all | 3 | 2 | Sites | site | b | {HOSTILE} | s2 | 1 | 0 "
        f"| {HOSTILE} | 0 | 1 | Failed cases | case | reason | f<1> | {HOSTILE}")
    assert (tmp_path / "report_cohort.csv").is_file()


def test_cohort_voxel_sizes_by_modality_and_the_spacing_features_were_computed_at():
    from radiopipe.report.cohort import voxel_size_summary

    features = pd.DataFrame({
        "acquisition__pet__spacing_x": [3.9, 5.47, 4.0],
        "acquisition__pet__spacing_y": [3.9, 5.47, 4.0],
        "acquisition__pet__spacing_z": [3.27, 3.2700004, 3.27],  # equal as shown: one value
        "acquisition__mr_t1__spacing_x": [0.98, 0.98, 1.0],
        "acquisition__mr_t1__spacing_y": [0.98, 0.98, 1.0],
        "acquisition__mr_t1__spacing_z": [3.0, 6.0, float("nan")],
    })
    settings = {"resampled_spacing": None, "modalities": {
        "pet": {"features": {"resampled_spacing": [4.0, 4.0, 4.0]}},
        "mr_t1": {"features": {}}}}
    summary = voxel_size_summary(features, settings)
    assert summary.to_dict("records") == [
        {"modality": "pet", "cases": 3, "in-plane spacing (mm)": "4 (3.9 to 5.47)",
         "slice spacing (mm)": "3.27", "features computed at (mm)": "4 × 4 × 4"},
        {"modality": "mr_t1", "cases": 3, "in-plane spacing (mm)": "0.98 (0.98 to 1)",
         "slice spacing (mm)": "4.5 (3 to 6)",
         "features computed at (mm)": "acquired spacing (not resampled)"}]
    assert voxel_size_summary(pd.DataFrame({"x": [1]}), {}).empty  # no geometry: no table


def test_diagnostics_section_text_and_escaping(tmp_path):
    from radiopipe.checks import CHECKS, Finding
    from radiopipe.report.diagnostics import diagnostics_section

    rows = pd.DataFrame({"case": [HOSTILE] * 12, "r": [0.12345] * 11 + [float("nan")]})
    out = diagnostics_section([Finding("RPD002", "warning", HOSTILE, rows)], tmp_path)
    assert out.startswith('<section id="diagnostics"><h2>Diagnostics</h2>')
    assert f'<td class="sev-warning">warning</td><td>{ESCAPED}</td>' in out
    assert '<td class="sev-passed">passed</td><td></td>' in out
    assert f'<td>{ESCAPED}</td><td class="num">0.123</td>' in out
    text = text_of(out)
    assert text.count(HOSTILE) == 11 and "&amp;amp;amp;" not in out
    assert f"| RPD002 | highly correlated features | warning | {HOSTILE} |" in text
    assert text.endswith(
        "RPD002 | highly correlated features: 12 row(s), table | report_RPD002.csv | case | r | "
        + f"{HOSTILE} | 0.123 | " * 9 + f"{HOSTILE} | 0.123 | and 2 more rows")
    assert text.count("| passed |") == len(CHECKS) - 1
    assert len(pd.read_csv(tmp_path / "report_RPD002.csv")) == 12


def test_design_checks_text_and_escaping():
    from radiopipe.report.design_checks import design_checks_html

    assert design_checks_html(_record(), table) == ""
    checks = DesignChecks(
        seeds=[{"seed": 1, "roc_auc": 0.7}, {"seed": 2, "roc_auc": None}],
        threshold={"thresholds": [0.4, None, 0.6], "sensitivity": 0.8, "specificity": None,
                   "ci": {"sensitivity": [0.6, 0.9], "specificity": None}, "n_calls": 3},
        negative_images=[{"control": HOSTILE, "roc_auc": 0.5, "ci": None}])
    out = design_checks_html(_record(classes=["a", HOSTILE], checks=checks), table)
    assert isinstance(out, Markup) and out.startswith("<h3>Spread over seeds</h3>")
    assert f"probability of <b>{ESCAPED}</b> that" in out
    assert f"<tr><td>{ESCAPED}</td><td></td><td>0.500</td></tr>" in out
    assert text_of(out) == (
        "Spread over seeds | The whole outer design drawn again with 2 seeds: the primary ROC-AUC "
        "lies between 0.700 and 0.700 (median 0.700). | seed | ROC-AUC | 1 | 0.700 | 2 | n/a | "
        "Negative-control images | " + text_of(out).split("Negative-control images | ")[1]
        .split(" | images |")[0] + " | images | what they keep | ROC-AUC (95% CI) | real images "
        f"| the cases' own images | 0.900 (0.800 to 0.950) | {HOSTILE} | 0.500 | Sensitivity "
        "and specificity at an in-fold threshold | In every outer training set, the threshold "
        f"on the probability of | {HOSTILE} | that maximises Youden's J on inner out-of-fold "
        "predictions (thresholds 0.400 to 0.600), applied unchanged to the outer test fold; 3 "
        "calls pooled over the test folds, 95% CI by the bootstrap of the other intervals. | "
        "measure | value (95% CI) | sensitivity | 0.800 (0.600 to 0.900) | specificity | n/a")


def test_model_card_text_and_escaping(tmp_path):
    import json

    from radiopipe.report.model_card import model_card_section

    card = {"health": [], "intended_use": HOSTILE, "limitations": ["small & <b>", HOSTILE]}
    out = model_card_section(card, tmp_path)
    assert out.startswith('<section id="model-card"><h2>Model card</h2><table><tbody>')
    assert f"<tr><th>intended use</th><td>{ESCAPED}</td></tr>" in out
    assert f"<ul><li>small &amp; &lt;b&gt;</li><li>{ESCAPED}</li></ul></section>" in out
    assert text_of(out) == (f"Model card | health | no finding | intended use | {HOSTILE} | "
                            f"Limitations | small & <b> | {HOSTILE}")
    assert json.loads((tmp_path / "model_card.json").read_text(encoding="utf-8")) == card


def test_robustness_section_text_and_escaping(tmp_path):
    from radiopipe.report.robustness import robustness_section

    features = ["original__firstorder__Mean", "original__glcm__Contrast"]
    robustness = pd.DataFrame([
        {"feature": f, "image_type": "original", "family": f.split("__")[1], "perturbation": kind,
         "icc_kind": "ICC(2,1)", "icc": icc, "n_cases": 5}
        for kind in (HOSTILE, "noise") for f, icc in zip(features, (0.9, 0.5), strict=True)])
    config = {"model": {"preprocessing": {"stability_threshold": None,
                                          "stability_icc": "ICC(2,1)"},
                        "feature_sets": [{"name": HOSTILE, "columns": ["*"],
                                          "stability_threshold": 0.8}]},
              "robustness": {"threshold": 0.75}}
    stability = {"threshold": 0.75, "icc_kind": HOSTILE, "n_kept": 1, "n_measured": 2}
    record = _record(final_model={"bundle": "model", "stability": stability})
    out = robustness_section(robustness, record, config, tmp_path)
    assert out.startswith('<section id="robustness"><h2>Feature robustness</h2>')
    assert f"<tr><td>{ESCAPED}</td><td>2</td><td>1</td></tr>" in out
    assert f"features whose {ESCAPED} over all" in out and "<script>" not in out
    text = text_of(out)
    assert text.startswith("Feature robustness | Every case was extracted again in perturbed "
                           "versions (the robustness run)")
    assert text.endswith(
        f"ICC(2,1) of every feature, its lowest over the perturbation kinds ({HOSTILE}, noise), by "
        "image type and family, on 5 cases; the dashed line marks the threshold 0.75, which 1 of "
        "the 2 features reach. Table: | report_robustness.csv | perturbation | features | "
        f"ICC(2,1) at or above 0.75 | {HOSTILE} | 2 | 1 | noise | 2 | 1 | Inside the folds "
        "(model.preprocessing.stability_threshold 0.75) each training set keeps the features "
        f"whose {HOSTILE} over all perturbed versions of its own cases reaches the threshold; "
        "the final model, fitted on every case, kept 1 of the 2 measured features (its "
        f"bundle.json lists each feature's ICC). | Feature set | {HOSTILE} | is validated with "
        "the same in-fold filter at ICC(2,1) ≥ 0.80 (each training set's own cases, all "
        "perturbed versions as raters); its row in the model comparison shows what the filter "
        "changes.")
    assert len(re.findall('<img alt="ICC by image type and family" src="data:image/png', out)) == 1


def test_explanation_notes_and_case_links_text_and_escaping(tmp_path):
    from radiopipe.report.explanations import explanation_sections

    off = explanation_sections(tmp_path, None, pd.DataFrame(), pd.DataFrame(),
                               {"explain": {"enabled": False}})
    assert off[0] == ('<section id="explanations"><h2>What drives the predictions</h2><p '
                      'class="muted">Not computed: set <code>explain.enabled: true</code> for '
                      "SHAP explanations, case pages and feature maps.</p></section>")
    assert text_of(off[1]) == ("Case pages | Not computed: set | explain.enabled: true | for SHAP "
                               "explanations, case pages and feature maps.")
    out = render("case_pages.html.j2", section_id="cases", cases=[HOSTILE, "c2"],
                 pages=[Markup("<section>1</section>"), Markup("<section>2</section>")])
    assert out == (
        '<section id="cases"><h2>Case pages</h2><p>2 held-out case(s), each explained by the fold '
        f'model that never saw it: <a href="#case-{ESCAPED}">{ESCAPED}</a>, <a href="#case-c2">'
        "c2</a>.</p><section>1</section>\n<section>2</section></section>")


def test_glossary_section_text_and_escaping():
    from radiopipe.report.glossary import glossary_section

    empty = glossary_section([f"clinical__{HOSTILE}"])
    assert empty.startswith('<section id="glossary" class="appendix"><h2>Feature glossary</h2>')
    assert empty.endswith('<p class="muted">The model uses no catalogued radiomics feature.</p>'
                          "</section>")
    assert text_of(empty).startswith("Feature glossary | What each of the 0 radiomics features")
    out = glossary_section(["original__firstorder__Mean", f"clinical__{HOSTILE}"])
    assert "What each of the 1 radiomics features" in out and "<table><thead>" in out
    assert HOSTILE not in text_of(out) and "&amp;amp;" not in out
    assert "| feature | meaning | unit | computed on | first-order Mean |" in text_of(out)


def test_notebook_summaries_escape_once(tmp_path):
    from radiopipe.results import BackendChoice, Document, _summary_html

    out = _summary_html(HOSTILE, ["a & b"], pd.DataFrame({"c": [HOSTILE]}))
    assert out.startswith(f"<strong>{ESCAPED}</strong><ul><li>a &amp; b</li></ul><table")
    assert text_of(out) == f"{HOSTILE} | a & b | c | 0 | {HOSTILE}"
    page = Document(tmp_path / f"{HOSTILE}.html", ["c1"])._repr_html_()
    assert text_of(page) == f"Written | : | {HOSTILE}.html | (1 case(s) failed)"
    assert f'{ESCAPED}.html">{ESCAPED}.html</a>' in page
    choice = BackendChoice(HOSTILE, "numpy", "no <gpu>")._repr_html_()
    assert choice == (f"backend <code>{ESCAPED}</code> runs <code>numpy</code> "
                      "(no &lt;gpu&gt;)")


def test_the_model_card_warns_of_few_events_per_candidate_feature():
    from radiopipe.report.model_card import events_per_feature_warning

    record = _record(classes=["free", "metastasis"])
    oof = pd.DataFrame({"patient_id": [f"p{i}" for i in range(51)] + ["p0"],
                        "label": ["metastasis"] * 19 + ["free"] * 33})  # p0 twice: one patient
    features = dataclasses.replace(record.features, n_features=679, n_embedding=0, clinical=[])
    record = dataclasses.replace(record, features=features)
    config = {"data": {"grouping_unit": "patients"},
              "model": {"preprocessing": {"selection": "mrmr", "n_features": 10}}}
    warning = events_per_feature_warning(config, record, oof)
    assert warning.startswith(
        "Few events per feature: 19 of the 51 patients are in the smallest class (metastasis), "
        "0.028 events per candidate feature (679 candidates) and 1.9 per feature kept by the "
        "in-fold selection (10). Below 10 events per candidate feature")
    enough = dataclasses.replace(record, features=dataclasses.replace(features, n_features=1))
    assert events_per_feature_warning(config, enough, oof) is None


def test_published_estimates_beside_the_held_out_one_and_why_they_differ():
    from radiopipe.report.layout import table
    from radiopipe.report.published import published_section

    record = _record()
    assert published_section([], record, table) == ""
    entry = {"source": HOSTILE, "roc_auc": 0.984, "design": "bootstrap after selection",
             "note": "same 51 patients"}
    out = published_section([entry], record, table)
    assert out.startswith('<section id="published"><h2>Published estimates</h2>')
    text = text_of(out)
    assert ("| this run: xgboost (primary model) | 0.900 (95% CI 0.800 to 0.950) | held out: "
            "2-fold; every feature") in text
    assert f"| {HOSTILE} | 0.984 | bootstrap after selection | same 51 patients |" in text
    assert f"Above this run's interval: | {HOSTILE}." in text and "&amp;amp;amp;" not in out
    below = published_section([{**entry, "roc_auc": 0.85}], record, table)
    assert "Above this run's interval" not in text_of(below)


def test_methods_name_the_bin_number_by_its_definitions():
    from radiopipe.report.methods import _discretisation

    bins = {"discretisation": "fixed_bin_number"}
    assert "pyradiomics binCount" in _discretisation({**bins, "definitions": "pyradiomics"})
    assert _discretisation({**bins, "definitions": "ibsi"}) == "IBSI fixed bin number"

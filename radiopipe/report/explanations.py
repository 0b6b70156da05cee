"""The report's explanation sections: what drives the predictions overall (SHAP importance,
beeswarm, dependence) and the case pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from radiopipe.explain.case_maps import explained_output
from radiopipe.explain.cnn_saliency import SaliencyMap
from radiopipe.explain.explainers import Explanation
from radiopipe.explain.feature_maps import FeatureMap
from radiopipe.explain.location import CaseLocation
from radiopipe.explain.modality_panels import ModalityPanel
from radiopipe.report.case_pages import REFERENCES, CaseView, case_section
from radiopipe.report.glossary import feature_term
from radiopipe.report.layout import feature_label, figure, save_csv, table
from radiopipe.report.shap_figures import beeswarm_figure, dependence_figure, importance_figure
from radiopipe.report.templating import render

SECTION_ID = "explanations"
CASES_ID = "cases"
CASES_DIR = "report_cases"
IMPORTANCE_ROWS = 15
BEESWARM_ROWS = 10


@dataclass(frozen=True)
class HeldOutExplanations:
    """What the explain stage wrote, as the report shows it.

    Attributes
    ----------
    explanation : Explanation
        SHAP values of the held-out rows.
    folds : numpy.ndarray
        The outer fold that explained each row.
    meta : dict
        The SHAP file's metadata (explained model, model difference).
    cases : list of str
        The case pages, in order.
    maps : dict
        Case id -> its feature maps.
    saliency : dict
        Case id -> its CNN saliency map.
    locations : dict
        Case id -> the whole slice through its ROI and where the ROI lies.
    panels : dict
        Case id -> its modality images (multimodal cases).
    """

    explanation: Explanation
    folds: np.ndarray
    meta: dict
    cases: list[str]
    maps: dict[str, list[FeatureMap]] = field(default_factory=dict)
    saliency: dict[str, SaliencyMap] = field(default_factory=dict)
    locations: dict[str, CaseLocation] = field(default_factory=dict)
    panels: dict[str, list[ModalityPanel]] = field(default_factory=dict)


def explanation_sections(run_dir: Path, held: HeldOutExplanations | None, features: pd.DataFrame,
                         oof: pd.DataFrame, config: dict, *, learned_nothing: bool = False,
                         ) -> tuple[Markup, Markup, float]:
    """The global SHAP section and the case pages.

    Parameters
    ----------
    run_dir : Path
        Where the tables behind the figures are written.
    held : HeldOutExplanations or None
        The explanations (None: not computed).
    features : pandas.DataFrame
        The feature table (index: case id).
    oof : pandas.DataFrame
        Held-out predictions.
    config : dict
        The resolved config.
    learned_nothing : bool
        The model's held-out predictions are constant (RPD007): its SHAP values are all zero, so
        the sections say so instead of drawing empty figures and case pages.

    Returns
    -------
    (str, str, float)
        HTML of the global section, of the case pages, and the largest difference between the
        explained fold models' and the validated probabilities (NaN without explanations).
    """
    computed = config["explain"]["enabled"] and held is not None
    if not computed or learned_nothing:
        notes = [render("explanation_note.html.j2", section_id=key, title=title,
                        learned_nothing=computed)
                 for key, title in ((SECTION_ID, "What drives the predictions"),
                                    (CASES_ID, "Case pages"))]
        return notes[0], notes[1], np.nan
    explanation, folds, meta, cases = held.explanation, held.folds, held.meta, held.cases
    maps, saliency = held.maps, held.saliency
    global_html = _global_section(run_dir, explanation, features, meta, config)
    normalized = bool(config["features"].get("normalize", False))
    pages = [
        case_section(_held_out_view(explanation, folds, case_id, features, oof, maps, saliency,
                                    held.locations.get(case_id), normalized,
                                    held.panels),
                     run_dir / CASES_DIR, f"{CASES_DIR}/")
        for case_id in cases
        if case_id in explanation.case_ids
    ]
    cases_html = render("case_pages.html.j2", section_id=CASES_ID, cases=cases, pages=pages)
    return global_html, cases_html, float(meta["model_difference"])


def _global_section(run_dir: Path, explanation: Explanation, features: pd.DataFrame, meta: dict,
                    config: dict) -> Markup:
    labels = [feature_label(f) for f in explanation.features]
    known = ~np.isnan(explanation.values)  # NaN: a class some fold's model never saw
    magnitude = np.where(known, np.abs(explanation.values), 0.0).sum(axis=0) / np.maximum(
        known.sum(axis=0), 1
    )  # mean |SHAP| per (feature, class)
    importance = pd.DataFrame(magnitude, index=list(explanation.features),
                              columns=list(explanation.outputs))
    total = importance.sum(axis=1).sort_values(ascending=False, kind="stable")
    importance = importance.loc[total.index]
    save_csv(run_dir / "report_shap_importance.csv",
             importance.assign(total=total).rename_axis("feature"))
    shown = importance.head(IMPORTANCE_ROWS).copy()
    shown.index = [feature_label(f) for f in shown.index]

    top = list(total.index[:BEESWARM_ROWS])
    columns = [explanation.features.index(f) for f in top]
    values = np.column_stack([_feature_values(features, explanation.case_ids, f) for f in top])
    long = _long_table(explanation, top, values)
    save_csv(run_dir / "report_shap_beeswarm.csv", long, index=False)
    space = explanation.output_space
    outputs = list(explanation.outputs)
    n_dependence = config["explain"]["dependence_features"]
    dependence = long[long["feature"].isin(top[:n_dependence])]
    save_csv(run_dir / "report_shap_dependence.csv", dependence, index=False)
    method = explanation.method.split()[0]
    figures = [
        figure(importance_figure(shown), "global SHAP importance",
               f"Mean absolute SHAP value of the {len(shown)} most important features.",
               "report_shap_importance.csv"),
        figure(beeswarm_figure(explanation.values[:, columns, :], values,
                               [labels[j] for j in columns], outputs, space),
               "SHAP beeswarm", "Each dot is a held-out case; right of zero pushes towards the "
               "class, colour shows the feature's value.", "report_shap_beeswarm.csv"),
    ]
    for feature in top[:n_dependence]:
        j = explanation.features.index(feature)
        figures.append(figure(
            dependence_figure(values[:, top.index(feature)], explanation.values[:, j, :],
                              feature_label(feature), outputs, space),
            f"SHAP dependence of {feature}",
            Markup("How {} moves the output across its range.").format(feature_term(feature)),
            "report_shap_dependence.csv",
        ))
    return render(
        "explanations.html.j2", section_id=SECTION_ID, model=meta["model"],
        n_cases=len(explanation.case_ids), reference=REFERENCES[method], space=space,
        method=explanation.method, figures=figures,
        table=table(["feature", "mean |SHAP|"],
                    [[feature_term(f), float(total[f])] for f in total.index[:IMPORTANCE_ROWS]]),
    )


def _held_out_view(explanation: Explanation, folds, case_id: str, features: pd.DataFrame,
                   oof: pd.DataFrame, maps: dict, saliency: dict, location: CaseLocation | None,
                   normalized: bool, panels: dict) -> CaseView:
    row = explanation.case_ids.index(case_id)
    prediction = oof.set_index("case_id").loc[case_id]
    probabilities = {c.removeprefix("proba__"): float(prediction[c])
                     for c in oof.columns if c.startswith("proba__")}
    predicted = max(probabilities, key=probabilities.get)
    k = explained_output(explanation, predicted)
    values = features.loc[case_id] if case_id in features.index else pd.Series(dtype=float)
    return CaseView(
        case_id=case_id,
        label=str(prediction["label"]),
        probabilities=probabilities,
        source=f"Held-out prediction of outer fold {int(folds[row])}: the model was trained "
        "without this case (and without its patient's other cases).",
        output=explanation.outputs[k],
        output_space=explanation.output_space,
        method=explanation.method,
        base_value=float(explanation.base_values[row, k]),
        shap=pd.Series(explanation.values[row, :, k], index=list(explanation.features)),
        values=values,
        cohort=features,
        maps=maps.get(case_id, []),
        saliency=saliency.get(case_id),
        location=location,
        normalized=normalized,
        modality_images=panels.get(case_id, []),
    )


def _feature_values(features: pd.DataFrame, case_ids, feature: str) -> np.ndarray:
    if feature not in features.columns:
        return np.full(len(case_ids), np.nan)
    return features[feature].reindex(list(case_ids)).to_numpy(dtype=np.float64)


def _long_table(explanation: Explanation, top: list[str], values: np.ndarray) -> pd.DataFrame:
    """(case, feature, class) rows: the feature's value and its SHAP value."""
    frames = []
    for t, feature in enumerate(top):
        j = explanation.features.index(feature)
        for k, output in enumerate(explanation.outputs):
            frames.append(pd.DataFrame({
                "case_id": explanation.case_ids, "feature": feature, "class": output,
                "value": values[:, t], "shap": explanation.values[:, j, k],
            }))
    return pd.concat(frames, ignore_index=True)

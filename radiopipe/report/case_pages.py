"""One page per case: the prediction, why the model made it (waterfall), the local values of the
features that drove it and where in the ROI they push it (feature and contribution maps; for CNN
columns, the saliency map).

The same page serves the report (a held-out case, explained by the fold model that never saw
it) and ``radiopipe explain`` (a new case, explained by the bundle's model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe.cnn.columns import PREFIX as CNN_PREFIX
from radiopipe.explain.cnn_saliency import SaliencyMap
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.map_captions import map_caption
from radiopipe.explain.modality_panels import ModalityPanel
from radiopipe.explain.store import component_weights_frame, maps_frame, saliency_frame
from radiopipe.report.layout import feature_label, figure, save_csv, table
from radiopipe.report.shap_figures import (
    cnn_saliency_figure,
    feature_map_figure,
    modality_figure,
    waterfall_figure,
)

WATERFALL_BARS = 10
SALIENCY_COMPONENTS = 5  # components listed under a saliency map, largest |SHAP| first
REFERENCES = {
    "tree": "the average training case as the trees saw it (tree-path-dependent SHAP)",
    "linear": "the typical training case (the medians the model's imputer learned)",
    "permutation": "the typical training case (the medians the model's imputer learned)",
}


@dataclass(frozen=True)
class CaseView:
    """Everything a case page shows.

    Attributes
    ----------
    case_id : str
    label : str or None
        The true class, when known.
    probabilities : dict of str to float
        Predicted probability per class.
    source : str
        Which model predicted and explained the case (one sentence).
    output : str
        The class whose output the waterfall explains.
    output_space : str
    method : str
        The explainer.
    base_value : float
    shap : pandas.Series
        SHAP value per model input column.
    values : pandas.Series
        The case's value per model input column.
    cohort : pandas.DataFrame or None
        The training cohort's feature values, for percentiles.
    maps : list of FeatureMap
    saliency : SaliencyMap or None
        The CNN saliency map, for a model with CNN columns.
    modality_images : list of ModalityPanel
        A multimodal case's images, one panel each.
    """

    case_id: str
    label: str | None
    probabilities: dict[str, float]
    source: str
    output: str
    output_space: str
    method: str
    base_value: float
    shap: pd.Series
    values: pd.Series
    cohort: pd.DataFrame | None
    maps: list[FeatureMap]
    saliency: SaliencyMap | None = None
    modality_images: list[ModalityPanel] = field(default_factory=list)

    @property
    def predicted(self) -> str:
        """The most probable class."""
        return max(self.probabilities, key=self.probabilities.get)


def case_section(view: CaseView, tables_dir: Path, table_prefix: str = "") -> str:
    """The HTML of one case page; its tables are written into ``tables_dir``.

    Parameters
    ----------
    view : CaseView
    tables_dir : Path
        Folder for the page's CSV tables (``<case_id>_waterfall.csv``, ``<case_id>_maps.csv``,
        ``<case_id>_saliency.csv`` and ``<case_id>_saliency_components.csv``).
    table_prefix : str
        How captions name that folder relative to the page (e.g. ``'report_cases/'``).
    """
    contributions = _contributions(view)
    waterfall_file = f"{view.case_id}_waterfall.csv"
    save_csv(tables_dir / waterfall_file, contributions, index=False)
    shown = _waterfall_rows(contributions)
    verdict = ""
    if view.label is not None:
        verdict = " (correct)" if view.label == view.predicted else " (misclassified)"
    parts = [
        f'<section class="case" id="case-{escape(view.case_id)}">',
        f"<h3>Case {escape(view.case_id)}</h3>",
        f"<p>{escape(view.source)}</p>",
        table(
            ["", "this case"],
            [
                ["true class", view.label if view.label is not None else "unknown"],
                ["predicted class", f"{view.predicted}{verdict}"],
                *[[f"probability of {c}", p] for c, p in view.probabilities.items()],
            ],
        ),
        "<h4>Why the model predicted this</h4>",
        f"<p>Each bar is one feature's contribution to the model's output for "
        f"<b>{escape(view.output)}</b> ({escape(view.output_space)}), from the reference "
        f"({escape(REFERENCES[view.method.split()[0]])}) to this case. Red bars push towards "
        f"{escape(view.output)}, blue bars away from it.{_scale_note(view)} Explainer: "
        f"{escape(view.method)}.</p>",
        figure(
            waterfall_figure(shown, view.base_value, view.output, view.output_space),
            f"waterfall of case {view.case_id}",
            "Contributions, largest first.",
            table_prefix + waterfall_file,
        ),
        _top_table(contributions, with_cohort=view.cohort is not None),
        *(figure(modality_figure(p), f"{p.modality} image of case {view.case_id}",
                 f"{p.modality}: slice {p.slice_index}, the ROI outlined")
          for p in view.modality_images),
        _maps_part(view, tables_dir, table_prefix),
        _saliency_part(view, tables_dir, table_prefix),
        "</section>",
    ]
    return "\n".join(parts)


def _contributions(view: CaseView) -> pd.DataFrame:
    """Every input with its value, cohort percentile and SHAP value, largest |SHAP| first."""
    frame = pd.DataFrame(
        {"feature": view.shap.index, "shap": view.shap.to_numpy(dtype=np.float64)}
    )
    frame["value"] = [view.values.get(f, np.nan) for f in frame["feature"]]
    frame["percentile"] = [_cohort_percentile(view.cohort, f, v)
                           for f, v in zip(frame["feature"], frame["value"])]
    frame["label"] = [feature_label(f) for f in frame["feature"]]
    order = np.argsort(-np.abs(np.nan_to_num(frame["shap"].to_numpy())), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _waterfall_rows(contributions: pd.DataFrame) -> pd.DataFrame:
    """The largest contributions, the rest summed in one bar."""
    top = contributions.head(WATERFALL_BARS)
    rows = pd.DataFrame(
        {"label": [f"{r.label} = {_number(r.value)}" for r in top.itertuples()],
         "shap": top["shap"].to_numpy()}
    )
    rest = contributions.iloc[WATERFALL_BARS:]
    if len(rest):
        other = pd.DataFrame({"label": [f"{len(rest)} other features"],
                              "shap": [float(np.nansum(rest["shap"]))]})
        rows = pd.concat([rows, other], ignore_index=True)
    return rows


def _top_table(contributions: pd.DataFrame, *, with_cohort: bool) -> str:
    """The largest contributions with the case's values (and their cohort percentiles)."""
    top = contributions.head(WATERFALL_BARS)
    if not with_cohort:
        return table(["feature", "this case", "contribution"],
                     [[r.label, _number(r.value), float(r.shap)] for r in top.itertuples()])
    return table(
        ["feature", "this case", "cohort percentile", "contribution"],
        [[r.label, _number(r.value), _percentile(r.percentile), float(r.shap)]
         for r in top.itertuples()],
    )


def _maps_part(view: CaseView, tables_dir: Path, table_prefix: str) -> str:
    if not view.maps:
        return ("<h4>Where in the image</h4><p class=\"muted\">No feature map: the case's top "
                "features are shape, clinical or CNN features, which describe the whole region, "
                "its region is smaller than the map's window, or maps are turned off "
                "(explain.feature_maps.enabled).</p>")
    maps_file = f"{view.case_id}_maps.csv"
    save_csv(tables_dir / maps_file, maps_frame(view.case_id, view.maps), index=False)
    figures = [
        figure(
            feature_map_figure(item, _map_label(item), item.whole_roi),
            f"{'contribution' if item.kind == CONTRIBUTION else 'feature'} map of "
            f"{item.feature} for case {view.case_id}",
            map_caption(item, feature_label),
            table_prefix + maps_file,
        )
        for item in view.maps
    ]
    return (
        "<h4>Where in the image</h4><p>Local values of the case's most influential image "
        "features, each computed in a small window around each voxel, then where in the region "
        "those values push the prediction (contribution map). A local value says what the "
        "texture is there, not that it drove the prediction.</p>"
        + "\n".join(figures)
    )


def _map_label(item: FeatureMap) -> str:
    if item.kind == CONTRIBUTION:
        return f"contribution to log-odds of {item.output}"
    return f"local {feature_label(item.feature)}" + (" per voxel" if item.exponent else "")


def _saliency_part(view: CaseView, tables_dir: Path, table_prefix: str) -> str:
    """The CNN saliency map and its largest component weights (models with CNN columns only)."""
    if not any(str(f).split("__")[0] == CNN_PREFIX for f in view.shap.index):
        return ""
    item = view.saliency
    if item is None:
        return ("<h4>Where the CNN looked</h4><p class=\"muted\">No CNN saliency map: the "
                "backbone gives no gradients (ONNX), the case's image could not be read, the "
                "model's pipelines reduce the embedding differently, or maps are turned off "
                "(explain.feature_maps.enabled).</p>")
    pixels_file = f"{view.case_id}_saliency.csv"
    weights_file = f"{view.case_id}_saliency_components.csv"
    save_csv(tables_dir / pixels_file, saliency_frame(view.case_id, item), index=False)
    weights = component_weights_frame(item)
    save_csv(tables_dir / weights_file, weights, index=False)
    top = weights.iloc[np.argsort(-np.abs(weights["shap_weight"].to_numpy()), kind="stable")]
    return (
        "<h4>Where the CNN looked</h4><p>The CNN columns enter the model as principal components "
        "of the backbone's embedding. Weighting each component by its SHAP value for "
        f"<b>{escape(view.output)}</b> gives the CNN part of the prediction as one score "
        f"({item.score:.4g}); the map is its gradient with respect to each input pixel.</p>"
        + figure(
            cnn_saliency_figure(item),
            f"CNN saliency of case {view.case_id}",
            f"The input the backbone saw ({item.plane}), ROI outlined, and the saliency over it: "
            f"red pixels push towards {view.output}, blue pixels away. Component weights: "
            f"{table_prefix}{weights_file}.",
            table_prefix + pixels_file,
        )
        + table(["principal component", "SHAP weight"],
                [[r.component, float(r.shap_weight)]
                 for r in top.head(SALIENCY_COMPONENTS).itertuples()])
    )


def _scale_note(view: CaseView) -> str:
    if view.output_space == "probability":
        return ""
    return (f" The output is a score, not a probability: the higher it is, the more likely "
            f"{escape(view.output)}; the probabilities above come from these scores.")


def _cohort_percentile(cohort: pd.DataFrame | None, feature: str, value) -> float:
    if cohort is None or feature not in cohort.columns or not isinstance(value, (int, float)):
        return np.nan
    reference = cohort[feature].to_numpy(dtype=np.float64)
    reference = reference[~np.isnan(reference)]
    if not len(reference) or np.isnan(value):
        return np.nan
    return 100.0 * float(np.mean(reference <= value))


def _number(value) -> str:
    if isinstance(value, (int, float, np.floating)):
        return "n/a" if np.isnan(value) else f"{value:.4g}"
    return str(value)


def _percentile(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.0f}%"

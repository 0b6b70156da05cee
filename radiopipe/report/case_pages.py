"""One page per case: the prediction, where the region lies in the image (the whole slice, its
position in mm, orientation and a scale bar), why the model made it (waterfall and table, in
probability), the local values of the features that drove it and where in the ROI they push it
(feature and contribution maps; for CNN
columns, the saliency map).

The same page serves the report (a held-out case, explained by the fold model that never saw
it) and ``radiopipe explain`` (a new case, explained by the bundle's model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup
from scipy.special import expit

from radiopipe.cnn.columns import PREFIX as CNN_PREFIX
from radiopipe.explain.cnn_saliency import SaliencyMap
from radiopipe.explain.explainers import LOG_ODDS, PROBABILITY
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.location import CaseLocation
from radiopipe.explain.map_captions import map_caption
from radiopipe.explain.modality_panels import ModalityPanel
from radiopipe.explain.store import component_weights_frame, maps_frame, saliency_frame
from radiopipe.report.glossary import feature_term, feature_unit
from radiopipe.report.health import prediction_verdict
from radiopipe.report.layout import feature_label, figure, save_csv, table
from radiopipe.report.location_figure import location_figure, location_frame
from radiopipe.report.shap_figures import (
    cnn_saliency_figure,
    feature_map_figure,
    modality_figure,
    waterfall_figure,
)
from radiopipe.report.templating import render

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
    location : CaseLocation or None
        The whole slice through the ROI, its position, orientation and intensity unit.
    normalized : bool
        Whether the features were computed on normalised intensities (no intensity unit).
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
    location: CaseLocation | None = None
    normalized: bool = False
    modality_images: list[ModalityPanel] = field(default_factory=list)

    @property
    def predicted(self) -> str:
        """The most probable class."""
        return max(self.probabilities, key=self.probabilities.get)


def case_section(view: CaseView, tables_dir: Path, table_prefix: str = "") -> Markup:
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
    verdict = prediction_verdict(view.label, view.probabilities)
    return render(
        "case.html.j2", case_id=view.case_id, source=view.source, method=view.method,
        output=view.output,
        header=table(
            ["", "this case"],
            [
                ["true class", view.label if view.label is not None else "unknown"],
                ["predicted class", f"{view.predicted}{verdict}"],
                *[[f"probability of {c}", p] for c, p in view.probabilities.items()],
                *_location_rows(view.location),
            ],
        ),
        location=_location_part(view, tables_dir, table_prefix),
        contribution_text=_contribution_text(view),
        waterfall=figure(
            waterfall_figure(shown, view.base_value, view.output, view.output_space,
                             probability_axis=view.output_space == LOG_ODDS),
            f"waterfall of case {view.case_id}",
            "Contributions, largest first.",
            table_prefix + waterfall_file,
        ),
        top_table=_top_table(contributions, view),
        modality_images=[figure(modality_figure(p), f"{p.modality} image of case {view.case_id}",
                                f"{p.modality}: slice {p.slice_index}, the ROI outlined")
                         for p in view.modality_images],
        maps=_map_figures(view, tables_dir, table_prefix),
        with_cnn=any(str(f).split("__")[0] == CNN_PREFIX for f in view.shap.index),
        saliency=_saliency_part(view, tables_dir, table_prefix),
    )


def _location_rows(location: CaseLocation | None) -> list[list]:
    """The header rows saying where the ROI lies: slice, centre in mm, modality."""
    if location is None:
        return [["position", "unknown (the image could not be read again for this page)"]]
    unit = location.length_unit
    axes = ("x", "y", "z")
    centre = ", ".join(f"{a} = {c:.1f}" for a, c in zip(axes, location.centre))
    where = (f"slice index {location.slice_index} of {location.n_slices} (counted from 0 along "
             "the image's stored slice axis; the slice with the ROI's largest cross-section)"
             if location.n_slices > 1 else "2D image")
    frame = (" (patient coordinates, LPS: x towards the patient's left, y posterior, "
             "z superior)" if location.edges[0] else " (image coordinates)")
    return [
        ["shown slice", where],
        [f"ROI centre ({unit})", f"{centre}{frame}"],
        ["modality", (location.modality or "unknown")
         + (f"; intensities in {location.intensity_unit}" if location.intensity_unit
            else "; intensity unit unknown")],
    ]


def _location_part(view: CaseView, tables_dir: Path, table_prefix: str) -> Markup | None:
    """The whole slice with the ROI outlined and the zoomed view with its scale bar; its table
    (``<case_id>_location.csv``) holds the position, zoomed box and scale bar."""
    location = view.location
    if location is None:
        return None
    location_file = f"{view.case_id}_location.csv"
    save_csv(tables_dir / location_file, location_frame(view.case_id, location), index=False)
    orientation = (
        "Letters on the edges give the patient directions (R/L right/left, A/P anterior/"
        "posterior, S/I superior/inferior) from the image's direction cosines."
        if location.edges[0] else "The file records no patient orientation (2D image).")
    return figure(
        location_figure(location),
        f"location of the ROI of case {view.case_id}",
        f"Left: the whole slice{_of_image(location)} as stored, the ROI outlined in yellow "
        f"and the zoomed area "
        f"boxed. Right: the zoomed view with a scale bar in {location.length_unit}. "
        + orientation,
        table_prefix + location_file,
    )


def _of_image(location: CaseLocation) -> str:
    """' of the CT image', ' of the pet (PT) image' (a multimodal case's first image): which
    image the location figure shows, when its modality is known."""
    return f" of the {location.modality} image" if location.modality else ""


def _contribution_text(view: CaseView) -> Markup:
    """How to read the contributions: which class, which scale, the probabilities at both ends."""
    final = view.base_value + float(np.nansum(view.shap.to_numpy(dtype=np.float64)))
    probability = view.probabilities.get(view.output, np.nan)
    lead = Markup(
        "Each bar is one feature's contribution to the model's output for <b>{output}</b>, from "
        "the reference ({reference}) to this case. Red bars push towards {output}, blue bars "
        "away from it."
    ).format(output=view.output, reference=REFERENCES[view.method.split()[0]])
    if view.output_space == PROBABILITY:
        text = (f" Contributions are in probability of {view.output}: from "
                f"{_pct(view.base_value)} for the reference to {_pct(final)} for this case.")
    elif view.output_space == LOG_ODDS:
        text = (f" Contributions are in log-odds of {view.output} (log of p / (1 - p)); the "
                f"top axis of the chart reads them as probability of {view.output}: "
                f"{_pct(expit(view.base_value))} for the reference, {_pct(expit(final))} for "
                f"this case. The table gives, per feature, the probability of {view.output} "
                "this case would have without that feature's contribution.")
    else:
        text = (f" Contributions are in the model's raw score for {view.output} (before the "
                f"softmax over all classes, which makes the probabilities); the probability of "
                f"{view.output} for this case is {_pct(probability)}.")
    return lead + text


def _pct(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{100 * value:.1f}%"


def _contributions(view: CaseView) -> pd.DataFrame:
    """Every input with its value, cohort percentile and SHAP value, largest |SHAP| first."""
    frame = pd.DataFrame(
        {"feature": view.shap.index, "shap": view.shap.to_numpy(dtype=np.float64)}
    )
    frame["value"] = [view.values.get(f, np.nan) for f in frame["feature"]]
    frame["percentile"] = [_cohort_percentile(view.cohort, f, v)
                           for f, v in zip(frame["feature"], frame["value"])]
    frame["label"] = [feature_label(f) for f in frame["feature"]]
    location = view.location
    frame["unit"] = [
        feature_unit(f, intensity_unit=location.intensity_unit if location else None,
                     length_unit=location.length_unit if location else "mm",
                     normalized=view.normalized)
        for f in frame["feature"]
    ]
    final = view.base_value + float(np.nansum(frame["shap"]))
    if view.output_space == LOG_ODDS:
        frame["probability_without"] = expit(final - frame["shap"].to_numpy())
    elif view.output_space == PROBABILITY:
        frame["probability_without"] = final - frame["shap"].to_numpy()
    order = np.argsort(-np.abs(np.nan_to_num(frame["shap"].to_numpy())), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def _waterfall_rows(contributions: pd.DataFrame) -> pd.DataFrame:
    """The largest contributions, the rest summed in one bar."""
    top = contributions.head(WATERFALL_BARS)
    rows = pd.DataFrame(
        {"label": [f"{r.label} = {_number(r.value, r.unit)}" for r in top.itertuples()],
         "shap": top["shap"].to_numpy()}
    )
    rest = contributions.iloc[WATERFALL_BARS:]
    if len(rest):
        other = pd.DataFrame({"label": [f"{len(rest)} other features"],
                              "shap": [float(np.nansum(rest["shap"]))]})
        rows = pd.concat([rows, other], ignore_index=True)
    return rows


def _top_table(contributions: pd.DataFrame, view: CaseView) -> Markup:
    """The largest contributions with the case's values (units, cohort percentiles) and, where
    the output has a probability, the probability of the class without each contribution."""
    top = contributions.head(WATERFALL_BARS)
    space = {LOG_ODDS: "log-odds", PROBABILITY: "probability"}.get(view.output_space, "score")
    header = ["feature", "this case"]
    with_cohort = view.cohort is not None
    if with_cohort:
        header.append("cohort percentile")
    header.append(f"contribution ({space} of {view.output})")
    with_probability = "probability_without" in top.columns
    if with_probability:
        header.append(f"probability of {view.output} without it")
    rows = []
    for r in top.itertuples():
        row = [feature_term(r.feature), _number(r.value, r.unit)]
        if with_cohort:
            row.append(_percentile(r.percentile))
        row.append(float(r.shap))
        if with_probability:
            row.append(_pct(r.probability_without))
        rows.append(row)
    return table(header, rows)


def _map_figures(view: CaseView, tables_dir: Path, table_prefix: str) -> list[Markup]:
    """The feature and contribution maps (none: no map was made)."""
    if not view.maps:
        return []
    maps_file = f"{view.case_id}_maps.csv"
    save_csv(tables_dir / maps_file, maps_frame(view.case_id, view.maps), index=False)
    return [
        figure(
            feature_map_figure(item, _map_label(item), item.whole_roi),
            f"{'contribution' if item.kind == CONTRIBUTION else 'feature'} map of "
            f"{item.feature} for case {view.case_id}",
            map_caption(item, feature_label),
            table_prefix + maps_file,
        )
        for item in view.maps
    ]


def _map_label(item: FeatureMap) -> str:
    if item.kind == CONTRIBUTION:
        return f"contribution to log-odds of {item.output}"
    return f"local {feature_label(item.feature)}" + (" per voxel" if item.exponent else "")


def _saliency_part(view: CaseView, tables_dir: Path, table_prefix: str) -> dict | None:
    """The CNN saliency map (its score, figure and largest component weights); None without
    one."""
    item = view.saliency
    if item is None:
        return None
    pixels_file = f"{view.case_id}_saliency.csv"
    weights_file = f"{view.case_id}_saliency_components.csv"
    save_csv(tables_dir / pixels_file, saliency_frame(view.case_id, item), index=False)
    weights = component_weights_frame(item)
    save_csv(tables_dir / weights_file, weights, index=False)
    top = weights.iloc[np.argsort(-np.abs(weights["shap_weight"].to_numpy()), kind="stable")]
    return {
        "score": f"{item.score:.4g}",
        "figure": figure(
            cnn_saliency_figure(item),
            f"CNN saliency of case {view.case_id}",
            f"The input the backbone saw ({item.plane}), ROI outlined, and the saliency over it: "
            f"red pixels push towards {view.output}, blue pixels away. Component weights: "
            f"{table_prefix}{weights_file}.",
            table_prefix + pixels_file,
        ),
        "table": table(["principal component", "SHAP weight"],
                       [[r.component, float(r.shap_weight)]
                        for r in top.head(SALIENCY_COMPONENTS).itertuples()]),
    }


def _cohort_percentile(cohort: pd.DataFrame | None, feature: str, value) -> float:
    if cohort is None or feature not in cohort.columns or not isinstance(value, (int, float)):
        return np.nan
    reference = cohort[feature].to_numpy(dtype=np.float64)
    reference = reference[~np.isnan(reference)]
    if not len(reference) or np.isnan(value):
        return np.nan
    return 100.0 * float(np.mean(reference <= value))


def _number(value, unit: str = "") -> str:
    """A value with 4 significant digits (large ones with thousands separators, no exponent) and
    its unit, if any."""
    if isinstance(value, (int, float, np.floating)):
        if np.isnan(value):
            return "n/a"
        text = f"{value:.4g}" if abs(value) < 1e4 else f"{float(f'{value:.4g}'):,.0f}"
        return f"{text} {unit}" if unit else text
    return str(value)


def _percentile(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.0f}%"

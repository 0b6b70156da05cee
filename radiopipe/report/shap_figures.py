"""Figures of the explanations: importance, beeswarm, dependence, waterfall, feature maps and
CNN saliency maps.

Drawn with matplotlib directly (shap's own plots change global matplotlib state); each returns
a PNG data URI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from scipy.special import expit, logit
from scipy.stats import rankdata

from radiopipe.explain.cnn_saliency import SaliencyMap
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.modality_panels import ModalityPanel
from radiopipe.report.figures import to_data_uri

_POSITIVE, _NEGATIVE = "#c0392b", "#2471a3"


def importance_figure(importance: pd.DataFrame) -> str:
    """Mean absolute SHAP per feature (rows, most important on top), stacked by class (columns)."""
    fig = Figure(figsize=(7.0, 0.8 + 0.32 * len(importance)))
    ax = fig.subplots()
    positions = np.arange(len(importance))[::-1]
    left = np.zeros(len(importance))
    for name in importance.columns:
        ax.barh(positions, importance[name], left=left, label=str(name))
        left += importance[name].to_numpy()
    ax.set_yticks(positions, importance.index, fontsize=8)
    ax.set_xlabel("mean |SHAP value| over held-out cases")
    ax.set_title("Global feature importance")
    if len(importance.columns) > 1:
        ax.legend(fontsize=8, title="class", title_fontsize=8, loc="lower right")
    return to_data_uri(fig)


def beeswarm_figure(shap_values: np.ndarray, feature_values: np.ndarray, labels: list[str],
                    outputs: list[str], space: str) -> str:
    """One panel per explained class: each dot a held-out case, coloured by the feature's rank.

    Parameters
    ----------
    shap_values : array of shape (n, t, m)
        SHAP values of the ``t`` shown features for ``m`` outputs.
    feature_values : array of shape (n, t)
        The features' values (colour: rank within the cohort, low blue to high red).
    labels : list of str
        Feature labels, most important first.
    outputs : list of str
    space : str
        The explained output space (axis label).
    """
    n, t, m = shap_values.shape
    fig = Figure(figsize=(3.0 * m + 2.6, 0.9 + 0.38 * t))
    axes = fig.subplots(1, m, sharey=True, squeeze=False)
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, size=(n, t))
    colour = np.column_stack([_rank01(feature_values[:, j]) for j in range(t)])
    positions = np.arange(t)[::-1]
    for k, ax in enumerate(axes[0]):
        for j in range(t):
            ax.scatter(shap_values[:, j, k], positions[j] + jitter[:, j], c=colour[:, j],
                       cmap="coolwarm", vmin=0, vmax=1, s=7, linewidths=0)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_title(f"class {outputs[k]}", fontsize=9)
        ax.set_xlabel(f"SHAP value ({space})", fontsize=8)
    axes[0][0].set_yticks(positions, labels, fontsize=8)
    mappable = ScalarMappable(cmap="coolwarm", norm=Normalize(0, 1))
    bar = fig.colorbar(mappable, ax=axes[0].tolist(), fraction=0.03, pad=0.02, ticks=[0, 1])
    bar.ax.set_yticklabels(["low", "high"], fontsize=8)
    bar.set_label("feature value", fontsize=8)
    fig.suptitle("SHAP values of the top features (beeswarm)", fontsize=10)
    return to_data_uri(fig)


def dependence_figure(values: np.ndarray, shap_values: np.ndarray, label: str,
                      outputs: list[str], space: str) -> str:
    """A feature's SHAP value against its value: one panel per explained class's score.

    Parameters
    ----------
    values : array of shape (n,)
        The feature's value per held-out case (x axis).
    shap_values : array of shape (n, m)
        Its SHAP value for each of the ``m`` explained outputs.
    label : str
        The feature's label (title and x axis).
    outputs : list of str
        The class whose score each output is (two classes: the second class only).
    space : str
        The explained output space, the unit of the y axis (``'log-odds'``, ...).
    """
    fig = Figure(figsize=(3.4 * len(outputs) + 0.8, 3.6))
    axes = fig.subplots(1, len(outputs), sharey=True, squeeze=False)[0]
    for k, (ax, name) in enumerate(zip(axes, outputs)):
        ax.scatter(values, shap_values[:, k], s=8, alpha=0.7, linewidths=0)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xlabel("feature value", fontsize=8)
        ax.set_title(f"score of class '{name}'", fontsize=9)
    axes[0].set_ylabel(f"SHAP value ({space} of the class)", fontsize=8)
    fig.suptitle(f"SHAP dependence: {label}", fontsize=10)
    return to_data_uri(fig)


def waterfall_figure(contributions: pd.DataFrame, base: float, output: str, space: str, *,
                     probability_axis: bool = False) -> str:
    """From the reference output to the case's output, one bar per contribution.

    Parameters
    ----------
    contributions : pandas.DataFrame
        ``label`` (with the case's value) and ``shap``, in drawing order (largest first; the
        last row may gather the remaining features).
    base : float
        The output of the reference (the average or typical case).
    output : str
        The explained class.
    space : str
        Output space (axis label).
    probability_axis : bool
        For log-odds: a second axis on top reading the output as a probability, and the title
        in probabilities.
    """
    fig = Figure(figsize=(7.2, 1.2 + 0.36 * len(contributions)))
    ax = fig.subplots()
    positions = np.arange(len(contributions))[::-1]
    start = base + np.concatenate([[0.0], np.cumsum(contributions["shap"].to_numpy())[:-1]])
    for y, left, width in zip(positions, start, contributions["shap"]):
        colour = _POSITIVE if width >= 0 else _NEGATIVE
        ax.barh(y, width, left=left, color=colour, height=0.7)
        ax.text(left + width, y, f" {width:+.3g}", va="center",
                ha="left" if width >= 0 else "right", fontsize=7)
    final = base + contributions["shap"].sum()
    ax.axvline(base, color="grey", linestyle=":", linewidth=1)
    ax.axvline(final, color="black", linewidth=1)
    ax.set_yticks(positions, contributions["label"], fontsize=8)
    ax.set_xlabel(f"model output for '{output}' ({space})", fontsize=8)
    if probability_axis:
        top = ax.secondary_xaxis("top", functions=(expit, logit))
        top.set_xlabel(f"probability of '{output}'", fontsize=8)
        top.tick_params(labelsize=7)
        ax.set_title(f"probability of '{output}': reference {expit(base):.1%}  →  this case "
                     f"{expit(final):.1%}", fontsize=9)
    else:
        ax.set_title(f"reference {base:.3g}  →  this case {final:.3g}", fontsize=9)
    ends = np.concatenate([start, start + contributions["shap"].to_numpy()])
    span = max(float(np.ptp(ends)), 1e-9)
    ax.set_xlim(ends.min() - 0.18 * span, ends.max() + 0.18 * span)  # room for the values
    return to_data_uri(fig)


def feature_map_figure(item: FeatureMap, label: str, case_value: float) -> str:
    """The image slice in grey, the ROI outlined, the map over the ROI in colour (a contribution
    map on a diverging scale centred at 0)."""
    aspect = item.spacing[0] / item.spacing[1]
    fig = Figure(figsize=(7.6, 3.6))
    axes = fig.subplots(1, 2)
    for ax in axes:
        ax.imshow(item.image, cmap="gray", aspect=aspect, interpolation="nearest")
        ax.contour(item.roi.astype(float), levels=[0.5], colors="yellow", linewidths=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_title(f"slice {item.slice_index}, ROI outlined", fontsize=9)
    shown = np.ma.masked_invalid(item.values)
    style = {"cmap": "magma"}
    if item.kind == CONTRIBUTION:  # signed: red towards the class, blue away, 0 white
        reach = max(float(np.nanmax(np.abs(item.values))), 1e-9)
        style = {"cmap": "RdBu_r", "vmin": -reach, "vmax": reach}
    overlay = axes[1].imshow(shown, alpha=0.75, aspect=aspect, interpolation="nearest", **style)
    bar = fig.colorbar(overlay, ax=axes[1], fraction=0.046, pad=0.04)
    bar.ax.tick_params(labelsize=7)
    axes[1].set_title(f"{label}\nwhole ROI {case_value:.4g}", fontsize=8)
    return to_data_uri(fig)


def modality_figure(panel: ModalityPanel) -> str:
    """One modality's slice in grey with the ROI outlined."""
    fig = Figure(figsize=(3.6, 3.6))
    ax = fig.subplots()
    ax.imshow(panel.image, cmap="gray", aspect=panel.spacing[0] / panel.spacing[1],
              interpolation="nearest")
    if panel.roi.any():
        ax.contour(panel.roi.astype(float), levels=[0.5], colors="yellow", linewidths=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(panel.modality, fontsize=9)
    return to_data_uri(fig)


def cnn_saliency_figure(item: SaliencyMap) -> str:
    """The CNN input with the ROI outlined, and the saliency over it (red: towards the class)."""
    from radiopipe.cnn.saliency import overlay_figure

    return to_data_uri(overlay_figure(item.image, item.roi, item.values, item.plane))


def _rank01(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]; 0.5 for missing values and for a constant column."""
    known = ~np.isnan(values)
    out = np.full(len(values), 0.5)
    if known.sum() > 1 and np.ptp(values[known]) > 0:
        out[known] = (rankdata(values[known]) - 1) / (known.sum() - 1)
    return out

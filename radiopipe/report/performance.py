"""The report's performance part: the comparison of every model with 95% intervals, the primary
model's metrics, and its figures (ROC, precision-recall, calibration, decision curve, confusion).

Every figure's table is saved beside the report as CSV, and each figure's caption names it.
Per-class ROC-AUCs and the calibration curve carry 95% bands from the bootstrap over patients
that gives the run's other intervals (same resamples, same seed); the calibration figure shows how
many cases each bin holds. With more than two classes the decision curves are one-vs-rest, one
panel per class: acting on one class against all others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib import colormaps
from matplotlib.figure import Figure

from radiopipe.evaluate import (
    calibration_table,
    decision_curve,
    per_class_auc_intervals,
    pr_curves,
    roc_curves,
)
from radiopipe.records import ValidationRecord
from radiopipe.report.design_checks import design_checks_html
from radiopipe.report.figures import confusion_figure, roc_figure, to_data_uri
from radiopipe.report.layout import figure
from radiopipe.report.templating import render

METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
    "f1_macro": "F1 (macro)",
    "brier": "Brier score",
    "calibration_slope": "Calibration slope",
    "calibration_intercept": "Calibration intercept",
}
_COMPARED = ("roc_auc", "pr_auc", "balanced_accuracy", "brier", "calibration_slope")


def with_ci(value, interval) -> str:
    """``0.970 (0.958 to 0.981)``; 'n/a' for an undefined value."""
    if value is None:
        return "n/a"
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} ({interval[0]:.3f} to {interval[1]:.3f})"


def interval_name(record: ValidationRecord) -> str:
    """Which interval the report shows, in words, naming the primary model's metrics whose BCa
    interval was undefined and is percentile instead."""
    if record.interval_method == "percentile":
        return "percentile"
    text = ("bias-corrected and accelerated (BCa; acceleration from a jackknife leaving out one "
            "patient at a time)")
    fallback = [METRIC_NAMES.get(m, m) for m in record.primary.ci_fallback]
    if fallback:
        text += f"; percentile for {', '.join(fallback)}, where BCa was undefined"
    return text


def performance_html(
    record: ValidationRecord, oof: pd.DataFrame, save_csv: Callable[[Path, pd.DataFrame], None],
    run_dir: Path,
    table: Callable[[list[str], list[list]], str],
    *,
    unit: str = "patients",
    feature_sets: list[dict] = (),
    stability_icc: str = "ICC(1,1)",
) -> tuple[Markup, Markup]:
    """The performance section and the figures section of the report.

    Parameters
    ----------
    record : ValidationRecord
        The train stage's record.
    oof : pandas.DataFrame
        The primary model's held-out predictions (``proba__<class>`` columns; NaN rows untested).
    save_csv : callable
        Writes a figure's table beside the report.
    run_dir : Path
        The run folder.
    table : callable
        Renders an HTML table from a header and rows.
    unit : str
        What the cohort's ``patient_id`` counts (the config's ``data.grouping_unit``), the unit
        the bootstrap resamples.
    feature_sets : list of dict
        The config's ``model.feature_sets`` (``name``, ``columns``, ``stability_threshold``):
        what each compared set holds, listed under the comparison.
    stability_icc : str
        The ICC kind of a set's stability filter (``model.preprocessing.stability_icc``).

    Returns
    -------
    (Markup, Markup)
        HTML of the performance section and of the figures section.
    """
    classes = record.classes
    proba = oof[[f"proba__{c}" for c in classes]].to_numpy()
    tested = ~np.isnan(proba).any(axis=1)
    y = oof["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()[tested]
    proba = proba[tested]
    groups = oof["patient_id"].to_numpy()[tested]
    bootstrap = record.validation["bootstrap"]
    auc_ci = per_class_auc_intervals(y, proba, classes, groups,
                                     n_resamples=bootstrap["n_resamples"], seed=bootstrap["seed"],
                                     method=record.interval_method)
    per_class_fallback = auc_ci.fallback
    auc_ci = auc_ci.bounds
    comparison, versus = _comparison_table(record.comparison, table)
    html = render(
        "performance.html.j2",
        where="out-of-fold" if record.validation["design"].endswith("kfold") else "held-out test",
        scheme=record.validation["scheme"], interval=interval_name(record), unit=unit,
        model=record.model, best_model=record.best_model, comparison=comparison, versus=versus,
        feature_sets=[_set_legend(entry, stability_icc) for entry in feature_sets],
        metrics=table(
            ["metric", "value (95% CI)"],
            [
                [label, with_ci(record.metrics[key], record.confidence_intervals[key])]
                for key, label in METRIC_NAMES.items()
            ],
        ),
        per_class=table(
            ["class", "ROC-AUC (95% CI)", "PR-AUC"],
            [
                [c, with_ci(record.metrics["roc_auc_per_class"][c], auc_ci[c]),
                 _num(record.metrics["pr_auc_per_class"][c])]
                for c in classes
            ],
        ),
        per_class_fallback=per_class_fallback,
        per_fold=record.per_fold and table(
            ["fold", "test cases", "ROC-AUC"],
            [[f["fold"], f["n_test"], _num(f["roc_auc"])] for f in record.per_fold],
        ),
        per_fold_repeats=_repeats(record.validation),
        design_checks=Markup(design_checks_html(record, table)),
    )
    figures = _figures(record, y, proba, groups, auc_ci, save_csv, run_dir, unit)
    return html, figures


def _repeats(validation: dict) -> int:
    """How many times the design's folds were drawn (1 without repeats)."""
    if validation["design"] != "repeated_kfold":
        return 1
    return validation["n_outer_splits"] // validation["n_splits"]


def _set_legend(entry: dict, stability_icc: str) -> tuple[str, str]:
    """``(name, what it holds)`` of a configured feature set."""
    held = ", ".join(entry["columns"])
    if entry.get("stability_threshold") is not None:
        held += (f", through the in-fold stability filter ({stability_icc} ≥ "
                 f"{entry['stability_threshold']:g} over the perturbed versions of each "
                 "training set's cases)")
    return entry["name"], held


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _comparison_table(comparison: list[dict], table) -> tuple[Markup, str | None]:
    """The comparison table, and the main feature set the paired ΔROC-AUC column compares with
    (None without that column)."""
    header = ["model", "kind", "features", *(METRIC_NAMES[k] + " (95% CI)" for k in _COMPARED)]
    paired = [c.auc_difference for c in comparison if c.auc_difference is not None]
    best = max(
        (c for c in comparison if c.metrics["roc_auc"] is not None),
        key=lambda c: c.metrics["roc_auc"],
        default=None,
    )
    rows = []
    for entry in comparison:
        marks = (" (primary)" if entry.primary else "") + (" ★" if entry is best else "")
        difference = entry.auc_difference
        rows.append(
            [entry.model + marks, entry.kind, entry.feature_set]
            + [with_ci(entry.metrics[k], entry.ci[k]) for k in _COMPARED]
            + ([with_ci(difference["value"], difference["ci"]) if difference else ""]
               if paired else [])
        )
    if not paired:
        return table(header, rows), None
    versus = paired[0]["versus"]
    return table([*header, f"ΔROC-AUC vs {versus} (95% CI)"], rows), versus


def _figures(record: ValidationRecord, y, proba, groups, auc_ci: dict, save_csv,
             run_dir: Path, unit: str) -> str:
    classes = record.classes
    bootstrap = record.validation["bootstrap"]
    matrix = record.metrics["confusion_matrix"]
    curves = roc_curves(y, proba, classes)
    pr = pr_curves(y, proba, classes)
    calibration = calibration_table(y, proba, classes, groups=groups,
                                    n_resamples=bootstrap["n_resamples"], seed=bootstrap["seed"],
                                    method=record.interval_method)
    per_class = pd.DataFrame(
        [
            {"class": c, "roc_auc": record.metrics["roc_auc_per_class"][c],
             "low": (auc_ci[c] or [np.nan, np.nan])[0],
             "high": (auc_ci[c] or [np.nan, np.nan])[1]}
            for c in classes
        ]
    )
    forest = pd.DataFrame(
        [
            {
                "model": f"{c.model} [{c.feature_set}]",
                "roc_auc": c.metrics["roc_auc"],
                "low": (c.ci["roc_auc"] or [np.nan, np.nan])[0],
                "high": (c.ci["roc_auc"] or [np.nan, np.nan])[1],
            }
            for c in record.comparison
        ]
    )
    save_csv(run_dir / "report_roc_curves.csv", curves)
    save_csv(run_dir / "report_pr_curves.csv", pr)
    save_csv(run_dir / "report_calibration.csv", calibration)
    save_csv(run_dir / "report_model_comparison.csv", forest)
    save_csv(run_dir / "report_roc_auc_per_class.csv", per_class)
    save_csv(
        run_dir / "report_confusion_matrix.csv",
        pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=classes),
    )
    images = [
        ("model comparison",
         _interval_figure(forest, "model", width=5.2, height=0.6, xlabel="ROC-AUC (95% CI)",
                          title="Model comparison"),
         "ROC-AUC of every compared model.", "report_model_comparison.csv"),
        ("ROC curves", roc_figure(curves, record.metrics["roc_auc_per_class"], auc_ci),
         "One-vs-rest ROC curves of the primary model; the legend gives each class's ROC-AUC "
         "with its 95% CI.", "report_roc_curves.csv"),
        ("ROC-AUC per class",
         _interval_figure(per_class, "class", width=4.6, height=0.9,
                          xlabel="one-vs-rest ROC-AUC (95% CI)", title="ROC-AUC per class"),
         f"One-vs-rest ROC-AUC of each class with its 95% CI (bootstrap over {unit}).",
         "report_roc_auc_per_class.csv"),
        ("precision-recall curves", _pr_figure(pr), "One-vs-rest precision-recall curves.",
         "report_pr_curves.csv"),
        ("calibration", _calibration_figure(calibration),
         "Observed frequency against mean predicted probability in ten equal-width bins, with "
         f"the 95% band of a bootstrap over {unit}; below, the cases in each bin (column n of "
         "the table). Few cases in a bin: a wide band.", "report_calibration.csv"),
        ("confusion matrix", confusion_figure(matrix, classes), "Most probable class against "
         "true class.", "report_confusion_matrix.csv"),
    ]
    net = _decision_curves(y, proba, classes)
    save_csv(run_dir / "report_decision_curve.csv", net)
    caption = ("Net benefit of acting on the model's probability at each threshold, against "
               "treating every case and treating none."
               if len(classes) == 2 else "One-vs-rest net benefit, one panel per class: acting "
               "on that class against all others at each threshold, against treating every case "
               "as that class and treating none.")
    images.append(("decision curve", _decision_figure(net), caption, "report_decision_curve.csv"))
    return render("figures.html.j2", figures=[figure(uri, alt, caption, name)
                                              for alt, uri, caption, name in images])


def _decision_curves(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """Decision curves of the positive class (two classes) or of every class against the rest."""
    positives = [1] if len(classes) == 2 else range(len(classes))
    return pd.concat(
        [decision_curve((y == k).astype(int), proba[:, k]).assign(**{"class": classes[k]})
         for k in positives],
        ignore_index=True,
    )


def _interval_figure(table: pd.DataFrame, label: str, *, width: float, height: float,
                     xlabel: str, title: str) -> str:
    """ROC-AUCs with their 95% intervals (columns ``roc_auc``, ``low``, ``high``), one row per
    ``label``, first on top."""
    fig = Figure(figsize=(width, height + 0.42 * len(table)))
    ax = fig.subplots()
    positions = np.arange(len(table))[::-1]
    low = (table["roc_auc"] - table["low"]).fillna(0).clip(lower=0)
    high = (table["high"] - table["roc_auc"]).fillna(0).clip(lower=0)
    ax.errorbar(table["roc_auc"], positions, xerr=[low, high], fmt="o", capsize=3)
    ax.set_yticks(positions, table[label])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return to_data_uri(fig)


def _pr_figure(curves: pd.DataFrame) -> str:
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    for name, curve in curves.groupby("class", sort=False):
        ax.step(curve["recall"], curve["precision"], where="post", label=str(name))
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall curves")
    ax.legend(loc="lower left", fontsize=8)
    return to_data_uri(fig)


def _calibration_figure(table: pd.DataFrame) -> str:
    """Calibration curves with their bootstrap bands; below, the cases per bin and class."""
    fig = Figure(figsize=(5.0, 5.6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    groups = list(table.groupby("class", sort=False))
    width = 0.1 / (len(groups) + 1)
    for j, ((name, part), colour) in enumerate(zip(groups, colormaps["tab10"].colors)):
        below = (part["observed"] - part["observed_low"]).clip(lower=0)
        above = (part["observed_high"] - part["observed"]).clip(lower=0)
        top.errorbar(part["mean_predicted"], part["observed"], yerr=[below, above], marker="o",
                     markersize=4, capsize=2, elinewidth=0.8, color=colour, label=str(name))
        bottom.bar(part["bin_low"] + (j + 1) * width, part["n"], width=width, color=colour)
    top.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    top.set_ylabel("observed frequency")
    top.set_title("Calibration (bars: 95% band)")
    if len(groups) > 1:
        top.legend(loc="upper left", fontsize=8, title="class", title_fontsize=8)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("cases per bin", fontsize=8)
    bottom.set_xlim(0, 1)
    return to_data_uri(fig)


def _decision_figure(net: pd.DataFrame) -> str:
    """One panel per class; the line styles are named once, in a legend beside the panels."""
    parts = list(net.groupby("class", sort=False))
    fig = Figure(figsize=(3.4 * len(parts) + 0.6, 3.8))
    axes = fig.subplots(1, len(parts), sharey=True, squeeze=False)[0]
    top = max(float(net["model"].max()), float(net["treat_all"].max()), 0.01)
    for ax, (name, curve) in zip(axes, parts):
        ax.plot(curve["threshold"], curve["model"], color="#1f77b4", label="model")
        ax.plot(curve["threshold"], curve["treat_all"], color="#d62728", linestyle="--",
                linewidth=1.0, label="treat all")
        ax.axhline(0.0, linestyle=":", color="grey", label="treat none")
        ax.set_ylim(-0.05 * top, 1.1 * top)
        ax.set_xlabel("threshold probability")
        ax.set_title(f"{name} vs rest" if len(parts) > 1 else f"{name}", fontsize=9)
    axes[0].set_ylabel("net benefit")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(0.99, 0.5), fontsize=8,
               frameon=False)
    fig.suptitle("Decision curve", fontsize=10)
    return to_data_uri(fig)

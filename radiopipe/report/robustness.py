"""The report's feature-robustness section: the distribution of every feature's ICC over the
robustness run's perturbations by image type and family, how many features reach the threshold,
and what the in-fold stability filter kept. Rendered from ``robustness.parquet``'s table and
``metrics.json``; reads no file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from radiopipe.records import ValidationRecord
from radiopipe.report.figures import to_data_uri
from radiopipe.report.layout import figure, save_csv, table
from radiopipe.report.templating import render

SECTION_ID = "robustness"
TABLE_FILE = "report_robustness.csv"


def feature_iccs(robustness: pd.DataFrame, icc_kind: str) -> pd.DataFrame:
    """Each feature's lowest ``icc_kind`` ICC over the perturbation kinds (the test-retest ICC
    of repeated scans included where measured), with its image type and family.

    Parameters
    ----------
    robustness : pandas.DataFrame
        ``robustness.parquet``: one row per feature, perturbation kind and ICC kind.
    icc_kind : str
        ``'ICC(1,1)'``, ``'ICC(2,1)'`` or ``'ICC(3,1)'``.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``image_type``, ``family``, ``icc`` (NaN where undefined, such as a feature
        constant over the cases), in the table's feature order.
    """
    rows = robustness[robustness["icc_kind"] == icc_kind]
    grouped = rows.groupby("feature", sort=False)
    lowest = grouped["icc"].agg(lambda v: v.min() if v.notna().all() else np.nan)
    first = grouped[["image_type", "family"]].first()
    return first.assign(icc=lowest).reset_index()[["feature", "image_type", "family", "icc"]]


def robustness_section(robustness: pd.DataFrame, record: ValidationRecord, config: dict,
                       run_dir: Path) -> Markup:
    """The section, and ``report_robustness.csv`` (the figure's table) beside the report.

    Parameters
    ----------
    robustness : pandas.DataFrame
        ``robustness.parquet``.
    record : ValidationRecord
        The train stage's record (the final model's stability filter, when on).
    config : dict
        The resolved config.
    run_dir : Path
    """
    preprocessing = config["model"]["preprocessing"]
    in_fold = preprocessing["stability_threshold"]
    threshold = config["robustness"]["threshold"] if in_fold is None else in_fold
    icc_kind = preprocessing["stability_icc"]
    iccs = feature_iccs(robustness, icc_kind)
    save_csv(run_dir / TABLE_FILE, iccs, index=False)
    kinds = list(dict.fromkeys(robustness["perturbation"]))
    n_cases = int(robustness["n_cases"].max())
    reach = int((iccs["icc"] >= threshold).sum())
    caption = (
        f"{icc_kind} of every feature, its lowest over the perturbation kinds "
        f"({', '.join(kinds)}), by image type and family, on {n_cases} cases; the dashed line "
        f"marks the threshold {threshold:.2f}, which {reach} of the {len(iccs)} features reach.")
    return render(
        "robustness.html.j2", section_id=SECTION_ID,
        figure=figure(_icc_figure(iccs, threshold, icc_kind), "ICC by image type and family",
                      caption, TABLE_FILE),
        table=table(["perturbation", "features", f"{icc_kind} at or above {threshold:.2f}"],
                    _kind_rows(robustness, icc_kind, threshold)),
        stability=record.final_model.get("stability"),
        filtered_sets=[(s["name"], s["stability_threshold"])
                       for s in config["model"]["feature_sets"]
                       if s.get("stability_threshold") is not None],
        icc_kind=icc_kind,
    )


def _kind_rows(robustness: pd.DataFrame, icc_kind: str, threshold: float) -> list[list]:
    rows = robustness[robustness["icc_kind"] == icc_kind]
    return [[kind, int(len(part)), int((part["icc"] >= threshold).sum())]
            for kind, part in rows.groupby("perturbation", sort=False)]


def _icc_figure(iccs: pd.DataFrame, threshold: float, icc_kind: str) -> str:
    """Box plots of the ICC per image type and family, the threshold dashed."""
    groups = [(f"{image} / {family}", part["icc"].dropna().to_numpy())
              for (image, family), part in iccs.groupby(["image_type", "family"], sort=False)]
    fig = Figure(figsize=(6.0, 0.9 + 0.32 * len(groups)))
    ax = fig.subplots()
    positions = np.arange(len(groups))[::-1]
    shown = [(p, values) for p, (_, values) in zip(positions, groups, strict=True) if len(values)]
    if shown:
        ax.boxplot([v for _, v in shown], positions=[p for p, _ in shown], orientation="horizontal",
                   widths=0.6, flierprops={"markersize": 3})
    ax.set_yticks(positions, [name for name, _ in groups], fontsize=8)
    ax.axvline(threshold, linestyle="--", color="tab:red", linewidth=1)
    ax.set_xlabel(f"{icc_kind} (lowest over the perturbation kinds)")
    ax.set_title("Feature robustness by image type and family")
    return to_data_uri(fig)

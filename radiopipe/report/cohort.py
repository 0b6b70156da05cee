"""The cohort summary: cases and grouping units (patients) per class, voxel sizes by modality,
sites, ROI size, failed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from radiopipe.columns import acquisition_column, diagnostics_columns, split_diagnostics
from radiopipe.records import ValidationRecord
from radiopipe.report.layout import save_csv, table
from radiopipe.report.templating import render

SECTION_ID = "cohort"
ACQUISITION_FILE = "report_acquisition.csv"
VOXEL_SIZE_FILE = "report_voxel_sizes.csv"
_VOLUME_COLUMNS = ("original__shape__MeshVolume", "original__shape__VoxelVolume")


def cohort_section(oof: pd.DataFrame, features: pd.DataFrame, classes: list[str],
                   record: ValidationRecord, failures: list[dict], run_dir: Path,
                   config: dict, *, unit: str = "patients") -> Markup:
    """Cohort summary; its tables are saved as ``report_cohort.csv`` and
    ``report_voxel_sizes.csv``.

    Parameters
    ----------
    oof : pandas.DataFrame
        Held-out predictions (``label``, ``patient_id``).
    features : pandas.DataFrame
        The feature table (``site`` and, when shape was extracted, the ROI volume).
    classes : list of str
    record : ValidationRecord
    failures : list of dict
        Failed cases with their reasons.
    run_dir : Path
    config : dict
        The resolved config (the spacing each modality was resampled to).
    unit : str
        What ``patient_id`` counts (the config's ``data.grouping_unit``): the column header and
        the counts say it.
    """
    task = record.task
    volume = next((c for c in _VOLUME_COLUMNS if c in features.columns), None)
    rows = []
    for name in [*classes, None]:
        part = oof if name is None else oof[oof["label"] == name]
        row = {"class": "all" if name is None else name, "cases": len(part),
               "patients": int(part["patient_id"].nunique())}
        if volume is not None:
            values = features.loc[part["case_id"], volume].to_numpy(dtype=np.float64)
            row["roi_volume_median_mm3"] = float(np.nanmedian(values))
            row["roi_volume_iqr_mm3"] = float(np.subtract(*np.nanpercentile(values, [75, 25])))
        rows.append(row)
    summary = pd.DataFrame(rows)
    save_csv(run_dir / "report_cohort.csv", summary, index=False)
    header = ["class", "cases", unit]
    if volume is not None:
        header += ["ROI volume, median (mm³)", "ROI volume, IQR (mm³)"]
    sites = features["site"].dropna().astype(str)
    sites_table = ""
    if len(sites):
        counts = pd.crosstab(sites, features.loc[sites.index, "label"])
        sites_table = table(["site", *counts.columns],
                            [[s, *map(int, r)] for s, r in counts.iterrows()])
    voxels = voxel_size_summary(features, config["features"])
    voxel_table = ""
    if len(voxels):
        save_csv(run_dir / VOXEL_SIZE_FILE, voxels, index=False)
        voxel_table = table(list(voxels.columns), voxels.to_numpy().tolist())
    acquisition = acquisition_summary(features)
    acquisition_table = ""
    if len(acquisition):
        save_csv(run_dir / ACQUISITION_FILE, acquisition, index=False)
        acquisition_table = table(list(acquisition.columns), acquisition.to_numpy().tolist())
    failed = (table(["case", "reason"], [[f["case_id"], f["reason"]] for f in failures])
              if failures else "")
    return render(
        "cohort.html.j2", section_id=SECTION_ID, n_cases=task.n_cases,
        n_patients=task.n_patients, unit=unit, n_failed=len(failures),
        summary=table(header, summary.to_numpy().tolist()), voxels=voxel_table,
        voxel_file=VOXEL_SIZE_FILE, sites=sites_table,
        acquisition=acquisition_table, acquisition_file=ACQUISITION_FILE, failures=failed,
    )


def acquisition_summary(features: pd.DataFrame) -> pd.DataFrame:
    """The cohort's acquisition provenance (``diagnostics__*`` columns) by modality: each text
    value with its number of cases, each number's range."""
    rows = []
    for column in diagnostics_columns(features.columns):
        modality, name = split_diagnostics(column)
        values = features[column].dropna()
        if values.empty:
            continue
        if pd.api.types.is_numeric_dtype(values):
            low, high = float(values.min()), float(values.max())
            shown = f"{low:.4g}" if low == high else f"{low:.4g} to {high:.4g}"
        else:
            counts = values.astype(str).value_counts()
            shown = ", ".join(f"{v} ({n})" for v, n in counts.items())
        rows.append({"modality": modality or "image", "parameter": name.replace("_", " "),
                     "values": shown, "cases": len(values)})
    return pd.DataFrame(rows, columns=["modality", "parameter", "values", "cases"])


def voxel_size_summary(features: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Acquired voxel sizes by modality (median and range over the cases, from each image's
    geometry) and the spacing the features were computed at.

    Parameters
    ----------
    features : pandas.DataFrame
        The feature table with its ``acquisition__[<modality>__]spacing_*`` columns.
    settings : dict
        The resolved ``features`` section (``resampled_spacing``, per modality under
        ``modalities.<name>.features``).
    """
    modalities = [None, *settings.get("modalities", {})]
    rows = []
    for modality in modalities:
        spacing = [acquisition_column(f"spacing_{axis}", modality) for axis in "xyz"]
        if not all(c in features.columns for c in spacing):
            continue
        values = features[spacing].to_numpy(dtype=np.float64)
        values = values[~np.isnan(values[:, :2]).any(axis=1)]
        if not len(values):
            continue
        own = settings.get("modalities", {}).get(modality, {}).get("features", {})
        resampled = own.get("resampled_spacing", settings.get("resampled_spacing"))
        rows.append({
            "modality": modality or "image",
            "cases": len(values),
            "in-plane spacing (mm)": _spread(values[:, :2].mean(axis=1)),
            "slice spacing (mm)": _spread(values[:, 2]),
            "features computed at (mm)": (" × ".join(f"{v:g}" for v in resampled)
                                          if resampled else "acquired spacing (not resampled)"),
        })
    return pd.DataFrame(rows, columns=["modality", "cases", "in-plane spacing (mm)",
                                       "slice spacing (mm)", "features computed at (mm)"])


def _spread(values: np.ndarray) -> str:
    """'median (min to max)' of the finite values; 'not applicable' (a 2D image's third axis)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return "not applicable"
    low, middle, high = (f"{v:.3g}" for v in (np.min(values), np.median(values), np.max(values)))
    return middle if low == high else f"{middle} ({low} to {high})"

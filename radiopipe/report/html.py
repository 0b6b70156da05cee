"""Render ``report.html``: one self-contained page (figures embedded) from a run folder.

The report names cases by ``case_id`` only; it shows no file path. Every figure's table is saved
beside the report as CSV.
"""

from __future__ import annotations

import datetime as _dt
import json
from html import escape
from pathlib import Path

import pandas as pd

from radiopipe.extraction import FAILURES_DIR
from radiopipe.report.performance import performance_html
from radiopipe.storage import atomic_write, atomic_write_text

REPORT_FILE = "report.html"
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:2em auto;
color:#1d2433;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #d0d7e2;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #d0d7e2;padding:.25em .6em;text-align:left}
th{background:#f1f4f9}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5b6578;font-size:.9em}figure{display:inline-block;margin:.5em 1em .5em 0}
"""


def write_report(run_dir: Path, *, title: str, config: dict, config_hash: str, versions: dict) -> Path:
    """Write ``report.html`` and the tables behind its figures into ``run_dir``.

    Parameters
    ----------
    run_dir : Path
        Run folder holding ``metrics.json``, ``oof_predictions.parquet`` and ``failures/``.
    title : str
        Report title.
    config : dict
        The resolved config (for the methods section).
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
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    oof = pd.read_parquet(run_dir / "oof_predictions.parquet")
    classes = metrics["task"]["classes"]
    failures = _failures(run_dir / FAILURES_DIR, metrics["task"]["failed_cases"])
    performance, figures = performance_html(metrics, oof, _save_csv, run_dir, _table)
    body = "\n".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="muted">Run <b>{escape(config["name"])}</b> · generated '
            f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC · config hash "
            f"<code>{config_hash[:12]}</code></p>",
            _cohort_section(oof, classes, metrics, failures),
            _methods_section(config, metrics),
            performance,
            figures,
            _software_section(versions),
        ]
    )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return atomic_write_text(run_dir / REPORT_FILE, page)


def _save_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp))


def _failures(folder: Path, case_ids: list[str]) -> list[dict]:
    records = []
    for case_id in case_ids:
        path = folder / f"{case_id}.json"
        reason = json.loads(path.read_text(encoding="utf-8"))["reason"] if path.is_file() else "unknown"
        records.append({"case_id": case_id, "reason": reason})
    return records


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{v:.3f}</td>' if isinstance(v, float) else f"<td>{escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cohort_section(oof: pd.DataFrame, classes: list[str], metrics: dict, failures: list[dict]) -> str:
    task = metrics["task"]
    rows = [
        [c, int((oof["label"] == c).sum()), int(oof.loc[oof["label"] == c, "patient_id"].nunique())]
        for c in classes
    ]
    rows.append(["all", len(oof), int(oof["patient_id"].nunique())])
    parts = [
        "<h2>Cohort</h2>",
        f"<p>{task['n_cases']} cases with features from {task['n_patients']} patients; "
        f"{len(failures)} case(s) failed feature extraction and are excluded.</p>",
        _table(["class", "cases", "patients"], rows),
    ]
    if failures:
        parts.append("<h3>Failed cases</h3>")
        parts.append(_table(["case", "reason"], [[f["case_id"], f["reason"]] for f in failures]))
    return "\n".join(parts)


def _methods_section(config: dict, metrics: dict) -> str:
    features = config["features"]
    model = config["model"]
    validation = metrics["validation"]
    resampling = features["resampled_spacing"] or "none (native spacing)"
    rows = [
        ["feature backend", f"{metrics['features']['backend']} {metrics['features']['backend_version']}"],
        ["image types", ", ".join(features["image_types"])],
        ["feature families", ", ".join(features["families"])],
        ["discretisation", f"fixed bin width {features['bin_width']:g}"],
        ["resampling", f"{resampling}, {features['interpolator']} interpolation"],
        ["intensity normalisation", "yes" if features["normalize"] else "no"],
        ["number of features", str(metrics["features"]["n_features"])],
        *_model_rows(model, metrics),
        [
            "validation",
            f"{validation['scheme']}; seed {validation['seed']}; every metric is computed on "
            "predictions for cases the model never saw",
        ],
    ]
    return "<h2>Methods</h2>" + _table(["item", "setting"], rows)


def _model_rows(model: dict, metrics: dict) -> list[list[str]]:
    """Primary model, compared models, ensembles and the in-fold preprocessing."""
    ensembles = {e["name"]: e for e in model["ensembles"]}
    searched = model["search"]["n_iter"] > 0

    def describe(name: str) -> str:
        if name in ensembles:
            e = ensembles[name]
            how = (f"weights: {e['weights']}" if e["method"] == "soft_voting"
                   else "logistic meta-learner on inner out-of-fold probabilities")
            return (f"{name}: {e['method']} of {', '.join(e['members'])} (members with their "
                    f"configured hyperparameters; {how})")
        if searched:
            return f"{name} (hyperparameters from the random search in every training fold)"
        return f"{name} ({', '.join(f'{k}={v}' for k, v in model[name].items())})"

    steps = model["preprocessing"]
    preprocessing = [
        f"{steps['impute']} imputation",
        "ComBat by site" if steps["harmonise"] == "combat" else "",
        f"near-constant removal ({steps['near_constant']})" if steps["near_constant"] else "",
        f"correlation filter (|r| >= {steps['correlation_threshold']})"
        if steps["correlation_threshold"] else "",
        f"{steps['scaler']} scaling",
        f"{steps['selection']} selection of {steps['n_features']} features"
        if steps["selection"] != "none" else "",
        "balanced class weights" if steps["class_weight"] == "balanced" else "",
        "SMOTE" if steps["smote"] else "",
        f"{steps['calibration']} calibration" if steps["calibration"] != "none" else "",
    ]
    rows = [["primary model", describe(model["name"])]]
    others = [describe(name) for name in model["compare"] if name != model["name"]]
    if others:
        rows.append(["compared", "; ".join(others)])
    if metrics["features"].get("clinical"):
        rows.append(["clinical covariates", ", ".join(metrics["features"]["clinical"])])
    rows.append(["in-fold preprocessing", ", ".join(s for s in preprocessing if s)])
    return rows


def _software_section(versions: dict) -> str:
    rows = [[name, version] for name, version in versions.items()]
    return "<h2>Software</h2>" + _table(["package", "version"], rows)

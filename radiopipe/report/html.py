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

from radiopipe.evaluate import roc_curves
from radiopipe.extraction import FAILURES_DIR
from radiopipe.report.figures import confusion_figure, roc_figure
from radiopipe.storage import atomic_write, atomic_write_text

REPORT_FILE = "report.html"
_METRIC_NAMES = {
    "roc_auc": "ROC-AUC (macro, one-vs-rest)",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
    "f1_macro": "F1 (macro)",
}
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
    y = oof["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    proba = oof[[f"proba__{c}" for c in classes]].to_numpy()
    curves = roc_curves(y, proba, classes)
    matrix = metrics["metrics"]["confusion_matrix"]
    _save_csv(run_dir / "report_roc_curves.csv", curves)
    _save_csv(
        run_dir / "report_confusion_matrix.csv",
        pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=classes),
    )
    failures = _failures(run_dir / FAILURES_DIR, metrics["task"]["failed_cases"])
    body = "\n".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="muted">Run <b>{escape(config["name"])}</b> · generated '
            f"{_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC · config hash "
            f"<code>{config_hash[:12]}</code></p>",
            _cohort_section(oof, classes, metrics, failures),
            _methods_section(config, metrics),
            _performance_section(metrics, classes),
            "<h2>Figures</h2>",
            f'<figure><img alt="confusion matrix" src="{confusion_figure(matrix, classes)}"></figure>',
            f'<figure><img alt="ROC curves" src="{roc_figure(curves, metrics["metrics"]["roc_auc_per_class"])}">'
            "</figure>",
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
    params = ", ".join(f"{k}={v}" for k, v in model[model["name"]].items())
    rows = [
        ["feature backend", f"{metrics['features']['backend']} {metrics['features']['backend_version']}"],
        ["image types", ", ".join(features["image_types"])],
        ["feature families", ", ".join(features["families"])],
        ["discretisation", f"fixed bin width {features['bin_width']:g}"],
        ["resampling", f"{resampling}, {features['interpolator']} interpolation"],
        ["intensity normalisation", "yes" if features["normalize"] else "no"],
        ["number of features", str(metrics["features"]["n_features"])],
        ["model", f"{model['name']} ({params})"],
        [
            "validation",
            f"{validation['scheme']}, {validation['n_splits']} folds grouped by patient, seed "
            f"{validation['seed']}; every metric is computed on out-of-fold predictions",
        ],
    ]
    return "<h2>Methods</h2>" + _table(["item", "setting"], rows)


def _performance_section(metrics: dict, classes: list[str]) -> str:
    values = metrics["metrics"]
    rows = [[label, values[key]] for key, label in _METRIC_NAMES.items()]
    per_class = [[c, values["roc_auc_per_class"][c]] for c in classes]
    folds = [
        [f["fold"], f["n_test"], "n/a" if f["roc_auc"] is None else f["roc_auc"]]
        for f in metrics["per_fold"]
    ]
    return "\n".join(
        [
            "<h2>Performance (out-of-fold)</h2>",
            _table(["metric", "value"], rows),
            "<h3>ROC-AUC per class (one-vs-rest)</h3>",
            _table(["class", "ROC-AUC"], per_class),
            "<h3>Per fold</h3>",
            _table(["fold", "test cases", "ROC-AUC"], folds),
        ]
    )


def _software_section(versions: dict) -> str:
    rows = [[name, version] for name, version in versions.items()]
    return "<h2>Software</h2>" + _table(["package", "version"], rows)

"""The run's stages: cohort -> features -> cross-validated model -> report.

Each stage reads what the previous one wrote in the run folder, so stages can run on their own
(``radiopipe extract``, ``train``, ``report``) or together (``radiopipe run``). Every stage writes
the resolved config and its hash into the run folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from radiopipe.config import LoadedConfig, resolved_dict, write_resolved_config
from radiopipe.datasets import BUILTIN
from radiopipe.errors import DataError
from radiopipe.evaluate import classification_metrics
from radiopipe.extraction import CaseResult, extract_cohort
from radiopipe.manifest import Manifest, read_manifest
from radiopipe.models import grouped_cross_val_predict, make_classifier
from radiopipe.provenance import package_versions
from radiopipe.report import write_report
from radiopipe.storage import atomic_write, atomic_write_json
from radiopipe.table import FEATURES_FILE, build_table, feature_columns, read_table, write_table

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
OOF_FILE = "oof_predictions.parquet"


@dataclass(frozen=True)
class RunOutcome:
    """What a whole run produced.

    Attributes
    ----------
    failed_cases : list of str
        Cases whose extraction failed (the run's exit code is 1 when any did).
    metrics : dict
        Content of ``metrics.json``.
    report : Path
        The written report.
    """

    failed_cases: list[str]
    metrics: dict
    report: Path


def cohort_manifest(loaded: LoadedConfig) -> Manifest:
    """The run's cohort: a built-in dataset (written on first use) or the configured manifest."""
    data = loaded.config.data
    if data.builtin is not None:
        path = BUILTIN[data.builtin](**data.builtin_options.model_dump())
    else:
        path = loaded.resolve(data.manifest)
    return read_manifest(path)


def extract(loaded: LoadedConfig, *, progress: bool = True) -> list[CaseResult]:
    """Extract features for the cohort and write ``features.parquet``."""
    out = _prepare(loaded)
    config = loaded.config
    manifest = cohort_manifest(loaded)
    results = extract_cohort(
        manifest, config.features, config.data, out, n_jobs=config.compute.n_jobs, progress=progress
    )
    failed = [r.case_id for r in results if r.status == "failed"]
    write_table(build_table(manifest, results), out / FEATURES_FILE, config_hash=loaded.hash, failed_cases=failed)
    return results


def train(loaded: LoadedConfig) -> dict:
    """Cross-validate the configured model; write ``metrics.json`` and out-of-fold predictions."""
    out = _prepare(loaded)
    config = loaded.config
    frame, provenance = read_table(out / FEATURES_FILE)
    columns = feature_columns(frame)
    if frame.empty or not columns:
        raise DataError("the feature table has no cases with features; see the run's failures/ folder")
    classes = sorted(frame["label"].unique())
    if len(classes) < 2:
        raise DataError(f"only class '{classes[0]}' has cases with features; need at least two")
    y = frame["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    groups = frame["patient_id"].to_numpy()
    X = frame[columns].to_numpy(dtype=np.float64)
    cv = config.model.cv
    estimator = make_classifier(config.model, n_jobs=config.compute.n_jobs, seed=cv.seed)
    result = grouped_cross_val_predict(estimator, X, y, groups, n_splits=cv.n_splits, seed=cv.seed)
    oof = frame[["case_id", "patient_id", "label"]].copy()
    oof["fold"] = result.fold
    for k, name in enumerate(classes):
        oof[f"proba__{name}"] = result.proba[:, k]
    atomic_write(out / OOF_FILE, lambda tmp: oof.to_parquet(tmp, index=False))
    metrics = {
        "config_hash": loaded.hash,
        "task": {
            "classes": classes,
            "n_cases": int(len(frame)),
            "n_patients": int(frame["patient_id"].nunique()),
            "failed_cases": provenance.get("failed_cases", []),
        },
        "features": {
            "backend": str(frame["backend"].iloc[0]),
            "backend_version": str(frame["backend_version"].iloc[0]),
            "n_features": len(columns),
        },
        "model": config.model.name,
        "validation": {"scheme": "StratifiedGroupKFold", "n_splits": cv.n_splits, "seed": cv.seed},
        "metrics": classification_metrics(y, result.proba, classes),
        "per_fold": _per_fold(y, result.proba, result.fold),
        "versions": package_versions(),
    }
    atomic_write_json(out / METRICS_FILE, metrics)
    return metrics


def report(loaded: LoadedConfig) -> Path:
    """Write ``report.html`` from the run folder."""
    out = _prepare(loaded)
    return write_report(
        out,
        title=loaded.config.report.title,
        config=resolved_dict(loaded.config),
        config_hash=loaded.hash,
        versions=package_versions(),
    )


def run(loaded: LoadedConfig, *, progress: bool = True) -> RunOutcome:
    """All stages in order."""
    results = extract(loaded, progress=progress)
    metrics = train(loaded)
    path = report(loaded)
    failed = [r.case_id for r in results if r.status == "failed"]
    return RunOutcome(failed_cases=failed, metrics=metrics, report=path)


def _prepare(loaded: LoadedConfig) -> Path:
    out = loaded.output_dir
    out.mkdir(parents=True, exist_ok=True)
    write_resolved_config(loaded, out)
    return out


def _per_fold(y: np.ndarray, proba: np.ndarray, fold: np.ndarray) -> list[dict]:
    rows = []
    for k in np.unique(fold):
        test = fold == k
        present = np.unique(y[test])
        if len(present) < proba.shape[1]:
            auc = None  # a class absent from this fold: its AUC is undefined
        elif proba.shape[1] == 2:
            auc = float(roc_auc_score(y[test], proba[test, 1]))
        else:
            auc = float(roc_auc_score(y[test], proba[test], multi_class="ovr", average="macro"))
        rows.append({"fold": int(k), "n_test": int(test.sum()), "roc_auc": auc})
    return rows


__all__ = ["RunOutcome", "cohort_manifest", "extract", "report", "run", "train"]

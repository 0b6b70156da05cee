"""The train stage: validate every configured model under one design, measure them with patient
bootstrap intervals, refit the primary model on all cases and save it as a bundle.

Writes into the run folder: ``metrics.json`` (the primary model's metrics, the comparison of every
model and ensemble, and feature-set comparisons when clinical columns are configured),
``oof_predictions.parquet`` (the primary model's held-out probabilities),
``comparison_predictions.parquet`` (every candidate's, long format), ``model/`` (the bundle) and
``final_model_predictions.parquet`` (the refitted model's probabilities on the training cases,
which ``radiopipe predict`` on the bundle reproduces).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe.cnn.columns import split_feature_columns
from radiopipe.config import LoadedConfig, ModelConfig
from radiopipe.errors import DataError
from radiopipe.evaluate import bootstrap_intervals, classification_metrics
from radiopipe.manifest import Manifest
from radiopipe.models.bundle import save_bundle
from radiopipe.models.designs import design_splits, grouped_kfold
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.infold import InputColumns
from radiopipe.models.validation import ValidationResult, predict_codes, validate
from radiopipe.provenance import package_versions
from radiopipe.storage import atomic_write, file_sha256
from radiopipe.table import feature_columns

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
OOF_FILE = "oof_predictions.parquet"
COMPARISON_FILE = "comparison_predictions.parquet"
FINAL_PREDICTIONS_FILE = "final_model_predictions.parquet"
BUNDLE_DIR = "model"
CLINICAL_PREFIX = "clinical__"
SITE_COLUMN = "site"


@dataclass(frozen=True)
class ModelInputs:
    """Everything a model sees of a cohort.

    Attributes
    ----------
    X : pandas.DataFrame
        One row per case (index: ``case_id``), columns in ``columns.order``.
    y : numpy.ndarray
        Class codes (training) or -1 (unlabelled).
    groups : numpy.ndarray
        Patient ids.
    sites : numpy.ndarray
        Site per case (None where the manifest gives none).
    columns : InputColumns
    """

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    sites: np.ndarray
    columns: InputColumns


def clinical_table(manifest: Manifest) -> pd.DataFrame:
    """The manifest's clinical columns as strings, indexed by ``case_id``."""
    rows = {case.case_id: case.clinical for case in manifest.cases}
    return pd.DataFrame.from_dict(rows, orient="index")


def model_inputs(
    frame: pd.DataFrame,
    clinical: pd.DataFrame | None,
    columns: InputColumns,
    classes: list[str],
) -> ModelInputs:
    """Assemble the model's input table from the feature table and the manifest's columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature table (one row per case).
    clinical : pandas.DataFrame or None
        :func:`clinical_table` of the manifest; needed when ``columns`` has clinical columns.
    columns : InputColumns
        Wanted columns; clinical names carry the ``clinical__`` prefix.
    classes : list of str
        Class labels by code; a label outside them becomes -1.

    Raises
    ------
    DataError
        For a missing clinical column, a non-numeric value in a numeric column, or a missing
        site when ComBat needs it.
    """
    index = pd.Index(frame["case_id"].astype(str), name="case_id")
    image_columns = (*columns.image, *columns.embedding)
    parts = {name: frame[name].to_numpy(dtype=np.float64) for name in image_columns}
    for name in (*columns.numeric, *columns.categorical):
        parts[name] = _clinical_column(clinical, name, index, numeric=name in columns.numeric)
    sites = frame["site"].to_numpy(dtype=object)
    if columns.site is not None:
        missing = index[pd.isna(sites)].tolist()
        if missing:
            raise DataError(
                f"ComBat harmonisation needs a 'site' for every case; missing for "
                f"{', '.join(missing[:5])}"
            )
        parts[columns.site] = sites.astype(str)
    X = pd.DataFrame(parts, index=index, columns=columns.order)
    codes = {c: i for i, c in enumerate(classes)}
    y = frame["label"].map(lambda label: codes.get(label, -1)).to_numpy(dtype=np.int64)
    return ModelInputs(X, y, frame["patient_id"].to_numpy(dtype=object), sites, columns)


def _clinical_column(clinical, name: str, case_ids: pd.Index, *, numeric: bool) -> np.ndarray:
    column = name.removeprefix(CLINICAL_PREFIX)
    if clinical is None or column not in clinical.columns:
        have = [] if clinical is None else sorted(clinical.columns)
        raise DataError(
            f"clinical column '{column}' is not in the manifest (its extra columns: "
            f"{', '.join(have) or 'none'})"
        )
    values = clinical.loc[case_ids, column].fillna("").astype(str).str.strip()
    empty = values == ""
    if not numeric:
        return np.where(empty, np.nan, values.to_numpy(dtype=object))
    parsed = pd.to_numeric(values.where(~empty), errors="coerce")
    bad = values[parsed.isna() & ~empty]
    if len(bad):
        shown = ", ".join(f"{case} ('{v}')" for case, v in bad.head(5).items())
        raise DataError(f"clinical column '{column}' must be numeric; not a number in {shown}")
    return parsed.to_numpy(dtype=np.float64)


def input_columns(
    frame: pd.DataFrame, model: ModelConfig, feature_set: str, *, pca_components: int = 8
) -> InputColumns:
    """The input columns of one feature set.

    'image' (every image column: radiomics and CNN embeddings), 'fused' (the same, named so in
    the radiomics / CNN ablation), 'radiomics', 'cnn', 'clinical' or 'combined' (image and
    clinical). CNN embeddings are reduced in-fold to ``pca_components`` components.
    """
    clinical = model.clinical
    radiomics, embedding = split_feature_columns(feature_columns(frame))
    use_radiomics = feature_set in ("image", "fused", "combined", "radiomics")
    use_cnn = feature_set in ("image", "fused", "combined", "cnn")
    use_clinical = feature_set in ("clinical", "combined")
    combat = model.preprocessing.harmonise == "combat" and use_radiomics and bool(radiomics)
    return InputColumns(
        image=tuple(radiomics) if use_radiomics else (),
        numeric=tuple(CLINICAL_PREFIX + c for c in clinical.numeric) if use_clinical else (),
        categorical=(
            tuple(CLINICAL_PREFIX + c for c in clinical.categorical) if use_clinical else ()
        ),
        site=SITE_COLUMN if combat else None,
        embedding=tuple(embedding) if use_cnn else (),
        embedding_components=pca_components,
    )


def feature_sets(loaded: LoadedConfig) -> list[str]:
    """The validated feature sets, the main one first (see :func:`input_columns`).

    Clinical columns add 'image' (or 'fused') and 'clinical' beside 'combined'; features.kind
    'both' adds the radiomics-only and CNN-only ablation.
    """
    config = loaded.config
    clinical = config.model.clinical
    has_clinical = bool(clinical.numeric or clinical.categorical)
    both = config.features.kind == "both"
    image_set = "fused" if both else "image"
    sets = ["combined" if has_clinical else image_set]
    if has_clinical and clinical.compare_feature_sets:
        sets += [image_set, "clinical"]
    if both and config.cnn.compare_feature_sets:
        sets += ["radiomics", "cnn"]
    return sets


def train(loaded: LoadedConfig, frame: pd.DataFrame, provenance: dict,
          clinical: pd.DataFrame | None, out: Path, *, dask_address: str | None = None) -> dict:
    """Validate, compare, refit and save; returns the content of ``metrics.json``.

    Parameters
    ----------
    loaded : LoadedConfig
    frame : pandas.DataFrame
        The feature table.
    provenance : dict
        The table's run provenance (failed cases).
    clinical : pandas.DataFrame or None
        :func:`clinical_table` of the cohort, when clinical columns are configured.
    out : Path
        Run folder.
    dask_address : str, optional
        A Dask scheduler (``compute.distributed_training``): XGBoost and LightGBM fit on its
        workers through their Dask estimators.
    """
    config = loaded.config
    model = config.model
    if frame.empty or not feature_columns(frame):
        raise DataError(
            "the feature table has no cases with features; see the run's failures/ folder"
        )
    classes = sorted(frame["label"].unique())
    if len(classes) < 2:
        raise DataError(f"only class '{classes[0]}' has cases with features; need at least two")
    sets = feature_sets(loaded)
    main_set = sets[0]
    k = config.cnn.pca_components
    inputs = model_inputs(
        frame, clinical, input_columns(frame, model, main_set, pca_components=k), classes
    )
    splits = design_splits(model.cv, inputs.y, inputs.groups, inputs.sites)
    settings = FitSettings(model.search, model.preprocessing.calibration, model.cv.seed)

    start = time.perf_counter()
    results = []
    for feature_set in sets:
        # Compared models use the main feature set; the other sets compare the primary model.
        columns = input_columns(frame, model, feature_set, pca_components=k)
        subset = model_inputs(frame, clinical, columns, classes)
        names = model.candidates if feature_set == main_set else [model.name]
        candidates = [
            make_candidate(model, n, subset.columns, seed=model.cv.seed, dask_address=dask_address)
            for n in names
        ]
        # Dask fits run one at a time: a booster fit occupies every worker at once (its workers
        # train together), so two concurrent fits could each hold some workers and wait forever.
        n_jobs = 1 if dask_address is not None else config.compute.n_jobs
        found = validate(candidates, subset.X, subset.y, subset.groups, splits, settings,
                         n_jobs=n_jobs)
        results += [(result, feature_set) for result in found]
    logger.info("validated %d candidate(s) in %.1f s", len(results), time.perf_counter() - start)

    comparison = [
        _summary(r, fs, inputs, classes, model, primary=i == 0) for i, (r, fs) in enumerate(results)
    ]
    primary_result = results[0][0]
    _write_predictions(out, inputs, classes, results)
    final = _refit_and_save(out, loaded, inputs, classes, settings, frame, dask_address)
    tested = primary_result.tested
    return {
        "config_hash": loaded.hash,
        "task": {
            "classes": classes,
            "n_cases": int(len(frame)),
            "n_patients": int(frame["patient_id"].nunique()),
            "n_tested": int(tested.sum()),
            "failed_cases": provenance.get("failed_cases", []),
        },
        "features": {
            "backend": str(frame["backend"].iloc[0]),
            "backend_version": str(frame["backend_version"].iloc[0]),
            "n_features": len(feature_columns(frame)),
            "kind": config.features.kind,
            "n_embedding": len(inputs.columns.embedding),
            "clinical": list(inputs.columns.numeric + inputs.columns.categorical),
        },
        "model": model.name,
        "validation": _validation_summary(model, len(splits)),
        "metrics": _json_safe(
            classification_metrics(inputs.y[tested], primary_result.proba[tested], classes)
        ),
        "confidence_intervals": comparison[0]["ci"],
        "per_fold": _per_fold(inputs.y, primary_result),
        "comparison": comparison,
        "best_model": max(
            (c for c in comparison if c["feature_set"] == main_set),
            key=lambda c: -np.inf if c["metrics"]["roc_auc"] is None else c["metrics"]["roc_auc"],
        )["model"],
        "final_model": final,
        "versions": package_versions(),
    }


def _summary(result: ValidationResult, feature_set: str, inputs: ModelInputs, classes,
             model: ModelConfig, *, primary: bool) -> dict:
    """Metrics and patient-bootstrap intervals of one candidate's held-out predictions."""
    tested = result.tested
    values = classification_metrics(inputs.y[tested], result.proba[tested], classes)
    scalars = {k: v for k, v in values.items() if not isinstance(v, (dict, list))}
    intervals = bootstrap_intervals(
        inputs.y[tested], result.proba[tested], inputs.groups[tested],
        n_resamples=model.bootstrap.n_resamples, seed=model.bootstrap.seed,
    )
    return {
        "model": result.name,
        "kind": result.kind,
        "feature_set": feature_set,
        "primary": primary,
        "metrics": _json_safe(scalars),
        "ci": intervals,
        "best_params": result.best_params,
    }


def _json_safe(value):
    """NaN (an undefined metric) becomes None, recursively: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def _write_predictions(out: Path, inputs: ModelInputs, classes, results) -> None:
    meta = pd.DataFrame(
        {
            "case_id": inputs.X.index.to_numpy(),
            "patient_id": inputs.groups,
            "label": np.asarray(classes, dtype=object)[inputs.y],
        }
    )
    frames = []
    for result, feature_set in results:
        part = meta.copy()
        part["fold"] = result.fold
        for k, name in enumerate(classes):
            part[f"proba__{name}"] = result.proba[:, k]
        if not frames:
            atomic_write(out / OOF_FILE, lambda tmp, p=part: p.to_parquet(tmp, index=False))
        frames.append(part.assign(model=result.name, feature_set=feature_set))
    long = pd.concat(frames, ignore_index=True)
    atomic_write(out / COMPARISON_FILE, lambda tmp: long.to_parquet(tmp, index=False))


def _refit_and_save(out: Path, loaded: LoadedConfig, inputs: ModelInputs, classes,
                    settings: FitSettings, frame: pd.DataFrame, dask_address: str | None) -> dict:
    """Fit the primary model on every case (searching on grouped folds of all of them)."""
    config = loaded.config
    model = config.model
    candidate = make_candidate(model, model.name, inputs.columns, n_jobs=config.compute.n_jobs,
                               seed=model.cv.seed, dask_address=dask_address)
    inner = grouped_kfold(inputs.y, inputs.groups, model.cv.inner_splits, model.cv.seed, lower=True)
    fitted = fit_candidate(candidate, inputs.X, inputs.y, inputs.groups, inner, settings)
    proba = predict_codes(fitted.estimator, inputs.X, len(classes))
    columns = inputs.columns
    info = {
        "model": model.name,
        "kind": candidate.kind,
        "classes": classes,
        "config_hash": loaded.hash,
        "input_columns": {
            "image": list(columns.image),
            "numeric": list(columns.numeric),
            "categorical": list(columns.categorical),
            "site": columns.site,
            "embedding": list(columns.embedding),
            "embedding_components": columns.embedding_components,
        },
        "sites": sorted(set(inputs.X[columns.site])) if columns.site else None,
        "best_params": fitted.best_params,
        "settings": {
            "features": config.features.model_dump(mode="json"),
            "reading": config.data.model_dump(
                mode="json", include={"mask_label", "channel_policy", "geometry_tolerance"}
            ),
            "feature_backend_version": str(frame["backend_version"].iloc[0]),
            "cnn": _cnn_settings(loaded) if columns.embedding else None,
        },
    }
    save_bundle(out / BUNDLE_DIR, fitted.estimator, feature_columns=columns.order, info=info)
    table = pd.DataFrame({"case_id": inputs.X.index.to_numpy()})
    for k, name in enumerate(classes):
        table[f"proba__{name}"] = proba[:, k]
    atomic_write(out / FINAL_PREDICTIONS_FILE, lambda tmp: table.to_parquet(tmp, index=False))
    return {"bundle": BUNDLE_DIR, "best_params": fitted.best_params}


def _cnn_settings(loaded: LoadedConfig) -> dict:
    """What predicting new cases needs to embed them as the training cases were."""
    from radiopipe.cnn.backbones import weights_file

    cnn = loaded.config.cnn
    configured = loaded.resolve(cnn.weights) if cnn.weights is not None else None
    return {
        "config": cnn.model_dump(mode="json"),
        "weights": None if configured is None else str(configured),
        "weights_sha256": file_sha256(weights_file(cnn.backbone, configured)),
    }


def _validation_summary(model: ModelConfig, n_splits: int) -> dict:
    cv = model.cv
    nested = model.search.n_iter > 0
    if cv.design == "kfold":
        scheme = f"patient-grouped stratified {cv.n_splits}-fold CV"
    elif cv.design == "repeated_kfold":
        scheme = (f"patient-grouped stratified {cv.n_splits}-fold CV repeated {cv.n_repeats} "
                  "times (probabilities averaged over repeats)")
    elif cv.design == "train_val_test":
        scheme = "patient-grouped train/validation/test split " + "/".join(
            f"{f:.0%}" for f in cv.fractions
        )
    else:
        scheme = f"external validation on held-out site(s) {', '.join(cv.external_sites)}"
    if nested:
        scheme += (f", hyperparameters by random search ({model.search.n_iter} candidates, "
                   f"{model.search.scoring}) on inner patient-grouped folds")
    return {
        "scheme": scheme,
        "design": cv.design,
        "nested": nested,
        "n_outer_splits": n_splits,
        "n_splits": cv.n_splits,
        "inner_splits": cv.inner_splits,
        "seed": cv.seed,
        "search": model.search.model_dump(),
        "preprocessing": model.preprocessing.model_dump(),
        "bootstrap": model.bootstrap.model_dump(),
    }


def _per_fold(y: np.ndarray, result: ValidationResult) -> list[dict]:
    rows = []
    for k in np.unique(result.fold[result.fold >= 0]):
        test = result.fold == k
        names = [str(code) for code in range(result.proba.shape[1])]
        auc = classification_metrics(y[test], result.proba[test], names)["roc_auc"]
        rows.append({"fold": int(k), "n_test": int(test.sum()),
                     "roc_auc": None if np.isnan(auc) else auc})
    return rows

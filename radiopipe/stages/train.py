"""The train stage: validate every configured model under one design, measure them with patient
bootstrap intervals, keep the primary model's outer-split models, refit it on all cases and save
it as a bundle.

Reads ``features.parquet``, the model, CNN and feature settings (and the manifest when clinical
columns are configured); reruns only when one of them changed. Writes ``metrics.json`` (a
:class:`~radiopipe.records.ValidationRecord`), ``oof_predictions.parquet``,
``comparison_predictions.parquet``, ``fold_models/`` (one bundle per outer split of the primary
model: the explain stage explains held-out rows with them, no refit), ``model/`` and
``final_model_predictions.parquet`` (the refitted model's probabilities on the training cases,
which ``radiopipe predict`` on the bundle reproduces).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import pandas as pd

from radiopipe.columns import acquisition_columns
from radiopipe.config import LoadedConfig
from radiopipe.devices import check_devices
from radiopipe.errors import DataError
from radiopipe.evaluate import classification_metrics
from radiopipe.models.bundle import save_bundle
from radiopipe.models.calibration import check_calibration_splits
from radiopipe.models.design_checks import auc_difference
from radiopipe.models.design_validations import (
    ExtraValidation,
    design_checks,
    negative_image_aucs,
)
from radiopipe.models.designs import design_splits, grouped_kfold
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.health import model_health
from radiopipe.models.inputs import (
    ModelInputs,
    clinical_table,
    columns_record,
    feature_sets,
    input_columns,
    model_inputs,
)
from radiopipe.models.shift import fit_reference
from radiopipe.models.stability import perturbed_table, stability_record
from radiopipe.models.summary import (
    candidate_summary,
    json_safe,
    per_fold,
    validation_summary,
)
from radiopipe.models.validation import predict_codes, validate
from radiopipe.provenance import package_versions
from radiopipe.records import (
    BundleManifest,
    FeatureSettingsRecord,
    FeatureSummary,
    FoldModel,
    HealthFinding,
    RecordError,
    ShiftReference,
    TaskSummary,
    ValidationRecord,
)
from radiopipe.run_folder import RunFolder
from radiopipe.scaleout import compute_cluster
from radiopipe.stage_reuse import StageReads, input_hashes, run_stage
from radiopipe.storage import atomic_write, atomic_write_json, file_sha256
from radiopipe.study import cohort_manifest, manifest_sha256, open_run
from radiopipe.table import feature_columns, read_table

logger = logging.getLogger(__name__)

STAGE = "train"


def stage_reads(loaded: LoadedConfig, run: RunFolder) -> StageReads:
    """The settings and inputs the train stage reads."""
    config = loaded.config
    settings = {
        "model": config.model.model_dump(mode="json"),
        "features": config.features.model_dump(mode="json"),
        "reading": config.data.reading(),
        "cnn": config.cnn.model_dump(mode="json"),
        "distributed_training": config.compute.distributed_training,
    }
    inputs = input_hashes(run, [run.features])
    if config.model.stability_filtered:
        inputs.update(input_hashes(run, [run.robustness_values]))
    if config.model.controls.negative_images:
        inputs.update(input_hashes(run, [run.control_values]))
    clinical = config.model.clinical
    if clinical.numeric or clinical.categorical:
        inputs["manifest"] = manifest_sha256(loaded)
    return StageReads(settings, inputs)


def read_validation(run: RunFolder) -> ValidationRecord:
    """The train stage's record (``metrics.json``).

    Raises
    ------
    RecordError
        When the run folder has none (train has not run), or it is not a valid record.
    """
    try:
        text = run.metrics.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordError(
            f"no {run.metrics.name} in the run folder; run 'radiopipe train CONFIG' first"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise RecordError(f"{run.metrics.name} is not valid JSON; rerun 'radiopipe train "
                          "CONFIG'") from None
    return ValidationRecord.from_json(data)


def train(loaded: LoadedConfig) -> ValidationRecord:
    """Validate and compare the configured models, keep the fold models, save the primary one.

    With ``compute.distributed_training`` the fits run on the Dask cluster: every (candidate,
    outer split) fit as a task through joblib's Dask backend (``joblib``), or the boosters
    through their Dask estimators (``boosters``).

    Returns
    -------
    ValidationRecord
        What ``metrics.json`` holds (reused when the stage's settings and inputs are unchanged).
    """
    check_devices(loaded)
    run = open_run(loaded)
    done = run_stage(run, STAGE, stage_reads(loaded, run), lambda: _run_training(loaded, run))
    return read_validation(run) if done.reused else done.value


def _run_training(loaded: LoadedConfig, run: RunFolder):
    """Train and write every output; (the record, the outputs)."""
    frame, provenance = read_table(run.features)
    perturbed = _perturbed(loaded, run, frame)
    clinical = loaded.config.model.clinical
    needs_manifest = bool(clinical.numeric or clinical.categorical)
    table = clinical_table(cohort_manifest(loaded)) if needs_manifest else None
    mode = loaded.config.compute.distributed_training
    with compute_cluster(loaded.config.compute) if mode != "none" else nullcontext() as cluster:
        address = cluster.address if mode == "boosters" else None
        with cluster.joblib_backend() if mode == "joblib" else nullcontext():
            record = _train(loaded, frame, provenance, table, run, address, perturbed)
    atomic_write_json(run.metrics, record.to_json())
    return record, [run.metrics, run.oof_predictions, run.comparison_predictions,
                    run.fold_models_dir, run.bundle, run.final_predictions]


def _train(loaded: LoadedConfig, frame: pd.DataFrame, provenance: dict,
           clinical: pd.DataFrame | None, run: RunFolder,
           dask_address: str | None, perturbed: pd.DataFrame | None) -> ValidationRecord:
    """Validate, compare, keep the fold models, refit and save."""
    config = loaded.config
    model = config.model
    if frame.empty or not feature_columns(frame):
        raise DataError(
            "the feature table has no cases with features; see the run's failures/ folder"
        )
    unlabelled = frame.loc[frame["label"].fillna("") == "", "case_id"].tolist()
    if unlabelled:
        shown = ", ".join(unlabelled[:5]) + (" ..." if len(unlabelled) > 5 else "")
        raise DataError(
            f"train needs a label for every case; {len(unlabelled)} case(s) have none ({shown}): "
            "fill the manifest's label column ('radiopipe extract' alone needs no labels)"
        )
    classes = sorted(frame["label"].unique())
    if len(classes) < 2:
        raise DataError(
            f"train needs at least two classes; every case with features has label "
            f"'{classes[0]}' ('radiopipe extract' alone works on one class)"
        )
    if model.threshold != "none" and len(classes) != 2:
        raise DataError(
            f"model.threshold '{model.threshold}' needs two classes; the cohort has "
            f"{len(classes)} ({', '.join(classes)}): set model.threshold to 'none'"
        )
    sets = feature_sets(loaded)
    main_set = sets[0]
    k = config.cnn.pca_components
    inputs = model_inputs(
        frame, clinical, input_columns(frame, model, main_set, pca_components=k), classes
    )
    splits = design_splits(model.cv, inputs.y, inputs.groups, inputs.sites)
    if _uses_svm(model):
        check_calibration_splits(model.svm.calibration_splits, inputs.y, inputs.groups,
                                 _training_sets(model, splits))
    settings = FitSettings(model.search, model.preprocessing.calibration, model.cv.seed)
    # Dask fits run one at a time: a booster fit occupies every worker at once (its workers
    # train together), so two concurrent fits could each hold some workers and wait forever.
    # Under joblib's Dask backend every fit is a task on the cluster, spread over all workers.
    n_jobs = {"none": config.compute.n_jobs, "joblib": -1,
              "boosters": 1}[config.compute.distributed_training]

    start = time.perf_counter()
    results = []
    for feature_set in sets:
        # Compared models use the main feature set; the other sets compare the primary model.
        columns = input_columns(frame, model, feature_set, pca_components=k)
        subset = model_inputs(frame, clinical, columns, classes)
        names = model.candidates if feature_set == main_set else [model.name]
        candidates = [
            make_candidate(model.for_feature_set(feature_set), n, subset.columns,
                           seed=model.cv.seed, dask_address=dask_address, perturbed=perturbed)
            for n in names
        ]
        main = feature_set == main_set
        keep = frozenset({model.name}) if main else frozenset()
        cut = frozenset({model.name}) if main and model.threshold != "none" else frozenset()
        found = validate(candidates, subset.X, subset.y, subset.groups, splits, settings,
                         n_jobs=n_jobs, keep_models=keep, thresholds_for=cut)
        results += [(result, feature_set) for result in found]
    logger.info("validated %d candidate(s) in %.1f s", len(results), time.perf_counter() - start)

    primary = results[0][0]
    comparison = [
        candidate_summary(r, fs, inputs, classes, model, primary=i == 0)
        for i, (r, fs) in enumerate(results)
    ]
    comparison = [
        replace(c, auc_difference=auc_difference(inputs.y, inputs.groups, r, primary, main_set,
                                                 model.bootstrap))
        if fs != main_set and r.name == model.name else c
        for c, (r, fs) in zip(comparison, results, strict=True)
    ]
    extra = ExtraValidation(n_jobs=n_jobs, dask_address=dask_address, perturbed=perturbed)
    checks = design_checks(model, inputs, splits, primary, extra)
    if model.controls.negative_images:
        checks = replace(checks, negative_images=negative_image_aucs(
            model, frame, pd.read_parquet(run.control_values), clinical, inputs, splits, extra))
    health = model_health(inputs.y, primary.proba, primary.tested, splits, comparison)
    for finding in health:
        logger.warning("%s %s: %s", finding.code, finding.severity, finding.message)
    _write_predictions(run, inputs, classes, results)
    feature_settings = _feature_settings(loaded, frame, inputs)
    folds = _save_fold_models(run, loaded, primary, splits, inputs, classes, feature_settings,
                              health)
    shift = _shift_reference(loaded, frame, inputs)
    final = _refit_and_save(run, loaded, inputs, classes, settings, feature_settings, shift,
                            health, dask_address, perturbed)
    tested = primary.tested
    return ValidationRecord(
        config_hash=loaded.hash,
        task=TaskSummary(
            classes=classes, n_cases=int(len(frame)),
            n_patients=int(frame["patient_id"].nunique()), n_tested=int(tested.sum()),
            failed_cases=list(provenance.get("failed_cases", [])),
        ),
        features=FeatureSummary(
            backend=str(frame["backend"].iloc[0]),
            backend_version=str(frame["backend_version"].iloc[0]),
            n_features=len(feature_columns(frame)), kind=config.features.kind,
            n_embedding=len(inputs.columns.embedding),
            clinical=list(inputs.columns.numeric + inputs.columns.categorical),
        ),
        model=model.name,
        validation=validation_summary(model, len(splits)),
        metrics=json_safe(classification_metrics(inputs.y[tested], primary.proba[tested], classes)),
        confidence_intervals=comparison[0].ci,
        per_fold=per_fold(inputs.y, primary),
        comparison=comparison,
        best_model=max(
            (c for c in comparison if c.feature_set == main_set),
            key=lambda c: -np.inf if c.metrics["roc_auc"] is None else c.metrics["roc_auc"],
        ).model,
        final_model=final,
        fold_models=folds,
        health=health,
        versions=package_versions(),
        checks=checks,
        interval_method=model.bootstrap.method,
    )


def _uses_svm(model) -> bool:
    """Whether the SVM is validated, alone or inside an ensemble."""
    used = set(model.candidates)
    members = [m for e in model.ensembles if e.name in used for m in e.members]
    return "svm" in used or "svm" in members


def _training_sets(model, splits) -> list[np.ndarray]:
    """Row positions of every training set a model is fitted on: the outer ones, and the inner
    ones when a search fits models on them."""
    sets = [split.train for split in splits]
    if model.search.n_iter > 0:
        sets += [split.train[train] for split in splits for train, _ in split.inner]
    return sets


def _write_predictions(run: RunFolder, inputs: ModelInputs, classes, results) -> None:
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
            atomic_write(run.oof_predictions, lambda tmp, p=part: p.to_parquet(tmp, index=False))
        frames.append(part.assign(model=result.name, feature_set=feature_set))
    long = pd.concat(frames, ignore_index=True)
    atomic_write(run.comparison_predictions, lambda tmp: long.to_parquet(tmp, index=False))


def _feature_settings(loaded: LoadedConfig, frame: pd.DataFrame,
                      inputs: ModelInputs) -> FeatureSettingsRecord:
    """How the features were made, for the bundles (new cases are extracted the same way)."""
    config = loaded.config
    return FeatureSettingsRecord(
        features=config.features.model_dump(mode="json"),
        reading=config.data.reading(),
        feature_backend_version=str(frame["backend_version"].iloc[0]),
        cnn=_cnn_settings(loaded) if inputs.columns.embedding else None,
    )


def _bundle_manifest(loaded: LoadedConfig, kind: str, inputs: ModelInputs, classes,
                     best_params: dict, settings: FeatureSettingsRecord,
                     health: list[HealthFinding], *, split: FoldModel | None,
                     shift: ShiftReference | None = None,
                     stability: dict | None = None) -> BundleManifest:
    columns = inputs.columns
    return BundleManifest(
        model=loaded.config.model.name, kind=kind, classes=list(classes),
        config_hash=loaded.hash, input_columns=columns_record(columns),
        sites=sorted(set(inputs.X[columns.site])) if columns.site else None,
        best_params=best_params, settings=settings,
        role="final" if split is None else "fold", split=split, shift=shift, health=health,
        feature_columns=list(columns.order), versions={}, files={}, stability=stability,
    )


def _save_fold_models(run: RunFolder, loaded: LoadedConfig, primary, splits,
                      inputs: ModelInputs, classes, settings: FeatureSettingsRecord,
                      health: list[HealthFinding]) -> list[FoldModel]:
    """Save the primary model of every outer split as a bundle under ``fold_models/``."""
    shutil.rmtree(run.fold_models_dir, ignore_errors=True)
    kept = []
    for i, (split, estimator) in enumerate(zip(splits, primary.models, strict=True)):
        entry = FoldModel(split=i, fold=int(split.fold), repeat=int(split.repeat))
        manifest = _bundle_manifest(loaded, primary.kind, inputs, classes, primary.best_params[i],
                                    settings, health, split=entry,
                                    stability=stability_record(estimator))
        save_bundle(run.fold_model(i), estimator, manifest)
        kept.append(entry)
    run.fold_models_dir.mkdir(parents=True, exist_ok=True)
    return kept


def _shift_reference(loaded: LoadedConfig, frame: pd.DataFrame,
                     inputs: ModelInputs) -> ShiftReference:
    """The training distribution of the model's inputs and the cases' acquisition parameters."""
    acquisition = frame.set_index("case_id")[acquisition_columns(frame.columns)]
    shift = loaded.config.model.shift
    return fit_reference(
        inputs.X, acquisition.loc[inputs.X.index], z_threshold=shift.z_threshold,
        max_fraction=shift.max_fraction, acquisition_margin=shift.acquisition_margin,
    )


def _refit_and_save(run: RunFolder, loaded: LoadedConfig, inputs: ModelInputs, classes,
                    settings: FitSettings, feature_settings: FeatureSettingsRecord,
                    shift: ShiftReference, health: list[HealthFinding],
                    dask_address: str | None, perturbed: pd.DataFrame | None) -> dict:
    """Fit the primary model on every case (searching on grouped folds of all of them)."""
    config = loaded.config
    model = config.model
    candidate = make_candidate(model, model.name, inputs.columns, n_jobs=config.compute.n_jobs,
                               seed=model.cv.seed, dask_address=dask_address, perturbed=perturbed)
    inner = grouped_kfold(inputs.y, inputs.groups, model.cv.inner_splits, model.cv.seed, lower=True)
    logger.info("train: refitting %s on all %d cases", model.name, len(inputs.y))
    start = time.perf_counter()
    fitted = fit_candidate(candidate, inputs.X, inputs.y, inputs.groups, inner, settings)
    logger.info("train: final %s fitted (%.0f s)", model.name, time.perf_counter() - start)
    proba = predict_codes(fitted.estimator, inputs.X, len(classes))
    stability = stability_record(fitted.estimator)
    manifest = _bundle_manifest(loaded, candidate.kind, inputs, classes, fitted.best_params,
                                feature_settings, health, split=None, shift=shift,
                                stability=stability)
    save_bundle(run.bundle, fitted.estimator, manifest)
    table = pd.DataFrame({"case_id": inputs.X.index.to_numpy()})
    for k, name in enumerate(classes):
        table[f"proba__{name}"] = proba[:, k]
    atomic_write(run.final_predictions, lambda tmp: table.to_parquet(tmp, index=False))
    final = {"bundle": run.bundle.name, "best_params": fitted.best_params}
    if stability is not None:  # counts only: bundle.json lists each feature's ICC
        final["stability"] = {k: stability[k] for k in ("threshold", "icc_kind", "n_kept",
                                                         "n_measured")}
    return final


def _perturbed(loaded: LoadedConfig, run: RunFolder, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The robustness run's perturbed features the stability filter reads (None when off).

    Raises
    ------
    DataError
        When the robustness run has not run, or has no versions of a case of the feature table.
    """
    if not loaded.config.model.stability_filtered:
        return None
    try:
        values = pd.read_parquet(run.robustness_values)
    except FileNotFoundError:
        raise DataError(
            f"the stability filter reads {run.robustness_values.name}, and the "
            "run folder has none: run 'radiopipe robustness CONFIG' first ('radiopipe run' does)"
        ) from None
    table = perturbed_table(values)
    known = set(table.index.get_level_values(0))
    missing = [c for c in frame["case_id"] if c not in known]
    if missing:
        raise DataError(
            f"case '{missing[0]}' has features but no perturbed versions in "
            f"{run.robustness_values.name} ({len(missing)} case(s) in all): see robustness/"
            "failures/ and rerun 'radiopipe robustness CONFIG' over the same cohort"
        )
    return table


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

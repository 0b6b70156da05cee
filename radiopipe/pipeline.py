"""The run's stages: cohort -> features -> validated models -> explanations -> report, and
prediction and explanation of new cases.

Each stage reads what the previous one wrote in the run folder, so stages can run on their own
(``radiopipe extract``, ``train``, ``report``; the report stage explains first when
``explain.enabled``) or together (``radiopipe run``). Every stage writes the resolved config and
its hash into the run folder. ``predict`` and ``explain_case`` need no config: they apply a saved
model bundle, with the feature settings stored in it, to a new manifest.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe import training
from radiopipe.config import (
    CNNConfig,
    DataConfig,
    ExplainConfig,
    FeatureConfig,
    LoadedConfig,
    resolved_dict,
    write_resolved_config,
)
from radiopipe.datasets import BUILTIN
from radiopipe.errors import DataError
from radiopipe.explain.stage import explain_run
from radiopipe.extraction import CaseResult, extract_cohort
from radiopipe.manifest import Manifest, read_manifest
from radiopipe.models.bundle import Bundle, BundleError, load_bundle
from radiopipe.models.infold import InputColumns
from radiopipe.models.validation import predict_codes
from radiopipe.provenance import package_versions
from radiopipe.report import write_report
from radiopipe.report.new_case import write_new_case_page
from radiopipe.scaleout import compute_cluster
from radiopipe.storage import atomic_write, atomic_write_json
from radiopipe.table import FEATURES_FILE, build_table, feature_columns, read_table, write_table
from radiopipe.training import METRICS_FILE, clinical_table, model_inputs

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.csv"


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


@dataclass(frozen=True)
class PredictOutcome:
    """What a prediction run produced.

    Attributes
    ----------
    failed_cases : list of str
        Cases whose extraction failed (no prediction; the exit code is 1 when any did).
    predictions : Path
        The written ``predictions.csv``.
    """

    failed_cases: list[str]
    predictions: Path


def cohort_manifest(loaded: LoadedConfig) -> Manifest:
    """The run's cohort: a built-in dataset (written on first use) or the configured manifest."""
    data = loaded.config.data
    if data.builtin is not None:
        path = BUILTIN[data.builtin](**data.builtin_options.model_dump())
    else:
        path = loaded.resolve(data.manifest)
    return read_manifest(path)


def extract(loaded: LoadedConfig, *, progress: bool = True) -> list[CaseResult]:
    """Extract features (radiomics, CNN embeddings or both) and write ``features.parquet``.

    Radiomics run on the compute engine: ``n_jobs`` local processes, or one task per case on
    the Dask cluster of ``compute.engine: dask``.
    """
    out = _prepare(loaded)
    config = loaded.config
    manifest = cohort_manifest(loaded)
    results = None
    if config.features.kind != "cnn":
        with compute_cluster(config.compute) as cluster:
            results = extract_cohort(
                manifest, config.features, config.data, out, n_jobs=config.compute.n_jobs,
                cluster=cluster, progress=progress,
            )
    if config.features.kind != "radiomics":
        from radiopipe.cnn.extraction import add_embeddings  # torch only for the CNN branch

        weights = loaded.resolve(config.cnn.weights) if config.cnn.weights is not None else None
        results = add_embeddings(
            results, manifest, config.cnn, config.data, out, weights=weights, progress=progress
        )
    failed = [r.case_id for r in results if r.status == "failed"]
    write_table(build_table(manifest, results), out / FEATURES_FILE, config_hash=loaded.hash, failed_cases=failed)
    return results


def train(loaded: LoadedConfig) -> dict:
    """Validate and compare the configured models, save the primary one; write ``metrics.json``.

    With ``compute.distributed_training`` the boosters fit on the Dask cluster. See
    :mod:`radiopipe.training` for everything the stage writes.
    """
    out = _prepare(loaded)
    frame, provenance = read_table(out / FEATURES_FILE)
    clinical = loaded.config.model.clinical
    needs_manifest = bool(clinical.numeric or clinical.categorical)
    table = clinical_table(cohort_manifest(loaded)) if needs_manifest else None
    compute = loaded.config.compute
    with compute_cluster(compute) if compute.distributed_training else nullcontext() as cluster:
        address = None if cluster is None else cluster.address
        metrics = training.train(loaded, frame, provenance, table, out, dask_address=address)
    atomic_write_json(out / METRICS_FILE, metrics)
    return metrics


def predict(
    bundle_dir: Path, manifest_path: Path, out_dir: Path, *, n_jobs: int = 1, progress: bool = True
) -> PredictOutcome:
    """Extract features of new cases with the bundle's settings and write their probabilities.

    Parameters
    ----------
    bundle_dir : Path
        A ``model`` folder written by the train stage; refused if modified or made for other
        library versions.
    manifest_path : Path
        Cohort manifest of the new cases (with the clinical columns the model uses).
    out_dir : Path
        Folder for ``predictions.csv``, the extracted features and any ``failures/``.
    n_jobs : int
        Extraction processes.
    progress : bool
        Show a progress bar.

    Returns
    -------
    PredictOutcome
    """
    bundle = load_bundle(bundle_dir)
    manifest = read_manifest(manifest_path, require_labels=False)
    out_dir = Path(out_dir)
    failed, inputs = _bundle_inputs(bundle, manifest, manifest_path, out_dir, n_jobs=n_jobs,
                                    progress=progress)
    path = out_dir / PREDICTIONS_FILE
    if inputs is None:
        atomic_write(path, lambda tmp: pd.DataFrame(columns=["case_id"]).to_csv(tmp, index=False))
        return PredictOutcome(failed_cases=failed, predictions=path)
    proba = predict_codes(bundle.estimator, inputs.X[bundle.feature_columns], len(bundle.classes))
    result = pd.DataFrame({"case_id": inputs.X.index, "patient_id": inputs.groups})
    result["predicted"] = np.asarray(bundle.classes, dtype=object)[proba.argmax(axis=1)]
    for k, name in enumerate(bundle.classes):
        result[f"proba__{name}"] = proba[:, k]
    atomic_write(path, lambda tmp: result.to_csv(tmp, index=False, float_format="%.17g"))
    return PredictOutcome(failed_cases=failed, predictions=path)


def explain_case(
    bundle_dir: Path, manifest_path: Path, case_id: str, out_dir: Path, *, progress: bool = True
) -> PredictOutcome:
    """Write one new case's explanation page: prediction, waterfall and feature maps.

    The case's features are extracted with the bundle's settings, predicted by the bundle's
    model (refitted on all training cases) and explained with that model, with the default
    explanation settings (:class:`radiopipe.config.ExplainConfig`).

    Parameters
    ----------
    bundle_dir : Path
        A ``model`` folder written by the train stage.
    manifest_path : Path
        Manifest holding the case (its label may be empty).
    case_id : str
    out_dir : Path
        Folder for ``explain-<case_id>.html``, its tables, ``shap_values.parquet``, the
        extracted features and any ``failures/``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    PredictOutcome
        ``predictions`` is the page (the folder when the case failed extraction, which
        ``failed_cases`` then names).
    """
    bundle = load_bundle(bundle_dir)
    manifest = read_manifest(manifest_path, require_labels=False)
    case = next((c for c in manifest.cases if c.case_id == case_id), None)
    if case is None:
        shown = ", ".join(c.case_id for c in manifest.cases[:5])
        raise DataError(
            f"case '{case_id}' is not in {manifest.name}; it lists {shown}"
            f"{' ...' if len(manifest.cases) > 5 else ''}"
        )
    single = Manifest(cases=(case,), classes=manifest.classes, name=manifest.name)
    out_dir = Path(out_dir)
    failed, inputs = _bundle_inputs(bundle, single, manifest_path, out_dir, n_jobs=1,
                                    progress=progress)
    if inputs is None:
        return PredictOutcome(failed_cases=failed, predictions=out_dir)
    settings = bundle.manifest["settings"]
    page = write_new_case_page(
        bundle, case, inputs.X[bundle.feature_columns],
        FeatureConfig.model_validate(settings["features"]),
        DataConfig(manifest=Path(manifest_path).name, **settings["reading"]),
        ExplainConfig(), out_dir,
    )
    return PredictOutcome(failed_cases=[], predictions=page)


def _bundle_inputs(bundle: Bundle, manifest: Manifest, manifest_path: Path, out_dir: Path, *,
                   n_jobs: int, progress: bool):
    """Extract the manifest's cases with the bundle's settings; (failed case ids, the model's
    inputs or None when no case has features)."""
    settings = bundle.manifest["settings"]
    features = FeatureConfig.model_validate(settings["features"])
    data = DataConfig(manifest=Path(manifest_path).name, **settings["reading"])
    results = None
    if features.kind != "cnn":
        results = extract_cohort(
            manifest, features, data, out_dir, n_jobs=n_jobs, progress=progress
        )
    cnn = settings.get("cnn")
    if cnn is not None:
        from radiopipe.cnn.extraction import add_embeddings  # torch only for the CNN branch

        results = add_embeddings(
            results, manifest, CNNConfig.model_validate(cnn["config"]), data, out_dir,
            weights=None if cnn["weights"] is None else Path(cnn["weights"]),
            expected_weights_sha256=cnn["weights_sha256"], progress=progress,
        )
    failed = [r.case_id for r in results if r.status == "failed"]
    frame = build_table(manifest, results)
    if frame.empty:
        return failed, None
    _check_compatible(bundle, frame)
    spec = bundle.manifest["input_columns"]
    columns = InputColumns(
        image=tuple(spec["image"]), numeric=tuple(spec["numeric"]),
        categorical=tuple(spec["categorical"]), site=spec["site"],
        embedding=tuple(spec.get("embedding", ())),
        embedding_components=spec.get("embedding_components", 8),
    )
    table = clinical_table(manifest) if columns.numeric or columns.categorical else None
    inputs = model_inputs(frame, table, columns, bundle.classes)
    return failed, inputs


def _check_compatible(bundle: Bundle, frame: pd.DataFrame) -> None:
    """Refuse features from another backend version, other columns, or unknown sites."""
    expected = bundle.manifest["settings"]["feature_backend_version"]
    found = sorted(set(frame["backend_version"].astype(str)))
    if found != [expected]:
        raise BundleError(
            f"the bundle's features came from backend version {expected}; these cases were "
            f"extracted with {', '.join(found)}"
        )
    spec = bundle.manifest["input_columns"]
    wanted = set(spec["image"]) | set(spec.get("embedding", ()))
    have = set(feature_columns(frame))
    if wanted != have:
        missing, extra = sorted(wanted - have), sorted(have - wanted)
        raise BundleError(
            "the new cases' feature columns differ from the bundle's: "
            f"{len(missing)} missing ({', '.join(missing[:3])}), {len(extra)} extra "
            f"({', '.join(extra[:3])})"
        )
    known = bundle.manifest.get("sites")
    if known is not None:
        unknown = sorted(set(frame["site"].dropna().astype(str)) - set(known))
        if unknown or frame["site"].isna().any():
            raise DataError(
                f"the bundle harmonises by site (ComBat) and knows only {', '.join(known)}; "
                f"new cases come from {', '.join(unknown) or 'no site'}"
            )


def explain(loaded: LoadedConfig) -> Path:
    """Explain the primary model's held-out rows and the report cases (see
    :func:`radiopipe.explain.stage.explain_run`); reuses earlier results for unchanged inputs."""
    out = _prepare(loaded)
    return explain_run(loaded, cohort_manifest(loaded), out)


def report(loaded: LoadedConfig) -> Path:
    """Write ``report.html`` from the run folder, explaining first when ``explain.enabled``."""
    out = _prepare(loaded)
    if loaded.config.explain.enabled:
        explain(loaded)
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


__all__ = [
    "PredictOutcome",
    "RunOutcome",
    "cohort_manifest",
    "explain",
    "explain_case",
    "extract",
    "predict",
    "report",
    "run",
    "train",
]

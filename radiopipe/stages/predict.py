"""The predict stage: new cases through a saved model bundle, and one new case's explanation page.

Needs no config: the bundle (``model/`` of a run) holds the feature and reading settings its
model was trained with, and new cases are extracted with them into a prediction folder laid out
like a run folder (``cases/``, ``failures/``, ``features.parquet``, ``predictions.csv``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe.columns import acquisition_columns
from radiopipe.config import CNNConfig, DataConfig, ExplainConfig, FeatureConfig
from radiopipe.errors import DataError
from radiopipe.explain.anatomy import embedding_pca
from radiopipe.explain.case_maps import case_feature_maps, explained_output, top_features
from radiopipe.explain.cnn_saliency import SaliencyMap, cnn_saliency, component_shap
from radiopipe.explain.contribution_maps import CaseModel
from radiopipe.explain.explainers import Explanation, explain
from radiopipe.explain.location import case_location
from radiopipe.explain.modality_panels import modality_panels
from radiopipe.explain.store import write_explanation
from radiopipe.extraction import extract_cohort
from radiopipe.manifest import Case, Manifest, read_manifest
from radiopipe.models.bundle import Bundle, BundleError, load_bundle
from radiopipe.models.inputs import (
    clinical_table,
    columns_from_record,
    model_inputs,
)
from radiopipe.models.shift import shift_table
from radiopipe.models.validation import predict_codes
from radiopipe.report.case_pages import CaseView
from radiopipe.report.new_case import write_new_case_page
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write
from radiopipe.table import build_table, feature_columns, write_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictOutcome:
    """What a prediction run produced.

    Attributes
    ----------
    failed_cases : list of str
        Cases whose extraction failed (no prediction; the exit code is 1 when any did).
    predictions : Path
        The written ``predictions.csv`` (for ``explain_case``: the page, or the folder when the
        case failed).
    """

    failed_cases: list[str]
    predictions: Path


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
    _warn_health(bundle)
    manifest = read_manifest(manifest_path, require_labels=False)
    run = RunFolder(out_dir).create()
    failed, inputs, shift = _bundle_inputs(bundle, manifest, manifest_path, run, n_jobs=n_jobs,
                                           progress=progress)
    path = run.predictions
    if inputs is None:
        atomic_write(path, lambda tmp: pd.DataFrame(columns=["case_id"]).to_csv(tmp, index=False))
        return PredictOutcome(failed_cases=failed, predictions=path)
    proba = predict_codes(bundle.estimator, inputs.X[bundle.feature_columns], len(bundle.classes))
    result = pd.DataFrame({"case_id": inputs.X.index, "patient_id": inputs.groups})
    result["predicted"] = np.asarray(bundle.classes, dtype=object)[proba.argmax(axis=1)]
    for k, name in enumerate(bundle.classes):
        result[f"proba__{name}"] = proba[:, k]
    if shift is not None:
        result = result.join(shift, on="case_id")
        _warn_shift(shift)
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
    _warn_health(bundle)
    manifest = read_manifest(manifest_path, require_labels=False)
    case = next((c for c in manifest.cases if c.case_id == case_id), None)
    if case is None:
        shown = ", ".join(c.case_id for c in manifest.cases[:5])
        raise DataError(
            f"case '{case_id}' is not in {manifest.name}; it lists {shown}"
            f"{' ...' if len(manifest.cases) > 5 else ''}"
        )
    single = Manifest(cases=(case,), classes=manifest.classes, name=manifest.name)
    run = RunFolder(out_dir).create()
    failed, inputs, shift = _bundle_inputs(bundle, single, manifest_path, run, n_jobs=1,
                                           progress=progress)
    if inputs is None:
        return PredictOutcome(failed_cases=failed, predictions=run.root)
    warning = None
    if shift is not None and shift["shift_flagged"].iloc[0]:
        _warn_shift(shift)
        warning = _shift_words(shift.iloc[0])
    view = _new_case_view(bundle, case, inputs.X[bundle.feature_columns],
                          _reading(bundle, manifest_path), ExplainConfig(), run, warning)
    page = write_new_case_page(view, run.new_case_page(case.case_id),
                               health=bundle.manifest.health)
    return PredictOutcome(failed_cases=[], predictions=page)


def _new_case_view(bundle: Bundle, case: Case, X: pd.DataFrame, data: DataConfig,
                   settings: ExplainConfig, run: RunFolder, warning: str | None) -> CaseView:
    """Predict, explain and map one new case with a bundle's model; its SHAP values are saved.

    A bundle with CNN columns adds the case's CNN saliency map (the bundle's PCA and backbone);
    ``warning`` (the case lies outside the training distribution) leads the page's source line.
    """
    classes = bundle.classes
    manifest = bundle.manifest
    explanation = explain(bundle.estimator, X, classes, max_evals=settings.max_evals)
    info = {"model": manifest.model, "config_hash": manifest.config_hash}
    write_explanation(run.shap_values, explanation, [-1], info)
    proba = predict_codes(bundle.estimator, X, len(classes))[0]
    probabilities = {c: float(p) for c, p in zip(classes, proba, strict=True)}
    predicted = classes[int(np.argmax(proba))]
    k = explained_output(explanation, predicted)
    mapped = top_features(explanation, case.case_id, predicted, settings.feature_maps)
    features = FeatureConfig.model_validate(manifest.settings.features)
    return CaseView(
        case_id=case.case_id,
        label=case.label or None,
        probabilities=probabilities,
        source=(f"{warning} " if warning else "")
        + f"New case, predicted and explained by the model bundle "
        f"'{manifest.model}' (refitted on all training cases; config hash "
        f"{manifest.config_hash[:12]}). Cohort percentiles need the training data and "
        "are not shown.",
        output=explanation.outputs[k],
        output_space=explanation.output_space,
        method=explanation.method,
        base_value=float(explanation.base_values[0, k]),
        shap=pd.Series(explanation.values[0, :, k], index=list(explanation.features)),
        values=X.iloc[0],
        cohort=None,
        maps=case_feature_maps(case, mapped, features, data, settings.feature_maps,
                               CaseModel(bundle.estimator, X, list(classes),
                                         explanation.outputs[k])),
        saliency=_saliency(bundle, case, explanation, k, data, settings),
        location=case_location(case, data, features),
        normalized=features.normalize,
        modality_images=modality_panels(case, features, data),
    )


def _saliency(bundle: Bundle, case: Case, explanation: Explanation, output: int,
              data: DataConfig, settings: ExplainConfig) -> SaliencyMap | None:
    """The case's CNN saliency under the bundle's model; None without CNN columns."""
    cnn = bundle.manifest.settings.cnn
    pca = embedding_pca(bundle.estimator)
    wanted = settings.feature_maps.enabled and bool(explanation.components)
    if cnn is None or pca is None or not wanted:
        return None
    weights = None if cnn["weights"] is None else Path(cnn["weights"])
    return cnn_saliency(case, CNNConfig.model_validate(cnn["config"]), data, pca,
                        component_shap(explanation, 0, output), weights=weights)


def _reading(bundle: Bundle, manifest_path: Path) -> DataConfig:
    """How the bundle's training cases were read, for the new manifest."""
    return DataConfig(manifest=Path(manifest_path).name, **bundle.manifest.settings.reading)


def _bundle_inputs(bundle: Bundle, manifest: Manifest, manifest_path: Path, run: RunFolder, *,
                   n_jobs: int, progress: bool):
    """Extract the manifest's cases with the bundle's settings; (failed case ids, the model's
    inputs, and how far each case lies from the training distribution; the last two None when
    no case has features, the last None for a bundle without a training distribution)."""
    settings = bundle.manifest.settings
    features = FeatureConfig.model_validate(settings.features)
    data = _reading(bundle, manifest_path)
    results = None
    if features.kind != "cnn":
        results = extract_cohort(manifest, features, data, run, n_jobs=n_jobs, progress=progress)
    if settings.cnn is not None:
        from radiopipe.cnn.extraction import add_embeddings  # torch only for the CNN branch

        cnn = settings.cnn
        results = add_embeddings(
            results, manifest, CNNConfig.model_validate(cnn["config"]), data, run,
            weights=None if cnn["weights"] is None else Path(cnn["weights"]),
            expected_weights_sha256=cnn["weights_sha256"], progress=progress,
        )
    failed = [r.case_id for r in results if r.status == "failed"]
    frame = build_table(manifest, results)
    write_table(frame, run.features, config_hash=bundle.manifest.config_hash,
                failed_cases=failed)
    if frame.empty:
        return failed, None, None
    _check_compatible(bundle, frame)
    columns = columns_from_record(bundle.manifest.input_columns)
    table = clinical_table(manifest) if columns.numeric or columns.categorical else None
    inputs = model_inputs(frame, table, columns, bundle.classes)
    reference = bundle.manifest.shift
    if reference is None:
        return failed, inputs, None
    acquisition = frame.set_index("case_id")[acquisition_columns(frame.columns)]
    return failed, inputs, shift_table(reference, inputs.X, acquisition.loc[inputs.X.index])


def _warn_health(bundle: Bundle) -> None:
    """One warning per health finding the train stage recorded in the bundle."""
    for finding in bundle.manifest.health:
        logger.warning("the model bundle's health %s (%s): %s", finding.code, finding.severity,
                       finding.message)


def _warn_shift(shift: pd.DataFrame) -> None:
    """One warning naming the new cases outside the training distribution."""
    flagged = shift.index[shift["shift_flagged"]].tolist()
    if flagged:
        shown = ", ".join(flagged[:5]) + (" ..." if len(flagged) > 5 else "")
        logger.warning(
            "%d of %d new case(s) lie outside the training distribution (%s): their predictions "
            "extrapolate; see the shift_* columns of predictions.csv", len(flagged), len(shift),
            shown,
        )


def _shift_words(row: pd.Series) -> str:
    """What a case page says about a case outside the training distribution."""
    parts = [f"{row['shift_far_fraction']:.0%} of its features lie far from the training cases"]
    if row["shift_features"]:
        parts.append(f"furthest: {row['shift_features']}")
    if row["shift_acquisition"]:
        parts.append(f"acquisition outside the training range: {row['shift_acquisition']}")
    return ("Caution: this case lies outside the data the model was trained on ("
            + "; ".join(parts) + "); the prediction extrapolates.")


def _check_compatible(bundle: Bundle, frame: pd.DataFrame) -> None:
    """Refuse features from another backend version, other columns, or unknown sites."""
    expected = bundle.manifest.settings.feature_backend_version
    found = sorted(set(frame["backend_version"].astype(str)))
    if found != [expected]:
        raise BundleError(
            f"the bundle's features came from backend version {expected}; these cases were "
            f"extracted with {', '.join(found)}"
        )
    spec = bundle.manifest.input_columns
    wanted = set(spec.image) | set(spec.embedding)
    have = set(feature_columns(frame))
    if wanted != have:
        missing, extra = sorted(wanted - have), sorted(have - wanted)
        raise BundleError(
            "the new cases' feature columns differ from the bundle's: "
            f"{len(missing)} missing ({', '.join(missing[:3])}), {len(extra)} extra "
            f"({', '.join(extra[:3])})"
        )
    known = bundle.manifest.sites
    if known is not None:
        batch = spec.site
        values = frame[batch] if batch in frame.columns else pd.Series([None] * len(frame))
        unknown = sorted(set(values.dropna().astype(str)) - set(known))
        if unknown or values.isna().any():
            raise DataError(
                f"the bundle harmonises by {batch} (ComBat) and knows only {', '.join(known)}; "
                f"new cases come from {', '.join(unknown) or f'no {batch}'}"
            )

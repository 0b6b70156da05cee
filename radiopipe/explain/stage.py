"""The run's explain stage: SHAP values of the primary model's held-out rows, and the report
cases' feature maps and CNN saliency maps, written once per set of inputs.

Writes ``shap_values.parquet``, ``feature_maps.parquet`` and ``cnn_saliency.parquet`` (empty
without CNN columns) into the run folder, each keyed by a hash of the config and of the files it
reads (features, metrics, held-out predictions); a rerun with the same key reuses them.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from radiopipe.config import DataConfig, FeatureConfig, FeatureMapConfig, LoadedConfig
from radiopipe.errors import CaseError
from radiopipe.explain.cases import select_cases
from radiopipe.explain.cnn_saliency import SaliencyMap, cnn_saliency, component_shap
from radiopipe.explain.explainers import Explanation
from radiopipe.explain.feature_maps import FeatureMap, feature_maps, has_map
from radiopipe.explain.heldout import HeldOutExplanation, explain_held_out
from radiopipe.explain.store import (
    maps_frame,
    read_metadata,
    write_explanation,
    write_maps,
    write_saliency,
)
from radiopipe.io import Volume, read_image, read_mask
from radiopipe.manifest import Case, Manifest
from radiopipe.storage import file_sha256, text_sha256
from radiopipe.table import FEATURES_FILE, read_table
from radiopipe.training import METRICS_FILE, OOF_FILE, clinical_table, input_columns, model_inputs

logger = logging.getLogger(__name__)

SHAP_FILE = "shap_values.parquet"
MAPS_FILE = "feature_maps.parquet"
SALIENCY_FILE = "cnn_saliency.parquet"


def explain_run(loaded: LoadedConfig, manifest: Manifest, out: Path) -> Path:
    """Explain the primary model's held-out rows and map the report cases' top features.

    Parameters
    ----------
    loaded : LoadedConfig
    manifest : Manifest
        The cohort (for clinical columns and the cases' images).
    out : Path
        Run folder holding the train stage's outputs.

    Returns
    -------
    Path
        ``shap_values.parquet``.
    """
    config = loaded.config
    key = _inputs_key(loaded, out)
    if all(_current(out / name, key) for name in (SHAP_FILE, MAPS_FILE, SALIENCY_FILE)):
        logger.info("explanations: reused (inputs unchanged)")
        return out / SHAP_FILE
    start = time.perf_counter()
    metrics = json.loads((out / METRICS_FILE).read_text(encoding="utf-8"))
    oof = pd.read_parquet(out / OOF_FILE)
    frame, _ = read_table(out / FEATURES_FILE)
    classes = metrics["task"]["classes"]
    primary = next(c for c in metrics["comparison"] if c["primary"])
    columns = input_columns(frame, config.model, primary["feature_set"],
                            pca_components=config.cnn.pca_components)
    clinical = clinical_table(manifest) if columns.numeric or columns.categorical else None
    inputs = model_inputs(frame, clinical, columns, classes)
    cases = select_cases(oof, classes, explicit=config.report.cases, n_cases=config.report.n_cases)
    validated = oof.set_index("case_id").loc[inputs.X.index, [f"proba__{c}" for c in classes]]
    validated = validated.to_numpy(dtype=np.float64)
    held = explain_held_out(
        inputs, classes, config.model, primary["best_params"], validated,
        budget_rows=_budget_rows(validated, inputs.X.index, cases, config.explain.max_rows,
                                 config.model.cv.seed),
        max_evals=config.explain.max_evals,
        n_jobs=config.compute.n_jobs,
    )
    explanation = held.explanation
    info = {"key": key, "model": config.model.name, "refit_difference": held.refit_difference}
    path = write_explanation(out / SHAP_FILE, explanation, held.folds, info)
    if held.refit_difference > 1e-6:
        logger.warning(
            "the refitted fold models differ from the validated ones by up to %.2g in "
            "probability; explanations describe the refitted models", held.refit_difference
        )
    predicted = dict(zip(inputs.X.index, np.asarray(classes)[np.nan_to_num(validated).argmax(1)]))
    maps = _case_maps(manifest, cases, explanation, predicted, config) if cases else []
    write_maps(out / MAPS_FILE, pd.concat(maps, ignore_index=True) if maps else maps_frame("", []),
               {"key": key, "cases": cases})
    saliency = _case_saliency(loaded, manifest, cases, held, predicted)
    write_saliency(out / SALIENCY_FILE, saliency, {"key": key})
    logger.info("explanations: %d held-out row(s) by %s, %d case page(s) (%d CNN saliency "
                "map(s)), in %.1f s", len(explanation.case_ids), explanation.method, len(cases),
                len(saliency), time.perf_counter() - start)
    return path


def _case_maps(manifest: Manifest, cases: list[str], explanation: Explanation,
               predicted: dict[str, str], config) -> list[pd.DataFrame]:
    """The maps tables of the report's cases."""
    settings = config.explain.feature_maps
    by_id = {case.case_id: case for case in manifest.cases}
    frames = []
    for case_id in cases:
        if case_id in explanation.case_ids:
            wanted = top_features(explanation, case_id, predicted[case_id], settings)
            maps = case_feature_maps(by_id[case_id], wanted, config.features, config.data, settings)
            frames.append(maps_frame(case_id, maps))
    return frames


def _case_saliency(loaded: LoadedConfig, manifest: Manifest, cases: list[str],
                   held: HeldOutExplanation, predicted: dict[str, str]) -> dict[str, SaliencyMap]:
    """The CNN saliency maps of the report's cases, each from the fold model that explained it."""
    config = loaded.config
    explanation = held.explanation
    if not explanation.components or not config.explain.feature_maps.enabled:
        return {}
    weights = loaded.resolve(config.cnn.weights) if config.cnn.weights is not None else None
    by_id = {case.case_id: case for case in manifest.cases}
    out = {}
    for case_id in cases:
        if case_id not in explanation.case_ids:
            continue
        row = explanation.case_ids.index(case_id)
        pca = held.embedding_pcas.get(int(held.folds[row]))
        if pca is None:
            continue
        shap = component_shap(explanation, row, explained_output(explanation, predicted[case_id]))
        item = cnn_saliency(by_id[case_id], config.cnn, config.data, pca, shap, weights=weights)
        if item is not None:
            out[case_id] = item
    return out


def explained_output(explanation: Explanation, predicted: str) -> int:
    """The output a case page shows: the predicted class's, or the only one (two classes)."""
    return explanation.outputs.index(predicted) if predicted in explanation.outputs else 0


def top_features(explanation: Explanation, case_id: str, predicted: str,
                 settings: FeatureMapConfig) -> list[str]:
    """The case's mappable features with the largest absolute SHAP values, largest first."""
    row = explanation.case_ids.index(case_id)
    values = np.nan_to_num(explanation.values[row, :, explained_output(explanation, predicted)])
    ranked = [explanation.features[j] for j in np.argsort(-np.abs(values), kind="stable")]
    return [f for f in ranked if has_map(f)][: settings.top_features]


def case_feature_maps(case: Case, features: list[str], settings: FeatureConfig, data: DataConfig,
                      maps: FeatureMapConfig) -> list[FeatureMap]:
    """Read one case as extraction does and map ``features``; [] (logged) if it cannot be read."""
    if not features or not maps.enabled:
        return []
    try:
        image = read_image(case.image, case_id=case.case_id, channel_policy=data.channel_policy)
        mask = read_mask(case.mask, image, case_id=case.case_id, label=data.mask_label,
                         tolerance=data.geometry_tolerance)
    except CaseError as exc:
        logger.warning("no feature maps: %s", exc)
        return []
    return feature_maps(Volume.from_sitk(image), Volume.from_sitk(mask), features, settings,
                        window=maps.window, max_windows=maps.max_windows)


def _budget_rows(validated: np.ndarray, case_ids, cases: list[str], max_rows: int,
                 seed: int) -> np.ndarray:
    """Rows a permutation explainer may explain: a random sample of held-out rows and the cases."""
    tested = np.flatnonzero(~np.isnan(validated).any(axis=1))
    sample = np.random.default_rng(seed).permutation(tested)[:max_rows]
    rows = np.zeros(len(validated), dtype=bool)
    rows[sample] = True
    rows |= np.isin(np.asarray(case_ids), cases)
    return rows


def _inputs_key(loaded: LoadedConfig, out: Path) -> str:
    files = {name: file_sha256(out / name) for name in (FEATURES_FILE, METRICS_FILE, OOF_FILE)}
    return text_sha256(json.dumps({"config": loaded.hash, "files": files}, sort_keys=True))


def _current(path: Path, key: str) -> bool:
    return path.is_file() and read_metadata(path).get("key") == key

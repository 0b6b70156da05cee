"""The explain stage: SHAP values of the primary model's held-out rows, by the fold models the train
stage kept (nothing is fitted here), and the report cases' feature maps and CNN saliency maps.

Reads the train stage's ``metrics.json``, ``oof_predictions.parquet`` and ``fold_models/``, the
feature table, the manifest (clinical columns, the cases' images), and the explanation, case
selection, feature, reading and CNN settings; reruns only when one of them changed. Writes
``shap_values.parquet``, ``feature_maps.parquet``, ``cnn_saliency.parquet`` (empty without CNN
columns) and ``case_locations.parquet`` (the whole slice through each report case's ROI).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from radiopipe.config import LoadedConfig
from radiopipe.explain.case_maps import case_feature_maps, explained_output, top_features
from radiopipe.explain.cases import select_cases
from radiopipe.explain.cnn_saliency import SaliencyMap, cnn_saliency, component_shap
from radiopipe.explain.contribution_maps import CaseModel
from radiopipe.explain.explainers import Explanation
from radiopipe.explain.heldout import HeldOutExplanation, explain_held_out
from radiopipe.explain.location import case_location, write_locations
from radiopipe.explain.modality_panels import modality_panels, panels_frame
from radiopipe.explain.store import maps_frame, write_explanation, write_maps, write_saliency
from radiopipe.manifest import Manifest
from radiopipe.models.bundle import load_bundle
from radiopipe.models.inputs import clinical_table, input_columns, model_inputs
from radiopipe.records import ValidationRecord
from radiopipe.run_folder import RunFolder
from radiopipe.stage_reuse import StageReads, input_hashes, run_stage
from radiopipe.study import cohort_manifest, manifest_sha256, open_run
from radiopipe.table import read_table

logger = logging.getLogger(__name__)

STAGE = "explain"


def stage_reads(loaded: LoadedConfig, run: RunFolder) -> StageReads:
    """The settings and inputs the explain stage reads."""
    config = loaded.config
    settings = {
        "explain": config.explain.model_dump(mode="json"),
        "cases": config.report.model_dump(mode="json", include={"cases", "n_cases"}),
        "features": config.features.model_dump(mode="json"),
        "reading": config.data.reading(),
        "cnn": config.cnn.model_dump(mode="json"),
        "seed": config.model.cv.seed,
    }
    inputs = input_hashes(run, [run.features, run.metrics, run.oof_predictions,
                                run.fold_models_dir])
    inputs["manifest"] = manifest_sha256(loaded)
    return StageReads(settings, inputs)


def explain(loaded: LoadedConfig, record: ValidationRecord) -> RunFolder:
    """Explain the primary model's held-out rows and map the report cases' top features.

    Parameters
    ----------
    loaded : LoadedConfig
    record : ValidationRecord
        The train stage's record of this run folder.

    Returns
    -------
    RunFolder
    """
    run = open_run(loaded)
    run_stage(run, STAGE, stage_reads(loaded, run),
              lambda: _explain(loaded, record, run, cohort_manifest(loaded)))
    return run


def _explain(loaded: LoadedConfig, record: ValidationRecord, run: RunFolder,
             manifest: Manifest) -> tuple[None, list]:
    """Explain and map; (nothing, the outputs)."""
    config = loaded.config
    oof = pd.read_parquet(run.oof_predictions)
    frame, _ = read_table(run.features)
    classes = record.classes
    primary = record.primary
    columns = input_columns(frame, config.model, primary.feature_set,
                            pca_components=config.cnn.pca_components)
    clinical = clinical_table(manifest) if columns.numeric or columns.categorical else None
    inputs = model_inputs(frame, clinical, columns, classes)
    cases = select_cases(oof, classes, explicit=config.report.cases, n_cases=config.report.n_cases)
    indexed = oof.set_index("case_id").loc[inputs.X.index]
    validated = indexed[[f"proba__{c}" for c in classes]].to_numpy(dtype=np.float64)
    fold_models = [(entry.fold, load_bundle(run.fold_model(entry.split)).estimator)
                   for entry in record.fold_models if entry.repeat == 0]
    held = explain_held_out(
        inputs, classes, fold_models, indexed["fold"].to_numpy(), validated,
        budget_rows=_budget_rows(validated, inputs.X.index, cases, config.explain.max_rows,
                                 config.model.cv.seed),
        max_evals=config.explain.max_evals, seed=config.model.cv.seed,
        averaged=config.model.cv.design == "repeated_kfold", n_jobs=config.compute.n_jobs,
    )
    explanation = held.explanation
    info = {"model": record.model, "model_difference": held.model_difference}
    write_explanation(run.shap_values, explanation, held.folds, info)
    if held.model_difference > 1e-6:
        logger.warning(
            "the kept fold models predict up to %.2g in probability away from what validation "
            "recorded; rerun 'radiopipe train'", held.model_difference
        )
    predicted = dict(zip(inputs.X.index, np.asarray(classes)[np.nan_to_num(validated).argmax(1)]))
    estimators = dict(fold_models)
    models = {case_id: (estimators[int(fold)], inputs.X.loc[[case_id]])
              for case_id, fold in zip(explanation.case_ids, held.folds) if case_id in cases}
    maps = (_case_maps(manifest, cases, explanation, predicted, models, classes, config)
            if cases else [])
    write_maps(run.feature_maps,
               pd.concat(maps, ignore_index=True) if maps else maps_frame("", []),
               {"cases": cases})
    saliency = _case_saliency(loaded, manifest, cases, held, predicted)
    write_saliency(run.cnn_saliency, saliency, {})
    by_id = {case.case_id: case for case in manifest.cases}
    located = {case_id: case_location(by_id[case_id], config.data, config.features)
               for case_id in cases}
    write_locations(run.case_locations,
                    {case_id: item for case_id, item in located.items() if item is not None})
    panels = [panels_frame(c, modality_panels(by_id[c], config.features, config.data))
              for c in cases if by_id[c].modalities]
    write_maps(run.modality_images,
               pd.concat(panels, ignore_index=True) if panels else panels_frame("", []), {})
    logger.info("explanations: %d held-out row(s) by %s, %d case page(s) (%d CNN saliency "
                "map(s))", len(explanation.case_ids), explanation.method, len(cases),
                len(saliency))
    return None, [run.shap_values, run.feature_maps, run.cnn_saliency, run.case_locations,
                  run.modality_images]


def _case_maps(manifest: Manifest, cases: list[str], explanation: Explanation,
               predicted: dict[str, str], models: dict[str, tuple], classes: list[str],
               config) -> list[pd.DataFrame]:
    """The maps tables of the report's cases; ``models``: per case, the fold model that held it
    out and the case's model inputs, for its contribution map."""
    settings = config.explain.feature_maps
    by_id = {case.case_id: case for case in manifest.cases}
    frames = []
    start = time.perf_counter()
    for done, case_id in enumerate(cases, start=1):
        if case_id in explanation.case_ids:
            wanted = top_features(explanation, case_id, predicted[case_id], settings)
            output = explanation.outputs[explained_output(explanation, predicted[case_id])]
            model = CaseModel(*models[case_id], list(classes), output)
            maps = case_feature_maps(by_id[case_id], wanted, config.features, config.data,
                                     settings, model)
            frames.append(maps_frame(case_id, maps))
        logger.info("feature maps: %d/%d cases (%.0f s)", done, len(cases),
                    time.perf_counter() - start)
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


def _budget_rows(validated: np.ndarray, case_ids, cases: list[str], max_rows: int,
                 seed: int) -> np.ndarray:
    """Rows a permutation explainer may explain: a random sample of held-out rows and the cases."""
    tested = np.flatnonzero(~np.isnan(validated).any(axis=1))
    sample = np.random.default_rng(seed).permutation(tested)[:max_rows]
    rows = np.zeros(len(validated), dtype=bool)
    rows[sample] = True
    rows |= np.isin(np.asarray(case_ids), cases)
    return rows

"""The robustness stage: the ICC of every feature under perturbations of each case ->
``robustness.parquet``.

Every case is extracted in every version the ``robustness`` section asks for
(:mod:`radiopipe.perturbed_extraction`); for each kind of perturbation the ICCs
(:mod:`radiopipe.icc`) treat the cases as subjects and the original with that kind's versions as
raters. A manifest with a ``repeat`` column adds the ICC across repeated scans (test-retest): the
patients (``patient_id``) are the subjects, their scans in ``repeat`` order the raters (the first
``m`` of each, ``m`` the fewest scans of a patient). Reads the robustness, feature and reading
settings, the manifest and every case's image and mask bytes; reruns only when one changed.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radiopipe.columns import column_modality, is_column, split_column
from radiopipe.config import LoadedConfig
from radiopipe.errors import ConfigError, DataError, ManifestError
from radiopipe.extraction import input_sha256
from radiopipe.icc import icc_table
from radiopipe.manifest import Manifest
from radiopipe.perturbed_extraction import extract_perturbed
from radiopipe.preprocess.perturbations import ORIGINAL
from radiopipe.run_folder import RunFolder
from radiopipe.stage_reuse import StageReads, run_stage
from radiopipe.storage import atomic_write, text_sha256
from radiopipe.study import cohort_manifest, manifest_sha256, open_run

logger = logging.getLogger(__name__)

STAGE = "robustness"
REPEAT_COLUMN = "repeat"
REPEAT_KIND = "repeat"
COLUMNS = ("feature", "modality", "image_type", "family", "perturbation", "icc_kind", "icc",
           "ci_low", "ci_high", "n_cases", "n_perturbations")


@dataclass(frozen=True)
class RobustnessOutcome:
    """What the robustness stage produced.

    Attributes
    ----------
    run : RunFolder
    table : pandas.DataFrame
        ``robustness.parquet``: one row per feature, perturbation kind and ICC kind.
    failures : dict
        ``case_id -> reason`` of the cases left out (also in ``robustness/failures/``).
    reused : bool
        The stage's earlier table was kept.
    """

    run: RunFolder
    table: pd.DataFrame
    failures: dict[str, str]
    reused: bool


def stage_reads(loaded: LoadedConfig, manifest: Manifest) -> StageReads:
    """The settings and inputs the robustness stage reads."""
    config = loaded.config
    settings = {"robustness": config.robustness.model_dump(mode="json"),
                "features": config.features.model_dump(mode="json"),
                "reading": config.data.reading()}
    cases = [[c.case_id, *input_sha256(c)] for c in manifest.cases]
    inputs = {"manifest": manifest_sha256(loaded), "images": text_sha256(json.dumps(cases))}
    return StageReads(settings, inputs)


def robustness(loaded: LoadedConfig, *, progress: bool = True) -> RobustnessOutcome:
    """Extract every case's perturbed versions and write the ICC table, or reuse it.

    Raises
    ------
    ConfigError
        When the section chooses no perturbation, or the features are CNN embeddings only.
    ManifestError
        When a ``repeat`` column gives a patient a single scan, or one scan twice.
    """
    config = loaded.config
    if not config.robustness.chosen():
        raise ConfigError(f"{loaded.source}: 'robustness' chooses no perturbation; set one of "
                          "robustness.noise, rotation, translation, volume or contour")
    if config.features.kind == "cnn":
        raise ConfigError(f"{loaded.source}: the robustness run measures radiomics features; "
                          "set features.kind to radiomics or both")
    run = open_run(loaded)
    manifest = cohort_manifest(loaded, require_labels=False)
    repeats = repeat_groups(manifest)  # checked before any extraction
    done = run_stage(run, STAGE, stage_reads(loaded, manifest),
                     lambda: _robustness(loaded, manifest, repeats, run, progress))
    if done.reused:
        failures = {}
        table = pd.read_parquet(run.robustness)
    else:
        table, failures = done.value
    return RobustnessOutcome(run, table, failures, done.reused)


def repeat_groups(manifest: Manifest) -> list[list[str]] | None:
    """Each patient's case ids in ``repeat`` order, the first ``m`` of each (``m`` the fewest
    scans of a patient); None without a ``repeat`` column.

    Raises
    ------
    ManifestError
        When a patient has a single scan or gives one ``repeat`` value twice.
    """
    if not any(REPEAT_COLUMN in c.clinical for c in manifest.cases):
        return None
    scans = defaultdict(dict)
    for case in manifest.cases:
        repeat = str(case.clinical.get(REPEAT_COLUMN, "")).strip()
        if repeat in scans[case.patient_id]:
            raise ManifestError(
                f"{manifest.name}: patient '{case.patient_id}' has repeat '{repeat}' twice (cases "
                f"'{scans[case.patient_id][repeat]}' and '{case.case_id}'); give each scan of a "
                "patient its own repeat value")
        scans[case.patient_id][repeat] = case.case_id
    for patient, by_repeat in scans.items():
        if len(by_repeat) < 2:
            (case_id,) = by_repeat.values()
            raise ManifestError(
                f"{manifest.name}: patient '{patient}' has one scan (case '{case_id}'), and the "
                f"'{REPEAT_COLUMN}' column asks for the ICC across repeated scans, which needs "
                "two scans or more of every patient: add the patient's repeat scans, or remove "
                f"the '{REPEAT_COLUMN}' column")
    fewest = min(len(s) for s in scans.values())
    return [[s[r] for r in sorted(s, key=_repeat_order)][:fewest] for s in scans.values()]


def _repeat_order(value: str):
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _robustness(loaded: LoadedConfig, manifest: Manifest, repeats, run: RunFolder,
                progress: bool):
    """Extract, tabulate, write; ((table, failures), the outputs, or None when a case failed)."""
    config = loaded.config
    results = extract_perturbed(manifest, config.features, config.data, config.robustness, run,
                                n_jobs=config.compute.n_jobs, progress=progress)
    failures = {r.case_id: r.reason for r in results if r.rows is None}
    values = pd.DataFrame([{"case_id": r.case_id, **row} for r in results if r.rows
                           for row in r.rows])
    if values.empty or values["case_id"].nunique() < 2:
        raise DataError(f"robustness: {values.shape[0] and values['case_id'].nunique()} case(s) "
                        "have perturbed features and the ICC needs 2 at least; see "
                        "robustness/failures/ for why the others failed")
    atomic_write(run.robustness_values, lambda tmp: values.to_parquet(tmp, index=False))
    table = feature_robustness(values, repeats)
    atomic_write(run.robustness, lambda tmp: table.to_parquet(tmp, index=False))
    robust = (table["icc"] >= config.robustness.threshold).mean()
    logger.info("%s: %d ICCs, %.0f%% at or above %.2f", STAGE, len(table), 100 * robust,
                config.robustness.threshold)
    if failures:
        logger.info("%s: %d case(s) failed; the next run retries them", STAGE, len(failures))
        return (table, failures), None
    return (table, failures), [run.robustness, run.robustness_values]


def feature_robustness(values: pd.DataFrame, repeats: list[list[str]] | None) -> pd.DataFrame:
    """The ICC table of :data:`COLUMNS` from every version's features.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per case and version: ``case_id``, ``perturbation``, ``kind`` and the features.
    repeats : list of list of str, or None
        Each patient's scans (case ids) for the test-retest ICC (:func:`repeat_groups`).
    """
    features = [c for c in values.columns if is_column(c)]
    cases = list(dict.fromkeys(values["case_id"]))
    indexed = values.set_index(["case_id", "perturbation"])
    parts = []
    for kind in dict.fromkeys(values["kind"]):
        if kind == ORIGINAL:
            continue
        names = [ORIGINAL, *dict.fromkeys(values.loc[values["kind"] == kind, "perturbation"])]
        parts.append(_tabulate(indexed, cases, names, features, kind))
    if repeats is not None:
        originals = values[values["kind"] == ORIGINAL].set_index("case_id")
        kept = [g for g in repeats if all(c in originals.index for c in g)]
        if len(kept) >= 2:
            ratings = np.stack([originals.loc[g, features].to_numpy(float) for g in kept])
            parts.append(_rows(ratings, features, REPEAT_KIND))
        else:
            logger.warning("%s: fewer than 2 patients have every repeat scan extracted; no "
                           "test-retest ICC", STAGE)
    return pd.concat(parts, ignore_index=True)[list(COLUMNS)]


def _tabulate(indexed: pd.DataFrame, cases: list[str], names: list[str], features: list[str],
              kind: str) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([cases, names])
    ratings = indexed.loc[index, features].to_numpy(float).reshape(len(cases), len(names), -1)
    return _rows(ratings, features, kind)


def _rows(ratings: np.ndarray, features: list[str], kind: str) -> pd.DataFrame:
    table = icc_table(ratings, features)
    split = [split_column(f) for f in table["feature"]]
    table["modality"] = [column_modality(f) for f in table["feature"]]
    table["image_type"] = [s[0] for s in split]
    table["family"] = [s[1] for s in split]
    table["perturbation"] = kind
    table["n_cases"], table["n_perturbations"] = ratings.shape[0], ratings.shape[1]
    return table

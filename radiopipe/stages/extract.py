"""The extract stage: the cohort's features (radiomics, CNN embeddings or both) ->
``features.parquet``.

Reads the feature, reading and CNN settings, the manifest and every case's image and mask bytes;
reruns only when one of them changed (then each case is still reused from ``cases/`` when its own
key is unchanged). Radiomics run on the compute engine: ``n_jobs`` local processes, or one task
per case on the Dask cluster of ``compute.engine: dask``. A table that ``import-features`` wrote
is kept as it is: extraction never overwrites features imported from elsewhere.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from radiopipe.config import LoadedConfig
from radiopipe.devices import check_devices
from radiopipe.extraction import extract_cohort, input_sha256
from radiopipe.manifest import Manifest
from radiopipe.run_folder import RunFolder
from radiopipe.scaleout import compute_cluster
from radiopipe.stage_reuse import StageReads, run_stage
from radiopipe.storage import file_sha256, text_sha256
from radiopipe.study import cohort_manifest, manifest_sha256, open_run
from radiopipe.table import CaseResult, build_table, read_table, write_table

logger = logging.getLogger(__name__)

STAGE = "extract"


@dataclass(frozen=True)
class ExtractOutcome:
    """What the extract stage produced.

    Attributes
    ----------
    run : RunFolder
    results : list of CaseResult or None
        Per-case outcomes in manifest order; None when the whole stage was reused.
    failed_cases : list of str
        Cases without features.
    reused : bool
        The stage's earlier table was kept.
    """

    run: RunFolder
    results: list[CaseResult] | None
    failed_cases: list[str]
    reused: bool


def stage_reads(loaded: LoadedConfig, manifest: Manifest) -> StageReads:
    """The settings and inputs the extract stage reads (the CNN weights file among them)."""
    config = loaded.config
    reading = config.data.reading()
    settings = {"features": config.features.model_dump(mode="json"), "reading": reading}
    if config.features.kind != "radiomics":
        settings["cnn"] = config.cnn.model_dump(mode="json")
    cases = [[c.case_id, *input_sha256(c)] for c in manifest.cases]
    inputs = {"manifest": manifest_sha256(loaded), "images": text_sha256(json.dumps(cases))}
    if config.features.kind != "radiomics" and config.cnn.weights is not None:
        inputs["cnn weights"] = file_sha256(loaded.resolve(config.cnn.weights))
    return StageReads(settings, inputs)


def extract(loaded: LoadedConfig, *, progress: bool = True) -> ExtractOutcome:
    """Extract the cohort's features into the run folder, or reuse the earlier table.

    Parameters
    ----------
    loaded : LoadedConfig
    progress : bool
        Show progress bars.

    Returns
    -------
    ExtractOutcome
    """
    check_devices(loaded)
    run = open_run(loaded)
    imported = _imported_table(run)
    if imported is not None:
        return imported
    manifest = cohort_manifest(loaded, require_labels=False)
    if loaded.config.features.kind != "radiomics":
        from radiopipe.cnn.extraction import check_single_image  # torch only for the CNN

        check_single_image(manifest)  # before the radiomics of every case are computed
    done = run_stage(run, STAGE, stage_reads(loaded, manifest),
                     lambda: _extract(loaded, manifest, run, progress))
    if done.reused:
        _, provenance = read_table(run.features)
        return ExtractOutcome(run, None, list(provenance["failed_cases"]), True)
    results = done.value
    failed = [r.case_id for r in results if r.status == "failed"]
    return ExtractOutcome(run, results, failed, False)


def _imported_table(run: RunFolder) -> ExtractOutcome | None:
    """The run's table when ``import-features`` wrote it (kept, never overwritten by an
    extraction), else None."""
    if not run.features.is_file():
        return None
    _, provenance = read_table(run.features)
    source = provenance.get("source")
    if source is None:
        return None
    logger.info("%s: kept the features imported from '%s' (%s); to extract here, delete "
                "features.parquet or choose another output_dir", STAGE, source["file"],
                source["description"])
    return ExtractOutcome(run, None, list(provenance["failed_cases"]), True)


def _extract(loaded: LoadedConfig, manifest: Manifest, run: RunFolder, progress: bool):
    """Extract every case and write the table; (the cases' results, the outputs to record, or
    None when a case failed: a table with holes is never reused, so the next run retries)."""
    config = loaded.config
    results = None
    if config.features.kind != "cnn":
        with compute_cluster(config.compute) as cluster:
            results = extract_cohort(
                manifest, config.features, config.data, run, n_jobs=config.compute.n_jobs,
                cluster=cluster, progress=progress,
            )
    if config.features.kind != "radiomics":
        from radiopipe.cnn.extraction import add_embeddings  # torch only for the CNN branch

        weights = loaded.resolve(config.cnn.weights) if config.cnn.weights is not None else None
        results = add_embeddings(
            results, manifest, config.cnn, config.data, run, weights=weights, progress=progress
        )
    failed = [r.case_id for r in results if r.status == "failed"]
    write_table(build_table(manifest, results), run.features, config_hash=loaded.hash,
                failed_cases=failed)
    if failed:
        logger.info("%s: %d case(s) failed; the next run retries them", STAGE, len(failed))
        return results, None
    return results, [run.features]

"""The negative-control stage: every case's negative-control images (``model.controls.
negative_images``) through the extraction's reading and engine -> ``negative_controls.parquet``.

Each control (:mod:`radiopipe.preprocess.negative_controls`) is computed as a version of the
case by the robustness run's machinery (:func:`radiopipe.perturbed_extraction.extract_perturbed`
with :func:`~radiopipe.preprocess.perturbations.control_plan`), drawn from a generator seeded by
``model.cv.seed``, the case id, the modality and the control's name. The train stage validates
the primary design on each control's table under the real features' splits. Reads the control
list, the seed, the feature and reading settings, the manifest and every case's image and mask
bytes; reruns only when one changed. Failed cases are recorded in ``controls/failures/``.
"""

from __future__ import annotations

import json
import logging

import pandas as pd

from radiopipe.config import LoadedConfig, RobustnessConfig
from radiopipe.extraction import input_sha256
from radiopipe.perturbed_extraction import extract_perturbed
from radiopipe.preprocess.perturbations import control_plan
from radiopipe.run_folder import RunFolder
from radiopipe.stage_reuse import StageReads, run_stage
from radiopipe.storage import atomic_write, text_sha256
from radiopipe.study import cohort_manifest, manifest_sha256, open_run

logger = logging.getLogger(__name__)

STAGE = "controls"


def stage_reads(loaded: LoadedConfig, manifest) -> StageReads:
    """The settings and inputs the negative-control stage reads."""
    config = loaded.config
    settings = {"negative_images": list(config.model.controls.negative_images),
                "seed": config.model.cv.seed,
                "features": config.features.model_dump(mode="json"),
                "reading": config.data.reading()}
    cases = [[c.case_id, *input_sha256(c)] for c in manifest.cases]
    inputs = {"manifest": manifest_sha256(loaded), "images": text_sha256(json.dumps(cases))}
    return StageReads(settings, inputs)


def negative_controls(loaded: LoadedConfig, *, progress: bool = True) -> dict[str, str]:
    """Write ``negative_controls.parquet``, or reuse it; the failed cases (``case_id ->
    reason``), none when reused or when no control is configured."""
    if not loaded.config.model.controls.negative_images:
        return {}
    run = open_run(loaded)
    manifest = cohort_manifest(loaded)
    done = run_stage(run, STAGE, stage_reads(loaded, manifest),
                     lambda: _controls(loaded, manifest, run, progress))
    return {} if done.reused else done.value


def _controls(loaded: LoadedConfig, manifest, run: RunFolder, progress: bool):
    config = loaded.config
    results = extract_perturbed(
        manifest, config.features, config.data, RobustnessConfig(seed=config.model.cv.seed), run,
        n_jobs=config.compute.n_jobs, progress=progress,
        versions=control_plan(config.model.controls.negative_images), failures=STAGE,
    )
    failures = {r.case_id: r.reason for r in results if r.rows is None}
    rows = [{"case_id": r.case_id, "control": row["perturbation"],
             **{k: v for k, v in row.items() if k not in ("perturbation", "kind", "seconds")}}
            for r in results if r.rows for row in r.rows]
    table = pd.DataFrame(rows)
    atomic_write(run.control_values, lambda tmp: table.to_parquet(tmp, index=False))
    if failures:
        logger.info("%s: %d case(s) failed; the next run retries them", STAGE, len(failures))
        return failures, None
    return failures, [run.control_values]

"""The report stage: ``report.html`` (and ``report.pdf``) from the run's records.

Reads the train stage's ``metrics.json`` and ``oof_predictions.parquet``, the feature table, the
failures, ``robustness.parquet`` where the robustness run wrote it and, with explanations on, the
explain stage's outputs, and the whole resolved config (the report shows it); reruns only when
one of them changed. The report only renders what it is
given: it reads no file itself.
"""

from __future__ import annotations

import pandas as pd

from radiopipe.config import LoadedConfig, resolved_dict
from radiopipe.explain.location import read_locations
from radiopipe.explain.modality_panels import panels_from_frame
from radiopipe.explain.store import maps_from_frame, read_explanation, read_metadata, read_saliency
from radiopipe.provenance import package_versions
from radiopipe.records import ValidationRecord
from radiopipe.report import HeldOutExplanations, ReportInputs, write_report
from radiopipe.report.methods import STAGE_WORK
from radiopipe.run_folder import RunFolder, failure_reason
from radiopipe.stage_reuse import StageReads, input_hashes, read_stage_record, run_stage
from radiopipe.study import open_run
from radiopipe.table import read_table

STAGE = "report"


def stage_reads(loaded: LoadedConfig, run: RunFolder, record: ValidationRecord) -> StageReads:
    """The settings and inputs the report stage reads."""
    files = [run.features, run.metrics, run.oof_predictions,
             *(run.failure_file(c) for c in record.task.failed_cases)]
    if loaded.config.explain.enabled:
        files += [run.shap_values, run.feature_maps, run.cnn_saliency, run.case_locations]
        files += [run.modality_images] if run.modality_images.is_file() else []
    files += [run.robustness] if run.robustness.is_file() else []
    return StageReads({"config": resolved_dict(loaded.config)}, input_hashes(run, files))


def report(loaded: LoadedConfig, record: ValidationRecord) -> RunFolder:
    """Write ``report.html`` from the run folder, or keep the earlier one.

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
    run_stage(run, STAGE, stage_reads(loaded, run, record), lambda: _report(loaded, record, run))
    return run


def _report(loaded: LoadedConfig, record: ValidationRecord, run: RunFolder) -> tuple[None, list]:
    """Render the report; (nothing, the outputs)."""
    config = loaded.config
    table, _ = read_table(run.features)
    inputs = ReportInputs(
        record=record,
        oof=pd.read_parquet(run.oof_predictions),
        table=table,
        failures=[{"case_id": c, "reason": failure_reason(run, c)}
                  for c in record.task.failed_cases],
        explanations=_explanations(run) if config.explain.enabled else None,
        robustness=pd.read_parquet(run.robustness) if run.robustness.is_file() else None,
        compute_seconds=_stage_seconds(run),
    )
    pdf = run.report_pdf if config.report.pdf == "auto" else None
    write_report(inputs, run.report, title=config.report.title,
                 config=resolved_dict(config), config_hash=loaded.hash,
                 versions=package_versions(), pdf=pdf)
    outputs = [run.report, *sorted(run.root.glob("report_*.csv"))]
    outputs += [p for p in (run.report_pdf, run.root / "report_cases") if p.exists()]
    return None, outputs


def _stage_seconds(run: RunFolder) -> dict[str, float]:
    """Each stage's wall-clock seconds when it last ran, from its record in ``stages/``."""
    records = {stage: read_stage_record(run, stage) for stage in STAGE_WORK}
    return {stage: r.seconds for stage, r in records.items() if r is not None}


def _explanations(run: RunFolder) -> HeldOutExplanations | None:
    """The explain stage's results, or None when it has not written them."""
    if not run.shap_values.is_file():
        return None
    explanation, folds, meta = read_explanation(run.shap_values)
    maps = maps_from_frame(pd.read_parquet(run.feature_maps))
    cases = list(read_metadata(run.feature_maps)["cases"])
    saliency = read_saliency(run.cnn_saliency) if run.cnn_saliency.is_file() else {}
    locations = read_locations(run.case_locations) if run.case_locations.is_file() else {}
    panels = (panels_from_frame(pd.read_parquet(run.modality_images))
              if run.modality_images.is_file() else {})
    return HeldOutExplanations(explanation, folds, meta, cases, maps, saliency, locations, panels)

"""The public Python API: what the command line runs, for notebooks and scripts.

Every function takes a config (a :class:`~radiopipe.config.LoadedConfig`, or the path of a YAML
file) and runs one stage of :mod:`radiopipe.stages`, returning a result object that shows
itself in Jupyter and holds plain DataFrames (:mod:`radiopipe.results`). Stages write into the
run folder as ``python -m radiopipe`` does, so a notebook and the command line share runs. The
single-case tools (:mod:`radiopipe.case_tools`) and the config builders
(:mod:`radiopipe.config_tools`) are re-exported here.

Examples
--------
>>> import radiopipe as rp
>>> config = rp.make_config(  # doctest: +SKIP
...     "quickstart",
...     data={"builtin": "mni152_tissue", "builtin_options": {"cases_per_class": 30}},
...     features={"bin_width": 5},
... )
>>> run = rp.run(config, progress=False)  # doctest: +SKIP
>>> run.training.comparison  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from radiopipe.case_tools import (
    backend_status,
    compare_backends,
    extract_case,
    feature_maps,
    voxel_maps,
)
from radiopipe.config import LoadedConfig, load_config
from radiopipe.config_tools import make_config, validate_config
from radiopipe.errors import RadiopipeError
from radiopipe.manifest import Manifest
from radiopipe.pyradiomics_names import from_pyradiomics_names, to_pyradiomics_names
from radiopipe.results import (
    Document,
    Explanations,
    Extraction,
    Predictions,
    Robustness,
    Run,
    Training,
)
from radiopipe.run_folder import RunFolder, failure_reason, hold
from radiopipe.settings.pyradiomics_params import from_pyradiomics, pyradiomics_reading
from radiopipe.study import cohort_manifest
from radiopipe.table import read_table

ConfigLike = LoadedConfig | str | Path


def cohort(config: ConfigLike) -> Manifest:
    """The run's cases, with their image and mask paths (a built-in dataset is written first).

    Examples
    --------
    >>> cases = cohort("configs/demo.yaml")  # doctest: +SKIP
    >>> cases.table().head()  # doctest: +SKIP
    >>> cases.cases[0].image  # doctest: +SKIP
    """
    return cohort_manifest(_loaded(config))


def extract(config: ConfigLike, *, progress: bool = True) -> Extraction:
    """Extract the cohort's features into ``features.parquet`` (finished cases are reused).

    Runs on the configured compute engine: local processes, or one task per case on a Dask
    cluster (``compute.engine: dask``).

    Examples
    --------
    >>> extraction = extract("configs/demo.yaml")  # doctest: +SKIP
    >>> extraction.features.describe()  # doctest: +SKIP
    """
    from radiopipe.stages.extract import extract as extract_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        outcome = extract_stage(loaded, progress=progress)
    table = read_table(outcome.run.features)[0]
    if outcome.results is None:  # the whole stage was reused
        counts = {"computed": 0, "reused": len(table), "failed": len(outcome.failed_cases)}
        failures = {case_id: failure_reason(outcome.run, case_id)
                    for case_id in outcome.failed_cases}
    else:
        results = outcome.results
        counts = {s: sum(r.status == s for r in results) for s in ("computed", "reused", "failed")}
        failures = {r.case_id: r.reason for r in results if r.status == "failed"}
    return Extraction(table, failures, counts, outcome.run.features)


def import_features(
    config: ConfigLike, csv: str | Path, *, id_column: str | None = None
) -> Extraction:
    """Import a pyradiomics batch CSV as the run's ``features.parquet`` (in place of
    :func:`extract`); :func:`train` and :func:`write_report` then run on it.

    Parameters
    ----------
    config : LoadedConfig or path
        The run's config; its manifest gives the cases' ids, patients and labels.
    csv : str or Path
        The CSV pyradiomics' command line wrote (``--format csv``).
    id_column : str, optional
        The CSV column of case ids; by default ``case_id`` where the CSV has one, else each row
        is matched by its ``Image`` and ``Mask`` paths.

    Examples
    --------
    >>> imported = import_features("configs/demo.yaml", "pyradiomics.csv")  # doctest: +SKIP
    >>> train("configs/demo.yaml").roc_auc  # doctest: +SKIP
    """
    from radiopipe.stages.import_features import import_features as import_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        outcome = import_stage(loaded, Path(csv), id_column)
    table = read_table(outcome.run.features)[0]
    failures = {r.case_id: r.reason for r in outcome.results if r.status == "failed"}
    counts = {"imported": len(outcome.results) - len(failures), "failed": len(failures)}
    return Extraction(table, failures, counts, outcome.run.features)


def robustness(config: ConfigLike, *, progress: bool = True) -> Robustness:
    """The ICC of every feature under the perturbations of the config's ``robustness`` section
    (and across repeated scans with a ``repeat`` column) -> ``robustness.parquet``.

    Every case's perturbed versions go through the extraction's own reading and feature engine;
    the table is reused when nothing it reads changed.

    Examples
    --------
    >>> config = make_config("study", data={"builtin": "mni152_tissue"}, output_dir="runs/study",
    ...                      robustness={"noise": {"repetitions": 2},
    ...                                  "volume": {"fractions": [-0.1, 0.1]}})
    >>> robustness(config).summary()  # doctest: +SKIP
    """
    from radiopipe.stages.robustness import robustness as robustness_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        outcome = robustness_stage(loaded, progress=progress)
    return Robustness(outcome.table, outcome.failures, loaded.config.robustness.threshold,
                      outcome.run.robustness)


def write_maps(config: ConfigLike, *, cases: list[str] | None = None,
               features: list[str] | None = None, kernel_radius: int = 1,
               masked_kernel: bool = True, extent: str = "roi"):
    """Write the voxel-wise feature maps of a cohort's cases into the run folder.

    Each chosen case gets ``maps/<case_id>/<column>.nrrd`` per feature (see
    :func:`voxel_maps`; NaN outside the ROI; on the ROI's box widened by the kernel radius, or
    the whole image with ``extent='image'``); a failing case is recorded in
    ``maps/failures/<case_id>.json`` and the others are still written; a rerun reuses the
    cases whose maps, settings and inputs are unchanged.

    Returns
    -------
    radiopipe.stages.maps.MapsOutcome
        ``written`` (case -> files), ``failed_cases`` (case -> reason) and ``reused`` (cases).

    Examples
    --------
    >>> write_maps("configs/demo.yaml", features=["original__glcm__Idm"])  # doctest: +SKIP
    """
    from radiopipe.stages.maps import write_maps as maps_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        return maps_stage(loaded, cases=cases, features=features, kernel_radius=kernel_radius,
                          masked_kernel=masked_kernel, extent=extent)


def train(config: ConfigLike, *, progress: bool = True) -> Training:
    """Validate and compare the configured models on ``features.parquet``; save the primary one.

    With ``model.controls.negative_images`` the cases' negative-control images are extracted
    first (``negative_controls.parquet``, reused when nothing they read changed).

    Examples
    --------
    >>> training = train("configs/demo.yaml")  # doctest: +SKIP
    >>> training.comparison[["model", "roc_auc"]]  # doctest: +SKIP
    """
    from radiopipe.stages.controls import negative_controls
    from radiopipe.stages.train import train as train_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        negative_controls(loaded, progress=progress)
        return Training(train_stage(loaded))


def explain_heldout(config: ConfigLike) -> Explanations:
    """SHAP values of the primary model on its held-out rows (reused when inputs are unchanged).

    Examples
    --------
    >>> explain_heldout("configs/demo.yaml").plot(top=10)  # doctest: +SKIP
    """
    from radiopipe.explain.store import read_metadata
    from radiopipe.stages.explain import explain as explain_stage
    from radiopipe.stages.train import read_validation

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)) as run:
        explain_stage(loaded, read_validation(run))
    path = run.shap_values
    return Explanations(pd.read_parquet(path), read_metadata(path)["method"], path)


def write_report(config: ConfigLike) -> Document:
    """Write ``report.html`` from the run folder (explaining first when ``explain.enabled``).

    Examples
    --------
    >>> write_report("configs/demo.yaml").path  # doctest: +SKIP
    PosixPath('.../runs/demo/report.html')
    """
    from radiopipe.stages.explain import explain as explain_stage
    from radiopipe.stages.report import report as report_stage
    from radiopipe.stages.train import read_validation

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)) as run:
        record = read_validation(run)
        if loaded.config.explain.enabled:
            explain_stage(loaded, record)
        return Document(report_stage(loaded, record).report)


def run(config: ConfigLike, *, progress: bool = True) -> Run:
    """Extract, train, explain and report: what ``python -m radiopipe run`` does.

    With a stability threshold (``model.preprocessing`` or a feature set's) the robustness run
    comes before training.

    The run folder is held for the whole run: another radiopipe process asking for it is
    refused.

    Examples
    --------
    >>> result = run("configs/demo.yaml")  # doctest: +SKIP
    >>> result.training.roc_auc  # doctest: +SKIP
    """
    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):  # held across the stages, not only within each
        extraction = extract(loaded, progress=progress)
        if loaded.config.model.stability_filtered:
            robustness(loaded, progress=progress)  # the stability filter reads its versions
        return Run(extraction, train(loaded, progress=progress), write_report(loaded))


def predict(
    bundle: str | Path,
    manifest: str | Path,
    out: str | Path | None = None,
    *,
    n_jobs: int = 1,
    progress: bool = True,
) -> Predictions:
    """Predict new cases with a saved model bundle (features extracted with its settings).

    Parameters
    ----------
    bundle : str or Path
        A ``model`` folder written by :func:`train`.
    manifest : str or Path
        The new cases (labels may be empty).
    out : str or Path, optional
        Folder for ``predictions.csv``, their features and any ``failures/``; by default
        ``predictions/`` beside the bundle, in its run folder (see :func:`default_output`).
    n_jobs : int
        Extraction processes (-1: all cores).
    progress : bool
        Show a progress bar.

    Examples
    --------
    >>> predict("runs/demo/model", "new_cases.csv").table  # doctest: +SKIP
    """
    if n_jobs == 0:
        raise RadiopipeError(
            "n_jobs (--n-jobs) must be a positive number of processes, or -1 for all cores"
        )
    from radiopipe.stages.predict import predict as predict_stage

    out = default_output(bundle, "predict") if out is None else Path(out)
    with hold(RunFolder(Path(out))):
        outcome = predict_stage(Path(bundle), Path(manifest), Path(out), n_jobs=n_jobs,
                                progress=progress)
    table = pd.read_csv(outcome.predictions, dtype={"case_id": str, "patient_id": str})
    return Predictions(table, outcome.failed_cases, outcome.predictions)


def explain_case(
    bundle: str | Path,
    manifest: str | Path,
    case_id: str,
    out: str | Path | None = None,
    *,
    progress: bool = True,
) -> Document:
    """Write one new case's explanation page (prediction, SHAP waterfall, feature maps).

    ``out`` defaults to ``explanations/`` beside the bundle, in its run folder (see
    :func:`default_output`).

    Examples
    --------
    >>> explain_case("runs/demo/model", "new_cases.csv", "p042-ct").path  # doctest: +SKIP
    PosixPath('runs/demo/explanations/explain-p042-ct.html')
    """
    from radiopipe.stages.predict import explain_case as explain_case_stage

    out = default_output(bundle, "explain") if out is None else Path(out)

    with hold(RunFolder(Path(out))):
        outcome = explain_case_stage(Path(bundle), Path(manifest), case_id, Path(out),
                                     progress=progress)
    return Document(outcome.predictions, outcome.failed_cases)


def default_output(bundle: str | Path, command: str) -> Path:
    """Where ``predict`` and ``explain`` write without an explicit output folder.

    ``predictions/`` or ``explanations/`` in the folder holding the bundle: for the bundle
    ``train`` writes (``<run folder>/model``), inside that run folder, never the current folder.

    Parameters
    ----------
    bundle : str or Path
        The model bundle's folder.
    command : {'predict', 'explain'}

    Examples
    --------
    >>> default_output("runs/demo/model", "predict")
    PosixPath('runs/demo/predictions')
    """
    folder = {"predict": "predictions", "explain": "explanations"}[command]
    return Path(bundle).parent / folder


def check_compliance(data_dir: str | Path, *, ct_input: str = "nifti"):
    """Check the native engine against every IBSI-1 reference value in ``data_dir``.

    ``ct_input='dicom'`` reads the CT phantom from its DICOM series and RTSTRUCT instead of its
    NIfTI export.

    Returns
    -------
    radiopipe.compliance.run.ComplianceReport
        ``failures`` lists the values outside their tolerance.

    Examples
    --------
    >>> check_compliance("../shared/data/ibsi1").failures  # doctest: +SKIP
    ()
    """
    from radiopipe.compliance.run import run_compliance

    return run_compliance(data_dir, ct_input=ct_input)


def check_filter_compliance(data_dir: str | Path, *, ct_phantom: str | Path | None = None):
    """Check the IBSI-2 filters against every phase-1 reference response map in ``data_dir``,
    and against the phase-2 reference values when ``ct_phantom`` (the IBSI-1 data folder) is
    given.

    Returns
    -------
    radiopipe.compliance.ibsi2.run.FilterComplianceReport
        One check per reference map (33); ``failures`` lists the maps outside the tolerance
        (1 % of the reference range) and those whose filter radiopipe lacks;
        ``phase_2_failures`` the phase-2 values outside theirs.

    Examples
    --------
    >>> check_filter_compliance("../shared/data/ibsi2").n_passed  # doctest: +SKIP
    33
    """
    from radiopipe.compliance.ibsi2.run import run_filter_compliance

    return run_filter_compliance(data_dir, ct_phantom=ct_phantom)


def _loaded(config: ConfigLike) -> LoadedConfig:
    return config if isinstance(config, LoadedConfig) else load_config(config)


__all__ = [
    "backend_status",
    "check_compliance",
    "check_filter_compliance",
    "cohort",
    "compare_backends",
    "default_output",
    "explain_case",
    "explain_heldout",
    "extract",
    "extract_case",
    "feature_maps",
    "from_pyradiomics",
    "from_pyradiomics_names",
    "import_features",
    "load_config",
    "make_config",
    "predict",
    "pyradiomics_reading",
    "robustness",
    "run",
    "to_pyradiomics_names",
    "train",
    "validate_config",
    "voxel_maps",
    "write_maps",
    "write_report",
]

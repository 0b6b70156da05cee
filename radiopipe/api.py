"""The public Python API: what the command line runs, for notebooks and scripts.

Every function takes a config (a :class:`~radiopipe.config.LoadedConfig`, or the path of a YAML
file) and runs one stage of :mod:`radiopipe.stages`, returning a result object that shows
itself in Jupyter and holds plain DataFrames (:mod:`radiopipe.results`). Stages write into the
run folder as ``python -m radiopipe`` does, so a notebook and the command line share runs.

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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from radiopipe.config import (
    LoadedConfig,
    apply_overrides,
    load_config,
    parse_config,
    read_config_data,
)
from radiopipe.errors import ConfigError, ManifestError, RadiopipeError
from radiopipe.extraction import compute_features
from radiopipe.manifest import Case, Manifest, read_manifest
from radiopipe.pyradiomics_names import from_pyradiomics_names, to_pyradiomics_names
from radiopipe.results import (
    BackendChoice,
    Document,
    Explanations,
    Extraction,
    FeatureMaps,
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
Section = dict[str, Any] | BaseModel | None


def make_config(
    name: str,
    *,
    data: Section,
    features: Section = None,
    model: Section = None,
    compute: Section = None,
    explain: Section = None,
    report: Section = None,
    cnn: Section = None,
    robustness: Section = None,
    output_dir: str | Path | None = None,
    base_dir: str | Path = ".",
) -> LoadedConfig:
    """Build a validated config in code, as a YAML file would give it.

    Parameters
    ----------
    name : str
        The run's name.
    data, features, model, compute, explain, report, cnn, robustness : dict or section model
        The config's sections (see ``configs/demo.yaml``); omitted ones take their defaults.
    output_dir : str or Path, optional
        The run folder; ``runs/<name>`` by default.
    base_dir : str or Path
        Folder that relative paths (manifest, output) resolve against.

    Returns
    -------
    LoadedConfig

    Raises
    ------
    ConfigError
        Naming every invalid or unknown key, as for a YAML file.

    Examples
    --------
    >>> config = make_config("tiny", data={"manifest": "cohort.csv"}, compute={"n_jobs": 2})
    >>> config.config.compute.n_jobs
    2
    """
    sections = {"data": data, "features": features, "model": model, "compute": compute,
                "explain": explain, "report": report, "cnn": cnn, "robustness": robustness}
    document = {"name": name, "output_dir": str(output_dir or Path("runs") / name)}
    for key, value in sections.items():
        if value is not None:
            document[key] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return parse_config(document, base_dir=base_dir, source=f"config '{name}'")


def validate_config(
    path: str | Path, overrides: Sequence[str] = ()
) -> tuple[LoadedConfig | None, list[str]]:
    """Every problem of a config file and of the cohort manifest it names, found in one pass.

    Checks the config's keys and values (model names included), the manifest (its columns,
    case ids, labels and that every image and mask it lists exists; a built-in dataset is written
    on first use and not checked here) and the devices the config asks for.

    Parameters
    ----------
    path : str or Path
        The YAML config file.
    overrides : sequence of str
        ``KEY.PATH=VALUE`` settings over the file's (the command line's ``--set``).

    Returns
    -------
    (LoadedConfig or None, list of str)
        The config (None when it is invalid) and the problems, one line each (empty: valid).

    Examples
    --------
    >>> validate_config("configs/demo.yaml")[1]  # doctest: +SKIP
    []
    """
    path = Path(path)
    try:
        data = apply_overrides(read_config_data(path), overrides, source=path.name)
    except ConfigError as exc:
        return None, str(exc).splitlines()
    problems: list[str] = []
    base_dir = path.resolve().parent
    loaded = None
    try:
        loaded = load_config(path, overrides)
    except ConfigError as exc:
        problems += str(exc).splitlines()
    section = data.get("data") if isinstance(data, dict) else None
    manifest = section.get("manifest") if isinstance(section, dict) else None
    if isinstance(manifest, str):
        try:
            read_manifest(base_dir / manifest)
        except ManifestError as exc:
            problems += [f"{path.name}: data.manifest: {line}" for line in str(exc).splitlines()]
    if loaded is not None:
        from radiopipe.devices import check_devices

        try:
            check_devices(loaded)
        except ConfigError as exc:
            problems += str(exc).splitlines()
    return loaded, problems


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


def extract_case(
    image: str | Path,
    mask: str | Path | None = None,
    *,
    features: Section = None,
    mask_label: int = 1,
    channel_policy: str | None = None,
    roi: str | None = None,
) -> pd.Series:
    """The features of one image and mask, computed now (nothing is written).

    Parameters
    ----------
    image : str or Path
        Image file or DICOM series folder.
    mask : str or Path, optional
        Mask file (label map, DICOM RTSTRUCT or SEG); None makes the whole image the region of
        interest.
    features : dict or FeatureConfig, optional
        Feature settings (the config's ``features`` section); pyradiomics' defaults if omitted.
    mask_label : int
        Mask value of the region of interest.
    channel_policy : str, optional
        How colour images become grey ('luminance', 'mean', 'red', 'green', 'blue').
    roi : str, optional
        The structure of an RTSTRUCT or SEG mask (exact name, segment number or pattern).

    Returns
    -------
    pandas.Series
        Values keyed ``{image_type}__{family}__{feature}``, named after the image file.

    Raises
    ------
    CaseError
        When the image or mask cannot be read or do not fit together.

    Examples
    --------
    >>> values = extract_case("ct.nrrd", "mask.nrrd", features={"bin_width": 10})  # doctest: +SKIP
    >>> values["original__firstorder__Mean"]  # doctest: +SKIP
    """
    settings = _case_settings(features, mask_label, channel_policy).config
    case = _single_case(image, mask, roi)
    values = compute_features(case, settings.features, settings.data)
    return pd.Series(values, name=case.case_id, dtype="float64")


def compare_backends(
    image: str | Path,
    mask: str | Path | None = None,
    *,
    features: Section = None,
    backends: tuple[str, ...] = ("native", "pyradiomics"),
) -> pd.DataFrame:
    """One case's features from several backends side by side, with their differences.

    Parameters
    ----------
    image, mask : str or Path
        As for :func:`extract_case`.
    features : dict or FeatureConfig, optional
        Feature settings; each backend runs them with its name substituted.
    backends : tuple of str
        The backends to run; the first is the one differences are measured against.

    Returns
    -------
    pandas.DataFrame
        Indexed by feature column: one column per backend, then ``abs_difference`` and
        ``rel_difference`` of the last backend against the first (NaN where one lacks the
        feature: the native engine adds IBSI columns pyradiomics lacks).

    Examples
    --------
    >>> compare_backends("ct.nrrd", "lesion.nrrd").sort_values("rel_difference")  # doctest: +SKIP
    """
    base = _section_dict(features)
    columns = {
        name: extract_case(image, mask, features={**base, "backend": name}) for name in backends
    }
    table = pd.DataFrame(columns)
    first, last = table[backends[0]], table[backends[-1]]
    table["abs_difference"] = (last - first).abs()
    scale = pd.concat([first.abs(), last.abs()], axis=1).max(axis=1)
    table["rel_difference"] = (table["abs_difference"] / scale).where(scale > 0, 0.0)
    return table.rename_axis("feature")


def feature_maps(
    image: str | Path,
    mask: str | Path | None,
    features: list[str],
    *,
    settings: Section = None,
    window: int = 5,
    max_windows: int = 400,
    min_coverage: float = 0.5,
) -> FeatureMaps:
    """Voxel-wise maps of some features over one case's largest ROI slice.

    Each ROI voxel (every ``stride``-th one) gets the feature of the ``window``-voxel cube
    centred there, computed as extraction computes the case's feature, where at least
    ``min_coverage`` of the window lies in the ROI; sums over voxels such as Energy are shown
    per voxel (see :mod:`radiopipe.explain.feature_maps`).

    Parameters
    ----------
    image, mask : str or Path
        As for :func:`extract_case`.
    features : list of str
        Feature columns to map (texture, first-order or histogram features).
    settings : dict or FeatureConfig, optional
        Feature settings.
    window : int
        Window side in voxels (odd).
    max_windows : int
        Windows per map at most.
    min_coverage : float
        Fraction of a window that must lie in the ROI for it to be shown (1: wholly inside).

    Returns
    -------
    FeatureMaps
        ``.plot()`` draws them; ``.frame()`` is the table behind.

    Examples
    --------
    >>> maps = feature_maps("ct.nrrd", "lesion.nrrd", ["original__glcm__Idm"])  # doctest: +SKIP
    >>> maps.plot()  # doctest: +SKIP
    """
    from radiopipe.explain.feature_maps import feature_maps as compute_maps
    from radiopipe.io import Volume, read_case

    config = _case_settings(settings, 1, None).config
    image_read, mask_read = read_case(_single_case(image, mask), config.data)
    maps = compute_maps(Volume.from_sitk(image_read), Volume.from_sitk(mask_read), features,
                        config.features, window=window, max_windows=max_windows,
                        min_coverage=min_coverage)
    return FeatureMaps(maps)


def voxel_maps(
    image,
    mask,
    features: list[str],
    *,
    kernel_radius: int = 1,
    masked_kernel: bool = True,
    init_value: float = float("nan"),
    settings: Section = None,
    mask_label: int = 1,
) -> dict:
    """Voxel-wise maps of some features over one case's whole 3D ROI (pyradiomics' voxel-based
    extraction, computed for every kernel at once).

    Each ROI voxel gets the features of the cube of side ``2 * kernel_radius + 1`` around it,
    with pyradiomics' semantics (see :mod:`radiopipe.voxelwise`): with ``masked_kernel`` only
    ROI voxels of the cube count and the grey levels are discretised over the whole ROI. Unlike
    :func:`feature_maps` (a report's view of one slice, windows screened by coverage, extensive
    features per voxel) the values are pyradiomics' own, over every ROI voxel.

    Parameters
    ----------
    image, mask : str, Path or SimpleITK.Image
        The case: files (as for :func:`extract_case`) or images on one grid.
    features : list of str
        Feature columns of the first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM families
        (``radiopipe.voxelwise.maps.mappable_features()`` on 'original'), on the original
        image or on a filtered image the settings' ``image_types`` make
        (``log-sigma-1-0-mm-3D__glcm__Idm``, ``wavelet-LLH__firstorder__Mean``).
    kernel_radius : int
        pyradiomics' ``kernelRadius``.
    masked_kernel : bool
        pyradiomics' ``maskedKernel``.
    init_value : float
        Value outside the ROI: NaN by default (pyradiomics' ``initValue`` is 0).
    settings : dict or FeatureConfig, optional
        Feature settings (preparation, discretisation); ``definitions`` must be 'pyradiomics'.
    mask_label : int
        The ROI's label in ``mask``.

    Returns
    -------
    dict of str to SimpleITK.Image
        Column -> float64 map on the image's grid (the resampled grid when the settings
        resample).

    Examples
    --------
    >>> maps = voxel_maps("ct.nrrd", "lesion.nrrd", ["original__glcm__Idm"])  # doctest: +SKIP
    >>> sitk.WriteImage(maps["original__glcm__Idm"], "idm.nrrd")  # doctest: +SKIP
    """
    import SimpleITK as sitk

    from radiopipe.io import Volume, read_case
    from radiopipe.voxelwise.maps import voxel_maps as compute_maps

    config = _case_settings(settings, mask_label, None).config
    if isinstance(image, sitk.Image) and isinstance(mask, sitk.Image):
        image_read, mask_read = image, sitk.Cast(mask == mask_label, sitk.sitkUInt8)
    else:
        image_read, mask_read = read_case(_single_case(image, mask), config.data)
    return compute_maps(Volume.from_sitk(image_read), Volume.from_sitk(mask_read), features,
                        config.features, kernel_radius=kernel_radius,
                        masked_kernel=masked_kernel, init_value=init_value)


def backend_status(backend: str = "auto") -> BackendChoice:
    """Which feature backend ``backend`` runs here, and what the GPU probe found.

    Examples
    --------
    >>> backend_status("native").backend
    'native'
    """
    from radiopipe import gpu
    from radiopipe.backends import get_backend

    chosen = get_backend(backend).name
    reason = gpu.unavailable_reason() if chosen != "cupy" and backend in ("auto", "cupy") else ""
    return BackendChoice(backend, chosen, reason)


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
               masked_kernel: bool = True):
    """Write the voxel-wise feature maps of a cohort's cases into the run folder.

    Each chosen case gets ``maps/<case_id>/<column>.nrrd`` per feature (see
    :func:`voxel_maps`; NaN outside the ROI); a failing case is recorded in
    ``maps/failures/<case_id>.json`` and the others are still written.

    Returns
    -------
    radiopipe.stages.maps.MapsOutcome
        ``written`` (case -> files) and ``failed_cases`` (case -> reason).

    Examples
    --------
    >>> write_maps("configs/demo.yaml", features=["original__glcm__Idm"])  # doctest: +SKIP
    """
    from radiopipe.stages.maps import write_maps as maps_stage

    loaded = _loaded(config)
    with hold(RunFolder(loaded.output_dir)):
        return maps_stage(loaded, cases=cases, features=features, kernel_radius=kernel_radius,
                          masked_kernel=masked_kernel)


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


def _section_dict(section: Section) -> dict[str, Any]:
    if section is None:
        return {}
    return section.model_dump(mode="json") if isinstance(section, BaseModel) else dict(section)


def _case_settings(features: Section, mask_label: int, channel_policy: str | None) -> LoadedConfig:
    """Feature and reading settings validated as a config's sections (same messages)."""
    data = {"manifest": "single-case", "mask_label": mask_label, "channel_policy": channel_policy}
    return make_config("single-case", data=data, features=_section_dict(features))


def _single_case(image: str | Path, mask: str | Path | None, roi: str | None = None) -> Case:
    image = Path(image)
    name = image.name.split(".")[0] or "case"
    return Case(case_id=name, image=image, mask=None if mask is None else Path(mask),
                label="", patient_id=name, roi=roi)


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

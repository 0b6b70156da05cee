"""Feature extraction over a cohort: parallel, resumable, and failure-tolerant.

Each case's features are written atomically to ``cases/<case_id>.json`` together with a key that
hashes the image and mask bytes, the feature and reading settings and the backend version. A
multimodal case computes every image with its modality's settings (:mod:`radiopipe.io.modality`)
into one row, each image's columns prefixed by its modality; beside the features the row holds
each image's acquisition parameters and provenance (``acquisition__*``, ``diagnostics__*``) and
the backend's own diagnostics (pyradiomics' ``diagnostics_*`` as ``pyradiomics__*``). A
rerun reuses every case whose key is unchanged and recomputes the rest. A case that fails is
recorded in ``failures/<case_id>.json`` with its reason and never stops the others.

Cases run in local processes (joblib; with one job, in order in this process, no pool started) or
as one task each on a Dask cluster. Either way a case's file is written by the process that
computed it, as soon as it is done: a lost worker loses only the case it was computing, which
Dask runs again elsewhere, and a rerun resumes from the files.
A local job takes up to ``CASES_PER_JOB`` consecutive cases: with the native backend, the small
ROIs among them (`radiopipe.features.batch.SMALL_ROI_VOXELS`) are computed as one batch, equal to
their one-by-one extraction; the others, and every case of another backend, one by one.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from contextlib import ExitStack
from functools import partial
from typing import TYPE_CHECKING

from radiopipe.acquisition import acquisition_parameters
from radiopipe.backends import get_backend
from radiopipe.columns import pyradiomics_column, with_modality
from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.diagnostics import acquisition_diagnostics
from radiopipe.errors import CaseError
from radiopipe.features.blas import single_threaded_blas
from radiopipe.io import Volume, redact_paths
from radiopipe.io.modality import ModalityImage, read_modality
from radiopipe.manifest import Case, Manifest
from radiopipe.parallel import unordered_results
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write_json, file_sha256, text_sha256
from radiopipe.table import CaseResult

if TYPE_CHECKING:
    from radiopipe.scaleout import DaskCluster

logger = logging.getLogger(__name__)

# Cases per local job (fewer when there are fewer cases than workers): one batch of small ROIs.
CASES_PER_JOB = 32


def extract_cohort(
    manifest: Manifest,
    features: FeatureConfig,
    data: DataConfig,
    run: RunFolder,
    *,
    n_jobs: int = 1,
    cluster: DaskCluster | None = None,
    progress: bool = True,
) -> list[CaseResult]:
    """Extract features for every case, reusing finished cases.

    Parameters
    ----------
    manifest : Manifest
        The cohort.
    features : FeatureConfig
        Backend and feature settings.
    data : DataConfig
        How images and masks are read.
    run : RunFolder
        Where ``cases/`` and ``failures/`` are written.
    n_jobs : int
        Local worker processes (-1 for all cores), without a cluster; 1 computes the cases in
        this process.
    cluster : DaskCluster, optional
        Run every case as one task on this Dask cluster instead (see
        :func:`radiopipe.scaleout.compute_cluster`); its workers must see the data and
        the run folder at the same paths.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of CaseResult
        In manifest order.
    """
    # A cohort's tool only: one case's extraction (compute_features) never imports it.
    from tqdm import tqdm  # the text bar: tqdm.auto warns in kernels without ipywidgets

    run.cases_dir.mkdir(parents=True, exist_ok=True)
    backend = get_backend(features.backend)  # fail fast, before any worker starts
    by_id = {}
    bar = tqdm(total=len(manifest.cases), desc="features", unit="case", disable=not progress)
    # One BLAS limit for the whole loop: in-process cases (n_jobs=1) then skip setting their own.
    with ExitStack() as stack, bar, single_threaded_blas():
        if cluster is None and n_jobs == 1:  # in this process, in order: no pool (nor joblib)
            done = (extract_cases(chunk, features, data, run)
                    for chunk in _chunks(manifest.cases, CASES_PER_JOB))
        elif cluster is None:
            from joblib import delayed, effective_n_jobs

            size = min(CASES_PER_JOB, -(-len(manifest.cases) // effective_n_jobs(n_jobs)))
            jobs = (delayed(extract_cases)(chunk, features, data, run)
                    for chunk in _chunks(manifest.cases, size))
            done = stack.enter_context(unordered_results(jobs, n_jobs))
        else:
            cluster.check_workers(
                readable=manifest.cases[0].image, writable=run.cases_dir,
                what=f"case '{manifest.cases[0].case_id}''s image",
            )
            provenance = {"backend": backend.name, "backend_version": backend.version()}
            done = ([result] for result in cluster.map_unordered(
                extract_case, manifest.cases, features, data, run, task="extract",
                name=lambda case: case.case_id,
                on_error=partial(_lost_case, provenance=provenance, run=run),
            ))
        for result in (result for results in done for result in results):
            by_id[result.case_id] = result
            bar.update()
            if result.note is not None:
                logger.warning("%s", result.note)
            if result.status == "failed":
                logger.warning("%s", result.reason)
    results = [by_id[case.case_id] for case in manifest.cases]
    counts = {s: sum(r.status == s for r in results) for s in ("computed", "reused", "failed")}
    logger.info(
        "features: %d computed, %d reused, %d failed",
        counts["computed"], counts["reused"], counts["failed"],
    )
    return results


def extract_cases(
    cases: list[Case], features: FeatureConfig, data: DataConfig, run: RunFolder
) -> list[CaseResult]:
    """Extract (or reuse) several cases in this process, the native backend's small ROIs among
    them computed as one batch; never raises for a problem of a case itself.

    Each case is read once: a case that is not batched is extracted as soon as it is read, so
    only the small ROIs wait for their batch.

    Returns
    -------
    list of CaseResult
        In the order of ``cases``.
    """
    with single_threaded_blas():  # once for the job, not once per case
        if len(cases) == 1 or get_backend(features.backend).name != "native":
            return [extract_case(case, features, data, run) for case in cases]
        from radiopipe.features.batch import is_small  # the engine, when it runs

        results, small = {}, {}
        for case in cases:
            read = _read_if_pending(case, features, data, run)
            mask = None if read is None else Volume.from_sitk(read.mask, copy=False)
            if read is not None and read.features == features and is_small(mask):
                small[case.case_id] = (case, read, mask)
            else:
                results[case.case_id] = extract_case(case, features, data, run, read=read)
        computed = _batch(small, features)
        for case_id, (case, read, _) in small.items():
            results[case_id] = extract_case(case, features, data, run, read=read,
                                            computed=computed.get(case_id))
        return [results[case.case_id] for case in cases]


def _read_if_pending(case: Case, features: FeatureConfig, data: DataConfig,
                     run: RunFolder) -> ModalityImage | None:
    """A single-image case's image and mask when its features are not stored yet; None for a
    stored or multimodal case, or one that cannot be read (its own extraction reports it)."""
    if case.modalities:
        return None
    provenance = {"backend": "native", "backend_version": get_backend("native").version()}
    try:
        key = _case_key(_input_provenance(case, provenance), features, data)
        if _read_cached(run.case_file(case.case_id), key)[0] is not None:
            return None
        return read_modality(case, case.images[0], features, data)
    except Exception:  # the case's own extraction reads it again and reports why it fails
        return None


def _batch(small: dict, features: FeatureConfig) -> dict[str, dict[str, float]]:
    """Features of the small ROIs by case id, computed as one batch
    (`radiopipe.features.batch.extract_many`); empty when the batch raises: each case is then
    computed, and fails, alone."""
    from radiopipe.features.batch import extract_many

    if len(small) < 2:
        return {}
    volumes = [(Volume.from_sitk(read.image, copy=False), mask) for _, read, mask in small.values()]
    try:
        return dict(zip(small, extract_many(volumes, features)))
    except Exception:  # each case is then computed, and fails, alone
        return {}


def extract_case(
    case: Case, features: FeatureConfig, data: DataConfig, run: RunFolder, *,
    read: ModalityImage | None = None, computed: dict[str, float] | None = None,
) -> CaseResult:
    """Extract (or reuse) one case's features; never raises for a problem of the case itself.

    Parameters
    ----------
    case : Case
    features : FeatureConfig
    data : DataConfig
    run : RunFolder
    read : ModalityImage, optional
        A single-image case's image and mask when the caller read them already.
    computed : dict, optional
        A single-image case's feature values when a batch computed them already (from
        ``read``, which then gives the acquisition parameters and provenance).

    Returns
    -------
    CaseResult
    """
    backend = get_backend(features.backend)
    cached_file = run.case_file(case.case_id)
    failure_file = run.failure_file(case.case_id)
    provenance = {"backend": backend.name, "backend_version": backend.version()}
    try:
        provenance = _input_provenance(case, provenance)
        key = _case_key(provenance, features, data)
        cached, note = _read_cached(cached_file, key)
        if cached is not None:
            failure_file.unlink(missing_ok=True)
            return CaseResult(case.case_id, "reused", cached, provenance)
        start = time.perf_counter()
        values = _read_and_compute(case, features, data, described=True, read=read,
                                   computed=computed)
        seconds = time.perf_counter() - start
    except CaseError as exc:
        return _record_failure(case, provenance, run, type(exc).__name__, exc.reason)
    except Exception as exc:  # one case's crash must not lose the cohort
        # Reasons and logs name no input file: the message is redacted, the traceback shows
        # code locations only.
        detail = redact_paths(str(exc), *(p for i in case.images for p in (i.image, i.mask)))
        reason = f"{features.backend} raised {type(exc).__name__}: {detail}"
        logger.debug("case '%s': %s, raised at\n%s", case.case_id, reason,
                     "".join(traceback.format_tb(exc.__traceback__)))
        return _record_failure(case, provenance, run, type(exc).__name__, reason)
    atomic_write_json(
        cached_file,
        {"case_id": case.case_id, "key": key, "seconds": seconds, "provenance": provenance,
         "features": values, "checksum": _checksum(key, values)},
    )
    failure_file.unlink(missing_ok=True)
    note = None if note is None else f"case '{case.case_id}': {note}; recomputed"
    return CaseResult(case.case_id, "computed", values, provenance, note=note)


def _chunks(cases: tuple[Case, ...], size: int) -> list[tuple[Case, ...]]:
    """``cases`` in consecutive runs of ``size`` (the last one shorter)."""
    return [cases[k:k + size] for k in range(0, len(cases), size)]


def compute_features(case: Case, features: FeatureConfig, data: DataConfig) -> dict[str, float]:
    """Read one case's image and mask and compute its features (nothing is cached).

    Parameters
    ----------
    case : Case
    features : FeatureConfig
    data : DataConfig
        How the image and mask are read.

    Returns
    -------
    dict
        Feature values keyed ``{image_type}__{family}__{feature}`` (prefixed by the modality
        for a multimodal case).

    Raises
    ------
    CaseError
        When the image or mask cannot be read or do not fit together.
    """
    return _read_and_compute(case, features, data, described=False)


def input_sha256(case: Case) -> tuple[str, str]:
    """(image hash, mask hash) of a case: its files' SHA-256, or for a multimodal case the hash
    of every modality's files and structure name."""
    pairs = [(i.modality, file_sha256(i.image), "" if i.mask is None else file_sha256(i.mask),
              "" if i.roi is None else text_sha256(i.roi)) for i in case.images]
    if case.modalities:  # the mask hash covers each modality's structure name too
        return text_sha256(json.dumps([p[:2] for p in pairs])), text_sha256(
            json.dumps([[p[0], *p[2:]] for p in pairs]))
    return pairs[0][1], pairs[0][2]


def _input_provenance(case: Case, provenance: dict[str, str]) -> dict[str, str]:
    """``provenance`` with the case's input hashes added."""
    provenance = dict(provenance)
    provenance["image_sha256"], provenance["mask_sha256"] = input_sha256(case)
    if case.roi is not None and not case.modalities:  # hashed: a name may hold an identifier
        provenance["roi_sha256"] = text_sha256(case.roi)
    return provenance


def read_images(case: Case, features: FeatureConfig, data: DataConfig) -> list[ModalityImage]:
    """Every image of a case read as extraction reads it, with its modality's settings.

    Raises
    ------
    CaseError
        When an image or mask cannot be read or they do not fit together.
    """
    return [read_modality(case, item, features, data) for item in case.images]


def compute_images(images: list[ModalityImage], features: FeatureConfig, *,
                   described: bool = False, precomputed: dict[str, float] | None = None) -> dict:
    """The feature values of a case's read images (:func:`read_images`), each image's columns
    prefixed by its modality; with ``described``, also each image's acquisition parameters and
    provenance and the backend's own diagnostics. ``precomputed``: the features of a case's one
    image, computed already in a batch by the native engine (which keeps no diagnostics)."""
    backend = get_backend(features.backend)
    values = {}
    for read in images:
        if precomputed is not None:
            computed = precomputed
        elif described:
            computed, found = backend.extract_described(read.image, read.mask, read.features)
            values.update({pyradiomics_column(k, read.modality): v for k, v in found.items()})
        else:
            computed = backend.extract(read.image, read.mask, read.features)
        values.update({with_modality(read.modality, k): v for k, v in computed.items()})
        if described:  # kept beside the features
            values.update(acquisition_parameters(read.image, read.modality))
            values.update(acquisition_diagnostics(read.header, modality=read.modality,
                                                  kind=read.kind))
    return values


def _read_and_compute(case: Case, features: FeatureConfig, data: DataConfig, *,
                      described: bool, read: ModalityImage | None = None,
                      computed: dict[str, float] | None = None) -> dict:
    """The case's feature values after reading each image as every extraction does (for a
    single-image case, ``read`` and ``computed`` when the caller has them)."""
    images = [read] if read is not None else read_images(case, features, data)
    return compute_images(images, features, described=described,
                          precomputed=computed if read is not None else None)


def _case_key(provenance: dict[str, str], features: FeatureConfig, data: DataConfig) -> str:
    reading = data.reading()
    # 'kind' picks the columns of the run, not the values of a case's radiomics features.
    settings = features.model_dump(mode="json", exclude={"kind"})
    payload = {"provenance": provenance, "features": settings, "reading": reading}
    return text_sha256(json.dumps(payload, sort_keys=True))


def _read_cached(path, key: str) -> tuple[dict[str, float] | None, str | None]:
    """A stored result's features when it verifies; otherwise (None, why it is not reused, or
    None when there is simply nothing current to reuse)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "its stored result is unreadable"
    if not isinstance(record, dict) or not isinstance(record.get("features"), dict):
        return None, "its stored result is not a result record"
    if record.get("key") != key:
        return None, None  # settings, inputs or backend changed: an ordinary recomputation
    if record.get("checksum") != _checksum(key, record["features"]):
        return None, "its stored result was altered after it was written"
    return record["features"], None


def _checksum(key: str, features: dict[str, float]) -> str:
    """Hash of a result's key and values, stored with it and verified before reuse."""
    return text_sha256(json.dumps({"key": key, "features": features}, sort_keys=True))


def _lost_case(case: Case, exc: BaseException, *, provenance, run: RunFolder) -> CaseResult:
    """A case whose Dask task failed outside the case's own code (its workers kept dying)."""
    reason = f"its Dask task failed ({type(exc).__name__}: {exc})"
    if type(exc).__name__ == "KilledWorker":  # the case's workers died on every try
        reason += "; the case may need more memory than a worker has"
    return _record_failure(case, provenance, run, type(exc).__name__, reason)


def _record_failure(case: Case, provenance, run: RunFolder, error: str, reason: str) -> CaseResult:
    """Write ``failures/<case_id>.json`` and drop any earlier result of the case."""
    message = f"case '{case.case_id}': {reason}"
    run.case_file(case.case_id).unlink(missing_ok=True)
    atomic_write_json(
        run.failure_file(case.case_id),
        {"case_id": case.case_id, "error": error, "reason": message},
    )
    return CaseResult(case.case_id, "failed", None, provenance, message)

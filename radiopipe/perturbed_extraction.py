"""The features of every perturbed version of every case, through the extraction's own reading
and computing (:func:`radiopipe.extraction.read_images`, :func:`~.extraction.compute_images`).

Each case's images are read once, then every version that
:func:`radiopipe.preprocess.perturbations.plan` lists perturbs each image and its mask
(:func:`~radiopipe.preprocess.perturbations.apply`) and computes the features with the configured
backend. Cases run in ``n_jobs`` local processes. A case whose perturbation or extraction fails
is recorded in ``robustness/failures/<case_id>.json`` and left out of the ICCs; it never stops the
others. Perturbed images are written (NIfTI, under ``robustness/images/<case_id>/``) only with
``robustness.write_images``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from dataclasses import dataclass

import SimpleITK as sitk
from joblib import delayed
from tqdm import tqdm

from radiopipe.config import DataConfig, FeatureConfig, RobustnessConfig
from radiopipe.errors import CaseError
from radiopipe.extraction import compute_images, read_images
from radiopipe.io import redact_paths
from radiopipe.manifest import Case, Manifest
from radiopipe.parallel import unordered_results
from radiopipe.preprocess.perturbations import Perturbation, apply, plan
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write, atomic_write_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PerturbedCase:
    """One case's versions.

    Attributes
    ----------
    case_id : str
    rows : list of dict or None
        One per version, in :func:`plan` order: ``perturbation`` (its name), ``kind``,
        ``seconds`` (perturbing and extracting it) and the feature values; None when it failed.
    reason : str or None
        Why the case failed.
    """

    case_id: str
    rows: list[dict] | None
    reason: str | None = None


def extract_perturbed(manifest: Manifest, features: FeatureConfig, data: DataConfig,
                      settings: RobustnessConfig, run: RunFolder, *, n_jobs: int = 1,
                      progress: bool = True, versions: list[Perturbation] | None = None,
                      failures: str = "robustness") -> list[PerturbedCase]:
    """Every case's versions, in manifest order.

    Parameters
    ----------
    manifest : Manifest
    features : FeatureConfig
    data : DataConfig
    settings : RobustnessConfig
        The perturbations.
    run : RunFolder
        Where failures (and perturbed images, when asked) are written.
    n_jobs : int
        Local worker processes (-1 for all cores).
    progress : bool
        Show a progress bar.
    versions : list of Perturbation, optional
        The versions to compute; :func:`plan` of ``settings`` by default (the negative controls
        pass :func:`~radiopipe.preprocess.perturbations.control_plan`).
    failures : {'robustness', 'controls'}
        Where a failed case is recorded: ``robustness/failures/`` or ``controls/failures/``.
    """
    versions = plan(settings) if versions is None else versions
    jobs = (delayed(perturb_case)(case, features, data, settings, versions, run, failures)
            for case in manifest.cases)
    by_id = {}
    bar = tqdm(total=len(manifest.cases), desc="perturbed cases", unit="case",
               disable=not progress)
    with bar, unordered_results(jobs, n_jobs) as finished:
        for result in finished:
            by_id[result.case_id] = result
            bar.update()
            if result.reason is not None:
                logger.warning("%s", result.reason)
    return [by_id[case.case_id] for case in manifest.cases]


def perturb_case(case: Case, features: FeatureConfig, data: DataConfig,
                 settings: RobustnessConfig, versions: list[Perturbation],
                 run: RunFolder, failures: str = "robustness") -> PerturbedCase:
    """One case's versions (in ``versions`` order); never raises for a problem of the case."""
    failure = (run.robustness_failure_file(case.case_id) if failures == "robustness"
               else run.control_failure_file(case.case_id))
    try:
        images = read_images(case, features, data)
        rows = []
        for version in versions:
            start = time.perf_counter()
            perturbed = [_perturbed(read, version, settings, case.case_id) for read in images]
            values = compute_images(perturbed, features)
            seconds = time.perf_counter() - start
            rows.append({"perturbation": version.name, "kind": version.kind,
                         "seconds": seconds, **values})
            if settings.write_images and version.steps:
                _write_images(run, case.case_id, version, perturbed)
    except CaseError as exc:
        return _failed(case, failure, exc.reason)
    except Exception as exc:  # one case's crash must not lose the cohort
        detail = redact_paths(str(exc), *(p for i in case.images for p in (i.image, i.mask)))
        return _failed(case, failure, f"{features.backend} raised {type(exc).__name__}: {detail}")
    failure.unlink(missing_ok=True)
    return PerturbedCase(case.case_id, rows)


def _perturbed(read, version: Perturbation, settings: RobustnessConfig, case_id: str):
    if not version.steps:
        return read
    image, mask = apply(version, read.image, read.mask, settings, case_id=case_id,
                        modality=read.modality)
    return dataclasses.replace(read, image=image, mask=mask)


def _write_images(run: RunFolder, case_id: str, version: Perturbation, images) -> None:
    folder = run.perturbed_images_dir(case_id)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", version.name)
    for read in images:
        prefix = stem if read.modality is None else f"{stem}__{read.modality}"
        for role, image in (("image", read.image), ("mask", read.mask)):
            atomic_write(folder / f"{prefix}_{role}.nii",
                         lambda tmp, image=image: _write_nifti(image, tmp))


def _write_nifti(image: sitk.Image, path) -> None:
    """NIfTI at ``path`` whatever its (temporary) suffix: written beside it, then moved on it."""
    named = f"{path}.nii"
    sitk.WriteImage(image, named)
    os.replace(named, path)


def _failed(case: Case, failure, reason: str) -> PerturbedCase:
    message = f"case '{case.case_id}': {reason}"
    atomic_write_json(failure, {"case_id": case.case_id, "reason": message})
    return PerturbedCase(case.case_id, None, message)

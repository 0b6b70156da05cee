"""The maps stage: every chosen case's voxel-wise feature maps as NRRD files in the run folder.

For each case of the manifest (or those named), the maps of :mod:`radiopipe.voxelwise` are
written to ``maps/<case_id>/<column>.nrrd``, each file atomically. A case that fails is
recorded in ``maps/failures/<case_id>.json`` (its earlier maps removed) and never stops the
others.

A rerun resumes: a case's maps are reused when its ``maps/<case_id>/maps.json`` holds the same
key (feature and reading settings, chosen columns, kernel, radiopipe's version, the image and
mask bytes' SHA-256) and every map file it lists is there with the SHA-256 recorded when it
was written; otherwise (a setting or an input changed, a file missing or edited, an
interrupted write) the case's folder is emptied and its maps computed again. The key file is
written last, so a case is never reused half-written.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import SimpleITK as sitk

from radiopipe import __version__
from radiopipe.config import LoadedConfig
from radiopipe.errors import ConfigError
from radiopipe.extraction import input_sha256
from radiopipe.io import Volume, read_case
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write, atomic_write_json, file_sha256
from radiopipe.study import cohort_manifest, open_run
from radiopipe.voxelwise.maps import check_features, mappable_features, voxel_maps

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MapsOutcome:
    """What the maps stage wrote.

    Attributes
    ----------
    written : dict of str to list of Path
        Case id -> its map files (computed now or reused).
    failed_cases : dict of str to str
        Case id -> why its maps failed.
    reused : list of str
        Cases whose earlier maps were kept.
    """

    written: dict[str, list[Path]]
    failed_cases: dict[str, str]
    reused: list[str]


def write_maps(loaded: LoadedConfig, *, cases=None, features=None, kernel_radius: int = 1,
               masked_kernel: bool = True, extent: str = "roi") -> MapsOutcome:
    """Write the voxel-wise maps of the chosen cases and features.

    Parameters
    ----------
    loaded : LoadedConfig
    cases : list of str, optional
        Case ids; default every case of the manifest.
    features : list of str, optional
        Feature columns; default every first-order, GLCM, GLRLM, GLSZM, GLDM and NGTDM
        feature of the families whose kernels follow the features section (a GLCM extracted
        at other distances than 1 is not mapped; a column naming it is refused).
    kernel_radius : int
        pyradiomics' ``kernelRadius``.
    masked_kernel : bool
        pyradiomics' ``maskedKernel``.
    extent : {'roi', 'image'}
        The maps' grid: around the ROI (pyradiomics' grid) or the whole image.

    Returns
    -------
    MapsOutcome
    """
    features = list(features) if features else mappable_features(loaded.config.features)
    try:
        check_features(features, loaded.config.features)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    manifest = cohort_manifest(loaded, require_labels=False)
    chosen = _chosen_cases(manifest, cases)
    run = open_run(loaded)
    settings = {"features": loaded.config.features.model_dump(mode="json"),
                "reading": loaded.config.data.reading(), "columns": features,
                "kernel_radius": kernel_radius, "masked_kernel": masked_kernel,
                "extent": extent, "version": __version__}
    written, failed, reused = {}, {}, []
    for number, case in enumerate(chosen, start=1):
        try:
            image_sha256, mask_sha256 = input_sha256(case)
            # as written to and read back from the key file (tuples become lists)
            key = json.loads(json.dumps(
                {**settings, "image_sha256": image_sha256, "mask_sha256": mask_sha256}))
            kept = _reusable_maps(run, case.case_id, key)
            if kept is not None:
                written[case.case_id] = kept
                reused.append(case.case_id)
                run.maps_failure_file(case.case_id).unlink(missing_ok=True)
                logger.info("maps: %d/%d cases (%s reused)", number, len(chosen), case.case_id)
                continue
            image, mask = read_case(case, loaded.config.data)
            maps = voxel_maps(Volume.from_sitk(image), Volume.from_sitk(mask), features,
                              loaded.config.features, kernel_radius=kernel_radius,
                              masked_kernel=masked_kernel, extent=extent)
        except Exception as exc:  # one case failing never loses the others
            failed[case.case_id] = _record_failure(run, case.case_id, type(exc).__name__, exc)
            continue
        run.maps_failure_file(case.case_id).unlink(missing_ok=True)
        shutil.rmtree(run.maps_dir / case.case_id, ignore_errors=True)  # no stale columns
        paths = [_write_image(run.map_file(case.case_id, column), image)
                 for column, image in maps.items()]
        atomic_write_json(run.maps_key_file(case.case_id),
                          {"key": key, "files": {p.name: file_sha256(p) for p in paths}})
        written[case.case_id] = paths
        logger.info("maps: %d/%d cases", number, len(chosen))
    return MapsOutcome(written, failed, reused)


def _reusable_maps(run: RunFolder, case_id: str, key: dict) -> list[Path] | None:
    """The case's map files when its key file matches ``key`` and lists them unedited, else
    None (and the reason logged when there were earlier maps)."""
    record_path = run.maps_key_file(case_id)
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        files = {record_path.parent / name: digest for name, digest in record["files"].items()}
        same_key = record["key"] == key
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.info("maps: %s: its key file cannot be read; computing its maps again", case_id)
        return None
    if not same_key:
        logger.info("maps: %s: settings or inputs changed; computing its maps again", case_id)
        return None
    for path, digest in files.items():
        if not path.is_file() or file_sha256(path) != digest:
            logger.warning("maps: %s: '%s' is missing or was changed after it was written; "
                           "computing its maps again", case_id, path.name)
            return None
    return list(files)


def _chosen_cases(manifest, cases):
    if not cases:
        return list(manifest.cases)
    by_id = {case.case_id: case for case in manifest.cases}
    unknown = [c for c in cases if c not in by_id]
    if unknown:
        raise ConfigError(
            f"maps: case(s) {', '.join(map(repr, unknown))} are not in the manifest "
            f"'{manifest.name}'; name case ids from its case_id column."
        )
    return [by_id[c] for c in cases]


def _record_failure(run: RunFolder, case_id: str, error: str, exc: Exception) -> str:
    """Write ``maps/failures/<case_id>.json`` and drop the case's earlier maps."""
    reason = f"case '{case_id}': {getattr(exc, 'reason', None) or exc}"
    shutil.rmtree(run.maps_dir / case_id, ignore_errors=True)
    atomic_write_json(run.maps_failure_file(case_id),
                      {"case_id": case_id, "error": error, "reason": reason})
    logger.warning("maps: %s", reason)
    return reason


def _write_image(path: Path, image: sitk.Image) -> Path:
    """Write an image atomically (SimpleITK picks the format from the final name's suffix)."""

    def write(tmp: Path) -> None:
        folder = tempfile.mkdtemp(prefix=".map-", dir=tmp.parent)
        try:
            named = Path(folder) / path.name
            sitk.WriteImage(image, str(named), useCompression=True)
            os.replace(named, tmp)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return atomic_write(path, write)

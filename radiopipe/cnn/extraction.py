"""CNN embeddings over a cohort: cached per case, atomic, resumable, failure-tolerant.

Each case's embedding is written atomically to ``embeddings/<case_id>.npz`` with a key hashing
the image and mask bytes, the backbone, its weights file, the input preparation and reading
settings and the inference library's version; a rerun reuses every case whose key is unchanged.
A case that fails is recorded in ``failures/<case_id>.json``, like a feature-extraction failure,
and never stops the others. The embeddings join the feature table as ``cnn__{backbone}__e{j}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
import SimpleITK as sitk
from tqdm.auto import tqdm

from radiopipe.cnn.backbones import Backbone, BackboneOptions, load_backbone
from radiopipe.cnn.columns import embedding_column
from radiopipe.cnn.embed import aggregate, embed_inputs
from radiopipe.cnn.inputs import InputSettings, PreparedInputs, prepare_inputs
from radiopipe.config import CNNConfig, DataConfig
from radiopipe.errors import CaseError, ConfigError
from radiopipe.io import Volume, read_case
from radiopipe.manifest import Case, Manifest
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write, atomic_write_json, file_sha256, text_sha256
from radiopipe.table import CaseResult

logger = logging.getLogger(__name__)

EMBEDDING_VERSION = 1  # bump when the preparation or inference code changes its numbers
# Settings that change a case's embedding (batch size, device and the PCA do not).
_INPUT_KEYS = frozenset(
    {"backbone", "input_size", "channels", "mean", "std", "colour", "region", "margin",
     "intensity_window", "volume_mode", "aggregation"}
)


@dataclass(frozen=True)
class EmbeddingResult:
    """Outcome of one case.

    Attributes
    ----------
    case_id : str
    status : {'computed', 'reused', 'failed'}
    embedding : numpy.ndarray or None
        The case's vector (float64), None when the case failed.
    provenance : dict
        Image and mask hashes.
    reason : str or None
        Why the case failed.
    """

    case_id: str
    status: Literal["computed", "reused", "failed"]
    embedding: np.ndarray | None
    provenance: dict[str, str]
    reason: str | None = None


def backbone_options(cnn: CNNConfig, weights: Path | None) -> BackboneOptions:
    """The backbone settings of a config's ``cnn`` section (``weights`` already resolved)."""
    return BackboneOptions(
        name=cnn.backbone,
        weights=weights,
        input_size=cnn.input_size,
        channels=cnn.channels,
        mean=None if cnn.mean is None else tuple(cnn.mean),
        std=None if cnn.std is None else tuple(cnn.std),
        device=cnn.device,
    )


def input_settings(cnn: CNNConfig, backbone: Backbone) -> InputSettings:
    """The input preparation of a config's ``cnn`` section for a loaded backbone."""
    window = None if cnn.intensity_window is None else tuple(cnn.intensity_window)
    return InputSettings(
        size=backbone.input_size, region=cnn.region, margin=cnn.margin, window=window,
        volume_mode=cnn.volume_mode,
    )


def read_cnn_case(
    case: Case, cnn: CNNConfig, data: DataConfig
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """A case's image values, ROI and spacing for the CNN: (array, bool mask, spacing (z, y, x)).

    The case is read as for the radiomics features (`radiopipe.io.read_case`). With
    ``cnn.colour='rgb'`` a colour image keeps its first three channels (channels last);
    otherwise it becomes grey by ``data.channel_policy`` as for the radiomics features.
    """
    if cnn.colour == "rgb" and data.channel_policy is None:
        # For the mask's geometry check only; the values stay RGB.
        data = data.model_copy(update={"channel_policy": "luminance"})
    image, mask = read_case(case, data)
    volume = Volume.from_sitk(image)
    values = volume.array
    if cnn.colour == "rgb" and Path(case.image).is_file():
        raw = sitk.ReadImage(str(case.image))
        if raw.GetNumberOfComponentsPerPixel() >= 3:
            values = sitk.GetArrayFromImage(raw)[..., :3]
    return values, sitk.GetArrayFromImage(mask).astype(bool), volume.spacing


def check_single_image(manifest: Manifest) -> None:
    """Refuse a manifest of several images per case: the CNN branch embeds one image per case.

    Raises
    ------
    ConfigError
        If the manifest names modalities (``image__<modality>`` columns).
    """
    if manifest.modalities:
        raise ConfigError(
            f"the CNN branch embeds one image per case, but manifest '{manifest.name}' has "
            f"several ({', '.join(manifest.modalities)}); set features.kind: radiomics, or "
            "give the CNN a manifest with one image column"
        )


def add_embeddings(
    results: Sequence[CaseResult] | None,
    manifest: Manifest,
    cnn: CNNConfig,
    data: DataConfig,
    run: RunFolder,
    *,
    weights: Path | None = None,
    expected_weights_sha256: str | None = None,
    progress: bool = True,
) -> list[CaseResult]:
    """Embed the cohort and add the embeddings to each case's features.

    Parameters
    ----------
    results : sequence of CaseResult or None
        Radiomics results in manifest order; None when the run has CNN features only. A case
        whose radiomics failed is not embedded.
    manifest : Manifest
    cnn : CNNConfig
    data : DataConfig
    run : RunFolder
        Where ``embeddings/`` and ``failures/`` are written.
    weights : Path, optional
        The resolved ``cnn.weights`` file.
    expected_weights_sha256 : str, optional
        Refuse weights whose SHA-256 differs (a model bundle's backbone).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of CaseResult
        In manifest order, with ``cnn__{backbone}__e{j}`` features added.

    Raises
    ------
    ConfigError
        When the manifest has several images per case, the backbone cannot be loaded or its
        weights differ from the expected ones.
    """
    check_single_image(manifest)
    backbone = load_backbone(backbone_options(cnn, weights))
    if expected_weights_sha256 is not None and backbone.weights_sha256 != expected_weights_sha256:
        raise ConfigError(
            f"the CNN weights of backbone '{cnn.backbone}' differ from those the model was "
            "trained with (SHA-256 mismatch); use the same weights file"
        )
    by_id = {r.case_id: r for r in results} if results is not None else {}
    wanted = [c for c in manifest.cases if c.case_id not in by_id or by_id[c.case_id].features]
    embedded = {
        r.case_id: r for r in embed_cohort(wanted, backbone, cnn, data, run, progress=progress)
    }
    version = f"{backbone.name}-{backbone.weights_sha256[:12]}"
    merged = []
    for case in manifest.cases:
        base = by_id.get(case.case_id)
        found = embedded.get(case.case_id)
        if found is None:  # its radiomics failed: keep that failure
            merged.append(base)
            continue
        provenance = base.provenance if base is not None else {
            "backend": "cnn", "backend_version": version, **found.provenance
        }
        if found.embedding is None:
            merged.append(CaseResult(case.case_id, "failed", None, provenance, found.reason))
            continue
        features = dict(base.features) if base is not None else {}
        features.update(
            {embedding_column(backbone.name, j): float(v) for j, v in enumerate(found.embedding)}
        )
        reused = found.status == "reused" and (base is None or base.status == "reused")
        merged.append(
            CaseResult(case.case_id, "reused" if reused else "computed", features, provenance)
        )
    return merged


def embed_cohort(
    cases: Sequence[Case],
    backbone: Backbone,
    cnn: CNNConfig,
    data: DataConfig,
    run: RunFolder,
    *,
    progress: bool = True,
) -> list[EmbeddingResult]:
    """Embed (or reuse) every case; cases share inference batches.

    Returns
    -------
    list of EmbeddingResult
        In the order of ``cases``.
    """
    run.embeddings_dir.mkdir(parents=True, exist_ok=True)
    settings = input_settings(cnn, backbone)
    found: dict[str, EmbeddingResult] = {}
    pending: list[tuple[Case, str, dict, PreparedInputs]] = []
    bar = tqdm(total=len(cases), desc="embeddings", unit="case", disable=not progress)
    with bar:
        for case in cases:
            provenance: dict[str, str] = {}
            try:
                provenance["image_sha256"] = file_sha256(case.image)
                provenance["mask_sha256"] = file_sha256(case.mask) if case.mask else ""
                key = _case_key(provenance, backbone, cnn, data)
                cached = _read_cached(run.embedding_file(case.case_id), key)
                if cached is not None:
                    run.failure_file(case.case_id).unlink(missing_ok=True)
                    found[case.case_id] = EmbeddingResult(
                        case.case_id, "reused", cached, provenance
                    )
                    bar.update()
                    continue
                image, mask, spacing = read_cnn_case(case, cnn, data)
                prepared = prepare_inputs(image, mask, spacing, settings)
            except Exception as exc:  # one case's problem must not lose the cohort
                found[case.case_id] = _record_failure(case, provenance, run, exc)
                bar.update()
                continue
            pending.append((case, key, provenance, prepared))
            if sum(len(p.images) for *_, p in pending) >= cnn.batch_size:
                found.update(_run(pending, backbone, cnn, run))
                bar.update(len(pending))
                pending = []
        found.update(_run(pending, backbone, cnn, run))
        bar.update(len(pending))
    results = [found[case.case_id] for case in cases]
    counts = {s: sum(r.status == s for r in results) for s in ("computed", "reused", "failed")}
    logger.info(
        "embeddings: %d computed, %d reused, %d failed",
        counts["computed"], counts["reused"], counts["failed"],
    )
    return results


def _run(pending, backbone: Backbone, cnn: CNNConfig, run: RunFolder) -> dict[str, EmbeddingResult]:
    """Embed the pending cases in shared batches and cache each one."""
    if not pending:
        return {}
    try:
        per_input = embed_inputs(backbone, [p.images for *_, p in pending],
                                 batch_size=cnn.batch_size)
    except Exception as exc:  # the network refused these inputs: each case records why
        return {case.case_id: _record_failure(case, prov, run, exc)
                for case, _, prov, _ in pending}
    done = {}
    for (case, key, provenance, _), vectors in zip(pending, per_input):
        embedding = aggregate(vectors, cnn.aggregation)
        _write_cached(run.embedding_file(case.case_id), key, embedding)
        run.failure_file(case.case_id).unlink(missing_ok=True)
        done[case.case_id] = EmbeddingResult(case.case_id, "computed", embedding, provenance)
    return done


def _case_key(
    provenance: dict[str, str], backbone: Backbone, cnn: CNNConfig, data: DataConfig
) -> str:
    runtime = "onnxruntime" if backbone.module is None else "torch"
    payload = {
        "version": EMBEDDING_VERSION,
        "provenance": provenance,
        "weights_sha256": backbone.weights_sha256,
        "runtime": f"{runtime} {metadata.version(runtime)}",
        "inputs": cnn.model_dump(mode="json", include=_INPUT_KEYS),
        "reading": data.reading(),
    }
    return text_sha256(json.dumps(payload, sort_keys=True))


def _read_cached(path: Path, key: str) -> np.ndarray | None:
    """The stored embedding when its key is current and its checksum verifies, else None."""
    try:
        with np.load(path, allow_pickle=False) as record:
            if str(record["key"]) != key:
                return None
            embedding = np.asarray(record["embedding"], dtype=np.float64)
            checksum = str(record["checksum"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # absent or unreadable
        return None
    if checksum != _checksum(key, embedding):
        logger.warning("%s: the stored embedding was altered after it was written; recomputed",
                       path.stem)
        return None
    return embedding


def _write_cached(path: Path, key: str, embedding: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, key=np.asarray(key), embedding=embedding,
                     checksum=np.asarray(_checksum(key, embedding)))

    atomic_write(path, write)


def _checksum(key: str, embedding: np.ndarray) -> str:
    """Hash of an embedding's key and float64 values, stored with it and verified on reuse."""
    values = np.ascontiguousarray(embedding, dtype=np.float64).tobytes()
    return hashlib.sha256(key.encode() + b"\0" + values).hexdigest()


def _record_failure(case: Case, provenance, run: RunFolder, exc: Exception) -> EmbeddingResult:
    """Write ``failures/<case_id>.json`` and drop any earlier embedding of the case."""
    if isinstance(exc, CaseError):
        message = str(exc)
    else:
        logger.debug("case '%s' raised while embedding", case.case_id, exc_info=True)
        message = f"case '{case.case_id}': the CNN branch raised {type(exc).__name__}: {exc}"
    run.embedding_file(case.case_id).unlink(missing_ok=True)
    atomic_write_json(
        run.failure_file(case.case_id),
        {"case_id": case.case_id, "error": type(exc).__name__, "reason": message},
    )
    logger.warning("%s", message)
    return EmbeddingResult(case.case_id, "failed", None, dict(provenance), message)

"""The run folder: every path a run writes, and the records that say when a stage may be reused.

A run folder is the only hand-off between stages. Each stage reads the files it needs through a
:class:`RunFolder` and writes its own; none learns another stage's file names from that stage's
module. The same layout serves a prediction folder (``radiopipe predict --out DIR``), which holds
the extracted cases, the failures and the predictions of new cases.

::

    config.resolved.yaml        resolved config and its hash (every stage; config.py writes it)
    cases/<case_id>.json        one case's features and the key they were computed under
    embeddings/<case_id>.npz    one case's CNN embedding (features.kind cnn or both)
    failures/<case_id>.json     why a case failed
    features.parquet            extract: one row per case, provenance in the file metadata
    metrics.json                train: metrics, comparison, folds (a ValidationRecord)
    oof_predictions.parquet     train: the primary model's held-out probabilities
    comparison_predictions.parquet  train: every candidate's held-out probabilities
    fold_models/split-<i>/      train: the primary model fitted on outer split i (a bundle)
    model/                      train: the primary model refitted on every case (a bundle)
    final_model_predictions.parquet  train: that model's probabilities on the training cases
    shap_values.parquet         explain: SHAP values of the held-out rows
    feature_maps.parquet        explain: local value and contribution maps of the report's cases
    cnn_saliency.parquet        explain: CNN saliency maps of the report's cases
    case_locations.parquet      explain: the whole slice through each report case's ROI
    modality_images.parquet     explain: each modality's image of the report's multimodal cases
    report.html, report.pdf     report; report_*.csv and report_cases/ hold its figures' tables
    stages/<stage>.json         what each stage read and wrote (its reuse key)
    predictions.csv             predict (prediction folders only)
    maps/<case_id>/<column>.nrrd    maps: a case's voxel-wise feature maps
    maps/<case_id>/maps.json        maps: their key (settings, image and mask hashes) and files
    maps/failures/<case_id>.json    maps: why a case's maps failed

Stage reuse: every stage computes a key from the settings it reads (the config sections it
names) and the hashes of the input files it reads. :func:`reuse_verdict` compares that key and the
hashes of the stage's outputs with ``stages/<stage>.json``; the stage reruns when, and only when,
one of them changed, and the verdict says which.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from radiopipe.errors import RadiopipeError
from radiopipe.storage import atomic_write_json, file_sha256, text_sha256

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
T = TypeVar("T")


class RunFolder:
    """Every path of a run (or prediction) folder.

    Parameters
    ----------
    root : Path
        The folder; created by :meth:`create`, not by the constructor.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.root)!r})"

    def create(self) -> RunFolder:
        """Make the folder (and its parents) if missing; returns ``self``."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    # extract
    @property
    def cases_dir(self) -> Path:
        """Per-case feature files."""
        return self.root / "cases"

    def case_file(self, case_id: str) -> Path:
        """One case's features."""
        return self.cases_dir / f"{case_id}.json"

    @property
    def embeddings_dir(self) -> Path:
        """Per-case CNN embeddings."""
        return self.root / "embeddings"

    def embedding_file(self, case_id: str) -> Path:
        """One case's CNN embedding."""
        return self.embeddings_dir / f"{case_id}.npz"

    @property
    def failures_dir(self) -> Path:
        """Why cases failed."""
        return self.root / "failures"

    def failure_file(self, case_id: str) -> Path:
        """Why one case failed."""
        return self.failures_dir / f"{case_id}.json"

    @property
    def features(self) -> Path:
        """The feature table."""
        return self.root / "features.parquet"

    # train
    @property
    def metrics(self) -> Path:
        """The train stage's :class:`~radiopipe.records.ValidationRecord`."""
        return self.root / "metrics.json"

    @property
    def oof_predictions(self) -> Path:
        """The primary model's held-out probabilities."""
        return self.root / "oof_predictions.parquet"

    @property
    def comparison_predictions(self) -> Path:
        """Every candidate's held-out probabilities (long format)."""
        return self.root / "comparison_predictions.parquet"

    @property
    def fold_models_dir(self) -> Path:
        """The primary model's outer-split models."""
        return self.root / "fold_models"

    def fold_model(self, split: int) -> Path:
        """The bundle of the primary model fitted on outer split ``split``."""
        return self.fold_models_dir / f"split-{split:03d}"

    @property
    def bundle(self) -> Path:
        """The primary model refitted on every case."""
        return self.root / "model"

    @property
    def final_predictions(self) -> Path:
        """The refitted model's probabilities on the training cases."""
        return self.root / "final_model_predictions.parquet"

    # explain
    @property
    def shap_values(self) -> Path:
        """SHAP values of held-out rows (or of a new case)."""
        return self.root / "shap_values.parquet"

    @property
    def feature_maps(self) -> Path:
        """Feature maps of the report's cases."""
        return self.root / "feature_maps.parquet"

    @property
    def case_locations(self) -> Path:
        """The whole slice through each report case's ROI, and where the ROI lies."""
        return self.root / "case_locations.parquet"

    @property
    def cnn_saliency(self) -> Path:
        """CNN saliency maps of the report's cases."""
        return self.root / "cnn_saliency.parquet"

    @property
    def modality_images(self) -> Path:
        """Each modality's image (a slice) of the report's multimodal cases."""
        return self.root / "modality_images.parquet"

    # report
    @property
    def report(self) -> Path:
        """The HTML report."""
        return self.root / "report.html"

    @property
    def report_pdf(self) -> Path:
        """The report printed to PDF."""
        return self.root / "report.pdf"

    def new_case_page(self, case_id: str) -> Path:
        """A new case's explanation page (``radiopipe explain``)."""
        return self.root / f"explain-{case_id}.html"

    # predict
    @property
    def predictions(self) -> Path:
        """New cases' probabilities."""
        return self.root / "predictions.csv"

    # bookkeeping
    # robustness
    @property
    def robustness(self) -> Path:
        """The ICC of every feature under each kind of perturbation (and across repeat scans)."""
        return self.root / "robustness.parquet"

    @property
    def maps_dir(self) -> Path:
        """The voxel-wise feature maps, one folder per case."""
        return self.root / "maps"

    def map_file(self, case_id: str, column: str) -> Path:
        """One case's voxel-wise map of one feature column (NRRD, which keeps NaN; ITK's NIfTI
        reader turns NaN into 0)."""
        return self.maps_dir / case_id / f"{column}.nrrd"

    def maps_key_file(self, case_id: str) -> Path:
        """What one case's voxel-wise maps were computed from, and each map file's SHA-256."""
        return self.maps_dir / case_id / "maps.json"

    def maps_failure_file(self, case_id: str) -> Path:
        """Why one case's voxel-wise maps failed."""
        return self.maps_dir / "failures" / f"{case_id}.json"

    @property
    def robustness_values(self) -> Path:
        """The features of every perturbed version of every case."""
        return self.root / "robustness_features.parquet"

    @property
    def robustness_dir(self) -> Path:
        """The robustness run's failures and, when asked, its perturbed images."""
        return self.root / "robustness"

    def robustness_failure_file(self, case_id: str) -> Path:
        """Why one case's perturbed versions failed."""
        return self.robustness_dir / "failures" / f"{case_id}.json"

    def perturbed_images_dir(self, case_id: str) -> Path:
        """One case's perturbed images and masks (``robustness.write_images``)."""
        return self.robustness_dir / "images" / case_id

    # negative controls
    @property
    def control_values(self) -> Path:
        """The features of every case's negative-control images (``model.controls``)."""
        return self.root / "negative_controls.parquet"

    def control_failure_file(self, case_id: str) -> Path:
        """Why one case's negative-control images failed."""
        return self.root / "controls" / "failures" / f"{case_id}.json"

    @property
    def stages_dir(self) -> Path:
        """The stages' records."""
        return self.root / "stages"

    def stage_record(self, stage: str) -> Path:
        """What ``stage`` read and wrote when it last ran."""
        return self.stages_dir / f"{stage}.json"

    @property
    def lock_file(self) -> Path:
        """Held (``flock``) by the process that runs stages in this folder; holds its pid."""
        return self.root / ".radiopipe.lock"


class RunFolderBusy(RadiopipeError):
    """Another process is running stages in the same run folder."""


# Folders this process holds, with how many nested holders: resolved root -> (fd, depth).
_HELD: dict[Path, tuple[int, int]] = {}


@contextmanager
def hold(run: RunFolder) -> Iterator[RunFolder]:
    """Hold the run folder for this process while stages write into it.

    A second process that asks for the same folder is refused at once (never both writing);
    holding it again within this process (``run`` calls the stage functions) is allowed. The
    operating system releases the lock if the process dies.

    Raises
    ------
    RunFolderBusy
        When another process holds the folder, naming its pid.
    """
    key = run.create().root.resolve()
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
        try:
            yield run
        finally:
            _HELD[key] = (fd, depth)
        return
    fd = os.open(run.lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise RunFolderBusy(
            f"the run folder '{run.root.name}' is in use by another radiopipe process"
            f"{f' (pid {holder})' if holder else ''}; wait for it to finish, or set another "
            "output_dir (--out)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
    _HELD[key] = (fd, 1)
    try:
        yield run
    finally:
        del _HELD[key]
        os.close(fd)  # closing the descriptor releases the lock


@dataclass(frozen=True)
class StageReads:
    """What a stage's result depends on.

    Attributes
    ----------
    settings : dict
        Name -> JSON-serialisable value (the config sections the stage reads).
    inputs : dict
        Name -> SHA-256 of each input file or folder the stage reads.
    """

    settings: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Hash of the settings and inputs."""
        return text_sha256(json.dumps(self.digests(), sort_keys=True))

    def digests(self) -> dict[str, str]:
        """One hash per setting and input, named ``settings.<name>`` / ``inputs.<name>``."""
        out = {f"settings.{k}": text_sha256(json.dumps(v, sort_keys=True, default=str))
               for k, v in self.settings.items()}
        out.update({f"inputs.{k}": v for k, v in self.inputs.items()})
        return out


@dataclass(frozen=True)
class StageRecord:
    """``stages/<stage>.json``: the key a stage ran under and the outputs it wrote.

    Attributes
    ----------
    stage : str
    key : str
        :attr:`StageReads.key`.
    reads : dict
        :meth:`StageReads.digests`, to say which of them changed.
    outputs : dict
        Output path (relative to the run folder) -> its SHA-256 when written.
    seconds : float
        How long the stage took.
    schema_version : int
    """

    stage: str
    key: str
    reads: dict[str, str]
    outputs: dict[str, str]
    seconds: float
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict:
        """A JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> StageRecord:
        """Read back :meth:`to_json`; ``ValueError`` for another schema or missing fields."""
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("not a stage record of this schema version")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ReuseVerdict:
    """Whether a stage's earlier outputs may stand.

    Attributes
    ----------
    reuse : bool
    reason : str
        Why, in words ("settings and inputs unchanged", "model settings changed", ...).
    """

    reuse: bool
    reason: str

    def message(self, stage: str) -> str:
        """The line a run prints: ``train: reused (settings and inputs unchanged)``."""
        return f"{stage}: {'reused' if self.reuse else 'running'} ({self.reason})"


def reuse_verdict(run: RunFolder, stage: str, reads: StageReads) -> ReuseVerdict:
    """Compare ``reads`` and the stage's outputs with its record.

    Parameters
    ----------
    run : RunFolder
    stage : str
    reads : StageReads
        What the stage would read now.

    Returns
    -------
    ReuseVerdict
        Reuse only when the key is unchanged and every recorded output still has the hash it was
        written with (an output edited or deleted since is recomputed, never trusted).
    """
    record = read_stage_record(run, stage)
    if record is None:
        return ReuseVerdict(False, "no earlier result")
    if record.key != reads.key:
        now = reads.digests()
        changed = sorted({name for name in {*now, *record.reads}
                          if now.get(name) != record.reads.get(name)})
        return ReuseVerdict(False, _changed_words(changed))
    for name, digest in record.outputs.items():
        path = run.root / name
        if not path.exists():
            return ReuseVerdict(False, f"{name} is missing")
        if file_sha256(path) != digest:
            return ReuseVerdict(False, f"{name} changed since it was written")
    return ReuseVerdict(True, "settings and inputs unchanged")


def _changed_words(names: list[str]) -> str:
    settings = [n.removeprefix("settings.") for n in names if n.startswith("settings.")]
    inputs = [n.removeprefix("inputs.") for n in names if n.startswith("inputs.")]
    parts = []
    if settings:
        parts.append(f"settings changed: {', '.join(settings)}")
    if inputs:
        parts.append(f"inputs changed: {', '.join(inputs)}")
    return "; ".join(parts) or "stage definition changed"


def read_stage_record(run: RunFolder, stage: str) -> StageRecord | None:
    """The stage's record, or None when absent or unreadable (the stage then reruns)."""
    try:
        return StageRecord.from_json(
            json.loads(run.stage_record(stage).read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


def record_stage(run: RunFolder, stage: str, reads: StageReads, outputs: list[Path],
                 started: float) -> StageRecord:
    """Write ``stages/<stage>.json`` after the stage wrote ``outputs``.

    Parameters
    ----------
    run : RunFolder
    stage : str
    reads : StageReads
    outputs : list of Path
        Files or folders the stage wrote (inside the run folder).
    started : float
        ``time.perf_counter()`` when the stage started.
    """
    record = StageRecord(
        stage=stage,
        key=reads.key,
        reads=reads.digests(),
        outputs={p.relative_to(run.root).as_posix(): file_sha256(p) for p in outputs},
        seconds=round(time.perf_counter() - started, 3),
    )
    atomic_write_json(run.stage_record(stage), record.to_json())
    return record


def input_hashes(run: RunFolder, paths: list[Path]) -> dict[str, str]:
    """SHA-256 of each existing file or folder among ``paths``, keyed by its path in the run
    folder: the inputs part of a stage's :class:`StageReads`."""
    return {p.relative_to(run.root).as_posix(): file_sha256(p) for p in paths if p.exists()}


def failure_reason(run: RunFolder, case_id: str) -> str:
    """Why a case failed, as ``failures/<case_id>.json`` says ("unknown" without a readable
    record)."""
    try:
        return json.loads(run.failure_file(case_id).read_text(encoding="utf-8"))["reason"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def forget_stage(run: RunFolder, stage: str) -> None:
    """Drop a stage's record (its outputs are about to be rewritten)."""
    run.stage_record(stage).unlink(missing_ok=True)


@dataclass(frozen=True)
class StageRun(Generic[T]):
    """What :func:`run_stage` did.

    Attributes
    ----------
    reused : bool
        The stage's earlier outputs stand; nothing ran.
    value : object or None
        What the stage's work returned (None when reused).
    """

    reused: bool
    value: T | None = None


def run_stage(run: RunFolder, stage: str, reads: StageReads,
              work: Callable[[], tuple[T, list[Path] | None]]) -> StageRun[T]:
    """Run a stage's work unless its earlier outputs may stand; the one mechanism of every stage.

    Logs the verdict (``train: reused (settings and inputs unchanged)``, ``train: running
    (settings changed: model)``) and, after the work, how long it took.

    Parameters
    ----------
    run : RunFolder
    stage : str
    reads : StageReads
        The settings and inputs the stage reads now.
    work : callable
        Computes the stage; returns (its value, the outputs it wrote), or (value, None) when
        the result must not be reused (a stage with failed cases is retried on the next run).

    Returns
    -------
    StageRun
    """
    verdict = reuse_verdict(run, stage, reads)
    logger.info("%s", verdict.message(stage))
    if verdict.reuse:
        return StageRun(True)
    started = time.perf_counter()
    forget_stage(run, stage)
    value, outputs = work()
    if outputs is not None:
        record_stage(run, stage, reads, outputs, started)
    logger.info("%s: done in %.1f s", stage, time.perf_counter() - started)
    return StageRun(False, value)

"""Stage reuse: a stage reruns when, and only when, what it read or wrote changed.

Every stage computes a key from the settings it reads (the config sections it names) and the
hashes of the input files it reads (:class:`StageReads`). :func:`reuse_verdict` compares that key
and the hashes of the stage's outputs with ``stages/<stage>.json`` in the run folder; the stage
reruns when, and only when, one of them changed, and the verdict says which. :func:`run_stage`
is the one mechanism every stage runs through.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write_json, file_sha256, text_sha256

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
T = TypeVar("T")


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

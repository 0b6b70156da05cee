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

When a stage's outputs may be reused (``stages/<stage>.json``) is :mod:`radiopipe.stage_reuse`'s
business.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from radiopipe.errors import RadiopipeError


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


def failure_reason(run: RunFolder, case_id: str) -> str:
    """Why a case failed, as ``failures/<case_id>.json`` says ("unknown" without a readable
    record)."""
    try:
        return json.loads(run.failure_file(case_id).read_text(encoding="utf-8"))["reason"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"

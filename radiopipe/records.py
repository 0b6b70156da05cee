"""Typed records that stages hand to each other through the run folder.

:class:`ValidationRecord` is ``metrics.json``, what the train stage found; :class:`BundleManifest`
is a model bundle's ``bundle.json``. Both carry a schema version, are written with ``to_json`` and
read with ``from_json``, which refuses another schema version or a missing field with a
:class:`RecordError` that names the file, so a stage never takes a record apart with ``.get``
defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from radiopipe.errors import RadiopipeError

VALIDATION_SCHEMA = 5
BUNDLE_FORMAT = "radiopipe-model-bundle"
BUNDLE_SCHEMA = 4


class RecordError(RadiopipeError):
    """A run-folder record is missing a field, malformed, or of another schema version."""


def _build(cls, data: Any, what: str):
    """``cls(**data)`` for a dataclass, with a :class:`RecordError` naming ``what``."""
    if not isinstance(data, dict):
        raise RecordError(f"{what} is not a JSON object")
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if n not in data]
    if missing:
        raise RecordError(f"{what} lacks {', '.join(missing)}; it was written by another "
                          "radiopipe version or edited; rerun the stage that writes it")
    return cls(**{n: data[n] for n in names})


def _check_schema(data: Any, key: str, expected: int, what: str) -> None:
    found = data.get(key) if isinstance(data, dict) else None
    if found != expected:
        raise RecordError(f"{what} has schema version {found}; this radiopipe reads version "
                          f"{expected}; rerun the stage that writes it")


@dataclass(frozen=True)
class TaskSummary:
    """The cohort the models learned from.

    Attributes
    ----------
    classes : list of str
        Class labels, in the order of probability columns.
    n_cases, n_patients, n_tested : int
        Cases with features, their patients, cases with a held-out prediction.
    failed_cases : list of str
        Cases whose extraction failed (no row).
    """

    classes: list[str]
    n_cases: int
    n_patients: int
    n_tested: int
    failed_cases: list[str]


@dataclass(frozen=True)
class FeatureSummary:
    """The feature columns the models saw.

    Attributes
    ----------
    backend, backend_version : str
    n_features : int
        Image feature columns in the table.
    kind : {'radiomics', 'cnn', 'both'}
    n_embedding : int
        CNN embedding columns.
    clinical : list of str
        Clinical input columns.
    """

    backend: str
    backend_version: str
    n_features: int
    kind: str
    n_embedding: int
    clinical: list[str]


@dataclass(frozen=True)
class CandidateSummary:
    """One validated candidate.

    Attributes
    ----------
    model : str
    kind : {'model', 'ensemble'}
    feature_set : str
    primary : bool
        The configured primary model on the main feature set.
    metrics : dict
        Scalar held-out metrics (None where undefined).
    ci : dict
        Metric -> [low, high] 95% patient-bootstrap interval (None where undefined), of the
        record's ``interval_method``.
    best_params : list of dict
        The search's choice per outer split.
    auc_difference : dict or None
        For the primary model on another feature set: its ROC-AUC minus the main set's on the
        same rows, ``{"versus", "value", "ci", "ci_fallback"}`` (paired patient bootstrap);
        None otherwise.
    ci_fallback : list of str
        Metrics whose BCa interval was undefined, so ``ci`` holds their percentile interval.
    """

    model: str
    kind: str
    feature_set: str
    primary: bool
    metrics: dict[str, Any]
    ci: dict[str, Any]
    best_params: list[dict]
    auc_difference: dict[str, Any] | None = None
    ci_fallback: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DesignChecks:
    """How much the primary estimate moves with the design, and whether it survives controls.

    Attributes
    ----------
    repeats : list of dict
        ``{"repeat", "roc_auc"}``: the primary model's ROC-AUC on each repeat's held-out
        probabilities alone (design 'repeated_kfold'; empty otherwise).
    seeds : list of dict
        ``{"seed", "roc_auc"}``: the primary model's ROC-AUC with the outer design shuffled by
        ``model.cv.seed`` and each of ``model.cv.seeds`` (empty without them).
    shuffled_labels : list of dict
        ``{"permutation", "roc_auc", "ci", "ci_fallback"}``: the primary model validated with
        the labels permuted across patients, its ROC-AUC against the permuted labels with a 95%
        patient-bootstrap interval (``model.controls.shuffled_labels``; empty when off).
    threshold : dict or None
        ``model.threshold: youden_in_fold``: ``{"method", "thresholds", "sensitivity",
        "specificity", "ci", "ci_fallback", "n_calls"}``, the calls pooled over every outer
        test fold; None when off.
    negative_images : list of dict
        ``{"control", "roc_auc", "ci", "ci_fallback"}``: the primary model validated under the
        main design's splits on each negative-control image's features
        (``model.controls.negative_images``; empty when off).
    """

    repeats: list[dict] = field(default_factory=list)
    seeds: list[dict] = field(default_factory=list)
    shuffled_labels: list[dict] = field(default_factory=list)
    threshold: dict[str, Any] | None = None
    negative_images: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class FoldModel:
    """An outer split's fitted primary model, kept for explanations.

    Attributes
    ----------
    split : int
        Index of the outer split (the bundle is ``fold_models/split-<split>``).
    fold : int
        The fold its test rows carry in the held-out predictions.
    repeat : int
        Repetition of a repeated design (0 otherwise).
    """

    split: int
    fold: int
    repeat: int


@dataclass(frozen=True)
class HealthFinding:
    """A model health finding (see :mod:`radiopipe.models.health`), kept in ``metrics.json`` and
    in every bundle of the model, so each page made with the bundle shows it.

    Attributes
    ----------
    code : str
        Stable diagnostic code (``RPD007`` ...).
    severity : {'error', 'warning'}
        'error': the model learned nothing usable; 'warning': read its results with care.
    message : str
        What was found and what to do, in one sentence or two.
    """

    code: str
    severity: str
    message: str


def _health(data: Any, what: str) -> list[HealthFinding]:
    if not isinstance(data, list):
        raise RecordError(f"{what} (health) is not a list")
    return [_build(HealthFinding, item, f"{what} (health)") for item in data]


@dataclass(frozen=True)
class ValidationRecord:
    """``metrics.json``: what the train stage found.

    Attributes
    ----------
    config_hash : str
    task : TaskSummary
    features : FeatureSummary
    model : str
        The primary model.
    validation : dict
        The design, in words (``scheme``) and settings.
    metrics : dict
        The primary model's held-out metrics (scalars, per-class tables, confusion matrix).
    confidence_intervals : dict
        Its 95% intervals.
    per_fold : list of dict
        ROC-AUC per outer fold.
    comparison : list of CandidateSummary
        Every validated candidate, the primary one first.
    best_model : str
        The candidate with the best held-out ROC-AUC on the main feature set.
    final_model : dict
        The refitted bundle's folder and hyperparameters.
    fold_models : list of FoldModel
        The primary model's kept outer-split models.
    health : list of HealthFinding
        The primary model's health findings, most severe first (empty when healthy).
    versions : dict
        Software versions.
    checks : DesignChecks
        Spread over repeats and seeds, shuffled-label control, in-fold threshold.
    interval_method : {'bca', 'percentile'}
        How every interval was computed from the patient bootstrap (``model.bootstrap.method``;
        each ``ci_fallback`` names the BCa intervals that were undefined and are percentile).
    schema_version : int
    """

    config_hash: str
    task: TaskSummary
    features: FeatureSummary
    model: str
    validation: dict[str, Any]
    metrics: dict[str, Any]
    confidence_intervals: dict[str, Any]
    per_fold: list[dict]
    comparison: list[CandidateSummary]
    best_model: str
    final_model: dict[str, Any]
    fold_models: list[FoldModel]
    health: list[HealthFinding]
    versions: dict[str, str]
    checks: DesignChecks = field(default_factory=DesignChecks)
    interval_method: str = "bca"
    schema_version: int = VALIDATION_SCHEMA

    @property
    def classes(self) -> list[str]:
        """Class labels, in the order of probability columns."""
        return list(self.task.classes)

    @property
    def primary(self) -> CandidateSummary:
        """The primary model's summary."""
        return next(c for c in self.comparison if c.primary)

    def to_json(self) -> dict:
        """A JSON-serialisable dict (the content of ``metrics.json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, what: str = "metrics.json") -> ValidationRecord:
        """Read back :meth:`to_json`.

        Raises
        ------
        RecordError
            For another schema version or a missing field.
        """
        _check_schema(data, "schema_version", VALIDATION_SCHEMA, what)
        record = _build(cls, data, what)
        return cls(**{
            **record.__dict__,
            "task": _build(TaskSummary, data["task"], f"{what} (task)"),
            "features": _build(FeatureSummary, data["features"], f"{what} (features)"),
            "comparison": [_build(CandidateSummary, c, f"{what} (comparison)")
                           for c in data["comparison"]],
            "fold_models": [_build(FoldModel, f, f"{what} (fold_models)")
                            for f in data["fold_models"]],
            "health": _health(data["health"], what),
            "checks": _build(DesignChecks, data["checks"], f"{what} (checks)"),
        })


@dataclass(frozen=True)
class InputColumnsRecord:
    """A model's input columns by role (see :class:`radiopipe.models.infold.InputColumns`)."""

    image: list[str]
    numeric: list[str]
    categorical: list[str]
    site: str | None
    embedding: list[str]
    embedding_components: int


@dataclass(frozen=True)
class FeatureSettingsRecord:
    """How the model's features were made, so new cases are extracted the same way.

    Attributes
    ----------
    features : dict
        The feature section of the config.
    reading : dict
        How images and masks were read (mask label, channel policy, geometry tolerance).
    feature_backend_version : str
    cnn : dict or None
        The CNN settings, weights path and SHA-256 when the model has CNN columns.
    """

    features: dict[str, Any]
    reading: dict[str, Any]
    feature_backend_version: str
    cnn: dict[str, Any] | None


@dataclass(frozen=True)
class ShiftReference:
    """The training distribution a bundle's model saw (see :mod:`radiopipe.models.shift`).

    Attributes
    ----------
    features : list of str
        The numeric model inputs.
    low, high : list of float or None
        Their training range, None where undefined.
    scale : list of float or None
        Their robust scale (1.4826 MAD, floored), None where undefined.
    acquisition : dict
        Acquisition parameter column -> [low, high] over the training cases.
    z_threshold : float
        A feature is far out this many robust standard deviations beyond its training range.
    max_fraction : float
        A case is flagged when more of its features than this share are far out.
    acquisition_margin : float
        Relative widening of the acquisition ranges before a value counts as outside.
    """

    features: list[str]
    low: list[float | None]
    high: list[float | None]
    scale: list[float | None]
    acquisition: dict[str, list[float | None]]
    z_threshold: float
    max_fraction: float
    acquisition_margin: float


@dataclass(frozen=True)
class BundleManifest:
    """``bundle.json``: a model bundle's facts, file hashes and versions.

    Attributes
    ----------
    model, kind : str
    classes : list of str
    config_hash : str
    input_columns : InputColumnsRecord
    sites : list of str or None
        Sites the ComBat step knows (None without ComBat).
    best_params : dict
    settings : FeatureSettingsRecord
    role : {'final', 'fold'}
        The model refitted on every case, or an outer split's model.
    split : FoldModel or None
        For fold models: which outer split.
    shift : ShiftReference or None
        The training distribution, for flagging new cases (the refitted bundle only).
    health : list of HealthFinding
        The validated model's health findings (empty when healthy).
    feature_columns : list of str
        Input column order.
    versions : dict
        Library versions the bundle must be loaded with.
    files : dict
        File name -> SHA-256.
    stability : dict or None
        The in-fold stability filter's features, their ICC on the training cases and whether
        each was kept (``models.stability.stability_record``); None without the filter.
    manifest_sha256 : str
        Hash of every other field.
    format, format_version
        The bundle format and its version.
    """

    model: str
    kind: str
    classes: list[str]
    config_hash: str
    input_columns: InputColumnsRecord
    sites: list[str] | None
    best_params: dict[str, Any]
    settings: FeatureSettingsRecord
    role: str
    split: FoldModel | None
    shift: ShiftReference | None
    health: list[HealthFinding]
    feature_columns: list[str]
    versions: dict[str, str]
    files: dict[str, str]
    stability: dict[str, Any] | None = None
    manifest_sha256: str = ""
    format: str = BUNDLE_FORMAT
    format_version: int = BUNDLE_SCHEMA

    def to_json(self) -> dict:
        """A JSON-serialisable dict (the content of ``bundle.json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, what: str = "bundle.json") -> BundleManifest:
        """Read back :meth:`to_json`.

        Raises
        ------
        RecordError
            For another format or version, or a missing field.
        """
        if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
            raise RecordError(f"{what} is not a radiopipe bundle")
        _check_schema(data, "format_version", BUNDLE_SCHEMA, what)
        record = _build(cls, data, what)
        split, shift = data["split"], data["shift"]
        return cls(**{
            **record.__dict__,
            "input_columns": _build(InputColumnsRecord, data["input_columns"], what),
            "settings": _build(FeatureSettingsRecord, data["settings"], what),
            "split": None if split is None else _build(FoldModel, split, what),
            "shift": None if shift is None else _build(ShiftReference, shift, what),
            "health": _health(data["health"], what),
        })

"""Run configuration: YAML loaded safely, validated strictly, resolved and hashed.

Every key is declared in the section models of :mod:`radiopipe.settings` (re-exported here, so
callers import them from this module); an unknown key is an error, never ignored. Error messages
name the key path, what was expected and what was given, and suggest the closest valid key or
value for typos.

Relative paths in a config file resolve against the folder holding that file.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from radiopipe.errors import ConfigError
from radiopipe.settings.base import Strict
from radiopipe.settings.inputs import (
    AGGREGATIONS,
    CNN_BACKBONES,
    DASK_ADDRESS,
    FEATURE_FAMILIES,
    IBSI_ONLY_FAMILIES,
    CNNConfig,
    ComputeConfig,
    DataConfig,
    FeatureConfig,
    MNI152Options,
)
from radiopipe.settings.modalities import (
    MODALITY_KINDS,
    ModalitySettings,
    NormalisationSettings,
    SUVSettings,
)
from radiopipe.settings.model import (
    BUILTIN_FEATURE_SETS,
    MODEL_NAMES,
    SEARCH_SCORINGS,
    BootstrapConfig,
    ClinicalConfig,
    ControlsConfig,
    CVConfig,
    EnsembleConfig,
    FeatureSetConfig,
    LightGBMParams,
    LogisticParams,
    ModelConfig,
    PreprocessingConfig,
    RandomForestParams,
    SearchConfig,
    ShiftConfig,
    SVMParams,
    XGBoostParams,
)
from radiopipe.settings.outputs import ExplainConfig, FeatureMapConfig, ReportConfig
from radiopipe.settings.robustness import (
    PERTURBATION_KINDS,
    ContourPerturbation,
    NoisePerturbation,
    RobustnessConfig,
    RotationPerturbation,
    TranslationPerturbation,
    VolumePerturbation,
)

__all__ = [
    "AGGREGATIONS",
    "BUILTIN_FEATURE_SETS",
    "CNN_BACKBONES",
    "DASK_ADDRESS",
    "FEATURE_FAMILIES",
    "IBSI_ONLY_FAMILIES",
    "MODALITY_KINDS",
    "MODEL_NAMES",
    "PERTURBATION_KINDS",
    "RESOLVED_CONFIG_NAME",
    "SEARCH_SCORINGS",
    "BootstrapConfig",
    "CNNConfig",
    "CVConfig",
    "ClinicalConfig",
    "ContourPerturbation",
    "ComputeConfig",
    "ControlsConfig",
    "DataConfig",
    "EnsembleConfig",
    "ExplainConfig",
    "FeatureConfig",
    "FeatureSetConfig",
    "FeatureMapConfig",
    "LightGBMParams",
    "LoadedConfig",
    "LogisticParams",
    "MNI152Options",
    "ModalitySettings",
    "ModelConfig",
    "NoisePerturbation",
    "NormalisationSettings",
    "PreprocessingConfig",
    "RandomForestParams",
    "ReportConfig",
    "RobustnessConfig",
    "RotationPerturbation",
    "RunConfig",
    "SUVSettings",
    "SVMParams",
    "SearchConfig",
    "ShiftConfig",
    "TranslationPerturbation",
    "VolumePerturbation",
    "XGBoostParams",
    "apply_overrides",
    "config_hash",
    "load_config",
    "parse_config",
    "read_config_data",
    "resolved_dict",
    "write_resolved_config",
]

RESOLVED_CONFIG_NAME = "config.resolved.yaml"


class RunConfig(Strict):
    """A whole run: data, features, model, report and the robustness run's perturbations."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    output_dir: str
    data: DataConfig
    features: FeatureConfig = FeatureConfig()
    cnn: CNNConfig = CNNConfig()
    compute: ComputeConfig = ComputeConfig()
    model: ModelConfig = ModelConfig()
    explain: ExplainConfig = ExplainConfig()
    report: ReportConfig = ReportConfig()
    robustness: RobustnessConfig = RobustnessConfig()

    @model_validator(mode="after")
    def _robustness_for_the_model(self) -> RunConfig:
        """The stability filter reads the robustness run; controls and it need radiomics."""
        stability = self.model.stability_filtered
        if stability and not self.robustness.chosen():
            raise ValueError(
                "a stability_threshold (model.preprocessing or a model.feature_sets entry) "
                "filters features by their ICC over the "
                "robustness run's perturbed versions, and the robustness section chooses no "
                "perturbation: add one (robustness: {noise: {repetitions: 2}}) or set the "
                "threshold to null")
        if (stability or self.model.controls.negative_images) and self.features.kind == "cnn":
            raise ValueError(
                "model.preprocessing.stability_threshold and model.controls.negative_images "
                "work on radiomics features; set features.kind to radiomics or both")
        return self


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with where it came from.

    Attributes
    ----------
    config : RunConfig
        The validated settings, defaults filled in.
    base_dir : Path
        Folder that relative paths in the config resolve against.
    source : str
        Name of the config for messages (the file name, never an absolute path).
    overrides : tuple of str
        The ``KEY.PATH=VALUE`` settings given over the file's (``--set``), in order; their
        values are part of ``config`` and so of its hash.
    """

    config: RunConfig
    base_dir: Path
    source: str
    overrides: tuple[str, ...] = ()

    def resolve(self, path: str) -> Path:
        """Resolve a path from the config against the config's folder."""
        return (self.base_dir / path).resolve()

    @property
    def output_dir(self) -> Path:
        """The run's output folder."""
        return self.resolve(self.config.output_dir)

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved config (see :func:`config_hash`)."""
        return config_hash(self.config)


def resolved_dict(config: RunConfig) -> dict[str, Any]:
    """The config with every default filled in, as plain JSON-compatible data."""
    return config.model_dump(mode="json")


def config_hash(config: RunConfig) -> str:
    """SHA-256 over the canonical JSON of the resolved config.

    Two configs that differ only in key order, comments or omitted defaults hash the same.
    """
    canonical = json.dumps(resolved_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):  # noqa: D102 (PyYAML hook)
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> LoadedConfig:
    """Read and validate a YAML config file, with settings given over it.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    overrides : sequence of str
        ``KEY.PATH=VALUE`` settings applied over the file's before validation (see
        :func:`apply_overrides`), as the command line's ``--set`` gives them.

    Returns
    -------
    LoadedConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, an override is malformed, or the result
        fails validation.

    Examples
    --------
    >>> load_config("configs/demo.yaml", ["model.cv.n_splits=3"])  # doctest: +SKIP
    """
    path = Path(path)
    overrides = tuple(overrides)
    source = f"{path.name} with --set" if overrides else path.name
    data = apply_overrides(read_config_data(path), overrides, source=source)
    loaded = parse_config(data, base_dir=path.resolve().parent, source=source)
    return dataclasses.replace(loaded, source=path.name, overrides=overrides)


def apply_overrides(data: Any, overrides: Sequence[str], *, source: str = "config") -> Any:
    """A config's data with ``KEY.PATH=VALUE`` settings written over it (a new mapping).

    Each value is read as YAML (``3``, ``0.5``, ``true``, ``null``, ``[original, log]``); the
    sections on the path are created where the file omits them. Validation stays with
    :func:`parse_config`, so an unknown key or a wrong value is the same error as in the file.

    Raises
    ------
    ConfigError
        If a setting has no ``=``, an empty key part, a value that is not YAML, or a path
        through a value that is not a section.

    Examples
    --------
    >>> apply_overrides({"model": {"cv": {"n_splits": 5}}}, ["model.cv.n_splits=3"])
    {'model': {'cv': {'n_splits': 3}}}
    >>> apply_overrides({}, ["features.image_types=[original, log]"])
    {'features': {'image_types': ['original', 'log']}}
    """
    data = copy.deepcopy(data)
    for override in overrides:
        key, sep, text = override.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ConfigError(f"--set '{override}': expected KEY.PATH=VALUE, e.g. "
                              "--set model.cv.n_splits=3")
        try:
            value = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set '{override}': the value is not valid YAML: "
                              f"{' '.join(str(exc).split())}") from None
        if not isinstance(data, dict):
            break  # parse_config reports a top level that is not a mapping
        section = data
        for depth, part in enumerate(parts[:-1]):
            section = section.setdefault(part, {})
            if not isinstance(section, dict):
                where = ".".join(parts[:depth + 1])
                raise ConfigError(f"{source}: --set '{override}': '{where}' is {_kind(section)}, "
                                  "not a section of keys")
        section[parts[-1]] = value
    return data


def read_config_data(path: str | Path) -> Any:
    """A YAML config file's content, not yet validated (see :func:`parse_config`).

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or gives a key twice.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist; pass the path of a YAML file")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {' '.join(str(exc).split())}") from None


def parse_config(data: Any, *, base_dir: str | Path = ".", source: str = "config") -> LoadedConfig:
    """Validate an already-loaded mapping (for notebooks and tests).

    Parameters
    ----------
    data : mapping
        The config as nested dicts and lists.
    base_dir : str or Path
        Folder that relative paths resolve against.
    source : str
        Name used in error messages.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys; got {_kind(data)}")
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(f"{source}: {m}" for m in _messages(exc))) from None
    return LoadedConfig(config=config, base_dir=Path(base_dir).resolve(), source=source)


def write_resolved_config(loaded: LoadedConfig, folder: Path) -> Path:
    """Write the resolved config and its hash into ``folder`` (atomically).

    Returns
    -------
    Path
        The written file.
    """
    from radiopipe.storage import atomic_write_text

    body = {"config_hash": loaded.hash, "config": resolved_dict(loaded.config)}
    if loaded.overrides:  # their values are in 'config' already; listed to show where they came
        body["overrides"] = list(loaded.overrides)
    return atomic_write_text(folder / RESOLVED_CONFIG_NAME, yaml.safe_dump(body, sort_keys=False))


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def _messages(exc: ValidationError) -> list[str]:
    return [_message(err) for err in exc.errors(include_url=False)]


def _message(err: dict[str, Any]) -> str:
    loc = [str(part) for part in err["loc"]]
    path = ".".join(loc)
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(RunConfig, loc[:-1])
        match = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.6)
        if match:
            suggestion = ".".join([*loc[:-1], match[0]])
            return f"unknown key '{path}'; did you mean '{suggestion}'?"
        return f"unknown key '{path}'; allowed keys here: {', '.join(sorted(allowed))}"
    if kind == "missing":
        return f"'{path}' is required but missing"
    msg = err["msg"]
    msg = re.sub(r"^Value error, ", "", msg)
    msg = re.sub(r"^Input should", "should", msg)
    where = f"'{path}' " if path else ""
    text = f"{where}{msg}; got {given!r}" if path else msg
    if kind == "literal_error" and isinstance(given, str):
        options = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        match = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
        if match:
            text += f"; did you mean '{match[0]}'?"
    return text


def _fields_at(model: type[BaseModel], loc: list[str]) -> list[str]:
    """Field names of the (sub)model reached by following ``loc`` from ``model``."""
    models = [model]
    for part in loc:
        if part.isdigit():  # an item of a list of sub-models
            continue
        # A tagged union's member is named by its tag ('features.ibsi_filters.0.laws').
        tagged = [m for m in models if _tag(m) == part]
        if tagged:
            models = tagged
            continue
        field = models[0].model_fields.get(part)
        models = _models_in(field.annotation) if field is not None else []
        if not models:
            return []
    return list(models[0].model_fields)


def _tag(model: type[BaseModel]) -> str | None:
    """The one value of a model's ``type: Literal[...]`` field (a tagged union's tag)."""
    field = model.model_fields.get("type")
    values = typing.get_args(field.annotation) if field is not None else ()
    return values[0] if len(values) == 1 else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]

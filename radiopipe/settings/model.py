"""The run config's model section: the model zoo, ensembles, preprocessing and validation.

Validated by :mod:`radiopipe.config`, which re-exports every name here.
"""

from __future__ import annotations

import difflib
import typing
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from radiopipe.settings.base import Strict

MODEL_NAMES = ("xgboost", "lightgbm", "svm", "random_forest", "logistic")
SEARCH_SCORINGS = ("roc_auc", "average_precision", "neg_log_loss", "balanced_accuracy")


class XGBoostParams(Strict):
    """Hyperparameters of the XGBoost classifier."""

    n_estimators: int = Field(300, ge=1)
    max_depth: int = Field(4, ge=1)
    learning_rate: float = Field(0.05, gt=0, le=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    reg_lambda: float = Field(1.0, ge=0)
    device: Literal["cpu", "cuda"] = "cpu"


class LightGBMParams(Strict):
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


class SVMParams(Strict):
    """RBF support-vector machine on standardised features, Platt-scaled to probabilities.

    ``calibration_splits``: patient-grouped folds of each training set whose out-of-fold
    decision values fit the Platt sigmoid (lowered to the patients of the smallest class).
    """

    C: float = Field(1.0, gt=0)
    gamma: float | Literal["scale"] = "scale"
    calibration_splits: int = Field(3, ge=2)

    @model_validator(mode="after")
    def _positive_gamma(self) -> SVMParams:
        if self.gamma != "scale" and self.gamma <= 0:
            raise ValueError("'gamma' must be 'scale' or a number > 0")
        return self


class RandomForestParams(Strict):
    """Hyperparameters of the random forest."""

    n_estimators: int = Field(300, ge=1)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"


class LogisticParams(Strict):
    """Elastic-net logistic regression (saga solver) on standardised features."""

    C: float = Field(1.0, gt=0)
    l1_ratio: float = Field(0.5, ge=0, le=1)
    max_iter: int = Field(5000, ge=1)


class EnsembleConfig(Strict):
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


class PreprocessingConfig(Strict):
    """Steps fitted inside every training fold, in this order."""

    impute: Literal["median", "mean"] = "median"
    harmonise: Literal["none", "combat"] = "none"  # ComBat by the batch column below
    # ComBat's batch variable: the manifest's 'site', or an acquisition-provenance column of the
    # feature table ('diagnostics__manufacturer', 'diagnostics__ct__convolution_kernel', ...).
    harmonise_by: str = Field("site", pattern=r"^(site|diagnostics__[a-z0-9_]+)$")
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
    # Keep a feature when its ICC over the robustness run's perturbed versions of the fold's
    # training cases reaches this (null: off); needs a robustness section choosing a perturbation.
    stability_threshold: float | None = Field(None, ge=0, le=1)
    stability_icc: Literal["ICC(1,1)", "ICC(2,1)", "ICC(3,1)"] = "ICC(1,1)"


class ClinicalConfig(Strict):
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


class CVConfig(Strict):
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
    # Further seeds of the outer design: the primary model on the main feature set is validated
    # again under each, and its ROC-AUC per seed recorded (the spread a different shuffle gives).
    seeds: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _design_settings(self) -> CVConfig:
        if abs(sum(self.fractions) - 1.0) > 1e-9:
            raise ValueError("'fractions' (train, validation, test) must sum to 1")
        if self.design == "external" and not self.external_sites:
            raise ValueError("design 'external' needs 'external_sites': the held-out site names")
        if self.design != "external" and self.external_sites:
            raise ValueError("'external_sites' applies to design 'external' only")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("'seeds' lists a seed twice")
        if self.seeds and self.design not in ("kfold", "repeated_kfold"):
            raise ValueError("'seeds' applies to designs 'kfold' and 'repeated_kfold' only")
        return self


class SearchConfig(Strict):
    """Hyperparameter search on inner patient-grouped folds (scikit-learn random search)."""

    n_iter: int = Field(0, ge=0)  # candidates per search; 0 uses the configured values as given
    scoring: Literal[SEARCH_SCORINGS] = "roc_auc"  # type: ignore[valid-type]


class BootstrapConfig(Strict):
    """Patient-level bootstrap of the 95% confidence intervals.

    ``method``: ``bca`` (bias-corrected and accelerated, the acceleration from a jackknife
    leaving out one patient at a time; percentile where BCa is undefined, recorded) or
    ``percentile``.
    """

    n_resamples: int = Field(1000, ge=0)
    seed: int = 0
    method: Literal["bca", "percentile"] = "bca"


BUILTIN_FEATURE_SETS = ("image", "fused", "radiomics", "cnn", "clinical", "combined")


class FeatureSetConfig(Strict):
    """A named set of feature columns, validated like the main set beside it.

    ``columns`` are glob patterns (``*``, ``?``, ``[...]``) over the feature table's column
    names (``pet__*``, ``mr_t1__original__shape__MeshVolume``); a pattern that matches no
    column is an error once the feature table is known (train).

    ``stability_threshold`` validates the set with the in-fold stability filter at that ICC
    (``preprocessing.stability_icc``), whatever the main set's ``preprocessing.
    stability_threshold``: the same columns with and without the filter compare side by side.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
    columns: list[str] = Field(min_length=1)
    stability_threshold: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _not_builtin(self) -> FeatureSetConfig:
        if self.name in BUILTIN_FEATURE_SETS:
            raise ValueError(f"feature set name '{self.name}' is a built-in feature set "
                             f"({', '.join(BUILTIN_FEATURE_SETS)}); name it apart")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"feature set '{self.name}' lists a column pattern twice")
        return self


class ControlsConfig(Strict):
    """Negative controls run by the same design as the primary model.

    ``shuffled_labels``: how many times the primary model on the main feature set is validated
    again with the labels permuted across patients (0: off); its ROC-AUC should be near 0.5.
    ``negative_images``: negative-control images whose features replace the real ones in the
    same design (see :mod:`radiopipe.preprocess.negative_controls`): ``shuffled_voxels`` (the
    ROI's intensities permuted within it: texture gone, histogram and shape kept) and
    ``random_roi`` (the ROI's intensities drawn from the whole image: only shape kept).
    """

    shuffled_labels: int = Field(0, ge=0)
    negative_images: list[Literal["shuffled_voxels", "random_roi"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_images(self) -> ControlsConfig:
        if len(set(self.negative_images)) != len(self.negative_images):
            raise ValueError("'negative_images' lists a control twice")
        return self


class ShiftConfig(Strict):
    """When ``predict`` flags a new case as outside the training distribution (stored in the
    model bundle; see :mod:`radiopipe.models.shift`)."""

    z_threshold: float = Field(3.0, gt=0)  # robust SDs beyond the training range: far out
    max_fraction: float = Field(0.1, ge=0, lt=1)  # flag when more features than this are
    acquisition_margin: float = Field(0.1, ge=0)  # relative slack on spacing/intensity ranges


class ModelConfig(Strict):
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
    shift: ShiftConfig = ShiftConfig()
    # Named column sets validated with the primary model beside the main set (same splits).
    feature_sets: list[FeatureSetConfig] = Field(default_factory=list)
    controls: ControlsConfig = ControlsConfig()
    # 'youden_in_fold' (two classes): in every outer training set, the threshold maximising
    # Youden's J on inner out-of-fold probabilities, applied unchanged to the outer test fold.
    threshold: Literal["none", "youden_in_fold"] = "none"

    @model_validator(mode="wrap")
    @classmethod
    def _known_names(cls, data: typing.Any, handler) -> ModelConfig:
        """Unknown model names are reported with the section's other errors, in one pass."""
        unknown = _unknown_names(data) if isinstance(data, dict) else []
        try:
            model = handler(data)
        except ValidationError as exc:
            if not unknown:
                raise
            raise ValidationError.from_exception_data(
                exc.title, [*_init_details(exc), *unknown]
            ) from None
        if unknown:
            raise ValidationError.from_exception_data(cls.__name__, unknown)
        if len(set(model.compare)) != len(model.compare):
            raise ValueError("'compare' lists a model twice")
        names = [s.name for s in model.feature_sets]
        if len(set(names)) != len(names):
            raise ValueError("two feature_sets share a name")
        return model

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

    @property
    def stability_filtered(self) -> bool:
        """Whether any validation reads the perturbed versions: the main set's stability filter
        or a feature set's."""
        return self.preprocessing.stability_threshold is not None or any(
            s.stability_threshold is not None for s in self.feature_sets)

    def for_feature_set(self, name: str) -> ModelConfig:
        """This config as feature set ``name`` is validated: with that set's stability threshold
        when it has one."""
        chosen = next((s for s in self.feature_sets if s.name == name), None)
        if chosen is None or chosen.stability_threshold is None:
            return self
        preprocessing = self.preprocessing.model_copy(
            update={"stability_threshold": chosen.stability_threshold})
        return self.model_copy(update={"preprocessing": preprocessing})


def _unknown_names(data: dict) -> list[InitErrorDetails]:
    """Errors for the raw section's primary and compared names that name no zoo model and no
    configured ensemble (ensembles read from the raw section as far as they are well formed)."""
    ensembles = data.get("ensembles", [])
    names = [e["name"] for e in ensembles if isinstance(e, dict) and isinstance(e.get("name"), str)
             ] if isinstance(ensembles, list) else []
    if len(set(names)) != len(names):
        return [_value_error((), "two ensembles share a name", data)]
    known = [*MODEL_NAMES, *names]
    compare = data.get("compare", [])
    given = [(("name",), "name", data.get("name", "xgboost"))]
    if isinstance(compare, list):
        given += [(("compare", i), "compare", n) for i, n in enumerate(compare)]
    errors = []
    for loc, key, name in given:
        if isinstance(name, str) and name not in known:
            match = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            errors.append(_value_error(
                loc, f"{key} '{name}' is neither a zoo model ({', '.join(MODEL_NAMES)}) nor a "
                f"configured ensemble{hint}", name))
    return errors


def _value_error(loc: tuple, message: str, given: typing.Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc,
                            input=given)


def _init_details(exc: ValidationError) -> list[InitErrorDetails]:
    """A validation error's line errors, to raise again beside others."""
    return [
        InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"], e.get("ctx")),
                         loc=e["loc"], input=e.get("input"))
        for e in exc.errors(include_url=False)
    ]

"""The model zoo: a closed table from config names to unfitted classifiers and search spaces."""

from __future__ import annotations

from collections.abc import Callable

from scipy.stats import loguniform, randint, uniform
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from radiopipe.config import ModelConfig
from radiopipe.models.boosters import LightGBMClassifier, XGBoostClassifier
from radiopipe.models.calibration import GroupedCalibratedClassifier


def _xgboost(config: ModelConfig, class_weight, n_jobs: int, seed: int) -> ClassifierMixin:
    return XGBoostClassifier(
        **config.xgboost.model_dump(), class_weight=class_weight, n_jobs=n_jobs, random_state=seed
    )


def _lightgbm(config: ModelConfig, class_weight, n_jobs: int, seed: int) -> ClassifierMixin:
    return LightGBMClassifier(
        **config.lightgbm.model_dump(), class_weight=class_weight, n_jobs=n_jobs, random_state=seed
    )


def _svm(config: ModelConfig, class_weight, n_jobs: int, seed: int) -> ClassifierMixin:
    # scikit-learn 1.9 deprecates SVC(probability=True) for exactly this: Platt scaling of the
    # SVM's decision values on internal folds (here grouped by patient), then one SVM refitted
    # on all rows. In-fold, the calibration wraps the whole pipeline (see factory.make_candidate).
    svc = SVC(kernel="rbf", C=config.svm.C, gamma=config.svm.gamma, class_weight=class_weight)
    return GroupedCalibratedClassifier(
        svc, method="sigmoid", n_splits=config.svm.calibration_splits, random_state=seed
    )


def _random_forest(config: ModelConfig, class_weight, n_jobs: int, seed: int) -> ClassifierMixin:
    return RandomForestClassifier(
        **config.random_forest.model_dump(), class_weight=class_weight, n_jobs=n_jobs,
        random_state=seed,
    )


def _logistic(config: ModelConfig, class_weight, n_jobs: int, seed: int) -> ClassifierMixin:
    params = config.logistic
    return LogisticRegression(
        C=params.C, l1_ratio=params.l1_ratio, solver="saga", max_iter=params.max_iter,
        class_weight=class_weight, random_state=seed,
    )


ZOO: dict[str, Callable[..., ClassifierMixin]] = {
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
    "svm": _svm,
    "random_forest": _random_forest,
    "logistic": _logistic,
}

# Zoo models whose fits can run on a Dask cluster (their libraries' Dask estimators).
DASK_MODELS = ("xgboost", "lightgbm")

# Random-search distributions per model, keyed by the classifier's own parameter names.
SEARCH_SPACES: dict[str, dict] = {
    "xgboost": {
        "n_estimators": randint(50, 401),
        "max_depth": [2, 3, 4, 6],
        "learning_rate": loguniform(0.01, 0.3),
        "subsample": uniform(0.6, 0.4),
        "colsample_bytree": uniform(0.4, 0.6),
        "min_child_weight": loguniform(0.5, 10),
        "reg_lambda": loguniform(0.1, 10),
    },
    "lightgbm": {
        "n_estimators": randint(50, 401),
        "num_leaves": [4, 8, 15, 31],
        "learning_rate": loguniform(0.01, 0.3),
        "subsample": uniform(0.6, 0.4),
        "colsample_bytree": uniform(0.4, 0.6),
        "min_child_samples": [5, 10, 20],
        "reg_lambda": loguniform(0.1, 10),
    },
    "svm": {"estimator__C": loguniform(0.1, 100), "estimator__gamma": loguniform(1e-3, 1)},
    "random_forest": {
        "n_estimators": [100, 200, 400],
        "max_depth": [None, 4, 8, 16],
        "min_samples_leaf": [1, 2, 4],
        "max_features": ["sqrt", 0.3, 0.6],
    },
    "logistic": {"C": loguniform(0.01, 10), "l1_ratio": uniform(0, 1)},
}


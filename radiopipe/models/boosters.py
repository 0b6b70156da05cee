"""Gradient-boosted trees (XGBoost, LightGBM) as plain scikit-learn classifiers.

The wrappers add what the libraries' own estimators lack or hide: explicit parameters (no
``**kwargs`` that swallow typos), class weights for every task, any class labels, a ``device``
setting (``cpu`` / ``cuda``) and a fitted ``booster_`` that is the library's native model, so a
bundle stores it in the library's own format (never a pickle). With ``dask_address`` set, the fit
runs on that Dask cluster through the library's Dask estimator (same hyperparameters, same kind
of booster); prediction stays local.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.models.params import Interval, Options, check_params, check_sample_weight

_COMMON_CONSTRAINTS: dict = {
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, 1, closed="right")],
    "subsample": [Interval(Real, 0, 1, closed="right")],
    "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
    "reg_lambda": [Interval(Real, 0, None, closed="left")],
    "device": [Options(frozenset({"cpu", "cuda"}))],
    "class_weight": [Options(frozenset({"balanced"})), dict, None],
    "n_jobs": [Integral],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "dask_address": [str, None],
}


class _BoosterClassifier(ClassifierMixin, BaseEstimator):
    """Label encoding, class weights and probability output shared by both boosters."""

    def fit(self, X, y, sample_weight=None):
        """Fit the booster on class codes 0..K-1 with class-balanced sample weights."""
        check_params(self, self._parameter_rules)
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in the training rows; got 1 "
                f"class ({self.classes_[0]!r})"
            )
        weight = compute_sample_weight(self.class_weight, codes) if self.class_weight else None
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            if not sample_weight.any():
                raise ValueError("the sample weights are all zero; at least one must be positive")
            weight = sample_weight if weight is None else weight * sample_weight
        self.booster_ = self._train(X, codes, weight)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        raw = np.asarray(self._raw_proba(X), dtype=np.float64)
        if raw.ndim == 1:
            raw = np.column_stack([1.0 - raw, raw])
        return raw

    def predict(self, X):
        """Most probable class."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class XGBoostClassifier(_BoosterClassifier):
    """XGBoost (``hist`` trees) with class weights and a native ``booster_``.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight,
    reg_lambda : see ``xgboost.XGBClassifier``.
    device : {'cpu', 'cuda'}
        Where trees are built and evaluated.
    class_weight : 'balanced', dict or None
        Per-class weights turned into sample weights (``'balanced'``: inverse class frequency).
    n_jobs : int
        CPU threads.
    random_state : int
        Seed.
    dask_address : str or None
        A Dask scheduler's address: fit with ``xgboost.dask.DaskXGBClassifier`` on its workers.

    Attributes
    ----------
    booster_ : xgboost.Booster
        The fitted model (saved as UBJSON in a bundle).
    classes_ : numpy.ndarray
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _parameter_rules: dict = {
        **_COMMON_CONSTRAINTS,
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_estimators=300,
        max_depth=4,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_weight=1.0,
        reg_lambda=1.0,
        device="cpu",
        class_weight=None,
        n_jobs=1,
        random_state=0,
        dask_address=None,
    ):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.device = device
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dask_address = dask_address

    def _train(self, X, codes, weight):
        params = {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "reg_lambda": self.reg_lambda,
            "device": self.device,
            "tree_method": "hist",
            "n_jobs": self.n_jobs,
            "random_state": self.random_state,
        }
        if self.dask_address is not None:
            from xgboost.dask import DaskXGBClassifier

            from radiopipe.scaleout.boosters import fit_on_dask

            model = DaskXGBClassifier(**params)
            return fit_on_dask(model, X, codes, weight, self.dask_address).get_booster()
        from xgboost import XGBClassifier

        return XGBClassifier(**params).fit(X, codes, sample_weight=weight).get_booster()

    def _raw_proba(self, X):
        from xgboost import DMatrix

        # A DMatrix, not in-place prediction: CPU rows on a CUDA booster then need no device
        # copy (and raise no device-mismatch warning).
        return self.booster_.predict(DMatrix(X))

    def get_booster(self):
        """The fitted ``xgboost.Booster`` (as ``xgboost.XGBClassifier.get_booster``)."""
        check_is_fitted(self)
        return self.booster_


class LightGBMClassifier(_BoosterClassifier):
    """LightGBM (leaf-wise trees) with class weights and a native ``booster_``.

    Parameters
    ----------
    n_estimators, num_leaves, learning_rate, subsample, colsample_bytree, min_child_samples,
    reg_lambda : see ``lightgbm.LGBMClassifier``.
    device : {'cpu', 'gpu', 'cuda'}
        LightGBM's ``device_type``: ``'gpu'`` is the OpenCL learner of PyPI's wheel, ``'cuda'``
        needs a LightGBM built with CUDA.
    class_weight : 'balanced', dict or None
    n_jobs : int
    random_state : int
    dask_address : str or None
        A Dask scheduler's address: fit with ``lightgbm.DaskLGBMClassifier`` on its workers.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The fitted model (saved in LightGBM's text model format in a bundle).
    classes_ : numpy.ndarray
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _parameter_rules: dict = {
        **_COMMON_CONSTRAINTS,
        "device": [Options(frozenset({"cpu", "gpu", "cuda"}))],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "min_child_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_estimators=300,
        num_leaves=15,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.8,
        min_child_samples=10,
        reg_lambda=1.0,
        device="cpu",
        class_weight=None,
        n_jobs=1,
        random_state=0,
        dask_address=None,
    ):
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.device = device
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dask_address = dask_address

    def _train(self, X, codes, weight):
        params = {
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1 else 0,  # LightGBM ignores subsample at 0
            "colsample_bytree": self.colsample_bytree,
            "min_child_samples": self.min_child_samples,
            "reg_lambda": self.reg_lambda,
            "device_type": self.device,
            "n_jobs": self.n_jobs,
            "random_state": self.random_state,
            "deterministic": True,  # same seed, same data: the same trees on any thread count
            "force_col_wise": True,
            "verbose": -1,
        }
        if self.dask_address is not None:
            from lightgbm import DaskLGBMClassifier

            from radiopipe.scaleout.boosters import fit_on_dask

            model = DaskLGBMClassifier(**params)
            return fit_on_dask(model, X, codes, weight, self.dask_address).booster_
        from lightgbm import LGBMClassifier

        return LGBMClassifier(**params).fit(X, codes, sample_weight=weight).booster_

    def _raw_proba(self, X):
        return self.booster_.predict(X)

"""Soft-voting and stacking ensembles whose weights or meta-learner are fitted inside the fold.

Both see only the rows given to ``fit``: member probabilities for the weights or the
meta-learner come from inner folds of those rows (grouped by patient when ``groups`` is given),
then every member is refitted on all of them.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.errors import DataError
from radiopipe.models.grouping import GroupedFit, group_fit_params
from radiopipe.models.params import Interval, Options, check_params

_EPS = 1e-15


def inner_member_proba(estimators, X, y, groups, *, n_splits: int, seed: int) -> np.ndarray:
    """Out-of-fold probabilities of every member on the rows it is given.

    Parameters
    ----------
    estimators : list of (name, estimator)
    X : array of shape (n, p)
    y : array of int codes 0..K-1
    groups : array of shape (n,) or None
        Patient ids; inner folds keep a patient's rows together when given.
    n_splits : int
        Inner folds (lowered to the rows or patients of the smallest class).
    seed : int

    Returns
    -------
    numpy.ndarray of shape (n_members, n, K)
    """
    n_classes = int(y.max()) + 1
    if groups is None:
        smallest = int(np.bincount(y).min())
    else:
        smallest = min(len(np.unique(groups[y == k])) for k in range(n_classes))
    if smallest < 2:
        raise DataError(
            "model.cv.inner_splits: an in-fold ensemble needs every class in at least 2 "
            "patients of each training set to fit its weights or meta-learner on inner folds; "
            f"a training set of {len(y)} cases has fewer; lower model.cv.n_splits or add patients"
        )
    kind = StratifiedKFold if groups is None else StratifiedGroupKFold
    splitter = kind(n_splits=min(n_splits, smallest), shuffle=True, random_state=seed)
    splits = list(splitter.split(X, y, groups))
    out = np.zeros((len(estimators), len(y), n_classes))
    for m, (_, estimator) in enumerate(estimators):
        for train, test in splits:
            inner = None if groups is None else groups[train]
            fitted = clone(estimator).fit(_rows(X, train), y[train],
                                          **group_fit_params(estimator, inner))
            proba = np.zeros((len(test), n_classes))
            proba[:, fitted.classes_] = fitted.predict_proba(_rows(X, test))
            out[m, test] = proba
    return out


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def fit_vote_weights(member_proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Simplex weights minimising the log-loss of the weighted mean of member probabilities.

    Parameters
    ----------
    member_proba : array of shape (n_members, n, K)
    y : array of int codes

    Returns
    -------
    numpy.ndarray of shape (n_members,)
        :math:`w = \\mathrm{softmax}(\\theta)`, :math:`\\theta = \\arg\\min -\\frac1n \\sum_i
        \\log \\sum_m w_m p_{m,i,y_i}` (L-BFGS from equal weights).
    """
    picked = member_proba[:, np.arange(len(y)), y].T  # (n, n_members)

    def loss(theta):
        w = softmax(theta)
        mixed = np.clip(picked @ w, _EPS, None)
        ratio = picked / mixed[:, None]
        grad_w = -ratio.mean(axis=0)
        return -np.log(mixed).mean(), w * (grad_w - w @ grad_w)

    result = minimize(loss, np.zeros(picked.shape[1]), jac=True, method="L-BFGS-B")
    return softmax(result.x)


class _InFoldEnsemble(GroupedFit, ClassifierMixin, BaseEstimator):
    """Member fitting and label handling shared by the two ensembles."""

    def _encode(self, X, y):
        check_params(self, self._parameter_rules)
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=None,
                             skip_check_array=hasattr(X, "iloc"))
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in the training rows; got 1 "
                f"class ({self.classes_[0]!r})"
            )
        return X, codes

    def _fit_members(self, X, codes, groups):
        self.estimators_ = [clone(est).fit(X, codes, **group_fit_params(est, groups))
                            for _, est in self.estimators]
        self.named_estimators_ = dict(zip([n for n, _ in self.estimators], self.estimators_))

    def _member_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=None,
                          skip_check_array=hasattr(X, "iloc"))
        out = np.zeros((len(self.estimators_), X.shape[0], len(self.classes_)))
        for m, est in enumerate(self.estimators_):
            out[m][:, est.classes_] = est.predict_proba(X)
        return out

    def predict(self, X):
        """Most probable class."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = all(
            est.__sklearn_tags__().input_tags.allow_nan for _, est in self.estimators
        )
        return tags


class SoftVotingEnsemble(_InFoldEnsemble):
    """Weighted mean of the members' class probabilities.

    Parameters
    ----------
    estimators : list of (str, classifier)
        Members (each usually a whole in-fold pipeline).
    weights : 'equal', 'fitted' or list of float
        'fitted': simplex weights minimising the log-loss of inner out-of-fold probabilities
        (:func:`fit_vote_weights`); a list gives fixed weights (normalised to sum 1).
    n_splits : int
        Inner folds for 'fitted'.
    random_state : int
        Seed of the inner folds.

    Attributes
    ----------
    weights_ : numpy.ndarray
        Member weights, summing to 1.
    estimators_ : list
        Members refitted on all training rows.
    classes_ : numpy.ndarray
    """

    _parameter_rules: dict = {
        "estimators": [list],
        "weights": [Options(frozenset({"equal", "fitted"})), list],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, estimators, weights="equal", n_splits=3, random_state=0):
        self.estimators = estimators
        self.weights = weights
        self.n_splits = n_splits
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit the weights on inner folds (if 'fitted'), then every member on all rows."""
        X, codes = self._encode(X, y)
        if isinstance(self.weights, list):
            w = np.asarray(self.weights, dtype=np.float64)
            if len(w) != len(self.estimators) or w.min() < 0 or w.sum() <= 0:
                raise ValueError(
                    "The 'weights' parameter of SoftVotingEnsemble must hold one weight >= 0 per "
                    f"member, not all zero. Got {self.weights!r} instead."
                )
            self.weights_ = w / w.sum()
        elif self.weights == "fitted":
            proba = inner_member_proba(
                self.estimators, X, codes, _groups(groups), n_splits=self.n_splits,
                seed=self.random_state,
            )
            self.weights_ = fit_vote_weights(proba, codes)
        else:
            self.weights_ = np.full(len(self.estimators), 1.0 / len(self.estimators))
        self._fit_members(X, codes, _groups(groups))
        return self

    def predict_proba(self, X):
        """:math:`\\hat p = \\sum_m w_m \\hat p_m`."""
        member_proba = self._member_proba(X)
        return np.tensordot(self.weights_, member_proba, axes=1)


class StackingEnsemble(_InFoldEnsemble):
    """A multinomial logistic meta-learner on the members' class probabilities.

    Parameters
    ----------
    estimators : list of (str, classifier)
    meta_C : float
        Inverse L2 penalty of the meta-learner.
    n_splits : int
        Inner folds whose out-of-fold member probabilities train the meta-learner.
    random_state : int

    Attributes
    ----------
    meta_learner_ : sklearn.linear_model.LogisticRegression
    estimators_ : list
        Members refitted on all training rows.
    classes_ : numpy.ndarray
    """

    _parameter_rules: dict = {
        "estimators": [list],
        "meta_C": [Interval(Real, 0, None, closed="neither")],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, estimators, meta_C=1.0, n_splits=3, random_state=0):
        self.estimators = estimators
        self.meta_C = meta_C
        self.n_splits = n_splits
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit the meta-learner on inner out-of-fold probabilities, then the members on all rows."""
        X, codes = self._encode(X, y)
        proba = inner_member_proba(
            self.estimators, X, codes, _groups(groups), n_splits=self.n_splits,
            seed=self.random_state,
        )
        self.meta_learner_ = LogisticRegression(C=self.meta_C, max_iter=1000).fit(
            _meta_features(proba), codes
        )
        self._fit_members(X, codes, _groups(groups))
        return self

    def predict_proba(self, X):
        """The meta-learner's probabilities."""
        features = _meta_features(self._member_proba(X))
        return self.meta_learner_.predict_proba(features)


def _meta_features(member_proba: np.ndarray) -> np.ndarray:
    """(n_members, n, K) -> (n, n_members * K): each member's probabilities side by side."""
    return np.concatenate(list(member_proba), axis=1)


def _groups(groups):
    return None if groups is None else np.asarray(groups)

"""Supervised feature selection fitted on training rows: univariate F-test, LASSO and mRMR.

Every selector keeps at most ``n_features`` columns (all of them when fewer exist) and is a
scikit-learn ``SelectorMixin``, so selected column names survive ``set_output(transform="pandas")``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.models.params import RANDOM_STATE, Interval, check_params
from radiopipe.models.reduction import abs_correlation


def anova_f(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """One-way ANOVA F statistic of every column against the class labels.

    Parameters
    ----------
    X : array of shape (n, p)
    y : array of shape (n,)

    Returns
    -------
    numpy.ndarray of shape (p,)
        :math:`F_j = \\frac{\\sum_k n_k (\\bar x_{kj} - \\bar x_j)^2 / (K-1)}
        {\\sum_k \\sum_{i \\in k} (x_{ij} - \\bar x_{kj})^2 / (n-K)}`; ``inf`` when the classes
        are separated without within-class spread, 0 for a constant column or a single class.

    Examples
    --------
    >>> anova_f(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    array([8.])
    """
    classes, codes = np.unique(y, return_inverse=True)
    n, n_classes = X.shape[0], len(classes)
    if n_classes < 2 or n <= n_classes:
        return np.zeros(X.shape[1])
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    sums = np.zeros((n_classes, X.shape[1]))
    np.add.at(sums, codes, X)
    means = sums / counts[:, None]
    between = (counts[:, None] * (means - X.mean(axis=0)) ** 2).sum(axis=0) / (n_classes - 1)
    within = ((X - means[codes]) ** 2).sum(axis=0) / (n - n_classes)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = between / within
    # 0/0 (a constant column) carries no signal; b/0 with b > 0 is a perfect separation (inf).
    return np.where(between > 0, f, 0.0)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` highest scores (ties: the earlier column wins)."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[:k]] = True
    return mask


class _KSelector(SelectorMixin, BaseEstimator):
    """Shared parameter checks and support mask of the k-column selectors."""

    _parameter_rules: dict = {"n_features": [Interval(Integral, 1, None, closed="left")]}

    def _validated(self, X, y):
        check_params(self, self._parameter_rules)
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        return X, y, min(self.n_features, X.shape[1])

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


class UnivariateSelector(_KSelector):
    """Keep the ``n_features`` columns with the largest ANOVA F statistic.

    Parameters
    ----------
    n_features : int

    Attributes
    ----------
    scores_ : numpy.ndarray
        F statistic of every column (see :func:`anova_f`).
    support_ : numpy.ndarray of bool
    """

    def __init__(self, n_features: int = 20):
        self.n_features = n_features

    def fit(self, X, y):
        """Score the columns on the training rows."""
        X, y, k = self._validated(X, y)
        self.scores_ = anova_f(X, y)
        self.support_ = top_k(self.scores_, k)
        return self


class LassoSelector(_KSelector):
    """Keep the columns with the largest absolute L1-penalised logistic coefficients.

    The columns are standardised first; a column's weight is its largest absolute coefficient
    over the classes. At most ``n_features`` columns with a non-zero coefficient are kept; when
    the penalty zeroes every coefficient, the column with the largest F statistic is kept.

    Parameters
    ----------
    n_features : int
    C : float
        Inverse L1 penalty strength.
    random_state : int or None
        Seed of the saga solver's sampling.

    Attributes
    ----------
    coef_weight_ : numpy.ndarray
        :math:`\\max_k |\\beta_{kj}|` per column.
    support_ : numpy.ndarray of bool
    """

    _parameter_rules: dict = {
        **_KSelector._parameter_rules,
        "C": [Interval(Real, 0, None, closed="neither")],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_features: int = 20, C: float = 1.0, random_state=None):
        self.n_features = n_features
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the L1 model on the training rows and keep its strongest columns."""
        X, y, k = self._validated(X, y)
        scale = X.std(axis=0)
        z = np.divide(X - X.mean(axis=0), scale, out=np.zeros_like(X), where=scale > 0)
        if len(np.unique(y)) < 2:
            self.coef_weight_ = np.zeros(X.shape[1])
        else:
            model = LogisticRegression(
                l1_ratio=1.0, C=self.C, solver="saga", max_iter=10000, tol=1e-3,
                random_state=self.random_state,
            ).fit(z, y)
            self.coef_weight_ = np.abs(model.coef_).max(axis=0)
        n_nonzero = int((self.coef_weight_ > 0).sum())
        if n_nonzero == 0:
            self.support_ = top_k(anova_f(X, y), 1)
        else:
            self.support_ = top_k(self.coef_weight_, min(k, n_nonzero))
        return self


class MRMRSelector(_KSelector):
    """Minimum-redundancy maximum-relevance selection (FCQ variant).

    Greedy: the first column maximises the relevance :math:`F_j` (ANOVA F statistic); each next
    column maximises :math:`F_j / \\frac{1}{|S|}\\sum_{s \\in S} |r_{js}|` over the columns not yet
    selected, with :math:`S` the selected set and :math:`r` the Pearson correlation (Ding & Peng
    2005; the F-test/correlation quotient of Zhao et al. 2019). The F/correlation form replaces
    mutual information, whose estimate is randomised and slow, with deterministic statistics.

    Parameters
    ----------
    n_features : int

    Attributes
    ----------
    relevance_ : numpy.ndarray
        F statistic per column.
    ranking_ : numpy.ndarray
        Selected column indices in selection order.
    support_ : numpy.ndarray of bool
    """

    def __init__(self, n_features: int = 20):
        self.n_features = n_features

    def fit(self, X, y):
        """Select the columns greedily on the training rows."""
        X, y, k = self._validated(X, y)
        self.relevance_ = anova_f(X, y)
        corr = abs_correlation(X)
        index = np.arange(X.shape[1])
        chosen = [int(top_k(self.relevance_, 1).argmax())]
        redundancy_sum = corr[chosen[0]].copy()
        available = np.ones(X.shape[1], dtype=bool)
        available[chosen[0]] = False
        while len(chosen) < k:
            redundancy = redundancy_sum[available] / len(chosen)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = self.relevance_[available] / redundancy
            # Zero redundancy: an uncorrelated column outranks every correlated one (inf);
            # 0/0 (no relevance, no redundancy) ranks last.
            score = np.where(np.isnan(score), -1.0, score)
            order = np.lexsort((index[available], -self.relevance_[available], -score))
            pick = int(index[available][order[0]])
            chosen.append(pick)
            available[pick] = False
            redundancy_sum += corr[pick]
        self.ranking_ = np.asarray(chosen)
        self.support_ = np.isin(index, self.ranking_)
        return self


def make_selector(method: str, n_features: int, *, seed: int) -> SelectorMixin | None:
    """The configured selector, or None for ``method='none'``.

    Parameters
    ----------
    method : {'none', 'univariate', 'lasso', 'mrmr'}
    n_features : int
        Columns to keep.
    seed : int
        Solver seed (LASSO).
    """
    if method == "none":
        return None
    if method == "univariate":
        return UnivariateSelector(n_features=n_features)
    if method == "lasso":
        return LassoSelector(n_features=n_features, random_state=seed)
    if method == "mrmr":
        return MRMRSelector(n_features=n_features)
    raise ValueError(f"The 'method' parameter of make_selector must be one of none, univariate, "
                     f"lasso, mrmr. Got {method!r} instead.")

"""Unsupervised column removal fitted on training rows: near-constant and highly correlated columns.

Both are scikit-learn selectors (``SelectorMixin``), so ``set_output(transform="pandas")`` keeps
the surviving column names for SHAP and the bundle's feature order.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.models.params import Interval, check_params


def mode_fractions(X: np.ndarray) -> np.ndarray:
    """Fraction of rows taken by each column's most frequent value.

    Parameters
    ----------
    X : array of shape (n_rows, n_columns)

    Returns
    -------
    numpy.ndarray of shape (n_columns,)
        :math:`\\max_v \\#\\{i : X_{ij} = v\\} / n`.

    Examples
    --------
    >>> mode_fractions(np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 3.0]]))
    array([0.75, 0.25])
    """
    ordered = np.sort(X, axis=0)
    starts = np.ones(ordered.shape, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    run_id = np.cumsum(starts, axis=0)  # run number within each column, 1-based
    longest = np.zeros(X.shape[1], dtype=np.int64)
    for j in range(X.shape[1]):
        longest[j] = np.bincount(run_id[:, j]).max()
    return longest / X.shape[0]


def abs_correlation(X: np.ndarray) -> np.ndarray:
    """Absolute Pearson correlation matrix; a constant column correlates 0 with everything.

    Parameters
    ----------
    X : array of shape (n_rows, n_columns)

    Returns
    -------
    numpy.ndarray of shape (n_columns, n_columns)
        :math:`|r_{jk}| = |\\sum_i z_{ij} z_{ik}| / n` with :math:`z` the standardised columns.
    """
    centred = X - X.mean(axis=0)
    scale = np.sqrt((centred**2).sum(axis=0))
    # A constant column has no defined correlation; 0 keeps it from removing any other column.
    z = np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)
    return np.clip(np.abs(z.T @ z), 0.0, 1.0)


class NearConstantFilter(SelectorMixin, BaseEstimator):
    """Drop columns whose most frequent value covers at least ``max_mode_fraction`` of the rows.

    Parameters
    ----------
    max_mode_fraction : float in (0, 1]
        A column is near-constant when :math:`\\max_v \\#\\{x_i = v\\}/n \\ge` this fraction.
        With 1.0 only exactly constant columns go.

    Attributes
    ----------
    mode_fraction_ : numpy.ndarray
        Each column's fraction on the training rows.
    support_ : numpy.ndarray of bool
        Kept columns. If every column is near-constant, the least constant one is kept so the
        pipeline stays defined.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _parameter_rules: dict = {
        "max_mode_fraction": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, max_mode_fraction: float = 0.95):
        self.max_mode_fraction = max_mode_fraction

    def fit(self, X, y=None):
        """Measure each column's mode fraction on the training rows."""
        check_params(self, self._parameter_rules)
        X = validate_data(self, X, dtype=np.float64)
        self.mode_fraction_ = mode_fractions(X)
        # A single row makes every column constant; keeping all is the only defined choice.
        keep = self.mode_fraction_ < self.max_mode_fraction if X.shape[0] > 1 else None
        if keep is None:
            keep = np.ones(X.shape[1], dtype=bool)
        if not keep.any():
            keep[np.argmin(self.mode_fraction_)] = True
        self.support_ = keep
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop the later column of every pair with absolute Pearson correlation >= ``threshold``.

    Columns are visited in order; a column is kept when its absolute correlation with every
    column kept so far is below the threshold (so the earlier of two redundant columns stays).

    Parameters
    ----------
    threshold : float in (0, 1]

    Attributes
    ----------
    support_ : numpy.ndarray of bool
        Kept columns.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _parameter_rules: dict = {"threshold": [Interval(Real, 0, 1, closed="right")]}

    def __init__(self, threshold: float = 0.95):
        self.threshold = threshold

    def fit(self, X, y=None):
        """Choose the kept columns from the training rows' correlations."""
        check_params(self, self._parameter_rules)
        X = validate_data(self, X, dtype=np.float64)
        corr = abs_correlation(X)
        keep = np.zeros(X.shape[1], dtype=bool)
        for j in range(X.shape[1]):
            keep[j] = not np.any(corr[j, keep] >= self.threshold)
        self.support_ = keep
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

"""A feature filter by robustness, fitted inside the folds: a feature is kept when its ICC over the
perturbed versions of the fold's training cases alone is at least a threshold.

The perturbed versions are the robustness run's ``robustness_features.parquet``
(:mod:`radiopipe.stages.robustness`), given as a table indexed by ``(case_id, perturbation)``;
the rows ``X`` the filter is fitted on are indexed by ``case_id``, so the ICC never sees a test
case of the fold.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.icc import ICC_KINDS, icc
from radiopipe.models.params import Interval, Options, check_params


class StabilityFilter(SelectorMixin, BaseEstimator):
    """Keep the columns whose ICC over the training cases' perturbed versions is >= ``threshold``.

    Parameters
    ----------
    perturbed : pandas.DataFrame or None
        Feature values of every case's versions, indexed by ``(case_id, perturbation)``; every
        case has the same versions. None keeps every column.
    threshold : float in [0, 1]
    icc_kind : {'ICC(1,1)', 'ICC(2,1)', 'ICC(3,1)'}

    Attributes
    ----------
    icc_ : numpy.ndarray
        Each column's ICC on the training cases (NaN for a column without perturbed values,
        which is kept: clinical columns, embeddings).
    support_ : numpy.ndarray of bool
        Kept columns; when no column reaches the threshold, the most stable one is kept so the
        pipeline stays defined.
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    _parameter_rules: dict = {
        "perturbed": [pd.DataFrame, None],
        "threshold": [Interval(Real, 0, 1, closed="both")],
        "icc_kind": [Options(frozenset(ICC_KINDS))],
    }

    def __init__(self, perturbed: pd.DataFrame | None = None, threshold: float = 0.9,
                 icc_kind: str = "ICC(1,1)"):
        self.perturbed = perturbed
        self.threshold = threshold
        self.icc_kind = icc_kind

    def fit(self, X, y=None):
        """Compute each column's ICC on the versions of the training rows' cases."""
        check_params(self, self._parameter_rules)
        cases = X.index if isinstance(X, pd.DataFrame) else None
        validate_data(self, X, dtype=np.float64)
        self.icc_ = np.full(self.n_features_in_, np.nan)
        if self.perturbed is not None:
            self.icc_ = self._training_icc(cases)
        keep = ~(self.icc_ < self.threshold)  # NaN: not measured, kept
        if not keep.any():
            keep[np.nanargmax(self.icc_)] = True
        self.support_ = keep
        return self

    def _training_icc(self, cases) -> np.ndarray:
        if cases is None or not hasattr(self, "feature_names_in_"):
            raise ValueError("StabilityFilter with perturbed values is fitted on a DataFrame "
                             "indexed by case_id. Got an array without case ids instead.")
        names = list(self.feature_names_in_)
        measured = [j for j, name in enumerate(names) if name in self.perturbed.columns]
        known = self.perturbed.index.get_level_values(0)
        missing = sorted(set(cases) - set(known))
        if missing:
            raise ValueError(f"StabilityFilter has no perturbed versions of case "
                             f"'{missing[0]}'; rerun the robustness run over the same cohort")
        versions = self.perturbed.loc[list(cases), [names[j] for j in measured]]
        ratings = versions.to_numpy(np.float64).reshape(len(cases), -1, len(measured))
        values = np.full(len(names), np.nan)
        if len(cases) >= 2 and ratings.shape[1] >= 2:
            (result,) = [r for r in icc(ratings) if r.kind == self.icc_kind]
            values[measured] = np.where(np.isnan(result.value), -np.inf, result.value)
        return values

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

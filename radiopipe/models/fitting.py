"""Fit one candidate on one training set: optional random search on the inner splits, then
optional probability calibration on the same inner splits; nothing outside the given rows.

A search over the classifier's hyperparameters alone fits the preprocessing once per inner split
(:mod:`radiopipe.models.search`); any other search is scikit-learn's ``RandomizedSearchCV``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import RandomizedSearchCV

from radiopipe.config import SearchConfig
from radiopipe.models.designs import Splits
from radiopipe.models.factory import Candidate
from radiopipe.models.grouping import group_fit_params
from radiopipe.models.search import classifier_search, shares_preprocessing


@dataclass(frozen=True)
class FitSettings:
    """How every candidate is fitted on a training set.

    Attributes
    ----------
    search : SearchConfig
        Random-search budget and scoring (``n_iter = 0``: configured hyperparameters).
    calibration : {'none', 'isotonic', 'sigmoid'}
    seed : int
    """

    search: SearchConfig
    calibration: str = "none"
    seed: int = 0


@dataclass(frozen=True)
class FittedCandidate:
    """A candidate fitted on one training set.

    Attributes
    ----------
    estimator : estimator
        Fitted; ``predict_proba`` gives columns for the training rows' class codes.
    best_params : dict
        The search's choice (empty without a search).
    """

    estimator: BaseEstimator
    best_params: dict


def fit_candidate(
    candidate: Candidate, X, y: np.ndarray, groups: np.ndarray, inner: Splits, settings: FitSettings
) -> FittedCandidate:
    """Fit ``candidate`` on the rows ``X, y`` (and their patients ``groups``).

    Parameters
    ----------
    candidate : Candidate
    X : pandas.DataFrame
        Training rows only.
    y : array of int
        Their class codes.
    groups : array
        Their patient ids.
    inner : list of (train, test)
        Splits of these rows for the search and the calibration (patient-grouped).
    settings : FitSettings

    Returns
    -------
    FittedCandidate
    """
    estimator = clone(candidate.estimator)
    fit_params = group_fit_params(estimator, groups)
    best_params: dict = {}
    if candidate.search_space and settings.search.n_iter > 0:
        best_params = _search(estimator, candidate.search_space, X, y, inner, fit_params, settings)
        estimator.set_params(**best_params)
    if settings.calibration != "none":
        # A partition of the rows (k-fold) calibrates on out-of-fold scores of one model refit
        # on all rows; a single validation split calibrates the model fitted on its other part.
        partition = sum(len(test) for _, test in inner) == len(y)
        estimator = CalibratedClassifierCV(
            estimator, method=settings.calibration, cv=inner, ensemble=not partition
        )
    estimator.fit(X, y, **fit_params)
    return FittedCandidate(estimator, best_params)


def _search(estimator, space: dict, X, y: np.ndarray, inner: Splits, fit_params: dict,
            settings: FitSettings) -> dict:
    """The random search's choice of hyperparameters for ``estimator`` on these rows."""
    scoring = _scorer(settings.search.scoring, y)
    if shares_preprocessing(estimator, space):
        best, _ = classifier_search(estimator, space, X, y, inner, n_iter=settings.search.n_iter,
                                    scoring=scoring, seed=settings.seed)
        return _plain(best)
    search = RandomizedSearchCV(
        estimator,
        space,
        n_iter=settings.search.n_iter,
        scoring=scoring,
        cv=inner,
        refit=False,
        random_state=settings.seed,
        error_score="raise",
    )
    search.fit(X, y, **fit_params)
    return _plain(search.best_params_)


def _scorer(scoring: str, y: np.ndarray) -> str:
    """scikit-learn scorer name; ROC-AUC is one-vs-rest macro for more than two classes."""
    if scoring == "roc_auc" and len(np.unique(y)) > 2:
        return "roc_auc_ovr"
    return scoring


def _plain(params: dict) -> dict:
    """Search results as JSON-friendly Python scalars."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}

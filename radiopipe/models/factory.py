"""Unfitted classifiers and whole in-fold candidates (pipelines, ensembles) from the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from radiopipe.config import EnsembleConfig, ModelConfig, PreprocessingConfig
from radiopipe.models.calibration import GroupedCalibratedClassifier
from radiopipe.models.ensembles import SoftVotingEnsemble, StackingEnsemble
from radiopipe.models.grouping import GroupedFit
from radiopipe.models.infold import InputColumns, build_pipeline
from radiopipe.models.zoo import DASK_MODELS, SEARCH_SPACES, ZOO


@dataclass(frozen=True)
class Candidate:
    """One model or ensemble to validate.

    Attributes
    ----------
    name : str
        Config name (a zoo model or an ensemble).
    kind : {'model', 'ensemble'}
    estimator : estimator
        Unfitted; cloned for every fit.
    search_space : dict or None
        Random-search distributions keyed by pipeline parameter names; None for ensembles,
        whose members keep their configured hyperparameters.
    """

    name: str
    kind: Literal["model", "ensemble"]
    estimator: BaseEstimator
    search_space: dict | None

    @property
    def takes_groups(self) -> bool:
        """Whether ``fit`` takes the rows' patients (ensembles and calibrated models: grouped
        inner folds; see :func:`radiopipe.models.grouping.group_fit_params`)."""
        return isinstance(self.estimator, GroupedFit)


def make_classifier(
    model: ModelConfig,
    name: str | None = None,
    *,
    n_jobs: int = 1,
    seed: int = 0,
    dask_address: str | None = None,
) -> ClassifierMixin:
    """Return an unfitted zoo classifier with its configured hyperparameters.

    Parameters
    ----------
    model : ModelConfig
        Hyperparameters of every zoo model and the class-weight setting.
    name : str, optional
        Zoo model name; defaults to ``model.name``.
    n_jobs : int
        Threads the model may use (-1 for all cores).
    seed : int
        Random seed.
    dask_address : str, optional
        A Dask scheduler's address: XGBoost and LightGBM fit on its workers through their Dask
        estimators; the other models ignore it.

    Returns
    -------
    sklearn.base.ClassifierMixin
    """
    name = model.name if name is None else name
    if name not in ZOO:
        raise ValueError(f"'{name}' is not a zoo model; choose one of {', '.join(ZOO)}")
    class_weight = "balanced" if model.preprocessing.class_weight == "balanced" else None
    classifier = ZOO[name](model, class_weight, n_jobs, seed)
    if dask_address is not None and name in DASK_MODELS:
        classifier.set_params(dask_address=dask_address)
    return classifier


def make_candidate(
    model: ModelConfig,
    name: str,
    columns: InputColumns,
    *,
    n_jobs: int = 1,
    seed: int = 0,
    dask_address: str | None = None,
    perturbed: pd.DataFrame | None = None,
) -> Candidate:
    """The in-fold pipeline of zoo model ``name``, or the ensemble of that name.

    Parameters
    ----------
    model : ModelConfig
    name : str
        A zoo model or a configured ensemble.
    columns : InputColumns
        The model's input columns by role.
    n_jobs : int
        Threads per model.
    seed : int
    dask_address : str, optional
        Fit the boosters (alone or as ensemble members) on this Dask cluster.
    perturbed : pandas.DataFrame, optional
        The perturbed feature values the stability filter reads (``preprocessing.
        stability_threshold``), indexed by ``(case_id, perturbation)``.
    """
    if name in ZOO:
        classifier = make_classifier(
            model, name, n_jobs=n_jobs, seed=seed, dask_address=dask_address
        )
        estimator = _in_fold(classifier, model.preprocessing, columns, seed, perturbed)
        if isinstance(classifier, GroupedCalibratedClassifier):  # calibration wraps the pipeline
            space = {f"estimator__classifier__{key.removeprefix('estimator__')}": value
                     for key, value in SEARCH_SPACES[name].items()}
        else:
            space = {f"classifier__{key}": value for key, value in SEARCH_SPACES[name].items()}
        return Candidate(name, "model", estimator, space)
    config = next((e for e in model.ensembles if e.name == name), None)
    if config is None:
        raise ValueError(f"'{name}' is neither a zoo model nor a configured ensemble")
    ensemble = _ensemble(model, config, columns, n_jobs, seed, dask_address, perturbed)
    return Candidate(name, "ensemble", ensemble, None)


def _in_fold(classifier: ClassifierMixin, settings: PreprocessingConfig, columns: InputColumns,
             seed: int, perturbed: pd.DataFrame | None = None) -> BaseEstimator:
    """The in-fold pipeline around ``classifier``; a calibrated classifier's calibration wraps
    the whole pipeline, so every calibration fold refits the preprocessing on its own rows."""
    if isinstance(classifier, GroupedCalibratedClassifier):
        pipeline = build_pipeline(classifier.estimator, settings, columns, seed=seed,
                                  perturbed=perturbed)
        return classifier.set_params(estimator=pipeline)
    return build_pipeline(classifier, settings, columns, seed=seed, perturbed=perturbed)


def _ensemble(
    model: ModelConfig, config: EnsembleConfig, columns: InputColumns, n_jobs: int, seed: int,
    dask_address: str | None, perturbed: pd.DataFrame | None,
) -> ClassifierMixin:
    members = [
        (
            member,
            _in_fold(
                make_classifier(model, member, n_jobs=n_jobs, seed=seed, dask_address=dask_address),
                model.preprocessing, columns, seed, perturbed,
            ),
        )
        for member in config.members
    ]
    n_splits = model.cv.inner_splits
    if config.method == "stacking":
        return StackingEnsemble(members, meta_C=config.meta_C, n_splits=n_splits, random_state=seed)
    return SoftVotingEnsemble(members, weights=config.weights, n_splits=n_splits, random_state=seed)

"""Leakage: across every split of every design, every fitted step saw only training rows.

A spy transformer, placed first in every in-fold pipeline and again just before the classifier
(inside ensemble members too), logs the case ids of every ``fit`` and ``transform``. With
``n_jobs=1`` the (candidate, split) tasks run in order and each ends with the prediction of its
test rows, so the log splits into one segment per task: every fit of a segment (searches,
inner ensemble folds, calibration, the refit) must lie within that split's training rows. A third
spy sits right before the PCA of the CNN embedding columns, so the rows the PCA is fitted on are
checked too.
"""

from __future__ import annotations

import numpy as np
import pytest
from model_tasks import synthetic_task
from sklearn.base import BaseEstimator, TransformerMixin

from radiopipe.config import CVConfig, ModelConfig
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.validation import validate

LOG: list[tuple[str, frozenset]] = []


class RowSpy(TransformerMixin, BaseEstimator):
    """Passes data through, logging the case ids (DataFrame index) it is fitted on and sees."""

    def fit(self, X, y=None):
        LOG.append(("fit", frozenset(X.index)))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        LOG.append(("transform", frozenset(X.index)))
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


def _spied(pipeline):
    steps = list(pipeline.steps)
    names = [name for name, _ in steps]
    assert "embedding_pca" in names, "the task has CNN embedding columns: the PCA must be in-fold"
    steps.insert(names.index("embedding_pca"), ("spy_pca", RowSpy()))
    steps.insert(0, ("spy_first", RowSpy()))
    steps.insert(len(steps) - 1, ("spy_last", RowSpy()))
    return pipeline.set_params(steps=steps)


def _candidates(model, columns):
    candidates = []
    for name in model.candidates:
        candidate = make_candidate(model, name, columns, seed=0)
        if candidate.kind == "model":
            _spied(candidate.estimator)
        else:
            for _, member in candidate.estimator.estimators:
                _spied(member)
        candidates.append(candidate)
    return candidates


DESIGNS = {
    "nested_kfold": CVConfig(n_splits=3, inner_splits=2),
    "repeated_kfold": CVConfig(design="repeated_kfold", n_splits=3, n_repeats=2, inner_splits=2),
    "train_val_test": CVConfig(design="train_val_test", fractions=[0.6, 0.2, 0.2]),
    "external": CVConfig(design="external", external_sites=["east"], inner_splits=2),
}


@pytest.mark.parametrize("design", DESIGNS)
def test_every_fitted_step_saw_only_training_rows(design):
    cv = DESIGNS[design]
    combat = cv.design != "external"  # ComBat cannot adjust held-out sites
    X, y, groups, sites, columns = synthetic_task(90, clinical=True, combat=combat, embedding=6)
    model = ModelConfig(
        name="xgboost",
        compare=["stack"],
        ensembles=[{"name": "stack", "method": "stacking", "members": ["logistic", "xgboost"]}],
        xgboost={"n_estimators": 10},
        preprocessing={
            "harmonise": "combat" if combat else "none",
            "selection": "mrmr",
            "n_features": 4,
            "calibration": "sigmoid",
        },
        cv=cv,
        search={"n_iter": 2},
    )
    splits = design_splits(cv, y, groups, sites)
    settings = FitSettings(model.search, model.preprocessing.calibration, seed=0)
    LOG.clear()
    results = validate(_candidates(model, columns), X, y, groups, splits, settings, n_jobs=1)

    ids = X.index.to_numpy()
    position = 0
    for _ in results:
        for split in splits:
            train, test = frozenset(ids[split.train]), frozenset(ids[split.test])
            assert not {groups[i] for i in split.train} & {groups[i] for i in split.test}
            fits = 0
            while LOG[position] != ("transform", test):
                kind, rows = LOG[position]
                assert rows <= train, f"a step was {kind} on rows outside the training rows"
                fits += kind == "fit"
                position += 1
            while position < len(LOG) and LOG[position] == ("transform", test):
                position += 1
            assert fits > 0
    assert position == len(LOG)
    for result in results:
        assert result.tested.sum() == len(np.unique(np.concatenate([s.test for s in splits])))


def test_embedding_pca_is_fitted_on_the_training_rows_only():
    X, y, groups, sites, columns = synthetic_task(60, embedding=6)
    model = ModelConfig(name="logistic")
    splits = design_splits(CVConfig(n_splits=3), y, groups, sites)
    settings = FitSettings(model.search, model.preprocessing.calibration, seed=0)
    candidate = make_candidate(model, "logistic", columns, seed=0)
    embedding = X[list(columns.embedding)]
    for split in splits:
        fitted = fit_candidate(candidate, X.iloc[split.train], y[split.train],
                               groups[split.train], split.inner, settings).estimator
        pca = fitted.named_steps["embedding_pca"]
        np.testing.assert_allclose(pca.mean_, embedding.iloc[split.train].mean().to_numpy())
        assert not np.allclose(pca.mean_, embedding.mean().to_numpy())
        assert list(fitted.named_steps["scale"].get_feature_names_out())[-3:] == [
            "cnn__toy__pc1", "cnn__toy__pc2", "cnn__toy__pc3"
        ]

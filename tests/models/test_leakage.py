"""Leakage: across every split of every design, every fitted step saw only training rows.

A spy transformer, placed first in every in-fold pipeline and again just before the classifier
(inside ensemble members too), logs the case ids of every ``fit`` and ``transform``. With
``n_jobs=1`` the (candidate, split) tasks run in order and each ends with the prediction of its
test rows, so the log splits into one segment per task: every fit of a segment (searches,
inner ensemble folds, calibration, the refit) must lie within that split's training rows. A third
spy sits right before the PCA of the CNN embedding columns, so the rows the PCA is fitted on are
checked too. The stability filter logs the cases whose perturbed versions its ICC reads, checked
like a fit.

Calibration splits are spied on as well: every probability calibration (the SVM's own, the
configured one on top of any model, inside searches, ensembles and the refit) logs the case ids
on each side of its splits, and no patient may sit on both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_tasks import synthetic_task
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV

from radiopipe.config import CVConfig, ModelConfig
from radiopipe.errors import DataError
from radiopipe.models import calibration, fitting, stability
from radiopipe.models.designs import design_splits, grouped_kfold
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


def _perturbed(X, columns, versions=3):
    """Three versions of every case's image features: the case's values plus a little noise."""
    rng = np.random.default_rng(1)
    image = X[list(columns.image)]
    frames = [image + rng.normal(0, 0.1, image.shape) for _ in range(versions)]
    table = pd.concat(frames, keys=[f"v{v}" for v in range(versions)], names=["perturbation"])
    return table.swaplevel().sort_index(level=0, sort_remaining=False)


def _spy_on_stability(monkeypatch):
    training_icc = stability.StabilityFilter._training_icc

    def spied(self, cases):
        LOG.append(("stability", frozenset(cases)))
        return training_icc(self, cases)

    monkeypatch.setattr(stability.StabilityFilter, "_training_icc", spied)


def _candidates(model, columns, perturbed=None):
    candidates = []
    for name in model.candidates:
        candidate = make_candidate(model, name, columns, seed=0, perturbed=perturbed)
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
def test_every_fitted_step_saw_only_training_rows(design, monkeypatch):
    _spy_on_stability(monkeypatch)
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
            "stability_threshold": 0.5,
        },
        cv=cv,
        search={"n_iter": 2},
    )
    splits = design_splits(cv, y, groups, sites)
    settings = FitSettings(model.search, model.preprocessing.calibration, seed=0)
    LOG.clear()
    candidates = _candidates(model, columns, _perturbed(X, columns))
    results = validate(candidates, X, y, groups, splits, settings, n_jobs=1)
    assert sum(kind == "stability" for kind, _ in LOG) >= len(splits)

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


class CalibrationSpy(CalibratedClassifierCV):
    """scikit-learn's calibration, logging the case ids of each calibration split it fits."""

    def fit(self, X, y, **params):
        ids = X.index.to_numpy()
        CALIBRATIONS.extend((ids[train], ids[test]) for train, test in self.cv)
        return super().fit(X, y, **params)


CALIBRATIONS: list[tuple[np.ndarray, np.ndarray]] = []


@pytest.mark.parametrize("design", DESIGNS)
def test_no_patient_is_on_both_sides_of_a_calibration_split(design, monkeypatch):
    # The SVM's own Platt scaling, the same inside an ensemble, and the configured calibration
    # on top of every model; in searches, validation and the refit on every case.
    monkeypatch.setattr(calibration, "CalibratedClassifierCV", CalibrationSpy)
    monkeypatch.setattr(fitting, "CalibratedClassifierCV", CalibrationSpy)
    cv = DESIGNS[design]
    X, y, groups, sites, columns = synthetic_task(60)
    model = ModelConfig(
        name="svm",
        compare=["vote"],
        ensembles=[{"name": "vote", "members": ["logistic", "svm"], "weights": "fitted"}],
        svm={"calibration_splits": 4},
        preprocessing={"calibration": "sigmoid"},
        cv=cv,
        search={"n_iter": 2},
    )
    candidates = [make_candidate(model, name, columns, seed=0) for name in model.candidates]
    splits = design_splits(cv, y, groups, sites)
    settings = FitSettings(model.search, model.preprocessing.calibration, seed=0)
    CALIBRATIONS.clear()
    validate(candidates, X, y, groups, splits, settings, n_jobs=1)
    inner = grouped_kfold(y, groups, cv.inner_splits, cv.seed, lower=True)
    fit_candidate(candidates[0], X, y, groups, inner, settings)

    patient = dict(zip(X.index, groups))
    assert len(CALIBRATIONS) > 20  # searches, outer fits, ensemble members, the refit
    assert any(len(set(train)) != len({patient[i] for i in train}) for train, _ in CALIBRATIONS)
    for train, test in CALIBRATIONS:
        shared = {patient[i] for i in train} & {patient[i] for i in test}
        assert not shared, f"patients {sorted(shared)} on both sides of a calibration split"


def test_the_svm_calibration_folds_follow_the_setting_and_shrink_to_the_patients():
    X, y, groups, _, columns = synthetic_task(40)
    model = ModelConfig(name="svm", svm={"calibration_splits": 5})
    estimator = make_candidate(model, "svm", columns, seed=0).estimator
    fitted = clone(estimator).fit(X, y, patients=groups)
    assert fitted.n_splits_ == 5
    few = np.isin(groups, np.unique(groups[y == 1])[:3]) | (y == 0)
    fitted = clone(estimator).fit(X[few], y[few], patients=groups[few])
    assert fitted.n_splits_ == 3  # three patients of class 1


def test_a_class_with_one_patient_refuses_calibration_in_one_line():
    X, y, groups, _, columns = synthetic_task(40)
    estimator = make_candidate(ModelConfig(name="svm"), "svm", columns, seed=0).estimator
    one = np.isin(groups, np.unique(groups[y == 1])[:1]) | (y == 0)
    with pytest.raises(DataError, match=r"model\.svm\.calibration_splits needs every class in at "
                                        r"least 2 patients"):
        clone(estimator).fit(X[one], y[one], patients=groups[one])

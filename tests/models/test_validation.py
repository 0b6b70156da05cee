"""Validated candidates: a known signal is learned, shuffled labels are not, results repeat."""

from __future__ import annotations

import numpy as np
from model_tasks import synthetic_task

from radiopipe.config import CVConfig, ModelConfig, SearchConfig
from radiopipe.evaluate import bootstrap_intervals, classification_metrics
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.validation import validate

MODEL = ModelConfig(
    name="xgboost",
    compare=["logistic", "vote"],
    ensembles=[{"name": "vote", "members": ["xgboost", "logistic"], "weights": "fitted"}],
    xgboost={"n_estimators": 40},
)


def _run(X, y, groups, sites, columns, model=MODEL, n_iter=0):
    splits = design_splits(model.cv, y, groups, sites)
    candidates = [make_candidate(model, name, columns, seed=0) for name in model.candidates]
    settings = FitSettings(SearchConfig(n_iter=n_iter), seed=0)
    return validate(candidates, X, y, groups, splits, settings, n_jobs=1)


def _auc(result, y):
    tested = result.tested
    return classification_metrics(y[tested], result.proba[tested], ["a", "b"])["roc_auc"]


def test_a_known_signal_is_learned_by_every_candidate():
    X, y, groups, sites, columns = synthetic_task(120, signal=3.0)
    for result in _run(X, y, groups, sites, columns):
        assert _auc(result, y) > 0.9, result.name


def test_shuffled_labels_give_chance_auc():
    X, y, groups, sites, columns = synthetic_task(200, signal=3.0)
    patients, first = np.unique(groups, return_index=True)
    shuffled_class = np.random.default_rng(7).permutation(y[first])  # one label per patient
    y_shuffled = shuffled_class[np.searchsorted(patients, groups)]
    for result in _run(X, y_shuffled, groups, sites, columns):
        assert abs(_auc(result, y_shuffled) - 0.5) <= 0.1, result.name


def test_same_seed_same_data_same_metrics():
    X, y, groups, sites, columns = synthetic_task(60, n_classes=3, clinical=True)
    first = _run(X, y, groups, sites, columns, n_iter=2)
    second = _run(X, y, groups, sites, columns, n_iter=2)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.proba, b.proba)
        assert a.best_params == b.best_params
        tested = a.tested
        intervals = [
            bootstrap_intervals(y[tested], r.proba[tested], groups[tested], n_resamples=50,
                                seed=0).bounds
            for r in (a, b)
        ]
        assert intervals[0] == intervals[1]


def test_repeated_kfold_averages_and_single_splits_leave_training_rows_untested():
    X, y, groups, sites, columns = synthetic_task(60)
    model = MODEL.model_copy(update={"compare": [], "cv": CVConfig(design="repeated_kfold",
                                                                   n_splits=3, n_repeats=2)})
    (repeated,) = _run(X, y, groups, sites, columns, model)
    assert repeated.tested.all() and set(repeated.fold) == {0, 1, 2}
    model = MODEL.model_copy(update={"compare": [], "cv": CVConfig(design="train_val_test")})
    (single,) = _run(X, y, groups, sites, columns, model, n_iter=2)
    assert 0 < single.tested.sum() < len(y)
    assert (single.fold[~single.tested] == -1).all()
    assert set(single.best_params[0]) == {f"classifier__{k}" for k in (
        "n_estimators", "max_depth", "learning_rate", "subsample", "colsample_bytree",
        "min_child_weight", "reg_lambda")}

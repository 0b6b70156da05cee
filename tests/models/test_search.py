"""The classifier-only random search fits the preprocessing once per inner split and still makes
scikit-learn's choice: same candidates, same inner scores, same best hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest
from model_tasks import synthetic_task
from sklearn.model_selection import RandomizedSearchCV

from radiopipe.config import ModelConfig
from radiopipe.models.designs import grouped_kfold
from radiopipe.models.factory import make_candidate
from radiopipe.models.search import classifier_search, shares_preprocessing

MODEL = ModelConfig(
    name="logistic",
    preprocessing={"selection": "mrmr", "n_features": 4, "correlation_threshold": 0.9},
    xgboost={"n_estimators": 20},
    lightgbm={"n_estimators": 20},
)


@pytest.mark.parametrize("name", ["logistic", "random_forest", "xgboost"])
def test_scores_and_choice_equal_randomized_search_over_the_whole_pipeline(name):
    X, y, groups, _, columns = synthetic_task(40, n_features=12, signal=1.0, seed=3)
    candidate = make_candidate(MODEL, name, columns, seed=0)
    space = candidate.search_space
    if name == "random_forest":  # keep the forests small: the test is about the search
        space = {**space, "classifier__n_estimators": [10, 20]}
    inner = grouped_kfold(y, groups, 3, seed=1)
    assert shares_preprocessing(candidate.estimator, space)
    best, mean = classifier_search(candidate.estimator, space, X, y, inner, n_iter=6,
                                   scoring="roc_auc", seed=5)
    reference = RandomizedSearchCV(candidate.estimator, space, n_iter=6, scoring="roc_auc",
                                   cv=inner, refit=False, random_state=5, error_score="raise")
    reference.fit(X, y)
    np.testing.assert_allclose(mean, reference.cv_results_["mean_test_score"], rtol=1e-12)
    assert best == reference.best_params_


def test_ties_go_to_the_first_candidate_drawn():
    X, y, groups, _, columns = synthetic_task(30, n_features=6, seed=2)
    candidate = make_candidate(MODEL, "logistic", columns, seed=0)
    space = {"classifier__C": [1.0, 1.0, 1.0]}  # equal scores: the first drawn wins
    inner = grouped_kfold(y, groups, 3, seed=0)
    best, mean = classifier_search(candidate.estimator, space, X, y, inner, n_iter=3,
                                   scoring="roc_auc", seed=0)
    assert np.all(mean == mean[0]) and best == {"classifier__C": 1.0}


def test_searches_it_cannot_share_are_left_to_scikit_learn():
    _, _, _, _, columns = synthetic_task(20, seed=0)
    logistic = make_candidate(MODEL, "logistic", columns, seed=0)
    assert not shares_preprocessing(logistic.estimator, {"select__n_features": [2, 4]})
    assert not shares_preprocessing(logistic.estimator, {})
    svm = make_candidate(MODEL, "svm", columns, seed=0)  # calibration wraps the pipeline
    assert not shares_preprocessing(svm.estimator, svm.search_space)
    smote = MODEL.model_copy(update={"preprocessing": MODEL.preprocessing.model_copy(
        update={"smote": True})})
    resampled = make_candidate(smote, "logistic", columns, seed=0)
    assert not shares_preprocessing(resampled.estimator, resampled.search_space)

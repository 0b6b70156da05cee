"""Soft voting and stacking: weights and meta-learner fitted on inner, patient-grouped folds."""

from __future__ import annotations

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from radiopipe.models.ensembles import (
    SoftVotingEnsemble,
    StackingEnsemble,
    fit_vote_weights,
    inner_member_proba,
)


def _task(seed=0, n=120):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = np.column_stack([y + 0.4 * rng.normal(size=n), rng.normal(size=n)])
    return X, y


def test_vote_weights_favour_the_informative_member():
    y = np.array([0, 1] * 20)
    good = np.column_stack([1 - y, y]) * 0.8 + 0.1
    useless = np.full((40, 2), 0.5)
    weights = fit_vote_weights(np.stack([useless, good]), y)
    assert weights[1] > 0.95 and np.isclose(weights.sum(), 1.0)


def test_equal_weights_average_the_members():
    X, y = _task()
    members = [("a", LogisticRegression()), ("b", DummyClassifier(strategy="prior"))]
    model = SoftVotingEnsemble(members).fit(X, y)
    expected = (LogisticRegression().fit(X, y).predict_proba(X)
                + DummyClassifier(strategy="prior").fit(X, y).predict_proba(X)) / 2
    np.testing.assert_allclose(model.predict_proba(X), expected)


def test_fixed_weights_are_normalised():
    X, y = _task()
    members = [("a", LogisticRegression()), ("b", DummyClassifier())]
    model = SoftVotingEnsemble(members, weights=[3.0, 1.0]).fit(X, y)
    np.testing.assert_allclose(model.weights_, [0.75, 0.25])


def test_fitted_weights_and_stacking_learn_the_task():
    X, y = _task()
    members = [("logistic", LogisticRegression()), ("prior", DummyClassifier())]
    vote = SoftVotingEnsemble(members, weights="fitted").fit(X, y)
    assert vote.weights_[0] > 0.9
    stack = StackingEnsemble(members).fit(X, y)
    assert (stack.predict(X) == y).mean() > 0.8


def test_inner_folds_keep_a_patients_rows_together():
    # Rows of one patient share their features and label, and labels carry no signal: a
    # 1-nearest-neighbour member is perfect only if a patient's rows straddle an inner split.
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(40), 3)
    labels = rng.integers(0, 2, 40)[patients]
    X = rng.normal(size=(40, 5))[patients]
    members = [("knn", KNeighborsClassifier(n_neighbors=1))]
    grouped = inner_member_proba(members, X, labels, patients, n_splits=3, seed=0)
    ungrouped = inner_member_proba(members, X, labels, None, n_splits=3, seed=0)
    accuracy = lambda p: (p[0].argmax(axis=1) == labels).mean()  # noqa: E731
    assert accuracy(ungrouped) > 0.85
    assert accuracy(grouped) < 0.75

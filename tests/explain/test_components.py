"""SHAP values of a CNN embedding's principal components: the fold model's own components, one
value each, summing to the embedding's feature, for every explainer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV

from radiopipe.config import ModelConfig
from radiopipe.explain.anatomy import embedding_pca
from radiopipe.explain.explainers import _component_players, explain
from radiopipe.explain.heldout import explain_held_out
from radiopipe.explain.store import read_explanation, write_explanation
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.infold import InputColumns
from radiopipe.models.inputs import ModelInputs
from radiopipe.models.validation import predict_codes, validate

RADIOMICS = ("original__firstorder__Mean", "original__glcm__Contrast")
EMBEDDING = tuple(f"cnn__toy__e{j}" for j in range(6))
GROUP = "cnn__toy__embedding"
COLUMNS = InputColumns(image=RADIOMICS, embedding=EMBEDDING, embedding_components=3)
MODEL = ModelConfig.model_validate(
    {
        "xgboost": {"n_estimators": 20},
        "ensembles": [{"name": "vote", "members": ["logistic", "svm"]}],
        "cv": {"n_splits": 3, "seed": 0},
    }
)


def _task(n: int = 45):
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(n, len(COLUMNS.order))), columns=COLUMNS.order,
                     index=pd.Index([f"c{i:02d}" for i in range(n)], name="case_id"))
    X.iloc[:, 2:] += rng.normal(size=(n, 1)) * np.linspace(1.0, 2.0, len(EMBEDDING))
    y = (X["cnn__toy__e0"] + X["cnn__toy__e3"] + 0.5 * X[RADIOMICS[0]] > 0).to_numpy(np.int64)
    return X, y


def _fitted(name: str, X, y):
    return clone(make_candidate(MODEL, name, COLUMNS).estimator).fit(X, y)


@pytest.mark.parametrize("name", ["xgboost", "logistic", "svm", "vote"])
def test_component_values_sum_to_the_embeddings_value(name):
    X, y = _task()
    estimator = _fitted(name, X, y)
    explanation = explain(estimator, X.head(4), ["no", "yes"], max_evals=40)
    assert explanation.components == ("cnn__toy__pc1", "cnn__toy__pc2", "cnn__toy__pc3")
    group = explanation.features.index(GROUP)
    np.testing.assert_allclose(explanation.component_values.sum(axis=1),
                               explanation.values[:, group, :], rtol=1e-12, atol=1e-12)
    assert np.abs(explanation.component_values).max() > 0
    if explanation.method.startswith("permutation"):  # probabilities add up exactly
        proba = predict_codes(estimator, X.head(4), 2)[:, 1]
        np.testing.assert_allclose(explanation.model_output[:, 0], proba, atol=1e-9)


def test_a_left_out_component_takes_the_references_score_and_the_others_keep_the_cases():
    X, y = _task()
    estimator = _fitted("svm", X, y)
    players = _component_players(estimator, X)
    pca = embedding_pca(estimator)
    case = X.iloc[0]
    typical = X.median()
    on = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1]])
    scores = (players.embeddings(case, typical, on) - pca.mean_) @ pca.components_.T
    own = (case[list(EMBEDDING)].to_numpy(float) - pca.mean_) @ pca.components_.T
    reference = (typical[list(EMBEDDING)].to_numpy(float) - pca.mean_) @ pca.components_.T
    np.testing.assert_allclose(scores, np.where(on == 1, own, reference), atol=1e-12)


def test_pipelines_with_different_pcas_explain_the_embedding_as_one_feature():
    X, y = _task()
    svm = clone(make_candidate(MODEL, "svm", COLUMNS).estimator)
    calibrated = CalibratedClassifierCV(svm, cv=3, ensemble=True).fit(X, y)  # three fits
    assert embedding_pca(calibrated) is None
    explanation = explain(calibrated, X.head(2), ["no", "yes"], max_evals=20)
    assert explanation.components == () and explanation.component_values is None
    assert GROUP in explanation.features


def test_held_out_components_come_with_their_fold_models_pca(tmp_path):
    X, y = _task()
    groups = np.asarray([f"p{i}" for i in range(len(y))], dtype=object)
    inputs = ModelInputs(X, y, groups, np.full(len(y), None, dtype=object), COLUMNS)
    model = MODEL.model_copy(update={"name": "logistic"})
    splits = design_splits(model.cv, y, groups, inputs.sites)
    candidate = make_candidate(model, "logistic", COLUMNS, seed=0)
    settings = FitSettings(model.search, model.preprocessing.calibration, model.cv.seed)
    (result,) = validate([candidate], X, y, groups, splits, settings,
                         keep_models=frozenset({"logistic"}))
    fold_models = [(s.fold, m) for s, m in zip(splits, result.models) if s.repeat == 0]
    held = explain_held_out(inputs, ["no", "yes"], fold_models, result.fold, result.proba,
                            budget_rows=np.zeros(len(y), dtype=bool), max_evals=10, seed=0)
    assert sorted(held.embedding_pcas) == [0, 1, 2]
    explanation = held.explanation
    assert explanation.component_values.shape == (len(y), 3, 1)
    # each fold's PCA differs: its components are the fold model's own
    assert not np.allclose(held.embedding_pcas[0].components_, held.embedding_pcas[1].components_)
    group = explanation.features.index(GROUP)
    np.testing.assert_allclose(explanation.component_values.sum(axis=1),
                               explanation.values[:, group, :], atol=1e-12)
    path = write_explanation(tmp_path / "shap.parquet", explanation, held.folds, {})
    back, _, meta = read_explanation(path)
    assert back.features == explanation.features and back.components == explanation.components
    assert meta["components"] == list(explanation.components)
    np.testing.assert_array_equal(back.component_values, explanation.component_values)

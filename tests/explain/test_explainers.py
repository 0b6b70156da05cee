"""SHAP values per model family: they add up to the model's output, in its own output space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from radiopipe.config import ModelConfig
from radiopipe.explain.anatomy import anatomy
from radiopipe.explain.explainers import (
    LOG_ODDS,
    PROBABILITY,
    SOFTMAX_INPUT,
    explain,
    shap_module,
    xgboost_contributions,
)
from radiopipe.models.factory import make_candidate
from radiopipe.models.infold import InputColumns
from radiopipe.models.validation import predict_codes

N_ROWS = 90
MODEL = ModelConfig.model_validate(
    {
        "xgboost": {"n_estimators": 25},
        "lightgbm": {"n_estimators": 25, "min_child_samples": 5},
        "random_forest": {"n_estimators": 25},
        "ensembles": [{"name": "vote", "members": ["xgboost", "logistic"]}],
        "preprocessing": {"selection": "univariate", "n_features": 4},
    }
)


def _task(n_classes: int):
    rng = np.random.default_rng(n_classes)
    X = pd.DataFrame(rng.normal(size=(N_ROWS, 7)),
                     columns=[f"original__firstorder__f{i}" for i in range(7)],
                     index=pd.Index([f"c{i:03d}" for i in range(N_ROWS)], name="case_id"))
    y = (X.iloc[:, 0] + 0.7 * X.iloc[:, 1] > 0).to_numpy(dtype=np.int64)
    if n_classes == 3:
        y[X.iloc[:, 2].to_numpy() > 0.6] = 2
    return X, y, [f"k{i}" for i in range(n_classes)]


def _fitted(name: str, X, y):
    candidate = make_candidate(MODEL, name, InputColumns(image=tuple(X.columns)))
    return clone(candidate.estimator).fit(X, y)


def _margin(estimator, X) -> np.ndarray:
    """The boosters' and the logistic model's raw output, computed without SHAP."""
    parts = anatomy(estimator)
    inputs = parts.transform(X).to_numpy(dtype=np.float64)
    model = parts.classifier
    if hasattr(model, "decision_function"):
        out = model.decision_function(parts.transform(X))
    elif hasattr(model.booster_, "num_boosted_rounds"):
        from xgboost import DMatrix

        out = model.booster_.predict(DMatrix(inputs), output_margin=True)
    else:
        out = model.booster_.predict(inputs, raw_score=True)
    return np.asarray(out).reshape(len(X), -1)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "random_forest"])
def test_tree_shap_adds_up_to_the_model_output_for_every_case(name, n_classes):
    X, y, classes = _task(n_classes)
    estimator = _fitted(name, X, y)
    explanation = explain(estimator, X, classes)
    assert explanation.method.startswith("tree")
    if name == "random_forest":
        assert explanation.output_space == PROBABILITY
        proba = predict_codes(estimator, X, n_classes)
        expected = proba[:, 1:] if n_classes == 2 else proba
    else:
        assert explanation.output_space == (LOG_ODDS if n_classes == 2 else SOFTMAX_INPUT)
        expected = _margin(estimator, X)
    assert explanation.outputs == (("k1",) if n_classes == 2 else tuple(classes))
    np.testing.assert_allclose(explanation.model_output, expected, rtol=0, atol=1e-4)


def test_features_the_selection_drops_get_zero():
    X, y, classes = _task(2)
    explanation = explain(_fitted("xgboost", X, y), X, classes)
    used = np.abs(explanation.values).sum(axis=(0, 2)) > 0
    assert explanation.features == tuple(X.columns)
    assert used.sum() <= 4  # univariate selection of 4 features in the pipeline


def test_xgboost_contributions_equal_shap_tree_explainer():
    # The GPU path computes the same TreeSHAP; on the CPU both must agree to float precision.
    X, y, _ = _task(3)
    estimator = _fitted("xgboost", X, y)
    parts = anatomy(estimator)
    inputs = parts.transform(X).to_numpy(dtype=np.float64)
    values, base = xgboost_contributions(parts.classifier.booster_, inputs, device="cpu")
    reference = shap_module().TreeExplainer(parts.classifier.booster_)(inputs)
    np.testing.assert_allclose(values, reference.values, atol=1e-5)
    np.testing.assert_allclose(base, reference.base_values, atol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_linear_shap_is_the_coefficient_times_the_distance_to_the_reference(n_classes):
    X, y, classes = _task(n_classes)
    estimator = _fitted("logistic", X, y)
    explanation = explain(estimator, X, classes)
    parts = anatomy(estimator)
    inputs = parts.transform(X)
    medians = X.median()  # the reference: the imputer's training medians
    reference = parts.transform(pd.DataFrame([medians] * len(X), index=X.index))
    coef = parts.classifier.coef_
    expected = (inputs.to_numpy() - reference.to_numpy())[:, :, None] * coef.T[None]
    columns = [list(X.columns).index(c) for c in inputs.columns]
    np.testing.assert_allclose(explanation.values[:, columns, :], expected, atol=1e-10)
    np.testing.assert_allclose(explanation.model_output, _margin(estimator, X), atol=1e-10)


@pytest.mark.parametrize("name", ["svm", "vote"])
def test_permutation_shap_adds_up_to_the_probability(name):
    X, y, classes = _task(3)
    estimator = _fitted(name, X, y)
    rows = X.iloc[:6]
    state = np.random.get_state()
    explanation = explain(estimator, rows, classes, max_evals=60, seed=3)
    assert explanation.output_space == PROBABILITY
    assert explanation.method.startswith("permutation")
    np.testing.assert_allclose(explanation.model_output, predict_codes(estimator, rows, 3),
                               atol=1e-10)
    again = explain(estimator, rows, classes, max_evals=60, seed=3)
    np.testing.assert_array_equal(again.values, explanation.values)
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1])  # global RNG untouched


def test_a_categorical_clinical_column_is_one_feature():
    X, y, classes = _task(2)
    X = X.assign(clinical__sex=np.where(np.arange(N_ROWS) % 3 == 0, "F", "M").astype(object))
    columns = InputColumns(image=tuple(X.columns[:-1]), categorical=("clinical__sex",))
    config = ModelConfig.model_validate({"logistic": {"C": 1.0}})
    estimator = clone(make_candidate(config, "logistic", columns).estimator).fit(X, y)
    explanation = explain(estimator, X, classes)
    assert explanation.features[-1] == "clinical__sex"
    np.testing.assert_allclose(explanation.model_output, _margin(estimator, X), atol=1e-10)


@pytest.mark.gpu
def test_xgboost_on_cuda_explains_with_its_gpu_contributions():
    X, y, classes = _task(3)
    model = ModelConfig.model_validate({"xgboost": {"n_estimators": 25, "device": "cuda"}})
    columns = InputColumns(image=tuple(X.columns))
    estimator = clone(make_candidate(model, "xgboost", columns).estimator).fit(X, y)
    explanation = explain(estimator, X, classes)
    assert explanation.method == "tree (XGBoost GPU contributions)"
    np.testing.assert_allclose(explanation.model_output, _margin(estimator, X), rtol=0, atol=1e-4)

"""Held-out explanations: each row explained by the kept fold model that tested it, which predicts
exactly what validation predicted, without fitting anything."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiopipe.config import ModelConfig
from radiopipe.explain.heldout import explain_held_out
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.infold import InputColumns
from radiopipe.models.inputs import ModelInputs
from radiopipe.models.validation import validate

CLASSES = ["a", "b"]


def _inputs(n=48):
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"original__glcm__f{i}" for i in range(5)],
                     index=pd.Index([f"c{i:02d}" for i in range(n)], name="case_id"))
    y = (X.iloc[:, 0] + 0.5 * rng.normal(size=n) > 0).to_numpy(dtype=np.int64)
    groups = np.asarray([f"p{i // 2}" for i in range(n)], dtype=object)
    columns = InputColumns(image=tuple(X.columns))
    return ModelInputs(X, y, groups, np.full(n, None, dtype=object), columns)


def _validated(model: ModelConfig, inputs: ModelInputs):
    splits = design_splits(model.cv, inputs.y, inputs.groups, inputs.sites)
    candidate = make_candidate(model, model.name, inputs.columns, seed=model.cv.seed)
    settings = FitSettings(model.search, model.preprocessing.calibration, model.cv.seed)
    (result,) = validate([candidate], inputs.X, inputs.y, inputs.groups, splits, settings,
                         keep_models=frozenset({model.name}))
    fold_models = [(s.fold, m) for s, m in zip(splits, result.models) if s.repeat == 0]
    return result, fold_models


def _explain(inputs, result, fold_models, budget, max_evals):
    return explain_held_out(inputs, CLASSES, fold_models, result.fold, result.proba,
                            budget_rows=budget, max_evals=max_evals, seed=0)


@pytest.mark.parametrize("design", [{"n_splits": 3}, {"design": "train_val_test"}])
def test_tree_models_explain_every_held_out_row_with_the_validated_models(design):
    model = ModelConfig.model_validate({
        "name": "lightgbm", "lightgbm": {"n_estimators": 20, "min_child_samples": 3},
        "cv": {**design, "seed": 1}, "search": {"n_iter": 2},
    })
    inputs = _inputs()
    result, fold_models = _validated(model, inputs)
    held = _explain(inputs, result, fold_models, np.zeros(len(inputs.y), dtype=bool), 10)
    tested = np.flatnonzero(result.tested)
    assert held.explanation.case_ids == tuple(inputs.X.index[tested])
    assert held.folds.tolist() == result.fold[tested].tolist()
    assert held.model_difference == 0.0  # the validated models themselves
    margin = held.explanation.model_output[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-margin)), result.proba[tested, 1], atol=1e-9)


def test_model_agnostic_explanations_stay_within_the_row_budget():
    model = ModelConfig.model_validate({
        "name": "vote", "ensembles": [{"name": "vote", "members": ["logistic", "svm"]}],
        "cv": {"n_splits": 3, "seed": 0},
    })
    inputs = _inputs(36)
    result, fold_models = _validated(model, inputs)
    budget = np.zeros(36, dtype=bool)
    budget[[1, 7, 20, 33]] = True
    held = _explain(inputs, result, fold_models, budget, 11)
    assert held.explanation.case_ids == ("c01", "c07", "c20", "c33")
    assert held.explanation.method.startswith("permutation")
    assert held.model_difference == 0.0
    np.testing.assert_allclose(held.explanation.model_output[:, 0], result.proba[budget, 1],
                               atol=1e-9)


def _forbid_fit(monkeypatch, estimator, calls):
    """Make ``fit`` of every estimator class inside ``estimator`` record the call and fail."""
    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        raise AssertionError(f"{type(self).__name__}.fit called while explaining")

    seen = set()

    def walk(obj):
        if id(obj) in seen or not hasattr(obj, "get_params"):
            return
        seen.add(id(obj))
        for name in ("fit", "fit_transform"):
            if hasattr(type(obj), name):
                monkeypatch.setattr(type(obj), name, spy)
        for value in obj.get_params(deep=False).values():
            for item in value if isinstance(value, list) else [value]:
                walk(item[1] if isinstance(item, tuple) else item)

    walk(estimator)


@pytest.mark.parametrize("name", ["lightgbm", "logistic"])
def test_explaining_held_out_rows_fits_nothing(monkeypatch, name):
    model = ModelConfig.model_validate({
        "name": name, "lightgbm": {"n_estimators": 20, "min_child_samples": 3},
        "cv": {"n_splits": 3, "seed": 1}, "search": {"n_iter": 2},
    })
    inputs = _inputs()
    result, fold_models = _validated(model, inputs)
    calls = []
    for _, fitted in fold_models:
        _forbid_fit(monkeypatch, fitted, calls)
    monkeypatch.setattr("sklearn.base.clone", lambda *a, **k: pytest.fail("clone called"))
    held = _explain(inputs, result, fold_models, np.zeros(len(inputs.y), dtype=bool), 10)
    assert calls == [] and held.model_difference == 0.0
    assert len(held.explanation.case_ids) == len(inputs.y)

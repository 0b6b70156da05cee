"""Dissecting fitted estimators: explainer choice, reference case, feature mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from radiopipe.config import ModelConfig
from radiopipe.explain.anatomy import (
    anatomy,
    explained_features,
    feature_of,
    reference_frame,
    used_features,
)
from radiopipe.models.factory import make_candidate
from radiopipe.models.infold import InputColumns

COLUMNS = ["original__firstorder__Mean", "original__glcm__Contrast", "original__glszm__ZoneEntropy"]


def _data():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=COLUMNS)
    X.iloc[3, 1] = np.nan
    return X, (X.iloc[:, 0] > 0).to_numpy(dtype=np.int64)


@pytest.mark.parametrize(
    ("settings", "name", "method"),
    [
        ({}, "xgboost", "tree"),
        ({}, "random_forest", "tree"),
        ({}, "logistic", "linear"),
        ({}, "svm", "permutation"),
        ({"preprocessing": {"calibration": "sigmoid"}}, "xgboost", "permutation"),
        ({"preprocessing": {"smote": True, "smote_neighbours": 2}}, "xgboost", "tree"),
    ],
)
def test_the_explainer_follows_the_model_family(settings, name, method):
    X, y = _data()
    model = ModelConfig.model_validate({"xgboost": {"n_estimators": 5},
                                        "random_forest": {"n_estimators": 5}, **settings})
    estimator = clone(make_candidate(model, name, InputColumns(image=tuple(COLUMNS))).estimator)
    if settings.get("preprocessing", {}).get("calibration"):
        from sklearn.calibration import CalibratedClassifierCV

        estimator = CalibratedClassifierCV(estimator, cv=2)
    estimator.fit(X, y)
    assert anatomy(estimator).method == method


def test_the_reference_is_the_imputers_training_median():
    X, y = _data()
    model = ModelConfig.model_validate({"xgboost": {"n_estimators": 5}})
    columns = InputColumns(image=tuple(COLUMNS))
    estimator = clone(make_candidate(model, "xgboost", columns).estimator).fit(X, y)
    reference = reference_frame(estimator, X.head(2))
    np.testing.assert_allclose(reference.to_numpy(), np.tile(X.median().to_numpy(), (2, 1)))


def test_classifier_inputs_map_back_to_explained_features():
    raw = ["original__glcm__Contrast", "clinical__sex", "cnn__resnet18__e0", "cnn__resnet18__e1"]
    assert explained_features(raw) == [
        "original__glcm__Contrast", "clinical__sex", "cnn__resnet18__embedding",
    ]
    assert feature_of("original__glcm__Contrast", raw) == "original__glcm__Contrast"
    assert feature_of("clinical__sex_F", raw) == "clinical__sex"
    assert feature_of("cnn__resnet18__pc2", raw) == "cnn__resnet18__embedding"
    with pytest.raises(ValueError, match="comes from no model input column"):
        feature_of("something_else", raw)


def test_used_features_are_those_the_selection_keeps():
    X, y = _data()
    model = ModelConfig.model_validate(
        {"preprocessing": {"selection": "univariate", "n_features": 1}}
    )
    estimator = clone(make_candidate(model, "svm", InputColumns(image=tuple(COLUMNS))).estimator)
    estimator.fit(X, y)
    assert used_features(estimator, X) == ["original__firstorder__Mean"]

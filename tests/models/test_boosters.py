"""The booster wrappers: any labels, class weights, native boosters, the zoo's names."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.config import MODEL_NAMES, ModelConfig
from radiopipe.models.boosters import LightGBMClassifier, XGBoostClassifier
from radiopipe.models.factory import make_classifier
from radiopipe.models.zoo import SEARCH_SPACES, ZOO


def _imbalanced(seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["rare"] * 15 + ["common"] * 135)
    X = rng.normal(size=(150, 3)) + 0.8 * (y == "rare")[:, None]
    return X, y


@pytest.mark.parametrize("cls", [XGBoostClassifier, LightGBMClassifier])
def test_string_labels_and_balanced_weights(cls):
    X, y = _imbalanced()
    plain = cls(n_estimators=30).fit(X, y)
    balanced = cls(n_estimators=30, class_weight="balanced").fit(X, y)
    assert list(plain.classes_) == ["common", "rare"]
    assert set(plain.predict(X)) <= {"common", "rare"}
    rare = list(plain.classes_).index("rare")
    # Weighting the rare class up raises its predicted probability on average.
    assert balanced.predict_proba(X)[:, rare].mean() > plain.predict_proba(X)[:, rare].mean()
    np.testing.assert_allclose(plain.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)


def test_xgboost_booster_is_native_and_multiclass_works():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 90)
    X = rng.normal(size=(90, 4)) + y[:, None]
    model = XGBoostClassifier(n_estimators=20).fit(X, y)
    assert type(model.get_booster()).__name__ == "Booster"
    assert model.predict_proba(X).shape == (90, 3)
    assert (model.predict(X) == y).mean() > 0.8


def test_same_seed_same_booster():
    X, y = _imbalanced()
    for cls in (XGBoostClassifier, LightGBMClassifier):
        a = cls(n_estimators=20, random_state=3).fit(X, y).predict_proba(X)
        b = cls(n_estimators=20, random_state=3).fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(a, b)


def test_the_zoo_covers_every_config_name_and_search_space():
    assert tuple(ZOO) == MODEL_NAMES
    assert set(SEARCH_SPACES) == set(MODEL_NAMES)
    config = ModelConfig()
    for name in MODEL_NAMES:
        model = make_classifier(config, name)
        params = model.get_params()
        assert set(SEARCH_SPACES[name]) <= set(params), name


def test_boosters_take_the_configured_device():
    config = ModelConfig(xgboost={"device": "cuda"}, lightgbm={"device": "cuda"})
    assert make_classifier(config, "xgboost").device == "cuda"
    assert make_classifier(config, "lightgbm").device == "cuda"


def test_unknown_zoo_name_is_a_clear_error():
    with pytest.raises(ValueError, match="'catboost' is not a zoo model"):
        make_classifier(ModelConfig(), "catboost")

"""GPU models: XGBoost with ``device: cuda`` trains and predicts where a GPU exists."""

from __future__ import annotations

import json

import numpy as np
import pytest

from radiopipe.config import ModelConfig, XGBoostParams
from radiopipe.models.factory import make_classifier


@pytest.mark.gpu
def test_xgboost_trains_on_the_gpu():
    pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 8))
    labels = (features[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    model = make_classifier(ModelConfig(xgboost=XGBoostParams(device="cuda", n_estimators=20)))
    model.fit(features, labels)
    config = json.loads(model.get_booster().save_config())
    assert config["learner"]["generic_param"]["device"].startswith("cuda")
    assert (model.predict(features) == labels).mean() > 0.8

"""Contribution maps: where in the ROI the top features take values that push the prediction,
in log-odds of the explained class, by the model that predicted the case."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from radiopipe.config import FeatureConfig, FeatureMapConfig, ModelConfig
from radiopipe.explain.anatomy import reference_frame
from radiopipe.explain.case_maps import top_features
from radiopipe.explain.contribution_maps import CaseModel, contribution_map
from radiopipe.explain.explainers import explain
from radiopipe.explain.feature_maps import CONTRIBUTION, feature_maps
from radiopipe.explain.local_values import KERNELS, WINDOWS
from radiopipe.features.engine import extract_features
from radiopipe.io import Volume
from radiopipe.models.factory import make_candidate
from radiopipe.models.infold import InputColumns
from radiopipe.models.validation import predict_codes

SPATIAL = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
SETTINGS = FeatureConfig(families=["firstorder", "glcm"], bin_width=5)
CLASSES = ["smooth", "textured"]
SIZE, RADIUS = 19, 7


def _sphere() -> np.ndarray:
    grid = np.indices((SIZE,) * 3) - SIZE // 2
    return (grid**2).sum(axis=0) <= RADIUS**2


def _image(rng, textured: np.ndarray) -> np.ndarray:
    """Intensity 100 everywhere; coarse noise (sd 30) where ``textured``, fine (sd 3) elsewhere."""
    return 100 + np.where(textured, rng.normal(0, 30, textured.shape),
                          rng.normal(0, 3, textured.shape))


def _volumes(image: np.ndarray):
    return Volume(image, *SPATIAL), Volume(_sphere().astype(np.uint8), *SPATIAL)


@pytest.fixture(scope="module")
def model():
    """An XGBoost model of radiopipe's own factory, fitted on 30 smooth and 30 textured ROIs."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for k in range(60):
        label = k % 2
        image = _image(rng, np.full((SIZE,) * 3, bool(label)))
        rows.append(extract_features(*_volumes(image), SETTINGS))
        labels.append(label)
    X = pd.DataFrame(rows, index=pd.Index([f"c{k:02d}" for k in range(60)], name="case_id"))
    X = X[[c for c in X.columns if "__shape__" not in c]]
    config = ModelConfig.model_validate({"xgboost": {"n_estimators": 25}})
    candidate = make_candidate(config, "xgboost", InputColumns(image=tuple(X.columns)))
    return clone(candidate.estimator).fit(X, np.asarray(labels)), list(X.columns)


def test_the_contribution_is_higher_in_the_textured_half_of_the_roi(model):
    estimator, columns = model
    half = np.zeros((SIZE,) * 3, dtype=bool)
    half[:, :, : SIZE // 2] = True  # columns left of the centre: textured
    image = _image(np.random.default_rng(1), half)
    features = extract_features(*_volumes(image), SETTINGS)
    row = pd.DataFrame([features], index=pd.Index(["half"], name="case_id"))[columns]
    explanation = explain(estimator, row, CLASSES)
    top = top_features(explanation, "half", "textured", FeatureMapConfig())
    maps = feature_maps(*_volumes(image), top, SETTINGS, window=5)
    item = contribution_map(maps, CaseModel(estimator, row, CLASSES, "textured"))
    assert item.kind == CONTRIBUTION and item.output == "textured"
    assert item.feature == " + ".join(top)
    shown = np.isfinite(item.values)
    assert (shown == (maps[0].window_voxels > 0)).all()
    columns_of = np.indices(item.values.shape)[1]
    centre = np.argwhere(item.roi).mean(axis=0)[1]
    textured = item.values[shown & (columns_of < centre)].mean()
    smooth = item.values[shown & (columns_of > centre)].mean()
    print(f"mean contribution (log-odds of textured): textured half {textured:+.2f}, "
          f"smooth half {smooth:+.2f}, odds ratio {np.exp(textured - smooth):.3g}")
    assert textured > 0 > smooth
    assert np.exp(textured - smooth) > 4  # the textured half's windows give 4x the odds


def test_a_window_holding_the_whole_roi_contributes_what_the_whole_roi_does(model):
    """With every window holding the whole ROI, each voxel's contribution is the case's own:
    the window values (extensive ones per voxel, times the ROI's voxel count) are the case's
    features, so the map equals logit(case) - logit(reference)."""
    estimator, columns = model
    rng = np.random.default_rng(3)
    image = 100 + rng.normal(0, 15, (9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    volume, mask = Volume(image, *SPATIAL), Volume(roi, *SPATIAL)
    row = pd.DataFrame([extract_features(volume, mask, SETTINGS)],
                       index=pd.Index(["small"], name="case_id"))[columns]
    wanted = ["original__firstorder__Energy", "original__glcm__Contrast",
              "original__firstorder__Variance"]
    maps = feature_maps(volume, mask, wanted, SETTINGS, window=7, min_coverage=0.05)
    item = contribution_map(maps, CaseModel(estimator, row, CLASSES, "textured"))
    np.testing.assert_allclose(item.values[item.roi], item.whole_roi, atol=1e-9)
    assert item.engine == KERNELS  # the local maps' engine, named once
    mixed = [maps[0], replace(maps[1], engine=WINDOWS), maps[2]]
    assert contribution_map(mixed, CaseModel(estimator, row, CLASSES, "textured")).engine == (
        f"{KERNELS} + {WINDOWS}")
    reference = row.copy()
    reference[wanted] = reference_frame(estimator, row)[wanted]
    logit = [np.log(p / (1 - p)) for p in (predict_codes(estimator, X, 2)[0, 1]
                                           for X in (row, reference))]
    assert item.whole_roi == pytest.approx(logit[0] - logit[1], abs=1e-9)


def test_no_contribution_map_without_a_mapped_model_input(model):
    estimator, columns = model
    row = pd.DataFrame([np.zeros(len(columns))], columns=columns)
    assert contribution_map([], CaseModel(estimator, row, CLASSES, "textured")) is None

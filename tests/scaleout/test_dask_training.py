"""Boosters fitted through their libraries' Dask estimators, alone and inside the train stage."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the Dask tests need the 'dask' extra")

import pandas as pd
from distributed import Client, LocalCluster

import radiopipe as rp
from radiopipe.config import CVConfig, ModelConfig, SearchConfig
from radiopipe.models.boosters import LightGBMClassifier, XGBoostClassifier
from radiopipe.models.bundle import load_bundle
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.infold import InputColumns
from radiopipe.models.validation import validate
from radiopipe.scaleout.cluster import DaskCluster


def _two_workers() -> LocalCluster:
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")


@pytest.fixture(scope="module")
def local_cluster():
    with _two_workers() as cluster:
        yield cluster


def _rows(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0, "b", "a")
    return X, y


def test_xgboost_on_dask_fits_the_trees_it_fits_locally(local_cluster):
    # Without row and column sampling (whose random draws differ per worker) the partitions'
    # merged histograms give exactly the local trees.
    X, y = _rows()
    params = {"n_estimators": 30, "subsample": 1.0, "colsample_bytree": 1.0,
              "class_weight": "balanced"}
    local = XGBoostClassifier(**params).fit(X, y)
    remote = XGBoostClassifier(**params, dask_address=local_cluster.scheduler_address).fit(X, y)
    assert type(remote.booster_) is type(local.booster_)
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), atol=1e-6)


def test_lightgbm_on_dask_gives_a_native_booster(local_cluster):
    X, y = _rows()
    model = LightGBMClassifier(n_estimators=30, min_child_samples=5,
                               dask_address=local_cluster.scheduler_address).fit(X, y)
    proba = model.predict_proba(X)
    assert type(model.booster_).__module__ == "lightgbm.basic"
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(X) == y).mean() > 0.8


def _cohort(n_patients=30, seed=0):
    """Two cases per patient; features 0 and 1 carry the class."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"p{i:02d}" for i in range(n_patients)], 2)
    y = np.repeat(np.arange(n_patients) % 2, 2)
    values = rng.normal(size=(len(y), 6))
    values[:, :2] += 1.5 * y[:, None]
    names = [f"original__firstorder__f{i}" for i in range(6)]
    return pd.DataFrame(values, columns=names), y, groups, InputColumns(image=tuple(names))


def _validate(X, y, groups, columns, n_jobs):
    model = ModelConfig(name="xgboost", compare=["random_forest", "logistic"],
                        xgboost={"n_estimators": 20}, random_forest={"n_estimators": 20},
                        cv=CVConfig(n_splits=3, inner_splits=2))
    splits = design_splits(model.cv, y, groups, None)
    candidates = [make_candidate(model, name, columns, seed=0) for name in model.candidates]
    settings = FitSettings(SearchConfig(n_iter=2), seed=0)
    return validate(candidates, X, y, groups, splits, settings, n_jobs=n_jobs)


def test_fits_spread_by_joblibs_dask_backend_equal_the_local_run(local_cluster):
    X, y, groups, columns = _cohort()
    local = _validate(X, y, groups, columns, n_jobs=1)
    with Client(local_cluster, set_as_default=False) as client:
        with DaskCluster(client, local=True).joblib_backend():
            spread = _validate(X, y, groups, columns, n_jobs=-1)
        prefixes = set(local_cluster.scheduler.task_prefixes)
    assert any("_fit_predict" in prefix for prefix in prefixes), prefixes
    for a, b in zip(local, spread, strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(a.proba, b.proba)  # out-of-fold predictions, exactly
        assert a.best_params == b.best_params


@pytest.mark.slow
def test_train_stage_fits_the_boosters_on_the_cluster(tmp_path, cohort):
    with _two_workers() as cluster:
        config = _dask_training_config(tmp_path, cluster.scheduler_address)
        table = rp.extract(config, progress=False).table
        training = rp.train(config)
        prefixes = set(cluster.scheduler.task_prefixes)
    assert {"fn", "first_valid-part"} <= prefixes  # xgboost.dask's training tasks
    assert "train_part" in prefixes  # LightGBM's
    assert training.roc_auc > 0.8
    assert set(training.comparison["model"]) == {"xgboost", "lightgbm", "logistic"}
    bundle = load_bundle(config.output_dir / "model")  # boosters saved in their own formats
    assert bundle.estimator.named_steps["classifier"].dask_address is None
    rows = table.set_index("case_id")[bundle.feature_columns]
    np.testing.assert_allclose(bundle.estimator.predict_proba(rows).sum(axis=1), 1.0)


def _dask_training_config(tmp_path, address):
    return rp.make_config(
        "dask-training",
        data={"manifest": "cohort/manifest.csv"},
        features={"backend": "native", "families": ["firstorder"], "bin_width": 10},
        compute={"engine": "dask", "address": address, "distributed_training": "boosters"},
        model={"name": "xgboost", "compare": ["lightgbm", "logistic"],
               "cv": {"n_splits": 3}, "xgboost": {"n_estimators": 20},
               "lightgbm": {"n_estimators": 20, "min_child_samples": 3},
               "bootstrap": {"n_resamples": 50}},
        output_dir="run", base_dir=tmp_path,
    )


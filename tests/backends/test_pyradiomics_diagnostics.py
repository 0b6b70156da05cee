"""pyradiomics' own ``diagnostics_*`` values: kept in the run's feature table, never features."""

from __future__ import annotations

import json

import pytest
from conftest import sphere_mask, write_config

from radiopipe import api
from radiopipe.backends import get_backend
from radiopipe.columns import pyradiomics_columns
from radiopipe.config import FeatureConfig
from radiopipe.io import read_image, read_mask
from radiopipe.models.bundle import load_bundle
from radiopipe.table import feature_columns, read_table


@pytest.fixture(scope="module")
def radiomics():
    return pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) absent")


def test_the_backend_returns_the_diagnostics_beside_the_same_features(radiomics, cohort):
    folder = cohort.parent
    image = read_image(folder / "images" / "dark-00.nrrd", case_id="dark-00")
    mask = read_mask(folder / "masks" / "dark-00.nrrd", image, case_id="dark-00")
    backend = get_backend("pyradiomics")
    settings = FeatureConfig(families=["firstorder"], bin_width=10)
    features, diagnostics = backend.extract_described(image, mask, settings)
    assert features == backend.extract(image, mask, settings)
    assert diagnostics["diagnostics_Mask-original_VoxelNum"] == int(sphere_mask().sum())
    assert diagnostics["diagnostics_Versions_PyRadiomics"] == radiomics.__version__
    assert json.loads(diagnostics["diagnostics_Image-original_Spacing"]) == [1.0, 1.0, 1.0]
    assert not any(k.startswith("diagnostics") for k in features)
    assert get_backend("native").extract_described(image, mask, settings)[1] == {}


def test_the_run_keeps_them_as_diagnostics_and_the_model_never_sees_them(radiomics, tmp_path,
                                                                        cohort):
    config = write_config(tmp_path, cohort, explain={"enabled": False},
                          model={"cv": {"n_splits": 3, "seed": 0},
                                 "xgboost": {"n_estimators": 20}})
    loaded = api.load_config(config)
    api.extract(loaded, progress=False)
    table, _ = read_table(tmp_path / "run" / "features.parquet")
    diagnostics = pyradiomics_columns(table.columns)
    assert "pyradiomics__diagnostics_Mask-original_VoxelNum" in diagnostics
    assert (table["pyradiomics__diagnostics_Mask-original_VoxelNum"] == sphere_mask().sum()).all()
    assert set(table["pyradiomics__diagnostics_Versions_PyRadiomics"]) == {radiomics.__version__}
    features = feature_columns(table)
    assert features and not set(features) & set(diagnostics)
    training = api.train(loaded)
    bundle = load_bundle(tmp_path / "run" / "model")
    assert bundle.feature_columns == features
    assert training.record.primary.metrics["roc_auc"] > 0.8

"""Model bundles: native booster files, identical predictions after loading, tampering refused."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from model_tasks import synthetic_task
from sklearn.base import BaseEstimator, TransformerMixin

from radiopipe.config import ModelConfig
from radiopipe.models.bundle import (
    MANIFEST_FILE,
    BundleError,
    _manifest_hash,
    load_bundle,
    save_bundle,
)
from radiopipe.models.factory import make_candidate
from radiopipe.models.grouping import group_fit_params
from radiopipe.models.inputs import columns_record
from radiopipe.records import BundleManifest, FeatureSettingsRecord, HealthFinding, RecordError

MODEL = ModelConfig(
    ensembles=[{"name": "stack", "method": "stacking", "members": ["xgboost", "lightgbm", "svm"]}],
    xgboost={"n_estimators": 20},
    lightgbm={"n_estimators": 20},
    random_forest={"n_estimators": 20},
)


def _manifest(columns, classes=("0", "1")) -> BundleManifest:
    """The facts of a bundle fitted on ``columns``."""
    return BundleManifest(
        model="m", kind="model", classes=list(classes), config_hash="0" * 64,
        input_columns=columns_record(columns), sites=None, best_params={},
        settings=FeatureSettingsRecord(features={}, reading={}, feature_backend_version="1",
                                       cnn=None),
        role="final", split=None, shift=None,
        health=[HealthFinding("RPD007", "error", "the model learned nothing")],
        feature_columns=list(columns.order), versions={}, files={},
    )


def _save(folder, estimator, columns, **kwargs):
    return save_bundle(folder, estimator, _manifest(columns, **kwargs))


def _fit(name, model=MODEL, **task):
    X, y, groups, _, columns = synthetic_task(40, **task)
    candidate = make_candidate(model, name, columns, seed=0)
    extra = group_fit_params(candidate.estimator, groups)
    return candidate.estimator.fit(X, y, **extra), X, columns


@pytest.mark.parametrize(
    "name", ["xgboost", "lightgbm", "svm", "random_forest", "logistic", "stack"]
)
def test_loaded_bundle_predicts_identically(name, tmp_path):
    estimator, X, columns = _fit(name)
    _save(tmp_path / "model", estimator, columns)
    bundle = load_bundle(tmp_path / "model")
    np.testing.assert_array_equal(bundle.estimator.predict_proba(X), estimator.predict_proba(X))
    assert bundle.feature_columns == columns.order


def test_every_preprocessing_step_round_trips(tmp_path):
    model = MODEL.model_copy(
        update={"preprocessing": MODEL.preprocessing.model_copy(update={
            "harmonise": "combat", "selection": "lasso", "smote": True, "n_features": 4})}
    )
    estimator, X, columns = _fit("xgboost", model, clinical=True, combat=True)
    _save(tmp_path / "model", estimator, columns)
    bundle = load_bundle(tmp_path / "model")
    np.testing.assert_array_equal(bundle.estimator.predict_proba(X), estimator.predict_proba(X))


def test_boosters_are_stored_in_their_native_formats(tmp_path):
    estimator, _, columns = _fit("stack")
    _save(tmp_path / "model", estimator, columns)
    files = json.loads((tmp_path / "model" / MANIFEST_FILE).read_text(encoding="utf-8"))["files"]
    assert {"booster-0.ubj", "booster-1.txt", "estimator.skops"} <= set(files)
    assert (tmp_path / "model" / "booster-1.txt").read_text(encoding="utf-8").startswith("tree")


@pytest.fixture
def bundle_dir(tmp_path):
    estimator, _, columns = _fit("xgboost")
    return _save(tmp_path / "model", estimator, columns)


def _edit_manifest(folder, change, *, rehash):
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    if rehash:
        manifest["manifest_sha256"] = _manifest_hash(manifest)
    path.write_text(json.dumps(manifest))


def test_a_modified_file_is_refused(bundle_dir):
    with open(bundle_dir / "booster-0.ubj", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match="file 'booster-0.ubj' does not match its SHA-256"):
        load_bundle(bundle_dir)


def test_other_library_versions_are_refused(bundle_dir):
    _edit_manifest(bundle_dir, lambda m: m["versions"].update({"scikit-learn": "0.24.2"}),
                   rehash=True)
    with pytest.raises(BundleError, match="other library versions: scikit-learn 0.24.2 \\(here"):
        load_bundle(bundle_dir)


def test_changed_feature_columns_are_refused(bundle_dir):
    def swap(manifest):
        columns = manifest["feature_columns"]
        columns[0], columns[1] = columns[1], columns[0]

    _edit_manifest(bundle_dir, swap, rehash=True)
    with pytest.raises(BundleError, match="feature columns in bundle.json differ"):
        load_bundle(bundle_dir)


def test_an_edited_manifest_is_refused(bundle_dir):
    _edit_manifest(bundle_dir, lambda m: m.update({"classes": ["1", "0"]}), rehash=False)
    with pytest.raises(BundleError, match="bundle.json was edited after the bundle was written"):
        load_bundle(bundle_dir)


class Passthrough(TransformerMixin, BaseEstimator):
    """A type radiopipe has no reason to trust."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_untrusted_types_are_refused(tmp_path):
    estimator, _, columns = _fit("logistic")
    estimator.steps.insert(0, ("odd", Passthrough().fit(None)))
    _save(tmp_path / "model", estimator, columns)
    with pytest.raises(BundleError, match="does not trust \\(test_bundle.Passthrough"):
        load_bundle(tmp_path / "model")


def test_a_folder_without_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="is not a model bundle \\(bundle.json is missing\\)"):
        load_bundle(tmp_path)


def test_the_manifest_round_trips_as_a_typed_record(bundle_dir):
    bundle = load_bundle(bundle_dir)
    assert isinstance(bundle.manifest, BundleManifest)
    assert bundle.manifest.role == "final" and bundle.manifest.split is None
    body = json.loads((bundle_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert BundleManifest.from_json(body).to_json() == body


def test_a_manifest_missing_a_field_is_refused(bundle_dir):
    _edit_manifest(bundle_dir, lambda m: m.pop("input_columns"), rehash=True)
    with pytest.raises(BundleError, match="bundle.json lacks input_columns"):
        load_bundle(bundle_dir)
    with pytest.raises(RecordError, match="schema version 1; this radiopipe reads version 4"):
        BundleManifest.from_json({"format": "radiopipe-model-bundle", "format_version": 1})


def test_a_saved_bundle_is_readable_as_the_umask_says(tmp_path):
    estimator, _, columns = _fit("logistic")
    previous = os.umask(0o022)
    try:
        folder = _save(tmp_path / "model", estimator, columns)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # not mkdtemp's private 0700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o644}

"""Typed run-folder records: written with to_json, read back with from_json, refused when of
another schema version or missing a field."""

from __future__ import annotations

import json

import pytest

from radiopipe.records import (
    CandidateSummary,
    FeatureSummary,
    FoldModel,
    HealthFinding,
    RecordError,
    TaskSummary,
    ValidationRecord,
)


def _record() -> ValidationRecord:
    primary = CandidateSummary(
        model="xgboost", kind="model", feature_set="image", primary=True,
        metrics={"roc_auc": 0.9, "brier": None}, ci={"roc_auc": [0.8, 0.95]},
        best_params=[{"max_depth": 3}, {"max_depth": 4}],
    )
    other = CandidateSummary(
        model="logistic", kind="model", feature_set="image", primary=False,
        metrics={"roc_auc": 0.92, "brier": 0.1}, ci={"roc_auc": [0.85, 0.97]},
        best_params=[{}, {}],
    )
    return ValidationRecord(
        config_hash="0" * 64,
        task=TaskSummary(classes=["a", "b"], n_cases=10, n_patients=5, n_tested=10,
                         failed_cases=["c9"]),
        features=FeatureSummary(backend="native", backend_version="1", n_features=3,
                                kind="radiomics", n_embedding=0, clinical=[]),
        model="xgboost", validation={"scheme": "2-fold", "design": "kfold"},
        metrics={"roc_auc": 0.9}, confidence_intervals={"roc_auc": [0.8, 0.95]},
        per_fold=[{"fold": 0, "n_test": 5, "roc_auc": 0.9}],
        comparison=[primary, other], best_model="logistic", final_model={"bundle": "model"},
        fold_models=[FoldModel(split=0, fold=0, repeat=0), FoldModel(split=1, fold=1, repeat=0)],
        health=[HealthFinding("RPD010", "warning", "the saved model is far below logistic")],
        versions={"radiopipe": "0.1.0"},
    )


def test_a_validation_record_round_trips_through_json():
    record = _record()
    text = json.dumps(record.to_json())
    back = ValidationRecord.from_json(json.loads(text))
    assert back == record
    assert back.primary.model == "xgboost" and back.classes == ["a", "b"]
    assert isinstance(back.fold_models[1], FoldModel) and back.fold_models[1].fold == 1
    assert isinstance(back.health[0], HealthFinding) and back.health[0].code == "RPD010"


def test_another_schema_version_is_refused_with_the_stage_to_rerun():
    data = _record().to_json()
    data["schema_version"] = 0
    with pytest.raises(RecordError, match="metrics.json has schema version 0; this radiopipe "
                                          "reads version 5; rerun the stage that writes it"):
        ValidationRecord.from_json(data)


def test_a_record_without_health_findings_is_refused():
    data = _record().to_json()
    del data["health"][0]["severity"]
    with pytest.raises(RecordError, match=r"metrics.json \(health\) lacks severity"):
        ValidationRecord.from_json(data)
    del data["health"]
    with pytest.raises(RecordError, match="metrics.json lacks health"):
        ValidationRecord.from_json(data)


def test_a_missing_field_is_named():
    data = _record().to_json()
    del data["task"]["n_patients"]
    with pytest.raises(RecordError, match=r"metrics.json \(task\) lacks n_patients"):
        ValidationRecord.from_json(data)

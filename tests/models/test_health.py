"""Model health checks RPD007-RPD011 on hand-made predictions: each fires when, and only when,
its condition holds."""

from __future__ import annotations

import numpy as np

from radiopipe.models.designs import OuterSplit
from radiopipe.models.health import (
    chance_interval,
    constant_predictions,
    learned_nothing,
    model_health,
    one_class_folds,
    prevalence_baseline,
    primary_below_best,
)
from radiopipe.records import CandidateSummary

Y = np.array([0, 0, 0, 1, 1, 1])
GOOD = np.array([0.1, 0.2, 0.4, 0.6, 0.7, 0.9])


def _two(p):
    return np.column_stack([1 - p, p])


def _summary(model, auc, *, primary=False, ci=None, feature_set="image"):
    return CandidateSummary(model=model, kind="model", feature_set=feature_set, primary=primary,
                            metrics={"roc_auc": auc}, ci={"roc_auc": ci}, best_params=[])


def test_constant_predictions_are_an_error_and_varied_ones_pass():
    finding = constant_predictions(_two(np.full(6, 0.5)))
    assert finding.code == "RPD007" and finding.severity == "error"
    assert "(0.500, 0.500, range 0)" in finding.message
    assert constant_predictions(_two(0.5 + np.array([0, 1, 2, 3, 4, 5]) * 1e-3)).code == "RPD007"
    assert constant_predictions(_two(GOOD)) is None


def test_an_interval_including_chance_is_a_warning():
    assert chance_interval(0.6, [0.45, 0.8]).code == "RPD008"
    assert chance_interval(0.9, [0.8, 0.97]) is None
    assert chance_interval(None, None) is None and chance_interval(0.6, None) is None


def test_the_prevalence_baseline_is_the_brier_score_of_the_class_shares():
    # Prevalence 0.5: baseline Brier 0.25; a constant 0.5 equals it, informative scores beat it.
    finding = prevalence_baseline(Y, _two(np.full(6, 0.5)))
    assert finding.code == "RPD009"
    assert "Brier score 0.250 is no better than 0.250" in finding.message
    assert prevalence_baseline(Y, _two(GOOD)) is None
    assert prevalence_baseline(Y, _two(GOOD[::-1])).code == "RPD009"


def test_a_primary_model_far_below_the_best_compared_one_is_named():
    comparison = [_summary("xgboost", 0.80, primary=True), _summary("logistic", 0.90),
                  _summary("xgboost", 0.99, feature_set="clinical")]
    finding = primary_below_best(comparison)
    assert finding.code == "RPD010" and "set model.name to logistic" in finding.message
    assert primary_below_best([_summary("xgboost", 0.88, primary=True),
                               _summary("logistic", 0.90)]) is None
    assert primary_below_best([_summary("xgboost", 0.8, primary=True)]) is None


def test_a_fold_with_one_class_is_named():
    y = np.array([0, 0, 1, 1, 0, 1])
    fine = [OuterSplit(np.array([0, 2, 4]), np.array([1, 3, 5]), [])]
    assert one_class_folds(y, fine) is None
    one = [OuterSplit(np.array([0, 1, 2, 3]), np.array([4, 5]), []),
           OuterSplit(np.array([2, 3, 5]), np.array([0, 1]), [])]
    finding = one_class_folds(y, one)
    assert finding.code == "RPD011"
    assert "training rows of split 1, test rows of split 1" in finding.message


def test_model_health_puts_errors_first():
    proba = _two(np.full(6, 0.5))
    tested = np.ones(6, dtype=bool)
    splits = [OuterSplit(np.array([0, 1, 3, 4]), np.array([2, 5]), [])]
    health = model_health(Y, proba, tested, splits,
                          [_summary("xgboost", 0.5, primary=True, ci=[0.5, 0.5])])
    assert [f.code for f in health] == ["RPD007", "RPD008", "RPD009"]
    assert learned_nothing(health)
    healthy = model_health(Y, _two(GOOD), tested, splits,
                           [_summary("xgboost", 1.0, primary=True, ci=[1.0, 1.0])])
    assert healthy == [] and not learned_nothing(healthy)

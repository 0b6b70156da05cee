"""Parameter and sample-weight checks of radiopipe's estimators (radiopipe.models.params)."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from conftest import REPO
from sklearn.linear_model import LogisticRegression

from radiopipe.models.boosters import XGBoostClassifier
from radiopipe.models.calibration import GroupedCalibratedClassifier
from radiopipe.models.combat import ComBatHarmoniser
from radiopipe.models.embedding import EmbeddingPCA
from radiopipe.models.ensembles import SoftVotingEnsemble, StackingEnsemble
from radiopipe.models.params import InvalidParameterError, check_sample_weight
from radiopipe.models.reduction import CorrelationFilter, NearConstantFilter
from radiopipe.models.selection import LassoSelector, MRMRSelector

X = np.arange(24, dtype=float).reshape(8, 3) % 5
Y = np.array([0, 1] * 4)


def _members():
    return [("logistic", LogisticRegression())]


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (NearConstantFilter(max_mode_fraction=0.0),
         "The 'max_mode_fraction' parameter of NearConstantFilter must be a float in the range "
         "(0, 1]. Got 0.0 instead."),
        (CorrelationFilter(threshold=1.5),
         "The 'threshold' parameter of CorrelationFilter must be a float in the range (0, 1]. "
         "Got 1.5 instead."),
        (MRMRSelector(n_features=0),
         "The 'n_features' parameter of MRMRSelector must be an int in the range [1, inf). "
         "Got 0 instead."),
        (MRMRSelector(n_features=2.0),
         "The 'n_features' parameter of MRMRSelector must be an int in the range [1, inf). "
         "Got 2.0 instead."),
        (LassoSelector(random_state="seed"),
         "The 'random_state' parameter of LassoSelector must be an int in the range "
         "[0, 4294967295], an instance of 'numpy.random.RandomState' or None. Got 'seed' "
         "instead."),
        (ComBatHarmoniser(empirical_bayes="yes"),
         "The 'empirical_bayes' parameter of ComBatHarmoniser must be an instance of 'bool'. "
         "Got 'yes' instead."),
        (ComBatHarmoniser(site_column=-1),
         "The 'site_column' parameter of ComBatHarmoniser must be an instance of 'str' or an int "
         "in the range [0, inf). Got -1 instead."),
        (EmbeddingPCA(columns="abc"),
         "The 'columns' parameter of EmbeddingPCA must be an array-like or None. Got 'abc' "
         "instead."),
        (XGBoostClassifier(class_weight="even"),
         "The 'class_weight' parameter of XGBoostClassifier must be a str among {'balanced'}, "
         "an instance of 'dict' or None. Got 'even' instead."),
        (XGBoostClassifier(learning_rate=float("nan")),
         "The 'learning_rate' parameter of XGBoostClassifier must be a float in the range "
         "(0, 1]. Got nan instead."),
        (SoftVotingEnsemble(_members(), weights="best"),
         "The 'weights' parameter of SoftVotingEnsemble must be a str among {'equal', 'fitted'} "
         "or an instance of 'list'. Got 'best' instead."),
        (StackingEnsemble(_members(), n_splits=True),
         "The 'n_splits' parameter of StackingEnsemble must be an int in the range [2, inf). "
         "Got True instead."),
        (GroupedCalibratedClassifier(estimator="svm"),
         "The 'estimator' parameter of GroupedCalibratedClassifier must be an object "
         "implementing 'fit'. Got 'svm' instead."),
        (GroupedCalibratedClassifier(LogisticRegression(), method="platt"),
         "The 'method' parameter of GroupedCalibratedClassifier must be a str among "
         "{'isotonic', 'sigmoid'}. Got 'platt' instead."),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else "",
)
def test_fit_names_the_bad_parameter_in_scikit_learn_wording(estimator, message):
    with pytest.raises(InvalidParameterError) as raised:
        estimator.fit(X, Y)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


def test_valid_parameters_of_every_kind_are_accepted():
    assert LassoSelector(n_features=2, random_state=np.random.RandomState(0)).fit(X, Y)
    assert EmbeddingPCA(n_components=1, columns=np.array([0, 1])).fit(X).components_.shape[0] == 1
    assert XGBoostClassifier(n_estimators=2, class_weight={0: 1.0, 1: 2.0}).fit(X, Y)


def test_sample_weights_are_one_non_negative_float_per_row():
    assert check_sample_weight([1, 2, 3], 3).dtype == np.float64
    np.testing.assert_array_equal(check_sample_weight(0.5, 2), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"one weight per row: shape \(2,\), expected \(3,\)"):
        check_sample_weight([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="Negative values in data passed to sample_weight"):
        check_sample_weight([1.0, -1.0, 1.0], 3)
    with pytest.raises(ValueError, match="Input sample_weight contains NaN"):
        check_sample_weight([1.0, np.nan, 1.0], 3)


def test_booster_refuses_negative_and_all_zero_weights():
    with pytest.raises(ValueError, match="Negative values in data passed to sample_weight"):
        XGBoostClassifier(n_estimators=2).fit(X, Y, sample_weight=-np.ones(len(Y)))
    with pytest.raises(ValueError, match="the sample weights are all zero"):
        XGBoostClassifier(n_estimators=2).fit(X, Y, sample_weight=np.zeros(len(Y)))


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def test_no_module_uses_private_scikit_learn_api():
    found = []
    for path in sorted((REPO / "radiopipe").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("sklearn")]
            elif isinstance(node, ast.Attribute) and node.attr == "_validate_params":
                names = [node.attr]
            else:
                continue
            found += [f"{path.relative_to(REPO)}: {n}" for n in names if _private(n)]
    assert not found, found

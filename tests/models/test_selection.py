"""Column removal and feature selection on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import f_classif

from radiopipe.models.reduction import (
    CorrelationFilter,
    NearConstantFilter,
    abs_correlation,
    mode_fractions,
)
from radiopipe.models.selection import (
    LassoSelector,
    MRMRSelector,
    UnivariateSelector,
    anova_f,
    make_selector,
)


def test_mode_fractions_by_hand():
    X = np.array([[1.0, 0.0, 5.0], [1.0, 1.0, 5.0], [2.0, 2.0, 5.0], [1.0, 3.0, 5.0]])
    np.testing.assert_allclose(mode_fractions(X), [0.75, 0.25, 1.0])


def test_near_constant_filter_keeps_names():
    X = pd.DataFrame({"a": [1.0, 1, 2, 1], "b": [0.0, 1, 2, 3], "c": [5.0, 5, 5, 5]})
    out = NearConstantFilter(0.75).set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["b"]  # 'a' has 3/4 of its rows at 1.0, 'c' is constant


def test_near_constant_filter_keeps_the_least_constant_column_when_all_are():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    assert NearConstantFilter(0.5).fit(X).get_support().tolist() == [False, True]


def test_correlation_filter_drops_the_later_of_a_correlated_pair():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    X = np.column_stack([a, rng.normal(size=50), 2 * a + 1e-3 * rng.normal(size=50), np.ones(50)])
    assert CorrelationFilter(0.95).fit(X).get_support().tolist() == [True, True, False, True]


def test_abs_correlation_matches_numpy_and_is_zero_for_a_constant():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    np.testing.assert_allclose(abs_correlation(X), np.abs(np.corrcoef(X.T)), atol=1e-12)
    assert abs_correlation(np.column_stack([X, np.ones(30)]))[:, 3].max() == 0.0


def test_anova_f_by_hand_and_against_scikit_learn():
    # Classes {0, 1} vs {2, 3}: between 2 * (1^2 + 1^2) = 4 on 1 df, within 4 * 0.25 / 2 = 0.5.
    assert anova_f(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))[0] == 8.0
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    np.testing.assert_allclose(anova_f(X, y), f_classif(X, y)[0])


def test_anova_f_of_a_constant_is_zero_and_of_a_perfect_split_is_inf():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(anova_f(X, np.array([0, 0, 1, 1])), [0.0, np.inf])


def test_univariate_keeps_the_k_best_and_caps_k():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 20)
    X = np.column_stack([rng.normal(size=40), y + 0.1 * rng.normal(size=40), rng.normal(size=40)])
    assert UnivariateSelector(1).fit(X, y).get_support().tolist() == [False, True, False]
    assert UnivariateSelector(10).fit(X, y).get_support().all()


def test_mrmr_skips_a_redundant_copy_of_the_most_relevant_column():
    rng = np.random.default_rng(4)
    y = np.repeat([0, 1], 50)
    signal = y + 0.5 * rng.normal(size=100)
    copy = signal + 0.01 * rng.normal(size=100)  # as relevant, fully redundant
    other = y + 0.6 * rng.normal(size=100)  # a little less relevant, new information
    X = np.column_stack([signal, copy, other])
    selector = MRMRSelector(2).fit(X, y)
    assert selector.ranking_[0] in (0, 1)
    assert selector.ranking_[1] == 2
    assert UnivariateSelector(2).fit(X, y).get_support().tolist() == [True, True, False]


def test_lasso_keeps_the_informative_columns():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1], 60)
    noise = rng.normal(size=(120, 3))
    X = np.column_stack([noise[:, 0], y + 0.3 * noise[:, 1], noise[:, 2]])
    assert LassoSelector(1, C=0.1, random_state=0).fit(X, y).get_support().tolist() == [
        False, True, False
    ]


def test_make_selector_names_its_methods():
    assert make_selector("none", 5, seed=0) is None
    assert isinstance(make_selector("mrmr", 5, seed=0), MRMRSelector)
    with pytest.raises(ValueError, match="must be one of none, univariate, lasso, mrmr"):
        make_selector("boruta", 5, seed=0)

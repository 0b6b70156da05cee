"""Patient-grouped cross-validation: no patient on both sides of a split."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from radiopipe.errors import DataError
from radiopipe.models import grouped_cross_val_predict


def test_no_patient_is_on_both_sides_and_every_case_is_predicted_once():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 3)
    y = (groups % 3 == 0).astype(int)
    X = rng.normal(size=(90, 4)) + y[:, None]
    result = grouped_cross_val_predict(LogisticRegression(), X, y, groups, n_splits=5, seed=1)
    for train, test in result.splits:
        assert not set(groups[train]) & set(groups[test])
    assert np.all(result.fold >= 0) and not np.isnan(result.proba).any()
    assert np.allclose(result.proba.sum(axis=1), 1.0)


def test_too_few_patients_per_class_is_a_data_error():
    groups = np.array([0, 0, 1, 1, 2, 3, 4, 5])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    with pytest.raises(DataError, match="class code 1 has cases from only 2 patient"):
        grouped_cross_val_predict(LogisticRegression(), np.zeros((8, 1)), y, groups, n_splits=3, seed=0)

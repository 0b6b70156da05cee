"""Patient-grouped stratified k-fold cross-validation with out-of-fold predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold

from radiopipe.errors import DataError


@dataclass(frozen=True)
class CVResult:
    """Out-of-fold predictions of a grouped cross-validation.

    Attributes
    ----------
    proba : numpy.ndarray
        (n_cases, n_classes) probabilities, each row predicted by the model that did not see it.
    fold : numpy.ndarray
        Test fold of each case.
    splits : list of (train_index, test_index)
        The splits, for audit.
    """

    proba: np.ndarray
    fold: np.ndarray
    splits: list[tuple[np.ndarray, np.ndarray]]


def grouped_cross_val_predict(
    estimator, X: np.ndarray, y: np.ndarray, groups: np.ndarray, *, n_splits: int, seed: int
) -> CVResult:
    """Out-of-fold class probabilities under ``StratifiedGroupKFold``.

    No group (patient) is ever in both the training and the test rows of a split.

    Parameters
    ----------
    estimator : classifier
        Unfitted; cloned for every fold.
    X : array of shape (n_cases, n_features)
    y : array of int
        Class codes 0..K-1.
    groups : array
        Patient ids.
    n_splits : int
        Number of folds.
    seed : int
        Shuffling seed of the fold assignment.

    Raises
    ------
    DataError
        If some class has fewer patients than folds (a fold could then miss the class).
    """
    check_groups_per_class(y, groups, n_splits)
    n_classes = int(y.max()) + 1
    proba = np.full((len(y), n_classes), np.nan)
    fold = np.full(len(y), -1)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = list(splitter.split(X, y, groups))
    for k, (train, test) in enumerate(splits):
        model = clone(estimator).fit(X[train], y[train])
        proba[test] = model.predict_proba(X[test])
        fold[test] = k
    return CVResult(proba=proba, fold=fold, splits=splits)


def check_groups_per_class(y: np.ndarray, groups: np.ndarray, n_splits: int) -> None:
    """Raise a DataError unless every class spans at least ``n_splits`` patients."""
    for code in np.unique(y):
        n_groups = len(np.unique(groups[y == code]))
        if n_groups < n_splits:
            raise DataError(
                f"class code {code} has cases from only {n_groups} patient(s), fewer than "
                f"model.cv.n_splits={n_splits}; lower n_splits or add patients"
            )

"""Probability calibration on patient-grouped folds of the training rows.

The SVM gives scores, not probabilities: Platt scaling maps its decision values to
probabilities with a sigmoid fitted on out-of-fold scores (scikit-learn's
``CalibratedClassifierCV(ensemble=False)``), then one model is refitted on every row. The folds
here keep each patient's cases on one side, so no score is calibrated against a case whose
patient the scoring model saw.
"""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from radiopipe.errors import DataError
from radiopipe.models.designs import Splits, grouped_kfold
from radiopipe.models.grouping import GroupedFit
from radiopipe.models.params import HasMethods, Interval, Options, check_params

logger = logging.getLogger(__name__)

SPLITS_KEY = "model.svm.calibration_splits"


def calibration_folds(y: np.ndarray, patients: np.ndarray, n_splits: int, seed: int) -> Splits:
    """Stratified folds over patients for the calibration of a model fitted on these rows.

    ``n_splits`` is lowered to the patient count of the smallest class (a debug log line);
    fewer than 2 patients in a class is a :class:`~radiopipe.errors.DataError` naming
    ``model.svm.calibration_splits``.
    """
    folds = grouped_kfold(y, patients, n_splits, seed, lower=True, key=SPLITS_KEY)
    if len(folds) < n_splits:
        logger.debug("%s=%d lowered to %d for %d training rows", SPLITS_KEY, n_splits,
                     len(folds), len(y))
    return folds


def fewest_patients(y: np.ndarray, patients: np.ndarray) -> int:
    """Patients of the smallest class among the rows."""
    return min(len(np.unique(patients[y == k])) for k in np.unique(y))


def check_calibration_splits(n_splits: int, y: np.ndarray, patients: np.ndarray,
                             training_sets: list[np.ndarray]) -> int:
    """The calibration folds the smallest of ``training_sets`` allows, checked before any fit.

    Logs one line when ``n_splits`` has to be lowered for some training set.

    Parameters
    ----------
    n_splits : int
        The configured folds (``model.svm.calibration_splits``).
    y, patients : numpy.ndarray
        Class codes and patient ids of every row.
    training_sets : list of numpy.ndarray
        Row positions of every training set a calibrated model is fitted on.

    Returns
    -------
    int
        The fewest folds any fit will use.

    Raises
    ------
    DataError
        When a training set holds fewer than 2 patients of a class.
    """
    fewest = min(fewest_patients(y[rows], patients[rows]) for rows in training_sets)
    if fewest < 2:
        raise DataError(
            f"{SPLITS_KEY}: the SVM's probability calibration needs every class in at least 2 "
            f"patients of each training set it is fitted on, and one has {fewest}; lower "
            "model.cv.n_splits (or model.cv.inner_splits with a search), or add patients"
        )
    if fewest < n_splits:
        logger.info("%s=%d lowered to %d where a training set holds only %d patients of a class",
                    SPLITS_KEY, n_splits, fewest, fewest)
    return min(n_splits, fewest)


class GroupedCalibratedClassifier(GroupedFit, ClassifierMixin, BaseEstimator):
    """A classifier Platt- or isotonic-calibrated on patient-grouped folds of its training rows.

    Parameters
    ----------
    estimator : classifier
        Gives ``decision_function`` or ``predict_proba`` (usually a whole in-fold pipeline).
    method : {'sigmoid', 'isotonic'}
    n_splits : int
        Calibration folds, lowered to the patients of the smallest class.
    random_state : int
        Seed of the folds.

    Attributes
    ----------
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        Fitted with ``cv`` the grouped folds and ``ensemble=False``: one ``estimator`` refitted
        on every row, with the calibrator fitted on its out-of-fold scores.
    n_splits_ : int
        Folds used.
    classes_ : numpy.ndarray
    """

    groups_param = "patients"
    _parameter_rules: dict = {
        "estimator": [HasMethods(("fit",))],
        "method": [Options(frozenset({"sigmoid", "isotonic"}))],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, estimator, method="sigmoid", n_splits=3, random_state=0):
        self.estimator = estimator
        self.method = method
        self.n_splits = n_splits
        self.random_state = random_state

    def fit(self, X, y, patients=None):
        """Fit on the rows ``X, y``; ``patients`` (one id per row) groups the calibration folds.

        Without ``patients`` every row counts as its own patient.
        """
        check_params(self, self._parameter_rules)
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=None,
                             skip_check_array=hasattr(X, "iloc"))
        check_classification_targets(y)
        patients = np.arange(len(y)) if patients is None else np.asarray(patients)
        if len(patients) != len(y):
            raise ValueError(f"The 'patients' parameter of {type(self).__name__}.fit must hold "
                             f"one id per row ({len(y)}). Got {len(patients)} instead.")
        folds = calibration_folds(np.unique(y, return_inverse=True)[1], patients,
                                  self.n_splits, self.random_state)
        self.calibrated_ = CalibratedClassifierCV(
            clone(self.estimator), method=self.method, cv=folds, ensemble=False
        ).fit(X, y)
        self.n_splits_ = len(folds)
        self.classes_ = self.calibrated_.classes_
        return self

    def predict_proba(self, X):
        """Calibrated class probabilities."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=None,
                          skip_check_array=hasattr(X, "iloc"))
        return self.calibrated_.predict_proba(X)

    def predict(self, X):
        """Most probable class."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.estimator.__sklearn_tags__().input_tags.allow_nan
        return tags

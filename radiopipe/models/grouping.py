"""Estimators whose ``fit`` takes the patients of its rows, so that their own inner splits keep a
patient's cases together, and how a caller passes the patients to them.

Ensembles take them as ``groups``; the calibrated SVM as ``patients``, because scikit-learn's
searches keep a fit parameter named ``groups`` for their own splitter and never pass it on.
"""

from __future__ import annotations

import numpy as np


class GroupedFit:
    """Mixin of estimators whose ``fit(X, y, <groups_param>=...)`` takes the rows' patients."""

    groups_param = "groups"


def group_fit_params(estimator, groups: np.ndarray | None) -> dict:
    """The fit parameters that hand ``groups`` (patient ids of the rows) to ``estimator``.

    Empty for an estimator that does not take them, or when ``groups`` is None.
    """
    if groups is None or not isinstance(estimator, GroupedFit):
        return {}
    return {estimator.groups_param: np.asarray(groups)}

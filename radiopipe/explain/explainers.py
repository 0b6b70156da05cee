"""SHAP values of a fitted estimator, by model family.

``tree``
    XGBoost, LightGBM and random forest: exact tree SHAP (``shap.TreeExplainer``, path
    dependent, so no background data) on the classifier's own inputs. A booster set to
    ``device: cuda`` uses XGBoost's GPU contributions (``pred_contribs``), the same algorithm.
    Output space: the boosters' margin (log-odds; for several classes the raw score each class
    gets before the softmax), the forest's probability.
``linear``
    Logistic regression: exact linear SHAP (``shap.LinearExplainer``) on the classifier's inputs
    against the model's reference case; output space: the margin, as for boosters.
``permutation``
    SVMs, ensembles and calibrated models: ``shap.PermutationExplainer`` over the features that
    reach a classifier, each switched between the reference case's value and the case's own
    (baseline Shapley values), within a budget of model evaluations per row; output space:
    probability.

Attributions are reported per model input column (the classifier's inputs map back to them one
to one, one-hot columns summed into their categorical column, a CNN embedding's principal
components into one feature per backbone); features no classifier uses get 0.
The values of each row add up to the model's output: ``base_value + sum(values) = output``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from radiopipe.explain.anatomy import (
    Anatomy,
    anatomy,
    explained_feature,
    explained_features,
    feature_of,
    reference_frame,
    used_features,
)
from radiopipe.models.boosters import LightGBMClassifier, XGBoostClassifier

LOG_ODDS = "log-odds"
SOFTMAX_INPUT = "raw score before softmax"
PROBABILITY = "probability"
_BOOSTERS = (XGBoostClassifier, LightGBMClassifier)


@dataclass(frozen=True)
class Explanation:
    """SHAP values of some rows.

    Attributes
    ----------
    case_ids : tuple of str
    features : tuple of str
        Model input columns.
    outputs : tuple of str
        The class each explained output belongs to (two classes: the second one only).
    values : numpy.ndarray of shape (n_rows, n_features, n_outputs)
    base_values : numpy.ndarray of shape (n_rows, n_outputs)
    output_space : str
        ``'log-odds'``, ``'raw score before softmax'`` or ``'probability'``.
    method : str
        The explainer that computed the values.
    """

    case_ids: tuple[str, ...]
    features: tuple[str, ...]
    outputs: tuple[str, ...]
    values: np.ndarray
    base_values: np.ndarray
    output_space: str
    method: str

    @property
    def model_output(self) -> np.ndarray:
        """``base_values + values.sum(features)``: the explained output, (n_rows, n_outputs)."""
        return self.base_values + self.values.sum(axis=1)


def shap_module():
    """``import shap``, without the deprecation notices its plotting module raises on import."""
    return _import_shap()


@cache
def _import_shap():
    with warnings.catch_warnings():
        # shap.plots calls matplotlib colormap setters matplotlib plans to deprecate.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap
    return shap


def explain(
    estimator, X: pd.DataFrame, classes: list[str], *, max_evals: int = 500, seed: int = 0
) -> Explanation:
    """SHAP values of every row of ``X`` under a fitted estimator.

    Parameters
    ----------
    estimator : fitted estimator
        An in-fold pipeline, ensemble or calibrated model whose classes are codes into
        ``classes``.
    X : pandas.DataFrame
        Model inputs (index: case ids), columns in the estimator's order.
    classes : list of str
        Class labels by code.
    max_evals : int
        Permutation explainer only: model evaluations per row (raised to ``2 * used + 1``, the
        cost of one antithetic permutation, when lower).
    seed : int
        Permutation explainer only: seed of the permutations.

    Returns
    -------
    Explanation
    """
    parts = anatomy(estimator)
    if parts.method == "tree":
        return _tree(parts, X, classes)
    if parts.method == "linear":
        return _linear(parts, estimator, X, classes)
    return _permutation(estimator, X, classes, max_evals=max_evals, seed=seed)


def explained_codes(class_codes) -> list[int]:
    """Class codes whose output is explained: the second of two, else every one."""
    codes = [int(c) for c in class_codes]
    return codes[1:] if len(codes) == 2 else codes


def _tree(parts: Anatomy, X: pd.DataFrame, classes: list[str]) -> Explanation:
    Xt = parts.transform(X)
    inputs = Xt.to_numpy(dtype=np.float64)
    model = parts.classifier
    codes = [int(c) for c in model.classes_]
    if isinstance(model, XGBoostClassifier) and model.device == "cuda":
        values, base = xgboost_contributions(model.booster_, inputs, device="cuda")
        method = "tree (XGBoost GPU contributions)"
    else:
        target = model.booster_ if isinstance(model, _BOOSTERS) else model
        result = shap_module().TreeExplainer(target)(inputs)
        values, base = _as_3d(result.values, result.base_values, len(X))
        method = "tree (shap.TreeExplainer)"
    if not isinstance(model, _BOOSTERS) and len(codes) == 2:
        values, base = values[:, :, 1:], base[:, 1:]  # the forest gives both class probabilities
    if isinstance(model, _BOOSTERS):
        space = LOG_ODDS if len(codes) == 2 else SOFTMAX_INPUT
    else:
        space = PROBABILITY
    return _explanation(X, Xt.columns, values, base, classes, codes, space, method)


def xgboost_contributions(
    booster, inputs: np.ndarray, *, device: str
) -> tuple[np.ndarray, np.ndarray]:
    """Tree SHAP computed by XGBoost itself (``pred_contribs``) on ``device``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Values of shape (n, p, m) and base values of shape (n, m) (XGBoost's bias column).
    """
    from xgboost import DMatrix

    booster.set_param({"device": device})
    contributions = booster.predict(DMatrix(inputs), pred_contribs=True)
    if contributions.ndim == 2:
        contributions = contributions[:, None, :]
    contributions = np.asarray(contributions, dtype=np.float64).transpose(0, 2, 1)
    return contributions[:, :-1, :], contributions[:, -1, :]


def _linear(parts: Anatomy, estimator, X: pd.DataFrame, classes: list[str]) -> Explanation:
    shap = shap_module()
    Xt = parts.transform(X)
    references = parts.transform(reference_frame(estimator, X)).to_numpy(dtype=np.float64)
    model = parts.classifier
    codes = [int(c) for c in model.classes_]
    n_outputs = 1 if len(codes) == 2 else len(codes)
    values = np.zeros((len(X), Xt.shape[1], n_outputs))
    base = np.zeros((len(X), n_outputs))
    # One reference per site under ComBat (the site stays the row's own), else one in all.
    unique, group = np.unique(references, axis=0, return_inverse=True)
    for g, reference in enumerate(unique):
        rows = np.flatnonzero(group.ravel() == g)
        masker = shap.maskers.Independent(reference[None, :])
        result = shap.LinearExplainer(model, masker)(Xt.to_numpy(dtype=np.float64)[rows])
        values[rows], base[rows] = _as_3d(result.values, result.base_values, len(rows))
    space = LOG_ODDS if len(codes) == 2 else SOFTMAX_INPUT
    method = "linear (shap.LinearExplainer)"
    return _explanation(X, Xt.columns, values, base, classes, codes, space, method)


def _permutation(estimator, X: pd.DataFrame, classes, *, max_evals: int, seed: int) -> Explanation:
    """Permutation SHAP with one player per used feature, each either the reference's value
    (player off, 0) or the case's (on, 1): baseline Shapley values against the reference case."""
    shap = shap_module()
    players = used_features(estimator, X)
    members = [[c for c in X.columns if explained_feature(c) == p] for p in players]
    reference = reference_frame(estimator, X)
    codes = [int(c) for c in estimator.classes_]
    picked = [codes.index(c) for c in explained_codes(codes)]
    evals = max(max_evals, 2 * len(players) + 1)
    values = np.zeros((len(X), len(players), len(picked)))
    base = np.zeros((len(X), len(picked)))
    masker = shap.maskers.Independent(np.zeros((1, len(players))))
    state = np.random.get_state()  # shap draws its permutations from NumPy's global generator
    try:
        for i in range(len(X)):
            case, typical = X.iloc[i], reference.iloc[i]

            def model(on, case=case, typical=typical):
                frame = {c: np.repeat(case[c], len(on)) for c in X.columns}
                for j, columns in enumerate(members):
                    for c in columns:
                        frame[c] = np.where(on[:, j] == 1, case[c], typical[c])
                frame = pd.DataFrame(frame, columns=X.columns).astype(X.dtypes.to_dict())
                return estimator.predict_proba(frame)[:, picked]

            explainer = shap.PermutationExplainer(model, masker, seed=seed + i)
            result = explainer(np.ones((1, len(players))), max_evals=evals, batch_size=evals,
                               silent=True)
            row_values, row_base = _as_3d(result.values, result.base_values, 1)
            values[i], base[i] = row_values[0], row_base[0]
    finally:
        np.random.set_state(state)
    return _explanation(
        X, players, values, base, classes, codes, PROBABILITY,
        f"permutation (shap.PermutationExplainer, {evals} evaluations per row)",
    )


def _as_3d(values, base, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """shap's (n, p) or (n, p, m) values and scalar/(n,)/(n, m) bases as (n, p, m), (n, m)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        values = values[:, :, None]
    n_outputs = values.shape[2]
    base = np.asarray(base, dtype=np.float64).reshape(-1, n_outputs)
    return values, np.broadcast_to(base, (n_rows, n_outputs)).copy()


def _explanation(X, columns, values, base, classes, codes, space, method) -> Explanation:
    """Sum classifier-input attributions into the explained features of the model inputs."""
    raw = list(X.columns)
    features = explained_features(raw)
    out = np.zeros((len(X), len(features), values.shape[2]))
    for j, name in enumerate(columns):
        out[:, features.index(feature_of(str(name), raw)), :] += values[:, j, :]
    return Explanation(
        case_ids=tuple(str(c) for c in X.index),
        features=tuple(features),
        outputs=tuple(classes[c] for c in explained_codes(codes)),
        values=out,
        base_values=np.asarray(base, dtype=np.float64),
        output_space=space,
        method=method,
    )

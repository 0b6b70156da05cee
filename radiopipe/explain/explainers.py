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

A CNN embedding reaches the classifier as the in-fold PCA's components ``cnn__{backbone}__pc{i}``,
which the explainers attribute to one by one (tree and linear SHAP on the classifier's inputs;
the permutation explainer with one player per component, see :func:`_component_players`); the
embedding's feature sums them, and the per-component values are kept beside
(``Explanation.components``) for the CNN saliency map. The components are the fold model's own:
``pc1`` of one fold is another direction than ``pc1`` of the next.
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
    component_group,
    component_order,
    embedding_pca,
    explained_feature,
    explained_features,
    feature_of,
    fitted_pipelines,
    pipeline_transform,
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
    components : tuple of str
        The CNN principal components ``cnn__{backbone}__pc{i}`` the model used (empty without
        CNN columns, or when the embedding is explained as one feature only).
    component_values : numpy.ndarray of shape (n_rows, n_components, n_outputs) or None
        Their SHAP values (0 for a component a row's model does not use); for each row and
        output they sum to the value of the embedding's feature.
    """

    case_ids: tuple[str, ...]
    features: tuple[str, ...]
    outputs: tuple[str, ...]
    values: np.ndarray
    base_values: np.ndarray
    output_space: str
    method: str
    components: tuple[str, ...] = ()
    component_values: np.ndarray | None = None

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
    """Permutation SHAP with one player per used feature (per used principal component for a CNN
    embedding), each either the reference's value (player off, 0) or the case's (on, 1):
    baseline Shapley values against the reference case."""
    shap = shap_module()
    players = used_features(estimator, X)
    components = _component_players(estimator, X)
    if components is not None:
        at = players.index(components.group)
        players = [*players[:at], *components.names, *players[at + 1:]]
    members = [[c for c in X.columns if explained_feature(c) == p] for p in players]
    switched = [j for j, p in enumerate(players) if component_group(p) is not None]
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
                if components is not None:
                    block = components.embeddings(case, typical, on[:, switched])
                    frame.update(zip(components.columns, block.T))
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


@dataclass(frozen=True)
class _ComponentPlayers:
    """The used principal components of a CNN embedding as permutation players.

    With loadings :math:`c_i` (orthonormal rows) and scores :math:`z_i = (e - \\bar e) \\cdot c_i`,
    a coalition S of components gets the embedding
    :math:`e_S = e - \\sum_{i \\notin S} (z_i(e) - z_i(r)) \\, c_i`, e the case's and r the
    reference's embedding: each component left out takes the reference's score and the others
    keep the case's, exactly. The rest of the embedding (directions outside the components,
    which the model does not see) stays the case's.
    """

    group: str
    names: list[str]
    columns: list[str]
    loadings: np.ndarray

    def embeddings(self, case: pd.Series, typical: pd.Series, on: np.ndarray) -> np.ndarray:
        """The embedding columns for each coalition (rows of ``on``, one column per player)."""
        reference = typical[self.columns].to_numpy(dtype=np.float64)
        embedding = case[self.columns].to_numpy(dtype=np.float64)
        # A missing value is imputed by the model with the reference's: do it before projecting.
        embedding = np.where(np.isnan(embedding), reference, embedding)
        shift = ((embedding - reference) @ self.loadings.T)[:, None] * self.loadings
        return embedding[None, :] - (1.0 - on) @ shift


def _component_players(estimator, X: pd.DataFrame) -> _ComponentPlayers | None:
    """The CNN components reaching a classifier, when the estimator's pipelines share one PCA."""
    pca = embedding_pca(estimator)
    if pca is None:
        return None
    names = [str(n) for n in pca.get_feature_names_out()[-len(pca.components_):]]
    reaching = {str(n) for p in fitted_pipelines(estimator)
                for n in pipeline_transform(p, X.head(1)).columns}
    used = [j for j, name in enumerate(names) if name in reaching]
    if not used:
        return None
    return _ComponentPlayers(
        group=component_group(names[0]),
        names=[names[j] for j in used],
        columns=[str(c) for c in pca.feature_names_in_[pca.embedding_indices_]],
        loadings=np.asarray(pca.components_, dtype=np.float64)[used],
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
    """Sum classifier-input attributions into the explained features of the model inputs; keep
    the CNN components' own values beside."""
    raw = list(X.columns)
    features = explained_features(raw)
    out = np.zeros((len(X), len(features), values.shape[2]))
    for j, name in enumerate(columns):
        out[:, features.index(feature_of(str(name), raw)), :] += values[:, j, :]
    names = [str(c) for c in columns]
    picked = sorted((j for j, c in enumerate(names) if component_group(c) is not None),
                    key=lambda j: component_order(names[j]))
    return Explanation(
        case_ids=tuple(str(c) for c in X.index),
        features=tuple(features),
        outputs=tuple(classes[c] for c in explained_codes(codes)),
        values=out,
        base_values=np.asarray(base, dtype=np.float64),
        output_space=space,
        method=method,
        components=tuple(names[j] for j in picked),
        component_values=values[:, picked, :] if picked else None,
    )

"""SHAP values on held-out rows: each case explained by the fold model that never saw it.

The validation stage keeps predictions, not its fold models, so each outer fold's model of the
primary candidate is fitted again on the fold's training rows with the hyperparameters the
search chose there (``metrics.json``), exactly as validation fitted it; its predictions on the
test rows are compared with the validated ones, and the test rows are explained. With repeated
k-fold the first repeat's models explain (the validated probabilities average all repeats).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from radiopipe.config import ModelConfig, SearchConfig
from radiopipe.explain.anatomy import anatomy, component_order, embedding_pca
from radiopipe.explain.explainers import Explanation, explain
from radiopipe.models.designs import OuterSplit, design_splits
from radiopipe.models.factory import Candidate, make_candidate
from radiopipe.models.fitting import FitSettings, fit_candidate
from radiopipe.models.validation import predict_codes
from radiopipe.training import ModelInputs


@dataclass(frozen=True)
class HeldOutExplanation:
    """SHAP values of held-out rows.

    Attributes
    ----------
    explanation : Explanation
        Rows in the cohort's order.
    folds : numpy.ndarray
        The outer fold that explained each row.
    refit_difference : float
        Largest absolute difference between the refitted fold models' probabilities and the
        validated ones on the explained rows (NaN where validation averaged repeats).
    embedding_pcas : dict of int to EmbeddingPCA
        Per outer fold whose model reduces a CNN embedding, its fitted in-fold PCA: the
        components ``explanation.components`` refer to (for the CNN saliency maps).
    """

    explanation: Explanation
    folds: np.ndarray
    refit_difference: float
    embedding_pcas: dict = field(default_factory=dict)


def explain_held_out(
    inputs: ModelInputs,
    classes: list[str],
    model: ModelConfig,
    best_params: list[dict],
    validated_proba: np.ndarray,
    *,
    budget_rows: np.ndarray,
    max_evals: int,
    n_jobs: int = 1,
) -> HeldOutExplanation:
    """Explain every held-out row (tree and linear models) or the budgeted ones (others).

    Parameters
    ----------
    inputs : ModelInputs
        The primary model's inputs, as the train stage assembled them.
    classes : list of str
    model : ModelConfig
    best_params : list of dict
        The search's choice per outer split (``metrics.json``: the primary model's entry).
    validated_proba : numpy.ndarray of shape (n, K)
        The validated held-out probabilities (NaN: never tested).
    budget_rows : numpy.ndarray of bool
        Rows the permutation explainer explains (a sample plus the report's cases).
    max_evals : int
        Permutation explainer: model evaluations per row.
    n_jobs : int
        Folds fitted and explained in parallel.

    Returns
    -------
    HeldOutExplanation
    """
    splits = design_splits(model.cv, inputs.y, inputs.groups, inputs.sites)
    chosen = [(split, best_params[i]) for i, split in enumerate(splits) if split.repeat == 0]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_explain_fold)(inputs, classes, model, split, params, budget_rows, max_evals)
        for split, params in chosen
    )
    results = [(r, split) for r, (split, _) in zip(results, chosen) if len(r[0])]
    rows = np.concatenate([test for (test, _, _, _), _ in results])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    explanation = _concatenate([e for (_, _, e, _), _ in results], order, classes)
    folds = np.concatenate([np.full(len(test), split.fold) for (test, _, _, _), split in results])
    proba = np.concatenate([p for (_, p, _, _), _ in results])[order]
    difference = np.nan
    if model.cv.design != "repeated_kfold" and len(rows):
        difference = float(np.abs(proba - validated_proba[rows]).max())
    pcas = {split.fold: pca for (_, _, _, pca), split in results if pca is not None}
    return HeldOutExplanation(explanation, folds[order], difference, pcas)


def _explain_fold(inputs: ModelInputs, classes, model: ModelConfig, split: OuterSplit,
                  params: dict, budget_rows: np.ndarray, max_evals: int):
    """Refit one fold's model as validation fitted it; explain its test rows.

    Returns (test rows, their probabilities, their explanation, the model's embedding PCA).
    """
    candidate = make_candidate(model, model.name, inputs.columns, seed=model.cv.seed)
    estimator = clone(candidate.estimator).set_params(**params)
    fixed = Candidate(candidate.name, candidate.kind, estimator, None)
    settings = FitSettings(SearchConfig(n_iter=0), model.preprocessing.calibration, model.cv.seed)
    train = split.train
    fitted = fit_candidate(fixed, inputs.X.iloc[train], inputs.y[train], inputs.groups[train],
                           split.inner, settings).estimator
    test = split.test
    if anatomy(fitted).method == "permutation":
        test = test[budget_rows[test]]
    if not len(test):
        return test, None, None, None
    X = inputs.X.iloc[test]
    proba = predict_codes(fitted, X, len(classes))
    explanation = explain(fitted, X, classes, max_evals=max_evals, seed=model.cv.seed)
    return test, proba, explanation, embedding_pca(fitted) if explanation.components else None


def _concatenate(parts: list[Explanation], order: np.ndarray, classes: list[str]) -> Explanation:
    """Stack the folds' explanations (outputs aligned by class; NaN where a fold lacks one; a
    CNN component a fold's model does not use has SHAP value 0 there)."""
    outputs = tuple(c for c in classes if any(c in part.outputs for part in parts))
    components = tuple(sorted({c for part in parts for c in part.components}, key=component_order))
    values, bases, component_values = [], [], []
    for part in parts:
        n, p, _ = part.values.shape
        value = np.full((n, p, len(outputs)), np.nan)
        base = np.full((n, len(outputs)), np.nan)
        component = np.zeros((n, len(components), len(outputs)))
        for k, name in enumerate(part.outputs):
            value[:, :, outputs.index(name)] = part.values[:, :, k]
            base[:, outputs.index(name)] = part.base_values[:, k]
            for q, column in enumerate(part.components):
                component[:, components.index(column), outputs.index(name)] = (
                    part.component_values[:, q, k]
                )
        missing = [k for k, name in enumerate(outputs) if name not in part.outputs]
        component[:, :, missing] = np.nan
        values.append(value)
        bases.append(base)
        component_values.append(component)
    first = parts[0]
    return Explanation(
        case_ids=tuple(np.concatenate([np.asarray(p.case_ids, dtype=object)
                                       for p in parts])[order]),
        features=first.features,
        outputs=outputs,
        values=np.concatenate(values)[order],
        base_values=np.concatenate(bases)[order],
        output_space=first.output_space,
        method=first.method,
        components=components,
        component_values=np.concatenate(component_values)[order] if components else None,
    )

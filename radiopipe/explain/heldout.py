"""SHAP values on held-out rows: each case explained by the fold model that never saw it.

The train stage keeps the primary model of every outer split (``fold_models/``); each one
explains the test rows of its split, so no model is fitted to explain. With repeated k-fold the
first repeat's models explain (the validated probabilities average all repeats). Each explained
fold logs one INFO line (``explain: SHAP 240/600 cases``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from joblib import delayed

from radiopipe.explain.anatomy import anatomy, component_order, embedding_pca
from radiopipe.explain.explainers import Explanation, explain
from radiopipe.models.inputs import ModelInputs
from radiopipe.models.validation import predict_codes
from radiopipe.parallel import unordered_results

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldOutExplanation:
    """SHAP values of held-out rows.

    Attributes
    ----------
    explanation : Explanation
        Rows in the cohort's order.
    folds : numpy.ndarray
        The outer fold that explained each row.
    model_difference : float
        Largest absolute difference between the kept fold models' probabilities and the
        validated ones on the explained rows (0 unless a model file no longer matches what
        validation fitted; NaN where validation averaged repeats).
    embedding_pcas : dict of int to EmbeddingPCA
        Per outer fold whose model reduces a CNN embedding, its fitted in-fold PCA: the
        components ``explanation.components`` refer to (for the CNN saliency maps).
    """

    explanation: Explanation
    folds: np.ndarray
    model_difference: float
    embedding_pcas: dict = field(default_factory=dict)


def explain_held_out(
    inputs: ModelInputs,
    classes: list[str],
    fold_models: list[tuple[int, object]],
    row_folds: np.ndarray,
    validated_proba: np.ndarray,
    *,
    budget_rows: np.ndarray,
    max_evals: int,
    seed: int,
    averaged: bool = False,
    n_jobs: int = 1,
) -> HeldOutExplanation:
    """Explain every held-out row (tree and linear models) or the budgeted ones (others).

    Parameters
    ----------
    inputs : ModelInputs
        The primary model's inputs, as the train stage assembled them.
    classes : list of str
    fold_models : list of (int, estimator)
        The fold and the fitted model of each outer split of the first repeat.
    row_folds : numpy.ndarray of int
        The outer fold that tested each row (-1: never tested).
    validated_proba : numpy.ndarray of shape (n, K)
        The validated held-out probabilities (NaN: never tested).
    budget_rows : numpy.ndarray of bool
        Rows the permutation explainer explains (a sample plus the report's cases).
    max_evals : int
        Permutation explainer: model evaluations per row.
    seed : int
        Seed of the permutation explainer.
    averaged : bool
        The validated probabilities average several repeats (no model difference is measured).
    n_jobs : int
        Folds explained in parallel.

    Returns
    -------
    HeldOutExplanation
    """
    tests = [_explained_rows(model, np.flatnonzero(row_folds == fold), budget_rows)
             for fold, model in fold_models]
    total = sum(len(test) for test in tests)
    start = time.perf_counter()
    jobs = (delayed(_explain_fold)(i, inputs, classes, model, test, max_evals, seed)
            for i, ((_, model), test) in enumerate(zip(fold_models, tests)))
    results: list = [None] * len(fold_models)
    done = 0
    with unordered_results(jobs, n_jobs) as finished:
        for i, result in finished:
            results[i] = result
            done += len(tests[i])
            logger.info("explain: SHAP %d/%d cases (%.0f s)", done, total,
                        time.perf_counter() - start)
    results = [(r, fold) for r, (fold, _) in zip(results, fold_models) if len(r[0])]
    rows = np.concatenate([test for (test, _, _, _), _ in results])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    explanation = _concatenate([e for (_, _, e, _), _ in results], order, classes)
    folds = np.concatenate([np.full(len(test), fold) for (test, _, _, _), fold in results])
    proba = np.concatenate([p for (_, p, _, _), _ in results])[order]
    difference = np.nan
    if not averaged and len(rows):
        difference = float(np.abs(proba - validated_proba[rows]).max())
    pcas = {fold: pca for (_, _, _, pca), fold in results if pca is not None}
    return HeldOutExplanation(explanation, folds[order], difference, pcas)


def _explained_rows(fitted, test: np.ndarray, budget_rows: np.ndarray) -> np.ndarray:
    """The test rows a fold model explains: all of them, or the budgeted ones for the
    permutation explainer."""
    return test[budget_rows[test]] if anatomy(fitted).method == "permutation" else test


def _explain_fold(task: int, inputs: ModelInputs, classes, fitted, test: np.ndarray,
                  max_evals: int, seed: int):
    """Explain one fold model's test rows.

    Returns ``task`` and (test rows, their probabilities, their explanation, the model's
    embedding PCA).
    """
    if not len(test):
        return task, (test, None, None, None)
    X = inputs.X.iloc[test]
    proba = predict_codes(fitted, X, len(classes))
    explanation = explain(fitted, X, classes, max_evals=max_evals, seed=seed)
    pca = embedding_pca(fitted) if explanation.components else None
    return task, (test, proba, explanation, pca)


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

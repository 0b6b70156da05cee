"""What validation found, summarised for ``metrics.json``: held-out metrics with patient-bootstrap
intervals per candidate, per-fold ROC-AUC and the design in words."""

from __future__ import annotations

import numpy as np

from radiopipe.config import ModelConfig
from radiopipe.evaluate import bootstrap_intervals, classification_metrics
from radiopipe.models.inputs import ModelInputs
from radiopipe.models.validation import ValidationResult
from radiopipe.records import CandidateSummary


def candidate_summary(result: ValidationResult, feature_set: str, inputs: ModelInputs, classes,
             model: ModelConfig, *, primary: bool) -> CandidateSummary:
    """Metrics and patient-bootstrap intervals of one candidate's held-out predictions."""
    tested = result.tested
    values = classification_metrics(inputs.y[tested], result.proba[tested], classes)
    scalars = {k: v for k, v in values.items() if not isinstance(v, (dict, list))}
    intervals = bootstrap_intervals(
        inputs.y[tested], result.proba[tested], inputs.groups[tested],
        n_resamples=model.bootstrap.n_resamples, seed=model.bootstrap.seed,
        method=model.bootstrap.method,
    )
    return CandidateSummary(
        model=result.name, kind=result.kind, feature_set=feature_set, primary=primary,
        metrics=json_safe(scalars), ci=intervals.bounds, best_params=result.best_params,
        ci_fallback=intervals.fallback,
    )


def json_safe(value):
    """NaN (an undefined metric) becomes None, recursively: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def validation_summary(model: ModelConfig, n_splits: int) -> dict:
    """The design in words (``scheme``) and every setting that shaped it."""
    cv = model.cv
    nested = model.search.n_iter > 0
    if cv.design == "kfold":
        scheme = f"patient-grouped stratified {cv.n_splits}-fold CV"
    elif cv.design == "repeated_kfold":
        scheme = (f"patient-grouped stratified {cv.n_splits}-fold CV repeated {cv.n_repeats} "
                  "times (probabilities averaged over repeats)")
    elif cv.design == "train_val_test":
        scheme = "patient-grouped train/validation/test split " + "/".join(
            f"{f:.0%}" for f in cv.fractions
        )
    else:
        scheme = f"external validation on held-out site(s) {', '.join(cv.external_sites)}"
    if nested:
        scheme += (f", hyperparameters by random search ({model.search.n_iter} candidates, "
                   f"{model.search.scoring}) on inner patient-grouped folds")
    return {
        "scheme": scheme,
        "design": cv.design,
        "nested": nested,
        "n_outer_splits": n_splits,
        "n_splits": cv.n_splits,
        "inner_splits": cv.inner_splits,
        "seed": cv.seed,
        "search": model.search.model_dump(),
        "preprocessing": model.preprocessing.model_dump(),
        "bootstrap": model.bootstrap.model_dump(),
    }


def per_fold(y: np.ndarray, result: ValidationResult) -> list[dict]:
    """Held-out ROC-AUC and test size of each outer fold of the first repeat (None where
    undefined).

    Each fold is scored on the probabilities of its own model (the first repeat's), not on the
    probabilities averaged over repeats, which mix models of other repeats' folds.
    """
    proba = result.proba if result.by_repeat is None else result.by_repeat[0]
    names = [str(code) for code in range(proba.shape[1])]
    rows = []
    for k in np.unique(result.fold[result.fold >= 0]):
        test = result.fold == k
        auc = classification_metrics(y[test], proba[test], names)["roc_auc"]
        rows.append({"fold": int(k), "n_test": int(test.sum()),
                     "roc_auc": None if np.isnan(auc) else auc})
    return rows

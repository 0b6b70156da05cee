"""Build an unfitted classifier from the model config."""

from __future__ import annotations

from sklearn.base import ClassifierMixin

from radiopipe.config import ModelConfig


def make_classifier(model: ModelConfig, *, n_jobs: int = 1, seed: int = 0) -> ClassifierMixin:
    """Return an unfitted classifier for the configured model.

    Parameters
    ----------
    model : ModelConfig
        Model name and hyperparameters.
    n_jobs : int
        Threads the model may use (-1 for all cores).
    seed : int
        Random seed.

    Returns
    -------
    sklearn.base.ClassifierMixin
    """
    if model.name == "xgboost":
        from xgboost import XGBClassifier

        params = model.xgboost
        return XGBClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            learning_rate=params.learning_rate,
            subsample=params.subsample,
            colsample_bytree=params.colsample_bytree,
            min_child_weight=params.min_child_weight,
            reg_lambda=params.reg_lambda,
            device=params.device,
            tree_method="hist",
            n_jobs=n_jobs,
            random_state=seed,
        )
    raise ValueError(f"unknown model '{model.name}'")

"""What a fitted radiopipe estimator is made of, as the explainers need it.

An estimator is an in-fold pipeline (:func:`radiopipe.models.infold.build_pipeline`), an ensemble
of such pipelines, or either wrapped in probability calibration. The explainers need: which
explainer fits it, the classifier and the transform in front of it (tree and linear models are
explained on the classifier's own inputs), the features that reach any classifier, and the
reference case that model-agnostic and linear attributions are measured from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from radiopipe.cnn.columns import PREFIX as CNN_PREFIX
from radiopipe.cnn.columns import backbone_of
from radiopipe.models.boosters import LightGBMClassifier, XGBoostClassifier
from radiopipe.models.calibration import GroupedCalibratedClassifier
from radiopipe.models.ensembles import SoftVotingEnsemble, StackingEnsemble

Method = Literal["tree", "linear", "permutation"]
TREE_MODELS = (XGBoostClassifier, LightGBMClassifier, RandomForestClassifier)
EMBEDDING = "embedding"


@dataclass(frozen=True)
class Anatomy:
    """The parts of a fitted estimator an explainer uses.

    Attributes
    ----------
    method : {'tree', 'linear', 'permutation'}
        Exact tree SHAP, exact linear SHAP, or the budgeted permutation explainer (SVMs,
        ensembles, calibrated models: anything whose output is not one tree or linear model).
    classifier : estimator
        The final step of the pipeline (for 'permutation' the whole estimator).
    pipelines : list of Pipeline
        Every fitted in-fold pipeline inside the estimator (several for an ensemble).
    """

    method: Method
    classifier: object
    pipelines: list

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The classifier's inputs for the rows ``X`` (tree and linear methods only)."""
        return pipeline_transform(self.pipelines[0], X)


def anatomy(estimator) -> Anatomy:
    """Dissect a fitted estimator (see :class:`Anatomy`)."""
    pipelines = fitted_pipelines(estimator)
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        if isinstance(final, TREE_MODELS):
            return Anatomy("tree", final, pipelines)
        if isinstance(final, LogisticRegression):
            return Anatomy("linear", final, pipelines)
    return Anatomy("permutation", estimator, pipelines)


def fitted_pipelines(estimator) -> list:
    """Every fitted pipeline inside ``estimator``: itself, ensemble members, calibrated models."""
    if isinstance(estimator, Pipeline):
        return [estimator]
    if isinstance(estimator, (SoftVotingEnsemble, StackingEnsemble)):
        return [p for member in estimator.estimators_ for p in fitted_pipelines(member)]
    if isinstance(estimator, GroupedCalibratedClassifier):
        return fitted_pipelines(estimator.calibrated_)
    if isinstance(estimator, CalibratedClassifierCV):
        return [p for c in estimator.calibrated_classifiers_ for p in fitted_pipelines(c.estimator)]
    return []


def pipeline_transform(pipeline, X: pd.DataFrame) -> pd.DataFrame:
    """Apply every step but the classifier; resamplers (SMOTE) act in training only."""
    out = X
    for _, step in pipeline.steps[:-1]:
        if not hasattr(step, "fit_resample"):
            out = step.transform(out)
    return out


def explained_feature(column: str) -> str:
    """The feature an input column's attribution is reported under: itself, except that a CNN
    embedding's dimensions (reduced together by the in-fold PCA) form one feature per backbone,
    ``cnn__{backbone}__embedding``."""
    backbone = backbone_of(column)
    return column if backbone is None else f"{CNN_PREFIX}__{backbone}__{EMBEDDING}"


def component_group(column: str) -> str | None:
    """The explained feature a CNN principal-component column ``cnn__{backbone}__pc{i}`` (an
    input of the classifier, made by the in-fold PCA) belongs to; None for any other column."""
    parts = column.split("__")
    is_component = (
        len(parts) == 3 and parts[0] == CNN_PREFIX and parts[2][:2] == "pc"
        and parts[2][2:].isdigit()
    )
    return f"{CNN_PREFIX}__{parts[1]}__{EMBEDDING}" if is_component else None


def component_order(column: str) -> tuple[str, int]:
    """Sort key of component columns: by backbone, then component number."""
    stem, number = column.rsplit("__pc", 1)
    return stem, int(number)


def embedding_pca(estimator):
    """The fitted in-fold PCA of the CNN embedding that an explanation's components refer to.

    The ``embedding_pca`` step of the estimator's pipelines; None when they have none, or when
    they reduce the embedding differently (their components then mean different directions,
    and the embedding is explained as one feature only).
    """
    steps = [p.named_steps["embedding_pca"] for p in fitted_pipelines(estimator)
             if "embedding_pca" in p.named_steps]
    if not steps:
        return None
    first = steps[0]
    for other in steps[1:]:
        if other.components_.shape != first.components_.shape or not (
            np.array_equal(other.components_, first.components_)
            and np.array_equal(other.mean_, first.mean_)
        ):
            return None
    return first


def explained_features(columns) -> list[str]:
    """The explained features of the input columns, in their order (see `explained_feature`)."""
    return list(dict.fromkeys(explained_feature(c) for c in columns))


def feature_of(name: str, raw_columns: list[str]) -> str:
    """The explained feature a classifier input comes from.

    Every in-fold step but two maps one input column to one output column of the same name
    (imputation, ComBat, filters, scaling, selection); one-hot encoding makes ``col_value``
    columns of a categorical ``col``, and the embedding PCA ``cnn__{backbone}__pc{i}`` columns of
    a backbone's embedding.
    """
    if name in raw_columns:
        return explained_feature(name)
    owners = [c for c in raw_columns if name.startswith(c + "_")]
    if owners:
        return max(owners, key=len)
    group = f"{name.rsplit('__', 1)[0]}__{EMBEDDING}"
    if group in explained_features(raw_columns):
        return group
    raise ValueError(f"classifier input '{name}' comes from no model input column")


def used_features(estimator, X: pd.DataFrame) -> list[str]:
    """Explained features that reach at least one classifier, in ``X``'s column order."""
    raw = list(X.columns)
    pipelines = fitted_pipelines(estimator)
    if not pipelines:
        return explained_features(raw)
    used = {feature_of(str(n), raw) for p in pipelines for n in pipeline_transform(p, X.head(1))}
    return [f for f in explained_features(raw) if f in used]


def reference_frame(estimator, X: pd.DataFrame) -> pd.DataFrame:
    """The reference case of every row: the model's imputation statistics, the row's own site.

    The reference is the typical training case as the fitted model itself recorded it (the
    per-column median, mean or most frequent value its imputers learned on the training rows
    only), so attributions need no training data beside the model. Columns no imputer covers
    (the ComBat site) keep the row's own value: they are context, not explained.
    """
    pipelines = fitted_pipelines(estimator)
    statistics = _imputer_statistics(pipelines[0].steps[0][1], None) if pipelines else {}
    reference = X.copy()
    for column, value in statistics.items():
        if column in reference.columns:
            reference[column] = value
    return reference


def _imputer_statistics(transformer, columns) -> dict:
    if isinstance(transformer, SimpleImputer):
        return dict(zip(columns, transformer.statistics_))
    if isinstance(transformer, Pipeline):
        return _imputer_statistics(transformer.steps[0][1], columns)
    if isinstance(transformer, ColumnTransformer):
        out: dict = {}
        for _, part, part_columns in transformer.transformers_:
            if not isinstance(part, str):
                out.update(_imputer_statistics(part, list(np.atleast_1d(part_columns))))
        return out
    return {}

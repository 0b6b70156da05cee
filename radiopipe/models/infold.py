"""The in-fold pipeline: every preprocessing step is part of the estimator, so it is fitted on the
training rows of each fold only.

Order: imputation and encoding (image features, CNN embeddings, clinical numeric and categorical
columns) -> ComBat by site (image features) -> stability filter (the ICC over the robustness
run's perturbed versions of the training cases, optional) -> PCA of the CNN embeddings ->
near-constant removal -> correlation filter -> scaling -> feature selection -> SMOTE (optional)
-> classifier. The pipeline outputs pandas DataFrames (``set_output(transform="pandas")``), so
column names reach the classifier and SHAP.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, RobustScaler, StandardScaler

from radiopipe.cnn.columns import component_prefix
from radiopipe.config import PreprocessingConfig
from radiopipe.models.combat import ComBatHarmoniser
from radiopipe.models.embedding import EmbeddingPCA
from radiopipe.models.reduction import CorrelationFilter, NearConstantFilter
from radiopipe.models.selection import make_selector
from radiopipe.models.stability import StabilityFilter


@dataclass(frozen=True)
class InputColumns:
    """The model's input columns by role.

    Attributes
    ----------
    image : tuple of str
        Image feature columns.
    numeric : tuple of str
        Numeric clinical columns.
    categorical : tuple of str
        Categorical clinical columns (strings; missing values as NaN).
    site : str or None
        The site column, present only when ComBat harmonises by site.
    embedding : tuple of str
        Raw CNN embedding columns ``cnn__{backbone}__e{j}``, reduced in-fold by PCA.
    embedding_components : int
        Principal components the embedding is reduced to.
    """

    image: tuple[str, ...]
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    site: str | None = None
    embedding: tuple[str, ...] = ()
    embedding_components: int = 8

    @property
    def order(self) -> list[str]:
        """Every input column in the order the model expects them."""
        site = [self.site] if self.site else []
        return [*self.image, *self.embedding, *self.numeric, *self.categorical, *site]


def build_pipeline(
    classifier: ClassifierMixin, settings: PreprocessingConfig, columns: InputColumns, *, seed: int,
    perturbed: pd.DataFrame | None = None,
) -> Pipeline:
    """Assemble the unfitted in-fold pipeline around ``classifier``.

    Parameters
    ----------
    classifier : classifier
        The final step.
    settings : PreprocessingConfig
        Which steps to include and their parameters.
    columns : InputColumns
        The input columns by role.
    seed : int
        Seed of the random steps (LASSO solver, SMOTE).
    perturbed : pandas.DataFrame, optional
        Every case's perturbed feature values indexed by ``(case_id, perturbation)``, for the
        stability filter (:class:`~radiopipe.models.stability.StabilityFilter`); required when
        ``settings.stability_threshold`` is set.

    Returns
    -------
    sklearn.pipeline.Pipeline or imblearn.pipeline.Pipeline
        imbalanced-learn's pipeline when SMOTE is on (it resamples training rows only).
    """
    steps = [("encode", _encoder(settings, columns))]
    if settings.stability_threshold is not None:
        if perturbed is None:
            raise ValueError("preprocessing.stability_threshold needs the perturbed feature "
                             "values; pass build_pipeline(..., perturbed=...)")
        steps.append(("stability", StabilityFilter(perturbed, settings.stability_threshold,
                                                   settings.stability_icc)))
    if columns.embedding:
        pca = EmbeddingPCA(
            columns.embedding_components, list(columns.embedding),
            component_prefix(columns.embedding),
        )
        steps.append(("embedding_pca", pca))
    if settings.near_constant is not None:
        steps.append(("near_constant", NearConstantFilter(settings.near_constant)))
    if settings.correlation_threshold is not None:
        steps.append(("decorrelate", CorrelationFilter(settings.correlation_threshold)))
    steps.append(("scale", StandardScaler() if settings.scaler == "standard" else RobustScaler()))
    selector = make_selector(settings.selection, settings.n_features, seed=seed)
    if selector is not None:
        steps.append(("select", selector))
    if settings.smote:
        from imblearn.over_sampling import SMOTE
        from imblearn.pipeline import Pipeline as ImbalancedPipeline

        steps.append(("smote", SMOTE(k_neighbors=settings.smote_neighbours, random_state=seed)))
        steps.append(("classifier", classifier))
        return ImbalancedPipeline(steps).set_output(transform="pandas")
    steps.append(("classifier", classifier))
    return Pipeline(steps).set_output(transform="pandas")


def _encoder(settings: PreprocessingConfig, columns: InputColumns) -> ColumnTransformer:
    """Imputation of every role, one-hot categories, and ComBat on the image features."""
    parts = []
    if columns.image:
        image = SimpleImputer(strategy=settings.impute)
        if settings.harmonise == "combat":
            if columns.site is None:
                raise ValueError("ComBat harmonisation needs the site column in InputColumns")
            impute = ColumnTransformer(
                [("values", image, list(columns.image)), ("site", "passthrough", [columns.site])],
                verbose_feature_names_out=False,
            )
            image = Pipeline([("impute", impute), ("combat", ComBatHarmoniser(columns.site))])
            parts.append(("image", image, [*columns.image, columns.site]))
        else:
            parts.append(("image", image, list(columns.image)))
    if columns.embedding:  # not harmonised: ComBat adjusts the radiomics features only
        embedding = SimpleImputer(strategy=settings.impute)
        parts.append(("embedding", embedding, list(columns.embedding)))
    if columns.numeric:
        parts.append(("numeric", SimpleImputer(strategy=settings.impute), list(columns.numeric)))
    if columns.categorical:
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        parts.append(("categorical", categorical, list(columns.categorical)))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)

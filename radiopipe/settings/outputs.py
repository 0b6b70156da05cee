"""The run config's output sections: explanations (SHAP, feature maps) and the report.

Validated by :mod:`radiopipe.config`, which re-exports every name here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from radiopipe.settings.base import Strict


class FeatureMapConfig(Strict):
    """Voxel-wise maps of a case's top features (sliding window over the ROI's largest slice)."""

    enabled: bool = True
    top_features: int = Field(3, ge=1, le=10)  # mapped features per case page
    window: int = Field(5, ge=3, le=15)  # window side in voxels (odd)
    max_windows: int = Field(400, ge=1)  # per map; the stride grows until the ROI slice fits
    # A window is shown only where this fraction of its voxels lies in the ROI (1: wholly inside)
    min_coverage: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _odd_window(self) -> FeatureMapConfig:
        if self.window % 2 == 0:
            raise ValueError("'window' must be odd, so that each window is centred on its voxel")
        return self


class ExplainConfig(Strict):
    """SHAP explanations of the primary model on held-out rows, and feature maps.

    Tree models (XGBoost, LightGBM, random forest) and logistic regression are explained exactly;
    SVMs, ensembles and calibrated models by a permutation explainer within the budget below.
    On by default: every run explains its predictions (false skips the SHAP sections).
    """

    enabled: bool = True
    # Model-agnostic explainer only: held-out rows explained (report cases always included) and
    # model evaluations per row (at least 2 * used features + 1: one antithetic permutation).
    max_rows: int = Field(200, ge=1)
    max_evals: int = Field(500, ge=3)
    dependence_features: int = Field(4, ge=0, le=20)  # dependence plots of the top features
    feature_maps: FeatureMapConfig = FeatureMapConfig()


class PublishedResult(Strict):
    """A published estimate for the run's question, shown beside the run's own (``report.
    published``): where it comes from, its ROC-AUC, and how it was estimated."""

    source: str = Field(min_length=1)   # the citation
    roc_auc: float = Field(ge=0, le=1)
    design: str = Field(min_length=1)   # how the figure was estimated, in a sentence
    note: str = ""                      # anything else a reader needs to compare the two


class ReportConfig(Strict):
    """Report settings."""

    title: str = "radiopipe report"
    # Case pages (with explanations on): these case ids, or else up to n_cases picked per class
    # (the most confident correct and the most confident wrong held-out prediction).
    cases: list[str] = Field(default_factory=list)
    n_cases: int = Field(6, ge=0, le=100)
    # auto: report.pdf through headless Chromium if installed
    pdf: Literal["auto", "never"] = "auto"
    intended_use: str = (
        "Research use only: exploring which image features distinguish the classes in this "
        "cohort. Not a medical device; not for diagnosis or treatment decisions."
    )
    limitations: list[str] = Field(default_factory=list)  # added to the model card's own
    published: list[PublishedResult] = Field(default_factory=list)

"""Explanations: SHAP values per model family, on held-out rows, and feature maps.

``explain`` computes SHAP values of any fitted radiopipe estimator (exact tree and linear SHAP,
a budgeted permutation explainer otherwise; a CNN embedding's principal components one by one);
``explain_held_out`` explains each held-out row by the fold model that never saw it;
``feature_maps`` computes a case's features voxel-wise over its largest slice (by the
voxel-wise engine's kernels where it covers them); ``cnn_saliency`` maps a case's CNN
contribution onto its input image. The run's explain stage (:mod:`radiopipe.stages.explain`)
calls them and writes what they find into the run folder.
"""

from radiopipe.explain.cases import select_cases
from radiopipe.explain.cnn_saliency import SaliencyMap, cnn_saliency
from radiopipe.explain.explainers import Explanation, explain
from radiopipe.explain.feature_maps import FeatureMap, feature_maps, has_map
from radiopipe.explain.heldout import HeldOutExplanation, explain_held_out

__all__ = [
    "Explanation",
    "FeatureMap",
    "HeldOutExplanation",
    "SaliencyMap",
    "cnn_saliency",
    "explain",
    "explain_held_out",
    "feature_maps",
    "has_map",
    "select_cases",
]

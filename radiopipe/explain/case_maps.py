"""What a case page maps: the output it explains, its top mappable features, their local value
maps and, given the model that predicted the case, their contribution map."""

from __future__ import annotations

import logging

import numpy as np

from radiopipe.config import DataConfig, FeatureConfig, FeatureMapConfig
from radiopipe.errors import CaseError
from radiopipe.explain.contribution_maps import CaseModel, contribution_map
from radiopipe.explain.explainers import Explanation
from radiopipe.explain.feature_maps import FeatureMap, feature_maps, has_map
from radiopipe.io import Volume, read_case
from radiopipe.manifest import Case

logger = logging.getLogger(__name__)


def explained_output(explanation: Explanation, predicted: str) -> int:
    """The output a case page shows: the predicted class's, or the only one (two classes)."""
    return explanation.outputs.index(predicted) if predicted in explanation.outputs else 0


def top_features(explanation: Explanation, case_id: str, predicted: str,
                 settings: FeatureMapConfig) -> list[str]:
    """The case's mappable features with the largest absolute SHAP values, largest first."""
    row = explanation.case_ids.index(case_id)
    values = np.nan_to_num(explanation.values[row, :, explained_output(explanation, predicted)])
    ranked = [explanation.features[j] for j in np.argsort(-np.abs(values), kind="stable")]
    return [f for f in ranked if has_map(f)][: settings.top_features]


def case_feature_maps(case: Case, features: list[str], settings: FeatureConfig, data: DataConfig,
                      maps: FeatureMapConfig, model: CaseModel | None = None) -> list[FeatureMap]:
    """Read one case as extraction does and map ``features``; [] (logged) if it cannot be read.

    With ``model``, the local value maps are followed by their contribution map.
    """
    if not features or not maps.enabled:
        return []
    try:
        image, mask = read_case(case, data)
    except CaseError as exc:
        logger.warning("no feature maps: %s", exc)
        return []
    local = feature_maps(Volume.from_sitk(image), Volume.from_sitk(mask), features, settings,
                         window=maps.window, max_windows=maps.max_windows,
                         min_coverage=maps.min_coverage)
    if not local:
        logger.warning("no feature maps for case %s: no %d-voxel window of its ROI's largest "
                       "slice lies %.0f%% in the ROI; lower explain.feature_maps.window or "
                       "min_coverage", case.case_id, maps.window, 100 * maps.min_coverage)
        return []
    contribution = contribution_map(local, model) if model is not None else None
    return local + ([contribution] if contribution is not None else [])

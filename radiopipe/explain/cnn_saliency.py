"""The CNN branch's explanation on the image: where a case's CNN contribution comes from.

For a case explained by a model with CNN columns, the SHAP values of the embedding's principal
components (``Explanation.components``, for the class the page explains) weight the in-fold PCA
of the same model, and :func:`radiopipe.cnn.saliency.case_saliency` takes the gradient of that
weighted projection with respect to the case's input image. A case page shows one input (the
one with the largest ROI) with the map overlaid, beside the radiomics feature maps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiopipe.config import CNNConfig, DataConfig
from radiopipe.errors import CaseError, ConfigError
from radiopipe.explain.explainers import Explanation
from radiopipe.manifest import Case

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaliencyMap:
    """A case's CNN saliency on the input its page shows.

    Attributes
    ----------
    plane : str
        What the input shows (e.g. ``'axial z=12'``, ``'2D'``).
    image : numpy.ndarray of shape (size, size)
        The input on [0, 1] as the backbone saw it (before its normalisation; colour averaged).
    roi : numpy.ndarray of bool, shape (size, size)
        The ROI on the input's grid.
    values : numpy.ndarray of shape (size, size)
        The gradient of the SHAP-weighted projection per pixel (positive: towards the class).
    score : float
        The SHAP-weighted projection of the case's embedding.
    components : tuple of str
        The principal components, ``cnn__{backbone}__pc{i}``.
    weights : numpy.ndarray of shape (k,)
        Each component's SHAP value (0 where the model does not use it).
    """

    plane: str
    image: np.ndarray
    roi: np.ndarray
    values: np.ndarray
    score: float
    components: tuple[str, ...]
    weights: np.ndarray


def component_shap(explanation: Explanation, row: int, output: int) -> dict[str, float]:
    """One case's SHAP values of the CNN components for one explained output, by column."""
    if not explanation.components:
        return {}
    values = explanation.component_values[row, :, output]
    return dict(zip(explanation.components, (float(v) for v in values)))


def cnn_saliency(
    case: Case,
    cnn: CNNConfig,
    data: DataConfig,
    pca,
    shap_values: dict[str, float],
    *,
    weights: Path | None,
) -> SaliencyMap | None:
    """The saliency of a case's CNN contribution, or None (logged) when it cannot be computed.

    Parameters
    ----------
    case : Case
    cnn : CNNConfig
        The run's (or bundle's) ``cnn`` section.
    data : DataConfig
        How the images and masks were read.
    pca : EmbeddingPCA
        The fitted in-fold PCA of the model that explained the case.
    shap_values : dict of str to float
        The case's SHAP values of the components (:func:`component_shap`).
    weights : Path or None
        The resolved backbone weights file (``cnn.weights``).

    Returns
    -------
    SaliencyMap or None
        None when the case cannot be read or the backbone gives no gradients (ONNX).
    """
    from radiopipe.cnn.saliency import case_saliency, shown_input  # torch loads with a backbone

    try:
        saliency = case_saliency(case, cnn, data, pca, shap_values, weights=weights)
    except (CaseError, ConfigError) as exc:
        logger.warning("no CNN saliency for case %s: %s", case.case_id, exc)
        return None
    index = shown_input(saliency)
    names = pca.get_feature_names_out()[-len(pca.components_):]
    return SaliencyMap(
        plane=saliency.inputs.planes[index],
        image=saliency.inputs.images[index].mean(axis=0).astype(np.float64),
        roi=saliency.inputs.roi[index].astype(bool),
        values=np.asarray(saliency.maps[index], dtype=np.float64),
        score=saliency.score,
        components=tuple(str(n) for n in names),
        weights=np.asarray(saliency.weights, dtype=np.float64),
    )

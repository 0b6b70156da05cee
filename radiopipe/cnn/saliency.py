"""Where on the image the CNN columns' contribution to one prediction comes from.

The model sees the embedding :math:`e(x)` of the input image :math:`x` only through its in-fold
PCA scores :math:`z_i = (e(x) - \\bar e) \\cdot c_i`. Weighting each component by the SHAP value
:math:`\\phi_i` of its column gives the case's CNN contribution as one scalar,

.. math:: s(x) = \\sum_i \\phi_i \\, z_i(x) = (e(x) - \\bar e) \\cdot \\sum_i \\phi_i c_i ,

and the saliency map is its gradient :math:`\\partial s / \\partial x` with respect to every
input pixel (on [0, 1], before the backbone's normalisation; colour channels summed). Positive
pixels push the explained class's score up. Components that no classifier input keeps (filtered
or not selected) have no SHAP value and weigh 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiopipe.cnn.backbones import Backbone, load_backbone
from radiopipe.cnn.extraction import backbone_options, input_settings, read_cnn_case
from radiopipe.cnn.inputs import PreparedInputs, prepare_inputs
from radiopipe.cnn.runtime import require
from radiopipe.config import CNNConfig, DataConfig
from radiopipe.errors import ConfigError
from radiopipe.manifest import Case


@dataclass(frozen=True)
class Saliency:
    """A case's CNN saliency.

    Attributes
    ----------
    maps : numpy.ndarray of shape (n, size, size)
        :math:`\\partial s / \\partial x` per input pixel, one map per input (slice or plane).
    inputs : PreparedInputs
        The images the maps belong to (with the ROI on the same grid).
    score : float
        :math:`s(x)`, the SHAP-weighted projection of the case's embedding.
    weights : numpy.ndarray of shape (k,)
        The SHAP value used for each principal component.
    """

    maps: np.ndarray
    inputs: PreparedInputs
    score: float
    weights: np.ndarray


def component_weights(pca, shap_values: Mapping[str, float]) -> np.ndarray:
    """Each principal component's SHAP value, 0 where its column reached no classifier input.

    Parameters
    ----------
    pca : EmbeddingPCA
        The fitted in-fold PCA step (``pipeline.named_steps['embedding_pca']``).
    shap_values : mapping of str to float
        One case's SHAP values for one class, by classifier input column.
    """
    names = pca.get_feature_names_out()[-len(pca.components_):]
    return np.asarray([float(shap_values.get(str(name), 0.0)) for name in names])


def embedding_saliency(
    backbone: Backbone,
    inputs: PreparedInputs,
    pca,
    shap_values: Mapping[str, float],
    *,
    aggregation: str = "mean",
) -> Saliency:
    """The gradient of the SHAP-weighted PCA projection of a case's embedding.

    Parameters
    ----------
    backbone : Backbone
        A differentiable backbone (efficientnet_lite0 or TorchScript).
    inputs : PreparedInputs
        The case's inputs, prepared as for its embedding.
    pca : EmbeddingPCA
        The fitted in-fold PCA of the model being explained.
    shap_values : mapping of str to float
        SHAP values of the case by classifier input column (``cnn__{backbone}__pc{i}``).
    aggregation : {'mean', 'max'}
        How the case's per-input embeddings were aggregated.

    Returns
    -------
    Saliency

    Raises
    ------
    ConfigError
        For an ONNX backbone, which runs without gradients.
    """
    if backbone.module is None:
        raise ConfigError(
            f"saliency needs gradients, which backbone '{backbone.name}' (onnxruntime) does not "
            "give; use efficientnet_lite0 or a TorchScript model"
        )
    torch = require("torch")
    weights = component_weights(pca, shap_values)
    direction = weights @ np.asarray(pca.components_)
    device = backbone.device
    images = torch.tensor(inputs.images, dtype=torch.float32, device=device, requires_grad=True)
    per_input = backbone.module(
        backbone.normalise(images, asarray=lambda a: torch.as_tensor(a, device=device))
    )
    embedding = per_input.mean(dim=0) if aggregation == "mean" else per_input.max(dim=0).values
    centred = embedding.double() - torch.as_tensor(pca.mean_, device=device)
    score = (centred * torch.as_tensor(direction, device=device)).sum()
    score.backward()
    maps = images.grad.sum(dim=1).double().cpu().numpy()
    return Saliency(maps=maps, inputs=inputs, score=float(score.detach()), weights=weights)


def case_saliency(
    case: Case,
    cnn: CNNConfig,
    data: DataConfig,
    pca,
    shap_values: Mapping[str, float],
    *,
    weights: Path | None = None,
) -> Saliency:
    """:func:`embedding_saliency` of a manifest case, prepared as the run embedded it.

    Parameters
    ----------
    case : Case
    cnn : CNNConfig
        The run's ``cnn`` section.
    data : DataConfig
        How the run read images and masks.
    pca : EmbeddingPCA
        The fitted in-fold PCA of the model being explained.
    shap_values : mapping of str to float
        The case's SHAP values by classifier input column.
    weights : Path, optional
        The resolved ``cnn.weights`` file.
    """
    backbone = load_backbone(backbone_options(cnn, weights))
    image, mask, spacing = read_cnn_case(case, cnn, data)
    inputs = prepare_inputs(image, mask, spacing, input_settings(cnn, backbone))
    return embedding_saliency(backbone, inputs, pca, shap_values, aggregation=cnn.aggregation)


def saliency_figure(saliency: Saliency, index: int | None = None):
    """The input image with the saliency overlaid (red: towards the class, blue: away) and the ROI.

    Parameters
    ----------
    saliency : Saliency
    index : int, optional
        Which input (slice or plane); defaults to the one with the largest ROI
        (:func:`shown_input`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    inputs = saliency.inputs
    if index is None:
        index = shown_input(saliency)
    return overlay_figure(
        inputs.images[index].mean(axis=0), inputs.roi[index], saliency.maps[index],
        inputs.planes[index],
    )


def shown_input(saliency: Saliency) -> int:
    """The input a figure shows by default: the one with the largest ROI (the first of equals)."""
    return int(saliency.inputs.roi.sum(axis=(1, 2)).argmax())


def overlay_figure(grey: np.ndarray, roi: np.ndarray, values: np.ndarray, plane: str):
    """Two panels: the input, and the saliency over it (colour scale symmetric about 0).

    Parameters
    ----------
    grey : numpy.ndarray of shape (size, size)
        The input on [0, 1] (colour channels averaged).
    roi : numpy.ndarray of bool, shape (size, size)
        The ROI on the input's grid, outlined in yellow.
    values : numpy.ndarray of shape (size, size)
        The saliency per pixel.
    plane : str
        What the input shows (e.g. ``'axial z=12'``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    limit = float(np.abs(values).max()) or 1.0
    figure = Figure(figsize=(7.6, 3.8))
    left, right = figure.subplots(1, 2)
    for ax in (left, right):
        ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
        if roi.any() and not roi.all():  # a contour needs both sides of the ROI's edge
            ax.contour(roi, levels=[0.5], colors="yellow", linewidths=0.8)
        ax.set_axis_off()
    left.set_title(f"input ({plane})", fontsize=9)
    shown = right.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.6)
    right.set_title("CNN saliency (SHAP-weighted)", fontsize=9)
    figure.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    return figure

"""Saliency: the gradient of the SHAP-weighted PCA projection of the embedding w.r.t. the input."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the CNN branch needs pip install 'radiopipe[cnn]'")

from cnn_toys import disc_image, write_onnx_mean, write_torchscript  # noqa: E402

from radiopipe.cnn.backbones import BackboneOptions, load_backbone  # noqa: E402
from radiopipe.cnn.embed import aggregate, embed_inputs  # noqa: E402
from radiopipe.cnn.inputs import InputSettings, prepare_inputs  # noqa: E402
from radiopipe.cnn.saliency import (  # noqa: E402
    component_weights,
    embedding_saliency,
    saliency_figure,
)
from radiopipe.errors import ConfigError  # noqa: E402
from radiopipe.models.embedding import EmbeddingPCA  # noqa: E402

PREFIX = "cnn__torchscript__pc"


def _setup(tmp_path, aggregation="mean"):
    weights = write_torchscript(tmp_path / "toy.pt")
    backbone = load_backbone(BackboneOptions("torchscript", weights=weights, input_size=16))
    image, roi = disc_image()
    volume = np.stack([image, image[::-1], image.T])  # three slices of a 3D case
    inputs = prepare_inputs(volume, np.stack([roi] * 3), (2.0, 1.0, 1.0), InputSettings(size=16))
    training = np.random.default_rng(0).normal(size=(20, 4))
    pca = EmbeddingPCA(n_components=2, prefix=PREFIX).fit(training)
    return backbone, inputs, pca


def _score(backbone, images, pca, weights, aggregation):
    [per_input] = embed_inputs(backbone, [images])
    embedding = aggregate(per_input, aggregation)
    return float(((embedding - pca.mean_) @ pca.components_.T) @ weights)


@pytest.mark.parametrize("aggregation", ["mean", "max"])
def test_saliency_is_the_gradient_of_the_weighted_projection(tmp_path, aggregation):
    backbone, inputs, pca = _setup(tmp_path)
    shap = {f"{PREFIX}1": 0.7, f"{PREFIX}2": -0.3, "original__firstorder__Mean": 5.0}
    saliency = embedding_saliency(backbone, inputs, pca, shap, aggregation=aggregation)
    weights = np.array([0.7, -0.3])
    np.testing.assert_array_equal(saliency.weights, weights)
    assert saliency.maps.shape == (3, 16, 16)
    assert saliency.score == pytest.approx(
        _score(backbone, inputs.images, pca, weights, aggregation), rel=1e-4
    )
    step = 1e-2
    for index in [(0, 8, 8), (1, 5, 9), (2, 12, 3)]:
        plus, minus = inputs.images.copy(), inputs.images.copy()
        plus[index[0], 0, index[1], index[2]] += step
        minus[index[0], 0, index[1], index[2]] -= step
        numeric = (_score(backbone, plus, pca, weights, aggregation)
                   - _score(backbone, minus, pca, weights, aggregation)) / (2 * step)
        assert saliency.maps[index] == pytest.approx(numeric, rel=2e-2, abs=1e-5)


def test_components_without_a_shap_value_weigh_nothing(tmp_path):
    _, _, pca = _setup(tmp_path)
    np.testing.assert_array_equal(component_weights(pca, {f"{PREFIX}2": 2.0}), [0.0, 2.0])


def test_onnx_backbones_have_no_saliency(tmp_path):
    pytest.importorskip("onnxruntime")
    _, inputs, pca = _setup(tmp_path)
    onnx = load_backbone(BackboneOptions("onnx", weights=write_onnx_mean(tmp_path / "m.onnx", 16)))
    with pytest.raises(ConfigError, match="saliency needs gradients"):
        embedding_saliency(onnx, inputs, pca, {})


def test_overlay_figure_shows_the_input_and_the_map(tmp_path):
    backbone, inputs, pca = _setup(tmp_path)
    saliency = embedding_saliency(backbone, inputs, pca, {f"{PREFIX}1": 1.0})
    figure = saliency_figure(saliency)
    image_axes = [ax for ax in figure.axes if ax.images]
    assert len(image_axes) == 2 and image_axes[0].get_title().startswith("input (axial z=")
    figure.savefig(tmp_path / "saliency.png")
    assert (tmp_path / "saliency.png").stat().st_size > 0

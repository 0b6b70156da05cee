"""Backbones: the shipped ImageNet weights really load; local TorchScript and ONNX files; errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the CNN branch needs pip install 'radiopipe[cnn]'")

from cnn_toys import toy_torch_network, write_onnx_mean, write_torchscript  # noqa: E402
from skimage import data  # noqa: E402

from radiopipe.cnn.backbones import (  # noqa: E402
    LITE_MEAN,
    LITE_STD,
    BackboneOptions,
    efficientnet_lite0_network,
    load_backbone,
)
from radiopipe.cnn.embed import embed_inputs  # noqa: E402
from radiopipe.cnn.inputs import InputSettings, prepare_inputs  # noqa: E402
from radiopipe.errors import ConfigError  # noqa: E402

IMAGENET_CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_shipped_weights_see_a_cat_in_chelsea():
    photo = data.chelsea()  # (300, 451, 3) uint8 RGB
    backbone = load_backbone(BackboneOptions("efficientnet_lite0"))
    settings = InputSettings(size=backbone.input_size, region="image", window=(0.0, 255.0))
    prepared = prepare_inputs(photo, np.ones(photo.shape[:2], bool), (1.0, 1.0), settings)
    with torch.inference_mode():
        logits = efficientnet_lite0_network()(torch.from_numpy(backbone.normalise(prepared.images)))
    top5 = logits[0].topk(5).indices.tolist()
    assert set(top5) & set(IMAGENET_CATS), top5
    # torch hub names weight files by their SHA-256 prefix: efficientnet-lite0-57934424.pth
    assert backbone.weights_sha256.startswith("57934424")


def test_efficientnet_embedding_is_the_pooled_last_convolution():
    backbone = load_backbone(BackboneOptions("efficientnet_lite0", input_size=32))
    batch = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    embedding = backbone.run(backbone.normalise(batch))
    assert embedding.shape == (2, 1280) and embedding.dtype == np.float32
    assert backbone.mean == LITE_MEAN and backbone.std == LITE_STD


def test_torchscript_file_is_loaded_from_its_path(tmp_path):
    path = write_torchscript(tmp_path / "toy.pt")
    backbone = load_backbone(BackboneOptions("torchscript", weights=path, input_size=16))
    images = np.random.default_rng(1).random((3, 1, 16, 16), dtype=np.float32)
    [embedding] = embed_inputs(backbone, [images])
    with torch.inference_mode():
        expected = toy_torch_network()(torch.from_numpy(backbone.normalise(images))).numpy()
    np.testing.assert_allclose(embedding, expected, rtol=1e-5, atol=1e-6)
    assert backbone.module is not None and backbone.input_size == 16


def test_onnx_file_runs_through_onnxruntime(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path = write_onnx_mean(tmp_path / "mean.onnx", size=32)
    backbone = load_backbone(BackboneOptions("onnx", weights=path))
    assert backbone.input_size == 32 and backbone.channels == 3 and backbone.module is None
    grey = np.random.default_rng(2).random((2, 1, 32, 32), dtype=np.float32)
    [embedding] = embed_inputs(backbone, [grey])
    expected = backbone.normalise(grey).mean(axis=(2, 3))  # grey copied to 3 channels
    np.testing.assert_allclose(embedding, expected, rtol=1e-5)


def test_rgb_inputs_feed_a_one_channel_network_as_luminance(tmp_path):
    path = write_torchscript(tmp_path / "toy.pt")
    backbone = load_backbone(
        BackboneOptions("torchscript", weights=path, channels=1, mean=(0.5,), std=(0.25,))
    )
    rgb = np.zeros((1, 3, 2, 2), np.float32)
    rgb[:, 1] = 1.0  # pure green
    np.testing.assert_allclose(backbone.normalise(rgb), (0.587 - 0.5) / 0.25, rtol=1e-6)


def test_missing_weights_file_is_a_clear_error(tmp_path):
    message = "the file 'absent.onnx' of backbone 'onnx' does not exist"
    with pytest.raises(ConfigError, match=message):
        load_backbone(BackboneOptions("onnx", weights=tmp_path / "absent.onnx"))


@pytest.mark.parametrize("name", ["torchscript", "onnx", "efficientnet_lite0"])
def test_a_file_of_the_wrong_kind_is_a_clear_error(tmp_path, name):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cnn.weights: 'garbage.bin' is not"):
        load_backbone(BackboneOptions(name, weights=path))


def test_efficientnet_refuses_an_input_size_its_padding_cannot_take():
    with pytest.raises(ConfigError, match="multiples of 32"):
        load_backbone(BackboneOptions("efficientnet_lite0", input_size=100))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ConfigError, match="torch sees no CUDA device"):
        load_backbone(BackboneOptions("efficientnet_lite0", device="cuda"))


def test_unknown_backbone_is_refused():
    with pytest.raises(ConfigError, match="choose one of efficientnet_lite0, torchscript, onnx"):
        load_backbone(BackboneOptions("resnet50"))

"""Small backbones written in the tests: a TorchScript file and an ONNX file of known arithmetic."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


def toy_torch_network(seed: int = 0):
    """3x3 convolution (3 -> 4 channels), ReLU, global average: ``(n, 3, s, s) -> (n, 4)``."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    ).eval()


def write_torchscript(path: Path, seed: int = 0) -> Path:
    """Save :func:`toy_torch_network` as a TorchScript file."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch deprecates TorchScript
        torch.jit.script(toy_torch_network(seed)).save(str(path))
    return Path(path)


def write_onnx_mean(path: Path, size: int = 32) -> Path:
    """An ONNX model whose embedding is each channel's mean: ``(n, 3, size, size) -> (n, 3)``."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["x"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["y"]),
        ],
        "channel_means",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return Path(path)


def disc_image(size: int = 48, radius: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """A bright disc on a ramp background (float32 image) and the disc as the ROI."""
    rows, cols = np.indices((size, size))
    centre = (size - 1) / 2
    roi = (rows - centre) ** 2 + (cols - centre) ** 2 <= radius**2
    image = (cols * 2.0 + 100.0 * roi).astype(np.float32)
    return image, roi

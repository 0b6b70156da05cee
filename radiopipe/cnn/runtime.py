"""The CNN branch's optional dependencies, imported only when it runs, and device choice.

``import radiopipe`` and every radiomics-only run never import torch or onnxruntime; the branch
asks for them here and names the install command when they are missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from radiopipe.errors import ConfigError

INSTALL_HINT = "pip install 'radiopipe[cnn]'"


def require(module: str) -> ModuleType:
    """Import an optional dependency of the CNN branch, or raise a ConfigError naming the extra.

    Parameters
    ----------
    module : str
        Module name, such as ``'torch'`` or ``'onnxruntime'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"the CNN branch (features.kind 'cnn' or 'both') needs '{module}', which is not "
            f"installed; run: {INSTALL_HINT}"
        ) from None


def resolve_device(device: str) -> str:
    """'cpu' or 'cuda' from the configured device ('auto': CUDA where torch sees a GPU).

    Raises
    ------
    ConfigError
        If 'cuda' is asked for and torch sees no CUDA device.
    """
    torch = require("torch")
    available = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if available else "cpu"
    if device == "cuda" and not available:
        raise ConfigError(
            "cnn.device is 'cuda' but torch sees no CUDA device (a CPU build of torch, or no "
            "GPU); set cnn.device to 'cpu' or 'auto'"
        )
    return device

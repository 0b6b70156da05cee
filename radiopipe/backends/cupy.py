"""radiopipe's feature engine on an NVIDIA GPU through CuPy (``backend: cupy``)."""

from __future__ import annotations

from typing import Any

import SimpleITK as sitk

from radiopipe import __version__, gpu
from radiopipe.config import FeatureConfig
from radiopipe.io import Volume


class CupyBackend:
    """Features computed by :func:`radiopipe.gpu.extract.extract_features` on the GPU.

    Raises
    ------
    ConfigError
        At construction, when no CUDA device is usable (see `radiopipe.gpu.require`).
    """

    name = "cupy"

    def __init__(self):
        gpu.require()

    def version(self) -> str:
        """radiopipe's version with CuPy's, e.g. ``'0.1.0+cupy14.2.0'``."""
        import cupy

        return f"{__version__}+cupy{cupy.__version__}"

    def extract(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> dict[str, float]:
        """Compute the configured features of one region of interest on the GPU."""
        from radiopipe.gpu.extract import extract_features

        return extract_features(Volume.from_sitk(image), Volume.from_sitk(mask), settings)

    def extract_described(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The features; the engine keeps no diagnostics of its own (see ``acquisition__``)."""
        return self.extract(image, mask, settings), {}

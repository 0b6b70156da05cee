"""radiopipe's own feature engine as a backend (NumPy/SciPy on the CPU)."""

from __future__ import annotations

from typing import Any

import SimpleITK as sitk

from radiopipe import __version__
from radiopipe.config import FeatureConfig
from radiopipe.features.engine import extract_features
from radiopipe.io import Volume


class NativeBackend:
    """Features computed by :func:`radiopipe.features.engine.extract_features`."""

    name = "native"

    def version(self) -> str:
        """radiopipe's version (the engine ships with the package)."""
        return __version__

    def extract(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> dict[str, float]:
        """Compute the configured features of one region of interest."""
        # Views, not copies: both images outlive the extraction, which only reads them.
        return extract_features(
            Volume.from_sitk(image, copy=False), Volume.from_sitk(mask, copy=False), settings
        )

    def extract_described(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The features; the engine keeps no diagnostics of its own (see ``acquisition__``)."""
        return self.extract(image, mask, settings), {}

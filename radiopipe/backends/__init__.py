"""Feature backends behind one interface, chosen by name from a closed registry.

``native`` is radiopipe's own engine (NumPy/SciPy, IBSI-checked); ``cupy`` is the same engine
on an NVIDIA GPU; ``auto`` is ``cupy`` where a CUDA device works and ``native`` elsewhere (the
backend's ``name``, recorded with every row, says which ran); ``pyradiomics`` is the reference
they are checked against.

A backend turns one (image, mask) pair into a flat mapping of feature values keyed
``{image_type}__{family}__{feature}``; ``extract_described`` also returns the backend's own
per-case diagnostics (pyradiomics' ``diagnostics_*`` values; none for radiopipe's engine), which
the extraction keeps beside the features as ``pyradiomics__`` columns, never as features.
"""

from __future__ import annotations

from typing import Any, Protocol

import SimpleITK as sitk

from radiopipe.config import FeatureConfig
from radiopipe.errors import ConfigError


class FeatureBackend(Protocol):
    """What every feature backend provides."""

    name: str

    def version(self) -> str:
        """Version string recorded with every feature row."""

    def extract(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> dict[str, float]:
        """Compute the features of one region of interest."""

    def extract_described(
        self, image: sitk.Image, mask: sitk.Image, settings: FeatureConfig
    ) -> tuple[dict[str, float], dict[str, Any]]:
        """The features of one region of interest and the backend's own diagnostics of it."""


def get_backend(name: str) -> FeatureBackend:
    """Return the backend registered under ``name``.

    Raises
    ------
    ConfigError
        If the name is unknown or the backend's packages are not installed (or, for ``cupy``,
        no CUDA device is usable).
    """
    if name == "auto":
        from radiopipe import gpu

        name = "cupy" if gpu.is_available() else "native"
    if name == "native":
        from radiopipe.backends.native import NativeBackend

        return NativeBackend()
    if name == "cupy":
        from radiopipe.backends.cupy import CupyBackend

        return CupyBackend()
    if name == "pyradiomics":
        from radiopipe.backends.pyradiomics import PyradiomicsBackend

        return PyradiomicsBackend()
    raise ConfigError(
        f"unknown feature backend '{name}'; available: native, cupy, auto, pyradiomics"
    )


def feature_key(image_type: str, family: str, feature: str) -> str:
    """Column name of a feature: ``{image_type}__{family}__{feature}``."""
    return f"{image_type}__{family}__{feature}"

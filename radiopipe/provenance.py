"""Versions of the software that produced an output."""

from __future__ import annotations

import platform
from importlib import metadata

_PACKAGES = (
    "radiopipe",
    "numpy",
    "scipy",
    "pandas",
    "SimpleITK",
    "scikit-learn",
    "xgboost",
    "pyradiomics-bhklab",
)


def package_versions() -> dict[str, str]:
    """Python and the installed versions of the packages that shape radiopipe's results."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions

"""The image types (filtered images) radiopipe computes: the one table every layer reads.

Config validation (``features.image_types``), the engine and the GPU backend (which filter of
`radiopipe.filters` computes a type), the pyradiomics backend (its image-type names), the
report's methods table and the feature maps (the type behind a column's image name) all read
:data:`IMAGE_TYPES`. The module imports nothing, so the config can read it without loading the
filters.

Examples
--------
>>> IMAGE_TYPES["log"].pyradiomics
'LoG'
>>> image_type_of("wavelet-LLH")
'wavelet'
>>> image_type_of("laws-L5E5E5-ri-max-energy-7-3D-mirror")
'laws'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageType:
    """One image type.

    Attributes
    ----------
    name : str
        Config name (``features.image_types``) and the first part of its images' names
        (``log-sigma-1-0-mm-3D``, ``wavelet-LLH``, ``square``).
    pyradiomics : str or None
        pyradiomics' image-type name (``enableImageTypeByName``), the key of
        ``radiopipe.filters.FILTERS``; None for the IBSI-2 filters, which pyradiomics lacks.
    label : str
        Its name in prose (the report's methods table).
    """

    name: str
    pyradiomics: str | None
    label: str


IMAGE_TYPES: dict[str, ImageType] = {
    t.name: t
    for t in (
        ImageType("original", "Original", "original"),
        ImageType("log", "LoG", "Laplacian of Gaussian"),
        ImageType("wavelet", "Wavelet", "wavelet"),
        ImageType("square", "Square", "square"),
        ImageType("squareroot", "SquareRoot", "square root"),
        ImageType("logarithm", "Logarithm", "logarithm"),
        ImageType("exponential", "Exponential", "exponential"),
        ImageType("gradient", "Gradient", "gradient magnitude"),
        ImageType("lbp2d", "LBP2D", "local binary pattern (2D)"),
        ImageType("lbp3d", "LBP3D", "local binary pattern (3D)"),
    )
}
"""Config name -> image type, in pyradiomics' order."""

IBSI2_IMAGE_TYPES: dict[str, ImageType] = {
    t.name: t
    for t in (
        ImageType("ibsi_mean", None, "IBSI mean"),
        ImageType("ibsi_log", None, "IBSI Laplacian of Gaussian"),
        ImageType("laws", None, "Laws kernel"),
        ImageType("gabor", None, "Gabor"),
        ImageType("ibsi_wavelet", None, "IBSI wavelet"),
        ImageType("simoncelli", None, "Simoncelli wavelet"),
        ImageType("riesz", None, "Riesz transform"),
    )
}
"""IBSI-2 filter type (``features.ibsi_filters[].type``) -> image type, in IBSI-2 order. Each
entry of ``ibsi_filters`` is one image whose name starts with its type and encodes its
parameters (``radiopipe.settings.ibsi_filters``)."""


def image_type(name: str) -> ImageType:
    """The image type of a config name or IBSI-2 filter type."""
    return IMAGE_TYPES[name] if name in IMAGE_TYPES else IBSI2_IMAGE_TYPES[name]


def image_type_of(image_name: str) -> str | None:
    """The config image type of a filtered image's name (``'log-sigma-1-0-mm-3D'`` -> ``'log'``,
    ``'lbp-2D'`` -> ``'lbp2d'``, ``'wavelet2-LLH'`` (pyradiomics' name of a level-2 sub-band)
    -> ``'wavelet'``, ``'laws-L5E5-2D-mirror'`` -> ``'laws'``); None when the name is not that
    of an image of a known type."""
    parts = image_name.split("-")
    name = "".join(parts[:2]).lower() if parts[0] == "lbp" else parts[0]
    if name.startswith("wavelet") and name[len("wavelet"):].isdigit():
        name = "wavelet"
    return name if name in IMAGE_TYPES or name in IBSI2_IMAGE_TYPES else None

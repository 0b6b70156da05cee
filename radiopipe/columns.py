"""Names of radiomics feature columns: ``{image_type}__{family}__{feature}``.

The image type is the filtered image's name (``original``, ``log-sigma-1-0-mm-3D``,
``wavelet-LLH``, ...), the family a registry name (``glcm``; planar shape reports as ``shape``)
and the feature the family's own name (``Contrast``). The engine, the GPU backend and every
reader of feature columns name and split them here, and also the columns of the acquisition
parameters recorded beside the features (``acquisition__spacing_x``, ...).

Examples
--------
>>> column_name("original", "glcm", "Contrast")
'original__glcm__Contrast'
>>> split_column("wavelet-LLH__glszm__ZoneEntropy")
('wavelet-LLH', 'glszm', 'ZoneEntropy')
"""

from __future__ import annotations

SEPARATOR = "__"


def column_name(image_type: str, family: str, feature: str) -> str:
    """The column of one feature of one family on one filtered image."""
    return f"{image_type}{SEPARATOR}{family}{SEPARATOR}{feature}"


def split_column(column: str) -> tuple[str, str, str]:
    """``(image_type, family, feature)`` of a radiomics feature column.

    Raises
    ------
    ValueError
        If ``column`` does not have the three parts of a radiomics column.
    """
    parts = column.split(SEPARATOR)
    if len(parts) != 3:
        raise ValueError(
            f"A radiomics feature column is '{{image_type}}__{{family}}__{{feature}}'. "
            f"Got {column!r} instead."
        )
    image_type, family, feature = parts
    return image_type, family, feature


def is_column(column: str) -> bool:
    """Whether ``column`` has the three parts of a radiomics feature column."""
    return len(column.split(SEPARATOR)) == 3


ACQUISITION_PREFIX = "acquisition"
ACQUISITION = ("spacing_x", "spacing_y", "spacing_z", "intensity_p01", "intensity_p99")


def acquisition_column(name: str) -> str:
    """The table column of an acquisition parameter (``acquisition__spacing_x``): two parts, so
    never taken for a feature column."""
    return f"{ACQUISITION_PREFIX}{SEPARATOR}{name}"


def acquisition_columns(columns) -> list[str]:
    """The acquisition-parameter columns among ``columns``, in order."""
    return [c for c in columns if c.startswith(ACQUISITION_PREFIX + SEPARATOR)]

"""Names of the feature table's columns.

A radiomics feature column is ``{image_type}__{family}__{feature}``: the image type is the
filtered image's name (``original``, ``log-sigma-1-0-mm-3D``, ``wavelet-LLH``, ...), the family a
registry name (``glcm``; planar shape reports as ``shape``) and the feature the family's own name
(``Contrast``). A multimodal case (several images of one patient, see :mod:`radiopipe.manifest`)
prefixes each image's columns with its modality: ``pet__original__glcm__Contrast``.

Columns that describe a case's image rather than its region of interest carry a role prefix
first, then the modality where there is one: the acquisition parameters
(``acquisition__spacing_x``, ``acquisition__pet__spacing_x``; see :mod:`radiopipe.acquisition`)
and the acquisition provenance (``diagnostics__manufacturer``, ``diagnostics__pet__manufacturer``;
see :mod:`radiopipe.diagnostics`). The pyradiomics backend's own per-case diagnostics keep
pyradiomics' key after the role prefix ``pyradiomics``
(``pyradiomics__diagnostics_Mask-original_VoxelNum``, ``pyradiomics__pet__diagnostics_...``).
None of these is ever a feature column. The engine, the GPU backend and every reader of feature
columns name and split them here.

Examples
--------
>>> column_name("original", "glcm", "Contrast")
'original__glcm__Contrast'
>>> split_column("wavelet-LLH__glszm__ZoneEntropy")
('wavelet-LLH', 'glszm', 'ZoneEntropy')
>>> with_modality("pet", "original__glcm__Contrast")
'pet__original__glcm__Contrast'
>>> column_modality("pet__original__glcm__Contrast"), split_column("pet__original__glcm__Contrast")
('pet', ('original', 'glcm', 'Contrast'))
"""

from __future__ import annotations

import re

SEPARATOR = "__"
ACQUISITION_PREFIX = "acquisition"
DIAGNOSTICS_PREFIX = "diagnostics"
PYRADIOMICS_PREFIX = "pyradiomics"
# Prefixes of the columns that describe a case beside its features, never a feature themselves.
_NOT_FEATURES = (ACQUISITION_PREFIX, DIAGNOSTICS_PREFIX, PYRADIOMICS_PREFIX)
# Role prefixes of columns that are never features, and so never a modality's name either.
RESERVED = frozenset({*_NOT_FEATURES, "clinical", "cnn", "proba", "shift"})
# A modality name: lower-case letters, digits and single underscores ('ct', 'pet', 'mr_t1').
MODALITY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def column_name(image_type: str, family: str, feature: str) -> str:
    """The column of one feature of one family on one filtered image."""
    return f"{image_type}{SEPARATOR}{family}{SEPARATOR}{feature}"


def is_modality(name: str) -> bool:
    """Whether ``name`` can name a modality (``pet``, ``mr_t1``; no role prefix such as
    ``diagnostics``)."""
    return bool(MODALITY_PATTERN.match(name)) and name not in RESERVED


def with_modality(modality: str | None, column: str) -> str:
    """``column`` of one modality's image (``pet__original__glcm__Contrast``); unchanged for
    ``None`` (a case of one image)."""
    return column if modality is None else f"{modality}{SEPARATOR}{column}"


def column_modality(column: str) -> str | None:
    """The modality of a radiomics feature column, None for an unprefixed one."""
    parts = column.split(SEPARATOR)
    return parts[0] if len(parts) == 4 and is_modality(parts[0]) else None


def split_column(column: str) -> tuple[str, str, str]:
    """``(image_type, family, feature)`` of a radiomics feature column (a modality prefix, if
    any, is left out: see :func:`column_modality`).

    Raises
    ------
    ValueError
        If ``column`` does not have the three parts of a radiomics column.
    """
    if not is_column(column):
        raise ValueError(
            f"A radiomics feature column is '[{{modality}}__]{{image_type}}__{{family}}__"
            f"{{feature}}'. Got {column!r} instead."
        )
    image_type, family, feature = column.split(SEPARATOR)[-3:]
    return image_type, family, feature


def is_column(column: str) -> bool:
    """Whether ``column`` is a radiomics feature column, prefixed by a modality or not."""
    parts = column.split(SEPARATOR)
    if len(parts) == 4 and is_modality(parts[0]):
        parts = parts[1:]
    return len(parts) == 3 and parts[0] not in _NOT_FEATURES


ACQUISITION = ("spacing_x", "spacing_y", "spacing_z", "intensity_p01", "intensity_p99")


def acquisition_column(name: str, modality: str | None = None) -> str:
    """The table column of an acquisition parameter (``acquisition__spacing_x``,
    ``acquisition__pet__spacing_x``): never taken for a feature column."""
    return SEPARATOR.join([ACQUISITION_PREFIX, *([modality] if modality else []), name])


def acquisition_columns(columns) -> list[str]:
    """The acquisition-parameter columns among ``columns``, in order."""
    return [c for c in columns if c.startswith(ACQUISITION_PREFIX + SEPARATOR)]


def diagnostics_column(name: str, modality: str | None = None) -> str:
    """The table column of one acquisition-provenance value (``diagnostics__manufacturer``,
    ``diagnostics__pet__manufacturer``): never taken for a feature column."""
    return SEPARATOR.join([DIAGNOSTICS_PREFIX, *([modality] if modality else []), name])


def diagnostics_columns(columns) -> list[str]:
    """The acquisition-provenance columns among ``columns``, in order."""
    return [c for c in columns if c.startswith(DIAGNOSTICS_PREFIX + SEPARATOR)]


def split_diagnostics(column: str) -> tuple[str | None, str]:
    """``(modality or None, name)`` of a ``diagnostics__`` column."""
    parts = column.split(SEPARATOR)[1:]
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def pyradiomics_column(key: str, modality: str | None = None) -> str:
    """The table column of one of pyradiomics' own diagnostics (``diagnostics_Image-original_Mean``
    -> ``pyradiomics__diagnostics_Image-original_Mean``): never taken for a feature column."""
    return SEPARATOR.join([PYRADIOMICS_PREFIX, *([modality] if modality else []), key])


def pyradiomics_columns(columns) -> list[str]:
    """The pyradiomics-diagnostics columns among ``columns``, in order."""
    return [c for c in columns if c.startswith(PYRADIOMICS_PREFIX + SEPARATOR)]


def split_pyradiomics(column: str) -> tuple[str | None, str]:
    """``(modality or None, pyradiomics' key)`` of a ``pyradiomics__`` column."""
    parts = column.split(SEPARATOR)[1:]
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])

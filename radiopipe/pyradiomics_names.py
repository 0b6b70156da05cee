"""Feature table columns in pyradiomics' names and back.

pyradiomics names a feature ``{image_type}_{featureClass}_{feature}`` (``original_glcm_Contrast``,
``log-sigma-1-0-mm-3D_firstorder_Mean``, ``wavelet-LLH_glszm_ZoneEntropy``, ``lbp-2D_gldm_...``)
and its own per-case diagnostics ``diagnostics_{...}``; radiopipe's columns are
``[{modality}__]{image_type}__{family}__{feature}`` and
``pyradiomics__[{modality}__]diagnostics_...`` (:mod:`radiopipe.columns`). The image types'
names are the same in both; a modality, which pyradiomics does not have, leads the pyradiomics
name (``pet_original_glcm_Contrast``), and planar shape, pyradiomics' ``shape2D``, is
radiopipe's ``shape``. A name is read back by its first known image type
(:func:`radiopipe.image_types.image_type_of`), so families with an underscore
(``intensity_histogram``) and IBSI-2 images (``ibsi_mean-support-5-3D-mirror``) map too.
Every other column (``case_id``, ``label``, ``acquisition__spacing_x``, pyradiomics' ``Image``
and ``Mask``) is left as it is.

Examples
--------
>>> to_pyradiomics_name("wavelet-LLH__glszm__ZoneEntropy")
'wavelet-LLH_glszm_ZoneEntropy'
>>> from_pyradiomics_name("log-sigma-1-0-mm-3D_firstorder_Mean")
'log-sigma-1-0-mm-3D__firstorder__Mean'
>>> from_pyradiomics_name("original_shape2D_Perimeter"), from_pyradiomics_name("case_id")
('original__shape__Perimeter', 'case_id')
>>> to_pyradiomics_name("mr_t1__original__glcm__Contrast")
'mr_t1_original_glcm_Contrast'
"""

from __future__ import annotations

import pandas as pd

from radiopipe.columns import (
    PYRADIOMICS_PREFIX,
    SEPARATOR,
    column_modality,
    column_name,
    is_column,
    is_modality,
    pyradiomics_column,
    split_column,
    split_pyradiomics,
    with_modality,
)
from radiopipe.image_types import image_type_of

PLANAR_SHAPE = "shape2D"
DIAGNOSTICS = "diagnostics"


def to_pyradiomics_name(column: str, *, planar: bool = False) -> str:
    """pyradiomics' name of a feature table column (other columns unchanged).

    Parameters
    ----------
    column : str
        A radiopipe column.
    planar : bool
        The table's cases are 2D images: ``shape`` features take pyradiomics' ``shape2D``.
    """
    if is_column(column):
        image_type, family, feature = split_column(column)
        if planar and family == "shape":
            family = PLANAR_SHAPE
        modality = column_modality(column)
        return "_".join([*([modality] if modality else []), image_type, family, feature])
    if column.startswith(PYRADIOMICS_PREFIX + SEPARATOR):
        modality, key = split_pyradiomics(column)
        return key if modality is None else f"{modality}_{key}"
    return column


def from_pyradiomics_name(name: str) -> str:
    """radiopipe's column of a pyradiomics feature or diagnostic name (other names unchanged)."""
    if SEPARATOR in name:  # radiopipe's own
        return name
    parts = name.split("_")
    for start in range(len(parts)):
        modality = "_".join(parts[:start]) or None
        if modality is not None and not is_modality(modality):
            continue
        if parts[start] == DIAGNOSTICS and start < len(parts) - 1:
            return pyradiomics_column("_".join(parts[start:]), modality)
        # an IBSI-2 image's name may hold underscores ('ibsi_mean-support-5-3D-mirror')
        for end in range(start + 1, len(parts) - 1):
            image = "_".join(parts[start:end])
            if image_type_of(image) is not None:
                family = "_".join(parts[end:-1])
                family = "shape" if family == PLANAR_SHAPE else family
                return with_modality(modality, column_name(image, family, parts[-1]))
    return name


def to_pyradiomics_names(table: pd.DataFrame, *, planar: bool = False) -> pd.DataFrame:
    """The table with its feature and pyradiomics-diagnostics columns in pyradiomics' names.

    Parameters
    ----------
    table : pandas.DataFrame
        A feature table (``features.parquet``, ``rp.extract(...).features``).
    planar : bool
        The cases are 2D images: shape features are named ``shape2D`` as pyradiomics names them.

    Returns
    -------
    pandas.DataFrame
        A renamed copy; the values are unchanged.

    Examples
    --------
    >>> frame = pd.DataFrame({"case_id": ["a"], "original__glcm__Contrast": [1.5]})
    >>> list(to_pyradiomics_names(frame).columns)
    ['case_id', 'original_glcm_Contrast']
    """
    return _renamed(table, lambda c: to_pyradiomics_name(c, planar=planar))


def from_pyradiomics_names(table: pd.DataFrame) -> pd.DataFrame:
    """The table with pyradiomics' feature and diagnostic names turned into radiopipe's columns.

    Parameters
    ----------
    table : pandas.DataFrame
        pyradiomics' output, e.g. its batch CSV read with pandas.

    Returns
    -------
    pandas.DataFrame
        A renamed copy; the values are unchanged.

    Examples
    --------
    >>> frame = pd.DataFrame({"Image": ["ct.nrrd"], "wavelet-LLH_glcm_Contrast": [1.5]})
    >>> list(from_pyradiomics_names(frame).columns)
    ['Image', 'wavelet-LLH__glcm__Contrast']
    """
    return _renamed(table, from_pyradiomics_name)


def _renamed(table: pd.DataFrame, rename) -> pd.DataFrame:
    names = [rename(str(c)) for c in table.columns]
    seen: dict[str, str] = {}
    for old, new in zip(table.columns, names, strict=True):
        if new in seen:
            raise ValueError(f"The columns {seen[new]!r} and {old!r} would both be named {new!r}.")
        seen[new] = old
    renamed = table.copy()
    renamed.columns = names
    return renamed

"""A pyradiomics batch CSV read as radiopipe's columns.

pyradiomics' command line (``pyradiomics cases.csv --format csv -o out.csv``) writes one row per
case: the batch input's own columns first (``Image`` and ``Mask``, optionally ``Label`` and any
column the user added, such as an id), then pyradiomics' ``diagnostics_*`` values, then the
features (``original_glcm_Contrast``, ...). A case pyradiomics could not compute keeps its input
columns with every feature empty. :func:`read_pyradiomics_csv` returns the rows with the features
and diagnostics in radiopipe's names (:mod:`radiopipe.pyradiomics_names`) and the input columns
as pyradiomics wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radiopipe.columns import is_column, pyradiomics_columns
from radiopipe.errors import DataError
from radiopipe.pyradiomics_names import from_pyradiomics_names

INPUT_COLUMNS = ("Image", "Mask")
DESCRIPTION = "imported from pyradiomics CSV"


@dataclass(frozen=True)
class PyradiomicsCSV:
    """A pyradiomics batch CSV's rows.

    Attributes
    ----------
    rows : pandas.DataFrame
        Every row, features and diagnostics renamed, other columns as written.
    features : list of str
        The feature columns (``original__glcm__Contrast``), in file order.
    diagnostics : list of str
        pyradiomics' diagnostics columns (``pyradiomics__diagnostics_...``).
    """

    rows: pd.DataFrame
    features: list[str]
    diagnostics: list[str]

    def computed(self, index) -> bool:
        """Whether pyradiomics computed the features of row ``index`` (not all empty)."""
        return bool(self.rows.loc[index, self.features].notna().any())


def read_pyradiomics_csv(path: Path) -> PyradiomicsCSV:
    """Read a pyradiomics batch CSV.

    Raises
    ------
    DataError
        If the file cannot be read, lacks the ``Image`` and ``Mask`` columns, has no feature
        column, or holds a feature value that is not a number.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"'{path.name}' cannot be read as a CSV file ({exc}); pass the CSV "
                        "that pyradiomics wrote with --format csv") from None
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"'{path.name}' has no {' or '.join(missing)} column; a pyradiomics "
                        "batch CSV holds Image, Mask, diagnostics_* and feature columns")
    try:
        frame = from_pyradiomics_names(frame)
    except ValueError as exc:
        raise DataError(f"'{path.name}': {exc}") from None
    features = [c for c in frame.columns if is_column(c)]
    if not features:
        raise DataError(f"'{path.name}' has no feature column (such as original_glcm_Contrast); "
                        "pass the CSV that pyradiomics wrote with --format csv")
    for column in features:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column].notna() & values.isna() & ~frame[column].str.lower().eq("nan")
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 2  # the header is line 1
            raise DataError(f"'{path.name}' line {row}: the value of "
                            f"{column!r} is not a number; got {frame[column][bad].iloc[0]!r}")
        frame[column] = values.astype("float64")
    for column in pyradiomics_columns(frame.columns):  # numbers as numbers, text as text
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.notna().sum() == frame[column].notna().sum():
            frame[column] = numbers
    return PyradiomicsCSV(frame, features, pyradiomics_columns(frame.columns))

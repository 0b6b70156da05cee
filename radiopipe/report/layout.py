"""The report's building blocks: HTML tables, figures with the name of the table behind them,
readable feature names, and the self-contained page around a body."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from markupsafe import Markup

from radiopipe.columns import column_modality, is_column, split_column
from radiopipe.report.templating import macro, render
from radiopipe.storage import atomic_write, atomic_write_text

LONG_TABLE_ROWS = 25  # longer tables may break across printed pages (their header repeats)

_FAMILY_NAMES = {
    "firstorder": "first-order",
    "shape": "shape",
    "glcm": "GLCM",
    "glrlm": "GLRLM",
    "glszm": "GLSZM",
    "gldm": "GLDM",
    "ngtdm": "NGTDM",
    "gldzm": "GLDZM",
    "ngldm": "NGLDM",
    "intensity_histogram": "intensity histogram",
    "intensity_volume": "intensity-volume histogram",
    "local_intensity": "local intensity",
}


def table(header: list[str], rows: list[list]) -> Markup:
    """An HTML table; floats print with three decimals, right-aligned; :class:`~markupsafe.Markup`
    cells as they are, every other cell escaped. Printed, a table stays on one page, unless it is
    longer than :data:`LONG_TABLE_ROWS` rows: then it breaks between rows and repeats its
    header."""
    return macro("table")(header, rows, LONG_TABLE_ROWS)


def figure(uri: str, alt: str, caption: str = "", table_file: str | None = None) -> Markup:
    """A figure with its caption (escaped, unless it is :class:`~markupsafe.Markup`) and the name
    of the CSV table behind it."""
    return macro("figure")(uri, alt, caption, table_file)


def save_csv(path: Path, frame: pd.DataFrame, *, index: bool = True) -> None:
    """Write a figure's table beside the report (atomically)."""
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index))


def feature_label(column: str) -> str:
    """``'original__glcm__Contrast'`` -> ``'GLCM Contrast (original)'``,
    ``'pet__original__glcm__Contrast'`` -> ``'GLCM Contrast (pet, original)'``; clinical and
    other columns keep their name without the role prefix."""
    if is_column(column):
        image, family, name = split_column(column)
        modality = column_modality(column)
        where = image if modality is None else f"{modality}, {image}"
        return f"{_FAMILY_NAMES.get(family, family)} {name} ({where})"
    return column.removeprefix("clinical__")


def write_page(path: Path, title: str, body: str) -> Path:
    """Write a whole self-contained HTML page around ``body`` (HTML) atomically."""
    return atomic_write_text(path, render("page.html.j2", title=title, body=Markup(body)))

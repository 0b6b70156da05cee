"""The report's building blocks: HTML tables, figures with the name of the table behind them,
readable feature names, and the self-contained page around a body."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from radiopipe.columns import column_modality, is_column, split_column
from radiopipe.storage import atomic_write, atomic_write_text

LONG_TABLE_ROWS = 25  # longer tables may break across printed pages (their header repeats)
# Printed, the diagnostics' collapsed <details> (a finding's first rows, behind a summary line
# naming its CSV) are left out: paper cannot unfold them, and a lone summary line would otherwise
# spill onto a page of its own.
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;color:#1d2433;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{border-bottom:1px solid #d0d7e2;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #d0d7e2;padding:.25em .6em;text-align:left}
th{background:#f1f4f9}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5b6578;font-size:.9em}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figure img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#5b6578;max-width:32em}
nav ol{columns:2}section.case{border-top:2px solid #1d2433;margin-top:2em}
.sev-error{color:#a4161a;font-weight:600}.sev-warning{color:#9a6700;font-weight:600}
.sev-info{color:#1f5fa8}.sev-passed{color:#2b7a3d}
.term{text-decoration:underline dotted #8a94a6;cursor:help}
@page{size:A4;margin:14mm 12mm 16mm;
@bottom-center{content:"page " counter(page) " of " counter(pages);font-size:8pt;color:#5b6578}}
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}
section.case,section.appendix{break-before:page}
h1,h2,h3,h4{break-after:avoid}p{orphans:3;widows:3}
figure,tr,.keep{break-inside:avoid}table{break-inside:avoid}table.long{break-inside:auto}
thead{display:table-header-group}figure{display:block}figcaption{max-width:none}
figure img{max-height:190mm;max-width:100%;width:auto}nav ol{columns:1}details{display:none}}
"""

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


class Html(str):
    """Text that is already HTML: table cells print it as it is (other strings are escaped)."""


def table(header: list[str], rows: list[list]) -> str:
    """An HTML table; floats print with three decimals, right-aligned; :class:`Html` cells as
    they are. Printed, a table stays on one page, unless it is longer than
    :data:`LONG_TABLE_ROWS` rows: then it breaks between rows and repeats its header."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    kind = ' class="long"' if len(rows) > LONG_TABLE_ROWS else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, Html):
        return f"<td>{value}</td>"
    if isinstance(value, float):
        return f'<td class="num">{value:.3f}</td>'
    return f"<td>{escape(str(value))}</td>"


def figure(uri: str, alt: str, caption: str = "", table_file: str | None = None) -> str:
    """A figure with its caption (escaped, unless it is :class:`Html`) and the name of the CSV
    table behind it."""
    parts = [caption if isinstance(caption, Html) else escape(caption)] if caption else []
    if table_file:
        parts.append(f"Table: <code>{escape(table_file)}</code>")
    text = f"<figcaption>{' '.join(parts)}</figcaption>" if parts else ""
    return f'<figure><img alt="{escape(alt)}" src="{uri}">{text}</figure>'


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


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def write_page(path: Path, title: str, body: str) -> Path:
    """Write a page atomically."""
    return atomic_write_text(path, page(title, body))

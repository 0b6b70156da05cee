"""IBSI-1 reference tables: ``reference value;tolerance;tag`` CSV files.

A tag is a feature stem plus, for texture features, an aggregation suffix: ``cm_contrast_3D_avg``
is the GLCM contrast with 3D averaging. Rows without a reference value (features the IBSI found no
consensus for) are skipped.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

# Longest first, so that "_2_5D_avg" is not read as "_avg" of "..._2_5D".
AGGREGATION_SUFFIXES = (
    "2_5D_comb", "2_5D_avg", "2D_comb", "2D_avg", "3D_comb", "3D_avg", "2_5D", "2D", "3D"
)


@dataclass(frozen=True)
class Reference:
    """One reference value.

    Attributes
    ----------
    tag : str
        The full IBSI tag.
    stem : str
        The tag without its aggregation suffix (``cm_contrast``).
    aggregation : str or None
        ``'3D_avg'``, ``'2D'``, ... or None for features without aggregation.
    value : float
    tolerance : float
    """

    tag: str
    stem: str
    aggregation: str | None
    value: float
    tolerance: float

    def passes(self, computed: float) -> bool:
        """Whether ``computed`` lies within the tolerance of the reference value.

        A tolerance of 0 (the digital phantom's, whose values are given to three significant
        figures) admits half a unit of the third significant figure, i.e. ``computed`` rounds to
        the reference value; a reference of exactly 0 admits 5e-4.
        """
        return abs(computed - self.value) <= self.allowed_difference()

    def allowed_difference(self) -> float:
        """The largest absolute difference that still passes."""
        if self.tolerance > 0:
            return self.tolerance
        if self.value == 0:
            return 5e-4
        return 0.5 * 10.0 ** (math.floor(math.log10(abs(self.value))) - 2)


def split_tag(tag: str) -> tuple[str, str | None]:
    """Split an IBSI tag into its stem and aggregation suffix.

    Examples
    --------
    >>> split_tag("cm_contrast_2_5D_avg")
    ('cm_contrast', '2_5D_avg')
    >>> split_tag("stat_mean")
    ('stat_mean', None)
    """
    for suffix in AGGREGATION_SUFFIXES:
        if tag.endswith("_" + suffix):
            return tag[: -len(suffix) - 1], suffix
    return tag, None


def read_references(path: Path) -> list[Reference]:
    """Read an IBSI-1 reference CSV, skipping rows without a consensus value."""
    references = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if not row["reference value"].strip():
                continue
            stem, aggregation = split_tag(row["tag"].strip())
            references.append(
                Reference(
                    tag=row["tag"].strip(),
                    stem=stem,
                    aggregation=aggregation,
                    value=float(row["reference value"]),
                    tolerance=float(row["tolerance"] or 0.0),
                )
            )
    return references

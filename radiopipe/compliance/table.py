"""The printed result of a compliance run: failures, a pass table, one summary line.

The table has a row per family (the diagnostic image-processing tags first, then the families in
the order the reference tables first list them) and a column per reference set; each cell reads
``passed/total``, ``-`` where the set has no reference value for the family. The last line
reads exactly ``ibsi: P/T passed``.
"""

from __future__ import annotations

from radiopipe.compliance.data import DIGITAL_PHANTOM
from radiopipe.compliance.run import DIAGNOSTICS, Check, ComplianceReport
from radiopipe.features.catalogue import load_catalogue

_SET_HEADERS = {DIGITAL_PHANTOM: "digital"}
_FAMILY_WIDTH = 28
_CELL_WIDTH = 10


def format_report(report: ComplianceReport) -> str:
    """The failures (if any), the pass table and the summary line, as one text."""
    lines = [*failure_lines(report.failures), *table_lines(report.checks)]
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: ComplianceReport) -> str:
    """``ibsi: P/T passed``."""
    return f"ibsi: {report.n_passed}/{len(report.checks)} passed"


def failure_lines(failures: tuple[Check, ...]) -> list[str]:
    """One line per failed check: set, tag, radiopipe's value and the reference."""
    lines = []
    for check in failures:
        reference = check.reference
        value = "not computed" if check.value is None else f"{check.value:.6g}"
        lines.append(
            f"FAILED {_header(check.reference_set)} {reference.tag}: radiopipe {value}, "
            f"reference {reference.value:.6g} +- {reference.allowed_difference():.3g}"
        )
    if lines:
        lines.append("")
    return lines


def table_lines(checks: tuple[Check, ...]) -> list[str]:
    """The pass table: families down, reference sets across, plus an 'all' row and column."""
    sets = list(dict.fromkeys(check.reference_set for check in checks))
    families = sorted(
        dict.fromkeys(check.family for check in checks), key=lambda family: family != DIAGNOSTICS
    )
    counts: dict[tuple[str, str], list[int]] = {}
    for check in checks:
        row, column = check.family, check.reference_set
        for key in ((row, column), (row, "all"), ("all", column), ("all", "all")):
            passed_total = counts.setdefault(key, [0, 0])
            passed_total[0] += check.passed
            passed_total[1] += 1
    columns = [*sets, "all"]
    header = "family".ljust(_FAMILY_WIDTH) + "".join(_header(s).rjust(_CELL_WIDTH) for s in columns)
    lines = [header]
    for family in [*families, "all"]:
        cells = "".join(_cell(counts.get((family, s))).rjust(_CELL_WIDTH) for s in columns)
        lines.append(_family_label(family).ljust(_FAMILY_WIDTH) + cells)
    return lines


def _family_label(family: str) -> str:
    """The family with its IBSI tag prefix, e.g. ``glcm (cm_)``."""
    entry = load_catalogue().get(family)
    return f"{family} ({entry.ibsi_prefix}_)" if entry and entry.ibsi_prefix else family


def _header(reference_set: str) -> str:
    return _SET_HEADERS.get(reference_set, reference_set)


def _cell(passed_total: list[int] | None) -> str:
    return "-" if passed_total is None else f"{passed_total[0]}/{passed_total[1]}"

"""The printed result of the IBSI-2 phase-1 run: a row per configuration, one summary line.

Each row reads id, filter, parameters, the largest voxel error over the reference range (or
why none was computed) and PASS/FAIL. The last line reads exactly ``ibsi2 phase 1: P/T passed``.
"""

from __future__ import annotations

from radiopipe.compliance.ibsi2.run import FilterComplianceReport, MapCheck

_WIDTHS = (8, 17, 68, 12)


def format_filter_report(report: FilterComplianceReport) -> str:
    """The table and the summary line, as one text."""
    header = ("id", "filter", "parameters", "error/range")
    lines = [_row(*header, "pass")]
    lines += [_row(*_cells(check)) for check in report.checks]
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: FilterComplianceReport) -> str:
    """``ibsi2 phase 1: P/T passed``."""
    return f"ibsi2 phase 1: {report.n_passed}/{len(report.checks)} passed"


def _cells(check: MapCheck) -> tuple[str, ...]:
    c = check.configuration
    error = check.reason if check.error is None else f"{check.error:.2e}"
    return (c.id, c.filter, c.describe(), error, "PASS" if check.passed else "FAIL")


def _row(*cells: str) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=False)]
    return " ".join([*padded, cells[-1]]).rstrip()

"""The printed result of an IBSI-2 run: a table per phase and the summary lines.

Phase 1 has a row per configuration: id, filter, parameters, the largest voxel error over the
reference range (or why none was computed) and PASS/FAIL. Phase 2, where run, lists its failed
values, then a row per filter id with ``passed/total``. The last lines read exactly
``ibsi2 phase 2: P/T passed`` (where run), ``ibsi2 phase 1: P/T passed`` and, last, both phases
together: ``ibsi2: P/T passed``.
"""

from __future__ import annotations

from radiopipe.compliance.ibsi2.phase2 import PHASE_2, FeatureCheck
from radiopipe.compliance.ibsi2.run import FilterComplianceReport, MapCheck

_WIDTHS = (8, 17, 68, 12)


def format_filter_report(report: FilterComplianceReport) -> str:
    """The table and the summary line, as one text."""
    header = ("id", "filter", "parameters", "error/range")
    lines = [_row(*header, "pass")]
    lines += [_row(*_cells(check)) for check in report.checks]
    if report.phase_2:
        lines += ["", *phase_2_lines(report.phase_2)]
        passed = sum(check.passed for check in report.phase_2)
        lines.append(f"ibsi2 phase 2: {passed}/{len(report.phase_2)} passed")
    lines += [phase_1_line(report), summary_line(report)]
    return "\n".join(lines)


def phase_2_lines(checks: tuple[FeatureCheck, ...]) -> list[str]:
    """Failed phase-2 values, then a ``passed/total`` row per filter id."""
    lines = []
    for check in checks:
        if not check.passed:
            value = "not computed" if check.value is None else f"{check.value:.6g}"
            lines.append(f"FAILED {check.filter_id} {check.reference.tag}: radiopipe {value}, "
                         f"reference {check.reference.value:.6g} +- "
                         f"{check.reference.allowed_difference():.3g}")
    by_id: dict[str, list[int]] = {}
    for check in checks:
        counts = by_id.setdefault(check.filter_id, [0, 0])
        counts[0] += check.passed
        counts[1] += 1
    names = {c.id: c for c in PHASE_2}
    lines.append(_row("id", "filter", "parameters", "passed"))
    for filter_id, (passed, total) in by_id.items():
        c = names[filter_id]
        lines.append(_row(filter_id, c.filter, c.describe(), f"{passed}/{total}"))
    return lines


def phase_1_line(report: FilterComplianceReport) -> str:
    """``ibsi2 phase 1: P/T passed``."""
    return f"ibsi2 phase 1: {report.n_passed}/{len(report.checks)} passed"


def summary_line(report: FilterComplianceReport) -> str:
    """``ibsi2: P/T passed`` over the maps of phase 1 and the values of phase 2 (where run)."""
    passed = report.n_passed + sum(check.passed for check in report.phase_2)
    return f"ibsi2: {passed}/{len(report.checks) + len(report.phase_2)} passed"


def _cells(check: MapCheck) -> tuple[str, ...]:
    c = check.configuration
    error = check.reason if check.error is None else f"{check.error:.2e}"
    return (c.id, c.filter, c.describe(), error, "PASS" if check.passed else "FAIL")


def _row(*cells: str) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells[:-1], _WIDTHS, strict=False)]
    return " ".join([*padded, cells[-1]]).rstrip()

"""The diagnostics section: every check with its stable code, the findings and their tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from radiopipe.checks import CHECKS, Finding
from radiopipe.report.layout import save_csv, table
from radiopipe.report.templating import render

SECTION_ID = "diagnostics"
_SHOWN_ROWS = 10


def diagnostics_section(findings: list[Finding], run_dir: Path,
                        not_applicable: dict[str, str] | None = None) -> Markup:
    """List every check (passed or not); a finding's table goes to ``report_<code>.csv``.

    ``report_diagnostics.csv`` lists the checks with their outcome. ``not_applicable`` maps the
    codes of checks this run gives nothing to check to the reason: they are listed with outcome
    'not applicable' in the CSV and named below the table, not as passed.
    """
    by_code = {f.code: f for f in findings}
    skipped = not_applicable or {}
    summary = pd.DataFrame(
        [
            {
                "code": code,
                "check": title,
                "severity": (by_code[code].severity if code in by_code
                             else "not applicable" if code in skipped else "passed"),
                "message": (by_code[code].message if code in by_code
                            else skipped.get(code, "")),
            }
            for code, title in CHECKS.items()
        ]
    )
    save_csv(run_dir / "report_diagnostics.csv", summary, index=False)
    shown = []
    for finding in findings:
        name = f"report_{finding.code}.csv"
        save_csv(run_dir / name, finding.table, index=False)
        head = finding.table.head(_SHOWN_ROWS)
        shown.append({
            "code": finding.code, "title": finding.title, "n_rows": len(finding.table),
            "file": name, "table": table([str(c) for c in head.columns], _cells(head)),
            "more": len(finding.table) - len(head),
        })
    applicable = summary[summary["severity"] != "not applicable"]
    return render("diagnostics.html.j2", section_id=SECTION_ID,
                  checks=applicable.to_dict("records"), findings=shown,
                  skipped=[(code, CHECKS[code], why) for code, why in skipped.items()
                           if code not in by_code])


def _cells(frame: pd.DataFrame) -> list[list]:
    """A finding's rows as table cells: missing numbers as 'NaN'."""
    return [["NaN" if isinstance(v, float) and np.isnan(v) else v for v in row]
            for row in frame.astype(object).to_numpy().tolist()]

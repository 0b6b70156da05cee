"""The diagnostics section: every check with its stable code, the findings and their tables."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from radiopipe.checks import CHECKS, Finding
from radiopipe.report.layout import save_csv

SECTION_ID = "diagnostics"
_SHOWN_ROWS = 10


def diagnostics_section(findings: list[Finding], run_dir: Path) -> str:
    """List every check (passed or not); a finding's table goes to ``report_<code>.csv``.

    ``report_diagnostics.csv`` lists the checks with their outcome.
    """
    by_code = {f.code: f for f in findings}
    summary = pd.DataFrame(
        [
            {
                "code": code,
                "check": title,
                "severity": by_code[code].severity if code in by_code else "passed",
                "message": by_code[code].message if code in by_code else "",
            }
            for code, title in CHECKS.items()
        ]
    )
    save_csv(run_dir / "report_diagnostics.csv", summary, index=False)
    rows = []
    for row in summary.itertuples():
        rows.append(
            f"<tr><td><code>{row.code}</code></td><td>{escape(row.check)}</td>"
            f'<td class="sev-{row.severity}">{row.severity}</td><td>{escape(row.message)}</td></tr>'
        )
    parts = [
        f'<section id="{SECTION_ID}"><h2>Diagnostics</h2>',
        "<p>Automatic checks of the data and the validation, with stable codes. Errors "
        "invalidate the performance estimate; warnings need a look before the results are "
        "trusted.</p>",
        "<table><thead><tr><th>code</th><th>check</th><th>outcome</th><th>finding</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    for finding in findings:
        name = f"report_{finding.code}.csv"
        save_csv(run_dir / name, finding.table, index=False)
        shown = finding.table.head(_SHOWN_ROWS)
        more = len(finding.table) - len(shown)
        parts.append(
            f"<details><summary><code>{finding.code}</code> {escape(finding.title)}: "
            f"{len(finding.table)} row(s), table <code>{name}</code></summary>"
            + shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)
            + (f'<p class="muted">and {more} more rows</p>' if more > 0 else "")
            + "</details>"
        )
    return "\n".join(parts) + "</section>"

"""The explanation page of a new case (``radiopipe explain --model BUNDLE --case ID``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from radiopipe.records import HealthFinding
from radiopipe.report.case_pages import CaseView, case_section
from radiopipe.report.health import health_banner
from radiopipe.report.layout import write_page
from radiopipe.report.templating import render


def write_new_case_page(view: CaseView, path: Path,
                        health: Sequence[HealthFinding] = ()) -> Path:
    """Render one new case's page (prediction, waterfall, feature maps) to ``path``.

    Parameters
    ----------
    view : CaseView
        What the page shows, computed by the predict stage.
    path : Path
        The HTML file; its folder receives the page's CSV tables.
    health : sequence of HealthFinding
        The bundle's model health findings, shown as a banner above everything.

    Returns
    -------
    Path
        The page.
    """
    title = f"Explanation of case {view.case_id}"
    body = render("new_case.html.j2", health_banner=health_banner(health), title=title,
                  case=case_section(view, Path(path).parent))
    return write_page(Path(path), title, body)

"""Published estimates for the run's question beside the run's own held-out ROC-AUC
(``report.published``), with why estimates made on the patients who chose the model differ."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from radiopipe.records import ValidationRecord
from radiopipe.report.templating import render

SECTION_ID = "published"


def published_section(published: list[dict], record: ValidationRecord,
                      table: Callable[[list[str], list[list]], str]) -> Markup:
    """The comparison table and its explanation; empty without published entries.

    Parameters
    ----------
    published : list of dict
        The resolved ``report.published`` entries (``source``, ``roc_auc``, ``design``,
        ``note``).
    record : ValidationRecord
        The train stage's record (the primary model's ROC-AUC, its interval and the design).
    table : callable
        Renders an HTML table from a header and rows.
    """
    if not published:
        return Markup("")
    primary = record.primary
    auc, interval = primary.metrics["roc_auc"], primary.ci["roc_auc"]
    measured = "undefined" if auc is None else f"{auc:.3f}"
    if auc is not None and interval is not None:
        measured += f" (95% CI {interval[0]:.3f} to {interval[1]:.3f})"
    rows = [[f"this run: {primary.model} (primary model)", measured,
             f"held out: {record.validation['scheme']}; every feature, setting and "
             "hyperparameter chosen on the training patients of each fold only", ""]]
    rows += [[entry["source"], f"{entry['roc_auc']:.3f}", entry["design"], entry["note"]]
             for entry in published]
    above = [e["source"] for e in published
             if auc is not None and interval is not None and e["roc_auc"] > interval[1]]
    return render("published.html.j2", section_id=SECTION_ID,
                  table=table(["estimate", "ROC-AUC", "how it was estimated", "note"], rows),
                  above=above)

"""The report's design checks: how much the primary ROC-AUC moves over repeats and seeds, what
a model learns from shuffled labels and from negative-control images, and sensitivity and
specificity at a threshold fixed inside the training folds. Rendered from ``metrics.json``
(:class:`~radiopipe.records.DesignChecks`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from markupsafe import Markup

from radiopipe.records import ValidationRecord
from radiopipe.report.templating import render


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _ci(value, interval) -> str:
    if value is None:
        return "n/a"
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} ({interval[0]:.3f} to {interval[1]:.3f})"


def _spread(values: list) -> tuple[str, str, str]:
    """Minimum, median and maximum of the defined values."""
    defined = np.array([v for v in values if v is not None], dtype=np.float64)
    if not len(defined):
        return "n/a", "n/a", "n/a"
    return (f"{defined.min():.3f}", f"{np.median(defined):.3f}", f"{defined.max():.3f}")


def design_checks_html(record: ValidationRecord,
                       table: Callable[[list[str], list[list]], str]) -> Markup:
    """The design-check subsections (empty when the run recorded none).

    Parameters
    ----------
    record : ValidationRecord
        The train stage's record.
    table : callable
        Renders an HTML table from a header and rows.
    """
    checks = record.checks
    repeats = seeds = shuffled = threshold = None
    if checks.repeats:
        low, median, high = _spread([r["roc_auc"] for r in checks.repeats])
        repeats = {"n": len(checks.repeats), "low": low, "median": median, "high": high,
                   "table": table(["repeat", "ROC-AUC"],
                                  [[r["repeat"], _num(r["roc_auc"])] for r in checks.repeats])}
    if checks.seeds:
        low, median, high = _spread([s["roc_auc"] for s in checks.seeds])
        seeds = {"n": len(checks.seeds), "low": low, "median": median, "high": high,
                 "table": table(["seed", "ROC-AUC"],
                                [[s["seed"], _num(s["roc_auc"])] for s in checks.seeds])}
    if checks.shuffled_labels:
        values = [s["roc_auc"] for s in checks.shuffled_labels]
        defined = [v for v in values if v is not None]
        low, _, high = _spread(values)
        shuffled = {"n": len(values), "mean": _num(float(np.mean(defined)) if defined else None),
                    "low": low, "high": high,
                    "table": table(["permutation", "ROC-AUC (95% CI)"],
                                   [[s["permutation"], _ci(s["roc_auc"], s["ci"])]
                                    for s in checks.shuffled_labels])}
    if checks.threshold is not None:
        t = checks.threshold
        thresholds = [v for v in t["thresholds"] if v is not None]
        threshold = {
            "positive": record.classes[1], "n_calls": t["n_calls"],
            "span": f"{min(thresholds):.3f} to {max(thresholds):.3f}" if thresholds else "n/a",
            "table": table(["measure", "value (95% CI)"], [
                ["sensitivity", _ci(t["sensitivity"], t["ci"]["sensitivity"])],
                ["specificity", _ci(t["specificity"], t["ci"]["specificity"])],
            ]),
        }
    negative = _negative_images_table(record, table) if checks.negative_images else None
    return render("design_checks.html.j2", auc=_num(record.metrics["roc_auc"]), repeats=repeats,
                  seeds=seeds, shuffled=shuffled, negative_images=negative, threshold=threshold)


CONTROL_MEANINGS = {
    "shuffled_voxels": "the ROI's intensities permuted within it: histogram and shape kept, "
                       "texture gone",
    "random_roi": "the ROI's intensities drawn at random from the whole image: only the ROI's "
                  "shape and position kept",
}


def _negative_images_table(record: ValidationRecord,
                           table: Callable[[list[str], list[list]], str]) -> str:
    """The negative-control images' ROC-AUCs beside the real one."""
    primary = record.confidence_intervals.get("roc_auc")
    rows = [["real images", "the cases' own images", _ci(record.metrics["roc_auc"], primary)]]
    rows += [[c["control"], CONTROL_MEANINGS.get(c["control"], ""), _ci(c["roc_auc"], c["ci"])]
             for c in record.checks.negative_images]
    return table(["images", "what they keep", "ROC-AUC (95% CI)"], rows)

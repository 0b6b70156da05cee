"""The report's design checks: how much the primary ROC-AUC moves over repeats and seeds, what
a model learns from shuffled labels, and sensitivity and specificity at a threshold fixed inside
the training folds. Rendered from ``metrics.json`` (:class:`~radiopipe.records.DesignChecks`).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import numpy as np

from radiopipe.records import ValidationRecord


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
                       table: Callable[[list[str], list[list]], str]) -> str:
    """The design-check subsections (empty when the run recorded none).

    Parameters
    ----------
    record : ValidationRecord
        The train stage's record.
    table : callable
        Renders an HTML table from a header and rows.
    """
    checks = record.checks
    auc = record.metrics["roc_auc"]
    parts = []
    if checks.repeats:
        low, median, high = _spread([r["roc_auc"] for r in checks.repeats])
        parts += [
            "<h3>Spread over repeats</h3>",
            f"<p>The headline ROC-AUC ({_num(auc)}) averages each case's probability over the "
            f"{len(checks.repeats)} repeats of the design before scoring. Scored on its own, "
            f"each repeat gives a ROC-AUC between {low} and {high} (median {median}): the "
            "variation a different random split would have given.</p>",
            table(["repeat", "ROC-AUC"],
                  [[r["repeat"], _num(r["roc_auc"])] for r in checks.repeats]),
        ]
    if checks.seeds:
        low, median, high = _spread([s["roc_auc"] for s in checks.seeds])
        parts += [
            "<h3>Spread over seeds</h3>",
            f"<p>The whole outer design drawn again with {len(checks.seeds)} seeds: the primary "
            f"ROC-AUC lies between {low} and {high} (median {median}).</p>",
            table(["seed", "ROC-AUC"], [[s["seed"], _num(s["roc_auc"])] for s in checks.seeds]),
        ]
    if checks.shuffled_labels:
        values = [s["roc_auc"] for s in checks.shuffled_labels]
        defined = [v for v in values if v is not None]
        mean = _num(float(np.mean(defined)) if defined else None)
        low, _, high = _spread(values)
        parts += [
            "<h3>Shuffled-label control</h3>",
            "<p>The primary model validated by the same design with the labels permuted across "
            f"patients, {len(values)} times (a patient's cases keep one label): mean ROC-AUC "
            f"{mean} (range {low} to {high}), against {_num(auc)} with the real labels. With no "
            "relation left between features and labels, this should lie near 0.5; an AUC far "
            "from 0.5 means that information about the labels leaks into the validation "
            "(through preprocessing, selection or splits), and the real estimate cannot be "
            "trusted either.</p>",
        ]
    if checks.threshold is not None:
        t = checks.threshold
        thresholds = [v for v in t["thresholds"] if v is not None]
        span = (f"{min(thresholds):.3f} to {max(thresholds):.3f}" if thresholds else "n/a")
        positive = escape(record.classes[1])
        parts += [
            "<h3>Sensitivity and specificity at an in-fold threshold</h3>",
            "<p>In every outer training set, the threshold on the probability of "
            f"<b>{positive}</b> that maximises Youden's J on inner out-of-fold predictions "
            f"(thresholds {span}), applied unchanged to the outer test fold; "
            f"{t['n_calls']} calls pooled over the test folds, 95% CI by the bootstrap of the "
            "other intervals.</p>",
            table(["measure", "value (95% CI)"], [
                ["sensitivity", _ci(t["sensitivity"], t["ci"]["sensitivity"])],
                ["specificity", _ci(t["specificity"], t["ci"]["specificity"])],
            ]),
        ]
    return "\n".join(parts)

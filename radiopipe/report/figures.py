"""Report figures as self-contained PNG data URIs (matplotlib, no display needed)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def to_data_uri(figure: Figure) -> str:
    """Render a figure to a base64 PNG data URI.

    The report's figures are ``Figure`` objects, outside pyplot: they render with matplotlib's
    PNG canvas whatever the session's backend, and need no closing.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def confusion_figure(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> str:
    """Confusion matrix (rows: true class, columns: predicted class) as a data URI."""
    counts = np.asarray(matrix)
    fig = Figure(figsize=(1.4 + 1.1 * len(classes), 1.0 + 1.0 * len(classes)))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = counts.max() / 2 if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            str(value),
            ha="center",
            va="center",
            color="white" if value > threshold else "black",
        )
    ax.set_title("Out-of-fold confusion matrix")
    return to_data_uri(fig)


def roc_figure(curves: pd.DataFrame, auc_per_class: dict[str, float],
               intervals: dict[str, list[float] | None] | None = None) -> str:
    """ROC curves (one-vs-rest per class) as a data URI; the legend gives each class's AUC, with
    its 95% interval where ``intervals`` has one."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.subplots()
    for name, curve in curves.groupby("class", sort=False):
        auc, ci = auc_per_class[name], (intervals or {}).get(name)
        text = "n/a" if auc is None else f"{auc:.3f}"
        if auc is not None and ci is not None:
            text += f", 95% CI {ci[0]:.3f}-{ci[1]:.3f}"
        ax.plot(curve["fpr"], curve["tpr"], label=f"{name} (AUC {text})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Out-of-fold ROC curves")
    ax.legend(loc="lower right", fontsize=8)
    return to_data_uri(fig)

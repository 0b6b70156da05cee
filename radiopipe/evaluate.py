"""Classification metrics of out-of-fold predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics


def classification_metrics(y: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> dict:
    """Accuracy, balanced accuracy, macro precision/recall/F1, ROC-AUC and the confusion matrix.

    ROC-AUC is that of the positive (second) class for binary tasks and the macro average of
    one-vs-rest AUCs for multi-class tasks.

    Parameters
    ----------
    y : array of int
        True class codes 0..K-1.
    proba : array of shape (n, K)
        Predicted probabilities.
    classes : sequence of str
        Class names by code.

    Returns
    -------
    dict
        Scalar metrics, ``roc_auc_per_class`` and ``confusion_matrix`` (rows: true, columns:
        predicted, in ``classes`` order).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    >>> classification_metrics(y, p, ["a", "b"])["roc_auc"]
    1.0
    """
    labels = list(range(len(classes)))
    predicted = proba.argmax(axis=1)
    per_class = {
        name: float(metrics.roc_auc_score(y == k, proba[:, k])) for k, name in enumerate(classes)
    }
    if len(classes) == 2:
        auc = per_class[classes[1]]
    else:
        auc = float(metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels))
    return {
        "accuracy": float(metrics.accuracy_score(y, predicted)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y, predicted)),
        "precision_macro": float(
            metrics.precision_score(y, predicted, average="macro", labels=labels, zero_division=0)
        ),
        "recall_macro": float(
            metrics.recall_score(y, predicted, average="macro", labels=labels, zero_division=0)
        ),
        "f1_macro": float(metrics.f1_score(y, predicted, average="macro", labels=labels, zero_division=0)),
        "roc_auc": auc,
        "roc_auc_per_class": per_class,
        "confusion_matrix": metrics.confusion_matrix(y, predicted, labels=labels).tolist(),
    }


def roc_curves(y: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """One-vs-rest ROC curve points of every class (binary tasks: the positive class only).

    Returns
    -------
    pandas.DataFrame
        Columns ``class, fpr, tpr, threshold``.
    """
    shown = [1] if len(classes) == 2 else range(len(classes))
    frames = []
    for k in shown:
        fpr, tpr, thresholds = metrics.roc_curve(y == k, proba[:, k])
        frames.append(pd.DataFrame({"class": classes[k], "fpr": fpr, "tpr": tpr, "threshold": thresholds}))
    return pd.concat(frames, ignore_index=True)

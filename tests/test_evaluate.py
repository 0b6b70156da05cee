"""Out-of-fold metrics on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.evaluate import classification_metrics, roc_curves


def test_binary_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.8, 0.2]])
    m = classification_metrics(y, proba, ["neg", "pos"])
    # predictions 0, 1, 1, 0: one error per class
    assert m["accuracy"] == 0.5
    assert m["confusion_matrix"] == [[1, 1], [1, 1]]
    # positive-class scores 0.1, 0.6 (neg) vs 0.7, 0.2 (pos): 3 of 4 pairs ranked right
    assert m["roc_auc"] == pytest.approx(0.75)


def test_multiclass_macro_auc_is_the_mean_of_one_vs_rest():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]]
    )
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m["roc_auc"] == pytest.approx(np.mean(list(m["roc_auc_per_class"].values())))
    # predicted 0, 1, 2, 1, 0, 2: recall 1/2 (a), 1/2 (b), 2/2 (c)
    assert m["balanced_accuracy"] == pytest.approx(np.mean([0.5, 0.5, 1.0]))


def test_roc_curves_cover_each_class():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[y] * 0.6 + 0.1
    curves = roc_curves(y, proba, ["a", "b", "c"])
    assert set(curves["class"]) == {"a", "b", "c"}
    assert curves.groupby("class")["tpr"].max().eq(1.0).all()

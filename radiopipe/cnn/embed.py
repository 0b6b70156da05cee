"""Batched inference: prepared inputs of many cases through the backbone, one vector per case.

Inputs of several cases share batches of ``batch_size`` images; each case's per-input
embeddings are then aggregated (mean or max over its slices or planes). On the CPU the result
is deterministic: the same input gives the same vector.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from radiopipe.cnn.backbones import Backbone

AGGREGATIONS = ("mean", "max")


def embed_inputs(
    backbone: Backbone, cases: Sequence[np.ndarray], *, batch_size: int = 32
) -> list[np.ndarray]:
    """Per-input embeddings of every case.

    Parameters
    ----------
    backbone : Backbone
    cases : sequence of numpy.ndarray
        Each ``(n_i, c, size, size)`` on [0, 1] (:attr:`PreparedInputs.images`), c 1 or 3.
    batch_size : int
        Images per forward pass.

    Returns
    -------
    list of numpy.ndarray
        ``(n_i, dims)`` float32 per case, in the given order.
    """
    if not cases:
        return []
    normalised = np.concatenate([backbone.normalise(images) for images in cases])
    outputs = [
        backbone.run(normalised[start : start + batch_size])
        for start in range(0, len(normalised), batch_size)
    ]
    stacked = np.concatenate(outputs)
    bounds = np.cumsum([0, *(len(images) for images in cases)])
    return [stacked[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def aggregate(per_input: np.ndarray, how: str) -> np.ndarray:
    """One case's embedding from its per-input embeddings.

    Parameters
    ----------
    per_input : numpy.ndarray of shape (n, dims)
    how : {'mean', 'max'}
        :math:`e_j = \\frac{1}{n} \\sum_k e_{kj}` or :math:`e_j = \\max_k e_{kj}`.

    Returns
    -------
    numpy.ndarray of shape (dims,), float64

    Examples
    --------
    >>> aggregate(np.array([[1.0, 4.0], [3.0, 2.0]]), "max")
    array([3., 4.])
    """
    if how not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}; got {how!r}")
    values = np.asarray(per_input, dtype=np.float64)
    return values.mean(axis=0) if how == "mean" else values.max(axis=0)

"""Intensity normalisation of the whole image."""

from __future__ import annotations

from radiopipe.xp import get_namespace


def normalise(image, scale: float = 1.0):
    """Z-score the whole image, as pyradiomics' ``normalize`` does: ``scale (x - mean) / sd``.

    Examples
    --------
    >>> import numpy as np
    >>> normalise(np.array([1.0, 3.0])).tolist()
    [-1.0, 1.0]
    """
    xp = get_namespace(image)
    sd = xp.std(image)
    centred = image - xp.mean(image)
    return scale * (centred / sd if float(sd) > 0 else centred)

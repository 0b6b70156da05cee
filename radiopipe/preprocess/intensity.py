"""Intensity normalisation of the whole image."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from radiopipe.xp import get_namespace


def normalise(image, scale: float = 1.0, outliers: float | None = None):
    """Z-score the whole image: ``scale (x - mean) / sd``, the population standard deviation.

    With ``outliers``, z-scores are clipped to ``[-outliers, outliers]`` before the scaling.

    Examples
    --------
    >>> import numpy as np
    >>> normalise(np.array([1.0, 3.0])).tolist()
    [-1.0, 1.0]
    """
    xp = get_namespace(image)
    sd = xp.std(image)
    centred = image - xp.mean(image)
    z = centred / sd if float(sd) > 0 else centred
    if outliers is not None:
        z = xp.clip(z, -outliers, outliers)
    return scale * z


def normalise_pyradiomics(
    image: np.ndarray, scale: float = 1.0, outliers: float | None = None
) -> np.ndarray:
    """``radiomics.imageoperations.normalizeImage``: SimpleITK's ``Normalize`` (the sample
    standard deviation, ``ddof=1``), z-scores clipped to ``[-outliers, outliers]`` (pyradiomics'
    ``removeOutliers``), then multiplied by ``scale`` (``normalizeScale``), each step in
    SimpleITK's output pixel type, as pyradiomics does.

    Examples
    --------
    >>> normalise_pyradiomics(np.array([[[1, 3]]], dtype=np.int16), scale=100).ravel().tolist()
    [-70.71067811865474, 70.71067811865474]
    """
    normalised = sitk.Normalize(sitk.GetImageFromArray(image))
    if outliers is not None:
        array = sitk.GetArrayFromImage(normalised)
        array[array > outliers] = outliers
        array[array < -outliers] = -outliers
        normalised = sitk.GetImageFromArray(array)
    return sitk.GetArrayFromImage(normalised * scale)

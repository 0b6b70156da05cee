"""Re-segmentation of the ROI by intensity (IBSI-1, "Re-segmentation").

Two rules, each returning a new boolean mask that is a subset of the input mask:

``resegment_range``
    keep ROI voxels with ``low <= x <= high`` (a bound of None is open); pyradiomics'
    ``resegmentRange`` in absolute mode does the same.
``resegment_outliers``
    keep ROI voxels with ``|x - mu| <= n sigma``, where ``mu`` and ``sigma`` (population standard
    deviation) are taken over the ROI passed in; IBSI uses ``n = 3``, pyradiomics' ``sigma`` mode
    with ``resegmentRange = [-n, n]`` does the same.

``resegment`` applies both to the same input ROI and keeps their intersection, as IBSI combines
them. In IBSI terms the result is the new *intensity* mask; the morphological mask stays as it
was. An empty ROI stays empty.
"""

from __future__ import annotations

from radiopipe.xp import get_namespace

IBSI_OUTLIER_SIGMAS = 3.0


def resegment_range(image, mask, low: float | None = None, high: float | None = None):
    """Keep the ROI voxels whose intensity lies in the closed range ``[low, high]``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([-600.0, -100.0, 500.0]); mask = np.ones(3, dtype=bool)
    >>> resegment_range(image, mask, -500, 400).tolist()
    [False, True, False]
    """
    if low is not None and high is not None and low > high:
        raise ValueError(
            f"The range of resegment_range must have low <= high. Got [{low}, {high}] instead."
        )
    kept = mask.astype(bool)
    if low is not None:
        kept &= image >= low
    if high is not None:
        kept &= image <= high
    return kept


def resegment_outliers(image, mask, n_sigmas: float = IBSI_OUTLIER_SIGMAS):
    """Keep the ROI voxels within ``n_sigmas`` standard deviations of the ROI mean.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([0.0] * 20 + [100.0]); mask = np.ones(21, dtype=bool)
    >>> resegment_outliers(image, mask).sum().item()
    20
    """
    if not n_sigmas > 0:
        raise ValueError(
            f"The 'n_sigmas' parameter of resegment_outliers must be > 0. Got {n_sigmas!r} instead."
        )
    xp = get_namespace(image, mask)
    mask = mask.astype(bool)
    values = image[mask].astype(xp.float64)
    if values.size == 0:
        return mask
    mean = xp.mean(values)
    spread = n_sigmas * xp.std(values)
    return mask & (image >= mean - spread) & (image <= mean + spread)


def resegment(
    image,
    mask,
    *,
    intensity_range: tuple[float | None, float | None] | None = None,
    outlier_sigmas: float | None = None,
):
    """IBSI re-segmentation: range and/or outlier filtering on the same ROI, intersected.

    Parameters
    ----------
    image : array
        Intensities (after interpolation).
    mask : array of bool
        The ROI to re-segment.
    intensity_range : (low, high), optional
        Closed range kept; either bound may be None (open).
    outlier_sigmas : float, optional
        Keep voxels within this many standard deviations of the ROI mean (IBSI: 3).

    Returns
    -------
    array of bool
        The re-segmented (intensity) mask.
    """
    kept = mask.astype(bool)
    if intensity_range is not None:
        kept = kept & resegment_range(image, mask, *intensity_range)
    if outlier_sigmas is not None:
        kept = kept & resegment_outliers(image, mask, outlier_sigmas)
    return kept

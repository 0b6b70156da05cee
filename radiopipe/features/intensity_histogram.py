r"""Intensity-histogram features (IBSI section 3.4, prefix ``ih_``; not a pyradiomics family).

The statistics of :mod:`.firstorder` computed on the discretised levels :math:`X_d` of the ROI,
plus the histogram's mode, entropy, uniformity and gradient. With :math:`N_g` = ``n_levels``,
:math:`n_i` the number of ROI voxels at level :math:`i = 1..N_g` (empty levels included),
:math:`p_i = n_i / N_v`, :math:`\mu` and :math:`\sigma` the mean and (biased) standard deviation
of :math:`X_d`. Percentiles interpolate linearly (NumPy's default), as IBSI's reference
implementation does. pyradiomics has the entropy and uniformity only, in ``firstorder``.

The histogram gradient is :math:`H'(i) = (n_{i+1} - n_{i-1}) / 2` inside and the one-sided
difference at :math:`i = 1` and :math:`N_g`; with a single level it is 0.

Examples
--------
>>> levels = np.array([[[1, 1, 2, 4]]])
>>> features = compute_intensity_histogram(levels, levels > 0, 4)
>>> features["Mode"], features["Entropy"], features["MaximumHistogramGradient"]
(1.0, 1.5, 1.0)
"""

from __future__ import annotations

import numpy as np

from radiopipe.xp import get_namespace, to_numpy

FEATURE_NAMES = (
    "Mean",
    "Variance",
    "Skewness",
    "Kurtosis",
    "Median",
    "Minimum",
    "10Percentile",
    "90Percentile",
    "Maximum",
    "Mode",
    "InterquartileRange",
    "Range",
    "MeanAbsoluteDeviation",
    "RobustMeanAbsoluteDeviation",
    "MedianAbsoluteDeviation",
    "CoefficientOfVariation",
    "QuartileCoefficientOfDispersion",
    "Entropy",
    "Uniformity",
    "MaximumHistogramGradient",
    "MaximumHistogramGradientGreyLevel",
    "MinimumHistogramGradient",
    "MinimumHistogramGradientGreyLevel",
)


def compute_intensity_histogram(levels, mask, n_levels: int) -> dict[str, float]:
    r"""Intensity-histogram features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x) or (y, x)
        Grey levels 1..n_levels inside the ROI; values outside are ignored.
    mask : array of bool, same shape
        The ROI; must hold at least one voxel.
    n_levels : int
        :math:`N_g`, the number of grey levels of the discretisation.

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order.

    Notes
    -----
    Mean :math:`\mu = \sum_i i\, p_i`, Variance :math:`\sigma^2 = \sum_i (i - \mu)^2 p_i`,
    Skewness :math:`= \sum_i (i - \mu)^3 p_i / \sigma^3`, Kurtosis (excess)
    :math:`= \sum_i (i - \mu)^4 p_i / \sigma^4 - 3` (both 0 for a single level, as in IBSI's
    reference implementation), Mode: the most frequent level (ties: the one closest to
    :math:`\mu`, then the lower one), Entropy :math:`= -\sum_{p_i > 0} p_i \log_2 p_i`,
    Uniformity :math:`= \sum_i p_i^2`; the deviations, coefficient of variation and quartile
    coefficient of dispersion are those of :mod:`.firstorder` on :math:`X_d`.
    """
    values, counts = _histogram(levels, mask, n_levels)
    xp = get_namespace(counts)
    p = counts / counts.sum()
    grey = xp.arange(1, n_levels + 1, dtype=xp.float64)
    mean = xp.sum(grey * p)
    variance = xp.sum((grey - mean) ** 2 * p)
    flat = float(variance) == 0.0
    quantiles = xp.percentile(values, xp.asarray([10, 25, 50, 75, 90]))
    p10, p25, p50, p75, p90 = (float(q) for q in quantiles)
    robust = values[(values >= p10) & (values <= p90)]
    gradient = xp.gradient(counts) if n_levels > 1 else xp.zeros(1)
    occupied = p[p > 0]
    features = {
        "Mean": mean,
        "Variance": variance,
        # A single level makes the moments 0 / 0; IBSI's reference implementation reports 0.
        "Skewness": 0.0 if flat else xp.sum((grey - mean) ** 3 * p) / variance**1.5,
        "Kurtosis": 0.0 if flat else xp.sum((grey - mean) ** 4 * p) / variance**2 - 3.0,
        "Median": p50,
        "Minimum": values.min(),
        "10Percentile": p10,
        "90Percentile": p90,
        "Maximum": values.max(),
        "Mode": _mode(counts, float(mean)),
        "InterquartileRange": p75 - p25,
        "Range": values.max() - values.min(),
        "MeanAbsoluteDeviation": xp.mean(xp.abs(values - mean)),
        "RobustMeanAbsoluteDeviation": xp.mean(xp.abs(robust - xp.mean(robust))),
        "MedianAbsoluteDeviation": xp.mean(xp.abs(values - p50)),
        "CoefficientOfVariation": xp.sqrt(variance) / mean,  # mean >= 1: levels start at 1
        "QuartileCoefficientOfDispersion": (p75 - p25) / (p75 + p25),
        "Entropy": -xp.sum(occupied * xp.log2(occupied)),
        "Uniformity": xp.sum(p**2),
        "MaximumHistogramGradient": gradient.max(),
        "MaximumHistogramGradientGreyLevel": int(xp.argmax(gradient)) + 1,
        "MinimumHistogramGradient": gradient.min(),
        "MinimumHistogramGradientGreyLevel": int(xp.argmin(gradient)) + 1,
    }
    return {name: float(features[name]) for name in FEATURE_NAMES}


def _histogram(levels, mask, n_levels):
    """ROI levels (float64) and the voxel count of every level 1..n_levels."""
    xp = get_namespace(levels, mask)
    levels, mask = xp.asarray(levels), xp.asarray(mask).astype(bool)
    if levels.shape != mask.shape:
        raise ValueError(
            "The 'mask' parameter of compute_intensity_histogram must have the levels' shape "
            f"{levels.shape}. Got {mask.shape} instead."
        )
    if not bool(xp.any(mask)):
        raise ValueError(
            "The 'mask' parameter of compute_intensity_histogram must hold at least one voxel. "
            "Got an empty mask instead."
        )
    values = levels[mask].astype(xp.int64)
    low, high = int(values.min()), int(values.max())
    if not (isinstance(n_levels, (int, np.integer)) and low >= 1 and high <= n_levels):
        raise ValueError(
            "The 'n_levels' parameter of compute_intensity_histogram must be an int >= every "
            f"level in the ROI (levels {low}..{high}). Got {n_levels!r} instead."
        )
    counts = xp.bincount(values - 1, minlength=n_levels).astype(xp.float64)
    return values.astype(xp.float64), counts


def _mode(counts, mean: float) -> int:
    """Most frequent level; ties go to the level closest to the mean, then to the lower one."""
    counts = to_numpy(counts)
    candidates = np.flatnonzero(counts == counts.max()) + 1
    return int(candidates[np.argmin(np.abs(candidates - mean))])

r"""First-order statistics of a whole batch of ROIs at once (`radiopipe.features.firstorder`).

`radiopipe.features.firstorder.compute_firstorder` takes one ROI, and its percentiles, minimum
and maximum come back to the host as Python floats; for thousands of small ROIs that is
thousands of round trips. Here the ROI intensities become the rows of one padded, row-sorted
``(n_roi, longest ROI)`` array, so every statistic is one array operation over all ROIs, in the
array namespace of the values, and nothing is copied back.

The definitions are those of `compute_firstorder` (its docstring gives the formulas and the
modes); the tests hold the two against each other on random ROIs. Percentiles use NumPy's
'linear' method as written in ``numpy.percentile``: virtual index :math:`h = (N_p - 1) q`,
:math:`x_{\lfloor h \rfloor}` and the next value interpolated with NumPy's two-sided ``_lerp``.
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.firstorder import FEATURE_NAMES, MODES
from radiopipe.gpu.packing import dense_rows, owner
from radiopipe.xp import get_namespace

_QUANTILES = {"10Percentile": 0.10, "25": 0.25, "Median": 0.50, "75": 0.75, "90Percentile": 0.90}
# Elements of the padded intensity table processed at once (float64: 1 GiB).
CHUNK_ELEMENTS = 1 << 27


def firstorder_batch(
    values, levels, roi_start: np.ndarray, voxel_volume, *, mode: str = "ibsi",
    voxel_array_shift: float = 0.0,
):
    """First-order features of every ROI of a batch.

    Parameters
    ----------
    values : array of float64, shape (n_voxels,)
        Intensities of the ROI voxels, ROI after ROI.
    levels : array of int, shape (n_voxels,)
        Their discretised grey levels (>= 1), for Entropy and Uniformity.
    roi_start : ndarray of int64, shape (n_roi + 1,)
        ``values[roi_start[r]:roi_start[r + 1]]`` belong to ROI ``r``; every ROI non-empty.
    voxel_volume : array-like of float, shape (n_roi,)
        Voxel volume of each ROI in mm^3 (TotalEnergy).
    mode : {'ibsi', 'pyradiomics'}
        As in `compute_firstorder` (IBSI reports the excess kurtosis).
    voxel_array_shift : float
        Added to the intensities in Energy, TotalEnergy and RootMeanSquared.

    Returns
    -------
    array of float64, shape (n_roi, len(FEATURE_NAMES))
        Columns in ``FEATURE_NAMES`` order, in the namespace of ``values``.

    Examples
    --------
    >>> table = firstorder_batch(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1, 1, 2, 2, 3]),
    ...                          np.array([0, 4, 5]), [1.0, 1.0])
    >>> table[:, FEATURE_NAMES.index("Mean")].tolist()
    [2.5, 5.0]
    """
    if mode not in MODES:
        raise ValueError(f"The 'mode' parameter must be one of {MODES}. Got {mode!r} instead.")
    roi_start = np.asarray(roi_start, dtype=np.int64)
    counts = np.diff(roi_start)
    if len(counts) == 0 or counts.min() < 1:
        raise ValueError("firstorder_batch needs at least one ROI and no empty ROI.")
    xp = get_namespace(values)
    voxel_volume = np.asarray(voxel_volume, dtype=np.float64)
    rows_per_chunk = max(1, CHUNK_ELEMENTS // int(counts.max()))
    tables = []
    for first in range(0, len(counts), rows_per_chunk):
        stop = min(first + rows_per_chunk, len(counts))
        lo, hi = int(roi_start[first]), int(roi_start[stop])
        starts = roi_start[first : stop + 1] - lo
        tables.append(
            _chunk_table(
                values[lo:hi], levels[lo:hi], starts, xp.asarray(voxel_volume[first:stop]), mode,
                voxel_array_shift,
            )
        )
    return xp.concatenate(tables, axis=0)


def _chunk_table(values, levels, roi_start, voxel_volume, mode, shift):
    xp = get_namespace(values)
    n = xp.asarray(np.diff(roi_start), dtype=xp.float64)
    ordered = xp.sort(dense_rows(values.astype(xp.float64), roi_start, xp.inf), axis=1)
    inside = xp.arange(ordered.shape[1])[None, :] < n[:, None]
    x = xp.where(inside, ordered, 0.0)
    quantile = {name: _percentile(ordered, n, q) for name, q in _QUANTILES.items()}
    minimum, maximum = ordered[:, 0], xp.take_along_axis(ordered, _last(n, xp), axis=1)[:, 0]
    mean = xp.sum(x, axis=1) / n
    deviation = xp.where(inside, ordered - mean[:, None], 0.0)
    variance = xp.sum(deviation**2, axis=1) / n
    flat = minimum == maximum
    # Moments of a flat ROI are 0 / 0; pyradiomics and IBSI report 0 (as compute_firstorder).
    spread = xp.where(flat, 1.0, variance)
    skewness = xp.where(flat, 0.0, xp.sum(deviation**3, axis=1) / n / spread**1.5)
    kurtosis = xp.where(flat, 0.0, xp.sum(deviation**4, axis=1) / n / spread**2)
    if mode == "ibsi":
        kurtosis = xp.where(flat, 0.0, kurtosis - 3.0)  # IBSI reports the excess kurtosis
    energy = xp.sum(xp.where(inside, (ordered + shift) ** 2, 0.0), axis=1)
    p10, p25, p50, p75, p90 = (quantile[k] for k in ("10Percentile", "25", "Median", "75",
                                                      "90Percentile"))
    robust = inside & (ordered >= p10[:, None]) & (ordered <= p90[:, None])
    robust_n = xp.sum(robust, axis=1)
    robust_mean = xp.sum(xp.where(robust, ordered, 0.0), axis=1) / xp.maximum(robust_n, 1)
    robust_deviation = xp.where(robust, xp.abs(ordered - robust_mean[:, None]), 0.0)
    entropy, uniformity = _histogram_features(levels, roi_start, n)
    features = {
        "Energy": energy,
        "TotalEnergy": energy * voxel_volume,
        "Entropy": entropy,
        "Minimum": minimum,
        "10Percentile": p10,
        "90Percentile": p90,
        "Maximum": maximum,
        "Mean": mean,
        "Median": p50,
        "InterquartileRange": p75 - p25,
        "Range": maximum - minimum,
        "MeanAbsoluteDeviation": xp.sum(xp.abs(deviation), axis=1) / n,
        # NaN when no value lies within [P10, P90] (two distinct values): a mean of nothing.
        "RobustMeanAbsoluteDeviation": xp.where(
            robust_n > 0, xp.sum(robust_deviation, axis=1) / xp.maximum(robust_n, 1), xp.nan
        ),
        "RootMeanSquared": xp.sqrt(energy / n),
        "Skewness": skewness,
        "Kurtosis": kurtosis,
        "Variance": variance,
        "Uniformity": uniformity,
        "MedianAbsoluteDeviation": xp.sum(xp.where(inside, xp.abs(ordered - p50[:, None]), 0.0),
                                          axis=1) / n,
        "CoefficientOfVariation": xp.where(flat, 0.0, _ratio(xp.sqrt(variance), mean)),
        "QuartileCoefficientOfDispersion": _ratio(p75 - p25, p75 + p25),
    }
    return xp.stack([features[name] for name in FEATURE_NAMES], axis=1)


def _last(n, xp):
    """Column index of each row's last value, shaped (n_roi, 1) for ``take_along_axis``."""
    return (n.astype(xp.int64) - 1)[:, None]


def _percentile(ordered, n, quantile: float):
    """NumPy's 'linear' percentile of each row's first ``n`` values (rows sorted ascending)."""
    xp = get_namespace(ordered)
    virtual = (n - 1) * quantile
    below = xp.clip(xp.floor(virtual), 0, n - 1)
    above = xp.clip(below + 1, 0, n - 1)
    gamma = virtual - below
    a = xp.take_along_axis(ordered, below.astype(xp.int64)[:, None], axis=1)[:, 0]
    b = xp.take_along_axis(ordered, above.astype(xp.int64)[:, None], axis=1)[:, 0]
    difference = b - a
    # numpy's _lerp interpolates from the nearer end: a + d t below t = 0.5, b - d (1 - t) above.
    return xp.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)


def _histogram_features(levels, roi_start, n):
    r"""Entropy :math:`-\sum_i p_i \log_2 p_i` and uniformity :math:`\sum_i p_i^2` of each ROI."""
    xp = get_namespace(levels)
    n_levels = int(xp.max(levels))
    roi = owner(roi_start, levels.shape[0], xp)
    counts = xp.bincount(roi * n_levels + levels.astype(xp.int64) - 1,
                         minlength=len(roi_start[1:]) * n_levels)
    p = counts.reshape(-1, n_levels) / n[:, None]
    logarithm = xp.log2(xp.where(p > 0, p, 1.0))  # log2(1) = 0 keeps empty levels out
    return -xp.sum(p * logarithm, axis=1), xp.sum(p * p, axis=1)


def _ratio(numerator, denominator):
    """``numerator / denominator``, NaN where the denominator vanishes (undefined)."""
    xp = get_namespace(numerator)
    safe = xp.where(denominator != 0, denominator, 1.0)
    return xp.where(denominator != 0, numerator / safe, xp.nan)

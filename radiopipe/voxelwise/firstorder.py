"""First-order features of every kernel at once (pyradiomics' ``firstorder``, voxel-based).

Each centre's kernel values are gathered into one row (NaN where the kernel may not read), the
rows sorted once; every feature is then a vectorised function of the sorted rows, their counts
and the grey-level histogram of each kernel, as pyradiomics computes it with ``nan*`` functions
over the same rows: percentiles by linear interpolation between order statistics (numpy's
default), moments about each kernel's mean, flat kernels' skewness and kurtosis 0.
"""

from __future__ import annotations

import numpy as np

from radiopipe.voxelwise.kernels import KernelInput

EPSILON = float(np.spacing(1))

FEATURE_NAMES = (
    "Energy", "TotalEnergy", "Entropy", "Minimum", "10Percentile", "90Percentile", "Maximum",
    "Mean", "Median", "InterquartileRange", "Range", "MeanAbsoluteDeviation",
    "RobustMeanAbsoluteDeviation", "RootMeanSquared", "Skewness", "Kurtosis", "Variance",
    "Uniformity",
)


def firstorder_maps(kernels: KernelInput, names, *, voxel_array_shift: float = 0.0) -> dict:
    """First-order features of every centre's kernel.

    Parameters
    ----------
    kernels : KernelInput
    names : collection of str
        Features wanted (:data:`FEATURE_NAMES`).
    voxel_array_shift : float
        pyradiomics' ``voxelArrayShift`` (Energy, TotalEnergy, RootMeanSquared).

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_centres,)
    """
    rows = np.sort(kernels.windows(kernels.values), axis=1)  # NaN last
    count = np.sum(~np.isnan(rows), axis=1)
    valid = ~np.isnan(rows)
    filled = np.where(valid, rows, 0.0)
    mean = filled.sum(axis=1) / count
    deviation = np.where(valid, rows - mean[:, None], 0.0)
    m2 = np.sum(deviation**2, axis=1) / count
    flat = m2 == 0
    safe_m2 = np.where(flat, 1.0, m2)
    shifted_sq = np.sum(np.where(valid, (rows + voxel_array_shift) ** 2, 0.0), axis=1)

    def percentile(q):
        position = q / 100.0 * (count - 1)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, count - 1)
        fraction = position - below
        at = np.arange(len(rows))
        low, high = rows[at, below], rows[at, above]
        return low + (high - low) * fraction

    def robust_mad():
        p10, p90 = percentile(10), percentile(90)
        kept = valid & (rows >= p10[:, None]) & (rows <= p90[:, None])
        n_kept = kept.sum(axis=1)
        # two values: both lie outside [p10, p90], which keeps none (NaN, as in pyradiomics)
        divisor = np.maximum(n_kept, 1)
        kept_mean = np.where(kept, rows, 0.0).sum(axis=1) / divisor
        spread = np.where(kept, np.abs(rows - kept_mean[:, None]), 0.0).sum(axis=1) / divisor
        return np.where(n_kept > 0, spread, np.nan)

    def histogram():
        levels = kernels.windows(kernels.levels)
        p = np.stack([np.sum(levels == g, axis=1) for g in kernels.grey_levels], axis=1)
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1)

    last = rows[np.arange(len(rows)), count - 1]
    table = {
        "Energy": lambda: shifted_sq,
        "TotalEnergy": lambda: shifted_sq * float(np.prod(kernels.spacing)),
        "Entropy": lambda: -np.sum((p := histogram()) * np.log2(p + EPSILON), axis=1),
        "Minimum": lambda: rows[:, 0],
        "10Percentile": lambda: percentile(10),
        "90Percentile": lambda: percentile(90),
        "Maximum": lambda: last,
        "Mean": lambda: mean,
        "Median": lambda: percentile(50),
        "InterquartileRange": lambda: percentile(75) - percentile(25),
        "Range": lambda: last - rows[:, 0],
        "MeanAbsoluteDeviation": lambda: np.sum(np.abs(deviation), axis=1) / count,
        "RobustMeanAbsoluteDeviation": robust_mad,
        "RootMeanSquared": lambda: np.sqrt(shifted_sq / count),
        "Skewness": lambda: np.where(
            flat, 0.0, np.sum(deviation**3, axis=1) / count / safe_m2**1.5),
        "Kurtosis": lambda: np.where(
            flat, 0.0, np.sum(deviation**4, axis=1) / count / safe_m2**2),
        "Variance": lambda: m2,
        "Uniformity": lambda: np.sum(histogram() ** 2, axis=1),
    }
    return {name: np.asarray(table[name](), dtype=np.float64) for name in names}

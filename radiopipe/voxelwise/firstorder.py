"""First-order features of every kernel (pyradiomics' ``firstorder``, voxel-based), compiled.

A compiled loop gathers each centre's counted kernel values (the voxels not NaN) into a scratch
row, sorts it in place and computes every feature from the sorted values, their count and the
grey-level histogram of the kernel, as pyradiomics computes them with ``nan*`` functions over the
same values: percentiles by linear interpolation between order statistics (numpy's default),
moments about the kernel's mean, flat kernels' skewness and kurtosis 0, the robust mean absolute
deviation NaN where the 10-90 percentile range keeps no value (two values lie outside it).
"""

from __future__ import annotations

import numba
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
    values = np.empty((len(kernels.centres), len(FEATURE_NAMES)))
    _kernel_features(kernels.values, kernels.level_index(), kernels.centres, kernels.radius,
                     len(kernels.grey_levels), float(voxel_array_shift),
                     float(np.prod(kernels.spacing)), values)
    return {name: values[:, FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(values, index, centres, radius, n_grey, shift, voxel_volume,
                     out):  # pragma: no cover - compiled
    """``out[c]``: the features of centre ``c``'s kernel, in :data:`FEATURE_NAMES`' order."""
    side = 2 * radius + 1
    row = np.empty(side**3)
    histogram = np.zeros(n_grey)
    present = np.empty(side**3, dtype=np.int64)
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        count = 0
        n_present = 0
        for z in range(z0 - radius, z0 + radius + 1):
            for y in range(y0 - radius, y0 + radius + 1):
                for x in range(x0 - radius, x0 + radius + 1):
                    level = index[z, y, x]
                    if level < 0:
                        continue
                    row[count] = values[z, y, x]
                    count += 1
                    if histogram[level] == 0.0:
                        present[n_present] = level
                        n_present += 1
                    histogram[level] += 1.0
        kernel = row[:count]
        kernel.sort()
        total = squares = 0.0
        for value in kernel:
            total += value
            squares += (value + shift) * (value + shift)
        mean = total / count
        m2 = m3 = m4 = absolute = 0.0
        for value in kernel:
            deviation = value - mean
            m2 += deviation * deviation
            m3 += deviation * deviation * deviation
            m4 += deviation * deviation * deviation * deviation
            absolute += abs(deviation)
        m2 /= count
        entropy = uniformity = 0.0
        for n in range(n_present):
            p = histogram[present[n]] / count
            entropy -= p * np.log2(p + EPSILON)
            uniformity += p * p
            histogram[present[n]] = 0.0
        p10, p90 = _percentile(kernel, 10.0), _percentile(kernel, 90.0)
        kept = 0
        kept_total = 0.0
        for value in kernel:
            if p10 <= value <= p90:
                kept += 1
                kept_total += value
        robust = np.nan  # two values: both lie outside [p10, p90], which keeps none
        if kept > 0:
            kept_mean = kept_total / kept
            robust = 0.0
            for value in kernel:
                if p10 <= value <= p90:
                    robust += abs(value - kept_mean)
            robust /= kept
        flat = m2 == 0.0
        out[c, 0] = squares
        out[c, 1] = squares * voxel_volume
        out[c, 2] = entropy
        out[c, 3] = kernel[0]
        out[c, 4] = p10
        out[c, 5] = p90
        out[c, 6] = kernel[count - 1]
        out[c, 7] = mean
        out[c, 8] = _percentile(kernel, 50.0)
        out[c, 9] = _percentile(kernel, 75.0) - _percentile(kernel, 25.0)
        out[c, 10] = kernel[count - 1] - kernel[0]
        out[c, 11] = absolute / count
        out[c, 12] = robust
        out[c, 13] = np.sqrt(squares / count)
        out[c, 14] = 0.0 if flat else m3 / count / m2**1.5
        out[c, 15] = 0.0 if flat else m4 / count / m2**2
        out[c, 16] = m2
        out[c, 17] = uniformity


@numba.njit(cache=True, nogil=True, inline="always")
def _percentile(ordered, q):  # pragma: no cover - compiled
    """numpy's default (linear) percentile ``q`` of the sorted ``ordered``."""
    position = q / 100.0 * (ordered.shape[0] - 1)
    below = int(np.floor(position))
    above = min(below + 1, ordered.shape[0] - 1)
    low, high = ordered[below], ordered[above]
    return low + (high - low) * (position - below)

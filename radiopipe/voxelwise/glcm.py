"""GLCM features of every kernel (pyradiomics' ``glcm``, voxel-based), over sparse matrices.

For each centre and each of the 13 directions (pyradiomics' angles at ``distance``), a compiled
loop counts the pairs ``(a, a + d)`` whose two voxels both lie in the centre's kernel and are
both counted (pyradiomics' C code counts the same pairs). The matrices' axes are the grey levels
present where the kernels count (pyradiomics deletes the levels absent from the whole ROI, not
per kernel: :math:`N_g` of Idn and Idmn is the ROI's highest level), symmetrised and normalised
per direction; a direction without a pair gives no matrix, and each feature is the mean over the
centre's other directions (NaN when it has none: a kernel whose counted voxels have no counted
neighbour).

A kernel holds few pairs (at most 18 per direction at radius 1, 100 at radius 2), so each
matrix is kept as its non-zero entries only: the marginals :math:`p_x, p_y`, the sum and
difference distributions :math:`p_{x+y}, p_{x-y}` and every feature are summed over those
entries and the levels present, by the formulas of :mod:`radiopipe.features.glcm` (whose
docstrings define them). Levels absent from a kernel hold zero probability and add nothing to any
sum; for MCC they add zero rows to :math:`Q`, hence zero eigenvalues, so its second largest
eigenvalue is that of :math:`Q` over the kernel's levels, or 0 when the kernel has one level.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.directions import direction_offsets
from radiopipe.voxelwise.kernels import KernelInput
from radiopipe.voxelwise.mcc import mcc, mcc_scratch
from radiopipe.voxelwise.sparse import add_entry, touch

FEATURE_NAMES = (
    "MaximumProbability", "JointAverage", "SumSquares", "JointEntropy", "DifferenceAverage",
    "DifferenceVariance", "DifferenceEntropy", "SumAverage", "SumVariance", "SumEntropy",
    "JointEnergy", "Contrast", "Dissimilarity", "Id", "Idn", "Idm", "Idmn", "InverseVariance",
    "Correlation", "Autocorrelation", "ClusterTendency", "ClusterShade", "ClusterProminence",
    "Imc1", "Imc2", "MCC",
)
EPSILON = float(np.finfo(np.float64).eps)


def glcm_maps(kernels: KernelInput, names, *, distance: int = 1, symmetric: bool = True) -> dict:
    """GLCM features of every centre's kernel.

    Parameters
    ----------
    kernels : KernelInput
    names : collection of str
        Features wanted (:data:`FEATURE_NAMES`).
    distance : int
        pyradiomics' ``distances=[distance]``.
    symmetric : bool
        pyradiomics' ``symmetricalGLCM``.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_centres,)
    """
    offsets = direction_offsets(distance)
    grey_levels = kernels.grey_levels.astype(np.int64)
    index = kernels.level_index()
    values = np.empty((len(kernels.centres), len(FEATURE_NAMES)))
    _kernel_features(index, kernels.centres, offsets, kernels.radius, grey_levels,
                     bool(symmetric), "MCC" in names, values)
    return {name: values[:, FEATURE_NAMES.index(name)].copy() for name in names}


@numba.njit(cache=True, nogil=True)
def _kernel_features(index, centres, offsets, radius, grey_levels, symmetric, with_mcc,
                     out):  # pragma: no cover - compiled
    """``out[c]``: every feature of centre ``c``, the mean over its directions with a pair.

    A feature NaN in a direction counts as 0 there (none is, as the conventions of
    :mod:`radiopipe.features.glcm` leave no matrix undefined). MCC is left 0 unless
    ``with_mcc``.
    """
    n_grey = grey_levels.shape[0]
    top = grey_levels[-1]
    counts = np.zeros((n_grey, n_grey))
    max_entries = 2 * (2 * radius + 1) ** 3
    entry_a = np.empty(max_entries, dtype=np.int64)
    entry_b = np.empty(max_entries, dtype=np.int64)
    scratch = (np.zeros(n_grey), np.zeros(n_grey), np.zeros(2 * top + 1), np.zeros(top + 1),
               np.empty(max_entries))
    bins = (np.empty(n_grey, dtype=np.int64), np.empty(n_grey, dtype=np.int64),
            np.empty(2 * top + 1, dtype=np.int64), np.empty(top + 1, dtype=np.int64))
    mcc_cells = mcc_scratch(n_grey, min(n_grey, (2 * radius + 1) ** 3))
    features = np.empty(out.shape[1])
    total = np.empty(out.shape[1])
    for c in range(centres.shape[0]):
        z0, y0, x0 = centres[c, 0], centres[c, 1], centres[c, 2]
        total[:] = 0.0
        n_present = 0
        for d in range(offsets.shape[0]):
            dz, dy, dx = offsets[d, 0], offsets[d, 1], offsets[d, 2]
            n_entries = 0
            for z in range(max(z0 - radius, z0 - radius - dz),
                           min(z0 + radius, z0 + radius - dz) + 1):
                for y in range(max(y0 - radius, y0 - radius - dy),
                               min(y0 + radius, y0 + radius - dy) + 1):
                    for x in range(max(x0 - radius, x0 - radius - dx),
                                   min(x0 + radius, x0 + radius - dx) + 1):
                        a = index[z, y, x]
                        if a < 0:
                            continue
                        b = index[z + dz, y + dy, x + dx]
                        if b < 0:
                            continue
                        n_entries = add_entry(counts, entry_a, entry_b, n_entries, a, b, 1.0)
                        if symmetric:
                            n_entries = add_entry(counts, entry_a, entry_b, n_entries, b, a, 1.0)
            if n_entries == 0:
                continue
            _direction_features(counts, entry_a[:n_entries], entry_b[:n_entries], grey_levels,
                                scratch, bins, with_mcc, mcc_cells, features)
            for k in range(features.shape[0]):
                if not np.isnan(features[k]):
                    total[k] += features[k]
            n_present += 1
        for k in range(out.shape[1]):
            out[c, k] = total[k] / n_present if n_present > 0 else np.nan


@numba.njit(cache=True, nogil=True)
def _entropy(array, bins, n_bins):  # pragma: no cover - compiled
    """:math:`-\\sum p \\log_2 (p + \\epsilon)` over the listed bins."""
    total = 0.0
    for n in range(n_bins):
        p = array[bins[n]]
        total -= p * np.log2(p + EPSILON)
    return total


@numba.njit(cache=True, nogil=True)
def _direction_features(counts, entry_a, entry_b, grey_levels, scratch, bins, with_mcc,
                        mcc_cells, out):  # pragma: no cover - compiled
    """Every feature of one matrix given by its entries, in :data:`FEATURE_NAMES`' order.

    ``scratch``: zeroed :math:`p_x, p_y, p_{x+y}, p_{x-y}` and room for the entries'
    probabilities. Zeroes the matrix's entries in ``counts`` and the scratch arrays it used.
    """
    n_entries = entry_a.shape[0]
    n_grey = grey_levels.shape[0]
    top = float(grey_levels[-1])
    total = 0.0
    for n in range(n_entries):
        total += counts[entry_a[n], entry_b[n]]
    p_x, p_y, p_sum, p_difference, probabilities = scratch
    p = probabilities[:n_entries]
    rows, columns, sums, differences = bins
    n_rows = n_columns = n_sums = n_differences = 0
    maximum = energy = hxy = autocorrelation = 0.0
    for n in range(n_entries):
        a, b = entry_a[n], entry_b[n]
        value = counts[a, b] / total
        counts[a, b] = 0.0
        p[n] = value
        i, j = grey_levels[a], grey_levels[b]
        n_rows = touch(p_x, rows, n_rows, a, value)
        n_columns = touch(p_y, columns, n_columns, b, value)
        n_sums = touch(p_sum, sums, n_sums, i + j, value)
        n_differences = touch(p_difference, differences, n_differences, abs(i - j), value)
        maximum = max(maximum, value)
        energy += value * value
        hxy -= value * np.log2(value + EPSILON)
        autocorrelation += float(i) * float(j) * value
    mean_x = mean_y = 0.0
    for n in range(n_rows):
        mean_x += p_x[rows[n]] * grey_levels[rows[n]]
    for n in range(n_columns):
        mean_y += p_y[columns[n]] * grey_levels[columns[n]]
    variance_x = variance_y = 0.0
    for n in range(n_rows):
        deviation = grey_levels[rows[n]] - mean_x
        variance_x += deviation * deviation * p_x[rows[n]]
    for n in range(n_columns):
        deviation = grey_levels[columns[n]] - mean_y
        variance_y += deviation * deviation * p_y[columns[n]]
    covariance = hxy1 = 0.0
    for n in range(n_entries):
        a, b = entry_a[n], entry_b[n]
        covariance += (grey_levels[a] - mean_x) * (grey_levels[b] - mean_y) * p[n]
        hxy1 -= p[n] * np.log2(p_x[a] * p_y[b] + EPSILON)
    hxy2 = 0.0
    for m in range(n_rows):
        for n in range(n_columns):
            independent = p_x[rows[m]] * p_y[columns[n]]
            hxy2 -= independent * np.log2(independent + EPSILON)
    hx = _entropy(p_x, rows, n_rows)
    hy = _entropy(p_y, columns, n_columns)

    difference_mean = contrast = inverse = inverse_n = inverse_moment = inverse_moment_n = 0.0
    inverse_variance = 0.0
    for n in range(n_differences):
        k = float(differences[n])
        value = p_difference[differences[n]]
        difference_mean += k * value
        contrast += k * k * value
        inverse += value / (1.0 + k)
        inverse_n += value / (1.0 + k / top)
        inverse_moment += value / (1.0 + k * k)
        inverse_moment_n += value / (1.0 + k * k / top**2)
        if k >= 1.0:
            inverse_variance += value / (k * k)
    difference_variance = 0.0
    for n in range(n_differences):
        deviation = differences[n] - difference_mean
        difference_variance += deviation * deviation * p_difference[differences[n]]
    sum_mean = 0.0
    for n in range(n_sums):
        sum_mean += sums[n] * p_sum[sums[n]]
    sum_variance = tendency = shade = prominence = 0.0
    for n in range(n_sums):
        value = p_sum[sums[n]]
        deviation = sums[n] - sum_mean
        sum_variance += deviation * deviation * value
        cluster = sums[n] - (mean_x + mean_y)
        tendency += cluster * cluster * value
        shade += cluster * cluster * cluster * value
        prominence += cluster * cluster * cluster * cluster * value

    sigma_product = np.sqrt(variance_x) * np.sqrt(variance_y)
    largest = max(hx, hy)
    out[0] = maximum
    out[1] = mean_x
    out[2] = variance_x
    out[3] = hxy
    out[4] = difference_mean
    out[5] = difference_variance
    out[6] = _entropy(p_difference, differences, n_differences)
    out[7] = sum_mean
    out[8] = sum_variance
    out[9] = _entropy(p_sum, sums, n_sums)
    out[10] = energy
    out[11] = contrast
    out[12] = difference_mean
    out[13] = inverse
    out[14] = inverse_n
    out[15] = inverse_moment
    out[16] = inverse_moment_n
    out[17] = inverse_variance
    out[18] = 1.0 if sigma_product == 0 else covariance / (sigma_product + EPSILON)
    out[19] = autocorrelation
    out[20] = tendency
    out[21] = shade
    out[22] = prominence
    out[23] = 0.0 if largest == 0 else (hxy - hxy1) / largest
    out[24] = np.sqrt(1.0 - np.exp(-2.0 * max(hxy2 - hxy, 0.0)))
    out[25] = 0.0
    if with_mcc:
        out[25] = mcc(entry_a, entry_b, n_entries, p, p_x, p_y, rows, n_rows, columns,
                      n_columns, n_grey, mcc_cells)
    for n in range(n_rows):
        p_x[rows[n]] = 0.0
    for n in range(n_columns):
        p_y[columns[n]] = 0.0
    for n in range(n_sums):
        p_sum[sums[n]] = 0.0
    for n in range(n_differences):
        p_difference[differences[n]] = 0.0

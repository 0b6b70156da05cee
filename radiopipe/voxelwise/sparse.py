r"""Compiled pieces for the matrices of one kernel, kept as their non-zero entries.

A kernel holds few voxels (27 at radius 1, 125 at radius 2), so its matrices have few non-zero
entries among many cells: a count is added to a dense scratch matrix while its cell is listed
the first time it is touched (:func:`add_entry`, :func:`touch`), the features are summed over
the listed cells only, and those cells are zeroed again for the next kernel.

:func:`level_matrix_features` computes the features that GLSZM, GLRLM and GLDM (IBSI's NGLDM)
share, by the formulas of :mod:`radiopipe.features.zones` (whose docstrings define them), from
one *grey level x value* matrix :math:`P_{ij}` (value :math:`j`: zone size, run length or
dependence count), with pyradiomics' :math:`\log_2 (p + \epsilon)` in the entropy.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.features.zones import PYRADIOMICS_EPS

# The features of level_matrix_features, in the order of its output (the NGLDM's names, see
# radiopipe.features.ngldm.FEATURE_NAMES; GLSZM and GLRLM list the first 16 in the same order).
N_LEVEL_FEATURES = 17


@numba.njit(cache=True, nogil=True)
def add_entry(counts, entry_row, entry_column, n_entries, row, column,
              weight):  # pragma: no cover - compiled
    """``counts[row, column] += weight``, listing the cell the first time; the new entry count."""
    if counts[row, column] == 0.0:
        entry_row[n_entries] = row
        entry_column[n_entries] = column
        n_entries += 1
    counts[row, column] += weight
    return n_entries


@numba.njit(cache=True, nogil=True)
def touch(array, bins, n_bins, k, value):  # pragma: no cover - compiled
    """``array[k] += value``, listing ``k`` in ``bins`` the first time; the new number of bins."""
    if array[k] == 0.0:
        bins[n_bins] = k
        n_bins += 1
    array[k] += value
    return n_bins


@numba.njit(cache=True, nogil=True)
def level_matrix_features(counts, entry_row, entry_column, n_entries, grey_levels, n_voxels,
                          row_sums, rows, column_sums, columns, out):  # pragma: no cover
    """The 17 features of one matrix given by its listed entries, into ``out``.

    Parameters
    ----------
    counts : ndarray of float64, shape (n_grey, max_value + 1)
        :math:`P_{ij}` at ``[grey level index, value]``; the listed entries are zeroed.
    entry_row, entry_column : ndarray of int64
        The listed cells (the first ``n_entries``).
    grey_levels : ndarray of int64, shape (n_grey,)
        The grey level :math:`i` of each row.
    n_voxels : float
        :math:`N_v`, for the percentage.
    row_sums, column_sums : ndarray of float64
        Zeroed scratch of ``n_grey`` and ``max_value + 1`` cells, left zeroed.
    rows, columns : ndarray of int64
        Scratch as long as ``row_sums`` and ``column_sums``.
    out : ndarray of float64, shape (17,)
        Emphases (small, large, low grey, high grey, small-low, small-high, large-low,
        large-high), grey level non-uniformity and normalised, value non-uniformity and
        normalised, percentage, grey level variance, value variance, entropy, energy.
    """
    n_events = 0.0
    for n in range(n_entries):
        n_events += counts[entry_row[n], entry_column[n]]
    for k in range(8):
        out[k] = 0.0
    entropy = energy = 0.0
    n_rows = n_columns = 0
    for n in range(n_entries):
        a, j = entry_row[n], entry_column[n]
        count = counts[a, j]
        counts[a, j] = 0.0
        i2 = float(grey_levels[a]) ** 2
        j2 = float(j) ** 2
        out[0] += count / j2
        out[1] += count * j2
        out[2] += count / i2
        out[3] += count * i2
        out[4] += count / (i2 * j2)
        out[5] += count * i2 / j2
        out[6] += count * j2 / i2
        out[7] += count * i2 * j2
        p = count / n_events
        entropy -= p * np.log2(p + PYRADIOMICS_EPS)
        energy += p * p
        n_rows = touch(row_sums, rows, n_rows, a, count)
        n_columns = touch(column_sums, columns, n_columns, j, count)
    for k in range(8):
        out[k] /= n_events
    grey_squares = grey_mean = 0.0
    for n in range(n_rows):
        grey_squares += row_sums[rows[n]] ** 2
        grey_mean += row_sums[rows[n]] / n_events * grey_levels[rows[n]]
    grey_variance = 0.0
    for n in range(n_rows):
        deviation = grey_levels[rows[n]] - grey_mean
        grey_variance += row_sums[rows[n]] / n_events * deviation * deviation
        row_sums[rows[n]] = 0.0
    value_squares = value_mean = 0.0
    for n in range(n_columns):
        value_squares += column_sums[columns[n]] ** 2
        value_mean += column_sums[columns[n]] / n_events * columns[n]
    value_variance = 0.0
    for n in range(n_columns):
        deviation = columns[n] - value_mean
        value_variance += column_sums[columns[n]] / n_events * deviation * deviation
        column_sums[columns[n]] = 0.0
    out[8] = grey_squares / n_events
    out[9] = grey_squares / n_events**2
    out[10] = value_squares / n_events
    out[11] = value_squares / n_events**2
    out[12] = n_events / n_voxels
    out[13] = grey_variance
    out[14] = value_variance
    out[15] = entropy
    out[16] = energy


@numba.njit(cache=True, nogil=True)
def level_scratch(n_grey, max_value):  # pragma: no cover - compiled
    """Zeroed scratch for :func:`add_entry` and :func:`level_matrix_features`.

    Returns
    -------
    tuple
        ``counts`` (n_grey, max_value + 1), entry rows and columns (room for every cell),
        ``row_sums``, ``rows``, ``column_sums``, ``columns``.
    """
    n_cells = n_grey * (max_value + 1)
    return (np.zeros((n_grey, max_value + 1)), np.empty(n_cells, dtype=np.int64),
            np.empty(n_cells, dtype=np.int64), np.zeros(n_grey), np.empty(n_grey, dtype=np.int64),
            np.zeros(max_value + 1), np.empty(max_value + 1, dtype=np.int64))

r"""The maximal correlation coefficient of one kernel's GLCM, over the levels the kernel holds.

:math:`\mathrm{MCC} = \sqrt{\lambda_2}`, :math:`\lambda_2` the second largest eigenvalue of the
symmetric :math:`S = D_x^{-1/2} P D_y^{-1} P^T D_x^{-1/2}` (similar to pyradiomics' :math:`Q`,
:func:`radiopipe.features.glcm.maximal_correlation_coefficient`), over the matrix's rows and
columns with a non-zero marginal. A kernel's :math:`S` is small (one row per level the kernel
holds), so its eigenvalues are found by cyclic Jacobi rotations in compiled code, in scratch
arrays allocated once per map instead of a LAPACK call and its allocations per matrix. Jacobi
rotations find every eigenvalue to within rounding of :math:`\|S\|` (its largest eigenvalue is
1); an eigenvalue that is 0 up to rounding leaves MCC below 1e-7.
"""

from __future__ import annotations

import numba
import numpy as np

# Sweeps of rotations: each squares the off-diagonal norm's ratio, so a handful suffice.
MAX_SWEEPS = 50


@numba.njit(cache=True, nogil=True)
def mcc_scratch(n_grey, max_levels):  # pragma: no cover - compiled
    """Scratch for :func:`mcc`: row and column slots (-1), matrices of ``max_levels`` squared.

    ``max_levels`` bounds the levels of one kernel's matrix (its voxels, and ``n_grey``).
    """
    return (np.full(n_grey, -1, dtype=np.int64), np.full(n_grey, -1, dtype=np.int64),
            np.zeros((max_levels, max_levels)), np.zeros((max_levels, max_levels)),
            np.zeros((max_levels, max_levels)))


@numba.njit(cache=True, nogil=True)
def mcc(entry_a, entry_b, n_entries, p, p_x, p_y, rows, n_rows, columns, n_columns, n_grey,
        row_of, column_of, scaled, weighted, q):  # pragma: no cover - compiled
    """:math:`\\sqrt{\\lambda_2}` of one matrix given by its entries ``p`` at ``(a, b)``.

    1 when the ROI has a single level; over the matrix's levels ``rows`` and ``columns``
    otherwise (a single row gives 0, the absent levels' zero eigenvalues being the second
    largest). ``scratch`` (:func:`mcc_scratch`) is left as it was given.
    """
    if n_grey < 2:
        return 1.0
    if n_rows < 2:
        return 0.0
    for n in range(n_rows):
        row_of[rows[n]] = n
    for n in range(n_columns):
        column_of[columns[n]] = n
    scaled[:n_rows, :n_columns] = 0.0
    weighted[:n_rows, :n_columns] = 0.0
    for n in range(n_entries):
        a, b = entry_a[n], entry_b[n]
        value = p[n] * (1.0 / np.sqrt(p_x[a]))
        scaled[row_of[a], column_of[b]] = value
        weighted[row_of[a], column_of[b]] = value * (1.0 / p_y[b])
    for m in range(n_rows):
        for n in range(n_rows):
            total = 0.0
            for k in range(n_columns):
                total += weighted[m, k] * scaled[n, k]
            q[m, n] = total
    for n in range(n_rows):
        row_of[rows[n]] = -1
    for n in range(n_columns):
        column_of[columns[n]] = -1
    return np.sqrt(max(second_eigenvalue(q, n_rows), 0.0))


@numba.njit(cache=True, nogil=True)
def second_eigenvalue(q, n):  # pragma: no cover - compiled
    """The second largest eigenvalue of the symmetric ``q[:n, :n]`` (n >= 2), by cyclic Jacobi
    rotations that overwrite its upper triangle, which it reads (a 2 x 2 matrix by its
    closed form).

    Examples
    --------
    >>> second_eigenvalue(np.array([[2.0, 1.0], [1.0, 2.0]]), 2)
    1.0
    """
    if n == 2:
        half_gap = 0.5 * (q[0, 0] - q[1, 1])
        return 0.5 * (q[0, 0] + q[1, 1]) - np.sqrt(half_gap * half_gap + q[0, 1] * q[0, 1])
    for _ in range(MAX_SWEEPS):
        rotated = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                off = q[i, j]
                # negligible beside the diagonal: its eigenvalue shift, off**2 / gap, is below
                # rounding of the diagonal
                if abs(off) <= 1e-18 * (abs(q[i, i]) + abs(q[j, j])) or off == 0.0:
                    q[i, j] = 0.0
                    continue
                rotated = True
                theta = (q[j, j] - q[i, i]) / (2.0 * off)
                t = 1.0 / (abs(theta) + np.sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                q[i, i] -= t * off
                q[j, j] += t * off
                q[i, j] = 0.0
                for k in range(n):
                    if k == i or k == j:
                        continue
                    # the upper triangle holds (min, max) of each pair
                    ki = q[min(k, i), max(k, i)]
                    kj = q[min(k, j), max(k, j)]
                    q[min(k, i), max(k, i)] = c * ki - s * kj
                    q[min(k, j), max(k, j)] = s * ki + c * kj
        if not rotated:
            break
    largest = second = -np.inf
    for k in range(n):
        value = q[k, k]
        if value > largest:
            largest, second = value, largest
        elif value > second:
            second = value
    return second

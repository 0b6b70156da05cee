r"""The maximal correlation coefficient of one kernel's GLCM, over the levels the kernel holds.

:math:`\mathrm{MCC} = \sqrt{\lambda_2}`, :math:`\lambda_2` the second largest eigenvalue of the
symmetric :math:`S = D_x^{-1/2} P D_y^{-1} P^T D_x^{-1/2}` (similar to pyradiomics' :math:`Q`,
:func:`radiopipe.features.glcm.maximal_correlation_coefficient`), over the matrix's rows and
columns with a non-zero marginal. A kernel's :math:`S` is small (one row per level the kernel
holds), so its eigenvalues are found in compiled code (Householder reduction to a tridiagonal
matrix, then implicit QL steps), in scratch arrays allocated once per map instead of a LAPACK
call and its allocations per matrix. This finds every eigenvalue to within rounding of
:math:`\|S\|` (its largest eigenvalue is 1); an eigenvalue that is 0 up to rounding leaves MCC
below 1e-7.
"""

from __future__ import annotations

import numba
import numpy as np

# QL steps per eigenvalue: about two suffice (the convergence is cubic).
MAX_ITERATIONS = 60
EPSILON = float(np.finfo(np.float64).eps)


@numba.njit(cache=True, nogil=True)
def mcc_scratch(n_grey, max_levels):  # pragma: no cover - compiled
    """Scratch for :func:`mcc`: row and column slots (-1), matrices of ``max_levels`` squared.

    ``max_levels`` bounds the levels of one kernel's matrix (its voxels, and ``n_grey``).
    """
    return (np.full(n_grey, -1, dtype=np.int64), np.full(n_grey, -1, dtype=np.int64),
            np.zeros((max_levels, max_levels)), np.zeros((max_levels, max_levels)),
            np.zeros((max_levels, max_levels)), np.empty(max_levels), np.empty(max_levels))


@numba.njit(cache=True, nogil=True)
def mcc(entry_a, entry_b, n_entries, p, p_x, p_y, rows, n_rows, columns, n_columns, n_grey,
        scratch):  # pragma: no cover - compiled
    """:math:`\\sqrt{\\lambda_2}` of one matrix given by its first ``n_entries`` entries ``p``
    at ``(entry_a, entry_b)``.

    1 when the ROI has a single level; over the matrix's ``n_rows`` levels ``rows`` and
    ``n_columns`` levels ``columns`` otherwise (a single row gives 0, the absent levels' zero
    eigenvalues being the second largest). ``scratch`` (:func:`mcc_scratch`) is left as it was
    given, its row and column slots at -1.
    """
    row_of, column_of, scaled, weighted, q, d, e = scratch
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
    return np.sqrt(max(second_eigenvalue(q, n_rows, d, e), 0.0))


@numba.njit(cache=True, nogil=True)
def second_eigenvalue(q, n, d, e):  # pragma: no cover - compiled
    """The second largest eigenvalue of the symmetric ``q[:n, :n]`` (n >= 2): Householder
    reduction to a tridiagonal matrix (its lower triangle read and overwritten), then implicit
    QL steps with shifts (the eigenvalue-only ``tred2`` and ``tqli`` of Numerical Recipes).
    ``d`` and ``e`` are scratch of ``n`` or more cells.

    Examples
    --------
    >>> second_eigenvalue(np.array([[2.0, 1.0], [1.0, 2.0]]), 2, np.empty(2), np.empty(2))
    1.0
    """
    for i in range(n - 1, 0, -1):
        last = i - 1
        h = scale = 0.0
        if last > 0:
            for k in range(last + 1):
                scale += abs(q[i, k])
            if scale == 0.0:
                e[i] = q[i, last]
            else:
                for k in range(last + 1):
                    q[i, k] /= scale
                    h += q[i, k] * q[i, k]
                f = q[i, last]
                g = -np.sqrt(h) if f >= 0.0 else np.sqrt(h)
                e[i] = scale * g
                h -= f * g
                q[i, last] = f - g
                f = 0.0
                for j in range(last + 1):
                    g = 0.0
                    for k in range(j + 1):
                        g += q[j, k] * q[i, k]
                    for k in range(j + 1, last + 1):
                        g += q[k, j] * q[i, k]
                    e[j] = g / h
                    f += e[j] * q[i, j]
                hh = f / (h + h)
                for j in range(last + 1):
                    f = q[i, j]
                    g = e[j] - hh * f
                    e[j] = g
                    for k in range(j + 1):
                        q[j, k] -= f * e[k] + g * q[i, k]
        else:
            e[i] = q[i, last]
    for i in range(n):
        d[i] = q[i, i]
    for i in range(1, n):
        e[i - 1] = e[i]
    e[n - 1] = 0.0
    for first in range(n):
        for _ in range(MAX_ITERATIONS):
            m = first
            while m < n - 1:
                if abs(e[m]) <= EPSILON * (abs(d[m]) + abs(d[m + 1])):
                    break
                m += 1
            if m == first:
                break
            g = (d[first + 1] - d[first]) / (2.0 * e[first])
            r = np.hypot(g, 1.0)
            g = d[m] - d[first] + e[first] / (g + (r if g >= 0.0 else -r))
            s = c = 1.0
            p = 0.0
            underflow = False
            for i in range(m - 1, first - 1, -1):
                f = s * e[i]
                b = c * e[i]
                r = np.hypot(f, g)
                e[i + 1] = r
                if r == 0.0:
                    d[i + 1] -= p
                    e[m] = 0.0
                    underflow = True
                    break
                s = f / r
                c = g / r
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2.0 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
            if underflow:
                continue
            d[first] -= p
            e[first] = g
            e[m] = 0.0
    largest = second = -np.inf
    for k in range(n):
        value = d[k]
        if value > largest:
            largest, second = value, largest
        elif value > second:
            second = value
    return second

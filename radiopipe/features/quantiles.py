"""NumPy's percentiles and median of ROI intensities, found through their grey levels.

A discretisation never gives a higher intensity a lower grey level, so the value of rank ``k``
(0-based, in ascending order) lies in the level whose voxels hold rank ``k``: the values are
gathered by level in one pass and only the levels holding the wanted ranks are searched, each at
its own ranks (a large level through buckets of its values, `_select`), instead of partitioning
every value of the ROI at every wanted rank, twice (``np.percentile``, then ``np.median``).
The ranks are then combined by NumPy's own formulas (``method='linear'`` percentiles, the
median as the mean of its one or two middle values), so the results equal NumPy's bit for bit.

:func:`percentiles_and_median` returns None, and the caller uses NumPy itself, when the levels
are not ordered like the values (each level's values must lie between those of the levels
around it) or a value is NaN.
"""

from __future__ import annotations

import numba
import numpy as np


def percentiles_and_median(values: np.ndarray, levels: np.ndarray, q) -> tuple | None:
    """``np.percentile(values, q)`` and ``np.median(values)``, or None (see the module notes).

    Parameters
    ----------
    values : ndarray of float64, shape (n,)
        ROI intensities, n >= 1.
    levels : ndarray of int, shape (n,)
        Their grey levels (>= 0), from a discretisation of ``values``.
    q : sequence of float
        Percentiles, in 0..100.

    Returns
    -------
    (ndarray of float64, numpy.float64) or None

    Examples
    --------
    >>> values = np.array([3.0, 1.0, 4.0, 1.5, 9.0])
    >>> percentiles_and_median(values, np.array([1, 1, 1, 1, 2]), [10, 90])
    (array([1.2, 7. ]), np.float64(3.0))
    """
    n = values.size
    quantiles = np.true_divide(np.asanyarray(q), 100)
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = n - 1
    following[above] = n - 1
    middle = [n // 2 - 1, n // 2] if n % 2 == 0 else [(n - 1) // 2]
    ranks = np.unique(np.concatenate([previous, following, middle]).astype(np.int64))
    found, ranked = _order_statistics(values, levels, ranks)
    if not found:
        return None
    value_of = dict(zip(ranks.tolist(), ranked))
    a = np.array([value_of[int(r)] for r in previous])
    b = np.array([value_of[int(r)] for r in following])
    # NumPy's _lerp, with the weight NumPy computes (an index clamped to the last rank has
    # equal bounds, whatever the weight).
    gamma = virtual - np.where(above, -1, previous)
    difference = b - a
    result = a + difference * gamma
    np.subtract(b, difference * (1 - gamma), out=result, where=gamma >= 0.5)
    median = np.mean(np.array([value_of[r] for r in middle]))
    return result, median


@numba.njit(cache=True, nogil=True)
def _order_statistics(values, levels, ranks):  # pragma: no cover - compiled by Numba
    """(True, the values of ``ranks`` (sorted, unique) in ascending order), or (False, empty)
    when the levels do not order the values or a value is NaN."""
    missing = (False, np.empty(0))
    n = values.size
    top = 0
    for i in range(n):
        if levels[i] < 0:
            return missing
        top = max(top, levels[i])
    counts = np.zeros(top + 1, dtype=np.int64)
    lowest = np.full(top + 1, np.inf)
    highest = np.full(top + 1, -np.inf)
    for i in range(n):
        value, level = values[i], levels[i]
        if value != value:
            return missing
        counts[level] += 1
        lowest[level] = min(lowest[level], value)
        highest[level] = max(highest[level], value)
    below = -np.inf
    for level in range(top + 1):
        if counts[level] > 0:
            if lowest[level] < below:
                return missing
            below = highest[level]
    ends = np.cumsum(counts)
    starts = ends - counts
    wanted = np.zeros(top + 1, dtype=np.bool_)
    for r in ranks:
        wanted[np.searchsorted(ends, r, side="right")] = True
    filled = starts.copy()
    buffer = np.empty(n)
    for i in range(n):
        level = levels[i]
        if wanted[level]:
            buffer[filled[level]] = values[i]
            filled[level] += 1
    ranked = np.empty(ranks.size)
    first = 0
    while first < ranks.size:
        level = np.searchsorted(ends, ranks[first], side="right")
        last = first
        while last + 1 < ranks.size and ranks[last + 1] < ends[level]:
            last += 1
        local = ranks[first:last + 1] - starts[level]
        ranked[first:last + 1] = _select(
            buffer[starts[level]:ends[level]], local, lowest[level], highest[level])
        first = last + 1
    return True, ranked


# Levels with fewer values are partitioned whole; larger ones are first split into buckets
# holding about ``BUCKET_SIZE`` values each.
SMALL_LEVEL = 2048
BUCKET_SIZE = 16


@numba.njit(cache=True, nogil=True)
def _select(values, ranks, lowest, highest):  # pragma: no cover - compiled by Numba
    """``np.partition(values, ranks)[ranks]`` of values in ``lowest..highest`` (``ranks``
    sorted, unique).

    The values are spread over equal-width buckets between their bounds, a function of the
    value that never decreases as the value grows, so the value of rank ``r`` lies in the
    bucket whose cumulative count passes ``r``: only the buckets holding wanted ranks are
    gathered and partitioned. One pass to count and one to gather instead of partitioning the
    whole level at every rank (the order statistics of a 140k-voxel ROI 4x faster).
    """
    n = values.size
    span = highest - lowest
    n_buckets = n // BUCKET_SIZE
    scale = n_buckets / span if 0 < span < np.inf else 0.0
    if n < SMALL_LEVEL or not 0 < scale < np.inf:  # no spread, or one beyond float range
        return np.partition(values, ranks)[ranks]
    bucket = np.empty(n, dtype=np.int64)
    counts = np.zeros(n_buckets, dtype=np.int64)
    for i in range(n):
        b = min(int((values[i] - lowest) * scale), n_buckets - 1)
        bucket[i] = b
        counts[b] += 1
    ends = np.cumsum(counts)
    # Each wanted bucket's place in the gathered buffer; -1 for the others.
    place = np.full(n_buckets, -1, dtype=np.int64)
    size = 0
    for r in ranks:
        b = np.searchsorted(ends, r, side="right")
        if place[b] < 0:
            place[b] = size
            size += counts[b]
    gathered = np.empty(size)
    filled = place.copy()
    for i in range(n):
        b = bucket[i]
        if place[b] >= 0:
            gathered[filled[b]] = values[i]
            filled[b] += 1
    ranked = np.empty(ranks.size)
    for k in range(ranks.size):
        b = np.searchsorted(ends, ranks[k], side="right")
        local = ranks[k] - (ends[b] - counts[b])
        segment = gathered[place[b]:place[b] + counts[b]]
        ranked[k] = np.partition(segment, local)[local]
    return ranked

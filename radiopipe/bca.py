"""Bias-corrected and accelerated (BCa) bootstrap intervals (Efron 1987) over patients.

The bias correction comes from the share of bootstrap values below the point estimate, the
acceleration from a jackknife that leaves out one patient (all of that patient's cases) at a
time. :func:`bca_interval` returns None where BCa is undefined, and
:func:`confidence_interval` then gives the percentile interval and says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.special import ndtr, ndtri

CI_LEVEL = 0.95
INTERVAL_METHODS = ("bca", "percentile")


def patient_jackknife(groups: np.ndarray) -> Iterator[np.ndarray]:
    """Row indices of the patient-level jackknife: every row but one patient's, per patient.

    Patients come in sorted order (that of ``numpy.unique``); with one case per patient this is
    the ordinary leave-one-out jackknife.

    Examples
    --------
    >>> [rows.tolist() for rows in patient_jackknife(np.array(["b", "a", "b"]))]
    [[0, 2], [1]]
    """
    _, codes = np.unique(groups, return_inverse=True)
    for patient in range(int(codes.max()) + 1 if len(codes) else 0):
        yield np.flatnonzero(codes != patient)


def percentile_interval(values: np.ndarray) -> list[float] | None:
    """The central :data:`CI_LEVEL` percentile interval of the defined (non-NaN) values."""
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    tail = (1 - CI_LEVEL) / 2 * 100
    return [float(v) for v in np.percentile(values, [tail, 100 - tail])]


def bca_interval(values: np.ndarray, estimate: float,
                 jackknife: np.ndarray) -> list[float] | None:
    """The central :data:`CI_LEVEL` BCa interval; None where BCa is undefined.

    .. math:: \\alpha_{1,2} = \\Phi\\left(z_0 + \\frac{z_0 + z_{\\alpha}}
              {1 - a (z_0 + z_{\\alpha})}\\right), \\quad
              z_0 = \\Phi^{-1}\\left(\\frac{\\#\\{\\theta^*_b < \\hat\\theta\\}
              + \\#\\{\\theta^*_b \\le \\hat\\theta\\}}{2B}\\right), \\quad
              a = \\frac{\\sum_i d_i^3}{6 (\\sum_i d_i^2)^{3/2}}

    with :math:`d_i = \\bar\\theta_{(\\cdot)} - \\theta_{(i)}` over the jackknife values, and
    the interval the :math:`\\alpha_1, \\alpha_2` percentiles of the bootstrap values (ties with
    the estimate count one half, as in ``scipy.stats.bootstrap``).

    Parameters
    ----------
    values : array
        The statistic on each bootstrap resample; undefined (NaN) resamples are left out.
    estimate : float
        The statistic on the whole sample.
    jackknife : array
        The statistic with each patient left out.

    Returns
    -------
    list of float or None
        ``[low, high]``; None when the estimate, a jackknife value or every bootstrap value is
        undefined, when the bootstrap values are all equal or all on one side of the estimate,
        or when the jackknife values are all equal (no acceleration to estimate).
    """
    values = values[~np.isnan(values)]
    if (not len(values) or np.isnan(estimate) or np.isnan(jackknife).any()
            or values.min() == values.max()):
        return None
    below = (np.count_nonzero(values < estimate) + np.count_nonzero(values <= estimate))
    z0 = ndtri(below / (2 * len(values)))
    spread = jackknife.mean() - jackknife
    denominator = 6 * np.sum(spread**2) ** 1.5
    if not np.isfinite(z0) or denominator == 0:
        return None
    acceleration = np.sum(spread**3) / denominator
    z = z0 + ndtri(np.array([(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2]))
    alpha = ndtr(z0 + z / (1 - acceleration * z))
    if not np.isfinite(alpha).all():
        return None
    return [float(v) for v in np.percentile(values, alpha * 100)]


def confidence_interval(values: np.ndarray, estimate: float, jackknife: np.ndarray | None,
                        method: str) -> tuple[list[float] | None, bool]:
    """The ``method`` interval (``'bca'`` or ``'percentile'``) and whether BCa fell back.

    Parameters
    ----------
    values : array
        The statistic on each bootstrap resample.
    estimate : float
        The statistic on the whole sample (read by BCa only).
    jackknife : array or None
        The statistic with each patient left out (read by BCa only).
    method : {'bca', 'percentile'}

    Returns
    -------
    (list or None, bool)
        ``[low, high]`` (None without a defined bootstrap value) and True where BCa was asked
        for but undefined (see :func:`bca_interval`), so the percentile interval was given.
    """
    if method not in INTERVAL_METHODS:
        raise ValueError(f"The 'method' parameter of confidence_interval must be one of "
                         f"{', '.join(INTERVAL_METHODS)}. Got {method!r} instead.")
    if method == "bca":
        interval = bca_interval(values, estimate, jackknife)
        if interval is not None:
            return interval, False
    percentile = percentile_interval(values)
    return percentile, method == "bca" and percentile is not None

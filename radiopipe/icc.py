"""Intraclass correlation coefficients of many features at once, with 95% confidence intervals.

Subjects (cases or patients) are rows, raters (a case's perturbed versions, or a patient's
repeated scans) columns. From the two-way ANOVA of an ``n x k`` table, with ``MSR`` the rows',
``MSC`` the columns', ``MSE`` the residual and ``MSW = (SSC + SSE) / (n (k - 1))`` the within-row
mean square (Shrout & Fleiss 1979; McGraw & Wong 1996):

- ICC(1,1), one-way random, absolute agreement: ``(MSR - MSW) / (MSR + (k - 1) MSW)``
- ICC(2,1), two-way random, absolute agreement:
  ``(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)``
- ICC(3,1), two-way mixed, consistency: ``(MSR - MSE) / (MSR + (k - 1) MSE)``

The intervals are the F-based ones of McGraw & Wong (ICC(2,1) by Satterthwaite's degrees of
freedom), as pingouin and R's ``psych::ICC`` give them. A feature constant over every subject
and rater, or missing in any cell, has no ICC (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

ICC_KINDS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")


@dataclass(frozen=True)
class ICC:
    """One kind of ICC per feature.

    Attributes
    ----------
    kind : str
        One of :data:`ICC_KINDS`.
    value, low, high : ndarray
        The ICC and its confidence interval, one per feature.
    """

    kind: str
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


def mean_squares(ratings: np.ndarray) -> dict[str, np.ndarray]:
    """The two-way ANOVA's mean squares ``MSR, MSC, MSE, MSW`` of an ``(n, k[, p])`` table."""
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    n, k = x.shape[:2]
    grand = x.mean(axis=(0, 1))
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum(axis=0)
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum(axis=0)
    ss_total = ((x - grand) ** 2).sum(axis=(0, 1))
    ss_error = np.maximum(ss_total - ss_rows - ss_cols, 0.0)
    return {
        "MSR": ss_rows / (n - 1),
        "MSC": ss_cols / (k - 1),
        "MSE": ss_error / ((n - 1) * (k - 1)),
        "MSW": (ss_cols + ss_error) / (n * (k - 1)),
    }


def icc(ratings: np.ndarray, *, confidence: float = 0.95) -> list[ICC]:
    """ICC(1,1), ICC(2,1) and ICC(3,1) of every feature, with their confidence intervals.

    Parameters
    ----------
    ratings : ndarray
        ``(n subjects, k raters)`` or ``(n, k, p features)``.
    confidence : float
        Of the intervals.

    Returns
    -------
    list of ICC
        In the order of :data:`ICC_KINDS`, each with arrays of length ``p`` (1 for a 2D table).

    Raises
    ------
    ValueError
        With fewer than 2 subjects or 2 raters.

    Examples
    --------
    >>> table = np.array([[1.0, 1.1], [2.0, 2.1], [3.0, 2.9]])
    >>> round(float(icc(table)[2].value[0]), 3)
    0.985
    """
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    n, k = x.shape[:2]
    if n < 2 or k < 2:
        raise ValueError(f"The ICC needs 2 subjects and 2 raters at least. Got {n} subjects and "
                         f"{k} raters instead.")
    missing = ~np.isfinite(x).all(axis=(0, 1))
    x = np.where(np.isfinite(x), x, 0.0)
    ms = mean_squares(x)
    msr, msc, mse, msw = ms["MSR"], ms["MSC"], ms["MSE"], ms["MSW"]
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msr - msw) / (msr + (k - 1) * msw)
        icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc3 = (msr - mse) / (msr + (k - 1) * mse)
        one = _f_interval(msr / msw, n - 1, n * (k - 1), k, alpha)
        three = _f_interval(msr / mse, n - 1, (n - 1) * (k - 1), k, alpha)
        two = _icc2_interval(icc2, msr, msc, mse, n, k, alpha)
    undefined = missing | (msr + msc + mse == 0)
    results = []
    for kind, value, interval, error in zip(ICC_KINDS, (icc1, icc2, icc3), (one, two, three),
                                            (msw, mse, mse), strict=True):
        perfect = (error == 0) & (msr > 0)  # every rater agrees exactly: ICC 1, interval [1, 1]
        value, low, high = (np.where(perfect, 1.0, a) for a in (value, *interval))
        results.append(ICC(kind, *(np.where(undefined, np.nan, a) for a in (value, low, high))))
    return results


def _f_interval(f0, df1: int, df2: int, k: int, alpha: float):
    """ICC(1,1)'s and ICC(3,1)'s interval from the observed F ratio ``f0``."""
    f_low = f0 / stats.f.ppf(1 - alpha / 2, df1, df2)
    f_high = f0 * stats.f.ppf(1 - alpha / 2, df2, df1)
    return (f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1)


def _icc2_interval(value, msr, msc, mse, n: int, k: int, alpha: float):
    """ICC(2,1)'s interval (McGraw & Wong, Satterthwaite's degrees of freedom)."""
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
    f_low = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f_high = stats.f.ppf(1 - alpha / 2, v, n - 1)
    low = n * (msr - f_low * mse) / (f_low * (k * msc + (k * n - k - n) * mse) + n * msr)
    high = n * (f_high * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_high * msr)
    return low, high


def icc_table(ratings: np.ndarray, features: list[str], *,
              confidence: float = 0.95) -> pd.DataFrame:
    """:func:`icc` of every feature as a long table.

    Parameters
    ----------
    ratings : ndarray
        ``(n subjects, k raters, p features)``.
    features : list of str
        The ``p`` feature names.
    confidence : float

    Returns
    -------
    pandas.DataFrame
        Columns ``feature, icc_kind, icc, ci_low, ci_high``: one row per feature and ICC kind.
    """
    frames = [pd.DataFrame({"feature": features, "icc_kind": r.kind, "icc": r.value,
                            "ci_low": r.low, "ci_high": r.high})
              for r in icc(ratings, confidence=confidence)]
    return pd.concat(frames, ignore_index=True)

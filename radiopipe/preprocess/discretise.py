"""Grey-level discretisation schemes, named apart because they give different levels.

``fixed_bin_size``
    IBSI fixed bin size (FBS): bins of width ``w`` start at the lower bound ``x_min`` (the lower
    re-segmentation bound, or the ROI minimum when there is none):
    ``x_d = floor((x - x_min) / w) + 1``.
``fixed_bin_size_pyradiomics``
    pyradiomics' ``binWidth``: bins are aligned to multiples of ``w`` (edges at ``k * w``), not to
    the ROI minimum: ``x_d = floor(x / w) - floor(min(x) / w) + 1``. This deviates from IBSI FBS
    and is kept for parity with pyradiomics.
``fixed_bin_number``
    IBSI fixed bin number (FBN): ``x_d = floor(n (x - min) / (max - min)) + 1``, with the maximum
    mapped to ``n``; a flat ROI gets level 1.
``fixed_bin_number_pyradiomics``
    pyradiomics' ``binCount``: the edges of ``numpy.histogram(x, n)`` with the last one raised by
    1, then ``digitize``. The same bins as FBN in exact arithmetic, but values that fall on an
    edge after rounding may land one level apart; a flat ROI gets the level of the middle bin.

The pyradiomics schemes bin in a pixel type (``dtype``): pyradiomics bins each image in the pixel
type it has (float32 for a float32 image and for every LoG and gradient image), and NumPy then
computes the lowest edge ``min - min % w`` (bin width) or every edge (bin count, ``linspace`` in
the values' type) in that type, so a value next to an edge may land in the neighbouring level of
the one float64 edges give. The values are read in that type (exactly, when they come from an
image of it) and the edges are computed by pyradiomics' own NumPy expressions on NumPy scalars of
it.
The IBSI schemes compute in float64: IBSI defines the bins on the intensities as real numbers,
and float64 is the closest to them (its reference values are computed so).

Every function maps the values inside the ROI to integer levels starting at 1 and returns them
with the number of levels of the scheme (``n_levels``), which texture matrices use as their size.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from radiopipe.xp import get_namespace


class Discretised(NamedTuple):
    """Discretised values and the number of grey levels of the scheme."""

    levels: np.ndarray
    n_levels: int


def fixed_bin_size(values, bin_width: float, lower_bound: float | None = None) -> Discretised:
    """IBSI fixed bin size discretisation.

    Parameters
    ----------
    values : array
        Intensities inside the ROI.
    bin_width : float
        Bin width ``w`` > 0.
    lower_bound : float, optional
        ``x_min``; defaults to the minimum of ``values``.

    Returns
    -------
    Discretised
        Levels (int32, starting at 1 for ``x_min``) and ``n_levels`` = the highest level.

    Examples
    --------
    >>> fixed_bin_size(np.array([-3.0, 0.0, 2.0]), 2.0).levels.tolist()
    [1, 2, 3]
    """
    _check_width(bin_width)
    xp = get_namespace(values)
    low = xp.min(values) if lower_bound is None else lower_bound
    levels = (xp.floor((values - low) / bin_width) + 1).astype(xp.int32)
    return Discretised(levels, int(levels.max()) if levels.size else 0)


def fixed_bin_size_pyradiomics(values, bin_width: float, dtype=None) -> Discretised:
    """pyradiomics ``binWidth`` discretisation (bins aligned to multiples of the width).

    Reproduces ``radiomics.imageoperations.binImage`` on an image of pixel type ``dtype``: edges
    ``arange(min - min % w, max + 2 w, w)``, its bounds computed in ``dtype`` (``arange`` itself
    steps in float64), then ``digitize`` (for a NumPy array, one compiled pass equal to it); a
    flat ROI gets level 1.

    Parameters
    ----------
    values : array
        Intensities inside the ROI.
    bin_width : float
        Bin width ``w`` > 0.
    dtype : {numpy.float32, numpy.float64}, optional
        The pixel type pyradiomics bins in (see the module notes); default float32 for float32
        values, float64 otherwise. The values are read in it.

    Returns
    -------
    Discretised
        Levels (int32) and ``n_levels`` = the highest level.

    Examples
    --------
    >>> fixed_bin_size_pyradiomics(np.array([54.0, 75.0, 166.0]), 25.0).levels.tolist()
    [1, 2, 5]
    """
    _check_width(bin_width)
    xp = get_namespace(values)
    if values.size == 0:
        return Discretised(values.astype(xp.int32), 0)
    values, pixel = _in_pixel_type(values, dtype)
    width = float(bin_width)  # a Python float: NumPy computes the bounds in the pixel type
    # NumPy scalars of the pixel type (exact: the extremes are values of that type).
    minimum, maximum = pixel.type(float(values.min())), pixel.type(float(values.max()))
    edges = np.arange(minimum - (minimum % width), maximum + 2 * width, width)
    if len(edges) == 1:
        return Discretised(xp.ones(values.shape, dtype=xp.int32), 1)
    if isinstance(values, np.ndarray):
        levels, top = _digitize_regular(values.reshape(-1), edges, float(edges[1] - edges[0]))
        return Discretised(levels.reshape(values.shape), int(top))
    levels = xp.digitize(values, xp.asarray(edges)).astype(xp.int32)
    return Discretised(levels, int(levels.max()))


def fixed_bin_number_pyradiomics(values, n_bins: int, dtype=None) -> Discretised:
    """pyradiomics ``binCount`` discretisation.

    Reproduces ``radiomics.imageoperations.binImage`` on an image of pixel type ``dtype``: edges
    ``numpy.histogram(x, n)[1]`` (computed in ``dtype``), the last one raised by 1, then
    ``digitize``.

    Parameters
    ----------
    values : array
        Intensities inside the ROI.
    n_bins : int
        Number of bins ``n`` >= 1.
    dtype : {numpy.float32, numpy.float64}, optional
        As for :func:`fixed_bin_size_pyradiomics`.

    Returns
    -------
    Discretised
        Levels (int32, ``1..n``) and ``n_levels`` = the highest level (``n`` unless the ROI is
        flat: then every value gets the middle bin's level, as in pyradiomics).

    Examples
    --------
    >>> fixed_bin_number_pyradiomics(np.array([0.0, 1.0, 2.0, 4.0]), 4).levels.tolist()
    [1, 2, 3, 4]
    """
    _check_count(n_bins, "fixed_bin_number_pyradiomics")
    xp = get_namespace(values)
    if values.size == 0:
        return Discretised(values.astype(xp.int32), 0)
    values, pixel = _in_pixel_type(values, dtype)
    # numpy.histogram's edges depend only on the minimum, the maximum and their type.
    extremes = np.array([float(values.min()), float(values.max())], dtype=pixel)
    edges = np.histogram_bin_edges(extremes, n_bins)
    edges[-1] += 1
    if isinstance(values, np.ndarray):
        levels, top = _digitize_regular(values.reshape(-1), edges, float(edges[1] - edges[0]))
        return Discretised(levels.reshape(values.shape), int(top))
    levels = xp.digitize(values, xp.asarray(edges)).astype(xp.int32)
    return Discretised(levels, int(levels.max()))


def _in_pixel_type(values, dtype):
    """``values`` read in the pixel type pyradiomics bins in, and that type."""
    if dtype is None:
        dtype = np.float32 if values.dtype == np.float32 else np.float64
    pixel = np.dtype(dtype)
    if pixel not in (np.float32, np.float64):
        raise ValueError(
            f"The 'dtype' parameter must be float32 or float64. Got {dtype!r} instead."
        )
    return values.astype(pixel, copy=False), pixel


@numba.njit(cache=True, nogil=True)
def _digitize_regular(values, edges, width):  # pragma: no cover - compiled by Numba
    """``np.digitize(values, edges)`` (int32) and its maximum, for nearly evenly spaced increasing
    ``edges``: each value's bin is guessed from the spacing and corrected against the edges
    themselves (the guess is off by at most one where rounding meets an edge, or in the last,
    wider bin of pyradiomics' bin-count edges), in one pass instead of a binary search per
    value. Compiled once per pair of types (float32 or float64 values and edges); each value is
    compared with the edges in their common type, as ``np.digitize`` compares them."""
    n_edges = edges.size
    levels = np.empty(values.size, dtype=np.int32)
    top = 0
    for k in range(values.size):
        x = values[k]  # never NaN: the edges span the values' minimum and maximum
        guess = np.floor((x - edges[0]) / width) + 1.0
        index = int(min(max(guess, 0.0), float(n_edges)))
        while index > 0 and x < edges[index - 1]:
            index -= 1
        while index < n_edges and x >= edges[index]:
            index += 1
        levels[k] = index
        top = max(top, index)
    return levels, top


def fixed_bin_number(values, n_bins: int) -> Discretised:
    """IBSI fixed bin number discretisation.

    Parameters
    ----------
    values : array
        Intensities inside the ROI.
    n_bins : int
        Number of bins ``n`` >= 1.

    Examples
    --------
    >>> fixed_bin_number(np.array([0.0, 1.0, 2.0, 4.0]), 4).levels.tolist()
    [1, 2, 3, 4]
    """
    _check_count(n_bins, "fixed_bin_number")
    xp = get_namespace(values)
    low, high = xp.min(values), xp.max(values)
    if float(high) == float(low):
        return Discretised(xp.ones(values.shape, dtype=xp.int32), n_bins)
    levels = xp.floor(n_bins * (values - low) / (high - low)).astype(xp.int32) + 1
    levels = xp.minimum(levels, n_bins)
    return Discretised(levels, n_bins)


def _check_width(bin_width: float) -> None:
    if not (isinstance(bin_width, (int, float, np.floating, np.integer)) and bin_width > 0):
        raise ValueError(
            f"The 'bin_width' parameter must be a float > 0. Got {bin_width!r} instead."
        )


def _check_count(n_bins: int, function: str) -> None:
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise ValueError(
            f"The 'n_bins' parameter of {function} must be an int >= 1. "
            f"Got {n_bins!r} instead."
        )

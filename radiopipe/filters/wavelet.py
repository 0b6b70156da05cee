"""Wavelet image types, as pyradiomics computes them (``wavelet-LLH``, ``wavelet-HHL``, ...).

pyradiomics (``getWaveletImage`` / ``_swt3``) pads every odd-sized axis by one voxel (wrapping
around), then applies ``pywt.swtn(data, wavelet, level=1, start_level=0)`` once per level, each
time on the previous level's approximation (so the filters are never dilated), and crops the
padding off the results. One level of the undecimated transform filters every axis with the
wavelet's decomposition low-pass ``h`` (L) or high-pass ``g`` (H) filter of length ``F``,
periodically:

.. math::

    y[n] = \\sum_{k=0}^{F-1} h[k]\\, x[(n + F/2 - k) \\bmod N].

PyWavelets computes in the image's floating type (float32 for a float32 image, float64 for any
other) and sums each output's products in the order of ``k``, from 0 (near a line's end, the
wrapped-around products first; see the kernels' notes). This module does the same
in a compiled loop for NumPy arrays, so its sub-bands equal ``pywt.swtn``'s bit for bit in both
types: a float32 image's detail bands carry float32 rounding errors of the order of the image's
own values, far above 1e-6 of the small band values, and only the same sums in the same order
give pyradiomics' values. CuPy arrays go through ``cupyx.scipy.ndimage.correlate1d``
(``mode='wrap'``), equal to rounding: ~1e-15 relative in float64, but in float32 each sum
rounded once rather than term by term, so a float32 image's GPU sub-bands are not
PyWavelets' bit for bit. PyWavelets supplies the filter coefficients.

Features need the filtered image only over the ROI's bounding box, and each output voxel depends
on ``F`` input voxels per axis and level, so with a ``region`` the transform runs on the region
plus that reach (gathered with the periodic wrap-around) instead of the whole image: every kept
voxel is the same sum of the same products, bit for bit, at a fraction of the cost.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import pywt

from radiopipe.xp import get_namespace

_SUBBAND = {"a": "L", "d": "H"}


def wavelet_images(
    image,
    *,
    wavelet: str = "coif1",
    level: int = 1,
    start_level: int = 0,
    axes: tuple[int, ...] | None = None,
    region: tuple[slice, ...] | None = None,
    dtype=None,
) -> dict:
    """pyradiomics' wavelet image types (stationary wavelet transform).

    Parameters
    ----------
    image : array
        (z, y, x) image, NumPy or CuPy.
    wavelet : str
        A PyWavelets discrete wavelet name (pyradiomics' ``wavelet``, default ``'coif1'``).
    level : int
        Number of levels returned, >= 1 (pyradiomics' ``level``).
    start_level : int
        Levels decomposed and discarded before the first returned one, >= 0.
    axes : tuple of int, optional
        Axes transformed, in pyradiomics' order (last axis first). Default: all axes, i.e.
        ``(2, 1, 0)`` for a volume; pyradiomics' ``force2D`` (slices along axis 0) is
        ``(2, 1)``.
    region : tuple of slice, optional
        Compute the images only over this box (one ``slice(start, stop)`` per axis, inside the
        image); the result equals the whole-image transform cropped to it, bit for bit.
    dtype : numpy dtype, optional
        The floating type the transform computes in, as PyWavelets computes in the type of the
        array pyradiomics gives it: float32 for a float32 image, float64 (the default) for any
        other.

    Returns
    -------
    dict of str to array
        Images of ``dtype`` in pyradiomics' order: the detail sub-bands of each level (``'LLH'``,
        ``'LHL'``, ... with one letter per axis in ``axes`` order; names ``wavelet-<band>`` for the
        first returned level, ``wavelet<i>-<band>`` for the i-th), then the last approximation
        (``wavelet-LLL``, or ``wavelet<level>-LLL`` when ``level > 1``).

    Examples
    --------
    >>> out = wavelet_images(np.ones((4, 4, 4)))
    >>> list(out)[:2], round(float(out['wavelet-LLL'][0, 0, 0]), 3)
    (['wavelet-LLH', 'wavelet-LHL'], 2.828)
    """
    _check_count("level", level, minimum=1)
    _check_count("start_level", start_level, minimum=0)
    if axes is None:
        axes = tuple(reversed(range(image.ndim)))
    xp = get_namespace(image)
    taps = pywt.Wavelet(wavelet).dec_len
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"wavelet_images computes in float32 or float64, not {dtype}")
    low, high = (xp.asarray(kernel) for kernel in _pywavelets_filters(wavelet, dtype.name))
    if region is None:
        region = tuple(slice(0, size) for size in image.shape)
    reach = (start_level + level) * taps // 2
    data, crop, lines = _periodic_block(image, region, axes, reach)
    data = data.astype(dtype, copy=False)
    for _ in range(start_level):
        data = _swt_level(data, low, high, axes, lines)["a" * len(axes)]
    images = {}
    for index in range(1, level + 1):
        bands = _swt_level(data, low, high, axes, lines)
        data = bands.pop("a" * len(axes))
        prefix = "wavelet" if index == 1 else f"wavelet{index}"
        for band, values in bands.items():
            images[f"{prefix}-{_band_name(band)}"] = values[crop]
    prefix = "wavelet" if level == 1 else f"wavelet{level}"
    images[f"{prefix}-{'L' * len(axes)}"] = data[crop]
    return images


@functools.cache
def _pywavelets_filters(wavelet: str, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """The decomposition filters ``(h, g)`` PyWavelets computes with in ``dtype``.

    PyWavelets keeps its own float32 coefficient tables, some of which (coif1, coif2) differ in
    the last bit from the float64 filters rounded to float32, so they are read from its response
    to a unit impulse: each output is one tap times 1, plus zeros, exact in either type.
    """
    taps = pywt.Wavelet(wavelet).dec_len
    impulse = np.zeros(2 * taps, dtype=dtype)
    impulse[taps] = 1
    [(low, high)] = pywt.swt(impulse, wavelet, level=1, trim_approx=False)
    # y[o] = sum_k h[k] x[o + F/2 - k] holds h[k] at o = k + F/2
    taken = np.arange(taps) + taps // 2
    return low[taken], high[taken]


def _swt_level(data, low, high, axes, lines) -> dict:
    """One undecimated level: all sub-bands, keyed and ordered as ``pywt.swtn`` ('aad', ...)."""
    bands = {"": data}
    for axis in axes:
        bands = {
            key + letter: _periodic_filter(values, kernel, axis, *lines[axis])
            for key, values in bands.items()
            for letter, kernel in (("a", low), ("d", high))
        }
    return bands


def _periodic_filter(data, kernel, axis: int, positions, period: int):
    """``y[n] = sum_k h[k] x[(n + F/2 - k) mod P]`` along ``axis``, the block's lines holding
    the periodic line's ``positions`` (of period ``P``).

    NumPy arrays: PyWavelets' sums (see the module notes). CuPy arrays: with the reversed kernel
    this is a correlation whose window starts at ``n + 1 - F/2``, i.e. centre offset
    ``F/2 - 1`` = ndimage's default centre ``F // 2`` plus ``origin=-1`` (every PyWavelets
    decomposition filter has an even length); the block's own wrap-around differs from the
    line's only in the margin that is cropped off.
    """
    xp = get_namespace(data)
    if xp is np:
        out = np.empty_like(data)
        if axis == data.ndim - 1 or period < kernel.size:
            _filter_lines(np.moveaxis(data, axis, -1), kernel, np.moveaxis(out, axis, -1),
                          positions, period)
        else:
            _filter_planes(np.moveaxis(data, axis, 0), kernel, np.moveaxis(out, axis, 0),
                           positions, period)
        return out
    import cupyx.scipy.ndimage

    return cupyx.scipy.ndimage.correlate1d(data, kernel[::-1], axis=axis, mode="wrap", origin=-1)


# PyWavelets sums output ``o`` of a periodic line of length P >= F over the taps k = 0, ..., F-1
# in order, except within F/2 of the line's end, where the taps that wrap around to the line's
# start come first, from the last of them, k = o + F/2 - P, down to 0. Both kernels below take
# that order for each output (``first``: that last wrapped tap, negative where none wraps), so
# a block holding part of a longer periodic line sums each kept output as the whole line does.


@numba.njit(cache=True, nogil=True)
def _filter_lines(data, kernel, out, positions, period):  # pragma: no cover - compiled by Numba
    """Every line along the last axis of 3D ``data`` filtered as PyWavelets filters it (a
    period shorter than the filter through :func:`_periodization`)."""
    length = data.shape[2]
    taps = kernel.size
    half = taps // 2
    for a in range(data.shape[0]):
        for b in range(data.shape[1]):
            line, result = data[a, b], out[a, b]
            if period < taps:
                _periodization(line, kernel, result)
                continue
            for n in range(length):
                first = positions[n] + half - period
                total = line.dtype.type(0)
                if first < 0 and half - taps + 1 + n >= 0 and n + half < length:
                    for k in range(taps):
                        total += kernel[k] * line[n + half - k]
                else:
                    for k in range(first, -1, -1):
                        total += kernel[k] * line[(n + half - k) % length]
                    for k in range(max(first + 1, 0), taps):
                        total += kernel[k] * line[(n + half - k) % length]
                result[n] = total


@numba.njit(cache=True, nogil=True)
def _filter_planes(data, kernel, out, positions, period):  # pragma: no cover - compiled by Numba
    """``data`` filtered along its first axis (period >= filter length), one output plane at a
    time: each tap's input plane is added to the output plane in the summation order, element
    by element (the same sums as line by line, with a contiguous inner loop)."""
    length = data.shape[0]
    taps = kernel.size
    half = taps // 2
    for n in range(length):
        plane = out[n]
        plane[:, :] = 0
        first = positions[n] + half - period
        for step in range(taps):
            # taps first, first - 1, ..., 0, then first + 1, ..., F - 1 (0, ..., F - 1 if none
            # wraps)
            k = first - step if step <= first else step
            weight = kernel[k]
            source = data[(n + half - k) % length]
            for a in range(plane.shape[0]):
                for b in range(plane.shape[1]):
                    plane[a, b] += weight * source[a, b]


@numba.njit(cache=True, nogil=True)
def _periodization(x, h, out):  # pragma: no cover - compiled by Numba
    """``out[o] = sum_j h[j] x[(o + F/2 - j) mod N]``, summed term by term in the order of
    PyWavelets' ``downsampling_convolution_periodization`` (step 1, so no padding), for every
    ``N``, shorter than the filter included."""
    n, f = x.size, h.size
    i, o = f // 2, 0
    zero = x.dtype.type(0)
    while i < f and i < n:  # the filter reaches past the line's start
        total, j = zero, 0
        while j <= i:
            total += h[j] * x[i - j]
            j += 1
        out[o] = _past_start(x, h, total, j)
        i += 1
        o += 1
    while i < n:  # the filter inside the line
        total = zero
        for j in range(f):
            total += x[i - j] * h[j]
        out[o] = total
        i += 1
        o += 1
    while i < f and i < n + f // 2:  # past both ends (a line shorter than the filter)
        total, j = _past_end(x, h, zero, i)
        while j <= i:
            total += h[j] * x[i - j]
            j += 1
        out[o] = _past_start(x, h, total, j)
        i += 1
        o += 1
    while i < n + f // 2:  # past the line's end
        total, j = _past_end(x, h, zero, i)
        while j < f:
            total += h[j] * x[i - j]
            j += 1
        out[o] = total
        i += 1
        o += 1


@numba.njit(cache=True, nogil=True)
def _past_start(x, h, total, j):  # pragma: no cover - compiled by Numba
    """``total`` plus the taps ``j..F-1``, which wrap around to the line's end, from the last
    sample backwards (PyWavelets' loop over the left extension)."""
    n, f = x.size, h.size
    while j < f:
        k = 0
        while k < n and j < f:
            total += h[j] * x[n - 1 - k]
            k += 1
            j += 1
    return total


@numba.njit(cache=True, nogil=True)
def _past_end(x, h, total, i):  # pragma: no cover - compiled by Numba
    """``total`` plus output ``i``'s taps that wrap around to the line's start, from the first
    sample forwards, and the next tap (PyWavelets' loop over the right extension)."""
    n = x.size
    j = 0
    while i - j >= n:
        k = 0
        while k < n and i - j >= n:
            total += h[i - n - j] * x[k]
            k += 1
            j += 1
    return total, j


def _periodic_block(image, region: tuple[slice, ...], axes, reach: int):
    """The part of the periodic (odd axes padded) image that ``region``'s output depends on.

    pyradiomics appends one wrapped-around voxel to every odd-sized axis (``x[N] = x[0]``), so
    each transformed axis is periodic with the even length ``P = N + N % 2``. An output voxel
    reads at most ``reach`` voxels on either side along a transformed axis over all levels, so
    the block is the region plus ``reach`` voxels each side, indices taken modulo ``P``; an axis
    where that covers a whole period keeps the whole period (the filters' own wrap-around is then
    exact). Returns the block, the slices that crop the region out of its filtered images, and
    per transformed axis the period positions of the block's voxels and the period.
    """
    xp = get_namespace(image)
    indices, crop, lines = [], [], {}
    for axis, (size, window) in enumerate(zip(image.shape, region)):
        start, stop = window.start, window.stop
        period = size + size % 2
        if axis not in axes:
            indices.append(xp.arange(start, stop))
            crop.append(slice(None))
            continue
        if stop - start + 2 * reach < period:
            positions = np.arange(start - reach, stop + reach) % period
            crop.append(slice(reach, reach + stop - start))
        else:
            positions = np.arange(period)
            crop.append(window)
        lines[axis] = (positions, period)
        indices.append(xp.asarray(np.where(positions == size, 0, positions)))
    return image[xp.ix_(*indices)], tuple(crop), lines


def _band_name(band: str) -> str:
    return "".join(_SUBBAND[letter] for letter in band)


def _check_count(name: str, value, *, minimum: int) -> None:
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(
            f"The '{name}' parameter of wavelet_images must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )

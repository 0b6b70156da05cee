"""Wavelet image types, as pyradiomics computes them (``wavelet-LLH``, ``wavelet-HHL``, ...).

pyradiomics (``getWaveletImage`` / ``_swt3``) pads every odd-sized axis by one voxel (wrapping
around), then applies ``pywt.swtn(data, wavelet, level=1, start_level=0)`` once per level, each
time on the previous level's approximation (so the filters are never dilated), and crops the
padding off the results. One level of the undecimated transform filters every axis with the
wavelet's decomposition low-pass ``h`` (L) or high-pass ``g`` (H) filter of length ``F``,
periodically:

.. math::

    y[n] = \\sum_{k=0}^{F-1} h[k]\\, x[(n + F/2 - k) \\bmod N].

This module computes that correlation with ``scipy.ndimage.correlate1d`` (``mode='wrap'``), or
``cupyx.scipy.ndimage.correlate1d`` for CuPy arrays, instead of calling PyWavelets (CPU only), and
matches ``pywt.swtn`` to floating-point rounding (~1e-15 relative); PyWavelets supplies only the
filter coefficients.

Features need the filtered image only over the ROI's bounding box, and each output voxel depends
on ``F`` input voxels per axis and level, so with a ``region`` the transform runs on the region
plus that reach (gathered with the periodic wrap-around) instead of the whole image: every kept
voxel is the same sum of the same products, bit for bit, at a fraction of the cost.
"""

from __future__ import annotations

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

    Returns
    -------
    dict of str to array
        float64 images in pyradiomics' order: the detail sub-bands of each level (``'LLH'``,
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
    filters = pywt.Wavelet(wavelet)
    low = xp.asarray(filters.dec_lo[::-1])
    high = xp.asarray(filters.dec_hi[::-1])
    if region is None:
        region = tuple(slice(0, size) for size in image.shape)
    reach = (start_level + level) * filters.dec_len // 2
    data, crop = _periodic_block(image, region, axes, reach)
    data = data.astype(xp.float64, copy=False)
    for _ in range(start_level):
        data = _swt_level(data, low, high, axes)["a" * len(axes)]
    images = {}
    for index in range(1, level + 1):
        bands = _swt_level(data, low, high, axes)
        data = bands.pop("a" * len(axes))
        prefix = "wavelet" if index == 1 else f"wavelet{index}"
        for band, values in bands.items():
            images[f"{prefix}-{_band_name(band)}"] = values[crop]
    prefix = "wavelet" if level == 1 else f"wavelet{level}"
    images[f"{prefix}-{'L' * len(axes)}"] = data[crop]
    return images


def _swt_level(data, low, high, axes) -> dict:
    """One undecimated level: all sub-bands, keyed and ordered as ``pywt.swtn`` ('aad', ...)."""
    bands = {"": data}
    for axis in axes:
        bands = {
            key + letter: _periodic_filter(values, kernel, axis)
            for key, values in bands.items()
            for letter, kernel in (("a", low), ("d", high))
        }
    return bands


def _periodic_filter(data, reversed_kernel, axis: int):
    """``y[n] = sum_k h[k] x[(n + F/2 - k) mod N]`` along ``axis``, given ``h`` reversed.

    With the reversed kernel this is a correlation whose window starts at ``n + 1 - F/2``, i.e.
    centre offset ``F/2 - 1`` = ndimage's default centre ``F // 2`` plus ``origin=-1`` (every
    PyWavelets decomposition filter has an even length).
    """
    ndimage = _ndimage_module(get_namespace(data))
    return ndimage.correlate1d(data, reversed_kernel, axis=axis, mode="wrap", origin=-1)


def _periodic_block(image, region: tuple[slice, ...], axes, reach: int):
    """The part of the periodic (odd axes padded) image that ``region``'s output depends on.

    pyradiomics appends one wrapped-around voxel to every odd-sized axis (``x[N] = x[0]``), so
    each transformed axis is periodic with the even length ``P = N + N % 2``. An output voxel
    reads at most ``reach`` voxels on either side along a transformed axis over all levels, so
    the block is the region plus ``reach`` voxels each side, indices taken modulo ``P``; an axis
    where that covers a whole period keeps the whole period (the filters' own wrap-around is then
    exact). Returns the block and the slices that crop the region out of its filtered images.
    """
    xp = get_namespace(image)
    indices, crop = [], []
    for axis, (size, window) in enumerate(zip(image.shape, region)):
        start, stop = window.start, window.stop
        period = size + size % 2
        if axis not in axes:
            indices.append(xp.arange(start, stop))
            crop.append(slice(None))
        elif stop - start + 2 * reach < period:
            positions = xp.arange(start - reach, stop + reach) % period
            indices.append(xp.where(positions == size, 0, positions))
            crop.append(slice(reach, reach + stop - start))
        else:
            indices.append(xp.where(xp.arange(period) == size, 0, xp.arange(period)))
            crop.append(window)
    return image[xp.ix_(*indices)], tuple(crop)


def _band_name(band: str) -> str:
    return "".join(_SUBBAND[letter] for letter in band)


def _check_count(name: str, value, *, minimum: int) -> None:
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(
            f"The '{name}' parameter of wavelet_images must be an int >= {minimum}. "
            f"Got {value!r} instead."
        )


def _ndimage_module(xp):
    """``scipy.ndimage`` for NumPy arrays, ``cupyx.scipy.ndimage`` for CuPy arrays."""
    if xp is np:
        import scipy.ndimage

        return scipy.ndimage
    import cupyx.scipy.ndimage

    return cupyx.scipy.ndimage

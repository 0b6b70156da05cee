"""IBSI-2 boundary conditions and the one convolution every spatial filter is built from.

The IBSI names four ways to extend an image beyond its edge:

========== ========================================= ============ ===============
IBSI name  extension of ``a b c d``                  numpy.pad    scipy.ndimage
========== ========================================= ============ ===============
zero       ``0 0 | a b c d | 0 0``                   constant     constant
nearest    ``a a | a b c d | d d``                   edge         nearest
periodic   ``c d | a b c d | a b``                   wrap         wrap
mirror     ``b a | a b c d | d c``                   symmetric    reflect
========== ========================================= ============ ===============

IBSI's *mirror* repeats the edge voxel (numpy's ``symmetric``); numpy's ``reflect`` does not and
misses the IBSI-2 reference maps.
"""

from __future__ import annotations

from collections.abc import Sequence

from radiopipe.xp import get_namespace

BOUNDARIES = {"zero": "constant", "nearest": "edge", "periodic": "wrap", "mirror": "symmetric"}
"""IBSI boundary name -> ``numpy.pad`` / ``cupy.pad`` mode."""


def check_boundary(boundary: str) -> str:
    """Return the ``pad`` mode of an IBSI boundary name; raise for an unknown one."""
    if boundary not in BOUNDARIES:
        raise ValueError(
            f"The 'boundary' parameter must be one of {tuple(BOUNDARIES)}. "
            f"Got {boundary!r} instead."
        )
    return BOUNDARIES[boundary]


def pad_axis(image, before: int, after: int, axis: int, boundary: str):
    """Extend ``image`` along one axis by ``before`` and ``after`` voxels.

    Examples
    --------
    >>> import numpy as np
    >>> pad_axis(np.array([1.0, 2.0, 3.0]), 2, 2, 0, "mirror").tolist()
    [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]
    """
    xp = get_namespace(image)
    widths = [(0, 0)] * image.ndim
    widths[axis] = (before, after)
    return xp.pad(image, widths, mode=check_boundary(boundary))


def convolve_axis(image, taps: Sequence[float], first_offset: int, axis: int, boundary: str):
    """True convolution of ``image`` with a 1D kernel along ``axis``.

    Parameters
    ----------
    image : array
        Float array (NumPy or CuPy).
    taps : sequence of float
        Kernel values ``h[m]`` for offsets ``m = first_offset, first_offset + 1, ...``.
    first_offset : int
        Offset of ``taps[0]``; e.g. ``-2`` for a centred 5-tap kernel.
    axis : int
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}

    Returns
    -------
    array
        :math:`y[c] = \\sum_m h[m]\\, x[c - m]`, the shape of ``image``. An impulse at ``c``
        gives ``y[c + m] = h[m]``.

    Examples
    --------
    >>> import numpy as np
    >>> convolve_axis(np.array([0.0, 1.0, 0.0, 0.0]), [1.0, 2.0], 0, 0, "zero").tolist()
    [0.0, 1.0, 2.0, 0.0]
    """
    last_offset = first_offset + len(taps) - 1
    before, after = max(last_offset, 0), max(-first_offset, 0)
    padded = pad_axis(image, before, after, axis, boundary)
    size = image.shape[axis]
    xp = get_namespace(image)
    out = xp.zeros(image.shape, dtype=padded.dtype)
    for index, value in enumerate(taps):
        if value == 0:
            continue
        start = before - (first_offset + index)
        window = [slice(None)] * image.ndim
        window[axis] = slice(start, start + size)
        out += value * padded[tuple(window)]
    return out


def convolve_separable(image, kernels, axes: Sequence[int], boundary: str):
    """Convolve with one 1D kernel ``(taps, first_offset)`` per axis of ``axes``, in turn."""
    for (taps, first_offset), axis in zip(kernels, axes, strict=True):
        image = convolve_axis(image, taps, first_offset, axis, boundary)
    return image


def centred(taps: Sequence[float]) -> tuple[Sequence[float], int]:
    """An odd-length kernel centred on offset 0: ``(taps, -(len - 1) // 2)``."""
    return taps, -(len(taps) // 2)


def extended(filter_fn, image, width: int, axes: Sequence[int], boundary: str):
    """``filter_fn`` on ``image`` extended by ``width`` voxels along ``axes``, cropped back.

    Fourier-domain filters see a periodic image; extending it first gives them ``boundary``
    instead.
    """
    padded = image
    for axis in axes:
        padded = pad_axis(padded, width, width, axis, boundary)
    response = filter_fn(padded)
    window = [slice(None)] * image.ndim
    for axis in axes:
        window[axis] = slice(width, width + image.shape[axis])
    return response[tuple(window)]

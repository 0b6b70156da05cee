"""IBSI-2 separable wavelets, undecimated (*a trous*), to any level, optionally rotation
invariant.

The filters are PyWavelets' decomposition filters ``dec_lo`` (L) and ``dec_hi`` (H), used as
convolution kernels in array order. An even-length filter of length ``n`` is centred on index
``n / 2`` (one zero appended): ``db2`` taps sit at offsets -2..1, ``coif1`` at -3..2, ``haar``
at -1..0. Level ``l`` spreads the taps by ``2 ** (l - 1)``. The level-``N`` response of a band
such as ``LHL`` filters the all-L (``LLL``) response of level ``N - 1`` with the level-``N``
filters, the band's first letter acting along ``axes[0]``. Rotation invariance averages (or
max-pools) the response over the 4 (2D) or 24 (3D) right-angle rotations.
"""

from __future__ import annotations

from collections.abc import Sequence

import pywt

from radiopipe.filters.ibsi2.padding import convolve_separable
from radiopipe.filters.ibsi2.rotations import pooled
from radiopipe.xp import get_namespace


def wavelet_taps(wavelet: str, band: str, level: int) -> tuple[list[float], int]:
    """The level-``level`` kernel of one band letter: ``(taps, first_offset)``.

    Examples
    --------
    >>> wavelet_taps("haar", "H", 2)[1]
    -2
    """
    if band not in ("L", "H"):
        raise ValueError(f"A wavelet band letter must be 'L' or 'H'. Got {band!r} instead.")
    try:
        bank = pywt.Wavelet(wavelet)
    except ValueError as error:
        raise ValueError(
            f"The 'wavelet' parameter must name a PyWavelets discrete wavelet (e.g. 'haar', "
            f"'db2', 'coif1'). Got {wavelet!r} instead.") from error
    filt = list(bank.dec_lo if band == "L" else bank.dec_hi)
    step = 2 ** (level - 1)
    taps = [0.0] * ((len(filt) - 1) * step + 1)
    taps[::step] = filt
    return taps, -step * (len(filt) // 2)


def wavelet_response(image, wavelet: str, band: str, axes: Sequence[int], boundary: str, *,
                     level: int = 1, rotation_invariant: bool = False, pooling: str = "mean"):
    """Undecimated separable wavelet response of one band at ``level``.

    Parameters
    ----------
    image : array
    wavelet : str
        PyWavelets name: ``'haar'``, ``'db2'``, ``'coif1'``, ...
    band : str
        One letter L or H per axis of ``axes`` (``'LH'`` in 2D, ``'LHL'`` in 3D).
    axes : sequence of int
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}
    level : int
        Decomposition level >= 1.
    rotation_invariant : bool
        Pool over the right-angle rotations of ``axes``.
    pooling : {'mean', 'max'}
        How the rotations are pooled (the IBSI's wavelets average them).
    """
    if len(band) != len(axes):
        raise ValueError(f"The wavelet band {band!r} needs one letter per filtered axis "
                         f"({len(axes)}).")
    if level < 1:
        raise ValueError(f"The 'level' parameter must be an int >= 1. Got {level!r} instead.")
    lows = [[wavelet_taps(wavelet, "L", lev)] * len(axes) for lev in range(1, level)]
    last = [wavelet_taps(wavelet, letter, level) for letter in band]

    def apply(array):
        for kernels in lows:
            array = convolve_separable(array, kernels, axes, boundary)
        return convolve_separable(array, last, axes, boundary)

    xp = get_namespace(image)
    image = image.astype(xp.float64)
    return pooled(apply, image, axes, pooling) if rotation_invariant else apply(image)

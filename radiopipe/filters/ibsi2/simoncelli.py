"""IBSI-2 Simoncelli non-separable wavelet: an isotropic band-pass in the Fourier domain.

.. math:: H(\\omega) = \\cos\\left(\\frac{\\pi}{2} \\log_2
          \\frac{2 \\lVert\\omega\\rVert}{\\omega_{max}}\\right)
          \\quad \\text{for}\\ \\omega_{max}/4 \\le \\lVert\\omega\\rVert \\le \\omega_{max},

0 elsewhere, with :math:`\\omega_{max} = 2^{-(N - 1)}` at level ``N`` (Nyquist = 1). The
frequency grid along an axis of ``n`` voxels is :math:`(k - (n-1)/2) / ((n-1)/2)`, ``k = 0 ..
n - 1``, spanning exactly [-1, 1], then ``ifftshift``-ed (the IBSI reference maps need this
grid; ``fftfreq`` misses them at levels 2 and 3). The image is filtered as it is, i.e. with
periodic boundaries. The response is the band-pass ("B") map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from radiopipe.xp import get_namespace


def simoncelli_response(image, level: int, axes: Sequence[int]):
    """Band-pass response of the Simoncelli wavelet at ``level`` along ``axes``."""
    if level < 1:
        raise ValueError(f"The 'level' parameter must be an int >= 1. Got {level!r} instead.")
    xp = get_namespace(image)
    image = image.astype(xp.float64)
    squared = 0.0
    for axis in axes:
        n = image.shape[axis]
        half = (n - 1) / 2
        grid = xp.fft.ifftshift((xp.arange(n, dtype=xp.float64) - half) / half)
        shape = [1] * image.ndim
        shape[axis] = n
        squared = squared + grid.reshape(shape) ** 2
    radius = xp.sqrt(squared)
    top = 2.0 ** (-(level - 1))
    inside = (radius >= top / 4) & (radius <= top)
    ratio = xp.where(inside, 2 * radius / top, 1.0)
    response = xp.where(inside, xp.cos(math.pi / 2 * xp.log2(ratio)), 0.0)
    spectrum = xp.fft.fftn(image, axes=tuple(axes))
    return xp.real(xp.fft.ifftn(spectrum * response, axes=tuple(axes)))

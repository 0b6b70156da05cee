"""IBSI-2 Riesz transform of order ``l = (l1, l2, l3)``, applied in the Fourier domain.

.. math:: \\hat y(\\omega) = (-\\mathrm{j})^{|l|}
          \\sqrt{\\frac{|l|!}{l_1!\\, l_2!\\, l_3!}}
          \\frac{\\omega_1^{l_1} \\omega_2^{l_2} \\omega_3^{l_3}}{\\lVert\\omega\\rVert^{|l|}}
          \\hat x(\\omega)

set to 0 at the zero frequency, with :math:`\\omega` the FFT frequencies. The image is
transformed as it is (periodic); callers extend it first where a boundary condition is wanted.
The IBSI applies it to a LoG or Simoncelli response; the real part is returned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from radiopipe.xp import get_namespace


def riesz_transform(image, order: Sequence[int], axes: Sequence[int]):
    """Riesz transform of ``order`` (one non-negative int per axis of ``axes``)."""
    if len(order) != len(axes) or any(o < 0 for o in order):
        raise ValueError(f"The Riesz 'order' needs one int >= 0 per filtered axis. Got "
                         f"{tuple(order)!r} for {len(axes)} axes instead.")
    xp = get_namespace(image)
    total = sum(order)
    scale = math.sqrt(math.factorial(total) / math.prod(math.factorial(o) for o in order))
    numerator, squared = 1.0, 0.0
    for axis, power in zip(axes, order, strict=True):
        shape = [1] * image.ndim
        shape[axis] = image.shape[axis]
        omega = xp.fft.fftfreq(image.shape[axis]).reshape(shape)
        numerator = numerator * omega**power
        squared = squared + omega**2
    norm = xp.sqrt(squared)
    safe = xp.where(norm == 0, 1.0, norm)
    transfer = xp.where(norm == 0, 0.0, numerator / safe**total) * scale * (-1j) ** total
    spectrum = xp.fft.fftn(image.astype(xp.float64), axes=tuple(axes))
    return xp.real(xp.fft.ifftn(spectrum * transfer, axes=tuple(axes)))

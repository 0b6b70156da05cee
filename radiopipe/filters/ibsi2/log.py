"""IBSI-2 Laplacian of Gaussian.

The kernel, with :math:`\\sigma` and :math:`r` in voxels and :math:`D` the number of filtered
axes, is

.. math:: h(r) = -\\frac{1}{\\sigma^2} (2\\pi\\sigma^2)^{-D/2}
          \\left(D - \\frac{r^2}{\\sigma^2}\\right) e^{-r^2 / 2\\sigma^2}

on a cubic support of radius :math:`\\lfloor 4\\sigma + 1/2 \\rfloor` voxels (the IBSI cut-off
``4 sigma``), without renormalisation. It equals the sum over the filtered axes of a second
Gaussian derivative along that axis times Gaussians along the others, so it runs as ``D``
separable convolutions. pyradiomics' LoG (:mod:`radiopipe.filters.log`) differs: it scales by
:math:`\\sigma^2` in millimetres and uses SimpleITK's kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from radiopipe.filters.ibsi2.padding import convolve_separable
from radiopipe.xp import get_namespace

CUTOFF = 4.0
"""Kernel radius in standard deviations."""


def log_kernels(sigma: float, cutoff: float = CUTOFF) -> tuple[np.ndarray, np.ndarray, int]:
    """The 1D Gaussian ``g`` and its second derivative ``g''`` on ``[-R, R]``, and ``-R``.

    Examples
    --------
    >>> g, g2, first = log_kernels(1.0)
    >>> first, round(float(g.sum()), 4)
    (-4, 1.0)
    """
    if sigma <= 0:
        raise ValueError(f"The 'sigma' parameter of the LoG must be a float > 0. Got {sigma!r} "
                         "instead.")
    radius = int(math.floor(cutoff * sigma + 0.5))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    gauss = np.exp(-(x**2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)
    second = (x**2 / sigma**4 - 1 / sigma**2) * gauss
    return gauss, second, -radius


def laplacian_of_gaussian(image, sigma: float, axes: Sequence[int], boundary: str,
                          cutoff: float = CUTOFF):
    """IBSI LoG response along ``axes`` (two: 2D slice-wise, three: 3D).

    Parameters
    ----------
    image : array
    sigma : float
        Standard deviation in voxels (``sigma_mm / spacing``).
    axes : sequence of int
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}
    cutoff : float
        Kernel radius in standard deviations.
    """
    xp = get_namespace(image)
    gauss, second, first = log_kernels(sigma, cutoff)
    gauss, second = gauss.tolist(), second.tolist()
    image = image.astype(xp.float64)
    total = None
    for derivative_axis in axes:
        kernels = [((second if axis == derivative_axis else gauss), first) for axis in axes]
        term = convolve_separable(image, kernels, axes, boundary)
        total = term if total is None else total + term
    return total

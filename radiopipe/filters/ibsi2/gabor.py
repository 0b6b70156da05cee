"""IBSI-2 Gabor filter: the modulus of a complex in-plane kernel, averaged over orientations.

.. math:: h(i, j) = e^{-(\\tilde x^2 + \\gamma^2 \\tilde y^2) / 2\\sigma^2}
          e^{\\mathrm{j} 2\\pi \\tilde x / \\lambda},\\quad
          \\tilde x = i\\cos\\theta + j\\sin\\theta,\\ \\tilde y = -i\\sin\\theta + j\\cos\\theta

with :math:`i, j` the voxel offsets along the plane's two axes and :math:`\\sigma, \\lambda`
in voxels; no normalisation constant. The kernel is not truncated where it matters: its radius
reaches :math:`6\\sigma / \\min(\\gamma, 1)` voxels, where the envelope is below 1e-7. The
convolution runs in the Fourier domain on the image extended by that radius.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from radiopipe.filters.ibsi2.padding import pad_axis
from radiopipe.xp import get_namespace


def gabor_kernel(sigma: float, wavelength: float, gamma: float, theta: float) -> np.ndarray:
    """Complex Gabor kernel on offsets ``-R .. R`` along both plane axes (``[i, j]``)."""
    if sigma <= 0 or wavelength <= 0 or gamma <= 0:
        raise ValueError(
            "The 'sigma', 'wavelength' and 'gamma' parameters of the Gabor filter must be "
            f"floats > 0. Got {sigma!r}, {wavelength!r}, {gamma!r} instead.")
    radius = int(math.ceil(6 * sigma / min(gamma, 1.0)))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    i, j = np.meshgrid(offsets, offsets, indexing="ij")
    x = i * math.cos(theta) + j * math.sin(theta)
    y = -i * math.sin(theta) + j * math.cos(theta)
    envelope = np.exp(-(x**2 + gamma**2 * y**2) / (2 * sigma**2))
    return envelope * np.exp(2j * math.pi * x / wavelength)


def _plane_convolve(image, kernel: np.ndarray, axes: Sequence[int], boundary: str):
    """Linear convolution over two axes through the FFT, on the boundary-extended image."""
    xp = get_namespace(image)
    radius = kernel.shape[0] // 2
    padded = image
    for axis in axes:
        padded = pad_axis(padded, radius, radius, axis, boundary)
    # A circular convolution of the padded length suffices: the wrapped-around tail lands on
    # the first 2 R samples, which are not kept.
    shape = [padded.shape[a] for a in axes]
    spectrum = xp.fft.fftn(padded, s=shape, axes=tuple(axes))
    kernel_shape = [1] * image.ndim
    for k, axis in enumerate(axes):
        kernel_shape[axis] = kernel.shape[k]
    kernel_spectrum = xp.fft.fftn(xp.asarray(kernel.reshape(kernel_shape)), s=shape,
                                  axes=tuple(axes))
    full = xp.fft.ifftn(spectrum * kernel_spectrum, axes=tuple(axes))
    window = [slice(None)] * image.ndim
    for axis in axes:  # index n holds voxel n - 2 R of the unpadded image
        window[axis] = slice(2 * radius, 2 * radius + image.shape[axis])
    return full[tuple(window)]


def gabor_response(image, sigma: float, wavelength: float, gamma: float,
                   thetas: Sequence[float], axes: Sequence[int], boundary: str):
    """Mean over ``thetas`` of the Gabor modulus in the plane of ``axes`` (two axes).

    Parameters
    ----------
    image : array
    sigma, wavelength : float
        In voxels.
    gamma : float
        Spatial aspect ratio.
    thetas : sequence of float
        Orientations in radians; one for a single orientation.
    axes : (int, int)
        The plane: ``i`` runs along ``axes[0]``, ``j`` along ``axes[1]``.
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}
    """
    if len(axes) != 2:
        raise ValueError(f"The Gabor filter acts in a plane: give two axes. Got {axes!r} "
                         "instead.")
    xp = get_namespace(image)
    image = image.astype(xp.float64)
    total = None
    for theta in thetas:
        kernel = gabor_kernel(sigma, wavelength, gamma, theta)
        modulus = xp.abs(_plane_convolve(image, kernel, axes, boundary))
        total = modulus if total is None else total + modulus
    return total / len(thetas)


def gabor_orthogonal_planes(image, sigma: float, wavelength: float, gamma: float,
                            thetas: Sequence[float], boundary: str):
    """IBSI "3D" Gabor: :func:`gabor_response` in the three orthogonal planes, averaged."""
    planes = ((0, 1), (0, 2), (1, 2))
    total = sum(gabor_response(image, sigma, wavelength, gamma, thetas, plane, boundary)
                for plane in planes)
    return total / len(planes)

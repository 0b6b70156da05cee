"""Laplacian of Gaussian image type, as pyradiomics computes it (``log-sigma-<s>-mm-3D``).

pyradiomics uses SimpleITK's ``LaplacianRecursiveGaussianImageFilter`` (normalised across scale):
for each axis ``d`` the image is filtered with the second derivative of a Gaussian along ``d`` and
smoothed with a Gaussian along the two other axes, and the three results are summed,

.. math::

    \\mathrm{LoG}_\\sigma(f) = \\sigma^2 \\sum_{d} \\frac{1}{s_d^2}
        \\bigl(G''_{\\sigma/s_d} *_d G_{\\sigma/s_{d'}} *_{d'} G_{\\sigma/s_{d''}} *_{d''} f\\bigr),

with ``s_d`` the spacing (mm) and ``\\sigma`` in mm. Each 1D Gaussian (or derivative) is Deriche's
4th-order recursive (IIR) approximation as ITK implements it (``RecursiveGaussianImageFilter``): a
causal and an anti-causal recursion, with the signal extended by its edge value at both ends.

Both paths here are exact (float32 rounding apart); neither approximates the filter with a
truncated FIR Gaussian (``scipy.ndimage.gaussian_laplace`` differs from it by ~1e-3 relative).
Given a ``region`` (the ROI's bounding box), both read only the region's reading box
(`radiopipe.filters.recursive_gaussian.reading_box`: about 23.5 sigma beyond it per axis), outside
which no voxel moves a pass by 1e-14 of the image's range:

- NumPy arrays go through SimpleITK itself (multi-threaded C++, pyradiomics' own call); given a
  ``region``, through `radiopipe.filters.recursive_gaussian`, ITK's passes re-implemented
  operation for operation and run only over the lines the region's output depends on (equal to
  SimpleITK bit for bit on the real cases tested, several times faster);
- ``recursive_laplacian_of_gaussian`` re-implements ITK's recursions with ``lfilter`` along each
  axis, from ``cupyx.scipy.signal`` for CuPy arrays (the GPU path) or ``scipy.signal`` for NumPy
  arrays, where the tests hold it against SimpleITK. Intermediate images are stored as float32,
  as ITK stores them.

The output is float32, like SimpleITK's.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import NamedTuple

import numpy as np
import SimpleITK as sitk

from radiopipe.filters.recursive_gaussian import laplacian_of_gaussian_region, reading_box
from radiopipe.xp import get_namespace

logger = logging.getLogger(__name__)

# Deriche's fitted constants for the Gaussian (order 0), its first (1) and second (2) derivative,
# as ITK's RecursiveGaussianImageFilter::SetUp lists them.
_A1 = (1.3530, -0.6724, -1.3563)
_B1 = (1.8151, -3.4327, 5.2318)
_A2 = (-0.3531, 0.6724, 0.3446)
_B2 = (0.0902, 0.6100, -2.2355)
_W1, _L1, _W2, _L2 = 0.6681, -1.3932, 2.0787, -1.3732
_MIN_SIZE = 4  # ITK's recursive filters need four samples along every axis


class _RecursiveCoefficients(NamedTuple):
    """One 1D recursive Gaussian: causal numerator ``n``, anti-causal ``m``, denominator ``d``."""

    causal: tuple[float, ...]
    anticausal: tuple[float, ...]
    denominator: tuple[float, ...]


def log_image_name(sigma: float) -> str:
    """pyradiomics' image-type name for a LoG sigma, e.g. ``1.0 -> 'log-sigma-1-0-mm-3D'``."""
    return f"log-sigma-{str(sigma).replace('.', '-')}-mm-3D"


def laplacian_of_gaussian(image, spacing: tuple[float, ...], sigma: float, *, region=None):
    """Scale-normalised Laplacian of Gaussian (ITK's recursive filter, exact).

    NumPy arrays are filtered by SimpleITK, CuPy arrays by ``recursive_laplacian_of_gaussian``.

    ITK sums, per axis ``d``, a second-derivative pass along ``d`` followed by smoothing passes
    along the other axes. Each pass filters whole lines, so a voxel of the result depends on the
    whole image, but after a pass along an axis only the region's range along that axis is read
    again. With a ``region``, the image is first cut to the region's reading box (beyond it no
    voxel moves a pass by 1e-14 of the image's range), then NumPy images run ITK's passes one by
    one (`radiopipe.filters.recursive_gaussian.laplacian_of_gaussian_region`), cropping along
    each axis once it is filtered: one pass over the reading box per axis instead of three
    over the whole image.

    Parameters
    ----------
    image : array
        (z, y, x) image, NumPy or CuPy, at least 4 voxels along every axis.
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    sigma : float
        Gaussian width in mm, > 0.
    region : tuple of slice, optional
        Return the LoG image only over this box (one ``slice(start, stop)`` per axis): the
        whole image's LoG cropped to it, to within 1e-14 of the image's range.

    Returns
    -------
    array
        float32 LoG image, same namespace as ``image``, shaped as ``image`` or ``region``.

    Examples
    --------
    >>> image = np.zeros((5, 5, 5)); image[2, 2, 2] = 1.0
    >>> out = laplacian_of_gaussian(image, (1.0, 1.0, 1.0), 1.0)
    >>> bool(out[2, 2, 2] < 0)
    True
    """
    _check_arguments(image, sigma)
    if region is not None:
        box = reading_box(image.shape, spacing, sigma, region)
        image = get_namespace(image).ascontiguousarray(image[box])
        region = tuple(slice(r.start - b.start, r.stop - b.start) for r, b in zip(region, box))
    if get_namespace(image) is not np:
        filtered = recursive_laplacian_of_gaussian(image, spacing, sigma)
        return filtered if region is None else filtered[region]
    if region is not None:
        return laplacian_of_gaussian_region(image, spacing, sigma, region)
    log = sitk.LaplacianRecursiveGaussianImageFilter()
    log.SetNormalizeAcrossScale(True)
    log.SetSigma(float(sigma))
    source = sitk.GetImageFromArray(image)
    source.SetSpacing([float(s) for s in reversed(spacing)])
    return sitk.GetArrayFromImage(log.Execute(source))


def recursive_laplacian_of_gaussian(image, spacing: tuple[float, ...], sigma: float):
    """ITK's recursive LoG re-implemented on the array namespace (NumPy or CuPy).

    Same arguments and result as ``laplacian_of_gaussian``: three passes of 1D recursive filters
    per axis (second derivative along it, smoothing along the others), each stored as float32,
    summed with weights ``1 / s_d^2``.
    """
    _check_arguments(image, sigma)
    xp = get_namespace(image)
    signal = _signal_module(xp)
    axes = range(image.ndim)
    total = xp.zeros(image.shape, dtype=xp.float32)
    # ITK orders axes x, y, z (numpy axes reversed) and smooths the other axes in that order.
    for axis in reversed(axes):
        filtered = _recursive_filter(
            signal, image, axis, _coefficients(sigma / spacing[axis], order=2, sigma=sigma)
        )
        for other in (a for a in reversed(axes) if a != axis):
            smoothing = _coefficients(sigma / spacing[other], order=0, sigma=sigma)
            filtered = _recursive_filter(signal, filtered, other, smoothing)
        # Accumulated in float32 as ITK does: total = float(total + filtered / spacing^2).
        scale = 1.0 / spacing[axis] ** 2
        total = (total.astype(xp.float64) + filtered.astype(xp.float64) * scale).astype(xp.float32)
    return total


def _check_arguments(image, sigma: float) -> None:
    if not sigma > 0:
        raise ValueError(
            f"The 'sigma' parameter of laplacian_of_gaussian must be > 0. Got {sigma!r} instead."
        )
    if min(image.shape) < _MIN_SIZE:
        raise ValueError(
            f"laplacian_of_gaussian needs at least {_MIN_SIZE} voxels along every axis; "
            f"got an image of shape {image.shape}."
        )


def log_images(image, spacing: tuple[float, ...], sigmas, *, region=None) -> dict:
    """pyradiomics' LoG image type for each sigma (``getLoGImage``).

    Mirrors pyradiomics' checks: an image smaller than 4 voxels along an axis gets no LoG image,
    and a sigma is skipped when the image is smaller than ``ceil(sigma / spacing) + 1`` voxels
    along an axis; both are logged as warnings, as pyradiomics logs them.

    Parameters
    ----------
    image : array
        (z, y, x) image.
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    sigmas : sequence of float
        Gaussian widths in mm, each > 0.
    region : tuple of slice, optional
        Compute the images only over this box (see `laplacian_of_gaussian`).

    Returns
    -------
    dict of str to array
        ``{'log-sigma-1-0-mm-3D': image, ...}`` in the order of ``sigmas``.
    """
    for sigma in sigmas:
        if not sigma > 0:
            raise ValueError(
                f"The 'sigmas' parameter of log_images must hold values > 0. Got {sigma!r} instead."
            )
    if min(image.shape) < _MIN_SIZE:
        logger.warning("Image too small for a LoG filter (shape %s); no LoG images.", image.shape)
        return {}
    images = {}
    for sigma in sigmas:
        needed = [math.ceil(sigma / step) + 1 for step in spacing]
        if any(size < need for size, need in zip(image.shape, needed)):
            logger.warning(
                "LoG sigma %g skipped: image shape %s smaller than %s.", sigma, image.shape, needed
            )
            continue
        images[log_image_name(sigma)] = laplacian_of_gaussian(image, spacing, sigma, region=region)
    return images


def _coefficients(sigma_voxels: float, *, order: int, sigma: float) -> _RecursiveCoefficients:
    """ITK's recursive Gaussian coefficients for order 0 (smoothing) or 2 (second derivative).

    ``sigma_voxels`` is the width in voxels; ``sigma`` (mm) scales the second derivative by
    ``sigma^2`` (NormalizeAcrossScale).
    """
    denominator, sd, dd, ed = _d_coefficients(sigma_voxels)
    if order == 0:
        n, sn, _, _ = _n_coefficients(sigma_voxels, 0)
        n = n / (2 * sn / sd - n[0])
    else:
        n0, sn0, dn0, en0 = _n_coefficients(sigma_voxels, 0)
        n2, sn2, dn2, en2 = _n_coefficients(sigma_voxels, 2)
        beta = -(2 * sn2 - sd * n2[0]) / (2 * sn0 - sd * n0[0])
        n = n2 + beta * n0
        sn, dn, en = sn2 + beta * sn0, dn2 + beta * dn0, en2 + beta * en0
        alpha2 = (en * sd * sd - ed * sn * sd - 2 * dn * dd * sd + 2 * dd * dd * sn) / sd**3
        n = n * (sigma**2 / alpha2)
    # Both orders are symmetric kernels, so the anti-causal numerator mirrors the causal one.
    d1, d2, d3, d4 = denominator
    m = (n[1] - d1 * n[0], n[2] - d2 * n[0], n[3] - d3 * n[0], -d4 * n[0])
    return _RecursiveCoefficients(tuple(n), m, (1.0, d1, d2, d3, d4))


def _d_coefficients(sigma_voxels: float):
    cos1, cos2 = math.cos(_W1 / sigma_voxels), math.cos(_W2 / sigma_voxels)
    exp1, exp2 = math.exp(_L1 / sigma_voxels), math.exp(_L2 / sigma_voxels)
    d4 = exp1 * exp1 * exp2 * exp2
    d3 = -2 * cos1 * exp1 * exp2 * exp2 - 2 * cos2 * exp2 * exp1 * exp1
    d2 = 4 * cos2 * cos1 * exp1 * exp2 + exp1 * exp1 + exp2 * exp2
    d1 = -2 * (exp2 * cos2 + exp1 * cos1)
    sd = 1.0 + d1 + d2 + d3 + d4
    dd = d1 + 2 * d2 + 3 * d3 + 4 * d4
    ed = d1 + 4 * d2 + 9 * d3 + 16 * d4
    return (d1, d2, d3, d4), sd, dd, ed


def _n_coefficients(sigma_voxels: float, order: int):
    a1, b1, a2, b2 = _A1[order], _B1[order], _A2[order], _B2[order]
    sin1, sin2 = math.sin(_W1 / sigma_voxels), math.sin(_W2 / sigma_voxels)
    cos1, cos2 = math.cos(_W1 / sigma_voxels), math.cos(_W2 / sigma_voxels)
    exp1, exp2 = math.exp(_L1 / sigma_voxels), math.exp(_L2 / sigma_voxels)
    n0 = a1 + a2
    n1 = exp2 * (b2 * sin2 - (a2 + 2 * a1) * cos2) + exp1 * (b1 * sin1 - (a1 + 2 * a2) * cos1)
    n2 = 2 * exp1 * exp2 * ((a1 + a2) * cos2 * cos1 - b1 * cos2 * sin1 - b2 * cos1 * sin2)
    n2 += a2 * exp1 * exp1 + a1 * exp2 * exp2
    n3 = exp2 * exp1 * exp1 * (b2 * sin2 - a2 * cos2) + exp1 * exp2 * exp2 * (b1 * sin1 - a1 * cos1)
    n = np.array([n0, n1, n2, n3])
    return n, n.sum(), n1 + 2 * n2 + 3 * n3, n1 + 4 * n2 + 9 * n3


def _recursive_filter(signal, data, axis: int, coefficients: _RecursiveCoefficients):
    """One 1D recursive Gaussian along ``axis``: causal plus anti-causal pass, stored as float32.

    ITK starts each recursion as if the signal continued with its edge value forever and the
    filter had settled on it (output = edge * sum(numerator) / sum(denominator)); those are the
    initial states passed to ``lfilter``. The filtered axis is moved last first: ``lfilter`` runs
    several times faster along contiguous lines.
    """
    xp = get_namespace(data)
    lines = xp.ascontiguousarray(xp.moveaxis(data, axis, -1), dtype=xp.float64)
    a = xp.asarray(coefficients.denominator)
    causal_b = xp.asarray(coefficients.causal)
    anticausal_b = xp.asarray((0.0, *coefficients.anticausal))
    causal_state = _edge_state(signal, causal_b, a, lines[..., :1])
    anticausal_state = _edge_state(signal, anticausal_b, a, lines[..., -1:])
    causal = signal.lfilter(causal_b, a, lines, axis=-1, zi=causal_state)[0]
    anticausal = signal.lfilter(anticausal_b, a, lines[..., ::-1], axis=-1, zi=anticausal_state)[0]
    causal += anticausal[..., ::-1]
    return xp.moveaxis(causal.astype(xp.float32), -1, axis)


def _edge_state(signal, b, a, edge):
    """Initial ``lfilter`` state (last axis) for lines that were ``edge`` before their start."""
    xp = get_namespace(edge)
    steady_output = float(b.sum() / a.sum())
    order = a.shape[0] - 1
    unit_state = signal.lfiltic(b, a, xp.full(order, steady_output), xp.ones(b.shape[0] - 1))
    return unit_state * edge


def _signal_module(xp):
    """``scipy.signal`` for NumPy arrays, ``cupyx.scipy.signal`` for CuPy arrays."""
    if xp is np:
        import scipy.signal

        return scipy.signal
    with warnings.catch_warnings():
        # CuPy announces its experimental JIT when this package is imported; not ours to fix.
        warnings.filterwarnings("ignore", "cupyx.jit.rawkernel is experimental", FutureWarning)
        import cupyx.scipy.signal

    return cupyx.scipy.signal

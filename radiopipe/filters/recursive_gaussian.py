"""ITK's ``RecursiveGaussianImageFilter`` pass by pass, bit for bit, over a region of interest.

pyradiomics' LoG is ITK's ``LaplacianRecursiveGaussianImageFilter``: for each axis ``d`` (ITK order
x, y, z) a second-derivative pass along ``d`` and smoothing passes along the other axes in
ascending order, each pass a causal plus an anti-causal 4th-order recursion (Deriche) run in
double along whole lines and stored as float32; the terms are accumulated as
``float(total + term * (1 / s_d^2))``.

Every pass filters whole lines, but once a pass has run along an axis only the region's range
along that axis is read again; so the region's LoG needs one whole-image pass per axis, the other
passes run on ever smaller slabs. This module re-implements ITK's arithmetic exactly (the
coefficients of ``RecursiveGaussianImageFilter::SetUp`` and the recursions of
``RecursiveSeparableImageFilter::FilterDataArray``, operation for operation, without fused
multiply-adds) in one compiled kernel that filters a block of lines at once, so the output equals
SimpleITK's, cropped, bit for bit (tests/filters/test_regions.py holds it to that).

A recursion's response to a sample ``k`` voxels away decays as ``exp(-1.3732 k / sigma_voxels)``
(Deriche's slower pole, ``_L2``), so voxels far from the region hardly reach it.
:func:`reading_box` is the part of the image whose values reach the region by more than
``_TAIL`` (1e-14) of the image's range: a pass over it, its line ends extended by their edge
values as ITK extends the image's, differs from the whole line's by at most ``_TAIL`` times the
range the image spans beyond it: below the float32 rounding (6e-8 of a value) each pass stores
its values with, for every value above a millionth of that range. On the real cases of
tests/filters/test_regions.py the LoG over the reading box equals SimpleITK's bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Deriche's fitted constants (ITK's RecursiveGaussianImageFilter::SetUp): a1, b1, a2, b2 for the
# Gaussian (order 0) and its second derivative (order 2); w1, l1, w2, l2 shared.
_A1 = {0: 1.3530, 2: -1.3563}
_B1 = {0: 1.8151, 2: 5.2318}
_A2 = {0: -0.3531, 2: 0.3446}
_B2 = {0: 0.0902, 2: -2.2355}
_W1, _L1, _W2, _L2 = 0.6681, -1.3932, 2.0787, -1.3732
# Lines filtered together by the kernel: wide enough to vectorise, small enough for the caches.
_BLOCK = 32
# The largest share of the image's range a voxel beyond the reading box adds to a pass (the
# tail of its impulse response beyond the box: tests/filters/test_regions.py measures it).
_TAIL = 1e-14
_MIN_REACH = 4  # the recursions' order: their first four samples read the line's edge value


def reading_box(shape, spacing, sigma: float, region) -> tuple[slice, ...]:
    """The part of an image whose values the LoG over ``region`` depends on (see the module).

    Parameters
    ----------
    shape : tuple of int
        The image's shape (z, y, x).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    sigma : float
        Gaussian width in mm.
    region : tuple of slice
        The box whose LoG is wanted.

    Returns
    -------
    tuple of slice
        ``region`` widened by ``ceil(sigma_voxels * ln(1 / _TAIL) / 1.3732) + 4`` voxels on
        each side, within the image.
    """
    decay = -max(_L1, _L2)
    box = []
    for window, step, size in zip(region, spacing, shape):
        reach = math.ceil(sigma / step * math.log(1.0 / _TAIL) / decay) + _MIN_REACH
        box.append(slice(max(window.start - reach, 0), min(window.stop + reach, size)))
    return tuple(box)


def laplacian_of_gaussian_region(image: np.ndarray, spacing, sigma: float, region) -> np.ndarray:
    """ITK's normalised LoG of ``image`` cropped to ``region``, computed only where needed.

    Parameters
    ----------
    image : ndarray, shape (z, y, x)
        Whole image (float64, as pyradiomics hands it to SimpleITK), at least 4 voxels per axis.
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    sigma : float
        Gaussian width in mm.
    region : tuple of slice
        ``slice(start, stop)`` per axis.

    Returns
    -------
    ndarray of float32, shaped as ``region``
        Equal, bit for bit, to SimpleITK's ``LaplacianRecursiveGaussianImageFilter`` (normalised
        across scale) of the whole image, cropped to ``region``.
    """
    n_dims = image.ndim
    total = np.zeros(tuple(window.stop - window.start for window in region), dtype=np.float32)
    for dim in range(n_dims):  # ITK axis order x, y, z = numpy axes reversed
        term = image
        directions = [dim] + [other for other in range(n_dims) if other != dim]
        for step, direction in enumerate(directions):
            axis = n_dims - 1 - direction
            coefficients = recursive_coefficients(sigma, spacing[axis], order=2 if step == 0 else 0)
            term = recursive_pass(term, axis, coefficients, region[axis])
        scale = 1.0 / (spacing[n_dims - 1 - dim] * spacing[n_dims - 1 - dim])
        total = (total.astype(np.float64) + term.astype(np.float64) * scale).astype(np.float32)
    return total


def recursive_coefficients(sigma: float, spacing: float, *, order: int) -> np.ndarray:
    """ITK's recursive Gaussian coefficients, normalised across scale, in ITK's arithmetic.

    Parameters
    ----------
    sigma : float
        Width in mm.
    spacing : float
        Voxel size along the filtered axis in mm.
    order : {0, 2}
        Smoothing (0) or second derivative (2, scaled by ``sigma^2``).

    Returns
    -------
    ndarray of float64, shape (20,)
        ``N0..N3, D1..D4, M1..M4, BN1..BN4, BM1..BM4``.
    """
    sigmad = sigma / spacing
    d, sd, dd, ed = _d_coefficients(sigmad)
    if order == 0:
        n, sn, _, _ = _n_coefficients(sigmad, 0)
        alpha0 = 2 * sn / sd - n[0]
        n = [value * (1.0 / alpha0) for value in n]
    else:
        n0, sn0, dn0, en0 = _n_coefficients(sigmad, 0)
        n2, sn2, dn2, en2 = _n_coefficients(sigmad, 2)
        beta = -(2 * sn2 - sd * n2[0]) / (2 * sn0 - sd * n0[0])
        n = [second + beta * zeroth for second, zeroth in zip(n2, n0)]
        sn, dn, en = sn2 + beta * sn0, dn2 + beta * dn0, en2 + beta * en0
        alpha2 = en * sd * sd - ed * sn * sd - 2 * dn * dd * sd + 2 * dd * dd * sn
        alpha2 /= sd * sd * sd
        normalisation = sigma * sigma
        n = [value * (normalisation / alpha2) for value in n]
    # ComputeRemainingCoefficients(symmetric=True)
    m = [n[1] - d[0] * n[0], n[2] - d[1] * n[0], n[3] - d[2] * n[0], -d[3] * n[0]]
    sum_n = n[0] + n[1] + n[2] + n[3]
    sum_m = m[0] + m[1] + m[2] + m[3]
    sum_d = 1.0 + d[0] + d[1] + d[2] + d[3]
    bn = [value * sum_n / sum_d for value in d]
    bm = [value * sum_m / sum_d for value in d]
    return np.array(n + d + m + bn + bm, dtype=np.float64)


def _d_coefficients(sigmad: float):
    cos1, cos2 = math.cos(_W1 / sigmad), math.cos(_W2 / sigmad)
    exp1, exp2 = math.exp(_L1 / sigmad), math.exp(_L2 / sigmad)
    d4 = exp1 * exp1 * exp2 * exp2
    d3 = -2 * cos1 * exp1 * exp2 * exp2
    d3 += -2 * cos2 * exp2 * exp1 * exp1
    d2 = 4 * cos2 * cos1 * exp1 * exp2
    d2 += exp1 * exp1 + exp2 * exp2
    d1 = -2 * (exp2 * cos2 + exp1 * cos1)
    sd = 1.0 + d1 + d2 + d3 + d4
    dd = d1 + 2 * d2 + 3 * d3 + 4 * d4
    ed = d1 + 4 * d2 + 9 * d3 + 16 * d4
    return [d1, d2, d3, d4], sd, dd, ed


def _n_coefficients(sigmad: float, order: int):
    a1, b1, a2, b2 = _A1[order], _B1[order], _A2[order], _B2[order]
    sin1, sin2 = math.sin(_W1 / sigmad), math.sin(_W2 / sigmad)
    cos1, cos2 = math.cos(_W1 / sigmad), math.cos(_W2 / sigmad)
    exp1, exp2 = math.exp(_L1 / sigmad), math.exp(_L2 / sigmad)
    n0 = a1 + a2
    n1 = exp2 * (b2 * sin2 - (a2 + 2 * a1) * cos2)
    n1 += exp1 * (b1 * sin1 - (a1 + 2 * a2) * cos1)
    n2 = (a1 + a2) * cos2 * cos1
    n2 -= b1 * cos2 * sin1 + b2 * cos1 * sin2
    n2 *= 2 * exp1 * exp2
    n2 += a2 * exp1 * exp1 + a1 * exp2 * exp2
    n3 = exp2 * exp1 * exp1 * (b2 * sin2 - a2 * cos2)
    n3 += exp1 * exp2 * exp2 * (b1 * sin1 - a1 * cos1)
    sn = n0 + n1 + n2 + n3
    dn = n1 + 2 * n2 + 3 * n3
    en = n1 + 4 * n2 + 9 * n3
    return [n0, n1, n2, n3], sn, dn, en


def recursive_pass(data: np.ndarray, axis: int, coefficients: np.ndarray, window: slice):
    """One recursive pass along ``axis`` over whole lines, kept only over ``window`` (float32)."""
    before = int(np.prod(data.shape[:axis], dtype=np.int64))
    after = int(np.prod(data.shape[axis + 1 :], dtype=np.int64))
    lines = data.reshape(before, data.shape[axis], after)
    out_shape = list(data.shape)
    out_shape[axis] = window.stop - window.start
    out = np.empty((before, out_shape[axis], after), dtype=np.float32)
    if after == 1:  # lines along the last axis: filter them side by side, transposed
        lines = lines.reshape(1, before, data.shape[axis]).transpose(0, 2, 1)
        transposed = np.empty((1, out_shape[axis], before), dtype=np.float32)
        _filter_lines(lines, transposed, int(window.start), coefficients)
        out = transposed.transpose(0, 2, 1)
    else:
        _filter_lines(lines, out, int(window.start), coefficients)
    return np.ascontiguousarray(out).reshape(out_shape)


@numba.njit(cache=True, parallel=True, nogil=True)
def _filter_lines(lines, out, start, c):  # pragma: no cover - compiled by Numba
    """Filter ``lines[o, :, j]`` for every ``o, j``; write samples ``start..`` to ``out[o, :, j]``.

    Blocks of ``_BLOCK`` neighbouring lines run side by side, the recursion along axis 1.
    """
    n_outer, length, n_inner = lines.shape
    n_blocks = (n_inner + _BLOCK - 1) // _BLOCK
    for task in numba.prange(n_outer * n_blocks):
        outer = task // n_blocks
        first = (task % n_blocks) * _BLOCK
        width = min(_BLOCK, n_inner - first)
        data = np.empty((length, width))
        for i in range(length):
            for k in range(width):
                data[i, k] = lines[outer, i, first + k]
        _filter_block(data, c, out[outer, :, first : first + width], start)


@numba.njit(cache=True, nogil=True)
def _filter_block(data, c, out, start):  # pragma: no cover - compiled by Numba
    """``RecursiveSeparableImageFilter::FilterDataArray`` on the columns of ``data`` (length, w).

    The same operations in the same order as ITK: ``out = a1 b1 + a2 b2 + a3 b3 + a4 b4``
    (``MathEMAMAMAM``) and ``out -= a1 b1 + a2 b2 + a3 b3 + a4 b4`` (``MathSMAMAMAM``). Samples
    ``start..start + len(out)`` of the sum of both recursions are written to ``out`` (float32).
    The recursions run on whole rows (one sample of every line), so that the compiler keeps
    the rows in vector registers. The causal recursion runs from the line's start up to the
    last sample kept, the anti-causal one from the line's end down to the first: the samples
    beyond are never read, and those computed are ITK's, operation for operation.
    """
    n0, n1, n2, n3, d1, d2, d3, d4 = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    m1, m2, m3, m4, bn1, bn2, bn3, bn4 = c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]
    bm1, bm2, bm3, bm4 = c[16], c[17], c[18], c[19]
    length, width = data.shape
    causal = np.empty((length, width))
    anticausal = np.empty((length, width))
    for k in range(width):
        v = data[0, k]  # the value assumed to extend from the border to infinity
        causal[0, k] = v * n0 + v * n1 + v * n2 + v * n3
        causal[1, k] = data[1, k] * n0 + v * n1 + v * n2 + v * n3
        causal[2, k] = data[2, k] * n0 + data[1, k] * n1 + v * n2 + v * n3
        causal[3, k] = data[3, k] * n0 + data[2, k] * n1 + data[1, k] * n2 + v * n3
        causal[0, k] -= v * bn1 + v * bn2 + v * bn3 + v * bn4
        causal[1, k] -= causal[0, k] * d1 + v * bn2 + v * bn3 + v * bn4
        causal[2, k] -= causal[1, k] * d1 + causal[0, k] * d2 + v * bn3 + v * bn4
        causal[3, k] -= causal[2, k] * d1 + causal[1, k] * d2 + causal[0, k] * d3 + v * bn4
    stop = start + out.shape[0]
    for i in range(4, stop):
        x0, x1, x2, x3 = data[i], data[i - 1], data[i - 2], data[i - 3]
        y1, y2, y3, y4 = causal[i - 1], causal[i - 2], causal[i - 3], causal[i - 4]
        y = causal[i]
        for k in range(width):
            term = x0[k] * n0 + x1[k] * n1 + x2[k] * n2 + x3[k] * n3
            y[k] = term - (y1[k] * d1 + y2[k] * d2 + y3[k] * d3 + y4[k] * d4)
    last = length - 1
    for k in range(width):
        v = data[last, k]
        anticausal[last, k] = v * m1 + v * m2 + v * m3 + v * m4
        anticausal[last - 1, k] = data[last, k] * m1 + v * m2 + v * m3 + v * m4
        anticausal[last - 2, k] = data[last - 1, k] * m1 + data[last, k] * m2 + v * m3 + v * m4
        anticausal[last - 3, k] = (
            data[last - 2, k] * m1 + data[last - 1, k] * m2 + data[last, k] * m3 + v * m4
        )
        anticausal[last, k] -= v * bm1 + v * bm2 + v * bm3 + v * bm4
        anticausal[last - 1, k] -= anticausal[last, k] * d1 + v * bm2 + v * bm3 + v * bm4
        anticausal[last - 2, k] -= (
            anticausal[last - 1, k] * d1 + anticausal[last, k] * d2 + v * bm3 + v * bm4
        )
        anticausal[last - 3, k] -= (
            anticausal[last - 2, k] * d1
            + anticausal[last - 1, k] * d2
            + anticausal[last, k] * d3
            + v * bm4
        )
    for i in range(length - 4, start, -1):
        x1, x2, x3, x4 = data[i], data[i + 1], data[i + 2], data[i + 3]
        y1, y2, y3, y4 = anticausal[i], anticausal[i + 1], anticausal[i + 2], anticausal[i + 3]
        y = anticausal[i - 1]
        for k in range(width):
            term = x1[k] * m1 + x2[k] * m2 + x3[k] * m3 + x4[k] * m4
            y[k] = term - (y1[k] * d1 + y2[k] * d2 + y3[k] * d3 + y4[k] * d4)
    for i in range(out.shape[0]):
        forward, backward, row = causal[start + i], anticausal[start + i], out[i]
        for k in range(width):
            row[k] = np.float32(forward[k] + backward[k])

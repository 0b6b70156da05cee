"""Voxel-wise and gradient image types, as pyradiomics defines them.

``square``, ``squareroot``, ``logarithm`` and ``exponential`` rescale intensities with the image's
maximum absolute value ``M = max|x|`` (over the whole array passed in, not only the ROI, as
pyradiomics does); ``gradient`` is the gradient magnitude of SimpleITK's
``GradientMagnitudeImageFilter``. All take NumPy or CuPy arrays and match pyradiomics to
floating-point rounding.

Where ``M = 0`` (an all-zero image) pyradiomics divides by zero and returns NaN or infinity; here
the limits are defined instead: ``square``, ``squareroot`` and ``logarithm`` give zeros and
``exponential`` gives ones (``e^0``).
"""

from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk

from radiopipe.xp import get_namespace


def square(image):
    """Square image type: :math:`f(x) = (x / \\sqrt{M})^2`.

    Examples
    --------
    >>> square(np.array([-4.0, 2.0])).tolist()
    [4.0, 1.0]
    """
    xp = get_namespace(image)
    values = image.astype(xp.float64)
    peak = float(xp.max(xp.abs(values)))
    if peak == 0:  # pyradiomics: 1 / sqrt(0) * 0 = NaN; the limit is 0
        return xp.zeros_like(values)
    return (1 / math.sqrt(peak) * values) ** 2


def square_root(image):
    """Square-root image type: :math:`f(x) = \\operatorname{sign}(x) \\sqrt{M |x|}`.

    Examples
    --------
    >>> square_root(np.array([-4.0, 1.0])).tolist()
    [-4.0, 2.0]
    """
    xp = get_namespace(image)
    values = image.astype(xp.float64)
    peak = xp.max(xp.abs(values))
    return xp.sign(values) * xp.sqrt(xp.abs(values) * peak)


def logarithm(image):
    """Logarithm image type: :math:`f(x) = \\operatorname{sign}(x) \\, c \\log(|x| + 1)`.

    :math:`c = M / \\log(M + 1)`, so the maximum absolute value is kept.

    Examples
    --------
    >>> [round(v, 4) for v in logarithm(np.array([-3.0, 1.0])).tolist()]
    [-3.0, 1.5]
    """
    xp = get_namespace(image)
    values = image.astype(xp.float64)
    peak = xp.max(xp.abs(values))
    if float(peak) == 0:  # pyradiomics: 0 * (0 / 0) = NaN; the limit is 0
        return xp.zeros_like(values)
    logs = xp.sign(values) * xp.log(xp.abs(values) + 1)
    return logs * (peak / xp.max(xp.abs(logs)))


def exponential(image):
    """Exponential image type: :math:`f(x) = e^{c x}`, :math:`c = \\log(M) / M`.

    Examples
    --------
    >>> exponential(np.array([0.0, 1.0, 4.0])).round(4).tolist()
    [1.0, 1.4142, 4.0]
    """
    xp = get_namespace(image)
    values = image.astype(xp.float64)
    peak = xp.max(xp.abs(values))
    if float(peak) == 0:  # pyradiomics: exp(log(0) / 0 * 0) = NaN; every x is 0, so e^0
        return xp.ones_like(values)
    return xp.exp(xp.log(peak) / peak * values)


def gradient_magnitude(image, spacing: tuple[float, ...], *, use_spacing: bool = True):
    """Gradient image type: magnitude of central differences, edges replicated.

    .. math::

        f = \\sqrt{\\sum_d \\left(\\frac{x_{i+1} - x_{i-1}}{2 s_d}\\right)^2}

    along each axis ``d`` with spacing ``s_d`` (1 when ``use_spacing`` is False), with the voxel
    beyond the border equal to the border voxel (ITK's zero-flux Neumann condition). NumPy arrays
    go through SimpleITK's ``GradientMagnitudeImageFilter`` (pyradiomics' own call,
    multi-threaded); CuPy arrays through ``central_difference_magnitude``. float32 result.

    Examples
    --------
    >>> gradient_magnitude(np.array([[0.0, 2.0, 4.0]]), (1.0, 2.0)).tolist()
    [[0.5, 1.0, 0.5]]
    """
    if get_namespace(image) is not np:
        return central_difference_magnitude(image, spacing, use_spacing=use_spacing)
    gradient = sitk.GradientMagnitudeImageFilter()
    gradient.SetUseImageSpacing(use_spacing)
    source = sitk.GetImageFromArray(image)
    source.SetSpacing([float(s) for s in reversed(spacing)])
    return sitk.GetArrayFromImage(gradient.Execute(source))


def central_difference_magnitude(image, spacing: tuple[float, ...], *, use_spacing: bool = True):
    """``gradient_magnitude`` on the array namespace (NumPy or CuPy): the GPU path.

    Computed in float64 as ITK does, returned as float32; equal to SimpleITK's result.
    """
    xp = get_namespace(image)
    values = image.astype(xp.float64)
    total = xp.zeros(values.shape, dtype=xp.float64)
    # ITK sums the axes x, y, z in that order (numpy axes reversed); kept for bitwise parity.
    for axis in reversed(range(values.ndim)):
        weight = 0.5 * (1.0 / spacing[axis]) if use_spacing else 0.5
        padding = [(0, 0)] * values.ndim
        padding[axis] = (1, 1)
        padded = xp.pad(values, padding, mode="edge")
        before = [slice(None)] * values.ndim
        after = [slice(None)] * values.ndim
        before[axis] = slice(0, -2)
        after[axis] = slice(2, None)
        derivative = weight * padded[tuple(before)] - weight * padded[tuple(after)]
        total += derivative * derivative
    return xp.sqrt(total).astype(xp.float32)

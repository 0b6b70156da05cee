"""Resampling to a new voxel spacing, with the two grid-alignment schemes named apart.

``resample_image_ibsi`` / ``resample_mask_ibsi``
    IBSI-1 (section "Interpolation", grid centres aligned): the new grid has
    ``n' = ceil(n s / s')`` voxels along each axis and the same centre as the original grid, so
    its first voxel lies at ``origin + (s (n - 1) - s' (n' - 1)) / 2`` along each axis. Masks are
    interpolated as fractions (linear by default) and kept where the fraction is >= 0.5 (IBSI's
    partial-volume threshold). Values are float64; rounding CT intensities to integers, as the
    IBSI configurations ask, is left to the caller (``numpy.rint``). Points beyond the original
    grid take the nearest voxel's value.
``resample_pyradiomics``
    ``radiomics.imageoperations.resampleImage``: the new grid is aligned to the original grid's
    corner, covers only the mask's bounding box plus ``pad_distance`` new voxels, and the image
    keeps its pixel type (interpolated values are cast back, e.g. truncated to int16); the mask
    is resampled with nearest neighbour. Parity with pyradiomics is exact: the same SimpleITK
    calls on the same grid.

Spacings are (z, y, x) in mm, like the arrays; ``None`` keeps an axis' spacing (pyradiomics
writes 0 for that), e.g. ``(None, 2.0, 2.0)`` for in-plane resampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk

from radiopipe.io import Volume
from radiopipe.preprocess.crop import bounding_box, crop_to_mask

INTERPOLATORS = {
    "nearest": sitk.sitkNearestNeighbor,
    "linear": sitk.sitkLinear,
    "bspline": sitk.sitkBSpline,
}
_PARTIAL_VOLUME_THRESHOLD = 0.5


def ibsi_grid(
    volume: Volume, new_spacing: Sequence[float | None]
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Shape (z, y, x) and origin (x, y, z) of the IBSI centre-aligned grid.

    Examples
    --------
    >>> volume = Volume(np.zeros((60, 201, 204)), (3.0, 0.977, 0.977), (0.0, 0.0, 0.0),
    ...                 (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    >>> ibsi_grid(volume, (2.0, 2.0, 2.0))[0]
    (90, 99, 100)
    """
    spacing = _new_spacing(volume, new_spacing)
    # round() guards exact ratios (e.g. 180 / 2) against floating-point noise above an integer.
    old = zip(volume.array.shape, volume.spacing, spacing)
    shape = tuple(math.ceil(round(n * s / t, 9)) for n, s, t in old)
    shift_zyx = [
        (s * (n - 1) - t * (m - 1)) / 2
        for n, s, m, t in zip(volume.array.shape, volume.spacing, shape, spacing)
    ]
    origin = np.asarray(volume.origin) + _direction(volume) @ np.asarray(shift_zyx[::-1])
    return shape, tuple(float(v) for v in origin)


def resample_image_ibsi(
    image: Volume, new_spacing: Sequence[float | None], *, interpolator: str = "linear"
) -> Volume:
    """Resample an image onto the IBSI centre-aligned grid.

    Parameters
    ----------
    image : Volume
        The image.
    new_spacing : sequence of float or None
        New voxel size (z, y, x) in mm; None keeps an axis.
    interpolator : {'nearest', 'linear', 'bspline'}
        SimpleITK interpolator; 'bspline' is cubic B-spline (IBSI's "tricubic spline").

    Returns
    -------
    Volume
        float64 image on the new grid.
    """
    spacing = _new_spacing(image, new_spacing)
    shape, origin = ibsi_grid(image, spacing)
    resampler = _resampler(image, spacing[::-1], shape[::-1], origin, _interpolator(interpolator))
    resampler.SetOutputPixelType(sitk.sitkFloat64)
    resampler.SetUseNearestNeighborExtrapolator(True)
    source = _to_sitk(image.array.astype(np.float64), image)
    return Volume.from_sitk(resampler.Execute(source))


def resample_mask_ibsi(
    mask: Volume,
    new_spacing: Sequence[float | None],
    *,
    interpolator: str = "linear",
    threshold: float = _PARTIAL_VOLUME_THRESHOLD,
) -> Volume:
    """Resample a mask onto the IBSI grid: interpolate the ROI fraction, keep it where >= 0.5.

    Returns
    -------
    Volume
        Boolean mask on the same grid as ``resample_image_ibsi`` gives the image.
    """
    fractions = resample_image_ibsi(
        Volume(mask.array.astype(np.float64), mask.spacing, mask.origin, mask.direction),
        new_spacing,
        interpolator=interpolator,
    )
    kept = fractions.array >= threshold
    return Volume(kept, fractions.spacing, fractions.origin, fractions.direction)


def resample_pyradiomics(
    image: Volume,
    mask: Volume,
    new_spacing: Sequence[float | None],
    *,
    interpolator: str = "bspline",
    pad_distance: int = 5,
) -> tuple[Volume, Volume]:
    """Resample image and mask as ``radiomics.imageoperations.resampleImage`` does.

    Parameters
    ----------
    image, mask : Volume
        Image and mask on the same grid.
    new_spacing : sequence of float or None
        New voxel size (z, y, x) in mm; None keeps an axis (pyradiomics' 0). Axes along which
        the ROI is one voxel thick are not resampled, as in pyradiomics.
    interpolator : {'nearest', 'linear', 'bspline'}
        Image interpolator (pyradiomics' default is B-spline).
    pad_distance : int
        New voxels kept around the ROI's bounding box (pyradiomics' ``padDistance``).

    Returns
    -------
    (Volume, Volume)
        Image (original pixel type) and boolean mask on the new, cropped grid. When the new
        spacing equals the old one (``numpy.allclose``), both are only cropped with padding.
    """
    if image.array.shape != mask.array.shape:
        raise ValueError(
            f"resample_pyradiomics needs image and mask on the same grid; got shapes "
            f"{image.array.shape} and {mask.array.shape}."
        )
    mask_spacing = np.asarray(mask.spacing[::-1], dtype=float)  # x, y, z from here on
    spacing = np.asarray(_new_spacing(mask, new_spacing)[::-1], dtype=float)
    bounds = bounding_box(mask.array)[::-1]
    low = np.array([lo for lo, _ in bounds], dtype=float)
    size = np.array([hi - lo + 1 for lo, hi in bounds], dtype=float)
    spacing = np.where(size != 1, spacing, mask_spacing)
    if np.allclose(np.asarray(image.spacing[::-1]), spacing):
        return crop_to_mask(image, mask, pad_distance)

    ratio = mask_spacing / spacing
    new_low = np.maximum(np.floor((low - 0.5) * ratio - pad_distance), 0)
    max_high = np.ceil(np.asarray(mask.array.shape[::-1]) * ratio) - 1
    new_high = np.minimum(np.ceil((low + size - 0.5) * ratio + pad_distance), max_high)
    new_size = np.array(new_high - new_low + 1, dtype=int).tolist()
    origin_index = 0.5 * (spacing - mask_spacing) / mask_spacing + new_low / ratio
    mask_image = _to_sitk(mask.array.astype(np.uint8), mask)
    origin = mask_image.TransformContinuousIndexToPhysicalPoint(origin_index.tolist())

    resampler = _resampler(mask, spacing, new_size, origin, _interpolator(interpolator))
    image_out = resampler.Execute(_to_sitk(image.array, image))
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    mask_out = Volume.from_sitk(resampler.Execute(mask_image))
    return Volume.from_sitk(image_out), Volume(
        mask_out.array.astype(bool), mask_out.spacing, mask_out.origin, mask_out.direction
    )


def _new_spacing(volume: Volume, new_spacing: Sequence[float | None]) -> tuple[float, ...]:
    if len(new_spacing) != volume.array.ndim:
        raise ValueError(
            f"The 'new_spacing' parameter must give one spacing per axis ({volume.array.ndim}). "
            f"Got {tuple(new_spacing)!r} instead."
        )
    spacing = tuple(
        float(old if new is None else new) for old, new in zip(volume.spacing, new_spacing)
    )
    if any(not s > 0 for s in spacing):
        raise ValueError(
            f"The 'new_spacing' parameter must hold values > 0 or None. "
            f"Got {tuple(new_spacing)!r} instead."
        )
    return spacing


def _interpolator(name: str) -> int:
    if name not in INTERPOLATORS:
        raise ValueError(
            f"The 'interpolator' parameter must be one of {sorted(INTERPOLATORS)}. "
            f"Got {name!r} instead."
        )
    return INTERPOLATORS[name]


def _direction(volume: Volume) -> np.ndarray:
    dimension = volume.array.ndim
    return np.reshape(np.asarray(volume.direction, dtype=float), (dimension, dimension))


def _to_sitk(array: np.ndarray, geometry: Volume) -> sitk.Image:
    return Volume(array, geometry.spacing, geometry.origin, geometry.direction).to_sitk()


def _resampler(
    geometry: Volume, spacing_xyz, size_xyz, origin_xyz, interpolator: int
) -> sitk.ResampleImageFilter:
    resampler = sitk.ResampleImageFilter()
    resampler.SetOutputSpacing([float(s) for s in spacing_xyz])
    resampler.SetSize([int(n) for n in size_xyz])
    resampler.SetOutputOrigin([float(o) for o in origin_xyz])
    resampler.SetOutputDirection(geometry.direction)
    resampler.SetInterpolator(interpolator)
    return resampler

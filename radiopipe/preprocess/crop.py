"""Cropping to the ROI's bounding box with padding, as pyradiomics' ``cropToTumorMask``.

The crop keeps voxels ``[max(low - pad, 0), min(high + pad, size - 1)]`` along each axis, where
``low`` and ``high`` are the first and last index holding ROI voxels: the padding is clipped at
the image border, never filled.
"""

from __future__ import annotations

import numba
import numpy as np

from radiopipe.io import Volume
from radiopipe.xp import get_namespace

COMPILED_SCAN_VOXELS = 1 << 16
"""NumPy masks (2D, 3D) of at most this many voxels are scanned in one compiled pass; larger
ones, and device arrays, by ``any`` along each axis, which reads most of a large image once."""


def bounding_box(mask) -> tuple[tuple[int, int], ...]:
    """First and last index (inclusive) of the ROI along each axis.

    Raises
    ------
    ValueError
        If the mask holds no voxel.

    Examples
    --------
    >>> mask = np.zeros((3, 4), dtype=bool); mask[1, 1:3] = True
    >>> bounding_box(mask)
    ((1, 1), (1, 2))
    """
    xp = get_namespace(mask)
    mask = mask.astype(bool, copy=False)
    if xp is np and mask.ndim in (2, 3) and mask.size <= COMPILED_SCAN_VOXELS:
        lows_and_highs = _bounds_3d(mask.reshape((1,) * (3 - mask.ndim) + mask.shape))
        if lows_and_highs[0, 0] < 0:
            raise ValueError("The mask is empty: it has no bounding box to crop to.")
        return tuple((int(low), int(high)) for low, high in lows_and_highs[3 - mask.ndim :])
    bounds = []
    for axis in range(mask.ndim):
        # Each axis searches only inside the bounds found so far: most of a large image is
        # read once, by the first axis.
        inside = mask[tuple(slice(low, high + 1) for low, high in bounds)]
        others = tuple(a for a in range(mask.ndim) if a != axis)
        occupied = xp.nonzero(xp.any(inside, axis=others))[0]
        if occupied.size == 0:
            raise ValueError("The mask is empty: it has no bounding box to crop to.")
        bounds.append((int(occupied[0]), int(occupied[-1])))
    return tuple(bounds)


@numba.njit(cache=True, nogil=True)
def _bounds_3d(mask):  # pragma: no cover - compiled
    """First and last index of the voxels of a 3D mask along each axis, (3, 2); -1 when empty."""
    bounds = np.full((3, 2), -1, dtype=np.int64)
    for z in range(mask.shape[0]):
        for y in range(mask.shape[1]):
            for x in range(mask.shape[2]):
                if not mask[z, y, x]:
                    continue
                if bounds[0, 0] < 0:
                    bounds[0, 0], bounds[1, 0], bounds[2, 0] = z, y, x
                bounds[1, 0] = min(bounds[1, 0], y)
                bounds[2, 0] = min(bounds[2, 0], x)
                bounds[0, 1] = z
                bounds[1, 1] = max(bounds[1, 1], y)
                bounds[2, 1] = max(bounds[2, 1], x)
    return bounds


def crop_slices(mask, pad_distance: int = 0) -> tuple[slice, ...]:
    """Slices cropping an array to the ROI's bounding box plus ``pad_distance`` voxels.

    Examples
    --------
    >>> mask = np.zeros((5, 5), dtype=bool); mask[2, 2] = True
    >>> crop_slices(mask, pad_distance=3)
    (slice(0, 5, None), slice(0, 5, None))
    """
    if not (isinstance(pad_distance, (int, np.integer)) and pad_distance >= 0):
        raise ValueError(
            f"The 'pad_distance' parameter must be an int >= 0. Got {pad_distance!r} instead."
        )
    return tuple(
        slice(max(low - pad_distance, 0), min(high + pad_distance + 1, size))
        for (low, high), size in zip(bounding_box(mask), mask.shape)
    )


def crop_to_mask(image: Volume, mask: Volume, pad_distance: int = 0) -> tuple[Volume, Volume]:
    """Crop an image and its mask to the ROI's bounding box plus padding, moving the origin.

    Parameters
    ----------
    image, mask : Volume
        Image and mask on the same grid.
    pad_distance : int
        Voxels kept around the bounding box (pyradiomics' ``padDistance``), >= 0.

    Returns
    -------
    (Volume, Volume)
        The cropped image and mask; their origin is the physical position of the first kept
        voxel, as SimpleITK's ``CropImageFilter`` sets it.
    """
    slices = crop_slices(mask.array, pad_distance)
    start_xyz = np.array([s.start for s in reversed(slices)], dtype=float)
    spacing_xyz = np.array(tuple(reversed(image.spacing)), dtype=float)
    direction = np.reshape(image.direction, (len(start_xyz), len(start_xyz)))
    origin = np.asarray(image.origin) + direction @ (start_xyz * spacing_xyz)
    origin = tuple(float(v) for v in origin)
    return (
        Volume(image.array[slices], image.spacing, origin, image.direction),
        Volume(mask.array[slices], mask.spacing, origin, mask.direction),
    )

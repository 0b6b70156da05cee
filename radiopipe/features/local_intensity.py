r"""Local intensity features (IBSI section 3.2, prefix ``loc_``; not in pyradiomics).

The *peak* of a voxel is the mean intensity of all image voxels whose centres lie within a sphere
of 1 cm³ around it, radius :math:`r = (3 / (4\pi))^{1/3}` cm :math:`\approx 6.20` mm. The sphere
takes every image voxel, inside the ROI or not; near the image border only the voxels that exist
are averaged (IBSI's reference implementation does the same for small ROIs).

- Local intensity peak: the highest peak among the ROI voxels of maximum intensity.
- Global intensity peak: the highest peak among all ROI voxels.

The local peak sums the few spheres exactly; the global peak convolves the image with the sphere
by FFT (round-off below 1e-12 relative).

Examples
--------
>>> image = np.zeros((1, 3, 3)); image[0, 1, 1] = 9.0
>>> compute_local_intensity(image, image > 0, (10.0, 10.0, 10.0))
{'LocalIntensityPeak': 9.0, 'GlobalIntensityPeak': 9.0}
"""

from __future__ import annotations

import numpy as np

from radiopipe.preprocess.crop import bounding_box
from radiopipe.xp import to_numpy

FEATURE_NAMES = ("LocalIntensityPeak", "GlobalIntensityPeak")

# Radius in mm of the sphere of 1 cm^3.
PEAK_RADIUS_MM = (3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0


def compute_local_intensity(image, mask, spacing) -> dict[str, float]:
    """Local and global intensity peaks of the ROI.

    Parameters
    ----------
    image : array of float, shape (z, y, x) or (y, x)
        Intensities of the whole image (the spheres reach outside the ROI).
    mask : array of bool, same shape
        The ROI; must hold at least one voxel.
    spacing : tuple of float
        Voxel spacing in mm, one per axis.

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order.
    """
    image, mask, spacing = _prepare(image, mask, spacing)
    offsets = sphere_offsets(spacing)
    # Voxels farther than the radius from the ROI never enter a sphere: crop them away.
    half = np.abs(offsets).max(axis=0)
    window = tuple(
        slice(max(low - h, 0), min(high + h + 1, n))
        for (low, high), h, n in zip(bounding_box(mask), half, image.shape)
    )
    image, mask = image[window].astype(np.float64), mask[window]
    values = image[mask]
    brightest = np.argwhere(mask & (image == values.max()))
    return {
        "LocalIntensityPeak": float(np.max(_peaks_at(image, brightest, offsets))),
        "GlobalIntensityPeak": float(np.max(_peaks_by_convolution(image, mask, offsets))),
    }


def _prepare(image, mask, spacing):
    image = to_numpy(image)
    mask = np.asarray(to_numpy(mask), dtype=bool)
    if image.shape != mask.shape:
        raise ValueError(
            "The 'mask' parameter of compute_local_intensity must have the image's shape "
            f"{image.shape}. Got {mask.shape} instead."
        )
    if not mask.any():
        raise ValueError(
            "The 'mask' parameter of compute_local_intensity must hold at least one voxel. "
            "Got an empty mask instead."
        )
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != image.ndim or min(spacing) <= 0:
        raise ValueError(
            f"The 'spacing' parameter of compute_local_intensity must be {image.ndim} floats > 0. "
            f"Got {spacing!r} instead."
        )
    return image, mask, spacing


def sphere_offsets(spacing, radius: float = PEAK_RADIUS_MM) -> np.ndarray:
    """Integer voxel offsets (n, ndim) whose distance in mm is at most ``radius``."""
    half = [int(np.floor(radius / s)) for s in spacing]
    grid = np.stack(np.meshgrid(*[np.arange(-h, h + 1) for h in half], indexing="ij"), axis=-1)
    grid = grid.reshape(-1, len(spacing))
    return grid[np.sqrt(((grid * np.asarray(spacing)) ** 2).sum(axis=1)) <= radius]


def reach(spacing) -> np.ndarray:
    """Voxels the peak spheres reach past a centre, per axis (ints, one per axis)."""
    return np.abs(sphere_offsets(spacing)).max(axis=0)


def _peaks_at(image: np.ndarray, centres: np.ndarray, offsets: np.ndarray, block: int = 4096):
    """Mean of the existing image voxels within the sphere around each centre (exact sums)."""
    peaks = np.empty(len(centres))
    shape = np.asarray(image.shape)
    for start in range(0, len(centres), block):
        points = centres[start : start + block, None, :] + offsets[None, :, :]
        inside = np.all((points >= 0) & (points < shape), axis=-1)
        clipped = np.clip(points, 0, shape - 1)
        sums = np.where(inside, image[tuple(np.moveaxis(clipped, -1, 0))], 0.0).sum(axis=1)
        peaks[start : start + block] = sums / inside.sum(axis=1)
    return peaks


def _peaks_by_convolution(image: np.ndarray, mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Peaks of every ROI voxel, from FFT convolutions of the image and of its support."""
    # Imported here: scipy.signal brings scipy.stats and more (~60 MiB, 0.4 s) into every
    # extraction, while only this IBSI-only family's large ROIs convolve.
    from scipy.signal import fftconvolve

    half = np.abs(offsets).max(axis=0)
    kernel = np.zeros(tuple(2 * half + 1))
    kernel[tuple((offsets + half).T)] = 1.0
    sums = fftconvolve(image, kernel, mode="same")
    # Counts are integers; rounding removes the FFT's round-off.
    counts = np.rint(fftconvolve(np.ones(image.shape), kernel, mode="same"))
    return (sums / counts)[mask]

"""Perturbations of one image and its ROI mask, for the robustness of features (as MIRP does).

Plain SimpleITK and array functions; each returns new images on the input's grid (origin,
spacing, direction unchanged) and draws any randomness from the generator it is given, so a
perturbation is deterministic under a seed.

- :func:`estimate_noise`: the image's noise standard deviation by Immerkaer's method.
- :func:`add_noise`: additive Gaussian noise at a given standard deviation.
- :func:`rotate`, :func:`translate`: the image interpolated linearly; the mask interpolated
  linearly as a 0/1 image into partial-volume fractions, then kept where the fraction is at least
  0.5 (MIRP's mask interpolation); outside the original grid the nearest voxel is extended.
- :func:`adapt_volume`: the ROI grown or shrunk to a target volume by its signed distance map.
- :func:`randomise_contour`: the ROI's boundary moved by a smooth random displacement field.
"""

from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from radiopipe.errors import CaseError

# Immerkaer's noise kernel: the difference of two Laplacians, blind to linear intensity ramps.
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def estimate_noise(values: np.ndarray) -> float:
    """Standard deviation of the image's noise, by Immerkaer's method.

    Each plane (the last two axes) is convolved with the kernel ``N = [[1, -2, 1], [-2, 4, -2],
    [1, -2, 1]]``; the noise is ``sigma = sqrt(pi / 2) / (6 (W - 2) (H - 2)) * sum |I * N|`` over
    the plane's interior, averaged over the planes (J. Immerkaer, "Fast noise variance
    estimation", Computer Vision and Image Understanding 64(2), 1996).

    Parameters
    ----------
    values : ndarray
        A 2D (y, x) or 3D (z, y, x) image.

    Returns
    -------
    float
        The noise's standard deviation; 0 for planes smaller than 3 x 3.

    Examples
    --------
    >>> noise = np.random.default_rng(0).normal(0, 5, (8, 64, 64))
    >>> round(estimate_noise(noise))
    5
    """
    planes = np.asarray(values, dtype=np.float64)
    planes = planes.reshape((-1, *planes.shape[-2:]))
    height, width = planes.shape[-2:]
    if height < 3 or width < 3:
        return 0.0
    total = 0.0
    for plane in planes:
        response = ndimage.correlate(plane, _IMMERKAER, mode="nearest")[1:-1, 1:-1]
        total += np.abs(response).sum()
    return float(math.sqrt(math.pi / 2) * total / (6 * (width - 2) * (height - 2) * len(planes)))


def add_noise(image: sitk.Image, sigma: float, rng: np.random.Generator) -> sitk.Image:
    """The image plus Gaussian noise of standard deviation ``sigma`` at every voxel (float32)."""
    values = sitk.GetArrayFromImage(image).astype(np.float32)
    values += rng.normal(0.0, sigma, values.shape).astype(np.float32)
    return _like(values, image)


def roi_centre(mask: sitk.Image) -> tuple[float, ...]:
    """The physical point of the ROI's centre of mass."""
    index = np.argwhere(sitk.GetArrayViewFromImage(mask) > 0).mean(axis=0)[::-1]  # (x, y, z)
    return mask.TransformContinuousIndexToPhysicalPoint([float(i) for i in index])


def rotate(image: sitk.Image, mask: sitk.Image, degrees: float) -> tuple[sitk.Image, sitk.Image]:
    """Image and mask rotated by ``degrees`` in the image's plane, about the ROI's centre.

    The axis is the image's slice normal (its direction's third column) through the ROI's
    centre of mass; a 2D image turns in its plane.
    """
    centre = roi_centre(mask)
    radians = math.radians(degrees)
    if image.GetDimension() == 2:
        transform = sitk.Euler2DTransform(centre, radians)
    else:
        axis = np.asarray(image.GetDirection(), dtype=float).reshape(3, 3)[:, 2]
        transform = sitk.VersorTransform(tuple(axis), radians)
        transform.SetCenter(centre)
    return _resample(image, mask, transform.GetInverse())


def translate(image: sitk.Image, mask: sitk.Image,
              fraction: float) -> tuple[sitk.Image, sitk.Image]:
    """Image and mask shifted by ``fraction`` of the voxel spacing along every image axis."""
    dimension = image.GetDimension()
    direction = np.asarray(image.GetDirection(), dtype=float).reshape(dimension, dimension)
    offset = direction @ (fraction * np.asarray(image.GetSpacing(), dtype=float))
    # The resampler maps output points to input points: content moves by +offset.
    transform = sitk.TranslationTransform(dimension, tuple(float(-o) for o in offset))
    return _resample(image, mask, transform)


def signed_distance(mask: np.ndarray, spacing) -> np.ndarray:
    """Signed distance (mm) to the ROI's boundary: ``-`` the distance to the nearest outside
    voxel for an ROI voxel, ``+`` the distance to the nearest ROI voxel for the others, so
    ``distance <= 0`` is the ROI itself and the distance grows through every layer around it."""
    inside = mask.astype(bool)
    sampling = tuple(float(s) for s in spacing)
    outward = ndimage.distance_transform_edt(~inside, sampling=sampling)
    inward = ndimage.distance_transform_edt(inside, sampling=sampling)
    return np.where(inside, -inward, outward)


def adapt_volume(mask: sitk.Image, fraction: float, *, case_id: str) -> sitk.Image:
    """The ROI grown (``fraction > 0``) or shrunk (``< 0``) to ``(1 + fraction)`` times its volume.

    Voxels are ranked by the signed distance map (:func:`signed_distance`), so the new ROI is
    ``{distance <= t}`` for the threshold ``t`` that the target volume reaches, plus part of the
    next layer: voxels of one distance are ranked by the mask smoothed by a Gaussian of one voxel
    (the more of their surroundings lie in the ROI, the earlier they join and the later they
    leave). The volume then hits the target to the voxel (growth stops at the image's edge),
    where a threshold alone would move whole layers of voxels at once.

    Raises
    ------
    CaseError
        When the target volume is under one voxel (the shrink would leave no ROI).
    """
    values = sitk.GetArrayViewFromImage(mask) > 0
    count = int(values.sum())
    target = min(round(count * (1.0 + fraction)), values.size)
    if target < 1:
        smallest = -(1 - 1 / count) if count > 1 else 0.0
        raise CaseError(case_id, f"robustness.volume fraction {fraction:g} shrinks its "
                        f"{count}-voxel ROI to nothing; use fractions above {smallest:.3f}")
    distance = signed_distance(values, mask.GetSpacing()[::-1])
    depth = ndimage.gaussian_filter(values.astype(np.float64), sigma=1.0, mode="constant")
    order = np.lexsort((-depth.ravel(), distance.ravel()))
    kept = np.zeros(values.size, dtype=bool)
    kept[order[:target]] = True
    return _mask_like(kept.reshape(values.shape), mask)


def randomise_contour(mask: sitk.Image, rng: np.random.Generator, *, amplitude: float,
                      smoothing: float, case_id: str) -> sitk.Image:
    """The ROI's boundary moved by a smooth random displacement.

    White noise smoothed by a Gaussian of ``smoothing`` voxels and scaled to a standard deviation
    of ``amplitude`` voxels (of the smallest spacing) is added to the signed distance map (in
    those voxels, the boundary at +-0.5); the new ROI is where the sum is at most 0, so the
    boundary moves in and out by about ``amplitude`` voxels in patches ``smoothing`` voxels wide.
    A simpler stand-in for MIRP's supervoxel-based randomisation.

    Raises
    ------
    CaseError
        When the randomised ROI is empty.
    """
    values = sitk.GetArrayViewFromImage(mask) > 0
    unit = min(mask.GetSpacing())
    distance = signed_distance(values, mask.GetSpacing()[::-1]) / unit
    distance = np.where(values, distance + 0.5, distance - 0.5)
    field = ndimage.gaussian_filter(rng.standard_normal(values.shape), sigma=smoothing)
    spread = field.std()
    if spread > 0:
        field *= amplitude / spread
    kept = distance + field <= 0
    if not kept.any():
        raise CaseError(case_id, "robustness.contour left an empty ROI; lower "
                        "robustness.contour.amplitude")
    return _mask_like(kept, mask)


def _resample(image: sitk.Image, mask: sitk.Image,
              transform: sitk.Transform) -> tuple[sitk.Image, sitk.Image]:
    """Image (linear) and mask (partial volume >= 0.5) through ``transform`` on their own grid."""
    resampler = sitk.ResampleImageFilter()
    resampler.SetReferenceImage(image)
    resampler.SetTransform(transform)
    resampler.SetInterpolator(sitk.sitkLinear)
    resampler.SetOutputPixelType(sitk.sitkFloat32)
    resampler.UseNearestNeighborExtrapolatorOn()
    moved = resampler.Execute(sitk.Cast(image, sitk.sitkFloat32))
    fractions = resampler.Execute(sitk.Cast(mask > 0, sitk.sitkFloat32))
    return moved, _mask_like(sitk.GetArrayViewFromImage(fractions) >= 0.5, mask)


def _like(values: np.ndarray, reference: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(values)
    out.CopyInformation(reference)
    return out


def _mask_like(values: np.ndarray, reference: sitk.Image) -> sitk.Image:
    return _like(values.astype(np.uint8), reference)

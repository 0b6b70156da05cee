"""Image types (filtered images), named and computed as pyradiomics names and computes them.

Every filter takes a (z, y, x) array (NumPy or CuPy) and, where it needs one, the spacing in mm,
and returns arrays of the same namespace; multi-output filters return ``{name: array}``. The
closed table ``FILTERS`` maps pyradiomics' image-type names (those of `radiopipe.image_types`)
to them, and ``compute_image_types`` runs a selection. ``pyradiomics_filter_input`` prepares
image and mask as ``RadiomicsFeatureExtractor`` does before it filters, which decides the voxels
near the border of every filtered image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from radiopipe.filters.lbp import local_binary_pattern_2d
from radiopipe.filters.lbp3d import local_binary_pattern_3d
from radiopipe.filters.log import laplacian_of_gaussian, log_images
from radiopipe.filters.simple import exponential, gradient_magnitude, logarithm, square, square_root
from radiopipe.filters.wavelet import wavelet_images
from radiopipe.io import Volume
from radiopipe.preprocess.crop import crop_to_mask
from radiopipe.preprocess.resample import resample_pyradiomics

__all__ = [
    "FILTERS",
    "compute_image_types",
    "exponential",
    "gradient_magnitude",
    "laplacian_of_gaussian",
    "local_binary_pattern_2d",
    "log_images",
    "logarithm",
    "pyradiomics_filter_input",
    "square",
    "square_root",
    "wavelet_images",
]


def _original(image, spacing, *, region=None) -> dict:
    return {"original": _crop(image, region)}


def _log(image, spacing, *, sigmas: Sequence[float], planar: bool = False, region=None) -> dict:
    if not planar:
        return log_images(image, spacing, sigmas, region=region)
    # A 2D image is filtered in its plane (pyradiomics' LoG of a 2D image); names keep '3D'.
    in_plane = None if region is None else region[1:]
    images = log_images(image[0], spacing[1:], sigmas, region=in_plane)
    return {name: filtered[None] for name, filtered in images.items()}


def _wavelet(
    image, spacing, *, wavelet="coif1", level=1, start_level=0, force_2d_axis=None, dtype=None,
    region=None,
) -> dict:
    # pyradiomics' force2D leaves the slice axis (force2Ddimension) out of the transform.
    axes = tuple(axis for axis in reversed(range(image.ndim)) if axis != force_2d_axis)
    return wavelet_images(image, wavelet=wavelet, level=level, start_level=start_level, axes=axes,
                          region=region, dtype=dtype)


# The voxel-wise filters rescale by the maximum over the whole image and the gradient reads the
# neighbours, so these filter the whole image and crop the result.
def _square(image, spacing, *, region=None) -> dict:
    return {"square": _crop(square(image), region)}


def _square_root(image, spacing, *, region=None) -> dict:
    return {"squareroot": _crop(square_root(image), region)}


def _logarithm(image, spacing, *, region=None) -> dict:
    return {"logarithm": _crop(logarithm(image), region)}


def _exponential(image, spacing, *, region=None) -> dict:
    return {"exponential": _crop(exponential(image), region)}


def _gradient(image, spacing, *, use_spacing: bool = True, region=None) -> dict:
    return {"gradient": _crop(gradient_magnitude(image, spacing, use_spacing=use_spacing), region)}


def _lbp_2d(
    image, spacing, *, radius=1.0, samples=8, method="uniform", axis=0, region=None
) -> dict:
    return {
        "lbp-2D": local_binary_pattern_2d(
            image, radius=radius, samples=samples, method=method, axis=axis, region=region
        )
    }


def _lbp_3d(image, spacing, *, levels=2, radius=1.0, subdivisions=1, region=None) -> dict:
    return local_binary_pattern_3d(
        image, levels=levels, radius=radius, subdivisions=subdivisions, region=region
    )


def _crop(image, region):
    return image if region is None else image[region]


FILTERS: dict[str, Callable[..., dict]] = {
    "Original": _original,
    "LoG": _log,
    "Wavelet": _wavelet,
    "Square": _square,
    "SquareRoot": _square_root,
    "Logarithm": _logarithm,
    "Exponential": _exponential,
    "Gradient": _gradient,
    "LBP2D": _lbp_2d,
    "LBP3D": _lbp_3d,
}
"""pyradiomics image-type name (``radiopipe.image_types.IMAGE_TYPES[...].pyradiomics``) ->
``f(image, spacing, **params) -> {image name: array}``.

Parameters: LoG ``sigmas`` (mm, required) and ``planar`` (the image is one slice of a 2D image,
filtered in its plane along axes 1 and 2); Wavelet ``wavelet``, ``level``, ``start_level``,
``force_2d_axis``, ``dtype``; Gradient ``use_spacing``; LBP2D ``radius``, ``samples``,
``method``, ``axis``; LBP3D ``levels``, ``radius``, ``subdivisions``; the others none. Every
filter also takes ``region`` (see `compute_image_types`).
"""


def compute_image_types(
    image,
    spacing: tuple[float, ...],
    image_types: Mapping[str, Mapping],
    *,
    region: tuple[slice, ...] | None = None,
) -> dict:
    """Compute the selected image types of one image.

    Parameters
    ----------
    image : array
        (z, y, x) image, prepared as the extraction needs (see ``pyradiomics_filter_input``).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    image_types : mapping of str to mapping
        ``{'LoG': {'sigmas': [1.0, 2.0]}, 'Wavelet': {}, ...}``; keys from ``FILTERS``.
    region : tuple of slice, optional
        Return the filtered images only over this box (one ``slice(start, stop)`` per axis,
        e.g. the ROI's bounding box). Each equals the whole filtered image cropped to it; the
        LoG and wavelet filters then compute little more than the box (see ``log_images`` and
        ``wavelet_images``).

    Returns
    -------
    dict of str to array
        Filtered images by pyradiomics' image name ('original', 'log-sigma-1-0-mm-3D',
        'wavelet-LLH', 'square', ...), in the order of ``image_types``.

    Examples
    --------
    >>> import numpy as np
    >>> selection = {'Original': {}, 'Square': {}}
    >>> list(compute_image_types(np.ones((4, 4, 4)), (1.0, 1.0, 1.0), selection))
    ['original', 'square']
    """
    unknown = sorted(set(image_types) - set(FILTERS))
    if unknown:
        raise ValueError(f"Unknown image types {unknown}; choose from {sorted(FILTERS)}.")
    images = {}
    for name, params in image_types.items():
        images.update(FILTERS[name](image, spacing, **params, region=region))
    return images


def pyradiomics_filter_input(
    image: Volume,
    mask: Volume,
    *,
    resampled_spacing: Sequence[float | None] | None = None,
    interpolator: str = "bspline",
    pad_distance: int = 5,
    pre_crop: bool = False,
) -> tuple[Volume, Volume]:
    """Image and mask as ``RadiomicsFeatureExtractor.loadImage`` hands them to the filters.

    With ``resampled_spacing`` the pair is resampled (``resample_pyradiomics``) onto a grid
    covering the ROI's bounding box plus ``pad_distance`` voxels; otherwise, with ``pre_crop``,
    both are cropped to the bounding box plus ``pad_distance`` voxels; otherwise the whole image
    is filtered (pyradiomics' default). Filtered images then get cropped to the bounding box
    without padding before features are computed.

    Parameters
    ----------
    image, mask : Volume
        Image and boolean mask on the same grid.
    resampled_spacing : sequence of float or None, optional
        pyradiomics' ``resampledPixelSpacing`` in (z, y, x) order, None for "keep this axis".
    interpolator : {'nearest', 'linear', 'bspline'}
        pyradiomics' ``interpolator``.
    pad_distance : int
        pyradiomics' ``padDistance``.
    pre_crop : bool
        pyradiomics' ``preCrop``.
    """
    if resampled_spacing is not None:
        return resample_pyradiomics(
            image, mask, resampled_spacing, interpolator=interpolator, pad_distance=pad_distance
        )
    if pre_crop:
        return crop_to_mask(image, mask, pad_distance)
    return image, mask

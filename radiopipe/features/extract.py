"""radiopipe's own extraction of one case: preprocessing, image types, then every family.

The order follows pyradiomics' ``RadiomicsFeatureExtractor.execute`` so that, with
``definitions: pyradiomics`` and pyradiomics' settings, the values equal pyradiomics':

1. optional intensity normalisation of the whole image;
2. optional resampling (pyradiomics' grid, cropped to the ROI plus 5 voxels, or IBSI's
   centre-aligned grid);
3. optional re-segmentation by intensity range; shape uses the mask before it (the morphological
   mask), every other family the re-segmented one (the intensity mask);
4. the image types (original, LoG, wavelet, ...), each filtered as over the whole prepared image
   but computed only over the ROI's bounding box (the region the families read; see
   ``compute_image_types(..., region=...)``), bit for bit the crop of the whole filtered image;
5. each filtered image is discretised on its own, and every configured family is computed on it.
"""

from __future__ import annotations

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.local_intensity import sphere_offsets
from radiopipe.features.registry import (
    FAMILIES,
    SHAPE_2D,
    Family,
    plain_aggregation,
    pyradiomics_feature_names,
    reported,
)
from radiopipe.filters import compute_image_types, pyradiomics_filter_input
from radiopipe.io import Volume
from radiopipe.preprocess.crop import crop_slices
from radiopipe.preprocess.discretise import (
    Discretised,
    fixed_bin_number,
    fixed_bin_size,
    fixed_bin_size_pyradiomics,
)
from radiopipe.preprocess.intensity import normalise
from radiopipe.preprocess.resample import resample_image_ibsi, resample_mask_ibsi
from radiopipe.preprocess.resegment import resegment

_FILTERS = {
    "original": "Original",
    "log": "LoG",
    "wavelet": "Wavelet",
    "square": "Square",
    "squareroot": "SquareRoot",
    "logarithm": "Logarithm",
    "exponential": "Exponential",
    "gradient": "Gradient",
}

# Image types whose filters read the image as float64 themselves (see extract_features).
_READ_AS_FLOAT64 = {"original", "log", "wavelet"}


def extract_features(image: Volume, mask: Volume, settings: FeatureConfig) -> dict[str, float]:
    """Every configured feature of one ROI.

    Parameters
    ----------
    image : Volume
        Scalar image, 2D or 3D.
    mask : Volume
        ROI mask on the image's grid (non-zero inside).
    settings : FeatureConfig
        Families, image types, discretisation, aggregation, resampling and re-segmentation.

    Returns
    -------
    dict of str to float
        ``{image_type}__{family}__{feature}`` -> value.

    Notes
    -----
    Every family reads the filtered images only inside the ROI's bounding box (local intensity
    a sphere radius around it), so the filters compute them only over that region
    (``compute_image_types(..., region=...)``), bit for bit the crop of the whole filtered image.
    """
    image, mask, planar = _as_volumes_3d(image, mask)
    image, mask = _prepare_grid(image, mask, settings)
    intensity_mask = _intensity_mask(image.array, mask.array, settings)
    # The morphological mask's box holds the intensity mask: families crop to their ROI
    # themselves, and GLDZM measures distances to the morphological mask's edge within it.
    box = crop_slices(mask.array)
    features: dict[str, float] = {}
    if "shape" in settings.families:
        features.update(_shape(mask, image, box, planar, settings, intensity_mask=intensity_mask))
    region = _filter_region(box, intensity_mask, image.spacing, settings)
    inner = tuple(slice(b.start - r.start, b.stop - r.start) for b, r in zip(box, region))
    roi, edge = intensity_mask[box], mask.array[box]
    # The voxel-wise and gradient filters see the whole image in float64, as pyradiomics' do;
    # the LoG and wavelet read their inputs as float64 themselves, 'original' only the region.
    whole = image.array
    if not set(settings.image_types) <= _READ_AS_FLOAT64:
        whole = whole.astype(np.float64, copy=False)
    selection = _selection(settings)
    filtered_images = compute_image_types(whole, image.spacing, selection, region=region)
    for name, filtered in filtered_images.items():
        filtered = np.asarray(filtered, dtype=np.float64)
        features.update(
            _families_of_image(name, filtered[inner], roi, edge, image.spacing, settings)
        )
        if "local_intensity" in settings.families:
            # The peak spheres reach past the ROI: this family sees the wider region.
            peaks = FAMILIES["local_intensity"].compute(
                filtered, intensity_mask[region], image.spacing
            )
            features.update({f"{name}__local_intensity__{k}": v for k, v in peaks.items()})
    return reported(features, settings.definitions)


def _as_volumes_3d(image: Volume, mask: Volume) -> tuple[Volume, Volume, bool]:
    """Boolean mask, 2D inputs as one-slice volumes; the image keeps its dtype (see callers)."""
    planar = image.array.ndim == 2
    array, roi = image.array, mask.array != 0
    spacing = image.spacing
    if planar:
        array, roi, spacing = array[None], roi[None], (1.0, *spacing)
    as_3d = Volume(array, spacing, image.origin, image.direction)
    return as_3d, Volume(roi, spacing, mask.origin, mask.direction), planar


def _filter_region(box, intensity_mask, spacing, settings: FeatureConfig) -> tuple[slice, ...]:
    """Box over which the families read the filtered images: the ROI's bounding box, widened by
    the peak sphere's reach when local intensity is computed (as that family crops itself)."""
    if "local_intensity" not in settings.families:
        return box
    reach = np.abs(sphere_offsets(spacing)).max(axis=0)
    return tuple(
        slice(max(window.start - int(h), 0), min(window.stop + int(h), n))
        for window, h, n in zip(box, reach, intensity_mask.shape)
    )


def _prepare_grid(image: Volume, mask: Volume, settings: FeatureConfig) -> tuple[Volume, Volume]:
    if settings.normalize or settings.resampled_spacing is not None:
        array = image.array.astype(np.float64, copy=False)
        image = Volume(array, image.spacing, image.origin, image.direction)
    if settings.normalize:
        image = Volume(normalise(image.array), image.spacing, image.origin, image.direction)
    if settings.resampled_spacing is None:
        return image, mask
    spacing_zyx = _spacing_zyx(settings.resampled_spacing)
    if settings.grid_alignment == "ibsi":
        resampled = resample_image_ibsi(image, spacing_zyx, interpolator=settings.interpolator)
        return resampled, resample_mask_ibsi(mask, spacing_zyx)
    resampled, resampled_mask = pyradiomics_filter_input(
        image, mask, resampled_spacing=spacing_zyx, interpolator=settings.interpolator
    )
    array = resampled.array.astype(np.float64)
    return Volume(array, resampled.spacing, resampled.origin, resampled.direction), resampled_mask


def _spacing_zyx(spacing_xyz) -> tuple[float | None, ...]:
    """Config spacing (x, y, z as pyradiomics' resampledPixelSpacing; 0 or None keeps an axis)."""
    values = [None if not s else float(s) for s in spacing_xyz]
    if len(values) == 2:
        values.append(None)
    return tuple(reversed(values))


def _intensity_mask(image: np.ndarray, mask: np.ndarray, settings: FeatureConfig) -> np.ndarray:
    """The ROI after re-segmentation (range and outliers, IBSI); an error if nothing is left."""
    if settings.resegment_range is None and settings.resegment_outliers is None:
        return mask
    kept = resegment(
        image,
        mask,
        intensity_range=None if settings.resegment_range is None else tuple(settings.resegment_range),
        outlier_sigmas=settings.resegment_outliers,
    )
    if not kept.any():
        raise ValueError(
            f"re-segmentation (range {settings.resegment_range}, outliers "
            f"{settings.resegment_outliers} sd) leaves no voxel of the ROI; widen "
            "features.resegment_range"
        )
    return kept


def _shape(
    mask: Volume, image: Volume, box, planar: bool, settings: FeatureConfig, intensity_mask=None
) -> dict[str, float]:
    mode = settings.definitions
    if planar:
        values = SHAPE_2D.compute(mask.array[0], mask.spacing[1:], mode=mode)
    else:
        # Under pyradiomics definitions the slow IBSI-only extras are not reported: skip them.
        shape = FAMILIES["shape"]
        wanted = None
        if mode == "pyradiomics":
            wanted = sorted(pyradiomics_feature_names()["shape"] & set(shape.feature_names))
        values = shape.compute(
            mask.array[box],
            mask.spacing,
            mode=mode,
            image=image.array[box],
            intensity_mask=None if intensity_mask is None else intensity_mask[box],
            features=wanted,
        )
    return {f"original__shape__{k}": v for k, v in values.items()}


def _selection(settings: FeatureConfig) -> dict[str, dict]:
    params = {
        "log": {"sigmas": list(settings.log_sigmas)},
        "wavelet": {
            "wavelet": settings.wavelet,
            # pyradiomics' force2D leaves the slice axis out of the wavelet transform.
            "force_2d_axis": 0 if settings.aggregation.startswith("2") else None,
        },
    }
    return {_FILTERS[t]: params.get(t, {}) for t in settings.image_types}


def _discretise(values: np.ndarray, settings: FeatureConfig) -> Discretised:
    if settings.discretisation == "fixed_bin_number":
        return fixed_bin_number(values, settings.bin_count)
    if settings.discretisation == "fixed_bin_size":
        low = settings.resegment_range[0] if settings.resegment_range is not None else None
        return fixed_bin_size(values, settings.bin_width, lower_bound=low)
    return fixed_bin_size_pyradiomics(values, settings.bin_width)


def _families_of_image(
    image_name: str, image: np.ndarray, roi: np.ndarray, edge: np.ndarray, spacing, settings
) -> dict[str, float]:
    """Every non-shape family of one filtered image (``roi``: intensity mask, ``edge``:
    morphological mask, both cropped like ``image``)."""
    discretised = _discretise(image[roi], settings)
    levels = np.zeros(image.shape, dtype=np.int32)
    levels[roi] = discretised.levels
    n_levels = discretised.n_levels
    out = {}
    for family_name in settings.families:
        family = FAMILIES[family_name]
        if family.kind == "morphology" or family.name == "local_intensity":
            continue
        values = _compute(family, image, roi, edge, levels, n_levels, spacing, settings)
        out.update({f"{image_name}__{family.name}__{k}": v for k, v in values.items()})
    return out


def _compute(
    family: Family, image, roi, edge, levels, n_levels, spacing, settings
) -> dict[str, float]:
    mode = settings.definitions
    if family.name == "firstorder":
        return family.compute(
            image, roi, spacing=spacing, mode=mode, levels=levels, n_levels=n_levels
        )
    if family.name == "intensity_histogram":
        return family.compute(levels, roi, n_levels)
    if family.name == "intensity_volume":
        return family.compute(levels, roi, step=1.0, lower_bound=1.0, upper_bound=float(n_levels))
    aggregation = settings.aggregation
    if not family.directional:
        aggregation = plain_aggregation(aggregation)
    # IBSI measures GLDZM distances to the edge of the morphological mask.
    extra = {"roi_edge_mask": edge} if family.name == "gldzm" else {}
    return family.compute(levels, roi, n_levels, aggregation=aggregation, mode=mode, **extra)

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
   Under pyradiomics definitions, in the pixel type pyradiomics bins that image in
   (`radiopipe.features.binning.bin_dtype`).

The steps are public, so that every consumer of the engine prepares a case the same way (the GPU
backend's host preparation, the feature maps): :func:`prepare_case` (steps 1-3, a
:class:`PreparedCase`), :func:`shape_features`, :func:`filter_images` (step 4) and
:func:`compute_families` (step 5: :func:`family_input`, then each family's ``compute``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from radiopipe.columns import column_name
from radiopipe.config import FeatureConfig
from radiopipe.features.binning import bin_dtype, discretise, prepared_pixel_type
from radiopipe.features.family import FamilyInput
from radiopipe.features.registry import FAMILIES
from radiopipe.filters import compute_image_types, pyradiomics_filter_input
from radiopipe.image_types import IMAGE_TYPES
from radiopipe.io import Volume
from radiopipe.preprocess.crop import crop_slices
from radiopipe.preprocess.discretise import Discretised
from radiopipe.preprocess.intensity import normalise, normalise_pyradiomics
from radiopipe.preprocess.resample import resample_image_ibsi, resample_mask_ibsi
from radiopipe.preprocess.resegment import resegment

# Image types whose filters read the image as float64 themselves (see filter_images).
_READ_AS_FLOAT64 = {"original", "log", "wavelet", "lbp2d", "lbp3d"}


@dataclass(frozen=True)
class PreparedCase:
    """One case prepared for the image types and the families (steps 1-3 of the module notes).

    Attributes
    ----------
    image : Volume
        The image after normalisation and resampling, 3D (a 2D image is one slice).
    mask : Volume
        The morphological mask on the same grid (bool).
    intensity_mask : numpy.ndarray of bool
        The ROI after re-segmentation (``mask.array`` itself when nothing is re-segmented).
    planar : bool
        Whether the input was 2D.
    box : tuple of slice
        The morphological mask's bounding box: it holds the intensity mask, and the families
        crop to their ROI themselves.
    roi_box : tuple of slice
        The intensity mask's bounding box (``box`` when nothing is re-segmented).
    region : tuple of slice
        The box over which the filters compute: ``box``, widened by the peak sphere's reach when
        local intensity is computed.
    pixel_type : numpy.dtype
        The pixel type of the image pyradiomics would filter: the input's (its resampling keeps
        it), float64 once normalised (its normalisation returns float64) or resampled on IBSI's
        grid (which radiopipe does in float64); see `radiopipe.features.binning.bin_dtype`.
    """

    image: Volume
    mask: Volume
    intensity_mask: np.ndarray
    planar: bool
    box: tuple[slice, ...]
    roi_box: tuple[slice, ...]
    region: tuple[slice, ...]
    pixel_type: np.dtype

    def in_region(self, box: tuple[slice, ...]) -> tuple[slice, ...]:
        """``box`` relative to ``region`` (for cropping images filtered over the region)."""
        return tuple(slice(b.start - r.start, b.stop - r.start) for b, r in zip(box, self.region))


def prepare_case(image: Volume, mask: Volume, settings: FeatureConfig) -> PreparedCase:
    """Normalise, resample and re-segment one case; find its boxes (steps 1-3).

    Parameters
    ----------
    image : Volume
        Scalar image, 2D or 3D; it keeps its dtype unless normalised or resampled.
    mask : Volume
        ROI mask on the image's grid (non-zero inside).
    settings : FeatureConfig

    Returns
    -------
    PreparedCase

    Raises
    ------
    ValueError
        When re-segmentation leaves no voxel of the ROI.
    """
    image, mask, planar = _as_volumes_3d(image, mask)
    pixel_type = prepared_pixel_type(image.array.dtype, settings)
    image, mask = _prepare_grid(image, mask, settings)
    intensity_mask = _intensity_mask(image.array, mask.array, settings)
    box = crop_slices(mask.array)
    roi_box = box if intensity_mask is mask.array else crop_slices(intensity_mask)
    region = _filter_region(box, intensity_mask, image.spacing, settings)
    return PreparedCase(image, mask, intensity_mask, planar, box, roi_box, region, pixel_type)


def filter_images(
    prepared: PreparedCase,
    settings: FeatureConfig,
    *,
    image_types: Collection[str] | None = None,
    region: tuple[slice, ...] | None = None,
    source=None,
) -> dict:
    """The configured image types of a prepared case, computed over a region (step 4).

    Parameters
    ----------
    prepared : PreparedCase
    settings : FeatureConfig
    image_types : collection of str, optional
        Config image types to compute (a subset of ``settings.image_types``, and types of
        ``settings.ibsi_filters`` entries); default all.
    region : tuple of slice, optional
        The box the filtered images cover; default ``prepared.region``. Each equals the whole
        filtered image cropped to it.
    source : array, optional
        The array the filters read, the prepared image as the caller holds it (e.g. a copy on
        the GPU); default ``prepared.image.array``.

    Returns
    -------
    dict of str to array
        Filtered image by pyradiomics' image name ('original', 'log-sigma-1-0-mm-3D', ...),
        then the IBSI-2 filters' images by their names (``laws-L5E5E5-...``).

    Notes
    -----
    An IBSI-2 filter runs on the whole prepared image (as the IBSI-2 compliance run does, with
    the same ``filter_volume`` call) and its response is cropped to the region.
    """
    wanted = [t for t in settings.image_types if image_types is None or t in image_types]
    ibsi = [e for e in settings.ibsi_filters if image_types is None or e.type in image_types]
    box = prepared.region if region is None else region
    images = _pyradiomics_images(prepared, settings, wanted, box, source) if wanted else {}
    if ibsi:  # the IBSI-2 filter bank is imported only when a config names one of its filters
        from radiopipe.filters.ibsi2.response import filter_spec, filter_volume
    for entry in ibsi:
        whole = prepared.image.array if source is None else source
        response = filter_volume(whole, filter_spec(entry), prepared.image.spacing)
        images[entry.image_name()] = response[box]
    return images


def _pyradiomics_images(prepared: PreparedCase, settings: FeatureConfig, wanted: list[str],
                        region: tuple[slice, ...], source) -> dict:
    """The pyradiomics image types ``wanted`` of a prepared case over ``region``."""
    whole = source
    if whole is None:
        # The voxel-wise and gradient filters see the whole image in float64, as pyradiomics'
        # do; the LoG and wavelet read their inputs as float64 themselves, 'original' only the
        # region.
        whole = prepared.image.array
        if not set(wanted) <= _READ_AS_FLOAT64:
            whole = whole.astype(np.float64, copy=False)
    selection = _selection(settings, planar=prepared.planar,
                           pixel_type=bin_dtype("wavelet", prepared.pixel_type, settings))
    return compute_image_types(
        whole, prepared.image.spacing, {IMAGE_TYPES[t].pyradiomics: selection[t] for t in wanted},
        region=region,
    )


def compute_families(
    image_name: str,
    filtered,
    prepared: PreparedCase,
    settings: FeatureConfig,
    *,
    families: Collection[str] | None = None,
) -> dict[str, float]:
    """Every non-morphology family of one filtered image (step 5).

    Parameters
    ----------
    image_name : str
        The filtered image's name (prefix of the feature names).
    filtered : array
        The filtered image over ``prepared.region`` (:func:`filter_images`).
    prepared : PreparedCase
    settings : FeatureConfig
    families : collection of str, optional
        The families to compute (a subset of ``settings.families``); default all.

    Returns
    -------
    dict of str to float
        ``{image_name}__{family}__{feature}`` -> value, families in ``settings.families`` order.
    """
    wanted = [
        FAMILIES[name] for name in settings.families
        if (families is None or name in families) and FAMILIES[name].kind != "morphology"
    ]
    if not wanted:
        return {}
    inputs = family_input(prepared, filtered, settings, image_name=image_name)
    by_family = families_of_input(inputs, settings, image_name=image_name,
                                  families=[family.name for family in wanted])
    return {column: value for values in by_family.values() for column, value in values.items()}


def families_of_input(inputs: FamilyInput, settings: FeatureConfig, *, image_name: str,
                      families: Collection[str] | None = None) -> dict[str, dict[str, float]]:
    """Some non-morphology families of one filtered image's input, family by family.

    Parameters
    ----------
    inputs : FamilyInput
        The image's input (:func:`family_input`); families computed from one input share its
        memo.
    settings : FeatureConfig
    image_name : str
        The filtered image's name (prefix of the feature names).
    families : collection of str, optional
        The families to compute, in ``settings.families`` order; default all.

    Returns
    -------
    dict of str to dict of str to float
        Family -> ``{image_name}__{family}__{feature}`` -> value.
    """
    return {
        family.name: {column_name(image_name, family.name, feature): value
                      for feature, value in family.compute(inputs, settings).items()}
        for family in (FAMILIES[name] for name in settings.families)
        if (families is None or family.name in families) and family.kind != "morphology"
    }


def shape_features(prepared: PreparedCase, settings: FeatureConfig) -> dict[str, float]:
    """The morphology families (shape) of a prepared case: once per case, on the original image,
    from its masks (2D or 3D shape); empty when none is configured.

    Returns
    -------
    dict of str to float
        ``original__shape__{feature}`` -> value.
    """
    inputs = morphology_input(prepared)
    return {
        column_name("original", family.name, feature): value
        for family in (FAMILIES[name] for name in settings.families)
        if family.kind == "morphology"
        for feature, value in family.compute(inputs, settings).items()
    }


def family_input(
    prepared: PreparedCase,
    filtered,
    settings: FeatureConfig,
    *,
    image_name: str = "original",
    discretised: Discretised | None = None,
) -> FamilyInput:
    """What the families read from one filtered image of a prepared case.

    Parameters
    ----------
    prepared : PreparedCase
    filtered : array
        The filtered image over ``prepared.region`` (:func:`filter_images`), on the host.
    settings : FeatureConfig
    image_name : str
        The filtered image's name ('original', 'log-sigma-1-0-mm-3D', ...): it decides the pixel
        type its levels are binned in (`radiopipe.features.binning.bin_dtype`).
    discretised : Discretised, optional
        The ROI's grey levels when the caller has them (host arrays, in the order of
        ``filtered[roi]``); default: :func:`discretise` them.

    Returns
    -------
    FamilyInput
        Over the morphological mask's bounding box; the surroundings over ``prepared.region``.
    """
    surroundings = np.asarray(filtered, dtype=np.float64)
    image = surroundings[prepared.in_region(prepared.box)]
    roi = prepared.intensity_mask[prepared.box]
    if discretised is None:
        dtype = bin_dtype(image_name, prepared.pixel_type, settings)
        discretised = discretise(image[roi], settings, dtype=dtype)
    levels = np.zeros(image.shape, dtype=np.int32)
    levels[roi] = discretised.levels
    inputs = FamilyInput(
        image=image,
        roi=roi,
        morphological_mask=prepared.mask.array[prepared.box],
        spacing=prepared.image.spacing,
        levels=levels,
        n_levels=discretised.n_levels,
        surroundings=surroundings,
        surroundings_roi=prepared.intensity_mask[prepared.region],
        planar=prepared.planar,
    )
    if settings.slice_axis != 0 and settings.aggregation.startswith("2") and not prepared.planar:
        return _slice_axis_first(inputs, settings.slice_axis)
    return inputs


def _slice_axis_first(inputs: FamilyInput, axis: int) -> FamilyInput:
    """The same input with ``axis`` moved to the front: the families' planes (in-plane
    neighbours, 2.5D directions) are those of constant z, so this makes them the planes normal
    to ``axis`` (pyradiomics' force2Ddimension). The ROI's values keep their multiset, so the
    order-free families are unchanged (up to the summation order)."""
    order = (axis, *(a for a in range(3) if a != axis))

    def moved(array):
        return np.ascontiguousarray(np.transpose(array, order))

    return FamilyInput(
        image=moved(inputs.image),
        roi=moved(inputs.roi),
        morphological_mask=moved(inputs.morphological_mask),
        spacing=tuple(inputs.spacing[a] for a in order),
        levels=moved(inputs.levels),
        n_levels=inputs.n_levels,
        surroundings=moved(inputs.surroundings),
        surroundings_roi=moved(inputs.surroundings_roi),
        planar=inputs.planar,
    )


def morphology_input(prepared: PreparedCase) -> FamilyInput:
    """What shape reads: the masks and the prepared original image over the morphological
    mask's box (every shape feature is invariant to where the ROI lies; the checks and crops of
    the shape functions then read the box, not a whole CT)."""
    box = prepared.box
    return FamilyInput(
        image=prepared.image.array[box],
        roi=prepared.intensity_mask[box],
        morphological_mask=prepared.mask.array[box],
        spacing=prepared.image.spacing,
        planar=prepared.planar,
    )


def _as_volumes_3d(image: Volume, mask: Volume) -> tuple[Volume, Volume, bool]:
    """Boolean mask, 2D inputs as one-slice volumes; the image keeps its dtype (see callers)."""
    planar = image.array.ndim == 2
    array, roi = image.array, mask.array != 0
    spacing, origin, direction = image.spacing, image.origin, image.direction
    if planar:
        array, roi, spacing = array[None], roi[None], (1.0, *spacing)
        if len(direction) == 4:
            # A 2D geometry: the plane sits at z = 0 of a volume whose third axis is normal to it.
            rotation = np.eye(3)
            rotation[:2, :2] = np.reshape(direction, (2, 2))
            origin, direction = (*origin, 0.0), tuple(rotation.ravel())
    as_3d = Volume(array, spacing, origin, direction)
    return as_3d, Volume(roi, spacing, origin, direction), planar


def _filter_region(box, intensity_mask, spacing, settings: FeatureConfig) -> tuple[slice, ...]:
    """Box over which the families read the filtered images: the ROI's bounding box, widened by
    the farthest reach of a configured family past it (local intensity's peak spheres)."""
    reaches = [
        FAMILIES[name].reach(spacing) for name in settings.families if FAMILIES[name].reach
    ]
    if not reaches:
        return box
    reach = np.max(reaches, axis=0)
    return tuple(
        slice(max(window.start - int(h), 0), min(window.stop + int(h), n))
        for window, h, n in zip(box, reach, intensity_mask.shape)
    )


def _prepare_grid(image: Volume, mask: Volume, settings: FeatureConfig) -> tuple[Volume, Volume]:
    # pyradiomics resamples in the image's own pixel type (an int16 CT stays int16: SimpleITK
    # casts the interpolated values back, truncating), so its definitions keep the dtype; IBSI
    # resamples in float64.
    in_pixel_type = settings.definitions == "pyradiomics" and settings.grid_alignment != "ibsi"
    if settings.normalize and settings.definitions == "pyradiomics":
        # SimpleITK's statistics (sample standard deviation) in SimpleITK's pixel types.
        array = normalise_pyradiomics(
            image.array, settings.normalize_scale, settings.normalize_outliers
        )
        image = Volume(array, image.spacing, image.origin, image.direction)
    elif settings.normalize or (settings.resampled_spacing is not None and not in_pixel_type):
        array = image.array.astype(np.float64, copy=False)
        if settings.normalize:
            array = normalise(array, settings.normalize_scale, settings.normalize_outliers)
        image = Volume(array, image.spacing, image.origin, image.direction)
    if settings.resampled_spacing is None:
        return image, mask
    spacing_zyx = _spacing_zyx(settings.resampled_spacing)
    if settings.grid_alignment == "ibsi":
        resampled = resample_image_ibsi(image, spacing_zyx, interpolator=settings.interpolator)
        resampled_mask = resample_mask_ibsi(mask, spacing_zyx)
        array = resampled.array
    else:
        resampled, resampled_mask = pyradiomics_filter_input(
            image, mask, resampled_spacing=spacing_zyx, interpolator=settings.interpolator,
            pad_distance=settings.pad_distance,
        )
        array = resampled.array.astype(np.float64)
    if settings.round_resampled:
        # IBSI rounds interpolated intensities that are integers by nature (CT, HU).
        array = np.rint(array)
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
        intensity_range=(
            None if settings.resegment_range is None else tuple(settings.resegment_range)
        ),
        outlier_sigmas=settings.resegment_outliers,
    )
    if not kept.any():
        raise ValueError(
            f"re-segmentation (range {settings.resegment_range}, outliers "
            f"{settings.resegment_outliers} sd) leaves no voxel of the ROI; widen "
            "features.resegment_range"
        )
    return kept


def _selection(settings: FeatureConfig, *, planar: bool, pixel_type: np.dtype) -> dict[str, dict]:
    """Filter parameters by config image type; a planar case (one-slice volume of a 2D image) is
    filtered in its plane, as pyradiomics filters a 2D image (2D LoG, 4 wavelet sub-bands). The
    wavelet computes in ``pixel_type`` (float32 for a float32 image under pyradiomics
    definitions, as PyWavelets computes on pyradiomics' float32 array; float64 otherwise)."""
    in_plane = planar or settings.aggregation.startswith("2")
    params = {
        "log": {"sigmas": list(settings.log_sigmas), "planar": planar},
        "wavelet": {
            "wavelet": settings.wavelet,
            # pyradiomics' force2D leaves the slice axis (force2Ddimension) out of the wavelet
            # transform; a 2D image is its own plane.
            "force_2d_axis": (0 if planar else settings.slice_axis) if in_plane else None,
            "dtype": pixel_type,
        },
        "lbp2d": {
            "radius": settings.lbp2d_radius,
            "samples": settings.lbp2d_samples,
            "method": settings.lbp2d_method,
            "axis": 0 if planar else settings.slice_axis,
        },
        "lbp3d": {
            "levels": settings.lbp3d_levels,
            "radius": settings.lbp3d_icosphere_radius,
            "subdivisions": settings.lbp3d_icosphere_subdivision,
        },
    }
    return {t: params.get(t, {}) for t in settings.image_types}

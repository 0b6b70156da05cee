"""One case's voxel-wise feature maps over its whole ROI, as images on its grid.

The case is prepared as extraction prepares it (normalisation, resampling, re-segmentation:
:func:`radiopipe.features.extract.prepare_case`), then every ROI voxel gets the features of the
cube of side ``2 r + 1`` around it, by pyradiomics' voxel-based semantics (see
:mod:`radiopipe.voxelwise.kernels`), computed for all kernels at once. The maps lie on the
prepared image's grid (the image's own unless resampled); voxels outside the ROI hold
``init_value``: NaN by default (pyradiomics' ``initValue`` is 0). The centres are split among
threads (one per core by default): the compiled kernels release the GIL.

Columns of a filtered image (``log-sigma-1-0-mm-3D__glcm__Idm``, ``wavelet-LLH__...``) map
the features of that image as pyradiomics' voxel-based extraction does: the configured filters
run on the whole prepared image (:func:`radiopipe.features.extract.filter_images`), then the
kernels read the filtered image, its grey levels discretised over the ROI of that image.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import SimpleITK as sitk

from radiopipe.columns import column_name, split_column
from radiopipe.config import FeatureConfig
from radiopipe.features.binning import bin_dtype
from radiopipe.features.extract import filter_images, prepare_case
from radiopipe.io import Volume
from radiopipe.preprocess.crop import crop_slices
from radiopipe.voxelwise import firstorder, glcm, gldm, glrlm, glszm, ngtdm
from radiopipe.voxelwise.kernels import KernelInput, kernel_input

EXTENTS = ("image", "roi")
# family -> (feature names, maps of one family's features for every kernel)
FAMILY_MAPS = {
    "firstorder": (
        firstorder.FEATURE_NAMES,
        lambda kernels, names, s: firstorder.firstorder_maps(
            kernels, names, voxel_array_shift=s.voxel_array_shift),
    ),
    "glcm": (glcm.FEATURE_NAMES, lambda kernels, names, s: glcm.glcm_maps(kernels, names)),
    "glrlm": (glrlm.FEATURE_NAMES, lambda kernels, names, s: glrlm.glrlm_maps(kernels, names)),
    "glszm": (glszm.FEATURE_NAMES, lambda kernels, names, s: glszm.glszm_maps(kernels, names)),
    "gldm": (gldm.FEATURE_NAMES, lambda kernels, names, s: gldm.gldm_maps(kernels, names)),
    "ngtdm": (ngtdm.FEATURE_NAMES, lambda kernels, names, s: ngtdm.ngtdm_maps(kernels, names)),
}


# The values the kernels compute, whatever the settings say (see settings_not_followed).
_KERNEL_SETTINGS = {"aggregation": "3D_avg", "distances": "[1]", "gldm_a": "0"}


def settings_not_followed(family: str, settings: FeatureConfig) -> list[str]:
    """The feature settings whose value a family's kernels do not follow.

    The kernels compute pyradiomics' defaults for these: 3D matrices averaged over the
    directions (``aggregation: 3D_avg``; GLSZM, GLDM and NGTDM have no directions to average),
    neighbours at distance 1 (``distances: [1]``) and equal levels as dependent (``gldm_a: 0``).
    A segment-level feature extracted under other values is not what the family's map shows.

    Parameters
    ----------
    family : str
        A family of :data:`FAMILY_MAPS`.
    settings : FeatureConfig

    Returns
    -------
    list of str
        The settings' names, [] when the kernels follow every setting the family reads.
    """
    directional = family in ("glcm", "glrlm")
    differ = {
        "aggregation": family != "firstorder" and (
            settings.aggregation != "3D_avg" if directional
            else not settings.aggregation.startswith("3D")),
        "distances": family in ("glcm", "gldm", "ngtdm") and list(settings.distances) != [1],
        "gldm_a": family == "gldm" and settings.gldm_a != 0,
    }
    return [name for name, differs in differ.items() if differs]


def mappable_features(settings: FeatureConfig | None = None) -> list[str]:
    """Every feature column a voxel-wise map can show (``original__{family}__{feature}``);
    given ``settings``, those of the families whose kernels follow them."""
    return [column_name("original", family, name)
            for family, (names, _) in FAMILY_MAPS.items()
            if settings is None or not settings_not_followed(family, settings)
            for name in names]


def check_features(features, settings: FeatureConfig) -> dict[str, dict[str, list[str]]]:
    """The wanted features by image type and family, refusing (one clear line) a column no map
    computes, or of a family whose kernels do not follow ``settings`` (their maps would not
    show the extracted feature); a filtered image's name is checked against the case's
    filtered images."""
    by_image: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    known = set(mappable_features())
    for column in features:
        image_type, family, name = (split_column(column) if column.count("__") == 2
                                    else ("", "", ""))
        if column_name("original", family, name) not in known:
            families = ", ".join(FAMILY_MAPS)
            raise ValueError(
                f"Voxel-wise maps cannot compute {column!r}: name a column "
                f"'{{image_type}}__{{family}}__{{feature}}' of the families {families} "
                f"(radiopipe.voxelwise.maps.mappable_features() lists them on 'original')."
            )
        by_image[image_type][family].append(name)
    if not by_image:
        raise ValueError("Voxel-wise maps need at least one feature column. Got none.")
    for family in dict.fromkeys(f for by_family in by_image.values() for f in by_family):
        ignored = settings_not_followed(family, settings)
        if ignored:
            given = ", ".join(f"{name}: {getattr(settings, name)!r}" for name in ignored)
            wanted = ", ".join(f"{name}: {_KERNEL_SETTINGS[name]}" for name in ignored)
            raise ValueError(
                f"Voxel-wise {family} maps compute pyradiomics' defaults ({wanted}), but the "
                f"features section sets {given}: the maps would not show the extracted "
                f"feature. Set those defaults, or map other families' features."
            )
    return {image_type: dict(by_family) for image_type, by_family in by_image.items()}


def voxel_maps(image: Volume, mask: Volume, features, settings: FeatureConfig, *,
               kernel_radius: int = 1, masked_kernel: bool = True,
               init_value: float = float("nan"), extent: str = "roi",
               n_threads: int | None = None) -> dict[str, sitk.Image]:
    """Voxel-wise maps of some features over one case's whole ROI.

    Parameters
    ----------
    image, mask : Volume
        The case as read (mask non-zero inside the ROI).
    features : list of str
        Feature columns: :func:`mappable_features` on 'original', or the same features on a
        filtered image the settings make (``log-sigma-1-0-mm-3D__glcm__Idm``).
    settings : FeatureConfig
        Preparation, filters and discretisation, as for extraction; ``definitions:
        pyradiomics``.
    kernel_radius : int
        pyradiomics' ``kernelRadius`` ``r`` >= 1: kernels are cubes of side ``2 r + 1``.
    masked_kernel : bool
        pyradiomics' ``maskedKernel``: only ROI voxels of a kernel count.
    init_value : float
        Value outside the ROI (pyradiomics' ``initValue``).
    extent : {'roi', 'image'}
        The maps' grid: the prepared image's part over the ROI's bounding box widened by the
        kernel radius (clipped to the image), the grid of pyradiomics' voxel-based maps, a few
        voxels around the ROI (the default); or the whole prepared image's (a 512 x 512 x 300
        CT gives 600 MB per map).
    n_threads : int, optional
        Threads sharing the centres; one per core by default. The values do not depend on it.

    Returns
    -------
    dict of str to SimpleITK.Image
        Column -> float64 map on the prepared image's grid (or its part, ``extent='roi'``).

    Examples
    --------
    >>> maps = voxel_maps(image, mask, ["original__glcm__Idm"], FeatureConfig())  # doctest: +SKIP
    """
    if not (isinstance(kernel_radius, (int, np.integer)) and kernel_radius >= 1):
        raise ValueError(
            f"The 'kernel_radius' parameter of voxel_maps must be an int >= 1. "
            f"Got {kernel_radius!r} instead."
        )
    if settings.definitions != "pyradiomics":
        raise ValueError(
            "Voxel-wise maps follow pyradiomics' voxel-based extraction: set the features "
            f"section's 'definitions' to 'pyradiomics' (got {settings.definitions!r})."
        )
    if image.array.ndim != 3:
        raise ValueError(
            f"Voxel-wise maps need a 3D image; got {image.array.ndim}D. Map a 2D image's "
            "features with radiopipe.feature_maps instead."
        )
    if n_threads is None:
        n_threads = os.cpu_count() or 1
    if not (isinstance(n_threads, (int, np.integer)) and n_threads >= 1):
        raise ValueError(
            f"The 'n_threads' parameter of voxel_maps must be an int >= 1. "
            f"Got {n_threads!r} instead."
        )
    if extent not in EXTENTS:
        raise ValueError(
            f"The 'extent' parameter of voxel_maps must be one of {', '.join(EXTENTS)}. "
            f"Got {extent!r} instead."
        )
    by_image = check_features(features, settings)
    prepared = prepare_case(image, mask, settings)
    images = _images(prepared, settings, by_image)
    grid = prepared.image
    region = (crop_slices(prepared.intensity_mask, kernel_radius) if extent == "roi"
              else tuple(slice(0, n) for n in grid.array.shape))
    # one array for every map: each writes the same ROI voxels, to_sitk copies it
    array = np.full(tuple(s.stop - s.start for s in region), init_value, dtype=np.float64)
    volume = Volume(array, grid.spacing, _corner(grid, region), grid.direction)
    maps = {}
    for image_type, by_family in by_image.items():
        kernels, crop = _family_kernels(images[image_type], image_type, by_family, prepared,
                                        settings, kernel_radius, masked_kernel)
        box = array[tuple(slice(c.start - r.start, c.stop - r.start)
                          for c, r in zip(crop, region))]
        box_roi = prepared.intensity_mask[crop]
        for family, family_values in _family_values(kernels, by_family, settings,
                                                    n_threads).items():
            for name, values in family_values.items():
                box[box_roi] = values  # the centres' order: the ROI's, in C order
                maps[column_name(image_type, family, name)] = volume.to_sitk()
    return maps


def _family_kernels(image: np.ndarray, image_type: str, by_family: dict, prepared,
                    settings: FeatureConfig, radius: int,
                    masked: bool) -> tuple[dict[str, KernelInput], tuple[slice, ...]]:
    """Each wanted family's kernels of one (filtered) image, and the crop they cover."""
    dtypes = {family: kernel_dtype(family, image_type, prepared.pixel_type, settings)
              for family in by_family}
    by_dtype = {}
    for dtype in dict.fromkeys(dtypes.values()):
        by_dtype[dtype], crop = kernel_input(
            image, prepared.intensity_mask, prepared.image.spacing, settings, radius=radius,
            masked=masked, dtype=dtype,
        )
    return {family: by_dtype[dtype] for family, dtype in dtypes.items()}, crop


def kernel_dtype(family: str, image_type: str, pixel_type: np.dtype,
                 settings: FeatureConfig) -> np.dtype:
    """The pixel type a family's kernels bin one (filtered) image's levels in.

    pyradiomics' voxel-based first order casts the image to float64 before it bins it; the
    texture families bin it in its own pixel type (:func:`bin_dtype`).

    Parameters
    ----------
    family : str
        A family of :data:`FAMILY_MAPS`.
    image_type : str
        The (filtered) image's name ('original', 'log-sigma-1-0-mm-3D', ...).
    pixel_type : numpy.dtype
        The prepared image's pixel type (``PreparedCase.pixel_type``).
    settings : FeatureConfig

    Returns
    -------
    numpy.dtype
    """
    if family == "firstorder":
        return np.dtype(np.float64)
    return bin_dtype(image_type, pixel_type, settings)


def _corner(grid: Volume, region: tuple[slice, ...]) -> tuple[float, ...]:
    """The physical point (x, y, z) of ``region``'s first voxel on ``grid``."""
    start = np.array([r.start for r in reversed(region)], dtype=np.float64)
    spacing = np.array(grid.spacing[::-1], dtype=np.float64)
    direction = np.asarray(grid.direction, dtype=np.float64).reshape(3, 3)
    return tuple(float(v) for v in np.asarray(grid.origin) + direction @ (spacing * start))


def _images(prepared, settings: FeatureConfig, by_image: dict) -> dict[str, np.ndarray]:
    """The prepared image ('original') and, when a column names another, every configured
    filtered image over the whole grid; refuses an image type the settings do not make."""
    images = {"original": prepared.image.array}
    if set(by_image) <= {"original"}:
        return images
    whole = tuple(slice(0, n) for n in prepared.image.array.shape)
    images.update(filter_images(prepared, settings, region=whole))
    unknown = sorted(set(by_image) - set(images))
    if unknown:
        raise ValueError(
            f"Voxel-wise maps cannot compute the image type(s) {', '.join(unknown)}: the "
            f"features section's image_types make {', '.join(images)}; add the filter to "
            f"image_types (and its settings, e.g. log_sigmas) or name one of those."
        )
    return images


def _family_values(kernels: dict[str, KernelInput], by_family: dict[str, list[str]],
                   settings: FeatureConfig, n_threads: int) -> dict[str, dict[str, np.ndarray]]:
    """Family -> feature -> the values of every centre (``kernels``: each family's), the
    centres split into ``n_threads`` consecutive parts computed in as many threads."""
    parts = {family: [replace(kernels[family], centres=centres)
                      for centres in np.array_split(kernels[family].centres, n_threads)
                      if len(centres)]
             for family in by_family}
    if n_threads == 1 or len(next(iter(parts.values()))) == 1:
        return {family: FAMILY_MAPS[family][1](kernels[family], names, settings)
                for family, names in by_family.items()}
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = {family: [pool.submit(FAMILY_MAPS[family][1], part, names, settings)
                            for part in parts[family]]
                   for family, names in by_family.items()}
        results = {family: [future.result() for future in family_futures]
                   for family, family_futures in futures.items()}
    return {family: {name: np.concatenate([part[name] for part in family_parts])
                     for name in by_family[family]}
            for family, family_parts in results.items()}

"""Feature maps: where in the ROI a feature's texture lives.

A map computes one feature voxel-wise: for each ROI voxel of the ROI's largest slice (every
``stride``-th voxel in both in-plane axes, so at most ``max_windows`` windows; the voxels between
show the nearest window's value), the feature of the ROI inside a ``window``-voxel cube centred
there (a square for 2D images). Everything else is the
extraction's own: the image is prepared (normalised, resampled, re-segmented) and filtered by the
engine's steps, and discretised over the whole ROI, so a window's grey levels are the ones the
case's feature saw; the family functions then run on each window. Shape features describe the
whole ROI and local-intensity features are already local: neither has a map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

from radiopipe.columns import column_modality, column_name, is_column, split_column
from radiopipe.config import FeatureConfig
from radiopipe.features.extract import discretise, filter_images, prepare_case
from radiopipe.features.family import FamilyInput
from radiopipe.features.registry import FAMILIES
from radiopipe.image_types import image_type_of
from radiopipe.io import Volume

_MARGIN = 3  # voxels of image shown around the ROI


@dataclass(frozen=True)
class FeatureMap:
    """One feature, voxel-wise over one slice.

    Attributes
    ----------
    feature : str
        The feature column (``{image_type}__{family}__{feature}``).
    slice_index : int
        The slice (first array axis) of the prepared image; 0 for 2D images.
    image : numpy.ndarray of shape (h, w)
        The prepared original image around the ROI on that slice.
    roi : numpy.ndarray of bool, shape (h, w)
    values : numpy.ndarray of shape (h, w)
        The feature of the window centred on each voxel (NaN outside the ROI).
    window : int
        Window side in voxels.
    stride : int
        Windows are centred on every ``stride``-th voxel; the other ROI voxels show the value of
        the nearest window.
    spacing : tuple of float
        In-plane voxel size (row, column) in mm.
    """

    feature: str
    slice_index: int
    image: np.ndarray
    roi: np.ndarray
    values: np.ndarray
    window: int
    stride: int
    spacing: tuple[float, float]


def has_map(feature: str) -> bool:
    """Whether a feature column can be mapped (a texture, histogram or first-order feature of a
    case of one image; a multimodal case's modality columns are not mapped)."""
    if not is_column(feature) or column_modality(feature) is not None:
        return False
    image_name, family, _ = split_column(feature)
    # Shape describes the whole ROI, and families reading past its box (local intensity) are
    # local already: neither has a map.
    if family not in FAMILIES or FAMILIES[family].kind == "morphology" or FAMILIES[family].reach:
        return False
    return image_type_of(image_name) is not None


def feature_maps(
    image: Volume,
    mask: Volume,
    features: list[str],
    settings: FeatureConfig,
    *,
    window: int = 5,
    max_windows: int = 400,
) -> list[FeatureMap]:
    """Maps of ``features`` (those :func:`has_map` accepts) for one case.

    Parameters
    ----------
    image, mask : Volume
        The case as read for extraction.
    features : list of str
        Feature columns to map, in the order wanted.
    settings : FeatureConfig
        The extraction's settings.
    window : int
        Window side in voxels (odd).
    max_windows : int
        Windows per map at most; the stride grows until the slice's ROI fits.

    Returns
    -------
    list of FeatureMap
        In the order of ``features``.
    """
    wanted = [f for f in features if has_map(f)]
    if not wanted:
        return []
    prepared = prepare_case(image, mask, settings)
    box = prepared.roi_box
    roi = prepared.intensity_mask
    roi_box, edge_box = roi[box], prepared.mask.array[box]
    z = int(np.argmax(roi_box.sum(axis=(1, 2))))
    centres, stride = _centres(roi_box[z], max_windows)
    types = {image_type_of(split_column(f)[0]) for f in wanted}
    filtered = filter_images(prepared, settings, image_types=types, region=box)
    spacing = prepared.image.spacing
    values = {f: np.full(roi_box.shape[1:], np.nan) for f in wanted}
    for (image_name, family), names in _groups(wanted).items():
        source = np.asarray(filtered[image_name], dtype=np.float64)
        discretised = discretise(source[roi_box], settings)
        levels = np.zeros(source.shape, dtype=np.int32)
        levels[roi_box] = discretised.levels
        for cy, cx in centres:
            win = _window(z, cy, cx, window, roi_box.shape)
            inputs = FamilyInput(
                image=source[win], roi=roi_box[win], morphological_mask=edge_box[win],
                spacing=spacing, levels=levels[win], n_levels=discretised.n_levels,
            )
            result = FAMILIES[family].compute(inputs, settings)
            for name in names:
                values[column_name(image_name, family, name)][cy, cx] = result[name]
    nearest = _nearest_centre(centres, roi_box.shape[1:])
    values = {f: v[nearest] for f, v in values.items()}
    view = _view(box[1:], roi.shape[1:])
    offset = tuple(b.start - v.start for b, v in zip(box[1:], view))
    image_slice = prepared.image.array[(box[0].start + z, *view)].astype(np.float64)
    roi_slice = roi[(box[0].start + z, *view)]
    return [
        FeatureMap(
            feature=f,
            slice_index=box[0].start + z,
            image=image_slice,
            roi=roi_slice,
            values=np.where(roi_slice, _placed(values[f], offset, roi_slice.shape), np.nan),
            window=window,
            stride=stride,
            spacing=(float(spacing[1]), float(spacing[2])),
        )
        for f in wanted
    ]


def _groups(features: list[str]) -> dict[tuple[str, str], list[str]]:
    """Features by (image, family): one window computation serves all of a group."""
    groups: dict[tuple[str, str], list[str]] = {}
    for feature in features:
        image_name, family, name = split_column(feature)
        groups.setdefault((image_name, family), []).append(name)
    return groups


def _centres(roi_slice: np.ndarray, max_windows: int) -> tuple[np.ndarray, int]:
    """ROI voxels on the coarsest-needed grid: the smallest stride giving <= max_windows."""
    points = np.argwhere(roi_slice)
    origin = points.min(axis=0)
    stride = 1
    while True:
        on_grid = points[((points - origin) % stride == 0).all(axis=1)]
        if len(on_grid) <= max_windows:
            return on_grid, stride
        stride += 1


def _window(z: int, cy: int, cx: int, size: int, shape) -> tuple[slice, ...]:
    half = size // 2
    return tuple(
        slice(max(c - half, 0), min(c + half + 1, n)) for c, n in zip((z, cy, cx), shape)
    )


def _nearest_centre(centres: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel, the index of the nearest computed window centre (itself at stride 1)."""
    computed = np.zeros(shape, dtype=bool)
    computed[tuple(centres.T)] = True
    _, index = distance_transform_edt(~computed, return_indices=True)
    return index[0], index[1]


def _view(box, shape) -> tuple[slice, ...]:
    """The ROI's in-plane box widened by a margin, within the image."""
    return tuple(
        slice(max(b.start - _MARGIN, 0), min(b.stop + _MARGIN, n)) for b, n in zip(box, shape)
    )


def _placed(values: np.ndarray, offset: tuple[int, ...], shape) -> np.ndarray:
    """The box-sized map placed at ``offset`` inside the (larger) shown region."""
    out = np.full(shape, np.nan)
    out[tuple(slice(o, o + n) for o, n in zip(offset, values.shape))] = values
    return out

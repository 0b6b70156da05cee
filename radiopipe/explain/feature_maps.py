"""Feature maps: a feature's local value, window by window, over the ROI's largest slice.

A map computes one feature voxel-wise: for each ROI voxel of the ROI's largest slice (every
``stride``-th voxel in both in-plane axes, so at most ``max_windows`` windows; the voxels between
show the nearest window's value), the feature of the ROI inside a ``window``-voxel cube centred
there (a square for 2D images). Everything else is the extraction's own: the image is prepared
(normalised, resampled, re-segmented) and filtered by the engine's steps, and discretised over the
whole ROI, so a window's grey levels are the ones the case's feature saw. Shape features describe
the whole ROI and local-intensity features are already local: neither has a map.

Two engines compute the windows' values (:mod:`radiopipe.explain.local_values`; each map records
its own in :attr:`FeatureMap.engine`):

* the voxel-wise engine's kernels (:mod:`radiopipe.voxelwise`, pyradiomics' voxel-based maps),
  evaluated only at the map's centres, radius ``window // 2`` (the window), masked: every group
  of features it covers (first order, GLCM, GLRLM, GLSZM, GLDM and NGTDM features of a 3D image
  under ``definitions: pyradiomics``, with the settings its kernels follow);
* otherwise (GLDZM, NGLDM and the histogram families, ``definitions: ibsi``, 2D images,
  settings the kernels do not follow such as ``distances: [1, 2]``) the family's segment-level
  computation on each window's ROI voxels.

Two rules keep a map about texture rather than about where the ROI's edge is:

* **Coverage.** A window near the ROI's edge holds fewer ROI voxels than one inside it. A window
  is computed only where at least ``min_coverage`` of its voxels lie in the ROI (1.0: only
  windows wholly inside); the other ROI voxels are masked (NaN) and shown blank.
* **Extensive features** (``Family.extensive`` in :mod:`radiopipe.features.registry`) grow
  with the number of voxels they are computed over at a fixed texture (a sum such as Energy, or
  the reciprocal of one such as Coarseness). Their raw window value would map how many ROI voxels
  each window holds, not the texture, so their maps show ``value / n ** exponent`` (``n``: the
  window's ROI voxels), e.g. Energy per voxel; the whole-ROI value reads the same way with the
  ROI's voxel count (:attr:`FeatureMap.whole_roi`).
  Intensive features (means, percentiles, normalised texture features) are shown as computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import correlate, distance_transform_edt

from radiopipe.columns import column_modality, column_name, is_column, split_column
from radiopipe.config import FeatureConfig
from radiopipe.explain.local_values import (
    KERNELS,
    WINDOWS,
    kernel_names,
    kernel_values,
    window_values,
)
from radiopipe.features.binning import bin_dtype, discretise
from radiopipe.features.extract import filter_images, prepare_case
from radiopipe.features.family import FamilyInput
from radiopipe.features.registry import FAMILIES
from radiopipe.image_types import image_type_of
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import kernel_dtype

_MARGIN = 3  # voxels of image shown around the ROI
LOCAL_VALUE = "local value"
CONTRIBUTION = "contribution"

@dataclass(frozen=True)
class FeatureMap:
    """One map over one slice: a feature's local value, or the top features' contribution.

    Attributes
    ----------
    feature : str
        The feature column (``{image_type}__{family}__{feature}``); for a contribution map, the
        features it combines joined by ``' + '``.
    slice_index : int
        The slice (first array axis) of the prepared image; 0 for 2D images.
    image : numpy.ndarray of shape (h, w)
        The prepared original image around the ROI on that slice.
    roi : numpy.ndarray of bool, shape (h, w)
    values : numpy.ndarray of shape (h, w)
        Local value maps: the feature of the window centred on each voxel, divided by
        ``n ** exponent`` for an extensive feature. Contribution maps: see
        :mod:`radiopipe.explain.contribution_maps`. NaN outside the ROI and where the window
        holds less than ``min_coverage`` of ROI voxels.
    window : int
        Window side in voxels.
    stride : int
        Windows are centred on every ``stride``-th voxel; the other shown ROI voxels show the
        value of the nearest window.
    spacing : tuple of float
        In-plane voxel size (row, column) in mm.
    window_voxels : numpy.ndarray of int, shape (h, w)
        ROI voxels in the window of each shown voxel (0 where nothing is shown).
    min_coverage : float
        The fraction of a window's voxels that must lie in the ROI for it to be shown.
    roi_voxels : int
        The whole ROI's voxels: the count the case's own features were computed over.
    whole_roi : float
        The same quantity computed over the whole ROI (an extensive feature per voxel).
    slice_spacing : float
        Voxel size across slices in mm (NaN for 2D images, whose window is a square).
    exponent : int
        The feature's exponent in its family's ``extensive`` (0: intensive, shown as computed).
    kind : str
        ``'local value'`` or ``'contribution'``.
    output : str
        Contribution maps: the class whose log-odds they show ('' for local value maps).
    engine : str
        What computed the local values: :data:`~radiopipe.explain.local_values.KERNELS` (the
        voxel-wise engine's masked kernels at the centres) or
        :data:`~radiopipe.explain.local_values.WINDOWS` (the family's segment-level computation
        on each window); a contribution map names its local maps' engines, joined by ``' + '``.
    """

    feature: str
    slice_index: int
    image: np.ndarray
    roi: np.ndarray
    values: np.ndarray
    window: int
    stride: int
    spacing: tuple[float, float]
    window_voxels: np.ndarray
    min_coverage: float
    roi_voxels: int
    whole_roi: float
    slice_spacing: float = float("nan")
    exponent: int = 0
    kind: str = LOCAL_VALUE
    output: str = ""
    engine: str = WINDOWS

    @property
    def window_mm(self) -> tuple[float, ...]:
        """The window's extent in mm per axis: (slices, rows, columns), or (rows, columns)."""
        sides = tuple(self.window * s for s in self.spacing)
        return sides if np.isnan(self.slice_spacing) else (self.window * self.slice_spacing,
                                                           *sides)


def extensive_exponent(feature: str) -> int:
    """How ``feature`` grows with its voxel count: ``n ** exponent`` (0 for an intensive one)."""
    _, family, name = split_column(feature)
    return dict(FAMILIES[family].extensive).get(name, 0)


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
    min_coverage: float = 0.5,
) -> list[FeatureMap]:
    """Local value maps of ``features`` (those :func:`has_map` accepts) for one case.

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
        Windows per map at most; the stride grows until the slice's shown voxels fit.
    min_coverage : float
        Fraction in (0, 1] of a window's voxels that must lie in the ROI for it to be shown
        (the window's extent across slices counted within the ROI's slices).

    Returns
    -------
    list of FeatureMap
        In the order of ``features``; [] when no window of the ROI's largest slice has the
        coverage asked for.

    Examples
    --------
    >>> maps = feature_maps(image, mask, ["original__firstorder__Energy"],
    ...                     FeatureConfig())  # doctest: +SKIP
    >>> maps[0].values  # Energy per ROI voxel of each window  # doctest: +SKIP
    """
    wanted = [f for f in features if has_map(f)]
    if not wanted:
        return []
    prepared = prepare_case(image, mask, settings)
    box = prepared.roi_box
    roi = prepared.intensity_mask
    roi_box, edge_box = roi[box], prepared.mask.array[box]
    z = int(np.argmax(roi_box.sum(axis=(1, 2))))
    counts, coverage = _coverage(roi_box, z, window, planar=prepared.planar)
    shown = roi_box[z] & (coverage >= min_coverage - 1e-12)
    if not shown.any():
        return []
    centres, stride = _centres(shown, max_windows)
    types = {image_type_of(split_column(f)[0]) for f in wanted}
    filtered = filter_images(prepared, settings, image_types=types, region=box)
    spacing = prepared.image.spacing
    values = {f: np.full(roi_box.shape[1:], np.nan) for f in wanted}
    whole, engines = {}, {}
    at = np.column_stack([np.full(len(centres), z), centres])
    for (image_name, family), names in _groups(wanted).items():
        source = np.asarray(filtered[image_name], dtype=np.float64)
        dtype = bin_dtype(image_name, prepared.pixel_type, settings)
        discretised = discretise(source[roi_box], settings, dtype=dtype)
        levels = np.zeros(source.shape, dtype=np.int32)
        levels[roi_box] = discretised.levels
        inputs = FamilyInput(
            image=source, roi=roi_box, morphological_mask=edge_box, spacing=spacing,
            levels=levels, n_levels=discretised.n_levels,
        )
        result = FAMILIES[family].compute(inputs, settings)
        by_kernel = kernel_names(family, names, settings, planar=prepared.planar,
                                 window=window)
        by_window = [name for name in names if name not in by_kernel]
        local = {}
        if by_kernel:
            local.update(kernel_values(
                source, roi_box, spacing, settings, family=family, names=by_kernel,
                dtype=kernel_dtype(family, image_name, prepared.pixel_type, settings),
                radius=window // 2, centres=at,
            ))
        if by_window:
            local.update(window_values(inputs, settings, family=family, names=by_window,
                                       window=window, centres=at))
        for name in names:
            feature = column_name(image_name, family, name)
            whole[feature] = result[name]
            engines[feature] = KERNELS if name in by_kernel else WINDOWS
            values[feature][tuple(centres.T)] = local[name] / counts[tuple(
                centres.T)] ** extensive_exponent(feature)
    nearest = _nearest_centre(centres, roi_box.shape[1:])
    view = _view(box[1:], roi.shape[1:])
    offset = tuple(b.start - v.start for b, v in zip(box[1:], view))
    image_slice = prepared.image.array[(box[0].start + z, *view)].astype(np.float64)
    roi_slice = roi[(box[0].start + z, *view)]
    shown_slice = _placed(shown.astype(np.float64), offset, roi_slice.shape) == 1

    def placed(array: np.ndarray) -> np.ndarray:
        return np.where(shown_slice, _placed(array[nearest], offset, roi_slice.shape), np.nan)

    window_voxels = np.nan_to_num(placed(counts)).astype(np.int64)
    roi_voxels = int(roi.sum())
    return [
        FeatureMap(
            feature=f,
            slice_index=box[0].start + z,
            image=image_slice,
            roi=roi_slice,
            values=placed(values[f]),
            window=window,
            stride=stride,
            spacing=(float(spacing[1]), float(spacing[2])),
            window_voxels=window_voxels,
            min_coverage=float(min_coverage),
            roi_voxels=roi_voxels,
            whole_roi=float(whole[f]) / roi_voxels ** extensive_exponent(f),
            slice_spacing=float("nan") if prepared.planar else float(spacing[0]),
            exponent=extensive_exponent(f),
            engine=engines[f],
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


def _coverage(roi_box: np.ndarray, z: int, size: int, *,
              planar: bool) -> tuple[np.ndarray, np.ndarray]:
    """ROI voxels in the window centred on each voxel of slice ``z``, and their fraction.

    The window's extent across slices is clipped to the ROI's slices (a one-slice ROI of a 3D
    image is covered by squares); in-plane it is not, so a window past the ROI's edge counts
    the voxels it misses.
    """
    half = size // 2
    depth = slice(max(z - half, 0), min(z + half + 1, roi_box.shape[0]))
    column = roi_box[depth].sum(axis=0).astype(np.float64)
    counts = np.rint(correlate(column, np.ones((size, size)), mode="constant"))
    volume = size * size * (1 if planar else depth.stop - depth.start)
    return counts, counts / volume


def _centres(shown: np.ndarray, max_windows: int) -> tuple[np.ndarray, int]:
    """Shown voxels on the coarsest-needed grid: the smallest stride giving <= max_windows."""
    points = np.argwhere(shown)
    origin = points.min(axis=0)
    stride = 1
    while True:
        on_grid = points[((points - origin) % stride == 0).all(axis=1)]
        if len(on_grid) <= max_windows:
            return on_grid, stride
        stride += 1


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

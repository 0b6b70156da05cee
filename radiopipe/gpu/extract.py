"""The native extraction (`radiopipe.features.extract`) run on the GPU, for one case or many.

Each case is prepared on the host exactly as the native engine prepares it (2D as one slice,
normalisation, resampling, re-segmentation, shape from the morphological mask). Its image is
then copied to the device once when a filter needs it (LoG, wavelet, ...), every image type is
cropped and discretised where it lives, and each becomes one ROI of a batch. All ROIs of all
cases of a batch go through the batched families together (`radiopipe.gpu.families.BATCHED`):
one kernel launch per matrix type and one pass of the formulas for the whole batch, whatever the
number of cases. The values come back to the host in one copy per
batch of ROIs.

Where the work runs:

- device: image filters, cropping and discretisation of filtered images, first order and the
  seven texture families, all in float64 except LoG and gradient images, which are float32 on
  both paths, as in SimpleITK;
- host: reading, resampling and re-segmentation (SimpleITK), shape (a mask mesh) and the
  families without a batched version (the IBSI-only intensity-histogram, intensity-volume and
  local-intensity families), computed through ``Family.compute`` from a host copy of each
  filtered image and its grey levels;
- the 'original' image of a case that needs no filter stays on the host until the batch is
  packed, so that thousands of small patches travel to the device in one copy;
- cases are prepared by a pool of host threads (``HOST_THREADS``), the batch then runs once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from radiopipe.columns import column_name, split_column
from radiopipe.config import FeatureConfig
from radiopipe.features.binning import bin_dtype, discretise
from radiopipe.features.extract import (
    family_input,
    filter_images,
    prepare_case,
    shape_features,
)
from radiopipe.features.registry import FAMILIES, reported
from radiopipe.gpu.families import BATCHED, batched_families
from radiopipe.gpu.packing import RoiItem, pack
from radiopipe.io import Volume
from radiopipe.preprocess.discretise import Discretised
from radiopipe.xp import get_namespace, to_numpy

# Voxels of one packed lattice (int32): batches of ROIs are split to stay under it.
PACKED_VOXELS = 1 << 27
# On the CPU, ROIs per batch times the square of their largest grey-level count at most: a batch
# costs its dense matrices, so beyond this many ROIs of many levels it stops paying off.
CPU_MATRIX_ENTRIES = 1 << 16
# Threads preparing cases on the host (NumPy, SciPy and SimpleITK release the GIL in their loops).
HOST_THREADS = 8


class _Roi(NamedTuple):
    """One image type of one case, ready for the batch."""

    case: int
    image_name: str
    item: RoiItem


def extract_features(image: Volume, mask: Volume, settings: FeatureConfig, *, xp=None) -> dict:
    """Every configured feature of one ROI, computed on the GPU.

    Same arguments and result as `radiopipe.features.engine.extract_features`.

    Parameters
    ----------
    image, mask : Volume
        Scalar image (2D or 3D) and its ROI mask.
    settings : FeatureConfig
    xp : module, optional
        Array namespace of the feature stage: ``cupy`` (default; needs a CUDA device) or
        ``numpy`` (the same batched code on the CPU, used by the tests).
    """
    return extract_batch([(image, mask)], settings, xp=xp)[0]


def extract_batch(
    cases: Sequence[tuple[Volume, Volume]], settings: FeatureConfig, *, xp=None
) -> list[dict[str, float]]:
    """Every configured feature of many ROIs, their feature stage batched on the GPU.

    Parameters
    ----------
    cases : sequence of (Volume, Volume)
        (image, mask) pairs, 2D or 3D, of any sizes; each pair as for `extract_features`.
    settings : FeatureConfig
        One setting for all cases.
    xp : module, optional
        ``cupy`` (default) or ``numpy``, see `extract_features`.

    Returns
    -------
    list of dict
        One ``{image_type}__{family}__{feature}`` mapping per case, in the order of ``cases``,
        equal to the native engine's (see `radiopipe.gpu` tests for the tolerances).

    Raises
    ------
    ConfigError
        If ``xp`` is left to its default and no CUDA device is usable.
    """
    if xp is None:
        from radiopipe import gpu

        gpu.require()
        import cupy as xp
    rows, rois = prepare_cases(cases, settings, xp)
    images = tuple(dict.fromkeys(roi.image_name for roi in rois))  # in filter_images' order
    if xp is np:
        # The batch's matrices are dense, n_roi x N_g x N_g for the batch's largest N_g: on the
        # CPU, ROIs of alike grey-level counts go together, in batches of bounded matrices.
        rois = sorted(rois, key=lambda roi: roi.item.n_levels)
    for batch in _split(rois, max_entries=CPU_MATRIX_ENTRIES if xp is np else None):
        _add_batch_features(rows, batch, settings, xp)
    families = tuple(settings.families)
    return [
        {key: row[key] for key in _native_order(tuple(row), families, images)}
        for row in (reported(row, settings.definitions) for row in rows)
    ]


@lru_cache(maxsize=16)
def _native_order(
    keys: tuple[str, ...], families: tuple[str, ...], images: tuple[str, ...]
) -> tuple[str, ...]:
    """Columns in the native engine's order: shape, then each filtered image in ``images``'
    order with its families in ``families`` order (memoised: the rows of a batch share them)."""
    family_rank = {name: k for k, name in enumerate(families)}
    image_rank = {name: k for k, name in enumerate(images)}
    ranked = []
    for key in keys:
        image_name, family, _ = split_column(key)
        first = FAMILIES[family].kind != "morphology"
        ranked.append((first, image_rank.get(image_name, -1), family_rank[family], key))
    return tuple(key for *_, key in sorted(ranked, key=lambda k: k[:3]))


def prepare_cases(cases: Sequence[tuple[Volume, Volume]], settings: FeatureConfig, xp):
    """Host preparation of every case, on ``HOST_THREADS`` threads.

    Cases whose image types need a filter (which runs on the device) are prepared one after
    the other: the threads serve host-only work. Under NumPy (``xp`` is ``numpy``: the batch
    runs on the CPU) every case is prepared in the caller's thread: small cases hold the GIL
    for most of their preparation, and threads made a batch of 200 MNI152 patches 1.4x slower.

    Returns
    -------
    rows : list of dict
        Per case, the features computed on the host (shape, IBSI-only host families).
    rois : list
        Every image type of every case, ready to be packed into batches.
    """
    workers = max(1, min(len(cases), os.cpu_count() or 1, HOST_THREADS))
    if xp is np or settings.ibsi_filters or any(t != "original" for t in settings.image_types):
        workers = 1
    numbered = ((index, image, mask) for index, (image, mask) in enumerate(cases))
    if workers == 1:
        prepared = [_prepare_case(*case, settings, xp) for case in numbered]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            prepared = list(pool.map(lambda case: _prepare_case(*case, settings, xp), numbered))
    rows = [host_values for host_values, _ in prepared]
    return rows, [roi for _, case_rois in prepared for roi in case_rois]


def _prepare_case(index: int, image: Volume, mask: Volume, settings: FeatureConfig, xp):
    """Prepare one case on the host as the native engine does: host features and ROIs."""
    prepared = prepare_case(image, mask, settings)
    host_values = shape_features(prepared, settings)
    host_families = [
        FAMILIES[name] for name in settings.families
        if FAMILIES[name].kind != "morphology" and name not in batched_families(settings)
    ]
    source = None
    if settings.ibsi_filters or any(t != "original" for t in settings.image_types):
        # The filters see the whole image in float64, as the native engine's; on the device.
        source = xp.asarray(prepared.image.array, dtype=xp.float64)
    inner = prepared.in_region(prepared.roi_box)
    roi = prepared.intensity_mask[prepared.roi_box]
    voxel_volume = float(np.prod(prepared.image.spacing))
    rois = []
    for name, filtered in filter_images(prepared, settings, source=source).items():
        where = get_namespace(filtered)
        values = where.asarray(filtered[inner], dtype=where.float64)[where.asarray(roi)]
        discretised = discretise(values, settings,
                                 dtype=bin_dtype(name, prepared.pixel_type, settings))
        item = RoiItem(roi, values, discretised.levels, discretised.n_levels, voxel_volume)
        rois.append(_Roi(index, name, item))
        if host_families:
            # Computed on the host by the families' own functions, from copies of the filtered
            # image and its grey levels.
            levels = Discretised(to_numpy(discretised.levels), discretised.n_levels)
            inputs = family_input(prepared, to_numpy(filtered), settings, discretised=levels)
            host_values.update({
                column_name(name, family.name, feature): value
                for family in host_families
                for feature, value in family.compute(inputs, settings).items()
            })
    return host_values, rois


def _split(rois: list[_Roi], *, max_entries: int | None = None) -> list[list[_Roi]]:
    """Consecutive groups of ROIs whose packed lattice stays under ``PACKED_VOXELS`` and, with
    ``max_entries``, whose ``n_roi * N_g**2`` (a matrix stack's size) stays under it."""
    batches, current = [], []
    planes, rows, columns, levels = 1, 0, 0, 0  # the leading empty plane
    for roi in rois:
        depth, height, width = roi.item.mask.shape
        grown = (planes + depth + 1, max(rows, height + 2), max(columns, width + 2))
        more = max(levels, roi.item.n_levels)
        too_many = max_entries is not None and (len(current) + 1) * more**2 > max_entries
        if current and (grown[0] * grown[1] * grown[2] > PACKED_VOXELS or too_many):
            batches.append(current)
            current, grown, more = [], (1 + depth + 1, height + 2, width + 2), roi.item.n_levels
        current.append(roi)
        planes, rows, columns = grown
        levels = more
    if current:
        batches.append(current)
    return batches


def _add_batch_features(rows: list[dict], rois: list[_Roi], settings: FeatureConfig, xp) -> None:
    """Compute the batched families of ``rois`` and add them to their cases' rows."""
    batch = pack([roi.item for roi in rois], pad=1, xp=xp)
    families = [FAMILIES[name] for name in batched_families(settings)]
    blocks = [BATCHED[family.name](batch, settings) for family in families]
    table = to_numpy(xp.concatenate(blocks, axis=1)) if blocks else np.zeros((len(rois), 0))
    keys: dict[str, list[str]] = {}
    for row, roi in zip(table.tolist(), rois):
        if roi.image_name not in keys:
            keys[roi.image_name] = [
                column_name(roi.image_name, family.name, feature)
                for family in families
                for feature in family.feature_names
            ]
        rows[roi.case].update(zip(keys[roi.image_name], row))

"""Batched families equal the native per-ROI functions on a batch of random 2D and 3D ROIs."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_helpers import ROI_SHAPES, assert_same_features, random_roi

from radiopipe.features import firstorder, glcm, gldm, gldzm, glrlm, glszm, ngldm, ngtdm
from radiopipe.features.directions import DIRECTIONAL_AGGREGATIONS
from radiopipe.features.neighbourhood import AGGREGATIONS
from radiopipe.gpu import texture
from radiopipe.gpu.firstorder import firstorder_batch
from radiopipe.gpu.packing import RoiItem, pack
from radiopipe.preprocess.crop import crop_slices
from radiopipe.xp import to_numpy

# family -> (native function, batched function, feature names)
NATIVE = {
    "glcm": (glcm.compute_glcm, texture.glcm_batch, glcm.FEATURE_NAMES),
    "glrlm": (glrlm.compute_glrlm, texture.glrlm_batch, glrlm.FEATURE_NAMES),
    "glszm": (glszm.compute_glszm, texture.glszm_batch, glszm.FEATURE_NAMES),
    "gldm": (gldm.compute_gldm, texture.gldm_batch, gldm.FEATURE_NAMES),
    "ngtdm": (ngtdm.compute_ngtdm, texture.ngtdm_batch, ngtdm.FEATURE_NAMES),
    "gldzm": (gldzm.compute_gldzm, texture.gldzm_batch, gldzm.FEATURE_NAMES),
    "ngldm": (ngldm.compute_ngldm, texture.ngldm_batch, ngldm.FEATURE_NAMES),
}
CASES = [
    (family, aggregation, mode)
    for family in NATIVE
    for aggregation in (DIRECTIONAL_AGGREGATIONS if family in ("glcm", "glrlm") else AGGREGATIONS)
    for mode in ("ibsi", "pyradiomics")
]


@pytest.fixture(scope="module")
def random_rois():
    """ROIs of ``ROI_SHAPES`` with an unused top level (n_levels above the largest present)."""
    rng = np.random.default_rng(7)
    rois = []
    for shape, n_levels in ROI_SHAPES:
        levels, mask = random_roi(rng, shape, n_levels)
        box = crop_slices(mask)
        levels, mask = np.where(mask, levels, 0)[box], mask[box]
        rois.append((levels, mask, int(levels.max()) + 1))
    return rois


def _items(rois):
    return [
        RoiItem(mask, levels[mask].astype(float), levels[mask], n, 1.0)
        for levels, mask, n in rois
    ]


@pytest.mark.parametrize(("family", "aggregation", "mode"), CASES)
def test_batched_family_equals_native(xp, random_rois, family, aggregation, mode):
    native_compute, compute, names = NATIVE[family]
    table = to_numpy(compute(pack(_items(random_rois), pad=1, xp=xp),
                             aggregation=aggregation, mode=mode))
    assert table.shape == (len(random_rois), len(names))
    for row, (levels, mask, n_levels) in zip(table, random_rois):
        with np.errstate(divide="ignore", invalid="ignore"):  # native NaN of a single voxel
            native = native_compute(levels, mask, n_levels, aggregation=aggregation, mode=mode)
        ours = dict(zip(names, row.tolist()))
        assert_same_features(ours, native, xp, f"{family} {aggregation} {mode} {mask.shape}")


@pytest.mark.parametrize("mode", ["ibsi", "pyradiomics"])
def test_batched_firstorder_equals_native(xp, mode):
    rng = np.random.default_rng(3)
    rois = []
    for size in (1, 3, 10, 101, 2000, 7):
        values = rng.normal(50.0, 30.0, size).round(1)
        if size == 7:
            values[:] = 3.0  # flat ROI: moments 0
        rois.append((values, (np.floor(values / 10) - np.floor(values.min() / 10) + 1).astype(int)))
    starts = np.concatenate(([0], np.cumsum([len(v) for v, _ in rois])))
    values = xp.asarray(np.concatenate([v for v, _ in rois]))
    levels = xp.asarray(np.concatenate([lv for _, lv in rois]))
    table = to_numpy(firstorder_batch(values, levels, starts, [2.0] * len(rois), mode=mode))
    for row, (roi_values, roi_levels) in zip(table, rois):
        shape = (1, 1, len(roi_values))
        native = firstorder.compute_firstorder(
            roi_values.reshape(shape), np.ones(shape, dtype=bool), spacing=(1.0, 1.0, 2.0),
            mode=mode, levels=roi_levels.reshape(shape), n_levels=int(roi_levels.max()),
        )
        assert_same_features(dict(zip(firstorder.FEATURE_NAMES, row.tolist())), native, xp,
                             f"firstorder {mode} n={len(roi_values)}")

"""Sparse per-kernel GLCM features equal the dense ones of radiopipe.features.glcm."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.features.directions import direction_offsets
from radiopipe.features.glcm import FEATURES, cooccurrence_statistics
from radiopipe.voxelwise.glcm import FEATURE_NAMES, glcm_maps
from radiopipe.voxelwise.kernels import KernelInput


def _phantom(radius):
    """Levels 1, 2, 4, 7 and 9 (gaps in between) on a random ROI, padded by the radius."""
    rng = np.random.default_rng(7)
    levels = rng.choice([1, 2, 4, 7, 9], size=(5, 7, 8)).astype(np.int32)
    levels[1:3, 1:4, 1:4] = 4  # kernels of one level
    roi = rng.random(levels.shape) < 0.6
    roi[3:, 5:, 6:] = False
    roi[4, 6, 7] = True  # an isolated corner voxel: a kernel without pairs
    pad = [(radius, radius)] * 3
    counted = np.pad(roi, pad)
    padded = np.pad(np.where(roi, levels, 0), pad).astype(np.int32)
    return KernelInput(
        values=np.where(counted, padded, np.nan).astype(np.float64),
        levels=padded,
        counted=counted,
        centres=np.argwhere(counted),
        grey_levels=np.unique(padded[counted]).astype(np.int64),
        radius=radius,
        spacing=(1.0, 1.0, 1.0),
    )


def _dense_features(kernels, symmetric):
    """Every centre's features from its dense matrices, averaged over directions with a pair."""
    grey_levels = kernels.grey_levels
    index = np.full(kernels.levels.shape, -1)
    index[kernels.counted] = np.searchsorted(grey_levels, kernels.levels[kernels.counted])
    r = kernels.radius
    result = {name: [] for name in FEATURE_NAMES}
    for z, y, x in kernels.centres:
        matrices = []
        for offset in direction_offsets(1):
            counts = np.zeros((len(grey_levels), len(grey_levels)))
            low = np.maximum([z - r, y - r, x - r], np.array([z - r, y - r, x - r]) - offset)
            high = np.minimum([z + r, y + r, x + r], np.array([z + r, y + r, x + r]) - offset)
            a = index[low[0]:high[0] + 1, low[1]:high[1] + 1, low[2]:high[2] + 1]
            shifted = low + offset
            b = index[shifted[0]:shifted[0] + a.shape[0], shifted[1]:shifted[1] + a.shape[1],
                      shifted[2]:shifted[2] + a.shape[2]]
            both = (a >= 0) & (b >= 0)
            np.add.at(counts, (a[both], b[both]), 1.0)
            if symmetric:
                counts = counts + counts.T
            if counts.sum() > 0:
                matrices.append(counts / counts.sum())
        if not matrices:
            for name in FEATURE_NAMES:
                result[name].append(np.nan)
            continue
        statistics = cooccurrence_statistics(np.stack(matrices), grey_levels.astype(np.float64))
        for name in FEATURE_NAMES:
            result[name].append(float(np.mean(FEATURES[name](statistics))))
    return {name: np.array(values) for name, values in result.items()}


@pytest.mark.parametrize(("radius", "symmetric"), [(1, True), (2, True), (1, False)])
def test_sparse_kernel_features_equal_dense_matrices(radius, symmetric):
    kernels = _phantom(radius)
    ours = glcm_maps(kernels, FEATURE_NAMES, symmetric=symmetric)
    expected = _dense_features(kernels, symmetric)
    assert np.isnan(expected["Contrast"]).any() == (radius == 1)  # the isolated voxel
    for name in FEATURE_NAMES:
        np.testing.assert_array_equal(np.isnan(ours[name]), np.isnan(expected[name]), name)
        scale = np.nanmax(np.abs(expected[name]))
        # MCC is the root of an eigenvalue: one that is 0 up to rounding (1e-17) gives 3e-9
        atol = 1e-8 if name == "MCC" else 1e-13 * scale
        np.testing.assert_allclose(ours[name], expected[name], rtol=1e-10, atol=atol,
                                   err_msg=name)


def test_only_the_features_asked_for():
    kernels = _phantom(1)
    assert list(glcm_maps(kernels, ["Idm", "MCC"])) == ["Idm", "MCC"]

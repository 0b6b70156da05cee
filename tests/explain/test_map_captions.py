"""Map captions and the methods appendix say which engine computed a map's local values."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.local_values import KERNELS, WINDOWS
from radiopipe.explain.map_captions import engines_text, map_caption

ITEM = FeatureMap(
    feature="original__glcm__Contrast", slice_index=4, image=np.zeros((2, 2)),
    roi=np.ones((2, 2), dtype=bool), values=np.ones((2, 2)), window=5, stride=1,
    spacing=(1.0, 1.0), window_voxels=np.full((2, 2), 100), min_coverage=0.5, roi_voxels=400,
    whole_roi=2.5, slice_spacing=2.0,
)
VOXEL_WISE = "the voxel-wise engine (pyradiomics' voxel-based definitions"
OWN_CODE = "the extraction's own feature code"


def test_a_local_value_caption_names_the_engine_that_computed_it():
    kernels = map_caption(replace(ITEM, engine=KERNELS), str)
    windows = map_caption(replace(ITEM, engine=WINDOWS), str)
    assert f"computed by {VOXEL_WISE}" in kernels and OWN_CODE not in kernels
    assert f"computed by {OWN_CODE}" in windows and VOXEL_WISE not in windows
    for caption in (kernels, windows):
        assert "5 x 5 x 5-voxel (10 x 5 x 5 mm) window" in caption
        assert "discretisation (over the whole ROI)" in caption


def test_a_contribution_caption_names_every_engine_of_its_local_maps():
    item = replace(ITEM, kind=CONTRIBUTION, output="malignant", feature="a + b",
                   engine=f"{KERNELS} + {WINDOWS}")
    caption = map_caption(item, str)
    assert VOXEL_WISE in caption and f"and {OWN_CODE}" in caption


def test_the_methods_text_names_the_families_the_kernels_compute_under_the_settings():
    default = engines_text(FeatureConfig(), 5)
    assert default.startswith(
        "first-order, GLCM, GLRLM, GLSZM, GLDM, NGTDM features of 3D images: the voxel-wise "
        "engine")
    assert "kernels of radius 2 (the window)" in default and OWN_CODE in default
    # the kernels compute neighbours at distance 1 only: GLCM, GLDM, NGTDM fall back
    assert engines_text(FeatureConfig(distances=[1, 2]), 5).startswith(
        "first-order, GLRLM, GLSZM features of 3D images")
    ibsi = engines_text(FeatureConfig(definitions="ibsi"), 5)
    assert ibsi == f"{OWN_CODE} on the ROI voxels of each window, in every map"

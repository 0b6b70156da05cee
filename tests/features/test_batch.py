"""Many cases in one call: small ROIs batched, each row equal to the one-case extraction."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from radiopipe.config import FeatureConfig
from radiopipe.datasets import mni152_tissue
from radiopipe.features.batch import SMALL_ROI_VOXELS, extract_many, is_small
from radiopipe.features.engine import extract_features
from radiopipe.gpu import extract as gpu_extract
from radiopipe.gpu.packing import RoiItem
from radiopipe.io import Volume

ALL_FAMILIES = [
    "firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm", "gldzm", "ngldm",
    "intensity_histogram", "intensity_volume", "local_intensity",
]
GEOMETRY_3D = ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
GEOMETRY_2D = ((0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
SETTINGS = {
    "pyradiomics-defaults": FeatureConfig(),
    "ibsi-all-3D_avg-fbn": FeatureConfig(
        definitions="ibsi", families=ALL_FAMILIES, aggregation="3D_avg",
        discretisation="fixed_bin_number", bin_count=16,
    ),
    "ibsi-2_5D_comb-fbs": FeatureConfig(
        definitions="ibsi", families=ALL_FAMILIES[:-1], aggregation="2_5D_comb",
        discretisation="fixed_bin_size", bin_width=15.0,
    ),
    "pyradiomics-2D": FeatureConfig(aggregation="2D_avg", bin_width=10.0),
}


def assert_rows_equal(batched: list[dict], single: list[dict], rtol: float = 1e-10) -> None:
    """Same keys, every value equal to ``rtol`` relative (1e-12 absolute near 0; NaN = NaN)."""
    assert len(batched) == len(single)
    bad = []
    for k, (ours, expected) in enumerate(zip(batched, single)):
        assert list(ours) == list(expected), f"case {k}: columns differ"
        for key, value in expected.items():
            if math.isnan(value) and math.isnan(ours[key]):
                continue
            if not abs(ours[key] - value) <= 1e-12 + rtol * abs(value):
                bad.append(f"case {k} {key}: {ours[key]!r} != {value!r}")
    assert not bad, f"{len(bad)} values differ:\n" + "\n".join(bad[:20])


def synthetic_cases(seed: int, count: int) -> list[tuple[Volume, Volume]]:
    """Small textured 2D and 3D ROIs of many shapes, spacings and sizes (1 voxel up)."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(count):
        planar = k % 4 == 3
        shape = tuple(rng.integers(1 if planar else 2, 14, 2 if planar else 3))
        image = (200 + 60 * ndimage.gaussian_filter(rng.normal(size=shape), 1.0)).round()
        mask = ndimage.gaussian_filter(rng.normal(size=shape), 1.0) > 0.0
        mask.flat[rng.integers(mask.size)] = True
        spacing = tuple(float(s) for s in rng.uniform(0.5, 2.0, len(shape)))
        geometry = GEOMETRY_2D if planar else GEOMETRY_3D
        cases.append((Volume(image, spacing, *geometry),
                      Volume(mask.astype(np.uint8), spacing, *geometry)))
    return cases


@pytest.mark.parametrize("name", SETTINGS)
def test_synthetic_small_rois_equal_one_case_extraction(name):
    settings = SETTINGS[name]
    cases = synthetic_cases(7, 24)
    assert all(is_small(mask) for _, mask in cases)
    single = [extract_features(image, mask, settings) for image, mask in cases]
    assert_rows_equal(extract_many(cases, settings), single)


@pytest.fixture(scope="module")
def mni152_patches(tmp_path_factory):
    """30 patches of the built-in MNI152 tissue dataset (123-voxel spheres)."""
    manifest = mni152_tissue(cases_per_class=10, cache_dir=tmp_path_factory.mktemp("mni"))
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (Volume.from_sitk(sitk.ReadImage(str(manifest.parent / row["image"]))),
         Volume.from_sitk(sitk.ReadImage(str(manifest.parent / row["mask"]))))
        for row in rows
    ]


@pytest.mark.parametrize("name", ["pyradiomics-defaults", "ibsi-all-3D_avg-fbn"])
def test_mni152_patches_with_every_texture_family_equal_one_case_extraction(
    mni152_patches, name
):
    settings = SETTINGS[name].model_copy(update={"families": ALL_FAMILIES})
    single = [extract_features(image, mask, settings) for image, mask in mni152_patches]
    assert_rows_equal(extract_many(mni152_patches, settings), single)


def test_mni152_patches_with_filters_equal_one_case_extraction(mni152_patches):
    settings = FeatureConfig(image_types=["original", "log", "wavelet"], log_sigmas=[1.0, 2.0])
    patches = mni152_patches[:8]
    single = [extract_features(image, mask, settings) for image, mask in patches]
    assert_rows_equal(extract_many(patches, settings), single)


def test_large_and_small_rois_mixed_keep_their_order():
    small = synthetic_cases(3, 3)
    side = 26
    grid = np.indices((side, side, side)) - side // 2
    large_mask = ((grid**2).sum(axis=0) <= 11**2).astype(np.uint8)
    assert large_mask.sum() > SMALL_ROI_VOXELS
    image = np.random.default_rng(5).normal(100.0, 30.0, large_mask.shape).round()
    large = (Volume(image, (1.0, 1.0, 1.0), *GEOMETRY_3D),
             Volume(large_mask, (1.0, 1.0, 1.0), *GEOMETRY_3D))
    assert not is_small(large[1])
    cases = [small[0], large, small[1], small[2]]
    settings = FeatureConfig()
    single = [extract_features(image, mask, settings) for image, mask in cases]
    assert_rows_equal(extract_many(cases, settings), single)


def test_cpu_batches_are_bounded_by_their_grey_level_matrices():
    def roi(n_levels):
        mask = np.ones((1, 2, 2), dtype=bool)
        item = RoiItem(mask, np.ones(4), np.ones(4, dtype=np.int64), n_levels, 1.0)
        return gpu_extract._Roi(0, "original", item)

    rois = [roi(2), roi(3), roi(10), roi(10)]
    batches = gpu_extract._split(rois, max_entries=250)
    assert [[r.item.n_levels for r in batch] for batch in batches] == [[2, 3], [10, 10]]
    assert len(gpu_extract._split(rois)) == 1


def test_rois_split_into_several_batches_equal_one_case_extraction(monkeypatch):
    monkeypatch.setattr(gpu_extract, "CPU_MATRIX_ENTRIES", 300)
    settings = FeatureConfig(bin_width=5.0)
    cases = synthetic_cases(9, 16)
    single = [extract_features(image, mask, settings) for image, mask in cases]
    assert_rows_equal(extract_many(cases, settings), single)

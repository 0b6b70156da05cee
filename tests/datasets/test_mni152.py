"""The built-in MNI152 tissue dataset: real data, honest ROIs, leak-free patient blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radiopipe.datasets import mni152_tissue
from radiopipe.datasets.mni152 import BLOCK_SIZE, TISSUES


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    manifest = mni152_tissue(cases_per_class=6, seed=3, cache_dir=tmp_path_factory.mktemp("cache"))
    return manifest, pd.read_csv(manifest, dtype=str)


def test_balanced_three_tissue_classes(dataset):
    _, frame = dataset
    assert sorted(frame["label"].value_counts().items()) == [(t, 6) for t in sorted(TISSUES)]


def test_every_roi_is_the_same_sphere_whatever_the_label(dataset):
    manifest, frame = dataset
    masks = [
        sitk.GetArrayFromImage(sitk.ReadImage(str(manifest.parent / m))) for m in frame["mask"]
    ]
    assert all(np.array_equal(masks[0], m) for m in masks)
    assert masks[0].sum() == 123  # voxels of a radius-3 ball


def test_crops_lie_inside_their_patient_block(dataset):
    manifest, frame = dataset
    for row in frame.itertuples():
        image = sitk.ReadImage(str(manifest.parent / row.image))
        # LPS origin back to MNI voxel indices: x and y flip sign, the template origin is
        # (-98, -134, -72).
        corner = np.rint(
            [-image.GetOrigin()[0] + 98, -image.GetOrigin()[1] + 134, image.GetOrigin()[2] + 72]
        )
        far = corner + np.asarray(image.GetSize()) - 1
        block = [int(b) for b in row.patient_id.split("-")[1:]]
        assert list(corner // BLOCK_SIZE) == block
        assert list(far // BLOCK_SIZE) == block


def test_intensities_are_the_shipped_grey_values(dataset):
    manifest, frame = dataset
    values = sitk.GetArrayFromImage(sitk.ReadImage(str(manifest.parent / frame["image"][0])))
    assert values.dtype == np.int16 and 0 <= values.min() and values.max() <= 255


def test_second_call_reuses_the_cache(dataset, tmp_path_factory):
    manifest, _ = dataset
    stamp = manifest.stat().st_mtime_ns
    again = mni152_tissue(cases_per_class=6, seed=3, cache_dir=manifest.parent.parent)
    assert again == manifest and again.stat().st_mtime_ns == stamp


def test_unknown_variant():
    with pytest.raises(ValueError, match="variant must be one of boundary, interior"):
        mni152_tissue(variant="edge")

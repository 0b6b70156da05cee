"""The engine's public steps (prepare, shape, filter, families) compose to extract_features."""

from __future__ import annotations

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.engine import extract_features
from radiopipe.features.extract import (
    compute_families,
    filter_images,
    prepare_case,
    shape_features,
)
from radiopipe.features.registry import reported
from radiopipe.io import Volume

GEOMETRY = ((0.0, 0.0, 0.0), tuple(np.eye(3).ravel()))
SPACING = (2.0, 0.7, 0.8)
SETTINGS = FeatureConfig(
    definitions="ibsi",
    families=["firstorder", "shape", "glcm", "gldzm", "local_intensity"],
    image_types=["original", "log"],
    log_sigmas=[1.0],
    discretisation="fixed_bin_number",
    bin_count=8,
    resegment_range=[80, 200],
)


def _case():
    rng = np.random.default_rng(7)
    image = rng.normal(110.0, 40.0, (8, 20, 18)).round()
    mask = np.zeros(image.shape, dtype=np.uint8)
    mask[2:6, 4:15, 3:14] = 1
    return Volume(image, SPACING, *GEOMETRY), Volume(mask, SPACING, *GEOMETRY)


def test_the_steps_compose_to_extract_features():
    image, mask = _case()
    prepared = prepare_case(image, mask, SETTINGS)
    features = shape_features(prepared, SETTINGS)
    for name, filtered in filter_images(prepared, SETTINGS).items():
        features.update(compute_families(name, filtered, prepared, SETTINGS))
    assert reported(features, "ibsi") == extract_features(image, mask, SETTINGS)


def test_a_prepared_case_knows_its_boxes():
    image, mask = _case()
    prepared = prepare_case(image, mask, SETTINGS)
    assert prepared.box == (slice(2, 6), slice(4, 15), slice(3, 14))  # the morphological mask's
    kept = np.argwhere(prepared.intensity_mask)
    assert prepared.roi_box == tuple(slice(a, b + 1) for a, b in zip(kept.min(0), kept.max(0)))
    region = prepared.region  # widened by the local-intensity sphere, within the image
    assert all(r.start <= b.start and b.stop <= r.stop for r, b in zip(region, prepared.box))
    inner = prepared.in_region(prepared.box)
    whole = np.arange(np.prod(image.array.shape)).reshape(image.array.shape)
    np.testing.assert_array_equal(whole[region][inner], whole[prepared.box])


def test_filtering_a_subset_over_another_region_gives_the_same_voxels():
    image, mask = _case()
    prepared = prepare_case(image, mask, SETTINGS)
    everything = filter_images(prepared, SETTINGS)
    only_log = filter_images(prepared, SETTINGS, image_types={"log"}, region=prepared.roi_box)
    assert list(only_log) == ["log-sigma-1-0-mm-3D"]
    inner = prepared.in_region(prepared.roi_box)
    np.testing.assert_array_equal(only_log["log-sigma-1-0-mm-3D"],
                                  everything["log-sigma-1-0-mm-3D"][inner])

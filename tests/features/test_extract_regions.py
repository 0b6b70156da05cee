"""The extraction filters only the region the families read; values equal whole-image filtering."""

from __future__ import annotations

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.engine import extract_features
from radiopipe.features.local_intensity import compute_local_intensity
from radiopipe.filters import compute_image_types
from radiopipe.io import Volume

IDENTITY = tuple(np.eye(3).ravel())
SPACING = (2.0, 0.8, 0.8)


def _volume(array):
    return Volume(array, SPACING, (0.0, 0.0, 0.0), IDENTITY)


def _case():
    rng = np.random.default_rng(4)
    image = rng.normal(100.0, 25.0, (9, 24, 20)).round()
    mask = np.zeros(image.shape, dtype=bool)
    mask[0:4, 1:9, 12:20] = rng.random((4, 8, 8)) > 0.3  # touches three borders of the image
    return image, mask


def test_local_intensity_sees_the_same_neighbourhood_as_on_the_whole_image():
    image, mask = _case()
    settings = FeatureConfig(
        definitions="ibsi",
        image_types=["original", "log", "wavelet"],
        log_sigmas=[1.0],
        families=["local_intensity"],
    )
    features = extract_features(_volume(image), _volume(mask), settings)
    selection = {"Original": {}, "LoG": {"sigmas": [1.0]}, "Wavelet": {}}
    for name, filtered in compute_image_types(image, SPACING, selection).items():
        expected = compute_local_intensity(np.asarray(filtered, dtype=np.float64), mask, SPACING)
        for feature, value in expected.items():
            assert features[f"{name}__local_intensity__{feature}"] == value


def test_integer_images_give_the_values_of_their_float64_copy():
    image, mask = _case()
    settings = FeatureConfig(image_types=["original", "log", "wavelet"], log_sigmas=[1.0, 2.0])
    as_float = extract_features(_volume(image), _volume(mask), settings)
    as_integer = extract_features(_volume(image.astype(np.int16)), _volume(mask), settings)
    assert as_integer.keys() == as_float.keys()
    for key, value in as_float.items():
        assert as_integer[key] == value or (np.isnan(value) and np.isnan(as_integer[key])), key

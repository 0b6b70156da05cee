"""Square, square root, logarithm, exponential and gradient image types."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import pyradiomics_case

from radiopipe.filters import FILTERS, compute_image_types, pyradiomics_filter_input
from radiopipe.filters.simple import (
    central_difference_magnitude,
    exponential,
    gradient_magnitude,
    logarithm,
    square,
    square_root,
)

SIMPLE_TYPES = {"Square": "square", "SquareRoot": "squareroot", "Logarithm": "logarithm",
                "Exponential": "exponential", "Gradient": "gradient"}

# A 2x2 image with M = max|x| = 4, and its image types worked out by hand.
IMAGE = np.array([[-4.0, 0.0], [1.0, 2.0]])
EXPECTED = {
    square: [[4.0, 0.0], [0.25, 1.0]],  # (x / 2)^2
    square_root: [[-4.0, 0.0], [2.0, math.sqrt(8)]],  # sign(x) sqrt(4 |x|)
    logarithm: [[-4.0, 0.0], [4 * math.log(2) / math.log(5), 4 * math.log(3) / math.log(5)]],
    exponential: [[0.25, 1.0], [math.sqrt(2), 2.0]],  # 4^(x / 4)
}


@pytest.mark.parametrize("function", list(EXPECTED), ids=lambda f: f.__name__)
def test_point_filters_by_hand(function):
    np.testing.assert_allclose(function(IMAGE), EXPECTED[function], rtol=1e-12)


@pytest.mark.parametrize("function", [gradient_magnitude, central_difference_magnitude])
def test_gradient_by_hand(function):
    # Central differences, border voxels repeated: d/dx of [0, 2, 6] with 2 mm voxels.
    image = np.array([[0.0, 2.0, 6.0], [0.0, 2.0, 6.0]])
    out = function(image, (1.0, 2.0))
    np.testing.assert_allclose(out, [[0.5, 1.5, 1.0]] * 2)
    assert out.dtype == np.float32
    unscaled = function(image, (1.0, 2.0), use_spacing=False)
    np.testing.assert_allclose(unscaled, [[1, 3, 2]] * 2)


def test_all_zero_image_gives_defined_values():
    zeros = np.zeros((2, 3, 3))
    for function in (square, square_root, logarithm):
        assert np.array_equal(function(zeros), zeros)
    assert np.array_equal(exponential(zeros), np.ones_like(zeros))
    assert np.array_equal(gradient_magnitude(zeros, (1.0, 1.0, 1.0)), zeros)
    assert np.array_equal(central_difference_magnitude(zeros, (1.0, 1.0, 1.0)), zeros)


def test_unknown_image_type_is_refused():
    with pytest.raises(ValueError, match="Unknown image types \\['Sqare'\\]"):
        compute_image_types(IMAGE, (1.0, 1.0), {"Sqare": {}})


def test_registry_names_are_pyradiomics_image_types():
    assert set(FILTERS) == {"Original", *SIMPLE_TYPES, "LoG", "Wavelet", "LBP2D", "LBP3D"}


def _pyradiomics_images(name: str, settings: dict) -> dict[str, np.ndarray]:
    """pyradiomics' simple image types, on the image its extractor prepares with ``settings``."""
    pytest.importorskip("radiomics")
    from radiomics import imageoperations
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    arguments = {**RadiomicsFeatureExtractor._getDefaultSettings(), **settings}
    case = pyradiomics_case(name)
    image, mask = RadiomicsFeatureExtractor.loadImage(
        str(case.image_path), str(case.label_path), **arguments
    )
    images = {}
    for image_type in SIMPLE_TYPES:
        generate = getattr(imageoperations, f"get{image_type}Image")
        for filtered, filtered_name, _ in generate(image, mask, **arguments):
            images[filtered_name] = sitk.GetArrayFromImage(filtered)
    return images


@pytest.mark.reference
@pytest.mark.parametrize(
    ("name", "settings", "ours"),
    [
        ("brain1", {}, {}),
        ("breast1", {}, {}),
        ("lung1", {}, {}),
        ("lung1", {"preCrop": True}, {"pre_crop": True}),
        ("brain1", {"resampledPixelSpacing": [1, 1, 2], "interpolator": "sitkLinear"},
         {"resampled_spacing": (2, 1, 1), "interpolator": "linear"}),
    ],
)
def test_matches_pyradiomics_voxelwise(name, settings, ours):
    image, mask = pyradiomics_case(name).volumes()
    reference = _pyradiomics_images(name, settings)
    prepared, _ = pyradiomics_filter_input(image, mask, **ours)
    computed = compute_image_types(prepared.array, prepared.spacing, {t: {} for t in SIMPLE_TYPES})
    assert list(computed) == list(reference) == list(SIMPLE_TYPES.values())
    for key in reference:
        assert computed[key].dtype == reference[key].dtype
        np.testing.assert_allclose(computed[key], reference[key], rtol=1e-6, atol=1e-9)
    # The array-namespace gradient (the GPU path) on the same input.
    gpu_path = central_difference_magnitude(prepared.array, prepared.spacing)
    np.testing.assert_allclose(gpu_path, reference["gradient"], rtol=1e-6, atol=1e-9)


@pytest.mark.reference
def test_gradient_without_spacing_matches_pyradiomics():
    case = pyradiomics_case("breast1")
    image, _ = case.volumes()
    pytest.importorskip("radiomics")
    from radiomics import imageoperations

    sitk_image, _ = case.images()
    generated = imageoperations.getGradientImage(sitk_image, None, gradientUseSpacing=False)
    ((filtered, _, _),) = generated
    computed = compute_image_types(image.array, image.spacing, {"Gradient": {"use_spacing": False}})
    np.testing.assert_allclose(computed["gradient"], sitk.GetArrayFromImage(filtered), rtol=1e-6)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cupy = pytest.importorskip("cupy")
    image = np.random.default_rng(3).normal(0, 50, (6, 9, 8))
    for function in (square, square_root, logarithm, exponential):
        on_gpu = cupy.asnumpy(function(cupy.asarray(image)))
        np.testing.assert_allclose(on_gpu, function(image), rtol=1e-12)
    on_gpu = cupy.asnumpy(gradient_magnitude(cupy.asarray(image), (2.0, 1.0, 0.5)))
    on_cpu = central_difference_magnitude(image, (2.0, 1.0, 0.5))
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-6)

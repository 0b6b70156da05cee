"""Filters computed over a region only (the ROI's bounding box) equal the whole image's, cropped.

The LoG over a region runs ITK's recursive passes re-implemented in
`radiopipe.filters.recursive_gaussian`; it must equal SimpleITK bit for bit, which is what makes it
pyradiomics' LoG, up to what lies beyond the region's reading box: less than 1e-14 of the image's
range. The wavelet over a region gathers the periodic neighbourhood it depends on.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import pyradiomics_case
from scipy.signal import lfilter

from radiopipe.filters import FILTERS, compute_image_types
from radiopipe.filters.log import laplacian_of_gaussian
from radiopipe.filters.recursive_gaussian import (
    laplacian_of_gaussian_region,
    reading_box,
    recursive_coefficients,
    recursive_pass,
)
from radiopipe.filters.wavelet import wavelet_images
from radiopipe.preprocess.crop import crop_slices


def _simpleitk_log(array: np.ndarray, spacing, sigma: float) -> np.ndarray:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(reversed(spacing)))
    log = sitk.LaplacianRecursiveGaussianImageFilter()
    log.SetNormalizeAcrossScale(True)
    log.SetSigma(sigma)
    return sitk.GetArrayFromImage(log.Execute(image))


def _random_regions(shape, rng, count: int):
    for _ in range(count):
        start = [int(rng.integers(0, n)) for n in shape]
        stop = [int(rng.integers(a + 1, n + 1)) for a, n in zip(start, shape)]
        yield tuple(slice(a, b) for a, b in zip(start, stop))


def test_smoothing_pass_keeps_a_constant_line_constant():
    # The boundary coefficients extend the edge value to infinity; the kernel sums to 1.
    line = np.full((1, 12, 1), 7.0)
    coefficients = recursive_coefficients(1.5, 1.0, order=0)
    out = recursive_pass(line, 1, coefficients, slice(0, 12))
    np.testing.assert_allclose(out.ravel(), 7.0, rtol=1e-6)
    assert out.dtype == np.float32


def test_pass_keeps_only_the_window_along_its_axis():
    data = np.random.default_rng(0).normal(size=(3, 10, 4))
    coefficients = recursive_coefficients(2.0, 0.8, order=2)
    whole = recursive_pass(data, 1, coefficients, slice(0, 10))
    part = recursive_pass(data, 1, coefficients, slice(2, 5))
    assert part.shape == (3, 3, 4)
    np.testing.assert_array_equal(part, whole[:, 2:5])


@pytest.mark.parametrize(
    ("shape", "spacing"),
    [((6, 9, 11), (2.0, 0.7, 0.9)), ((12, 5, 7), (1.0, 1.0, 1.0)), ((4, 4, 4), (3.0, 1.0, 0.5))],
)
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_log_over_a_region_equals_simpleitk_bit_for_bit(shape, spacing, sigma):
    rng = np.random.default_rng(sum(shape))
    image = rng.normal(100.0, 30.0, shape)
    reference = _simpleitk_log(image, spacing, sigma)
    whole = tuple(slice(0, n) for n in shape)
    computed = laplacian_of_gaussian_region(image, spacing, sigma, whole)
    np.testing.assert_array_equal(computed, reference)
    for region in _random_regions(shape, rng, 5):
        computed = laplacian_of_gaussian(image, spacing, sigma, region=region)
        assert computed.dtype == np.float32
        np.testing.assert_array_equal(computed, reference[region])


@pytest.mark.parametrize("sigma_voxels", [0.3, 0.6, 1.0, 1.75, 5.26, 20.0])
@pytest.mark.parametrize("order", [0, 2])
def test_reading_box_holds_all_but_1e_14_of_a_pass_impulse_response(sigma_voxels, order):
    coefficients = recursive_coefficients(sigma_voxels, 1.0, order=order)
    impulse = np.zeros(6000)
    impulse[0] = 1.0
    response = np.abs(lfilter(coefficients[:4], np.r_[1.0, coefficients[4:8]], impulse))
    box = reading_box((6000,), (1.0,), sigma_voxels, (slice(0, 1),))[0]
    reach = box.stop - 1
    assert reach < 30 * sigma_voxels + 5  # a bounded box, not the whole line
    # a voxel `reach` or more samples before the region moves its pass by at most this share of
    # the image's range (the causal recursion; the anti-causal one is its mirror)
    assert response[reach:].sum() <= 1e-14


@pytest.mark.parametrize("sigma", [1.0, 3.0])
def test_log_over_the_reading_box_equals_the_whole_lines_to_float32_rounding(sigma):
    rng = np.random.default_rng(7)
    image = rng.normal(0.0, 400.0, (60, 150, 160)) + np.linspace(-1000.0, 2000.0, 160)
    spacing = (5.0, 0.6, 0.7)
    region = (slice(28, 32), slice(70, 82), slice(75, 90))
    box = reading_box(image.shape, spacing, sigma, region)
    assert any(b.stop - b.start < n for b, n in zip(box, image.shape))
    exact = laplacian_of_gaussian_region(image, spacing, sigma, region)
    computed = laplacian_of_gaussian(image, spacing, sigma, region=region)
    assert computed.dtype == np.float32
    # within one float32 rounding step of the whole lines' value, plus the tail's 1e-14
    span = image.max() - image.min()
    np.testing.assert_array_less(np.abs(computed.astype(np.float64) - exact),
                                 np.spacing(np.abs(exact)) + 1e-12 * span)


def test_log_reads_integer_images_as_their_float64_values():
    image = np.random.default_rng(3).integers(-1000, 2000, (5, 8, 9)).astype(np.int16)
    region = (slice(1, 4), slice(2, 6), slice(0, 9))
    computed = laplacian_of_gaussian(image, (2.5, 0.7, 0.7), 1.0, region=region)
    reference = _simpleitk_log(image.astype(np.float64), (2.5, 0.7, 0.7), 1.0)
    np.testing.assert_array_equal(computed, reference[region])


@pytest.mark.parametrize("wavelet", ["coif1", "haar", "db3"])
@pytest.mark.parametrize("shape", [(5, 7, 9), (4, 6, 8), (21, 30, 17), (1, 2, 9)])
@pytest.mark.parametrize(("axes", "level", "start_level"), [((2, 1, 0), 1, 0), ((2, 1), 2, 1)])
def test_wavelet_over_a_region_equals_the_whole_transform_bit_for_bit(
    wavelet, shape, axes, level, start_level
):
    rng = np.random.default_rng(len(wavelet) + sum(shape))
    image = rng.normal(size=shape)
    settings = {"wavelet": wavelet, "axes": axes, "level": level, "start_level": start_level}
    whole = wavelet_images(image, **settings)
    for region in _random_regions(shape, rng, 8):
        part = wavelet_images(image, **settings, region=region)
        assert list(part) == list(whole)
        for name, values in whole.items():
            np.testing.assert_array_equal(part[name], values[region])


def test_every_image_type_over_a_region_equals_the_whole_image_cropped():
    image = np.random.default_rng(5).normal(50.0, 20.0, (9, 10, 11))
    selection = {name: {} for name in FILTERS}
    selection["LoG"] = {"sigmas": [1.0, 2.0]}
    region = (slice(2, 6), slice(0, 4), slice(7, 11))
    whole = compute_image_types(image, (2.0, 0.8, 0.8), selection)
    part = compute_image_types(image, (2.0, 0.8, 0.8), selection, region=region)
    assert list(part) == list(whole)
    for name, values in whole.items():
        np.testing.assert_array_equal(part[name], values[region])


@pytest.mark.reference
@pytest.mark.parametrize("name", ["brain1", "breast1", "lung1"])
def test_log_over_the_roi_box_of_a_real_case_equals_simpleitk(name):
    image, mask = pyradiomics_case(name).volumes()
    array, spacing = image.array.astype(np.float64), image.spacing
    box = crop_slices(mask.array)
    for sigma in (1.0, 3.0):
        computed = laplacian_of_gaussian(array, spacing, sigma, region=box)
        np.testing.assert_array_equal(computed, _simpleitk_log(array, spacing, sigma)[box])

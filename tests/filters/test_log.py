"""Laplacian of Gaussian: hand-checkable responses, SimpleITK and pyradiomics parity."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import pyradiomics_case

from radiopipe.filters import compute_image_types, pyradiomics_filter_input
from radiopipe.filters.log import (
    laplacian_of_gaussian,
    log_image_name,
    log_images,
    recursive_laplacian_of_gaussian,
)

SIGMAS = [1.0, 2.0, 3.0]


def _sitk_log(array: np.ndarray, spacing, sigma: float) -> np.ndarray:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(reversed(spacing)))
    log = sitk.LaplacianRecursiveGaussianImageFilter()
    log.SetNormalizeAcrossScale(True)
    log.SetSigma(sigma)
    return sitk.GetArrayFromImage(log.Execute(image))


def _assert_close(ours: np.ndarray, reference: np.ndarray) -> None:
    """Relative 1e-6 voxelwise, absolute 1e-6 of the image's range near zero crossings."""
    scale = float(np.abs(reference).max()) or 1.0
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-6 * scale)


def test_quadratic_gives_twice_sigma_squared():
    # f = x^2 (mm^2): G * f = x^2 + sigma^2, so sigma^2 * Laplacian = 2 sigma^2 away from borders.
    x = np.arange(160, dtype=float) * 0.5
    image = np.broadcast_to(x**2, (6, 6, 160)).copy()
    out = laplacian_of_gaussian(image, (1.0, 1.0, 0.5), sigma=2.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, :, 50:110], 8.0, rtol=1e-5)


def test_constant_and_linear_images_give_zero():
    constant = np.full((5, 6, 7), 100.0)
    assert np.abs(laplacian_of_gaussian(constant, (1.0, 1.0, 1.0), 1.0)).max() < 1e-4
    ramp = np.broadcast_to(np.arange(40.0), (5, 5, 40)).copy()
    assert np.abs(laplacian_of_gaussian(ramp, (1.0, 1.0, 1.0), 1.0)[:, :, 10:30]).max() < 1e-3


def test_point_source_is_negative_at_centre_and_symmetric():
    image = np.zeros((9, 9, 9))
    image[4, 4, 4] = 1.0
    out = laplacian_of_gaussian(image, (1.0, 1.0, 1.0), 1.0)
    assert out[4, 4, 4] == out.min() < 0
    np.testing.assert_allclose(out, out[::-1, ::-1, ::-1], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (3.0, 0.7, 0.9)])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_recursive_implementation_matches_simpleitk(spacing, sigma):
    # The array-namespace implementation is the GPU path; on NumPy it must equal SimpleITK.
    image = np.random.default_rng(0).normal(0, 100, (7, 12, 10)).astype(np.int16)
    reference = _sitk_log(image, spacing, sigma)
    _assert_close(recursive_laplacian_of_gaussian(image, spacing, sigma), reference)
    np.testing.assert_array_equal(laplacian_of_gaussian(image, spacing, sigma), reference)


def test_names_follow_pyradiomics():
    assert log_image_name(1.0) == "log-sigma-1-0-mm-3D"
    assert log_image_name(2.5) == "log-sigma-2-5-mm-3D"
    assert log_image_name(3) == "log-sigma-3-mm-3D"


def test_small_images_are_skipped_as_pyradiomics_skips_them():
    assert log_images(np.zeros((3, 10, 10)), (1.0, 1.0, 1.0), [1.0]) == {}
    kept = log_images(np.zeros((4, 10, 10)), (2.0, 1.0, 1.0), [1.0, 8.0])
    assert list(kept) == ["log-sigma-1-0-mm-3D"]


def test_bad_sigma_is_refused():
    with pytest.raises(ValueError, match="sigma"):
        laplacian_of_gaussian(np.zeros((5, 5, 5)), (1.0, 1.0, 1.0), 0.0)
    with pytest.raises(ValueError, match="at least 4"):
        laplacian_of_gaussian(np.zeros((3, 5, 5)), (1.0, 1.0, 1.0), 1.0)


def _pyradiomics_log(name: str, settings: dict) -> dict[str, np.ndarray]:
    """pyradiomics' LoG images, on the image its feature extractor prepares with ``settings``."""
    pytest.importorskip("radiomics")
    from radiomics import imageoperations
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    arguments = {**RadiomicsFeatureExtractor._getDefaultSettings(), **settings}
    case = pyradiomics_case(name)
    image, mask = RadiomicsFeatureExtractor.loadImage(
        str(case.image_path), str(case.label_path), **arguments
    )
    generated = imageoperations.getLoGImage(image, mask, **{**arguments, "sigma": SIGMAS})
    return {name: sitk.GetArrayFromImage(filtered) for filtered, name, _ in generated}


@pytest.mark.reference
@pytest.mark.parametrize(
    ("name", "settings", "ours"),
    [
        ("brain1", {}, {}),
        ("breast1", {}, {}),
        ("lung1", {"preCrop": True}, {"pre_crop": True}),
        ("brain1", {"resampledPixelSpacing": [1, 1, 1]}, {"resampled_spacing": (1, 1, 1)}),
    ],
)
def test_matches_pyradiomics_voxelwise(name, settings, ours):
    image, mask = pyradiomics_case(name).volumes()
    reference = _pyradiomics_log(name, settings)
    prepared, _ = pyradiomics_filter_input(image, mask, **ours)
    computed = compute_image_types(prepared.array, prepared.spacing, {"LoG": {"sigmas": SIGMAS}})
    assert list(computed) == list(reference) == [log_image_name(s) for s in SIGMAS]
    for sigma in SIGMAS:
        key = log_image_name(sigma)
        _assert_close(computed[key], reference[key])
        recursive = recursive_laplacian_of_gaussian(prepared.array, prepared.spacing, sigma)
        _assert_close(recursive, reference[key])


@pytest.mark.reference
@pytest.mark.slow
def test_matches_pyradiomics_on_whole_lung1():
    image, _ = pyradiomics_case("lung1").volumes()
    reference = _pyradiomics_log("lung1", {})
    for sigma in SIGMAS:
        recursive = recursive_laplacian_of_gaussian(image.array, image.spacing, sigma)
        _assert_close(recursive, reference[log_image_name(sigma)])


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cupy = pytest.importorskip("cupy")
    image = np.random.default_rng(1).normal(0, 100, (9, 20, 16))
    on_gpu = laplacian_of_gaussian(cupy.asarray(image), (2.0, 0.8, 0.8), 1.5)
    assert isinstance(on_gpu, cupy.ndarray)
    on_cpu = recursive_laplacian_of_gaussian(image, (2.0, 0.8, 0.8), 1.5)
    _assert_close(cupy.asnumpy(on_gpu), on_cpu)

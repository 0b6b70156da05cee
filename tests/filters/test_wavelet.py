"""Wavelet image types: a hand-computed Haar example, pywt and pyradiomics parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import SimpleITK as sitk
from reference_data import pyradiomics_case

from radiopipe.filters import compute_image_types, pyradiomics_filter_input
from radiopipe.filters.wavelet import wavelet_images

BANDS_3D = ["LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL"]


def test_haar_along_one_axis_by_hand():
    # Haar, one level, periodic: L[n] = (x[n] + x[n+1]) / sqrt 2, H[n] = (x[n] - x[n+1]) / sqrt 2.
    image = np.array([[[1.0, 2.0, 3.0, 5.0]]])
    out = wavelet_images(image, wavelet="haar", axes=(2,))
    assert list(out) == ["wavelet-H", "wavelet-L"]
    np.testing.assert_allclose(out["wavelet-L"].ravel(), np.array([3, 5, 8, 6]) / math.sqrt(2))
    np.testing.assert_allclose(out["wavelet-H"].ravel(), np.array([-1, -1, -2, 4]) / math.sqrt(2))


def test_odd_axis_is_wrapped_before_filtering_as_pyradiomics_does():
    # Length 3 is padded to 4 with x[0]: [1, 2, 4, 1]; the last sample wraps onto the pad voxel.
    out = wavelet_images(np.array([[[1.0, 2.0, 4.0]]]), wavelet="haar", axes=(2,))
    np.testing.assert_allclose(out["wavelet-L"].ravel(), np.array([3, 6, 5]) / math.sqrt(2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("wavelet", ["coif1", "coif2", "haar", "db3", "sym4", "bior2.2"])
@pytest.mark.parametrize("shape", [(4, 6, 8), (5, 7, 3), (1, 2, 9), (12, 17, 30)])
def test_equals_pywt_swtn_bit_for_bit(wavelet, shape, dtype):
    """The same sums in the same order as PyWavelets, in its type: a float32 image's sub-bands
    (float32 rounding of values of the order of the image's) are pyradiomics' only if equal."""
    image = (1000 * np.random.default_rng(0).normal(size=shape)).astype(dtype)
    padded = np.pad(image, [(0, n % 2) for n in shape], mode="wrap")
    reference = pywt.swtn(padded, wavelet, level=1, axes=(2, 1, 0))[0]
    out = wavelet_images(image, wavelet=wavelet, dtype=dtype)
    assert list(out) == [f"wavelet-{band}" for band in BANDS_3D]
    crop = tuple(slice(0, n) for n in shape)
    for band, values in out.items():
        key = band.removeprefix("wavelet-").replace("L", "a").replace("H", "d")
        assert values.dtype == dtype
        np.testing.assert_array_equal(values, reference[key][crop], err_msg=band)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_region_holds_the_whole_transform_bit_for_bit(dtype):
    """Block lines hold part of each periodic line; every kept output is summed in the order
    of its place on the whole line, near the line's end included."""
    image = (1000 * np.random.default_rng(1).normal(size=(11, 24, 29))).astype(dtype)
    whole = wavelet_images(image, dtype=dtype, level=2, start_level=1)
    for region in [(slice(2, 5), slice(1, 4), slice(20, 29)), (slice(0, 11), slice(18, 24),
                                                                slice(0, 3))]:
        part = wavelet_images(image, dtype=dtype, level=2, start_level=1, region=region)
        for name, values in whole.items():
            np.testing.assert_array_equal(part[name], values[region], err_msg=name)


def test_float32_filters_are_pywavelets_own():
    """coif1's float32 filter is not its float64 filter rounded: PyWavelets keeps its own."""
    from radiopipe.filters.wavelet import _pywavelets_filters

    low, high = _pywavelets_filters("coif1", "float32")
    assert low.dtype == np.float32
    assert not np.array_equal(low, np.float32(pywt.Wavelet("coif1").dec_lo))
    np.testing.assert_array_equal(_pywavelets_filters("coif1", "float64")[0],
                                  pywt.Wavelet("coif1").dec_lo)


def test_levels_are_named_as_pyradiomics_names_them():
    out = wavelet_images(np.ones((4, 4, 4)), level=2, start_level=1)
    assert list(out) == [f"wavelet-{b}" for b in BANDS_3D[:-1]] + [
        f"wavelet2-{b}" for b in BANDS_3D[:-1]
    ] + ["wavelet2-LLL"]


def test_flat_image_has_no_detail():
    out = wavelet_images(np.full((4, 5, 6), 7.0))
    np.testing.assert_allclose(out["wavelet-LLL"], 7.0 * 2**1.5)
    assert max(np.abs(v).max() for k, v in out.items() if k != "wavelet-LLL") < 1e-12


def test_bad_levels_are_refused():
    with pytest.raises(ValueError, match="'level'"):
        wavelet_images(np.ones((2, 2, 2)), level=0)
    with pytest.raises(ValueError, match="'start_level'"):
        wavelet_images(np.ones((2, 2, 2)), start_level=-1)


def _pyradiomics_wavelets(name: str, settings: dict, wavelet_settings: dict) -> dict:
    """pyradiomics' wavelet images, on the image its extractor prepares with ``settings``."""
    pytest.importorskip("radiomics")
    from radiomics import imageoperations
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    arguments = {**RadiomicsFeatureExtractor._getDefaultSettings(), **settings}
    case = pyradiomics_case(name)
    image, mask = RadiomicsFeatureExtractor.loadImage(
        str(case.image_path), str(case.label_path), **arguments
    )
    generated = imageoperations.getWaveletImage(image, mask, **{**arguments, **wavelet_settings})
    return {name: sitk.GetArrayFromImage(filtered) for filtered, name, _ in generated}


@pytest.mark.reference
@pytest.mark.parametrize(
    ("name", "settings", "ours"),
    [
        ("brain1", {}, {}),
        ("breast1", {}, {}),
        ("lung1", {"preCrop": True}, {"pre_crop": True}),
        ("breast1", {"resampledPixelSpacing": [1, 1, 1]}, {"resampled_spacing": (1, 1, 1)}),
    ],
)
def test_matches_pyradiomics_voxelwise(name, settings, ours):
    image, mask = pyradiomics_case(name).volumes()
    reference = _pyradiomics_wavelets(name, settings, {})
    prepared, _ = pyradiomics_filter_input(image, mask, **ours)
    computed = compute_image_types(prepared.array, prepared.spacing, {"Wavelet": {}})
    assert list(computed) == list(reference) == [f"wavelet-{band}" for band in BANDS_3D]
    for key in reference:
        np.testing.assert_allclose(computed[key], reference[key], rtol=1e-6, atol=1e-9)


@pytest.mark.reference
@pytest.mark.parametrize(
    ("wavelet_settings", "ours"),
    [
        ({"force2D": True}, {"force_2d_axis": 0}),
        (
            {"wavelet": "db2", "level": 2, "start_level": 1},
            {"wavelet": "db2", "level": 2, "start_level": 1},
        ),
    ],
)
def test_matches_pyradiomics_settings(wavelet_settings, ours):
    image, mask = pyradiomics_case("breast1").volumes()
    reference = _pyradiomics_wavelets("breast1", {"preCrop": True}, wavelet_settings)
    prepared, _ = pyradiomics_filter_input(image, mask, pre_crop=True)
    computed = compute_image_types(prepared.array, prepared.spacing, {"Wavelet": ours})
    assert list(computed) == list(reference)
    for key in reference:
        np.testing.assert_allclose(computed[key], reference[key], rtol=1e-6, atol=1e-9)


@pytest.mark.reference
@pytest.mark.slow
def test_matches_pyradiomics_on_whole_lung1():
    image, _ = pyradiomics_case("lung1").volumes()
    reference = _pyradiomics_wavelets("lung1", {}, {})
    computed = wavelet_images(image.array)
    for key in reference:
        np.testing.assert_allclose(computed[key], reference[key], rtol=1e-6, atol=1e-9)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cupy = pytest.importorskip("cupy")
    image = np.random.default_rng(2).normal(size=(9, 20, 15))
    on_gpu = wavelet_images(cupy.asarray(image), level=2)
    on_cpu = wavelet_images(image, level=2)
    for key in on_cpu:
        np.testing.assert_allclose(cupy.asnumpy(on_gpu[key]), on_cpu[key], rtol=1e-12, atol=1e-12)

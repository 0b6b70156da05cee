"""IBSI-2 filters on small arrays with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from radiopipe.filters.ibsi2.gabor import gabor_response
from radiopipe.filters.ibsi2.laws import LAWS_KERNELS, laws_response, parse_laws
from radiopipe.filters.ibsi2.log import laplacian_of_gaussian, log_kernels
from radiopipe.filters.ibsi2.mean import mean_filter
from radiopipe.filters.ibsi2.padding import convolve_axis, extended, pad_axis
from radiopipe.filters.ibsi2.riesz import riesz_transform
from radiopipe.filters.ibsi2.rotations import pooled, rotations
from radiopipe.filters.ibsi2.simoncelli import simoncelli_response
from radiopipe.filters.ibsi2.wavelets import wavelet_response, wavelet_taps
from radiopipe.xp import get_namespace, to_numpy

AXES = (0, 1, 2)


def _impulse(shape=(7, 7, 7), at=(3, 3, 3)):
    image = np.zeros(shape)
    image[at] = 1.0
    return image


@pytest.mark.parametrize(("boundary", "expected"), [
    ("zero", [0, 0, 1, 2, 3, 0, 0]),
    ("nearest", [1, 1, 1, 2, 3, 3, 3]),
    ("periodic", [2, 3, 1, 2, 3, 1, 2]),
    ("mirror", [2, 1, 1, 2, 3, 3, 2]),
])
def test_boundary_conditions_of_a_line(boundary, expected):
    assert pad_axis(np.array([1.0, 2.0, 3.0]), 2, 2, 0, boundary).tolist() == expected


def test_unknown_boundary_is_named():
    with pytest.raises(ValueError, match="'boundary' parameter must be one of"):
        pad_axis(np.zeros(3), 1, 1, 0, "reflect")


def test_convolution_places_the_kernel_after_an_impulse():
    """True convolution: an impulse at c gives y[c + m] = h[m], along the chosen axis only."""
    taps = [1.0, 2.0, 3.0, 4.0, 5.0]  # offsets -2..2
    out = convolve_axis(_impulse(), taps, -2, 1, "zero")
    assert out[3, 1:6, 3].tolist() == taps
    assert out.sum() == 15.0


def test_periodic_convolution_wraps_around():
    line = np.array([1.0, 0.0, 0.0, 0.0])
    assert convolve_axis(line, [1.0, 0.0, 2.0], -1, 0, "periodic").tolist() == [0, 2, 0, 1]
    assert convolve_axis(line, [1.0, 0.0, 2.0], -1, 0, "zero").tolist() == [0, 2, 0, 0]


def test_mean_of_an_impulse_is_a_cube():
    out = mean_filter(_impulse() * 27, 3, AXES, "zero")
    assert np.allclose(out[2:5, 2:5, 2:5], 1.0)
    assert out.sum() == pytest.approx(27.0)
    assert np.count_nonzero(out) == 27


def test_mean_in_2d_stays_in_its_slice():
    out = mean_filter(_impulse() * 9, 3, (0, 1), "zero")
    assert np.allclose(out[2:5, 2:5, 3], 1.0)
    assert np.count_nonzero(out) == 9


def test_mean_with_nearest_and_mirror_keeps_a_constant():
    image = np.full((4, 5, 6), 7.0)
    for boundary in ("nearest", "mirror", "periodic"):
        assert np.allclose(mean_filter(image, 5, AXES, boundary), 7.0)
    assert mean_filter(image, 3, AXES, "zero")[0, 0, 0] == pytest.approx(7.0 * 8 / 27)


def test_mean_needs_an_odd_support():
    with pytest.raises(ValueError, match="odd int"):
        mean_filter(np.zeros(3), 4, (0,), "zero")


def test_laws_kernels_have_unit_norm_and_known_sums():
    for name, taps in LAWS_KERNELS.items():
        assert sum(t * t for t in taps) == pytest.approx(1.0), name
    assert sum(LAWS_KERNELS["L5"]) == pytest.approx(16 / math.sqrt(70))
    assert sum(LAWS_KERNELS["L3"]) == pytest.approx(4 / math.sqrt(6))
    for name in ("E3", "S3", "E5", "S5", "R5", "W5"):
        assert sum(LAWS_KERNELS[name]) == pytest.approx(0.0, abs=1e-12), name
    assert parse_laws("E3W5R5") == ["E3", "W5", "R5"]
    with pytest.raises(ValueError, match="Laws kernel name"):
        parse_laws("E5X5")


def test_laws_impulse_response_is_the_outer_product():
    out = laws_response(_impulse(), "E5L5S5", AXES, "zero")
    e5, l5, s5 = (np.array(LAWS_KERNELS[k]) for k in ("E5", "L5", "S5"))
    assert np.allclose(out[1:6, 1:6, 1:6], np.einsum("i,j,k->ijk", e5, l5, s5))


def test_laws_rotation_invariance_pools_the_largest_rotated_response():
    plain = laws_response(_impulse(), "E5L5S5", AXES, "zero")
    pooled_max = laws_response(_impulse(), "E5L5S5", AXES, "zero", rotation_invariant=True)
    assert (pooled_max >= plain - 1e-12).all()
    # E5 and S5 on the same axis pair can be swapped by a rotation: the pooled map is symmetric.
    assert np.allclose(pooled_max, pooled_max.transpose(2, 0, 1))
    assert pooled_max.max() == pytest.approx(plain.max())


def test_laws_energy_is_the_mean_absolute_response():
    image = np.random.default_rng(0).normal(size=(6, 6, 6))
    response = laws_response(image, "L3E3", (0, 1), "mirror")
    energy = laws_response(image, "L3E3", (0, 1), "mirror", energy_distance=1)
    assert np.allclose(energy, mean_filter(np.abs(response), 3, (0, 1), "mirror"))


def test_rotations_are_distinct_and_proper():
    assert len(rotations(2)) == 4
    assert len(set(rotations(3))) == 24
    image = np.arange(24.0).reshape(2, 3, 4)
    # An isotropic filter (a 3D mean) is unchanged by rotation pooling.
    mean = pooled(lambda a: mean_filter(a, 3, AXES, "mirror"), image, AXES, "mean")
    assert np.allclose(mean, mean_filter(image, 3, AXES, "mirror"))


def test_log_kernel_is_the_ibsi_formula_and_sums_to_zero():
    sigma = 1.5
    kernel = laplacian_of_gaussian(_impulse((15, 15, 15), (7, 7, 7)), sigma, AXES, "zero")
    centre = -3 / sigma**2 * (2 * math.pi * sigma**2) ** -1.5
    assert kernel[7, 7, 7] == pytest.approx(centre)
    r2 = 4.0  # offset (2, 0, 0)
    expected = (-1 / sigma**2 * (2 * math.pi * sigma**2) ** -1.5 * (3 - r2 / sigma**2)
                * math.exp(-r2 / (2 * sigma**2)))
    assert kernel[9, 7, 7] == pytest.approx(expected)
    # Sampled and truncated, the kernel sums to ~0: under 1 % of its absolute weight.
    assert abs(kernel.sum()) < 0.01 * np.abs(kernel).sum()
    assert log_kernels(sigma)[2] == -6  # cut-off 4 sigma


def test_gabor_impulse_modulus_is_the_envelope():
    sigma, gamma = 2.0, 0.5
    image = _impulse((31, 31, 1), (15, 15, 0))
    out = gabor_response(image, sigma, 4.0, gamma, [0.0], (0, 1), "zero")
    assert out[15, 15, 0] == pytest.approx(1.0)
    assert out[16, 15, 0] == pytest.approx(math.exp(-1 / (2 * sigma**2)))  # along x~
    assert out[15, 17, 0] == pytest.approx(math.exp(-(gamma**2) * 4 / (2 * sigma**2)))


def test_haar_wavelet_by_hand():
    line = np.array([1.0, 2.0, 3.0, 4.0])
    low = wavelet_response(line, "haar", "L", (0,), "zero")
    assert np.allclose(low, np.array([3.0, 5.0, 7.0, 4.0]) / math.sqrt(2))
    assert wavelet_taps("haar", "L", 2) == (pytest.approx([2**-0.5, 0.0, 2**-0.5]), -2)
    level2 = wavelet_response(line, "haar", "L", (0,), "zero", level=2)
    assert np.allclose(level2, np.array([3 + 7, 5 + 4, 7, 4]) / 2)


def test_simoncelli_removes_a_constant_and_keeps_its_band():
    assert np.allclose(simoncelli_response(np.full((8, 8, 8), 5.0), 1, AXES), 0.0)
    n = np.arange(17)
    wave = np.cos(2 * math.pi * 4 * n / 17)  # |omega| = 8/16 of Nyquist on the IBSI grid
    out = simoncelli_response(wave, 1, (0,))
    assert np.allclose(out, wave * math.cos(math.pi / 2 * math.log2(2 * 0.5)))


def test_riesz_first_order_turns_a_cosine_into_a_sine():
    n = np.arange(16)
    out = riesz_transform(np.cos(2 * math.pi * 3 * n / 16), [1], (0,))
    assert np.allclose(out, np.sin(2 * math.pi * 3 * n / 16))


def test_extension_crops_back_to_the_image():
    line = np.array([1.0, 2.0, 3.0])
    assert extended(lambda a: a * 2, line, 4, (0,), "mirror").tolist() == [2.0, 4.0, 6.0]


FILTER_CALLS = {
    "mean": lambda a: mean_filter(a, 3, AXES, "mirror"),
    "log": lambda a: laplacian_of_gaussian(a, 1.0, AXES, "nearest"),
    "laws": lambda a: laws_response(a, "E3L3S3", AXES, "periodic", rotation_invariant=True,
                                    energy_distance=1),
    "gabor": lambda a: gabor_response(a, 1.0, 3.0, 1.5, [0.0, math.pi / 2], (0, 1), "mirror"),
    "wavelet": lambda a: wavelet_response(a, "db2", "LH", (1, 2), "zero", level=2,
                                          rotation_invariant=True),
    "simoncelli": lambda a: simoncelli_response(a, 2, AXES),
    "riesz": lambda a: riesz_transform(a, [0, 2, 0], AXES),
}


@pytest.mark.parametrize("name", sorted(FILTER_CALLS))
def test_filters_stay_in_their_array_namespace(xp, name):
    """The same call on CuPy gives the NumPy result (the oracle) on the device."""
    image = np.random.default_rng(1).normal(size=(9, 10, 11))
    out = FILTER_CALLS[name](xp.asarray(image))
    assert get_namespace(out) is xp
    assert out.shape == image.shape
    assert np.allclose(to_numpy(out), FILTER_CALLS[name](image), atol=1e-10)

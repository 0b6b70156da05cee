"""pyradiomics' discretisations: the one-pass binning equals np.digitize with pyradiomics' edges,
computed in the pixel type pyradiomics bins in (float32 or float64)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import pyradiomics_case

from radiopipe.preprocess.discretise import (
    fixed_bin_number,
    fixed_bin_number_pyradiomics,
    fixed_bin_size_pyradiomics,
)


def _digitized(values: np.ndarray, width: float) -> np.ndarray:
    """pyradiomics' binImage: edges from the ROI minimum (a NumPy scalar of the values' type, as
    pyradiomics' min() of the ROI's array gives), then np.digitize."""
    low, high = min(values), max(values)
    edges = np.arange(low - (low % width), high + 2 * width, width)
    return np.digitize(values, edges).astype(np.int32)


def _counted(values: np.ndarray, n_bins: int) -> np.ndarray:
    """pyradiomics' binImage with binCount: np.histogram's edges, the last raised by 1."""
    edges = np.histogram(values, n_bins)[1]
    edges[-1] += 1
    return np.digitize(values, edges).astype(np.int32)


@pytest.mark.parametrize("width", [25.0, 0.1, 1 / 3, 7.0, 1e-3, 1e4])
@pytest.mark.parametrize("kind", ["normal", "rounded", "on edges", "narrow"])
def test_equals_digitize(width, kind):
    rng = np.random.default_rng(int(width * 1000) % 97 + len(kind))
    for n in (2, 3, 50, 999, 4000):
        values = rng.normal(size=n) * 500
        if kind == "rounded":
            values = np.round(values)
        elif kind == "on edges":
            values = np.floor(values / width) * width
        elif kind == "narrow":
            values = values * 1e-7 + 5
        expected = _digitized(values, width)
        got = fixed_bin_size_pyradiomics(values, width)
        if np.ptp(values) > 0 or expected.max() > 1:
            assert got.levels.dtype == np.int32
            assert np.array_equal(got.levels, expected)
            assert got.n_levels == expected.max()


def test_keeps_the_shape():
    values = np.array([[10.0, 60.0], [25.0, 35.0]])
    levels = fixed_bin_size_pyradiomics(values, 25.0).levels
    assert levels.tolist() == [[1, 3], [2, 2]]


@pytest.mark.parametrize("case", ["brain1", "lung1"])
def test_equals_digitize_on_a_real_roi(case):
    image, mask = pyradiomics_case(case).arrays()
    values = image[mask].astype(np.float64)
    assert np.array_equal(fixed_bin_size_pyradiomics(values, 25.0).levels, _digitized(values, 25))


def _float32_roi(seed: int, n: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=n) * 10.0 ** rng.uniform(-2, 3) + rng.uniform(-100, 100)).astype(
        np.float32
    )


@pytest.mark.parametrize("width", [25.0, 0.1, 1 / 3, 0.3, 2.5])
@pytest.mark.parametrize("seed", range(8))
def test_float32_equals_digitize_with_float32_edges(width, seed):
    values = _float32_roi(seed)
    expected = _digitized(values, width)
    for given, dtype in ((values, None), (values.astype(np.float64), np.float32)):
        got = fixed_bin_size_pyradiomics(given, width, dtype)
        assert np.array_equal(got.levels, expected)
        assert got.n_levels == expected.max()


@pytest.mark.parametrize("n_bins", [1, 2, 16, 32, 64, 1000])
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bin_count_equals_digitize_with_histogram_edges(n_bins, seed, dtype):
    values = _float32_roi(seed).astype(dtype)
    expected = _counted(values, n_bins)
    got = fixed_bin_number_pyradiomics(values.astype(np.float64), n_bins, dtype)
    assert np.array_equal(got.levels, expected)
    assert got.n_levels == expected.max() == n_bins


def test_float32_edges_move_values_to_the_neighbouring_level():
    """The pixel type matters: over these ROIs, float32 and float64 edges disagree somewhere."""
    moved_by_width = moved_by_count = 0
    for seed in range(8):
        values = _float32_roi(seed)
        wide = values.astype(np.float64)
        moved_by_width += np.count_nonzero(
            fixed_bin_size_pyradiomics(wide, 0.1, np.float32).levels
            != fixed_bin_size_pyradiomics(wide, 0.1, np.float64).levels
        )
        moved_by_count += np.count_nonzero(
            fixed_bin_number_pyradiomics(wide, 32, np.float32).levels
            != fixed_bin_number_pyradiomics(wide, 32, np.float64).levels
        )
    assert moved_by_width > 0
    assert moved_by_count > 0


def test_flat_roi_gets_the_middle_bin_by_bin_count():
    values = np.full(5, 3.0)
    assert fixed_bin_number_pyradiomics(values, 32).levels.tolist() == _counted(values, 32).tolist()
    assert fixed_bin_number_pyradiomics(values, 32).n_levels == 17
    assert fixed_bin_number(values, 32).levels.tolist() == [1] * 5  # IBSI: level 1


def test_other_pixel_types_are_refused():
    with pytest.raises(ValueError, match="float32 or float64"):
        fixed_bin_size_pyradiomics(np.ones(3), 1.0, np.float16)

"""pyradiomics' fixed bin size discretisation: the one-pass binning equals np.digitize."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import pyradiomics_case

from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics


def _digitized(values: np.ndarray, width: float) -> np.ndarray:
    """pyradiomics' binImage: edges from the ROI minimum, then np.digitize."""
    low, high = float(values.min()), float(values.max())
    edges = np.arange(low - (low % width), high + 2 * width, width)
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

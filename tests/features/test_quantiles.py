"""Percentiles and median through the grey levels equal NumPy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import pyradiomics_case

from radiopipe.features.quantiles import percentiles_and_median
from radiopipe.preprocess.discretise import (
    fixed_bin_number,
    fixed_bin_size,
    fixed_bin_size_pyradiomics,
)

QUANTILES = (10, 25, 50, 75, 90)
DISCRETISATIONS = {
    "pyradiomics width 25": lambda v: fixed_bin_size_pyradiomics(v, 25.0).levels,
    "pyradiomics width 1000 (two levels)": lambda v: fixed_bin_size_pyradiomics(v, 1000.0).levels,
    "IBSI width 10": lambda v: fixed_bin_size(v, 10.0).levels,
    "IBSI 32 bins": lambda v: fixed_bin_number(v, 32).levels,
    "one level": lambda v: np.ones(v.size, dtype=np.int32),
}


def _values(kind: str, n: int, rng) -> np.ndarray:
    if kind == "normal":
        return rng.normal(size=n) * 300
    if kind == "integers":  # many ties
        return rng.integers(-40, 40, size=n).astype(np.float64)
    return rng.exponential(size=n) * 1000


@pytest.mark.parametrize("discretisation", DISCRETISATIONS)
@pytest.mark.parametrize("kind", ["normal", "integers", "exponential"])
def test_equal_numpys_percentiles_and_median(discretisation, kind):
    rng = np.random.default_rng(len(discretisation) + len(kind))
    for n in (1, 2, 3, 4, 5, 10, 11, 99, 100, 1001, 5000):
        values = _values(kind, n, rng)
        found = percentiles_and_median(values, DISCRETISATIONS[discretisation](values), QUANTILES)
        assert found is not None
        quantiles, median = found
        assert np.array_equal(quantiles, np.percentile(values, np.asarray(QUANTILES)))
        assert median == np.median(values)


@pytest.mark.parametrize(
    "values",
    [
        np.full(4000, 7.5),  # no spread to bucket
        np.r_[np.full(3000, -1e308), np.linspace(0, 1, 3000), 1e308],  # spread overflows
        np.r_[np.zeros(3000), np.full(3000, 5e-324)],  # a subnormal spread: scale overflows
        np.r_[np.linspace(0, 1, 5), np.full(9000, 1e300)],  # all but five in the top bucket
        np.arange(60000.0) % 7,  # ties across buckets
    ],
    ids=["constant", "overflow", "subnormal", "skewed", "ties"],
)
def test_large_levels_equal_numpys(values):
    # A level of several thousand values is selected through buckets of its values.
    found = percentiles_and_median(values, np.ones(values.size, dtype=np.int32), QUANTILES)
    assert found is not None
    quantiles, median = found
    assert np.array_equal(quantiles, np.percentile(values, np.asarray(QUANTILES)))
    assert median == np.median(values)


@pytest.mark.parametrize("case", ["brain1", "lung1"])
def test_equal_numpys_on_a_real_roi(case):
    image, mask = pyradiomics_case(case).arrays()
    values = image[mask].astype(np.float64)
    quantiles, median = percentiles_and_median(
        values, fixed_bin_size_pyradiomics(values, 25.0).levels, QUANTILES
    )
    assert np.array_equal(quantiles, np.percentile(values, np.asarray(QUANTILES)))
    assert median == np.median(values)


def test_levels_out_of_order_or_nan_leave_it_to_numpy():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert percentiles_and_median(values, np.array([2, 1, 1, 2]), QUANTILES) is None
    assert percentiles_and_median(np.array([1.0, np.nan]), np.array([1, 1]), QUANTILES) is None
    assert percentiles_and_median(values, np.array([1, 1, 2, 2]), QUANTILES) is not None

"""ICC(1,1), ICC(2,1) and ICC(3,1) against a two-way ANOVA table written out here, and pingouin
where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from radiopipe.icc import ICC_KINDS, icc, icc_table


def _anova_icc(x: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """Shrout & Fleiss / McGraw & Wong, one feature, loops over cells (no shared code)."""
    n, k = x.shape
    grand = sum(sum(row) for row in x) / (n * k)
    row_means = [sum(row) / k for row in x]
    col_means = [sum(x[i][j] for i in range(n)) / n for j in range(k)]
    ssr = k * sum((m - grand) ** 2 for m in row_means)
    ssc = n * sum((m - grand) ** 2 for m in col_means)
    sst = sum((x[i][j] - grand) ** 2 for i in range(n) for j in range(k))
    sse = sst - ssr - ssc
    msr, msc = ssr / (n - 1), ssc / (k - 1)
    mse, msw = sse / ((n - 1) * (k - 1)), (ssc + sse) / (n * (k - 1))
    q = stats.f.ppf(0.975, n - 1, n * (k - 1)), stats.f.ppf(0.975, n * (k - 1), n - 1)
    f1 = msr / msw
    fl, fu = f1 / q[0], f1 * q[1]
    one = ((msr - msw) / (msr + (k - 1) * msw), (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1))
    f3 = msr / mse
    df = (n - 1) * (k - 1)
    fl, fu = f3 / stats.f.ppf(0.975, n - 1, df), f3 * stats.f.ppf(0.975, df, n - 1)
    three = ((msr - mse) / (msr + (k - 1) * mse), (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1))
    r = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    a, b = k * r / (n * (1 - r)), 1 + k * r * (n - 1) / (n * (1 - r))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / df)
    fs, ft = stats.f.ppf(0.975, n - 1, v), stats.f.ppf(0.975, v, n - 1)
    low = n * (msr - fs * mse) / (fs * (k * msc + (k * n - k - n) * mse) + n * msr)
    high = n * (ft * msr - mse) / (k * msc + (k * n - k - n) * mse + n * ft * msr)
    return {"ICC(1,1)": one, "ICC(2,1)": (r, low, high), "ICC(3,1)": three}


def _ratings(seed: int, n=12, k=4, p=5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    subjects = rng.normal(0, rng.uniform(0.2, 3, p), (n, 1, p))
    raters = rng.normal(0, 0.5, (1, k, p))
    return 10 + subjects + raters + rng.normal(0, 1, (n, k, p))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc_equals_the_two_way_anova_table_to_1e_10(seed):
    x = _ratings(seed)
    results = icc(x)
    assert [r.kind for r in results] == list(ICC_KINDS)
    for j in range(x.shape[2]):
        expected = _anova_icc(x[:, :, j])
        for r in results:
            got = (r.value[j], r.low[j], r.high[j])
            np.testing.assert_allclose(got, expected[r.kind], rtol=0, atol=1e-10)


def test_icc_matches_pingouin_where_installed():
    pingouin = pytest.importorskip("pingouin")
    x = _ratings(3, p=1)[:, :, 0]
    n, k = x.shape
    long = {"subject": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
            "value": x.ravel()}
    import pandas as pd

    table = pingouin.intraclass_corr(pd.DataFrame(long), "subject", "rater", "value")
    ours = {r.kind: r for r in icc(x)}
    for name, kind in (("ICC1", "ICC(1,1)"), ("ICC2", "ICC(2,1)"), ("ICC3", "ICC(3,1)")):
        row = table.set_index("Type").loc[name]
        np.testing.assert_allclose(ours[kind].value[0], row["ICC"], atol=1e-10)
        np.testing.assert_allclose([ours[kind].low[0], ours[kind].high[0]], row["CI95%"],
                                   atol=0.01)  # pingouin rounds its intervals to 2 decimals


def test_pure_noise_has_an_icc_near_zero_and_a_stable_feature_near_one():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(200, 5))
    stable = np.arange(200.0)[:, None] + rng.normal(0, 0.01, (200, 5))
    results = icc(np.stack([noise, stable], axis=2))
    for r in results:
        assert abs(r.value[0]) < 0.1
        assert r.low[0] < 0 < r.high[0]
        assert r.value[1] > 0.999


def test_perfect_agreement_is_one_and_a_missing_or_constant_feature_has_no_icc():
    x = np.stack([np.repeat(np.arange(5.0)[:, None], 3, axis=1), np.ones((5, 3)),
                  np.arange(15.0).reshape(5, 3)], axis=2)
    x[2, 1, 2] = np.nan
    for r in icc(x):
        assert (r.value[0], r.low[0], r.high[0]) == (1.0, 1.0, 1.0)
        assert np.isnan([r.value[1:], r.low[1:], r.high[1:]]).all()


def test_icc_table_has_one_row_per_feature_and_kind_and_refuses_one_rater():
    table = icc_table(_ratings(0, p=2), ["a", "b"])
    assert list(table.columns) == ["feature", "icc_kind", "icc", "ci_low", "ci_high"]
    assert len(table) == 6
    with pytest.raises(ValueError, match="2 subjects and 2 raters"):
        icc(np.ones((5, 1)))

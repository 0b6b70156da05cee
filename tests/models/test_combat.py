"""ComBat: site effects removed, estimated on training rows only, unseen sites refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiopipe.models.combat import ComBatHarmoniser, eb_site_effects, plain_site_effects


def _sites_frame(seed=0, n_per_site=40):
    """Three sites: the same two features, shifted and scaled per site."""
    rng = np.random.default_rng(seed)
    shift = {"A": (0.0, 0.0), "B": (5.0, -3.0), "C": (-2.0, 1.0)}
    scale = {"A": (1.0, 1.0), "B": (2.0, 0.5), "C": (0.7, 1.5)}
    rows = []
    for site in shift:
        base = rng.normal(size=(n_per_site, 2))
        values = base * np.array(scale[site]) + np.array(shift[site])
        rows.append(pd.DataFrame({"f0": values[:, 0], "f1": values[:, 1], "site": site}))
    return pd.concat(rows, ignore_index=True)


def test_plain_site_effects_by_hand():
    z = np.array([[1.0], [3.0], [0.0], [0.0], [2.0]])
    codes = np.array([0, 0, 1, 1, 1])
    gamma, delta = plain_site_effects(z, codes, 2)
    # site 0: mean 2, variance ((1-2)^2 + (3-2)^2) / 1 = 2; site 1: mean 2/3, variance 4/3
    np.testing.assert_allclose(gamma, [[2.0], [2 / 3]])
    np.testing.assert_allclose(delta, [[2.0], [4 / 3]])


def test_without_shrinkage_every_site_gets_the_pooled_mean_and_spread():
    frame = _sites_frame()
    out = ComBatHarmoniser(empirical_bayes=False).fit_transform(frame)
    out = pd.DataFrame(out, columns=["f0", "f1"]).assign(site=frame["site"])
    means = out.groupby("site")[["f0", "f1"]].mean()
    spreads = out.groupby("site")[["f0", "f1"]].std(ddof=1)
    np.testing.assert_allclose(means.to_numpy(), np.tile(frame[["f0", "f1"]].mean(), (3, 1)))
    assert np.ptp(spreads.to_numpy(), axis=0).max() < 1e-9


def test_empirical_bayes_removes_most_of_the_site_effect():
    frame = _sites_frame()
    out = pd.DataFrame(ComBatHarmoniser().fit_transform(frame), columns=["f0", "f1"])
    before = frame.groupby("site")[["f0", "f1"]].mean().to_numpy()
    after = out.assign(site=frame["site"]).groupby("site").mean().to_numpy()
    assert np.ptp(after, axis=0).max() < 0.1 * np.ptp(before, axis=0).min()


def test_shrinkage_pulls_site_shifts_towards_their_mean():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(12, 20))
    codes = np.repeat([0, 1, 2], 4)
    z[codes == 1] += rng.normal(scale=0.5, size=20)  # feature-specific shifts at site 1
    gamma_hat, _ = plain_site_effects(z, codes, 3)
    gamma, delta = eb_site_effects(z, codes, 3, max_iter=1000, tol=1e-8)
    spread_hat = np.abs(gamma_hat - gamma_hat.mean(axis=1, keepdims=True)).sum()
    spread = np.abs(gamma - gamma.mean(axis=1, keepdims=True)).sum()
    assert spread < spread_hat
    assert np.all(delta > 0)


def test_new_rows_use_the_training_estimates_only():
    frame = _sites_frame()
    train, new = frame.iloc[::2], frame.iloc[1::2]
    model = ComBatHarmoniser().fit(train)
    again = ComBatHarmoniser().fit(pd.concat([train, new.assign(f0=new["f0"] + 100)]))
    assert not np.allclose(model.grand_mean_, again.grand_mean_)
    first = model.transform(new)
    np.testing.assert_allclose(model.transform(new), first)
    # Each new row is adjusted independently of the other new rows.
    np.testing.assert_allclose(model.transform(new.iloc[:3]), first[:3])


def test_unseen_site_is_refused():
    frame = _sites_frame()
    model = ComBatHarmoniser().fit(frame[frame["site"] != "C"])
    with pytest.raises(ValueError, match="site\\(s\\) 'C' were not among the training sites"):
        model.transform(frame)


def test_a_site_with_one_training_row_is_refused():
    frame = _sites_frame().iloc[:41]  # site B has a single row
    with pytest.raises(ValueError, match="at least 2 training rows per site; site\\(s\\) 'B'"):
        ComBatHarmoniser().fit(frame)


def test_a_constant_feature_passes_through_and_names_drop_the_site():
    frame = _sites_frame().assign(flat=3.0)
    model = ComBatHarmoniser().set_output(transform="pandas").fit(frame)
    out = model.transform(frame)
    assert list(out.columns) == ["f0", "f1", "flat"]
    assert (out["flat"] == 3.0).all()


def test_site_by_position_for_arrays():
    frame = _sites_frame()
    array = frame[["site", "f0", "f1"]].to_numpy(dtype=object)
    by_name = ComBatHarmoniser().fit_transform(frame)
    by_position = ComBatHarmoniser(site_column=0).fit_transform(array)
    np.testing.assert_allclose(by_position, by_name)

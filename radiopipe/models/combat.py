"""ComBat harmonisation of feature columns across acquisition sites (Johnson et al. 2007).

The site effect on every feature is a location shift and a scale change per site, estimated on
the training rows only, with empirical-Bayes shrinkage across features (the parametric priors of
ComBat). New rows are adjusted with the training estimates of their site; a site the training rows
never showed cannot be adjusted and is refused.

No biological covariate enters the model: new rows have no label, and ComBat's covariate term
would need one to undo the adjustment. When sites differ strongly in their class mix, part of
the class signal is then attributed to the site (a known ComBat caveat).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from radiopipe.models.params import BOOLEAN, Interval, check_params


def plain_site_effects(z: np.ndarray, codes: np.ndarray, n_sites: int):
    """Per-site mean and variance (ddof 1) of every standardised feature, without shrinkage.

    Returns
    -------
    gamma_hat, delta_hat : numpy.ndarray of shape (m, p)
        :math:`\\hat\\gamma_{ig} = \\bar z_{ig}` and
        :math:`\\hat\\delta^2_{ig} = \\sum_j (z_{ijg} - \\hat\\gamma_{ig})^2 / (n_i - 1)`.
    """
    counts = np.bincount(codes, minlength=n_sites).astype(np.float64)
    sums = np.zeros((n_sites, z.shape[1]))
    np.add.at(sums, codes, z)
    gamma = sums / counts[:, None]
    squares = np.zeros_like(sums)
    np.add.at(squares, codes, (z - gamma[codes]) ** 2)
    return gamma, squares / (counts[:, None] - 1)


def eb_site_effects(
    z: np.ndarray, codes: np.ndarray, n_sites: int, *, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes site location and scale of standardised data.

    Parameters
    ----------
    z : array of shape (n, p)
        Standardised data :math:`Z = (Y - \\alpha)/\\sigma`.
    codes : array of shape (n,)
        Site code 0..m-1 of each row (every site has at least two rows).
    n_sites : int
    max_iter : int
        Iterations of the joint posterior update.
    tol : float
        Relative change that stops the iteration.

    Returns
    -------
    gamma_star, delta_star : numpy.ndarray of shape (m, p)
        Posterior site shift :math:`\\gamma^*_{ig}` and variance :math:`\\delta^{*2}_{ig}`:

        .. math::
            \\gamma^* = \\frac{n_i \\bar\\tau_i^2 \\hat\\gamma + \\delta^{*2} \\bar\\gamma_i}
            {n_i \\bar\\tau_i^2 + \\delta^{*2}}, \\qquad
            \\delta^{*2} = \\frac{b_i + \\frac12 \\sum_j (z_{ij} - \\gamma^*)^2}{n_i/2 + a_i - 1}

        with normal (:math:`\\bar\\gamma_i, \\bar\\tau_i^2`) and inverse-gamma (:math:`a_i, b_i`)
        priors fitted by the method of moments across features.
    """
    gamma_hat, delta_hat = plain_site_effects(z, codes, n_sites)
    if z.shape[1] < 2:
        # Priors across features need two features; one feature keeps the plain estimates.
        return gamma_hat, delta_hat
    gamma_bar = gamma_hat.mean(axis=1, keepdims=True)
    tau2 = gamma_hat.var(axis=1, ddof=1, keepdims=True)
    m = delta_hat.mean(axis=1, keepdims=True)
    s2 = delta_hat.var(axis=1, ddof=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (2 * s2 + m**2) / s2
        b = (m * s2 + m**3) / s2
    n = np.bincount(codes, minlength=n_sites).astype(np.float64)[:, None]
    gamma, delta = gamma_hat.copy(), delta_hat.copy()
    for _ in range(max_iter):
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma_new = (n * tau2 * gamma_hat + delta * gamma_bar) / (n * tau2 + delta)
        # tau2 = 0: the prior is a point mass, so the posterior shift is its mean.
        gamma_new = np.where(tau2 > 0, gamma_new, gamma_bar)
        sq = np.zeros_like(gamma_hat)
        np.add.at(sq, codes, (z - gamma_new[codes]) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta_new = (b + 0.5 * sq) / (n / 2 + a - 1)
        # s2 = 0: every feature has the same site variance, a point-mass prior at m.
        delta_new = np.where(s2 > 0, delta_new, m)
        change = max(_relative_change(gamma_new, gamma), _relative_change(delta_new, delta))
        gamma, delta = gamma_new, delta_new
        if change < tol:
            break
    return gamma, delta


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    scale = np.maximum(np.abs(old), 1e-12)
    return float(np.max(np.abs(new - old) / scale)) if new.size else 0.0


class ComBatHarmoniser(TransformerMixin, BaseEstimator):
    """Remove per-site location and scale effects from every column but the site column.

    Parameters
    ----------
    site_column : str or int
        Name (DataFrame input) or position of the column holding each row's site; it is
        dropped from the output.
    empirical_bayes : bool
        Shrink the per-site estimates across features (ComBat); False uses the plain per-site
        mean and variance of each feature.
    max_iter : int
        Iterations of the empirical-Bayes update.
    tol : float
        Its convergence threshold (relative change).

    Attributes
    ----------
    sites_ : numpy.ndarray of str
        Training sites, sorted.
    grand_mean_, pooled_sd_ : numpy.ndarray of shape (p,)
        :math:`\\alpha_g` and :math:`\\sigma_g` of the training rows.
    gamma_, delta_ : numpy.ndarray of shape (n_sites, p)
        Site shift and variance on the standardised scale.
    n_features_in_, feature_names_in_
        As in scikit-learn (the site column included).

    Notes
    -----
    Adjusted value: :math:`y^*_{ijg} = \\sigma_g (z_{ijg} - \\gamma^*_{ig}) / \\delta^*_{ig} +
    \\alpha_g` with :math:`z = (y - \\alpha)/\\sigma`. A feature constant on the training rows
    (:math:`\\sigma_g = 0`) is passed through unchanged.
    """

    _parameter_rules: dict = {
        "site_column": [str, Interval(Integral, 0, None, closed="left")],
        "empirical_bayes": [BOOLEAN],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, site_column="site", empirical_bayes=True, max_iter=1000, tol=1e-4):
        self.site_column = site_column
        self.empirical_bayes = empirical_bayes
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y=None):
        """Estimate each training site's effect on every feature."""
        check_params(self, self._parameter_rules)
        validate_data(self, X, skip_check_array=True)
        sites, data = self._split(X)
        self.sites_, codes, counts = np.unique(sites, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            few = ", ".join(f"'{s}'" for s in self.sites_[counts < 2][:5])
            raise ValueError(
                f"ComBat needs at least 2 training rows per site; site(s) {few} have 1. "
                "Merge small sites or turn harmonisation off."
            )
        self.grand_mean_ = data.mean(axis=0)
        site_means = np.zeros((len(self.sites_), data.shape[1]))
        np.add.at(site_means, codes, data)
        site_means /= counts[:, None]
        self.pooled_sd_ = np.sqrt(((data - site_means[codes]) ** 2).mean(axis=0))
        varying = self.pooled_sd_ > 0
        self.gamma_ = np.zeros((len(self.sites_), data.shape[1]))
        self.delta_ = np.ones((len(self.sites_), data.shape[1]))
        z = (data[:, varying] - self.grand_mean_[varying]) / self.pooled_sd_[varying]
        if self.empirical_bayes:
            gamma, delta = eb_site_effects(
                z, codes, len(self.sites_), max_iter=self.max_iter, tol=self.tol
            )
        else:
            gamma, delta = plain_site_effects(z, codes, len(self.sites_))
        self.gamma_[:, varying] = gamma
        # A feature constant within a site has no spread to rescale; its scale stays 1.
        self.delta_[:, varying] = np.where(delta > 0, delta, 1.0)
        return self

    def transform(self, X):
        """Adjust rows of training sites; raises for a site the training rows never showed."""
        check_is_fitted(self)
        validate_data(self, X, reset=False, skip_check_array=True)
        sites, data = self._split(X)
        index = np.searchsorted(self.sites_, sites)
        index = np.clip(index, 0, len(self.sites_) - 1)
        unseen = sorted(set(sites[self.sites_[index] != sites]))
        if unseen:
            shown = ", ".join(f"'{s}'" for s in unseen[:5])
            raise ValueError(
                f"site(s) {shown} were not among the training sites "
                f"({', '.join(self.sites_[:10])}); ComBat can only adjust rows of a known site"
            )
        varying = self.pooled_sd_ > 0
        out = data.copy()
        z = (data[:, varying] - self.grand_mean_[varying]) / self.pooled_sd_[varying]
        adjusted = (z - self.gamma_[index][:, varying]) / np.sqrt(self.delta_[index][:, varying])
        out[:, varying] = adjusted * self.pooled_sd_[varying] + self.grand_mean_[varying]
        return out

    def get_feature_names_out(self, input_features=None):
        """Input feature names without the site column."""
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = np.array([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        keep = np.ones(len(names), dtype=bool)
        keep[self._site_position(names)] = False
        return np.asarray(names, dtype=object)[keep]

    def _site_position(self, names) -> int:
        if isinstance(self.site_column, str):
            matches = np.flatnonzero(np.asarray(names) == self.site_column)
            if len(matches) == 0:
                raise ValueError(
                    f"ComBat's site column '{self.site_column}' is not among the input columns"
                )
            return int(matches[0])
        if self.site_column >= len(names):
            raise ValueError(
                f"ComBat's site column {self.site_column} is out of range for "
                f"{len(names)} input columns"
            )
        return int(self.site_column)

    def _split(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(site labels as str, the other columns as a finite float array)."""
        if isinstance(X, pd.DataFrame):
            position = self._site_position(list(X.columns))
            sites = X.iloc[:, position]
            data = X.drop(columns=X.columns[position])
        else:
            X = check_array(X, dtype=None, ensure_all_finite=False, ensure_min_samples=1)
            position = self._site_position(range(X.shape[1]))
            sites = X[:, position]
            data = np.delete(X, position, axis=1)
        sites = np.asarray(sites)
        missing = pd.isna(sites.astype(object))
        if sites.dtype.kind == "f":
            missing |= ~np.isfinite(sites)
        if missing.any():
            raise ValueError("ComBat needs a site for every row; some rows have none (NaN or inf)")
        data = check_array(data, dtype=np.float64, ensure_min_features=0)
        return sites.astype(str), data

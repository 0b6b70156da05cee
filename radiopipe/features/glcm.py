"""Grey level co-occurrence matrix (GLCM) and its features (IBSI ``cm``, pyradiomics ``glcm``).

The matrix is built once per case and aggregation (`radiopipe.features.cooccurrence`: plain counts,
one per slice and direction, merged and normalised by `glcm_matrices` into a stack ``p`` of shape
``(n, N_g, N_g)``); `cooccurrence_statistics` derives the
marginals and distributions that several features share, once; every feature is then a plain
function of those `CooccurrenceStatistics` that returns one value per matrix, written against
the array namespace so that CuPy arrays work unchanged.

Notation: :math:`p_{ij}` the normalised matrix, :math:`i, j` the grey levels of its rows and
columns, :math:`p_x(i) = \\sum_j p_{ij}`, :math:`p_y(j) = \\sum_i p_{ij}`,
:math:`\\mu_x = \\sum_{ij} i p_{ij}`, :math:`\\mu_y = \\sum_{ij} j p_{ij}`,
:math:`p_{x+y}(k) = \\sum_{i+j=k} p_{ij}`, :math:`p_{x-y}(k) = \\sum_{|i-j|=k} p_{ij}`,
:math:`N_g` the highest grey level of the matrix axis (see
`radiopipe.features.directions.grey_level_axis` for how the two modes choose that axis).

Entropies use :math:`\\log_2(p + \\epsilon)` with :math:`\\epsilon` the float64 machine epsilon,
as pyradiomics does; against IBSI's :math:`\\log_2 p` over :math:`p > 0` this changes values by
less than 1e-14.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from radiopipe.features.cooccurrence import glcm_matrices
from radiopipe.features.directions import (
    average_features,
    prepare_directional_input,
)
from radiopipe.xp import get_namespace

EPSILON = float(np.finfo(np.float64).eps)


class CooccurrenceStatistics(NamedTuple):
    """A stack of normalised GLCMs with the marginals and distributions its features share.

    Attributes
    ----------
    p : array, shape (n, N_g, N_g)
        Normalised matrices :math:`p_{ij}`.
    i, j : array, shapes (N_g, 1) and (1, N_g)
        Grey levels of the rows and the columns.
    p_x, p_y : array, shape (n, N_g)
        Marginals :math:`p_x(i)`, :math:`p_y(j)`.
    mean_x, mean_y : array, shape (n,)
        :math:`\\mu_x`, :math:`\\mu_y`.
    p_sum, k_sum : arrays, shapes (n, K) and (K,)
        :math:`p_{x+y}(k)` and its values :math:`k = 0..K - 1`, ``K - 1`` the largest :math:`i + j`.
    p_difference, k_difference : arrays, shapes (n, K) and (K,)
        :math:`p_{x-y}(k)` and its values :math:`k = 0..K - 1`, ``K - 1`` the largest
        :math:`|i - j|`.
    hxy, hxy1, hxy2, hx, hy : arrays, shape (n,)
        Entropies (pyradiomics' names): :math:`HXY` of :math:`p_{ij}`,
        :math:`HXY1 = -\\sum_{ij} p_{ij} \\log_2 (p_x(i) p_y(j) + \\epsilon)`, :math:`HXY2` of
        :math:`p_x(i) p_y(j)`, :math:`HX` of :math:`p_x` and :math:`HY` of :math:`p_y`.
    """

    p: object
    i: object
    j: object
    p_x: object
    p_y: object
    mean_x: object
    mean_y: object
    p_sum: object
    k_sum: object
    p_difference: object
    k_difference: object
    hxy: object
    hxy1: object
    hxy2: object
    hx: object
    hy: object


def cooccurrence_statistics(p, grey_levels) -> CooccurrenceStatistics:
    """Compute the `CooccurrenceStatistics` of a stack of normalised GLCMs.

    Parameters
    ----------
    p : array, shape (n, N_g, N_g)
        Normalised matrices (see `glcm_matrices`).
    grey_levels : array, shape (N_g,)
        Grey level of each row and column.
    """
    xp = get_namespace(p)
    i, j = grey_levels[:, None], grey_levels[None, :]
    p_x, p_y = xp.sum(p, axis=2), xp.sum(p, axis=1)
    p_sum = _pair_distribution(p, xp.rint(i + j).astype(xp.int64))
    p_difference = _pair_distribution(p, xp.rint(xp.abs(i - j)).astype(xp.int64))
    independent = p_x[:, :, None] * p_y[:, None, :]
    log_independent = xp.log2(independent + EPSILON)  # shared by HXY1 and HXY2
    return CooccurrenceStatistics(
        p=p,
        i=i,
        j=j,
        p_x=p_x,
        p_y=p_y,
        mean_x=xp.sum(p_x * grey_levels, axis=1),
        mean_y=xp.sum(p_y * grey_levels, axis=1),
        p_sum=p_sum,
        k_sum=xp.arange(p_sum.shape[1], dtype=xp.float64),
        p_difference=p_difference,
        k_difference=xp.arange(p_difference.shape[1], dtype=xp.float64),
        hxy=_entropy(p, (1, 2)),
        hxy1=-xp.sum(p * log_independent, axis=(1, 2)),
        hxy2=-xp.sum(independent * log_independent, axis=(1, 2)),
        hx=_entropy(p_x, 1),
        hy=_entropy(p_y, 1),
    )


def _pair_distribution(p, pair_index):
    """``out[n, k] = sum of p[n, i, j] over pair_index[i, j] == k`` for integer ``pair_index``."""
    xp = get_namespace(p)
    n_matrices = p.shape[0]
    n_bins = int(pair_index.max()) + 1
    keys = pair_index.reshape(1, -1) + n_bins * xp.arange(n_matrices).reshape(-1, 1)
    sums = xp.bincount(keys.reshape(-1), weights=p.reshape(-1), minlength=n_matrices * n_bins)
    return sums.reshape(n_matrices, n_bins)


def _entropy(probabilities, axes):
    xp = get_namespace(probabilities)
    return -xp.sum(probabilities * xp.log2(probabilities + EPSILON), axis=axes)


def _expectation(s: CooccurrenceStatistics, weights):
    """:math:`\\sum_{ij} w_{ij} p_{ij}` for weights of shape (N_g, N_g) or (n, N_g, N_g)."""
    xp = get_namespace(s.p)
    return xp.sum(s.p * weights, axis=(1, 2))


def _centred_levels(s: CooccurrenceStatistics):
    """:math:`i - \\mu_x` and :math:`j - \\mu_y`, shaped (n, N_g, 1) and (n, 1, N_g)."""
    return s.i[None] - s.mean_x[:, None, None], s.j[None] - s.mean_y[:, None, None]


def _distribution_mean(distribution, values):
    """:math:`\\mu = \\sum_k k\\, d(k)` of each distribution ``d`` over ``values`` ``k``."""
    xp = get_namespace(distribution)
    return xp.sum(values * distribution, axis=1)


def _distribution_variance(distribution, values):
    """:math:`\\sum_k (k - \\mu)^2 d(k)` of each distribution ``d`` over ``values`` ``k``."""
    xp = get_namespace(distribution)
    deviation = values - _distribution_mean(distribution, values)[:, None]
    return xp.sum(deviation * deviation * distribution, axis=1)


def joint_maximum(s: CooccurrenceStatistics):
    """Joint maximum :math:`\\max_{ij} p_{ij}` (pyradiomics MaximumProbability)."""
    xp = get_namespace(s.p)
    return xp.max(s.p, axis=(1, 2))


def joint_average(s: CooccurrenceStatistics):
    """Joint average :math:`\\mu_x = \\sum_{ij} i\\, p_{ij}`."""
    return s.mean_x


def joint_variance(s: CooccurrenceStatistics):
    """Joint variance :math:`\\sum_{ij} (i - \\mu_x)^2 p_{ij}` (pyradiomics SumSquares).

    Summed over the marginal, :math:`\\sum_i (i - \\mu_x)^2 p_x(i)`: the same value, from
    :math:`N_g` terms instead of :math:`N_g^2`.
    """
    return _marginal_variance(s.p_x, s.i[:, 0], s.mean_x)


def _marginal_variance(marginal, grey_levels, mean):
    """:math:`\\sum_i (i - \\mu)^2 m(i)` of each marginal ``m`` (n, N_g) about its mean."""
    xp = get_namespace(marginal)
    deviation = grey_levels[None, :] - mean[:, None]
    return xp.sum(deviation * deviation * marginal, axis=1)


def joint_entropy(s: CooccurrenceStatistics):
    """Joint entropy :math:`HXY = -\\sum_{ij} p_{ij} \\log_2 (p_{ij} + \\epsilon)`."""
    return s.hxy


def difference_average(s: CooccurrenceStatistics):
    """Difference average :math:`\\mu_{x-y} = \\sum_k k\\, p_{x-y}(k)`."""
    return _distribution_mean(s.p_difference, s.k_difference)


def difference_variance(s: CooccurrenceStatistics):
    """Difference variance :math:`\\sum_k (k - \\mu_{x-y})^2 p_{x-y}(k)`."""
    return _distribution_variance(s.p_difference, s.k_difference)


def difference_entropy(s: CooccurrenceStatistics):
    """Difference entropy :math:`-\\sum_k p_{x-y}(k) \\log_2 (p_{x-y}(k) + \\epsilon)`."""
    return _entropy(s.p_difference, 1)


def sum_average(s: CooccurrenceStatistics):
    """Sum average :math:`\\mu_{x+y} = \\sum_k k\\, p_{x+y}(k)`."""
    return _distribution_mean(s.p_sum, s.k_sum)


def sum_variance(s: CooccurrenceStatistics):
    """Sum variance :math:`\\sum_k (k - \\mu_{x+y})^2 p_{x+y}(k)`.

    Equal to cluster tendency; pyradiomics deprecated it for that reason, IBSI keeps it.
    """
    return _distribution_variance(s.p_sum, s.k_sum)


def sum_entropy(s: CooccurrenceStatistics):
    """Sum entropy :math:`-\\sum_k p_{x+y}(k) \\log_2 (p_{x+y}(k) + \\epsilon)`."""
    return _entropy(s.p_sum, 1)


def joint_energy(s: CooccurrenceStatistics):
    """Angular second moment :math:`\\sum_{ij} p_{ij}^2` (pyradiomics JointEnergy)."""
    return _expectation(s, s.p)


# The features below that weigh p_ij by a function of |i - j| (or of i + j) are summed over
# p_{x-y} (or p_{x+y}): the same values, from O(N_g) terms instead of O(N_g^2).


def contrast(s: CooccurrenceStatistics):
    """Contrast :math:`\\sum_{ij} (i - j)^2 p_{ij} = \\sum_k k^2 p_{x-y}(k)`."""
    return _difference_expectation(s, s.k_difference * s.k_difference)


def dissimilarity(s: CooccurrenceStatistics):
    """Dissimilarity :math:`\\sum_{ij} |i - j|\\, p_{ij} = \\sum_k k\\, p_{x-y}(k)`.

    Equal to difference average; pyradiomics deprecated it for that reason, IBSI keeps it.
    """
    return _difference_expectation(s, s.k_difference)


def inverse_difference(s: CooccurrenceStatistics):
    """Inverse difference :math:`\\sum_{ij} p_{ij} / (1 + |i - j|)` (pyradiomics Id)."""
    return _difference_expectation(s, 1.0 / (1.0 + s.k_difference))


def normalised_inverse_difference(s: CooccurrenceStatistics):
    """Normalised inverse difference :math:`\\sum_{ij} p_{ij} / (1 + |i - j| / N_g)` (Idn)."""
    xp = get_namespace(s.p)
    return _difference_expectation(s, 1.0 / (1.0 + s.k_difference / xp.max(s.i)))


def inverse_difference_moment(s: CooccurrenceStatistics):
    """Inverse difference moment :math:`\\sum_{ij} p_{ij} / (1 + (i - j)^2)` (Idm)."""
    return _difference_expectation(s, 1.0 / (1.0 + s.k_difference * s.k_difference))


def normalised_inverse_difference_moment(s: CooccurrenceStatistics):
    """Normalised inverse difference moment :math:`\\sum_{ij} p_{ij} / (1 + (i-j)^2 / N_g^2)`."""
    xp = get_namespace(s.p)
    squared = s.k_difference * s.k_difference
    return _difference_expectation(s, 1.0 / (1.0 + squared / xp.max(s.i) ** 2))


def _difference_expectation(s: CooccurrenceStatistics, weights):
    """:math:`\\sum_k w(k)\\, p_{x-y}(k)` for weights ``w`` of the differences ``k``."""
    xp = get_namespace(s.p)
    return xp.sum(s.p_difference * weights, axis=1)


def inverse_variance(s: CooccurrenceStatistics):
    """Inverse variance :math:`\\sum_{k \\geq 1} p_{x-y}(k) / k^2`.

    A matrix with no off-diagonal entry (a flat ROI) gives 0, the empty sum, as in pyradiomics.
    """
    xp = get_namespace(s.p)
    return xp.sum(s.p_difference[:, 1:] / s.k_difference[1:] ** 2, axis=1)


def correlation(s: CooccurrenceStatistics):
    """Correlation :math:`\\sum_{ij} (i - \\mu_x)(j - \\mu_y) p_{ij} / (\\sigma_x \\sigma_y)`.

    The denominator gets :math:`+\\epsilon` and a matrix with :math:`\\sigma_x \\sigma_y = 0`
    (one grey level, where the correlation is undefined) gives 1: pyradiomics' convention, kept in
    both modes so that a flat ROI yields a number.
    """
    xp = get_namespace(s.p)
    centred_i, centred_j = _centred_levels(s)
    grey_levels = s.i[:, 0]
    sigma_product = xp.sqrt(_marginal_variance(s.p_x, grey_levels, s.mean_x)) * xp.sqrt(
        _marginal_variance(s.p_y, grey_levels, s.mean_y)
    )
    covariance = _expectation(s, centred_i * centred_j)
    return xp.where(sigma_product == 0, 1.0, covariance / (sigma_product + EPSILON))


def autocorrelation(s: CooccurrenceStatistics):
    """Autocorrelation :math:`\\sum_{ij} i\\, j\\, p_{ij}`."""
    return _expectation(s, s.i * s.j)


def _cluster_deviation(s: CooccurrenceStatistics):
    """:math:`k - \\mu_x - \\mu_y` for every sum :math:`k = i + j`, shaped (n, K).

    The cluster features weigh :math:`p_{ij}` by a power of :math:`i + j - \\mu_x - \\mu_y`,
    so they are summed over :math:`p_{x+y}(k)`.
    """
    return s.k_sum[None, :] - (s.mean_x + s.mean_y)[:, None]


def _sum_expectation(s: CooccurrenceStatistics, weights):
    """:math:`\\sum_k w_k\\, p_{x+y}(k)` for weights of shape (n, K)."""
    xp = get_namespace(s.p)
    return xp.sum(s.p_sum * weights, axis=1)


def cluster_tendency(s: CooccurrenceStatistics):
    """Cluster tendency :math:`\\sum_{ij} (i + j - \\mu_x - \\mu_y)^2 p_{ij}`."""
    deviation = _cluster_deviation(s)
    return _sum_expectation(s, deviation * deviation)


def cluster_shade(s: CooccurrenceStatistics):
    """Cluster shade :math:`\\sum_{ij} (i + j - \\mu_x - \\mu_y)^3 p_{ij}`."""
    deviation = _cluster_deviation(s)
    return _sum_expectation(s, deviation * deviation * deviation)


def cluster_prominence(s: CooccurrenceStatistics):
    """Cluster prominence :math:`\\sum_{ij} (i + j - \\mu_x - \\mu_y)^4 p_{ij}`."""
    squared = _cluster_deviation(s) ** 2
    return _sum_expectation(s, squared * squared)


def information_correlation_1(s: CooccurrenceStatistics):
    """First information correlation :math:`(HXY - HXY1) / \\max(HX, HY)` (pyradiomics Imc1).

    Entropies as in `CooccurrenceStatistics`. 0 when :math:`HX = HY = 0` (one grey level: no
    information to correlate), as in pyradiomics.
    """
    xp = get_namespace(s.p)
    largest = xp.maximum(s.hx, s.hy)
    return xp.where(largest == 0, 0.0, (s.hxy - s.hxy1) / xp.where(largest == 0, 1.0, largest))


def information_correlation_2(s: CooccurrenceStatistics):
    """Second information correlation :math:`\\sqrt{1 - e^{-2 (HXY2 - HXY)}}` (pyradiomics Imc2).

    Entropies as in `CooccurrenceStatistics`. :math:`HXY2 - HXY` is a mutual information, >= 0;
    where rounding makes it negative the value is 0. (pyradiomics yields NaN for such a matrix
    and leaves it out of its average.)
    """
    xp = get_namespace(s.p)
    return xp.sqrt(1.0 - xp.exp(-2.0 * xp.maximum(s.hxy2 - s.hxy, 0.0)))


def maximal_correlation_coefficient(s: CooccurrenceStatistics):
    """Maximal correlation coefficient :math:`\\sqrt{\\lambda_2(Q)}` (pyradiomics MCC; not IBSI).

    :math:`Q_{ij} = \\sum_k p_{ik} p_{jk} / (p_x(i) p_y(k))` and :math:`\\lambda_2` its second
    largest eigenvalue. The eigenvalues are taken from the similar symmetric matrix
    :math:`D^{1/2} Q D^{-1/2}` (:math:`D = \\mathrm{diag}(p_x)`), which ``eigvalsh`` handles on
    CPU and GPU. A matrix axis of a single grey level gives 1, as in pyradiomics (so a flat ROI
    gives 1 in mode 'pyradiomics' but 0 in mode 'ibsi', whose axis keeps every level); a slightly
    negative eigenvalue from rounding gives 0.

    Deviation: pyradiomics adds machine epsilon to :math:`p_x(i) p_y(k)` in :math:`Q`'s
    denominator and takes the eigenvalues of the non-symmetric :math:`Q`. The epsilon breaks the
    similarity to a symmetric matrix that keeps this computation on ``eigvalsh`` (CuPy has no
    general eigensolver), and it only shows with very rare grey levels: on a real MR LoG image
    whose :math:`p_x p_y` fall to 2e-6, MCC differs from pyradiomics' by 1.7e-6 relative.
    """
    xp = get_namespace(s.p)
    if s.p.shape[1] < 2:
        return xp.ones(s.p.shape[0])
    row_scale = xp.where(s.p_x > 0, 1.0 / xp.sqrt(xp.where(s.p_x > 0, s.p_x, 1.0)), 0.0)
    column_scale = xp.where(s.p_y > 0, 1.0 / xp.where(s.p_y > 0, s.p_y, 1.0), 0.0)
    scaled = s.p * row_scale[:, :, None]
    symmetric_q = xp.matmul(scaled * column_scale[:, None, :], xp.swapaxes(scaled, 1, 2))
    eigenvalues = xp.linalg.eigvalsh(symmetric_q)
    return xp.sqrt(xp.maximum(eigenvalues[:, -2], 0.0))


FEATURES = {
    "MaximumProbability": joint_maximum,
    "JointAverage": joint_average,
    "SumSquares": joint_variance,
    "JointEntropy": joint_entropy,
    "DifferenceAverage": difference_average,
    "DifferenceVariance": difference_variance,
    "DifferenceEntropy": difference_entropy,
    "SumAverage": sum_average,
    "SumVariance": sum_variance,
    "SumEntropy": sum_entropy,
    "JointEnergy": joint_energy,
    "Contrast": contrast,
    "Dissimilarity": dissimilarity,
    "Id": inverse_difference,
    "Idn": normalised_inverse_difference,
    "Idm": inverse_difference_moment,
    "Idmn": normalised_inverse_difference_moment,
    "InverseVariance": inverse_variance,
    "Correlation": correlation,
    "Autocorrelation": autocorrelation,
    "ClusterTendency": cluster_tendency,
    "ClusterShade": cluster_shade,
    "ClusterProminence": cluster_prominence,
    "Imc1": information_correlation_1,
    "Imc2": information_correlation_2,
    "MCC": maximal_correlation_coefficient,
}
FEATURE_NAMES = tuple(FEATURES)


def compute_glcm(
    levels,
    mask,
    n_levels: int,
    *,
    aggregation: str,
    mode: str = "ibsi",
    distance: int | tuple[int, ...] = 1,
    symmetric: bool = True,
    weighting: str | None = None,
    spacing=(1.0, 1.0, 1.0),
    memo: dict | None = None,
) -> dict[str, float]:
    """All GLCM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x) or (y, x)
        Grey levels ``1..n_levels`` inside the ROI; values outside it are ignored.
    mask : array of bool, same shape
        The ROI.
    n_levels : int
        Number of grey levels of the discretisation.
    aggregation : {'2D_avg', '2D_comb', '2_5D_avg', '2_5D_comb', '3D_avg', '3D_comb'}
        How directions and slices are merged or averaged (see `radiopipe.features.directions`).
        pyradiomics' default is '3D_avg', its ``force2D`` is '2_5D_avg'.
    mode : {'ibsi', 'pyradiomics'}
        'ibsi' gives every level ``1..n_levels`` a matrix row (``N_g = n_levels``);
        'pyradiomics' keeps only the levels present in the ROI (``N_g`` = highest level present),
        which changes Idn, Idmn and MCC.
    distance : int or tuple of int
        Chebyshev distance between paired voxels (pyradiomics' ``distances=[distance]``); a
        tuple is pyradiomics' ``distances`` list: the offsets at each distance are directions
        of their own, averaged (or merged) together.
    symmetric : bool
        Symmetrise the matrix (IBSI; pyradiomics' ``symmetricalGLCM``).
    weighting : {'manhattan', 'euclidean', 'infinity'}, optional
        With a ``'_comb'`` aggregation, weight each direction's matrix by :math:`e^{-d^2}` (``d``
        its offset's length in mm by that norm) before merging: pyradiomics' ``weightingNorm``.
    spacing : sequence of float
        Voxel size ``(z, y, x)`` in mm, for ``weighting``.
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): GLCM and GLRLM of one image
        share their cropped input.

    Returns
    -------
    dict of str to float
        ``FEATURE_NAMES`` -> value. All NaN when no two ROI voxels are neighbours (e.g. a single
        voxel): every joint probability is then 0 / 0 (pyradiomics gives NaN too, except MCC = 1).

    Examples
    --------
    >>> levels = np.array([[1, 2], [2, 1]])
    >>> round(compute_glcm(levels, levels > 0, 2, aggregation="2D_comb")["Contrast"], 4)
    0.6667
    """
    if not isinstance(symmetric, (bool, np.bool_)):
        raise ValueError(
            f"The 'symmetric' parameter of compute_glcm must be a bool. Got {symmetric!r} instead."
        )
    prepared = prepare_directional_input(
        levels, mask, n_levels, aggregation=aggregation, mode=mode, family="glcm", memo=memo
    )
    matrices = glcm_matrices(
        prepared, distance=distance, symmetric=symmetric, weighting=weighting, spacing=spacing
    )
    return average_features(FEATURES, matrices, prepared.grey_levels, cooccurrence_statistics)

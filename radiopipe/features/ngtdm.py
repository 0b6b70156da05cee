r"""Neighbourhood grey tone difference matrix (NGTDM; IBSI section 3.9, prefix ``ngt_``; pyradiomics
``ngtdm``).

For every ROI voxel of grey level :math:`i` the mean grey level :math:`\bar{A}` of its neighbours
within Chebyshev distance :math:`\delta` (26 neighbours in 3D, 8 in-plane for 2D and 2.5D;
neighbours outside the ROI are left out) is compared with :math:`i`. Voxels without any neighbour
in the ROI are left out entirely, as in IBSI and pyradiomics. The matrix holds, per grey level,

- :math:`n_i`: the voxels of level :math:`i` with at least one neighbour,
- :math:`s_i = \sum |i - \bar{A}|` over those voxels,

with :math:`N_{v,c} = \sum_i n_i`, :math:`p_i = n_i / N_{v,c}` and :math:`N_{g,p}` the number of
levels with :math:`p_i > 0`. Sums over pairs :math:`(i, j)` run over levels with
:math:`p_i > 0` and :math:`p_j > 0`.

Degenerate ROIs (every neighbourhood equal, a single grey level, or no voxel with a neighbour)
make denominators vanish. IBSI defines no value there; both modes follow pyradiomics: coarseness
:math:`10^6`, contrast, busyness and strength 0 (complexity is 0 by its own sum).

Examples
--------
>>> levels = np.array([[[1, 2], [2, 2]]])
>>> matrix = ngtdm_matrix(levels, levels > 0, 2, aggregation="2D")
>>> matrix.counts[0].tolist(), matrix.differences[0].round(12).tolist()
([1.0, 3.0], [1.0, 1.0])
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from radiopipe.features.neighbourhood import (
    average_over_groups,
    in_plane,
    neighbour_statistics,
    neighbourhood_lattice,
    prepare_input,
    slice_groups,
)
from radiopipe.xp import get_namespace

FEATURE_NAMES = ("Coarseness", "Contrast", "Busyness", "Complexity", "Strength")

# pyradiomics' value for the coarseness of an ROI without grey tone differences, where
# 1 / sum(p_i s_i) diverges.
HOMOGENEOUS_COARSENESS = 1.0e6


class ToneDifferenceMatrix(NamedTuple):
    """A stack of NGTDMs, one per group (slice for ``'2D'``).

    Attributes
    ----------
    counts : ndarray of float64, shape (n_groups, n_levels)
        :math:`n_i`.
    differences : ndarray of float64, shape (n_groups, n_levels)
        :math:`s_i`.
    grey_levels : ndarray of float64, shape (n_levels,)
        :math:`i = 1..n_levels`.
    """

    counts: np.ndarray
    differences: np.ndarray
    grey_levels: np.ndarray


def ngtdm_matrix(
    levels, mask, n_levels: int, *, aggregation: str, distance: int | tuple[int, ...] = 1,
    memo: dict | None = None,
) -> ToneDifferenceMatrix:
    """Neighbourhood grey tone difference matrices of a discretised, cropped ROI.

    Neighbour sums come from one Numba pass over the ROI (see `FlatLattice`), the pass that
    also counts GLDM's dependences (`neighbour_statistics`).

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI, 0 outside.
    mask : ndarray of bool
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
    distance : int or tuple of int
        Chebyshev radius :math:`\\delta` of the neighbourhood, or the Chebyshev distances of its
        neighbours (pyradiomics' ``distances``; see `chebyshev_offsets`).
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): work shared with the other
        families of the image.
    """
    in_plane_only = in_plane(aggregation)
    memo = {} if memo is None else memo  # the lattice, built once for both reads below
    lattice = neighbourhood_lattice(levels, distance, in_plane_only, memo)
    statistics = neighbour_statistics(
        levels, distance=distance, in_plane_only=in_plane_only, memo=memo
    )
    voxel_group, n_groups = slice_groups(mask, aggregation)
    counts = np.zeros((n_groups, n_levels))
    differences = np.zeros((n_groups, n_levels))
    _tone_differences(lattice.values, lattice.roi, statistics.level_sum, statistics.count,
                      voxel_group, n_levels, counts.reshape(-1), differences.reshape(-1))
    return ToneDifferenceMatrix(counts, differences, np.arange(1, n_levels + 1, dtype=np.float64))


@numba.njit(cache=True, nogil=True)
def _tone_differences(values, roi, level_sum, count, group, n_levels, counts,
                      differences):  # pragma: no cover - compiled by Numba
    """Add each ROI voxel that has a neighbour to its cell ``group * n_levels + level - 1``: 1 to
    ``counts`` and :math:`|i - \\bar{X}|` to ``differences`` (``roi``: the voxels' lattice
    indices; ``level_sum``, ``count``: their neighbours' level sum and number), in the voxels'
    order: the sums of ``np.bincount`` in one pass instead of five passes over the voxels.
    """
    for k in range(roi.size):
        if count[k] > 0:
            grey = values[roi[k]]
            cell = group[k] * n_levels + grey - 1
            counts[cell] += 1.0
            differences[cell] += abs(grey - level_sum[k] / count[k])


def _probabilities(counts):
    """:math:`p_i` and :math:`N_{v,c}`; all-zero when no voxel has a neighbour."""
    xp = get_namespace(counts)
    n_valid = xp.sum(counts, axis=-1)
    return counts / xp.maximum(n_valid, 1.0)[..., None], n_valid


def _present_pairs(counts):
    """Boolean (..., n_levels, n_levels): both levels occur (:math:`p_i > 0`, :math:`p_j > 0`)."""
    present = counts > 0
    return present[..., :, None] & present[..., None, :]


def coarseness(counts, differences):
    r"""Coarseness :math:`1 / \sum_i p_i s_i` (:math:`10^6` when the sum is 0)."""
    xp = get_namespace(counts)
    probability, _ = _probabilities(counts)
    total = xp.sum(probability * differences, axis=-1)
    # IBSI leaves a zero sum undefined; pyradiomics returns 1e6, and so do both modes.
    return xp.where(total > 0, 1.0 / xp.where(total > 0, total, 1.0), HOMOGENEOUS_COARSENESS)


def contrast(counts, differences, grey_levels):
    r"""Contrast :math:`\frac{\sum_{i,j} p_i p_j (i-j)^2}{N_{g,p}(N_{g,p}-1)}
    \frac{\sum_i s_i}{N_{v,c}}` (0 when :math:`N_{g,p} \le 1`)."""
    xp = get_namespace(counts)
    probability, n_valid = _probabilities(counts)
    squared_gap = (grey_levels[:, None] - grey_levels[None, :]) ** 2
    joint = probability[..., :, None] * probability[..., None, :]
    spread = xp.sum(joint * squared_gap, axis=(-2, -1))
    n_present = xp.sum(counts > 0, axis=-1)
    pairs = n_present * (n_present - 1)
    value = spread / xp.maximum(pairs, 1) * xp.sum(differences, axis=-1) / xp.maximum(n_valid, 1.0)
    # IBSI leaves a single grey level (no pair) undefined; pyradiomics returns 0, as do both modes.
    return xp.where(pairs > 0, value, 0.0)


def busyness(counts, differences, grey_levels):
    r"""Busyness :math:`\frac{\sum_i p_i s_i}{\sum_{i,j} |i p_i - j p_j|}` (0 when the
    denominator is 0)."""
    xp = get_namespace(counts)
    probability, _ = _probabilities(counts)
    weighted = grey_levels * probability
    gaps = xp.abs(weighted[..., :, None] - weighted[..., None, :])
    denominator = xp.sum(xp.where(_present_pairs(counts), gaps, 0.0), axis=(-2, -1))
    numerator = xp.sum(probability * differences, axis=-1)
    # IBSI leaves a zero denominator undefined; pyradiomics returns 0, as do both modes.
    return xp.where(denominator > 0, numerator / xp.where(denominator > 0, denominator, 1.0), 0.0)


def complexity(counts, differences, grey_levels):
    r"""Complexity :math:`\frac{1}{N_{v,c}} \sum_{i,j} |i - j|
    \frac{p_i s_i + p_j s_j}{p_i + p_j}`."""
    xp = get_namespace(counts)
    probability, n_valid = _probabilities(counts)
    weighted = probability * differences
    gap = xp.abs(grey_levels[:, None] - grey_levels[None, :])
    pair_sum = probability[..., :, None] + probability[..., None, :]
    pair_weight = weighted[..., :, None] + weighted[..., None, :]
    ratio = pair_weight / xp.where(pair_sum > 0, pair_sum, 1.0)
    terms = xp.where(_present_pairs(counts), gap * ratio, 0.0)
    return xp.sum(terms, axis=(-2, -1)) / xp.maximum(n_valid, 1.0)


def strength(counts, differences, grey_levels):
    r"""Strength :math:`\frac{\sum_{i,j} (p_i + p_j)(i - j)^2}{\sum_i s_i}` (0 when
    :math:`\sum_i s_i = 0`)."""
    xp = get_namespace(counts)
    probability, _ = _probabilities(counts)
    squared_gap = (grey_levels[:, None] - grey_levels[None, :]) ** 2
    pair_sum = probability[..., :, None] + probability[..., None, :]
    present_terms = xp.where(_present_pairs(counts), pair_sum * squared_gap, 0.0)
    numerator = xp.sum(present_terms, axis=(-2, -1))
    total = xp.sum(differences, axis=-1)
    # IBSI leaves a zero sum of differences undefined; pyradiomics returns 0, as do both modes.
    return xp.where(total > 0, numerator / xp.where(total > 0, total, 1.0), 0.0)


def ngtdm_features(matrix: ToneDifferenceMatrix) -> dict:
    """All NGTDM features of a matrix stack, one value per group (IBSI = pyradiomics)."""
    n, s, i = matrix.counts, matrix.differences, matrix.grey_levels
    return {
        "Coarseness": coarseness(n, s),
        "Contrast": contrast(n, s, i),
        "Busyness": busyness(n, s, i),
        "Complexity": complexity(n, s, i),
        "Strength": strength(n, s, i),
    }


def compute_ngtdm(
    levels, mask, n_levels: int, *, aggregation: str, mode: str = "ibsi",
    distance: int | tuple[int, ...] = 1, memo: dict | None = None,
) -> dict[str, float]:
    """NGTDM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI (values outside are ignored).
    mask : array of bool, same shape
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
        IBSI aggregation; pyradiomics' default is ``'3D'``, its ``force2D`` is ``'2_5D'``.
    mode : {'ibsi', 'pyradiomics'}
        The definitions agree; accepted for a uniform signature.
    distance : int or tuple of int
        Chebyshev radius :math:`\\delta` of the neighbourhood (IBSI and pyradiomics default 1),
        or the Chebyshev distances of its neighbours (pyradiomics' ``distances``).
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): work shared with the other
        families of the image.

    Returns
    -------
    dict
        ``FEATURE_NAMES`` -> value (averaged over slices for ``'2D'``).

    Examples
    --------
    >>> levels = np.array([[[1, 2], [2, 2]]])
    >>> round(compute_ngtdm(levels, levels > 0, 2, aggregation="3D")["Coarseness"], 6)
    1.0
    """
    roi = prepare_input(
        levels, mask, n_levels, aggregation=aggregation, mode=mode, family="ngtdm", memo=memo
    )
    matrix = ngtdm_matrix(
        roi.levels, roi.mask, roi.n_levels, aggregation=aggregation, distance=distance, memo=memo
    )
    return average_over_groups(ngtdm_features(matrix))

r"""Neighbouring grey level dependence matrix (NGLDM; IBSI section 3.11, prefix ``ngl_``).

A neighbour within Chebyshev distance :math:`\delta` (26 neighbours in 3D, 8 in-plane for 2D and
2.5D) *depends* on a voxel of grey level :math:`i` when it lies in the ROI and its grey level
:math:`j'` satisfies :math:`|i - j'| \le \alpha` (the coarseness parameter). A voxel with
:math:`k` dependent neighbours has dependence count :math:`j = k + 1`; :math:`P_{ij}` counts the
ROI voxels by grey level and dependence count, so :math:`N_s = N_v` (every voxel is an event).
The features have the GLSZM's form (see :mod:`radiopipe.features.zones`), plus the energy.

pyradiomics implements this matrix as its GLDM (:mod:`radiopipe.features.gldm`, the pyradiomics
feature subset). Output names follow pyradiomics' GLDM names where pyradiomics has the feature.

Examples
--------
>>> levels = np.array([[[1, 1, 2]]])
>>> matrix = ngldm_matrix(levels, levels > 0, 2, aggregation="3D")
>>> matrix.values.tolist(), matrix.counts[0].tolist()  # dependence counts 1 and 2
([1.0, 2.0], [[0.0, 2.0], [1.0, 0.0]])
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.neighbourhood import (
    average_over_groups,
    in_plane,
    neighbour_statistics,
    prepare_input,
    slice_groups,
)
from radiopipe.features.zones import (
    PYRADIOMICS_EPS,
    LevelMatrix,
    emphasis,
    grey_level_non_uniformity,
    grey_level_variance,
    joint_energy,
    joint_entropy,
    level_matrix,
    percentage,
    value_non_uniformity,
    value_variance,
)

FEATURE_NAMES = (
    "SmallDependenceEmphasis",
    "LargeDependenceEmphasis",
    "LowGrayLevelEmphasis",
    "HighGrayLevelEmphasis",
    "SmallDependenceLowGrayLevelEmphasis",
    "SmallDependenceHighGrayLevelEmphasis",
    "LargeDependenceLowGrayLevelEmphasis",
    "LargeDependenceHighGrayLevelEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "DependenceNonUniformity",
    "DependenceNonUniformityNormalized",
    "DependencePercentage",
    "GrayLevelVariance",
    "DependenceVariance",
    "DependenceEntropy",
    "DependenceEnergy",
)


def dependence_counts(levels, *, alpha: float, distance, in_plane_only: bool,
                      memo: dict | None = None) -> np.ndarray:
    """Dependence count :math:`j = k + 1` of every ROI voxel (C order).

    One Numba pass over the ROI visits every neighbour once, instead of one full-array NumPy
    pass per neighbour offset; the same pass gives NGTDM its neighbour sums
    (`radiopipe.features.neighbourhood.neighbour_statistics`), once per ``memo``.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels >= 1 inside the ROI, 0 outside.
    alpha : float
        Coarseness parameter: neighbours with :math:`|i - j'| \\le \\alpha` depend on the centre.
    distance : int or tuple of int
        Chebyshev radius of the neighbourhood (see `chebyshev_offsets`).
    in_plane_only : bool
        Count in-plane neighbours only (2D and 2.5D).
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`).
    """
    return neighbour_statistics(
        levels, distance=distance, in_plane_only=in_plane_only, alpha=alpha, memo=memo
    ).dependence


def ngldm_matrix(
    levels, mask, n_levels: int, *, aggregation: str, alpha: float = 0, distance: int = 1,
    memo: dict | None = None,
) -> LevelMatrix:
    """Neighbouring grey level dependence matrices of a discretised, cropped ROI.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI, 0 outside.
    mask : ndarray of bool
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
    alpha : float
        Coarseness parameter :math:`\\alpha`.
    distance : int
        Chebyshev radius :math:`\\delta`.
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`).

    Returns
    -------
    LevelMatrix
        Columns are dependence counts :math:`j = k + 1`.
    """
    counts = dependence_counts(
        levels, alpha=alpha, distance=distance, in_plane_only=in_plane(aggregation), memo=memo
    )
    voxel_group, n_groups = slice_groups(mask, aggregation)
    return level_matrix(
        voxel_group,
        levels[mask],
        counts,
        n_groups=n_groups,
        n_levels=n_levels,
        n_voxels=np.bincount(voxel_group, minlength=n_groups),
    )


def ngldm_features(matrix: LevelMatrix, *, mode: str = "ibsi") -> dict:
    """All NGLDM features of a matrix stack, one value per group.

    The definitions of IBSI and pyradiomics agree; only the entropy's epsilon differs (see
    :func:`radiopipe.features.zones.joint_entropy`).
    """
    counts, i, j = matrix.counts, matrix.grey_levels, matrix.values
    eps = PYRADIOMICS_EPS if mode == "pyradiomics" else 0.0
    return {
        "SmallDependenceEmphasis": emphasis(counts, i, j, 0, -2),
        "LargeDependenceEmphasis": emphasis(counts, i, j, 0, 2),
        "LowGrayLevelEmphasis": emphasis(counts, i, j, -2, 0),
        "HighGrayLevelEmphasis": emphasis(counts, i, j, 2, 0),
        "SmallDependenceLowGrayLevelEmphasis": emphasis(counts, i, j, -2, -2),
        "SmallDependenceHighGrayLevelEmphasis": emphasis(counts, i, j, 2, -2),
        "LargeDependenceLowGrayLevelEmphasis": emphasis(counts, i, j, -2, 2),
        "LargeDependenceHighGrayLevelEmphasis": emphasis(counts, i, j, 2, 2),
        "GrayLevelNonUniformity": grey_level_non_uniformity(counts, normalised=False),
        "GrayLevelNonUniformityNormalized": grey_level_non_uniformity(counts, normalised=True),
        "DependenceNonUniformity": value_non_uniformity(counts, normalised=False),
        "DependenceNonUniformityNormalized": value_non_uniformity(counts, normalised=True),
        "DependencePercentage": percentage(counts, matrix.n_voxels),
        "GrayLevelVariance": grey_level_variance(counts, i),
        "DependenceVariance": value_variance(counts, j),
        "DependenceEntropy": joint_entropy(counts, eps=eps),
        "DependenceEnergy": joint_energy(counts),
    }


def compute_ngldm(
    levels,
    mask,
    n_levels: int,
    *,
    aggregation: str,
    mode: str = "ibsi",
    alpha: float = 0,
    distance: int = 1,
    memo: dict | None = None,
) -> dict[str, float]:
    """NGLDM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI (values outside are ignored).
    mask : array of bool, same shape
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
        IBSI aggregation; pyradiomics' default is ``'3D'``, its ``force2D`` is ``'2_5D'``.
    mode : {'ibsi', 'pyradiomics'}
    alpha : float
        Coarseness parameter :math:`\\alpha` (IBSI default 0).
    distance : int
        Chebyshev radius :math:`\\delta` (IBSI default 1); pyradiomics' ``distances=[1..d]``.
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): work shared with the other
        families of the image.

    Returns
    -------
    dict
        ``FEATURE_NAMES`` -> value (averaged over slices for ``'2D'``).

    Examples
    --------
    >>> levels = np.array([[[1, 1, 2]]])
    >>> compute_ngldm(levels, levels > 0, 2, aggregation="3D")["DependencePercentage"]
    1.0
    """
    roi = prepare_input(
        levels, mask, n_levels, aggregation=aggregation, mode=mode, family="ngldm", memo=memo
    )
    matrix = ngldm_matrix(
        roi.levels, roi.mask, roi.n_levels, aggregation=aggregation, alpha=alpha, distance=distance,
        memo=memo,
    )
    return average_over_groups(ngldm_features(matrix, mode=mode))

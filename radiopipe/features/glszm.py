r"""Grey level size zone matrix (GLSZM; IBSI section 3.8, prefix ``szm_``; pyradiomics ``glszm``).

A zone is a connected set of ROI voxels sharing one grey level, connected through their 26
neighbours (3D) or 8 in-plane neighbours (2D, 2.5D), as in IBSI and pyradiomics.
:math:`P_{ij}` counts the zones of grey level :math:`i` and size :math:`j` voxels.

The zone labelling and the formulas this family shares with GLDZM, NGLDM and GLDM live in
`radiopipe.features.zones`.

Examples
--------
>>> levels = np.array([[[1, 1, 2], [2, 2, 2]]])
>>> mask = np.ones(levels.shape, dtype=bool)
>>> matrix = glszm_matrix(levels, mask, 2, aggregation="3D")
>>> matrix.counts[0].tolist()  # rows: grey levels 1, 2; columns: zone sizes 2, 4
[[1.0, 0.0], [0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.neighbourhood import average_over_groups, prepare_input, slice_groups
from radiopipe.features.zones import (
    PYRADIOMICS_EPS,
    LevelMatrix,
    emphasis,
    grey_level_non_uniformity,
    grey_level_variance,
    joint_entropy,
    level_matrix,
    percentage,
    value_non_uniformity,
    value_variance,
    zone_table,
)

FEATURE_NAMES = (
    "SmallAreaEmphasis",
    "LargeAreaEmphasis",
    "LowGrayLevelZoneEmphasis",
    "HighGrayLevelZoneEmphasis",
    "SmallAreaLowGrayLevelEmphasis",
    "SmallAreaHighGrayLevelEmphasis",
    "LargeAreaLowGrayLevelEmphasis",
    "LargeAreaHighGrayLevelEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "SizeZoneNonUniformity",
    "SizeZoneNonUniformityNormalized",
    "ZonePercentage",
    "GrayLevelVariance",
    "ZoneVariance",
    "ZoneEntropy",
)

def glszm_matrix(
    levels, mask, n_levels: int, *, aggregation: str, memo: dict | None = None
) -> LevelMatrix:
    """Grey level size zone matrices of a discretised, cropped ROI.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI, 0 outside.
    mask : ndarray of bool
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
    memo : dict, optional
        The image's memo: the zones are labelled on its neighbourhood lattice.

    Returns
    -------
    LevelMatrix
        One matrix per slice for ``'2D'``, else one; columns are zone sizes.
    """
    zone_group, zone_level, zone_size, _ = zone_table(levels, mask, aggregation, memo=memo)
    voxel_group, n_groups = slice_groups(mask, aggregation)
    return level_matrix(
        zone_group,
        zone_level,
        zone_size,
        n_groups=n_groups,
        n_levels=n_levels,
        n_voxels=np.bincount(voxel_group, minlength=n_groups),
    )


def glszm_features(matrix: LevelMatrix, *, mode: str = "ibsi") -> dict:
    """All GLSZM features of a matrix stack, one value per group.

    The definitions of IBSI and pyradiomics agree; only the entropy's epsilon differs (see
    :func:`joint_entropy`).
    """
    counts, i, j = matrix.counts, matrix.grey_levels, matrix.values
    eps = PYRADIOMICS_EPS if mode == "pyradiomics" else 0.0
    return {
        "SmallAreaEmphasis": emphasis(counts, i, j, 0, -2),
        "LargeAreaEmphasis": emphasis(counts, i, j, 0, 2),
        "LowGrayLevelZoneEmphasis": emphasis(counts, i, j, -2, 0),
        "HighGrayLevelZoneEmphasis": emphasis(counts, i, j, 2, 0),
        "SmallAreaLowGrayLevelEmphasis": emphasis(counts, i, j, -2, -2),
        "SmallAreaHighGrayLevelEmphasis": emphasis(counts, i, j, 2, -2),
        "LargeAreaLowGrayLevelEmphasis": emphasis(counts, i, j, -2, 2),
        "LargeAreaHighGrayLevelEmphasis": emphasis(counts, i, j, 2, 2),
        "GrayLevelNonUniformity": grey_level_non_uniformity(counts, normalised=False),
        "GrayLevelNonUniformityNormalized": grey_level_non_uniformity(counts, normalised=True),
        "SizeZoneNonUniformity": value_non_uniformity(counts, normalised=False),
        "SizeZoneNonUniformityNormalized": value_non_uniformity(counts, normalised=True),
        "ZonePercentage": percentage(counts, matrix.n_voxels),
        "GrayLevelVariance": grey_level_variance(counts, i),
        "ZoneVariance": value_variance(counts, j),
        "ZoneEntropy": joint_entropy(counts, eps=eps),
    }


def compute_glszm(
    levels, mask, n_levels: int, *, aggregation: str, mode: str = "ibsi",
    memo: dict | None = None,
) -> dict[str, float]:
    """GLSZM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI (values outside are ignored).
    mask : array of bool, same shape
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
        IBSI aggregation; pyradiomics' default is ``'3D'``, its ``force2D`` is ``'2_5D'``.
    mode : {'ibsi', 'pyradiomics'}
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): work shared with the other
        families of the image.

    Returns
    -------
    dict
        ``FEATURE_NAMES`` -> value (averaged over slices for ``'2D'``).

    Examples
    --------
    >>> levels = np.array([[[1, 1, 2], [2, 2, 2]]])
    >>> compute_glszm(levels, levels > 0, 2, aggregation="3D")["ZonePercentage"]
    0.3333333333333333
    """
    roi = prepare_input(
        levels, mask, n_levels, aggregation=aggregation, mode=mode, family="glszm", memo=memo
    )
    matrix = glszm_matrix(roi.levels, roi.mask, roi.n_levels, aggregation=aggregation, memo=memo)
    return average_over_groups(glszm_features(matrix, mode=mode))

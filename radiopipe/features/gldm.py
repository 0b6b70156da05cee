r"""Grey level dependence matrix (GLDM; pyradiomics ``gldm``).

pyradiomics' GLDM is IBSI's NGLDM (:mod:`radiopipe.features.ngldm`): the same matrix, with
pyradiomics' coarseness parameter ``gldm_a`` as IBSI's :math:`\alpha`. pyradiomics reports 14 of
the 17 NGLDM features: it dropped the dependence percentage (always 1, since every voxel is an
event) and the normalised grey level non-uniformity (equal to the first-order uniformity), and
has no dependence energy. This module exposes that subset under the pyradiomics names.

Examples
--------
>>> import numpy as np
>>> levels = np.array([[[1, 1, 2]]])
>>> round(compute_gldm(levels, levels > 0, 2, aggregation="3D")["LargeDependenceEmphasis"], 6)
3.0
"""

from __future__ import annotations

from radiopipe.features.neighbourhood import average_over_groups, prepare_input
from radiopipe.features.ngldm import ngldm_features, ngldm_matrix

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
    "DependenceNonUniformity",
    "DependenceNonUniformityNormalized",
    "GrayLevelVariance",
    "DependenceVariance",
    "DependenceEntropy",
)


def compute_gldm(
    levels,
    mask,
    n_levels: int,
    *,
    aggregation: str,
    mode: str = "ibsi",
    gldm_a: float = 0,
    distance: int | tuple[int, ...] = 1,
    memo: dict | None = None,
) -> dict[str, float]:
    """pyradiomics' GLDM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI (values outside are ignored).
    mask : array of bool, same shape
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
        IBSI aggregation; pyradiomics' default is ``'3D'``, its ``force2D`` is ``'2_5D'``.
    mode : {'ibsi', 'pyradiomics'}
        Only the entropy differs (pyradiomics adds machine epsilon inside the logarithm).
    gldm_a : float
        pyradiomics' coarseness parameter (IBSI :math:`\\alpha`), default 0.
    distance : int or tuple of int
        Chebyshev radius of the neighbourhood (pyradiomics' ``distances=[1..d]``), or the
        Chebyshev distances of its neighbours (pyradiomics' ``distances`` as a tuple).
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): work shared with the other
        families of the image.

    Returns
    -------
    dict
        ``FEATURE_NAMES`` -> value (averaged over slices for ``'2D'``).
    """
    roi = prepare_input(
        levels, mask, n_levels, aggregation=aggregation, mode=mode, family="gldm", memo=memo
    )
    matrix = ngldm_matrix(
        roi.levels, roi.mask, roi.n_levels, aggregation=aggregation, alpha=gldm_a,
        distance=distance, memo=memo,
    )
    features = ngldm_features(matrix, mode=mode)
    return average_over_groups({name: features[name] for name in FEATURE_NAMES})

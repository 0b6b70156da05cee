r"""Grey level distance zone matrix (GLDZM; IBSI section 3.10, prefix ``dzm_``; not in pyradiomics).

Zones are those of the GLSZM (26-connected in 3D, 8-connected in-plane for 2D and 2.5D). The
distance of a voxel to the ROI edge is the number of steps to leave the ROI, a voxel on the edge
having distance 1; IBSI takes steps between 6-connected voxels in 3D and 4-connected in-plane
voxels in 2D, and measures against the *morphological* mask (before intensity re-segmentation),
so holes left by re-segmentation do not create edges. Voxels beyond the image border count as
outside. A zone's distance is the smallest distance of its voxels. :math:`P_{ij}` counts the
zones of grey level :math:`i` at distance :math:`j`. The features have the GLSZM's form (see
:mod:`radiopipe.features.zones`) with distances as column values; pyradiomics has no GLDZM, so
both modes compute the IBSI definitions.

Examples
--------
>>> levels = np.array([[[1, 1, 1], [1, 2, 1], [1, 1, 1]]])
>>> compute_gldzm(levels, levels > 0, 2, aggregation="2D")["LargeDistanceEmphasis"]
2.5
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.neighbourhood import (
    average_over_groups,
    in_plane,
    prepare_input,
    slice_groups,
)
from radiopipe.features.zones import (
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
    "SmallDistanceEmphasis",
    "LargeDistanceEmphasis",
    "LowGrayLevelZoneEmphasis",
    "HighGrayLevelZoneEmphasis",
    "SmallDistanceLowGrayLevelEmphasis",
    "SmallDistanceHighGrayLevelEmphasis",
    "LargeDistanceLowGrayLevelEmphasis",
    "LargeDistanceHighGrayLevelEmphasis",
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "ZoneDistanceNonUniformity",
    "ZoneDistanceNonUniformityNormalized",
    "ZonePercentage",
    "GrayLevelVariance",
    "ZoneDistanceVariance",
    "ZoneDistanceEntropy",
)


def edge_distance(roi_edge_mask: np.ndarray, *, in_plane_only: bool) -> np.ndarray:
    """City-block distance of every voxel to the outside of ``roi_edge_mask``.

    Parameters
    ----------
    roi_edge_mask : ndarray of bool, shape (z, y, x)
        The morphological ROI.
    in_plane_only : bool
        Measure within each slice (4-connected steps) instead of in 3D (6-connected steps).

    Returns
    -------
    ndarray of int
        1 for ROI voxels touching the outside (or the image border), 0 outside the ROI.

    Examples
    --------
    >>> edge_distance(np.ones((1, 3, 3), dtype=bool), in_plane_only=True)[0].tolist()
    [[1, 1, 1], [1, 2, 1], [1, 1, 1]]
    """
    from scipy import ndimage  # GLDZM only (an IBSI family): pyradiomics' defaults never need it

    steps = ndimage.generate_binary_structure(3, 1)
    if in_plane_only:
        steps[0] = steps[2] = False
    # One voxel of padding makes the image border an edge, as IBSI requires.
    padded = np.pad(roi_edge_mask, 1)
    distance = ndimage.distance_transform_cdt(padded, metric=steps)
    return distance[1:-1, 1:-1, 1:-1]


def gldzm_matrix(
    levels, mask, n_levels: int, *, aggregation: str, roi_edge_mask=None
) -> LevelMatrix:
    """Grey level distance zone matrices of a discretised, cropped ROI.

    Parameters
    ----------
    levels : ndarray of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI, 0 outside.
    mask : ndarray of bool
        Intensity ROI: the voxels whose zones are counted.
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
    roi_edge_mask : ndarray of bool, optional
        Morphological ROI that defines the edge; defaults to ``mask``.

    Returns
    -------
    LevelMatrix
        Columns are zone distances.
    """
    edge_mask = mask if roi_edge_mask is None else roi_edge_mask
    voxel_distance = edge_distance(edge_mask, in_plane_only=in_plane(aggregation))[mask]
    zone_group, zone_level, _, voxel_zone = zone_table(levels, mask, aggregation)
    zone_distance = np.full(len(zone_level), np.iinfo(np.int64).max)
    np.minimum.at(zone_distance, voxel_zone, voxel_distance)
    voxel_group, n_groups = slice_groups(mask, aggregation)
    return level_matrix(
        zone_group,
        zone_level,
        zone_distance,
        n_groups=n_groups,
        n_levels=n_levels,
        n_voxels=np.bincount(voxel_group, minlength=n_groups),
    )


def gldzm_features(matrix: LevelMatrix) -> dict:
    """All GLDZM features of a matrix stack, one value per group."""
    counts, i, j = matrix.counts, matrix.grey_levels, matrix.values
    return {
        "SmallDistanceEmphasis": emphasis(counts, i, j, 0, -2),
        "LargeDistanceEmphasis": emphasis(counts, i, j, 0, 2),
        "LowGrayLevelZoneEmphasis": emphasis(counts, i, j, -2, 0),
        "HighGrayLevelZoneEmphasis": emphasis(counts, i, j, 2, 0),
        "SmallDistanceLowGrayLevelEmphasis": emphasis(counts, i, j, -2, -2),
        "SmallDistanceHighGrayLevelEmphasis": emphasis(counts, i, j, 2, -2),
        "LargeDistanceLowGrayLevelEmphasis": emphasis(counts, i, j, -2, 2),
        "LargeDistanceHighGrayLevelEmphasis": emphasis(counts, i, j, 2, 2),
        "GrayLevelNonUniformity": grey_level_non_uniformity(counts, normalised=False),
        "GrayLevelNonUniformityNormalized": grey_level_non_uniformity(counts, normalised=True),
        "ZoneDistanceNonUniformity": value_non_uniformity(counts, normalised=False),
        "ZoneDistanceNonUniformityNormalized": value_non_uniformity(counts, normalised=True),
        "ZonePercentage": percentage(counts, matrix.n_voxels),
        "GrayLevelVariance": grey_level_variance(counts, i),
        "ZoneDistanceVariance": value_variance(counts, j),
        "ZoneDistanceEntropy": joint_entropy(counts),
    }


def compute_gldzm(
    levels, mask, n_levels: int, *, aggregation: str, mode: str = "ibsi", roi_edge_mask=None
) -> dict[str, float]:
    """GLDZM features of a discretised ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x)
        Grey levels 1..n_levels inside the ROI (values outside are ignored).
    mask : array of bool, same shape
        Intensity ROI.
    n_levels : int
    aggregation : {'2D', '2_5D', '3D'}
    mode : {'ibsi', 'pyradiomics'}
        Accepted for a uniform signature; pyradiomics has no GLDZM, so both give IBSI values.
    roi_edge_mask : array of bool, optional
        Morphological ROI defining the edge (IBSI); defaults to ``mask``. ROI voxels outside it
        are added to it, so every zone lies at a distance >= 1.

    Returns
    -------
    dict
        ``FEATURE_NAMES`` -> value (averaged over slices for ``'2D'``).
    """
    roi = prepare_input(
        levels,
        mask,
        n_levels,
        aggregation=aggregation,
        mode=mode,
        family="gldzm",
        extent=roi_edge_mask,
    )
    matrix = gldzm_matrix(
        roi.levels, roi.mask, roi.n_levels, aggregation=aggregation, roi_edge_mask=roi.extent
    )
    return average_over_groups(gldzm_features(matrix))

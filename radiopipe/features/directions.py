"""Directions, input checks and matrix grouping shared by the directional families (GLCM, GLRLM).

A directional matrix is built once per *direction* (an offset ``(dz, dy, dx)``) and, for the
slice-wise aggregations, once per slice. The IBSI aggregations then differ only in which of
these matrices are merged (summed) before the features are computed, and over which the features
are averaged:

============  =====================  ==========================  ============================
aggregation   directions             matrices                    features averaged over
============  =====================  ==========================  ============================
'2D_avg'      4 in-plane             one per slice and direction  slices and directions
'2D_comb'     4 in-plane             one per slice (merged)      slices
'2_5D_avg'    4 in-plane             one per direction           directions
'2_5D_comb'   4 in-plane             one (all merged)            -
'3D_avg'      13 volumetric          one per direction           directions
'3D_comb'     13 volumetric          one (all merged)            -
============  =====================  ==========================  ============================

pyradiomics' default is ``'3D_avg'``; its ``force2D`` setting is ``'2_5D_avg'`` (in-plane
directions, but each direction's matrix accumulates all slices) and its
``weightingNorm='no_weighting'`` is ``'3D_comb'``. Directions that do not fit inside the ROI's
bounding box are not used (see `aggregation_offsets`) and matrices that hold no entry (a slice
without ROI voxels, a direction without a voxel pair) are left out of the average, as pyradiomics
does with empty angles.

Slices are the planes of constant ``z`` (axis 0 of the ``(z, y, x)`` arrays).
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import numpy as np

from radiopipe.features.neighbourhood import check_texture_arguments
from radiopipe.preprocess.crop import crop_slices
from radiopipe.xp import get_namespace, to_numpy

DIRECTIONAL_AGGREGATIONS = ("2D_avg", "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb")
MODES = ("ibsi", "pyradiomics")


class DirectionalInput(NamedTuple):
    """Validated input of a directional family, cropped to the bounding box of the ROI.

    Attributes
    ----------
    levels : ndarray of int64, shape (z, y, x)
        Index ``1..len(grey_levels)`` of each ROI voxel's grey level on the matrix axis; 0 outside
        the ROI.
    grey_levels : ndarray of float64, shape (n_grey,)
        The grey level that each matrix row stands for (``levels == k`` holds grey level
        ``grey_levels[k - 1]``).
    aggregation : str
        One of ``DIRECTIONAL_AGGREGATIONS``.
    """

    levels: np.ndarray
    grey_levels: np.ndarray
    aggregation: str


def prepare_directional_input(
    levels, mask, n_levels, *, aggregation: str, mode: str, family: str,
    memo: dict | None = None,
) -> DirectionalInput:
    """Check the arguments of a directional ``compute_<family>`` and crop to the ROI.

    Parameters
    ----------
    levels : array of int, shape (z, y, x) or (y, x)
        Discretised image; values outside the ROI are ignored.
    mask : array of bool, same shape
        ROI; must hold at least one voxel.
    n_levels : int
        Number of grey levels; levels inside the ROI must lie in ``1..n_levels``.
    aggregation : str
        One of ``DIRECTIONAL_AGGREGATIONS``.
    mode : {'ibsi', 'pyradiomics'}
        Selects the grey-level axis, see `grey_level_axis`.
    family : str
        Family name used in error messages.
    memo : dict, optional
        The image's memo (see `radiopipe.features.neighbourhood`): the cropped input is computed
        once per memo, aggregation and mode.

    Returns
    -------
    DirectionalInput
        A 2D input gains a leading slice axis of length 1.
    """
    levels, mask = check_texture_arguments(
        levels, mask, n_levels, aggregation=aggregation, allowed=DIRECTIONAL_AGGREGATIONS,
        mode=mode, family=family,
    )
    key = ("directional", int(n_levels), aggregation, mode)
    if memo is None or key not in memo:
        prepared = _cropped_directional(levels, mask, n_levels, aggregation, mode, family)
        if memo is None:
            return prepared
        memo[key] = prepared
    return memo[key]


def _cropped_directional(levels, mask, n_levels, aggregation, mode, family) -> DirectionalInput:
    """The checked arguments of :func:`prepare_directional_input`, cropped to the ROI."""
    if levels.ndim == 2:
        levels, mask = levels[None], mask[None]
    if not mask.any():
        raise ValueError(f"The mask given to compute_{family} is empty: it selects no voxel.")
    roi_levels = levels[mask]
    if roi_levels.dtype.kind == "f" and not np.array_equal(roi_levels, np.floor(roi_levels)):
        raise ValueError(
            f"The grey levels given to compute_{family} must be whole numbers inside the ROI. "
            f"Got {roi_levels[roi_levels != np.floor(roi_levels)][0]!r} instead."
        )
    if roi_levels.min() < 1 or roi_levels.max() > n_levels:
        raise ValueError(
            f"The grey levels given to compute_{family} must lie in 1..n_levels={n_levels} inside "
            f"the ROI. Got {roi_levels.min()}..{roi_levels.max()} instead."
        )
    box = crop_slices(mask)
    lookup, grey_levels = grey_level_axis(roi_levels, int(n_levels), mode)
    indices = lookup[np.where(mask[box], levels[box], 0).astype(np.int64)]
    return DirectionalInput(indices, grey_levels, aggregation)


def grey_level_axis(roi_levels: np.ndarray, n_levels: int, mode: str):
    """Grey levels that get a row (and column) in the matrices.

    ``mode='ibsi'`` keeps every level ``1..n_levels`` of the discretisation: IBSI's ``N_g`` is the
    number of bins, which the normalised features (e.g. ``Idn``) divide by.
    ``mode='pyradiomics'`` keeps only the levels present in the ROI, as pyradiomics deletes empty
    grey levels from its matrices; its ``N_g`` is then the highest level present.

    Returns
    -------
    lookup : ndarray of int64, shape (n_levels + 1,)
        Matrix index (1-based) of each grey level; 0 for levels without a row.
    grey_levels : ndarray of float64, shape (n_grey,)
        Grey level of each row, ascending.
    """
    if mode == "ibsi":
        kept = np.arange(1, n_levels + 1)
    else:
        kept = np.flatnonzero(np.bincount(np.asarray(roi_levels, dtype=np.int64).reshape(-1),
                                          minlength=n_levels + 1))
    lookup = np.zeros(n_levels + 1, dtype=np.int64)
    lookup[kept] = np.arange(1, len(kept) + 1)
    return lookup, kept.astype(np.float64)


def direction_offsets(distance: int | tuple[int, ...] = 1, in_plane: bool = False) -> np.ndarray:
    """Offsets ``(dz, dy, dx)`` at Chebyshev distance ``distance``, one of each ``(o, -o)`` pair.

    For ``distance = 1`` these are the 13 volumetric (or 4 in-plane) IBSI directions. The order
    and the sign (first non-zero component > 0) are those of pyradiomics' ``generateAngles``.

    Parameters
    ----------
    distance : int or tuple of int
        Chebyshev distance ``delta`` >= 1 (pyradiomics' ``distances=[delta]``); a tuple gives
        the offsets at each of its distances together, as pyradiomics' ``distances`` list does
        (each offset is one more direction).
    in_plane : bool
        Keep only offsets with ``dz = 0``.

    Returns
    -------
    ndarray of int64, shape (n, 3)
        Read-only: computed once per ``(distance, in_plane)`` and shared.

    Examples
    --------
    >>> direction_offsets(1, in_plane=True).tolist()
    [[0, 1, 1], [0, 1, 0], [0, 1, -1], [0, 0, 1]]
    >>> len(direction_offsets((1, 2)))
    62
    """
    distances = distance if isinstance(distance, tuple) else (distance,)
    if not distances or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in distances
    ):
        raise ValueError(
            f"The 'distance' parameter must be an int >= 1 or a tuple of them. Got {distance!r} "
            "instead."
        )
    return _offsets(tuple(int(d) for d in distances), bool(in_plane))


@functools.cache
def _offsets(distances: tuple[int, ...], in_plane: bool) -> np.ndarray:
    """`direction_offsets`, once per argument (each extraction asks for the same few)."""
    reach = max(distances)
    steps = range(reach, -reach - 1, -1)
    z_steps = (0,) if in_plane else steps
    offsets = np.array(list(itertools.product(z_steps, steps, steps)), dtype=np.int64)
    at_distance = np.isin(np.abs(offsets).max(axis=1), distances)
    first_nonzero = offsets[np.arange(len(offsets)), np.argmax(offsets != 0, axis=1)]
    kept = offsets[at_distance & (first_nonzero > 0)]
    kept.setflags(write=False)
    return kept


def aggregation_offsets(
    aggregation: str, box_shape: tuple[int, ...], distance: int | tuple[int, ...] = 1
):
    """Direction offsets of an aggregation that fit inside the ROI's bounding box.

    In-plane offsets for 2D and 2.5D, volumetric ones for 3D. As in pyradiomics'
    ``generateAngles``, an offset is left out when it steps at least the box's extent along some
    axis: its GLCM would be empty and its GLRLM would hold only runs of length 1 (e.g. the 9
    through-plane directions of a one-slice ROI). A single voxel thus has no direction and its
    directional features are undefined (NaN).

    Parameters
    ----------
    aggregation : str
        One of ``DIRECTIONAL_AGGREGATIONS``.
    box_shape : tuple of int
        Shape ``(z, y, x)`` of the ROI's bounding box.
    distance : int or tuple of int
        Chebyshev distance(s) of the offsets (see `direction_offsets`).

    Returns
    -------
    ndarray of int64, shape (n, 3)
    """
    offsets = direction_offsets(distance, in_plane=not aggregation.startswith("3D"))
    return offsets[(np.abs(offsets) < np.asarray(box_shape)).all(axis=1)]


def per_slice(aggregation: str) -> bool:
    """Whether an aggregation builds one matrix per slice (``'2D_avg'``, ``'2D_comb'``)."""
    return aggregation.startswith("2D")


class VoxelLattice(NamedTuple):
    """ROI voxels as flat indices into a zero-padded copy of the grey-level index array.

    The padding is at least as wide as the longest offset, so ``roi + step`` never leaves the
    array and every neighbour outside the ROI reads 0.

    Attributes
    ----------
    values : array of int64, shape (n_padded,)
        Flattened padded grey-level indices (0 outside the ROI).
    roi : array of int64, shape (n_voxels,)
        Flat indices of the ROI voxels, in C order.
    slice_index : array of int64, shape (n_voxels,)
        Slice (z index in the unpadded array) of each ROI voxel.
    strides : tuple of int
        Flat-index step of one voxel along z, y and x.
    """

    values: np.ndarray
    roi: np.ndarray
    slice_index: np.ndarray
    strides: tuple[int, int, int]


def voxel_lattice(levels, padding: int) -> VoxelLattice:
    """Build the `VoxelLattice` of a grey-level index array (0 outside the ROI)."""
    xp = get_namespace(levels)
    padded = xp.pad(levels, padding)
    _, n_y, n_x = padded.shape
    values = padded.reshape(-1)
    roi = xp.flatnonzero(values)
    slice_index = roi // (n_y * n_x) - padding
    return VoxelLattice(values, roi, slice_index, (n_y * n_x, n_x, 1))


def flat_steps(offsets: np.ndarray, strides: tuple[int, int, int]) -> np.ndarray:
    """Flat-index step of each offset in a lattice with the given strides."""
    return offsets.astype(np.int64) @ np.asarray(strides, dtype=np.int64)


WEIGHTING_NORMS = ("manhattan", "euclidean", "infinity")


def direction_lengths(offsets: np.ndarray, spacing, norm: str) -> np.ndarray:
    """Length in mm of each offset by a norm, for weighting directions when merging them.

    Parameters
    ----------
    offsets : ndarray of int, shape (n, 3)
        Offsets ``(dz, dy, dx)``.
    spacing : sequence of float
        Voxel size ``(z, y, x)`` in mm.
    norm : {'manhattan', 'euclidean', 'infinity'}
        pyradiomics' ``weightingNorm``.

    Returns
    -------
    ndarray of float64, shape (n,)

    Examples
    --------
    >>> direction_lengths(np.array([[0, 1, 1]]), (2.0, 3.0, 4.0), "manhattan").tolist()
    [7.0]
    """
    if norm not in WEIGHTING_NORMS:
        raise ValueError(
            f"The 'norm' parameter must be one of {WEIGHTING_NORMS}. Got {norm!r} instead."
        )
    steps = np.abs(offsets) * np.asarray(spacing, dtype=np.float64)
    if norm == "manhattan":
        return steps.sum(axis=1)
    if norm == "euclidean":
        return np.sqrt((steps**2).sum(axis=1))
    return steps.max(axis=1)


def directional_matrices(counts, aggregation: str, weights=None):
    """Merge per-slice, per-direction count matrices as an aggregation asks; drop empty ones.

    Parameters
    ----------
    counts : array, shape (n_slices, n_directions, a, b)
        Count matrices (``n_slices`` is 1 for the aggregations that do not work per slice).
    aggregation : str
        One of ``DIRECTIONAL_AGGREGATIONS``.
    weights : array of shape (n_directions,), optional
        Weight of each direction's matrix in the merge of a ``'_comb'`` aggregation
        (pyradiomics' ``weightingNorm``); default all 1.

    Returns
    -------
    array, shape (n_matrices, a, b)
        The matrices whose features are averaged; those without any count are left out.
    """
    xp = get_namespace(counts)
    if weights is not None:
        if not aggregation.endswith("_comb"):
            raise ValueError(
                "Direction weights apply to the merged ('_comb') aggregations. Got "
                f"{aggregation!r} instead."
            )
        counts = counts * xp.asarray(weights, dtype=xp.float64)[None, :, None, None]
    if aggregation.endswith("_comb"):
        counts = xp.sum(counts, axis=1, keepdims=True)
    matrices = counts.reshape((-1,) + counts.shape[2:])
    return matrices[xp.sum(matrices, axis=(1, 2)) > 0]


def average_features(features: dict, matrices, grey_levels, statistics) -> dict[str, float]:
    """Mean of each feature over a stack of matrices, as Python floats.

    Parameters
    ----------
    features : dict of str to callable
        ``name -> f(statistics(matrices, grey_levels))``, each returning one value per matrix.
    matrices : array, shape (n_matrices, ...)
        Non-empty matrices (see `directional_matrices`).
    grey_levels : array, shape (n_grey,)
    statistics : callable
        ``statistics(matrices, grey_levels)``: what the family's features share, computed once.

    Returns
    -------
    dict of str to float
        All NaN when there is no matrix: no direction fits the ROI or (GLCM) no two ROI voxels
        are neighbours, and the features, ratios over an empty matrix, are undefined.
    """
    if matrices.shape[0] == 0:
        return {name: float("nan") for name in features}
    xp = get_namespace(matrices)
    shared = statistics(matrices, xp.asarray(grey_levels))
    # One stack, one mean and one copy to the host for all features.
    n_matrices = matrices.shape[0]
    per_matrix = xp.stack([_per_matrix(f(shared), n_matrices, xp) for f in features.values()])
    return dict(zip(features, to_numpy(xp.mean(per_matrix, axis=1)).tolist()))


def _per_matrix(value, n_matrices: int, xp):
    """A feature's values as an array of one value per matrix (a constant is repeated)."""
    if getattr(value, "shape", None) == (n_matrices,):
        return value
    return xp.broadcast_to(xp.asarray(value, dtype=xp.float64), (n_matrices,))

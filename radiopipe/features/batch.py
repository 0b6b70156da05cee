"""Many cases' features in one call, small ROIs computed together.

A small ROI's features cost little arithmetic and much fixed per-call work (a few thousand Python
calls and some 250 NumPy reductions per case, whatever its size). ROIs of at most
``SMALL_ROI_VOXELS`` voxels therefore go through the batched families of `radiopipe.gpu`, run
under NumPy on the CPU: every ROI of the batch packed into one lattice, each family's matrices
and formulas computed once for all of them. Larger ROIs, whose cost is their voxels, are
extracted one by one by `radiopipe.features.engine.extract_features`. Both paths prepare a case
the same way and compute the same formulas: the values agree to floating-point rounding (about
1e-13 relative, summation order; tests/features/test_batch.py holds them to 1e-10).

The BLAS thread limit (`radiopipe.features.blas`) is set once for the whole call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.blas import single_threaded_blas
from radiopipe.features.engine import extract_features
from radiopipe.io import Volume

SMALL_ROI_VOXELS = 4096
"""ROIs of at most this many voxels (a 16^3 cube) are batched. On two cores the batch is about
2.5x faster per case for 123-voxel patches, and the gain fades by ~4,000 voxels, where a case's
cost is its voxels rather than its calls."""


def is_small(mask: Volume) -> bool:
    """Whether a ROI is small enough to be batched (``SMALL_ROI_VOXELS``)."""
    return int(np.count_nonzero(mask.array)) <= SMALL_ROI_VOXELS


def extract_many(
    cases: Sequence[tuple[Volume, Volume]], settings: FeatureConfig
) -> list[dict[str, float]]:
    """Every configured feature of many ROIs, small ones batched.

    Parameters
    ----------
    cases : sequence of (Volume, Volume)
        (image, mask) pairs, 2D or 3D, each as for
        `radiopipe.features.engine.extract_features`.
    settings : FeatureConfig
        One setting for all cases.

    Returns
    -------
    list of dict
        One ``{image_type}__{family}__{feature}`` mapping per case, in the order of ``cases``.

    Examples
    --------
    >>> rows = extract_many([(image, mask), (image, other_mask)], FeatureConfig())  # doctest: +SKIP
    """
    from radiopipe.gpu.extract import extract_batch  # the batched families, here under NumPy

    small = [index for index, (_, mask) in enumerate(cases) if is_small(mask)]
    rows: list[dict[str, float] | None] = [None] * len(cases)
    with single_threaded_blas():
        if small:
            batched = extract_batch([cases[index] for index in small], settings, xp=np)
            for index, row in zip(small, batched):
                rows[index] = row
        for index, (image, mask) in enumerate(cases):
            if rows[index] is None:
                rows[index] = extract_features(image, mask, settings)
    return rows

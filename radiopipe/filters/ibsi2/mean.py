"""IBSI-2 mean filter: the average over an ``M`` voxel wide window along each filtered axis."""

from __future__ import annotations

from collections.abc import Sequence

from radiopipe.filters.ibsi2.padding import convolve_separable
from radiopipe.xp import get_namespace


def mean_filter(image, support: int, axes: Sequence[int], boundary: str):
    """Mean of the ``support ** len(axes)`` voxels centred on each voxel.

    Parameters
    ----------
    image : array
    support : int
        Odd window width ``M`` in voxels.
    axes : sequence of int
        Axes averaged over (two for the IBSI 2D filter, three for 3D).
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}

    Examples
    --------
    >>> import numpy as np
    >>> mean_filter(np.array([0.0, 3.0, 0.0, 0.0]), 3, (0,), "zero").tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    if support < 1 or support % 2 == 0:
        raise ValueError(
            f"The 'support' parameter of mean_filter must be an odd int >= 1. Got {support!r} "
            "instead.")
    xp = get_namespace(image)
    taps = [1.0 / support] * support
    kernel = (taps, -(support // 2))
    return convolve_separable(image.astype(xp.float64), [kernel] * len(axes), axes, boundary)

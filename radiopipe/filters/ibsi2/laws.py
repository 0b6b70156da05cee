"""IBSI-2 Laws kernels: separable 1D kernels, rotation invariance and texture energy.

The 1D kernels have unit L2 norm. A name such as ``E5L5S5`` applies ``E5`` along ``axes[0]``,
``L5`` along ``axes[1]`` and ``S5`` along ``axes[2]``. With rotation invariance the response is
the voxel-wise maximum (or mean) over the 4 (2D) or 24 (3D) right-angle rotations of the kernel; the
energy map is the mean of the absolute (pooled) response over a ``2 * delta + 1`` window, with
the same boundary condition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from radiopipe.filters.ibsi2.mean import mean_filter
from radiopipe.filters.ibsi2.padding import centred, convolve_separable
from radiopipe.filters.ibsi2.rotations import pooled
from radiopipe.xp import get_namespace

_RAW = {
    "L3": (1, 2, 1), "E3": (-1, 0, 1), "S3": (-1, 2, -1),
    "L5": (1, 4, 6, 4, 1), "E5": (-1, -2, 0, 2, 1), "S5": (-1, 0, 2, 0, -1),
    "R5": (1, -4, 6, -4, 1), "W5": (-1, 2, 0, -2, 1),
}
LAWS_KERNELS = {
    name: tuple(v / math.sqrt(sum(t * t for t in raw)) for v in raw)
    for name, raw in _RAW.items()
}
"""1D Laws kernels normalised to unit L2 norm, values for offsets ``-R .. R``."""

_PART = re.compile(r"[LESRW][35]")


def parse_laws(name: str) -> list[str]:
    """Split a Laws kernel name into its 1D kernels.

    Examples
    --------
    >>> parse_laws("E5L5S5")
    ['E5', 'L5', 'S5']
    """
    parts = _PART.findall(name)
    if "".join(parts) != name or any(p not in LAWS_KERNELS for p in parts):
        raise ValueError(
            f"The Laws kernel name must join 1D kernels from {tuple(LAWS_KERNELS)} "
            f"(e.g. 'E5L5S5'). Got {name!r} instead.")
    return parts


def laws_response(image, kernel: str, axes: Sequence[int], boundary: str, *,
                  rotation_invariant: bool = False, energy_distance: int | None = None,
                  pooling: str = "max"):
    """Laws filter response, optionally rotation-invariant (pooled) and as energy map.

    Parameters
    ----------
    image : array
    kernel : str
        One 1D kernel name per axis of ``axes`` (``'L5S5'`` in 2D, ``'E5L5S5'`` in 3D).
    axes : sequence of int
    boundary : {'zero', 'nearest', 'periodic', 'mirror'}
    rotation_invariant : bool
        Pool the response over the right-angle rotations of ``axes``.
    energy_distance : int or None
        ``delta`` in voxels: return the mean of ``|response|`` over a ``2 delta + 1`` window.
    pooling : {'max', 'mean'}
        How the rotations are pooled (the IBSI's Laws filters take the maximum).
    """
    parts = parse_laws(kernel)
    if len(parts) != len(axes):
        raise ValueError(
            f"The Laws kernel {kernel!r} names {len(parts)} 1D kernels for {len(axes)} axes: "
            "give one per filtered axis.")
    xp = get_namespace(image)
    kernels = [centred(LAWS_KERNELS[part]) for part in parts]

    def apply(array):
        return convolve_separable(array, kernels, axes, boundary)

    image = image.astype(xp.float64)
    response = pooled(apply, image, axes, pooling) if rotation_invariant else apply(image)
    if energy_distance is None:
        return response
    return mean_filter(xp.abs(response), 2 * energy_distance + 1, axes, boundary)

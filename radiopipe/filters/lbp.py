"""Local binary pattern image type in 2D, as pyradiomics computes it (``lbp-2D``).

pyradiomics (``getLBP2DImage``) runs scikit-image's ``local_binary_pattern`` on every slice
along its ``force2Ddimension`` (``axis``), or on the plane of a 2D image, with a radius of
1 voxel, 8 samples and the rotation-invariant 'uniform' method by default. Each voxel's code
depends on its slice alone, so the slices outside a ``region`` are not computed. Integer images
are passed as they are (scikit-image reads them as float64 itself); floating-point images give
the same codes, and the library's warning about them is silenced.
"""

from __future__ import annotations

import warnings

import numpy as np

from radiopipe.xp import get_namespace, to_numpy

_FLOAT_WARNING = "Applying `local_binary_pattern` to floating-point images"


def local_binary_pattern_2d(
    image,
    *,
    radius: float = 1.0,
    samples: int = 8,
    method: str = "uniform",
    axis: int = 0,
    region: tuple[slice, ...] | None = None,
):
    """pyradiomics' LBP 2D image: the local binary pattern of every slice along ``axis``.

    Parameters
    ----------
    image : array
        (z, y, x) image, NumPy or CuPy (filtered on the host, returned in its namespace).
    radius : float
        Radius of the sampling circle in voxels (pyradiomics' ``lbp2DRadius``).
    samples : int
        Number of neighbours sampled on the circle (``lbp2DSamples``).
    method : str
        scikit-image's method (``lbp2DMethod``): 'default', 'ror', 'uniform', 'nri_uniform',
        'var'.
    axis : int
        The axis the slices are normal to (pyradiomics' ``force2Ddimension``).
    region : tuple of slice, optional
        Return the image only over this box; equal to the whole image's LBP cropped to it.

    Returns
    -------
    array
        float64 codes, shaped as ``image`` or ``region``. Like pyradiomics, which writes the
        codes back into the image's own array, an integer image's codes are cast to its type
        (the 'var' method's variances truncated, 'default' codes past the type's range
        wrapped); the whole-number codes of the other methods are unchanged by it.

    Examples
    --------
    >>> image = np.zeros((1, 5, 5), dtype=np.int16); image[0, 2, 2] = 1
    >>> local_binary_pattern_2d(image)[0, 1:4, 1:4].tolist()
    [[8.0, 8.0, 8.0], [8.0, 0.0, 8.0], [8.0, 8.0, 8.0]]
    """
    from skimage.feature import local_binary_pattern

    xp = get_namespace(image)
    if region is None:
        region = tuple(slice(0, size) for size in image.shape)
    host = np.swapaxes(to_numpy(image), 0, axis)
    region = list(region)
    region[0], region[axis] = region[axis], region[0]
    slices = range(region[0].start, region[0].stop)
    dtype = host.dtype if host.dtype.kind in "iu" else np.float64
    out = np.empty((len(slices), *host.shape[1:]), dtype=dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _FLOAT_WARNING, UserWarning)
        for index, z in enumerate(slices):
            out[index] = local_binary_pattern(host[z], P=samples, R=radius, method=method)
    codes = out[(slice(None), *region[1:])].astype(np.float64)
    return xp.asarray(np.ascontiguousarray(np.swapaxes(codes, 0, axis)))

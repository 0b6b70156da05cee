"""Z-score normalisation of an image by the statistics of one region (MR intensities have no
absolute scale): the region of interest, the whole image, or a reference region (fat, muscle).

Examples
--------
>>> import numpy as np
>>> image = np.array([1.0, 3.0, 10.0, 20.0])
>>> zscore_by_region(image, np.array([True, True, False, False])).tolist()
[-1.0, 1.0, 8.0, 18.0]
"""

from __future__ import annotations

import numpy as np


def zscore_by_region(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """``(image - mean) / SD`` with the mean and SD (ddof 0) of the voxels where ``region`` is
    true; only centred when the region's SD is 0.

    Raises
    ------
    ValueError
        If ``region`` holds no voxel.
    """
    values = image[region]
    if values.size == 0:
        raise ValueError("the normalisation region holds no voxel")
    sd = float(values.std())
    centred = image.astype(np.float64) - float(values.mean())
    return centred / sd if sd > 0 else centred

"""Float32 values that pyradiomics bins apart from float64 binning of the same values.

pyradiomics bins an image in its pixel type: for a float32 image NumPy computes the lowest bin
edge (bin width) or every edge (bin count) in float32. A value next to an edge can then land in
the neighbouring level of the one float64 edges give; these helpers find such values so that a
phantom built in code can hold some.
"""

from __future__ import annotations

import numpy as np


def disagreeing_value(values: np.ndarray, **binning) -> np.float32:
    """A float32 value inside ``values``' range whose level differs between the two binnings.

    Parameters
    ----------
    values : numpy.ndarray of float32
        The ROI's values (they fix the edges).
    **binning
        pyradiomics' ``binWidth=`` or ``binCount=``.

    Returns
    -------
    numpy.float32
        A value strictly between the minimum and the maximum that ``numpy.digitize`` puts in
        another bin with pyradiomics' edges of ``values`` than with those of
        ``values.astype(float64)``.
    """
    from radiomics.imageoperations import getBinEdges

    low, high = values.min(), values.max()
    single = getBinEdges(values, **binning)
    double = getBinEdges(values.astype(np.float64), **binning)
    for edge in np.concatenate([single[1:-1], double[1:-1]]):
        near = np.float32(edge)
        for candidate in (np.nextafter(near, np.float32(-np.inf)), near,
                          np.nextafter(near, np.float32(np.inf))):
            if not low < candidate < high:
                continue
            as_single = np.digitize(np.float32(candidate), single)
            as_double = np.digitize(np.float64(candidate), double)
            if as_single != as_double:
                return np.float32(candidate)
    raise AssertionError(f"no float32 value of [{low}, {high}] is binned apart by {binning}")

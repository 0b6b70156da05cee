"""Which grey levels an image's ROI gets: the configured discretisation, and under
``definitions: pyradiomics`` the pixel type pyradiomics bins each image in.

pyradiomics discretises each image in its own pixel type, and NumPy computes the bin edges from
values of that type, so a float32 image's edges are float32 and put a value next to an edge in
the neighbouring level of the one float64 edges give (2 of 247,976 voxels of a sarcoma MR's LoG
image). :func:`prepared_pixel_type` gives the prepared image's type, :func:`bin_dtype` each
filtered image's, and :func:`discretise` bins in it (``radiopipe.preprocess.discretise`` holds
pyradiomics' own edge expressions).
"""

from __future__ import annotations

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.preprocess.discretise import (
    Discretised,
    fixed_bin_number,
    fixed_bin_number_pyradiomics,
    fixed_bin_size,
    fixed_bin_size_pyradiomics,
)


def prepared_pixel_type(dtype: np.dtype, settings: FeatureConfig) -> np.dtype:
    """The pixel type pyradiomics holds an image of ``dtype`` in once prepared: its own (the
    resampling on pyradiomics' grid keeps it), float64 once normalised or resampled on IBSI's
    grid."""
    if settings.normalize or (
        settings.resampled_spacing is not None and settings.grid_alignment == "ibsi"
    ):
        return np.dtype(np.float64)
    return np.dtype(dtype)


def discretise(values: np.ndarray, settings: FeatureConfig, *, dtype=np.float64) -> Discretised:
    """Grey levels of an image's ROI values by the configured discretisation.

    Parameters
    ----------
    values : array
        The ROI's intensities.
    settings : FeatureConfig
    dtype : {numpy.float32, numpy.float64}
        Under pyradiomics definitions, the pixel type the levels are binned in as pyradiomics
        bins them (:func:`bin_dtype`); its bin count uses pyradiomics' histogram edges. IBSI
        definitions and the IBSI fixed bin size always bin in float64 (see
        ``radiopipe.preprocess.discretise``).

    Returns
    -------
    Discretised
    """
    pyradiomics = settings.definitions == "pyradiomics"
    if settings.discretisation == "fixed_bin_number":
        if pyradiomics:
            return fixed_bin_number_pyradiomics(values, settings.bin_count, dtype)
        return fixed_bin_number(values, settings.bin_count)
    if settings.discretisation == "fixed_bin_size":
        low = settings.resegment_range[0] if settings.resegment_range is not None else None
        return fixed_bin_size(values, settings.bin_width, lower_bound=low)
    return fixed_bin_size_pyradiomics(
        values, settings.bin_width, dtype if pyradiomics else np.float64
    )


# pyradiomics' image types whose images are float32 whatever the input (SimpleITK's LoG and
# gradient magnitude), and those that keep the prepared image's pixel type (the original, the 2D
# LBP written into the image's own array, the wavelet sub-bands, which PyWavelets computes in the
# image's floating type and radiopipe's wavelet with it). The others are
# float64 (square, square root, logarithm, exponential, the 3D LBP).
_FLOAT32_IMAGES = ("log-sigma-", "gradient")
_INPUT_TYPE_IMAGES = ("original", "lbp-2D", "wavelet")


def bin_dtype(image_name: str, pixel_type: np.dtype, settings: FeatureConfig) -> np.dtype:
    """The pixel type pyradiomics bins a filtered image in (float32 or float64).

    pyradiomics discretises each image in its own pixel type, and NumPy computes the bin edges
    from values of that type (see ``radiopipe.preprocess.discretise``): float32 for every LoG
    and gradient image, and for the original, 2D LBP and wavelet images of a float32 input
    (``pixel_type``); float64 otherwise (an integer image's edges are float64 or
    exact integers). IBSI definitions bin in float64: IBSI defines the bins on the intensities
    as real numbers, and its reference values are computed in double precision.

    Parameters
    ----------
    image_name : str
        The filtered image's name ('original', 'log-sigma-1-0-mm-3D', 'wavelet-LLH', ...).
    pixel_type : numpy.dtype
        The prepared image's pixel type as pyradiomics holds it (:func:`prepared_pixel_type`).
    settings : FeatureConfig

    Returns
    -------
    numpy.dtype
    """
    if settings.definitions != "pyradiomics":
        return np.dtype(np.float64)
    if image_name.startswith(_FLOAT32_IMAGES):
        return np.dtype(np.float32)
    if image_name.startswith(_INPUT_TYPE_IMAGES) and pixel_type == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)

r"""First-order intensity statistics (IBSI section 3.3, prefix ``stat_``; pyradiomics
``firstorder``).

Let :math:`X` be the :math:`N_p` intensities inside the ROI, :math:`\mu` their mean,
:math:`\sigma^2 = \frac{1}{N_p}\sum (X - \mu)^2` their (biased) variance, :math:`P_q` the
:math:`q`-th percentile (linear interpolation, as NumPy and pyradiomics), :math:`c` the
``voxel_array_shift`` and :math:`p(i)` the fraction of ROI voxels at discretised level :math:`i`.

Modes differ in one definition: IBSI reports the excess kurtosis :math:`\mu_4 / \sigma^4 - 3`,
pyradiomics :math:`\mu_4 / \sigma^4`. (pyradiomics' entropy adds machine epsilon inside the
logarithm; leaving it out changes the value by less than 1e-15 per level, far inside the parity
tolerance, and keeps a single-level entropy at exactly 0.)

Energy, TotalEnergy and RootMeanSquared add ``voxel_array_shift`` to every intensity (pyradiomics'
``voxelArrayShift``; IBSI has no shift, which is the default 0). Entropy and Uniformity use the
discretised levels (IBSI defines them in the intensity-histogram family, ``ih_``).

Examples
--------
>>> image = np.array([[[1.0, 2.0], [3.0, 4.0]]])
>>> features = compute_firstorder(image, image > 0, spacing=(1.0, 1.0, 1.0), mode="ibsi",
...                               levels=image.astype(int), n_levels=4)
>>> features["Mean"], features["Variance"], features["Entropy"]
(2.5, 1.25, 2.0)
"""

from __future__ import annotations

import numpy as np

from radiopipe.features.quantiles import percentiles_and_median
from radiopipe.preprocess.discretise import fixed_bin_size, fixed_bin_size_pyradiomics
from radiopipe.xp import get_namespace

MODES = ("ibsi", "pyradiomics")
_PERCENTILES = (10, 25, 50, 75, 90)

FEATURE_NAMES = (
    "Energy",
    "TotalEnergy",
    "Entropy",
    "Minimum",
    "10Percentile",
    "90Percentile",
    "Maximum",
    "Mean",
    "Median",
    "InterquartileRange",
    "Range",
    "MeanAbsoluteDeviation",
    "RobustMeanAbsoluteDeviation",
    "RootMeanSquared",
    "Skewness",
    "Kurtosis",
    "Variance",
    "Uniformity",
    "MedianAbsoluteDeviation",
    "CoefficientOfVariation",
    "QuartileCoefficientOfDispersion",
)


def compute_firstorder(
    image,
    mask,
    *,
    spacing,
    mode: str = "ibsi",
    levels=None,
    n_levels: int | None = None,
    bin_width: float = 25.0,
    voxel_array_shift: float = 0.0,
) -> dict[str, float]:
    r"""First-order statistics of the intensities inside the ROI.

    Parameters
    ----------
    image : array of float, shape (z, y, x) or (y, x)
        Intensities; values outside the ROI are ignored.
    mask : array of bool, same shape
        The ROI; must hold at least one voxel.
    spacing : tuple of float
        Voxel spacing in mm (for TotalEnergy's voxel volume).
    mode : {'ibsi', 'pyradiomics'}
        Definitions to follow where they differ (see the module docstring).
    levels : array of int, same shape, optional
        Discretised image for Entropy and Uniformity. Without it the ROI is discretised here with
        ``bin_width``: pyradiomics' ``binWidth`` binning in pyradiomics mode, IBSI fixed bin size
        from the ROI minimum in IBSI mode.
    n_levels : int, optional
        Number of grey levels of ``levels``; unused by these formulas, accepted for a uniform
        interface.
    bin_width : float
        Bin width used only when ``levels`` is not given (pyradiomics' default 25).
    voxel_array_shift : float
        :math:`c`, added to the intensities in Energy, TotalEnergy and RootMeanSquared.

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order.

    Notes
    -----
    Energy :math:`= \sum (X + c)^2`, TotalEnergy :math:`= V_{voxel} \sum (X + c)^2`,
    RootMeanSquared :math:`= \sqrt{\frac{1}{N_p}\sum (X + c)^2}`, Entropy
    :math:`= -\sum_i p(i) \log_2 p(i)`, Uniformity :math:`= \sum_i p(i)^2`, Skewness
    :math:`= \mu_3 / \sigma^3`, MeanAbsoluteDeviation :math:`= \frac{1}{N_p}\sum |X - \mu|`,
    RobustMeanAbsoluteDeviation: the same over :math:`P_{10} \le X \le P_{90}` about their own
    mean, MedianAbsoluteDeviation :math:`= \frac{1}{N_p}\sum |X - P_{50}|`,
    CoefficientOfVariation :math:`= \sigma / \mu`, QuartileCoefficientOfDispersion
    :math:`= (P_{75} - P_{25}) / (P_{75} + P_{25})`. A flat ROI has Skewness and Kurtosis 0
    (pyradiomics' documented value; 0 - 3 for the IBSI excess kurtosis is not used: IBSI's
    reference implementation also reports 0); CoefficientOfVariation is 0 when
    :math:`\sigma = 0` and NaN when :math:`\mu = 0 < \sigma` (undefined), QuartileCoefficientOf
    Dispersion NaN when :math:`P_{75} + P_{25} = 0`.
    """
    if mode not in MODES:
        raise ValueError(
            f"The 'mode' parameter of compute_firstorder must be one of {MODES}. "
            f"Got {mode!r} instead."
        )
    values, discretised = _roi_values(image, mask, levels, mode, bin_width)
    voxel_volume = float(np.prod(np.asarray(spacing, dtype=float)))
    features = {
        **_shifted_energy_features(values, voxel_array_shift, voxel_volume),
        **_histogram_features(discretised),
        **_distribution_features(values, mode, discretised),
    }
    return {name: float(features[name]) for name in FEATURE_NAMES}


def _roi_values(image, mask, levels, mode, bin_width):
    """ROI intensities (float64) and ROI levels, in the namespace of ``image``."""
    xp = get_namespace(image, mask)
    image, mask = xp.asarray(image), xp.asarray(mask)
    if image.shape != mask.shape:
        raise ValueError(
            "The 'mask' parameter of compute_firstorder must have the image's shape "
            f"{image.shape}. Got {mask.shape} instead."
        )
    mask = mask.astype(bool)
    if not bool(xp.any(mask)):
        raise ValueError(
            "The 'mask' parameter of compute_firstorder must hold at least one voxel. "
            "Got an empty mask instead."
        )
    values = image[mask].astype(xp.float64)
    if levels is not None:
        return values, xp.asarray(levels)[mask]
    if mode == "pyradiomics":
        return values, fixed_bin_size_pyradiomics(values, bin_width).levels
    return values, fixed_bin_size(values, bin_width).levels


def _shifted_energy_features(values, shift, voxel_volume) -> dict:
    xp = get_namespace(values)
    energy = xp.sum((values + shift) ** 2)
    return {
        "Energy": energy,
        "TotalEnergy": energy * voxel_volume,
        "RootMeanSquared": xp.sqrt(energy / values.size),
    }


def _histogram_features(discretised) -> dict:
    xp = get_namespace(discretised)
    if discretised.dtype.kind in "iu" and int(discretised.min()) >= 0:
        counts = xp.bincount(discretised.reshape(-1))  # unique's counts, without a sort
        counts = counts[counts > 0]
    else:
        _, counts = xp.unique(discretised, return_counts=True)
    p = counts / counts.sum()
    return {"Entropy": -xp.sum(p * xp.log2(p)), "Uniformity": xp.sum(p**2)}


def _distribution_features(values, mode, discretised) -> dict:
    xp = get_namespace(values)
    quantiles, median = _quantiles(values, discretised)
    p10, p25, p50, p75, p90 = (float(q) for q in quantiles)
    minimum, maximum = float(values.min()), float(values.max())
    mean = xp.mean(values)
    deviation = values - mean
    # Products, not ** 3 and ** 4, which go through pow() element by element.
    squared = deviation * deviation
    variance = xp.mean(squared)
    flat = minimum == maximum
    # Moments of a flat ROI are 0 / 0; pyradiomics and IBSI report 0 (see Notes).
    skewness = 0.0 if flat else xp.mean(squared * deviation) / variance**1.5
    kurtosis = 0.0 if flat else xp.mean(squared * squared) / variance**2
    if mode == "ibsi" and not flat:
        kurtosis = kurtosis - 3.0  # IBSI reports the excess kurtosis
    robust = values[(values >= p10) & (values <= p90)]
    return {
        "Minimum": minimum,
        "10Percentile": p10,
        "90Percentile": p90,
        "Maximum": maximum,
        "Mean": mean,
        "Median": median,
        "InterquartileRange": p75 - p25,
        "Range": maximum - minimum,
        "MeanAbsoluteDeviation": xp.mean(xp.abs(deviation)),
        "RobustMeanAbsoluteDeviation": xp.mean(xp.abs(robust - xp.mean(robust))),
        "Skewness": skewness,
        "Kurtosis": kurtosis,
        "Variance": variance,
        "MedianAbsoluteDeviation": xp.mean(xp.abs(values - p50)),
        "CoefficientOfVariation": 0.0 if flat else _ratio(float(xp.sqrt(variance)), float(mean)),
        "QuartileCoefficientOfDispersion": _ratio(p75 - p25, p75 + p25),
    }


def _quantiles(values, discretised):
    """The percentiles 10, 25, 50, 75, 90 and the median of ``values``: through the grey levels
    on NumPy arrays (`radiopipe.features.quantiles`, equal to NumPy's), else by ``percentile``
    and ``median``."""
    xp = get_namespace(values)
    if isinstance(values, np.ndarray) and isinstance(discretised, np.ndarray) and (
        discretised.dtype.kind in "iu" and values.size > 0
    ):
        found = percentiles_and_median(values, discretised, _PERCENTILES)
        if found is not None:
            return found
    return xp.percentile(values, xp.asarray(_PERCENTILES)), xp.median(values)


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN where the denominator vanishes (the ratio is undefined)."""
    return numerator / denominator if denominator != 0 else float("nan")

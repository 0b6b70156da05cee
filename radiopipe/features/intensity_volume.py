r"""Intensity-volume histogram features (IBSI section 3.5, prefix ``ivh_``; not in pyradiomics).

The ROI intensities :math:`X` are discrete: discretised levels, or intensities that are
multiples of a ``step`` (e.g. 1 HU). They are evaluated on the grid
:math:`i = X_{min}, X_{min} + \mathrm{step}, \dots, X_{max}` between the ROI's lowest and highest
intensity (or the re-segmentation bounds), empty grid points included. At every grid point

.. math::
    \gamma(i) = \frac{i - X_{min}}{X_{max} - X_{min}}, \qquad
    \nu(i) = \frac{1}{N_v} \left|\{X \ge i\}\right|

are the intensity fraction and the volume fraction at or above :math:`i`.

- :math:`V_x` (volume at x % intensity) :math:`= \nu(i)` at the first grid point with
  :math:`\gamma(i) \ge x / 100`;
- :math:`I_x` (intensity at x % volume) = the first grid point with :math:`\nu(i) \le x / 100`,
  or :math:`X_{max}` when there is none, as in IBSI's reference implementation;
- the area under the curve is the trapezoidal integral of :math:`\nu` over :math:`\gamma`.

A single-intensity ROI (:math:`X_{max} = X_{min}`) leaves :math:`\gamma` undefined (0 / 0), so
the volume fractions and the area are NaN there; the intensities are :math:`X_{min}`.

Examples
--------
>>> levels = np.array([[[1, 1, 1, 2, 3, 5]]])
>>> features = compute_intensity_volume(levels, levels > 0)
>>> features["VolumeAt10PercentIntensity"], features["IntensityAt10PercentVolume"]
(0.5, 5.0)
"""

from __future__ import annotations

import numpy as np

from radiopipe.preprocess.discretise import fixed_bin_number, fixed_bin_size
from radiopipe.xp import to_numpy

FEATURE_NAMES = (
    "VolumeAt10PercentIntensity",
    "VolumeAt90PercentIntensity",
    "IntensityAt10PercentVolume",
    "IntensityAt90PercentVolume",
    "VolumeDifference10To90PercentIntensity",
    "IntensityDifference10To90PercentVolume",
    "AreaUnderCurve",
)


def compute_intensity_volume(
    values,
    mask,
    *,
    step: float = 1.0,
    lower_bound: float | None = None,
    upper_bound: float | None = None,
) -> dict[str, float]:
    r"""Intensity-volume histogram features of the ROI.

    Parameters
    ----------
    values : array, shape (z, y, x) or (y, x)
        Discrete intensities or discretised levels; values outside the ROI are ignored.
    mask : array of bool, same shape
        The ROI; must hold at least one voxel.
    step : float
        Spacing of the intensity grid (1 for levels or integer intensities).
    lower_bound, upper_bound : float, optional
        :math:`X_{min}` and :math:`X_{max}`; default to the ROI's lowest and highest value
        (IBSI uses the re-segmentation range when there is one).

    Returns
    -------
    dict of str to float
        Features in ``FEATURE_NAMES`` order.
    """
    roi, low, n_steps = _roi_on_grid(values, mask, step, lower_bound, upper_bound)
    grid = low + step * np.arange(n_steps + 1)
    # Voxels at or above grid point k: the ROI is on the grid, so compare with half a step slack.
    at_or_above = len(roi) - np.searchsorted(np.sort(roi), grid - step / 2.0)
    volume = at_or_above / len(roi)
    volume_10 = _volume_at_intensity(volume, n_steps, 10)
    volume_90 = _volume_at_intensity(volume, n_steps, 90)
    intensity_10 = _intensity_at_volume(grid, at_or_above, len(roi), 10)
    intensity_90 = _intensity_at_volume(grid, at_or_above, len(roi), 90)
    # The intensity fraction is undefined for a single-intensity ROI (see the module docstring).
    area = np.trapezoid(volume, np.arange(n_steps + 1) / n_steps) if n_steps else np.nan
    features = {
        "VolumeAt10PercentIntensity": volume_10,
        "VolumeAt90PercentIntensity": volume_90,
        "IntensityAt10PercentVolume": intensity_10,
        "IntensityAt90PercentVolume": intensity_90,
        "VolumeDifference10To90PercentIntensity": volume_10 - volume_90,
        "IntensityDifference10To90PercentVolume": intensity_10 - intensity_90,
        "AreaUnderCurve": area,
    }
    return {name: float(features[name]) for name in FEATURE_NAMES}


def ivh_input(
    image,
    roi,
    levels,
    n_levels: int,
    *,
    scheme: str,
    bin_width: float,
    bin_count: int,
    resegment_range=None,
) -> tuple[np.ndarray, float, float | None, float | None]:
    """The discrete values, step and range of the histogram, by IBSI's intensity types.

    IBSI-1, "Intensity-volume histogram features":

    - ``'texture'`` (radiopipe's default, not an IBSI case of its own): the texture grey levels,
      step 1 over ``[1, n_levels]``;
    - ``'none'`` (calibrated, discrete intensities such as HU): the intensities, step 1 over the
      re-segmentation range, or the ROI's range where it has no bound (configurations A, B, D);
    - ``'fixed_bin_size'`` (calibrated, continuous): bins of ``bin_width`` from the lower
      re-segmentation bound, represented by their centres ``x_min + (x_d - 0.5) w``, over
      ``[x_min + w / 2, x_max - w / 2]`` (configuration C);
    - ``'fixed_bin_number'`` (arbitrary units): bin numbers ``1..bin_count`` over
      ``[1, bin_count]``, the re-segmentation range unused (configuration E).

    Parameters
    ----------
    image : numpy.ndarray
        Intensities.
    roi : numpy.ndarray of bool
        The intensity mask, same shape.
    levels : numpy.ndarray of int
        Texture grey levels inside ``roi``.
    n_levels : int
        Number of texture grey levels.
    scheme : {'texture', 'none', 'fixed_bin_size', 'fixed_bin_number'}
    bin_width : float
        Bin width of ``'fixed_bin_size'``.
    bin_count : int
        Number of bins of ``'fixed_bin_number'``.
    resegment_range : sequence of (float or None), optional
        The re-segmentation range; ``'fixed_bin_size'`` needs both bounds.

    Returns
    -------
    values : numpy.ndarray
        Discrete values shaped like ``image`` (read inside ``roi``).
    step : float
    lower_bound, upper_bound : float or None
        The arguments of :func:`compute_intensity_volume`.
    """
    if scheme == "texture":
        return levels, 1.0, 1.0, float(n_levels)
    if scheme == "none":
        low, high = resegment_range or (None, None)
        return image, 1.0, low, high
    values = np.zeros(image.shape, dtype=np.float64)
    if scheme == "fixed_bin_size":
        low, high = resegment_range
        bins = fixed_bin_size(image[roi], bin_width, lower_bound=low).levels
        values[roi] = low + (bins - 0.5) * bin_width
        return values, bin_width, low + bin_width / 2, high - bin_width / 2
    values[roi] = fixed_bin_number(image[roi], bin_count).levels
    return values, 1.0, 1.0, float(bin_count)


def _roi_on_grid(values, mask, step, lower_bound, upper_bound):
    """ROI values, the grid origin and the number of grid steps up to the top."""
    values, mask = to_numpy(values), to_numpy(mask).astype(bool)
    if values.shape != mask.shape:
        raise ValueError(
            "The 'mask' parameter of compute_intensity_volume must have the values' shape "
            f"{values.shape}. Got {mask.shape} instead."
        )
    if not mask.any():
        raise ValueError(
            "The 'mask' parameter of compute_intensity_volume must hold at least one voxel. "
            "Got an empty mask instead."
        )
    if not step > 0:
        raise ValueError(
            "The 'step' parameter of compute_intensity_volume must be a float > 0. "
            f"Got {step!r} instead."
        )
    roi = values[mask].astype(np.float64)
    low = float(roi.min()) if lower_bound is None else float(lower_bound)
    high = float(roi.max()) if upper_bound is None else float(upper_bound)
    if high < low:
        raise ValueError(
            "The 'upper_bound' parameter of compute_intensity_volume must be >= the lower bound "
            f"{low}. Got {high} instead."
        )
    return roi, low, int(round((high - low) / step))


def _volume_at_intensity(volume: np.ndarray, n_steps: int, percent: int) -> float:
    """nu at the first grid point k with gamma = k / n_steps >= percent / 100."""
    if n_steps == 0:
        return float("nan")  # gamma is 0 / 0 for a single-intensity ROI
    first = -(-percent * n_steps // 100)  # ceil(percent * n_steps / 100), in integers
    return float(volume[first])


def _intensity_at_volume(grid, at_or_above, n_voxels: int, percent: int) -> float:
    """First grid point holding at most ``percent`` % of the volume, else the top of the grid."""
    qualifying = np.flatnonzero(100 * at_or_above <= percent * n_voxels)
    return float(grid[qualifying[0]] if len(qualifying) else grid[-1])

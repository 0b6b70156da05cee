"""IBSI-1 image processing of the phantoms, up to the inputs of every feature family.

For a CT configuration (IBSI-1 manual, "Reference data sets"):

1. intensities are float64, rounded to the nearest integer (done when reading);
2. image and mask are resampled onto IBSI's centre-aligned grid, the image with the
   configuration's interpolator and rounded to integer HU again, the mask (bi/trilinearly) kept
   where its partial volume is >= 0.5: this is the *morphological* mask;
3. re-segmentation (range and/or 3 sigma outliers) gives the *intensity* mask;
4. the intensity-mask values are discretised for texture and intensity histogram (fixed bin size
   from the lower re-segmentation bound, or fixed bin number), and separately for the
   intensity-volume histogram as the configuration asks.

The digital phantom needs none of this: its values are its grey levels 1..6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radiopipe.compliance.configs import IbsiConfiguration
from radiopipe.compliance.data import Phantom
from radiopipe.io import Volume
from radiopipe.preprocess.discretise import Discretised, fixed_bin_number, fixed_bin_size
from radiopipe.preprocess.resample import resample_image_ibsi, resample_mask_ibsi
from radiopipe.preprocess.resegment import resegment


@dataclass(frozen=True)
class IvhInput:
    """Intensity-volume histogram input: discrete values on a grid and the grid's range.

    Attributes
    ----------
    values : ndarray
        Discrete intensities (or bin centres, or bin numbers) shaped like the image.
    step : float
        Grid spacing :math:`w_d`.
    lower_bound, upper_bound : float or None
        The range :math:`G`; None takes the ROI's lowest / highest value.
    """

    values: np.ndarray
    step: float
    lower_bound: float | None
    upper_bound: float | None


@dataclass(frozen=True)
class PreparedRoi:
    """One ROI after IBSI processing, as every feature family needs it.

    Attributes
    ----------
    image : ndarray of float64, shape (z, y, x)
        Processed intensities of the whole image (local intensity looks outside the ROI).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    morphological_mask, intensity_mask : ndarray of bool
        Masks before and after re-segmentation.
    levels : ndarray of int32
        Discretised grey levels inside the intensity mask, 0 elsewhere.
    n_levels : int
        Number of grey levels of the discretisation.
    ivh : IvhInput
    """

    image: np.ndarray
    spacing: tuple[float, float, float]
    morphological_mask: np.ndarray
    intensity_mask: np.ndarray
    levels: np.ndarray
    n_levels: int
    ivh: IvhInput


@dataclass(frozen=True)
class ProcessingStages:
    """Image and masks after each processing step, for the diagnostic tags."""

    initial: Phantom
    interpolated: Phantom
    intensity_mask: np.ndarray


def prepare_digital_phantom(phantom: Phantom) -> PreparedRoi:
    """The digital phantom as it is: fixed bin size 1 from its lowest level keeps levels 1..6."""
    image, mask = phantom.image.array, phantom.mask.array
    discretised = fixed_bin_size(image[mask], 1.0)
    return PreparedRoi(
        image=image,
        spacing=phantom.image.spacing,
        morphological_mask=mask,
        intensity_mask=mask,
        levels=_levels_image(discretised, mask),
        n_levels=discretised.n_levels,
        ivh=IvhInput(image, 1.0, None, None),
    )


def process_ct(phantom: Phantom, configuration: IbsiConfiguration) -> ProcessingStages:
    """Interpolate and re-segment the CT phantom as one configuration asks (steps 2 and 3)."""
    image, mask = phantom.image, phantom.mask
    if configuration.spacing is not None:
        resampled = resample_image_ibsi(
            image, configuration.spacing, interpolator=configuration.interpolator
        )
        # IBSI rounds interpolated CT intensities to the nearest integer (HU).
        rounded = np.rint(resampled.array)
        image = Volume(rounded, resampled.spacing, resampled.origin, resampled.direction)
        mask = resample_mask_ibsi(mask, configuration.spacing)
    intensity_mask = resegment(
        image.array,
        mask.array,
        intensity_range=configuration.resegment_range,
        outlier_sigmas=configuration.outlier_sigma,
    )
    return ProcessingStages(phantom, Phantom(image, mask), intensity_mask)


def prepare_ct(stages: ProcessingStages, configuration: IbsiConfiguration) -> PreparedRoi:
    """Discretise the processed CT phantom for texture, histogram and IVH (step 4)."""
    image, mask = stages.interpolated.image, stages.intensity_mask
    values = image.array[mask]
    low = configuration.resegment_range[0] if configuration.resegment_range else None
    if configuration.discretisation == "fixed_bin_size":
        discretised = fixed_bin_size(values, configuration.bin_width, lower_bound=low)
    else:
        discretised = fixed_bin_number(values, configuration.bin_count)
    return PreparedRoi(
        image=image.array,
        spacing=image.spacing,
        morphological_mask=stages.interpolated.mask.array,
        intensity_mask=mask,
        levels=_levels_image(discretised, mask),
        n_levels=discretised.n_levels,
        ivh=_ivh_input(image.array, mask, configuration),
    )


def _levels_image(discretised: Discretised, mask: np.ndarray) -> np.ndarray:
    levels = np.zeros(mask.shape, dtype=np.int32)
    levels[mask] = discretised.levels
    return levels


def _ivh_input(image: np.ndarray, mask: np.ndarray, configuration: IbsiConfiguration) -> IvhInput:
    """IBSI-1 section "Intensity-volume histogram features", by intensity type.

    - no discretisation (calibrated, discrete HU): step 1 over the re-segmentation range, or the
      ROI's range without one (configurations A, B, D);
    - fixed bin size (calibrated, continuous): bins of width w from the lower re-segmentation
      bound, represented by their centres ``x_min + (x_d - 0.5) w``, over the range
      ``[x_min + w / 2, x_max - w / 2]`` (configuration C);
    - fixed bin number (arbitrary units): bin numbers 1..N over ``[1, N]``, the re-segmentation
      range unused (configuration E).
    """
    scheme, *parameters = configuration.ivh
    if scheme == "none":
        low, high = configuration.resegment_range or (None, None)
        return IvhInput(image, 1.0, low, high)
    values = np.zeros(image.shape, dtype=np.float64)
    if scheme == "fixed_bin_size":
        (width,) = parameters
        low, high = configuration.resegment_range
        bins = fixed_bin_size(image[mask], width, lower_bound=low).levels
        values[mask] = low + (bins - 0.5) * width
        return IvhInput(values, width, low + width / 2, high - width / 2)
    (n_bins,) = parameters
    values[mask] = fixed_bin_number(image[mask], n_bins).levels
    return IvhInput(values, 1.0, 1.0, float(n_bins))

"""The kernels of a voxel-wise map: which voxels each ROI voxel's cube reads, at which levels.

pyradiomics' voxel-based extraction (``execute(..., voxelBased=True)``), which the maps follow:

* the image is cropped to the ROI's bounding box widened by the kernel radius ``r`` (clipped to
  the image);
* every ROI voxel is a centre; its kernel is the cube of side ``2 r + 1`` around it;
* ``masked`` (pyradiomics' ``maskedKernel``, true by default): only ROI voxels of the cube count
  and the grey levels are discretised over the whole ROI; unmasked, every voxel of the cropped
  image in the cube counts and the levels are discretised over the whole cropped image;
* voxels beyond the cropped image count for nothing (pyradiomics pads with NaN / outside mask);
* the levels are binned in a pixel type, as pyradiomics bins them: its texture families in the
  image's own (float32 for a float32 image), its first order in float64 (it casts the image to
  float64 before it bins it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from radiopipe.config import FeatureConfig
from radiopipe.features.binning import discretise
from radiopipe.preprocess.crop import crop_slices


@dataclass(frozen=True)
class KernelInput:
    """A cropped, padded case and the centres of its kernels.

    Attributes
    ----------
    values : numpy.ndarray of float64, shape (z, y, x)
        Intensities, NaN where the kernels may not read (outside ``counted``, in the padding).
    levels : numpy.ndarray of int32, same shape
        Grey levels ``1..n_levels`` where ``counted``, 0 elsewhere.
    counted : numpy.ndarray of bool, same shape
        The voxels a kernel counts (the ROI when masked, the cropped image otherwise).
    centres : numpy.ndarray of int64, shape (n, 3)
        The ROI voxels, in this padded array's indices, in C order of the image.
    grey_levels : numpy.ndarray of int64
        The levels present in ``counted``, ascending (pyradiomics' ``grayLevels``).
    radius : int
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    """

    values: np.ndarray
    levels: np.ndarray
    counted: np.ndarray
    centres: np.ndarray
    grey_levels: np.ndarray
    radius: int
    spacing: tuple[float, ...]

    def windows(self, array: np.ndarray) -> np.ndarray:
        """The kernel of every centre in ``array`` (one of this input's arrays), flattened.

        Returns
        -------
        numpy.ndarray, shape (n, (2 r + 1) ** 3)
        """
        side = 2 * self.radius + 1
        view = sliding_window_view(array, (side, side, side))
        corner = self.centres - self.radius
        return view[corner[:, 0], corner[:, 1], corner[:, 2]].reshape(len(corner), -1)

    def level_index(self) -> np.ndarray:
        """Each counted voxel's index in :attr:`grey_levels`, -1 where the kernels may not read.

        Returns
        -------
        numpy.ndarray of int64, same shape as :attr:`levels`
        """
        lookup = np.full(int(self.levels.max()) + 1, -1, dtype=np.int64)
        lookup[self.grey_levels] = np.arange(len(self.grey_levels))
        return np.where(self.counted, lookup[self.levels], -1).astype(np.int64)


def kernel_input(image: np.ndarray, roi: np.ndarray, spacing, settings: FeatureConfig, *,
                 radius: int, masked: bool = True,
                 dtype=np.float64) -> tuple[KernelInput, tuple[slice, ...]]:
    """Crop, discretise and pad one prepared image for kernels of ``radius``.

    Parameters
    ----------
    image : numpy.ndarray, shape (z, y, x)
        The prepared image.
    roi : numpy.ndarray of bool, same shape
        The ROI (the intensity mask).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    settings : FeatureConfig
        The discretisation.
    radius : int
        Kernel radius ``r`` >= 1 in voxels.
    masked : bool
        pyradiomics' ``maskedKernel``.
    dtype : {numpy.float32, numpy.float64}
        The pixel type the levels are binned in (see
        :func:`radiopipe.features.extract.discretise`).

    Returns
    -------
    KernelInput
    crop : tuple of slice
        Where the centres' array lies in ``image`` once the padding is taken off.
    """
    crop = crop_slices(roi, radius)
    values = np.asarray(image[crop], dtype=np.float64)
    inside = roi[crop]
    counted = inside if masked else np.ones(inside.shape, dtype=bool)
    levels = np.zeros(values.shape, dtype=np.int32)
    levels[counted] = discretise(values[counted], settings, dtype=dtype).levels
    pad = [(radius, radius)] * 3
    values = np.pad(np.where(counted, values, np.nan), pad, constant_values=np.nan)
    levels = np.pad(levels, pad)
    centres = np.argwhere(np.pad(inside, pad))
    kernels = KernelInput(
        values=values,
        levels=levels,
        counted=np.pad(counted, pad),
        centres=centres,
        grey_levels=np.unique(levels[levels > 0]).astype(np.int64),
        radius=radius,
        spacing=tuple(float(s) for s in spacing),
    )
    return kernels, crop

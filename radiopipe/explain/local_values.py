"""A feature map's local values at its window centres, by one of two engines.

* **Voxel-wise kernels** (:data:`KERNELS`): the voxel-wise engine of :mod:`radiopipe.voxelwise`
  (pyradiomics' voxel-based extraction, validated against its maps), evaluated only at the map's
  centres: the kernel of each centre is the cube of side ``2 r + 1`` around it (``r = window //
  2``, so the cube is the window), masked (only ROI voxels count), its grey levels discretised
  over the whole ROI. It serves every group of features it covers (:func:`kernel_names`): the
  families of :data:`radiopipe.voxelwise.maps.FAMILY_MAPS` and their features, a 3D image under
  ``definitions: pyradiomics``, and settings the kernels follow
  (:func:`radiopipe.voxelwise.maps.settings_not_followed`).
* **Windows** (:data:`WINDOWS`): every other group (a family without kernels such as GLDZM or
  NGLDM, ``definitions: ibsi``, a 2D image, a GLCM extracted at other distances): the family's
  segment-level computation (``FAMILIES[family].compute``, the extraction's own) on the ROI
  voxels of the window around each centre (a square for 2D images), at the levels discretised
  over the whole ROI.

Both read the same voxels at the same levels; the kernels follow pyradiomics' voxel-based
definitions where they differ from its segment-level ones on a few voxels (e.g. GLCM's
:math:`N_g` is the ROI's highest level, a direction without a pair leaves the mean).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.family import FamilyInput
from radiopipe.features.registry import FAMILIES
from radiopipe.voxelwise.kernels import kernel_input
from radiopipe.voxelwise.maps import FAMILY_MAPS, settings_not_followed

KERNELS = "voxel-wise kernels (pyradiomics voxel-based)"
WINDOWS = "windows"


def kernel_families(settings: FeatureConfig, *, window: int) -> list[str]:
    """The families whose 3D maps the voxel-wise kernels compute under these settings.

    Parameters
    ----------
    settings : FeatureConfig
        The extraction's settings.
    window : int
        Window side in voxels: the kernels' radius is ``window // 2``, at least 1.

    Returns
    -------
    list of str
        Families of :data:`radiopipe.voxelwise.maps.FAMILY_MAPS`, in its order; [] under
        ``definitions: ibsi`` or for a window of fewer than 3 voxels.
    """
    if settings.definitions != "pyradiomics" or window < 3:
        return []
    return [family for family in FAMILY_MAPS if not settings_not_followed(family, settings)]


def kernel_names(family: str, names: list[str], settings: FeatureConfig, *, planar: bool,
                 window: int) -> list[str]:
    """The features of one (image, family) group that the voxel-wise kernels compute.

    Parameters
    ----------
    family : str
    names : list of str
        The group's feature names.
    settings : FeatureConfig
        The extraction's settings.
    planar : bool
        Whether the case's image is 2D (the kernels are 3D).
    window : int
        Window side in voxels.

    Returns
    -------
    list of str
        The names in ``names`` the kernels compute; [] when they do not cover the group.
    """
    if planar or family not in kernel_families(settings, window=window):
        return []
    return [name for name in names if name in FAMILY_MAPS[family][0]]


def kernel_values(image: np.ndarray, roi: np.ndarray, spacing, settings: FeatureConfig, *,
                  family: str, names: list[str], dtype, radius: int,
                  centres: np.ndarray) -> dict[str, np.ndarray]:
    """Features of the masked kernels of radius ``radius`` at some ROI voxels.

    Parameters
    ----------
    image : numpy.ndarray, shape (z, y, x)
        The (filtered) image over a box holding the ROI.
    roi : numpy.ndarray of bool, same shape
        The ROI in that box (the intensity mask).
    spacing : tuple of float
        Voxel size (z, y, x) in mm.
    settings : FeatureConfig
    family : str
        A family of :data:`radiopipe.voxelwise.maps.FAMILY_MAPS`.
    names : list of str
        Features the kernels compute (:func:`kernel_names`).
    dtype : numpy.dtype
        The pixel type the levels are binned in
        (:func:`radiopipe.voxelwise.maps.kernel_dtype`).
    radius : int
        Kernel radius >= 1.
    centres : numpy.ndarray of int, shape (n, 3)
        ROI voxels, in the box's indices.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n,)
    """
    # Masked kernels read only ROI voxels: the box needs nothing around the ROI, and its levels
    # are the whole ROI's, as the voxel-wise maps' are.
    kernels, crop = kernel_input(image, roi, spacing, settings, radius=radius, masked=True,
                                 dtype=dtype)
    start = np.array([c.start for c in crop], dtype=np.int64)
    kernels = replace(kernels, centres=np.asarray(centres, dtype=np.int64) - start + radius)
    return FAMILY_MAPS[family][1](kernels, names, settings)


def window_values(inputs: FamilyInput, settings: FeatureConfig, *, family: str,
                  names: list[str], window: int, centres: np.ndarray) -> dict[str, np.ndarray]:
    """Features of the family's segment-level computation on the window around some voxels.

    Parameters
    ----------
    inputs : FamilyInput
        The family's input over a box holding the ROI (levels discretised over the whole ROI).
    settings : FeatureConfig
    family : str
        A family of :data:`radiopipe.features.registry.FAMILIES`.
    names : list of str
    window : int
        Window side in voxels (odd); the window is clipped to the box.
    centres : numpy.ndarray of int, shape (n, 3)
        Voxels in the box's indices.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n,)
    """
    out = {name: np.empty(len(centres)) for name in names}
    for i, centre in enumerate(centres):
        box = _window(centre, window, inputs.roi.shape)
        result = FAMILIES[family].compute(replace(
            inputs, image=inputs.image[box], roi=inputs.roi[box],
            morphological_mask=inputs.morphological_mask[box], levels=inputs.levels[box],
        ), settings)
        for name in names:
            out[name][i] = result[name]
    return out


def _window(centre, size: int, shape) -> tuple[slice, ...]:
    half = size // 2
    return tuple(slice(max(c - half, 0), min(c + half + 1, n)) for c, n in zip(centre, shape))

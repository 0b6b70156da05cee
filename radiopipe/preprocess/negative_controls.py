"""Negative-control images: a case's image with the information a model should read destroyed
inside the ROI, the mask and the rest of the image left as they are (after READII's negative
controls, Kazmierski et al.).

- ``shuffled_voxels``: the ROI's intensities permuted among the ROI's voxels. The histogram of
  the ROI (so every first-order feature) and its shape stay; texture, the spatial arrangement of
  intensities, is gone.
- ``random_roi``: every ROI voxel given an intensity drawn at random (with replacement) from all
  the image's voxels. Only the ROI's shape (volume, surface, extent) and its position stay; its
  intensities say nothing about the case's tissue beyond the whole image's distribution.

A model validated on a control's features should score near chance (ROC-AUC 0.5). Far from it on
``shuffled_voxels`` it reads the ROI's histogram or shape rather than texture; on ``random_roi``
it reads the ROI's volume, shape or the whole image's intensities (acquisition, scanner), not
the tissue.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

NEGATIVE_CONTROLS = ("shuffled_voxels", "random_roi")


def negative_image(kind: str, image: sitk.Image, mask: sitk.Image,
                   rng: np.random.Generator) -> sitk.Image:
    """The control image ``kind`` of ``image`` (the inputs are left as they are).

    Parameters
    ----------
    kind : {'shuffled_voxels', 'random_roi'}
    image, mask : SimpleITK.Image
        On one grid; the ROI is the mask's non-zero voxels. Multi-channel images move whole
        pixels.
    rng : numpy.random.Generator

    Examples
    --------
    >>> image = sitk.GetImageFromArray(np.arange(8, dtype=np.float32).reshape(2, 2, 2))
    >>> mask = sitk.GetImageFromArray(np.array([[[1, 1], [1, 1]], [[0, 0], [0, 0]]], np.uint8))
    >>> shuffled = negative_image("shuffled_voxels", image, mask, np.random.default_rng(0))
    >>> sorted(sitk.GetArrayFromImage(shuffled)[0].ravel().tolist())
    [0.0, 1.0, 2.0, 3.0]
    """
    if kind not in NEGATIVE_CONTROLS:
        raise ValueError(f"'{kind}' is not a negative control; choose one of "
                         f"{', '.join(NEGATIVE_CONTROLS)}")
    values = sitk.GetArrayFromImage(image)
    roi = sitk.GetArrayViewFromImage(mask) > 0
    inside = values[roi]
    if kind == "shuffled_voxels":
        values[roi] = inside[rng.permutation(len(inside))]
    else:
        pixels = values.reshape(roi.size, -1) if values.ndim > roi.ndim else values.reshape(-1)
        values[roi] = pixels[rng.integers(0, len(pixels), len(inside))]
    out = sitk.GetImageFromArray(values, isVector=values.ndim > roi.ndim)
    out.CopyInformation(image)
    return out

"""A case's acquisition parameters, recorded beside its features: voxel spacing and the image's
intensity range. A model bundle keeps their training range, so that new cases acquired
differently (other voxel sizes, rescaled intensities) are flagged when they are predicted."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from radiopipe.columns import ACQUISITION, acquisition_column

# At most this many voxels estimate the intensity percentiles (a regular subsample).
_SAMPLE = 1_000_000


def acquisition_parameters(image: sitk.Image, modality: str | None = None) -> dict[str, float]:
    """Spacing (mm; NaN for the third axis of a 2D image) and the 1st and 99th intensity
    percentiles of the whole image, keyed by their table columns (with the image's modality in
    the name for a multimodal case).

    Examples
    --------
    >>> image = sitk.GetImageFromArray(np.arange(1000, dtype=np.float32).reshape(10, 10, 10))
    >>> params = acquisition_parameters(image)
    >>> params["acquisition__spacing_x"], round(params["acquisition__intensity_p99"], 2)
    (1.0, 989.01)
    """
    spacing = list(image.GetSpacing()) + [np.nan] * (3 - image.GetDimension())
    values = sitk.GetArrayViewFromImage(image).ravel()
    values = values[:: max(1, values.size // _SAMPLE)]
    low, high = np.percentile(values, [1, 99])
    found = [*map(float, spacing), float(low), float(high)]
    return {acquisition_column(name, modality): v
            for name, v in zip(ACQUISITION, found, strict=True)}

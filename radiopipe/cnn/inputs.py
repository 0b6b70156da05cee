"""A case's image as CNN inputs: square crops around the ROI, windowed to [0, 1], resampled.

2D images give one input. 3D volumes give either every axial slice that holds ROI voxels
(``volume_mode='slices'``, one crop shared by all slices) or three orthogonal planes through the
ROI's bounding-box centre (``'orthogonal'``, 2.5D). Every crop is a square in millimetres, so
anisotropic voxels keep their physical aspect; it is resampled to ``size`` pixels by bilinear
interpolation after a Gaussian anti-aliasing filter where it shrinks (sigma = (factor - 1) / 2
pixels, as scikit-image's ``resize``). Points outside the image are black (0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

PERCENTILES = (0.5, 99.5)  # default intensity window over the case's crop


@dataclass(frozen=True)
class InputSettings:
    """How a case becomes CNN inputs.

    Attributes
    ----------
    size : int
        Side of the square input in pixels.
    region : {'roi', 'image'}
        Crop around the ROI's bounding box (plus margin), or the whole image padded square.
    margin : float
        ROI extent added on each side, as a fraction of the larger in-plane extent.
    window : tuple of float or None
        Grey values mapped to 0 and 1; None takes the :data:`PERCENTILES` of the crop.
    volume_mode : {'slices', 'orthogonal'}
        3D only: axial ROI slices, or three orthogonal planes.
    """

    size: int
    region: str = "roi"
    margin: float = 0.25
    window: tuple[float, float] | None = None
    volume_mode: str = "slices"


@dataclass(frozen=True)
class PreparedInputs:
    """A case's CNN inputs before the backbone's normalisation.

    Attributes
    ----------
    images : numpy.ndarray of shape (n, c, size, size), float32 on [0, 1]
        c is 1 (grey) or 3 (RGB).
    roi : numpy.ndarray of shape (n, size, size), bool
        The ROI on the same grid.
    planes : tuple of str
        What each input shows, e.g. ``'axial z=12'``.
    """

    images: np.ndarray
    roi: np.ndarray
    planes: tuple[str, ...]


@dataclass(frozen=True)
class _Plane:
    values: np.ndarray  # (c, rows, cols)
    mask: np.ndarray  # (rows, cols) bool
    spacing: tuple[float, float]
    centre: tuple[float, float]  # (row, col) in pixels
    label: str
    rows_up: bool = False  # rows run along +z: drawn bottom-up so that superior is on top


def prepare_inputs(
    image: np.ndarray, mask: np.ndarray, spacing: tuple[float, ...], settings: InputSettings
) -> PreparedInputs:
    """Crop, window and resample one case for the backbone.

    Parameters
    ----------
    image : numpy.ndarray
        (y, x) or (z, y, x) grey values, or (y, x, c) colour with the channels last.
    mask : numpy.ndarray of bool
        The ROI, (y, x) or (z, y, x); must hold at least one voxel.
    spacing : tuple of float
        Voxel size in mm in the mask's axis order.
    settings : InputSettings

    Returns
    -------
    PreparedInputs

    Examples
    --------
    >>> image = np.arange(64.0).reshape(8, 8)
    >>> mask = np.zeros((8, 8), bool); mask[2:6, 2:6] = True
    >>> prepare_inputs(image, mask, (1.0, 1.0), InputSettings(size=32)).images.shape
    (1, 1, 32, 32)
    """
    mask = np.asarray(mask, dtype=bool)
    values = np.asarray(image, dtype=np.float32)
    values = np.moveaxis(values, -1, 0) if values.ndim == mask.ndim + 1 else values[None]
    if values.shape[1:] != mask.shape:
        raise ValueError(f"image {values.shape[1:]} and mask {mask.shape} differ in shape")
    if not mask.any():
        raise ValueError("the mask holds no ROI voxel")
    spacing = tuple(float(s) for s in spacing)
    centre, half_mm, box = _geometry(mask, spacing, settings)
    low, high = settings.window or _percentile_window(values, box)
    scaled = (values - low) / max(high - low, np.finfo(np.float32).tiny)
    planes = _planes(scaled, mask, spacing, centre, settings.volume_mode)
    images, rois = zip(*(_sample(plane, half_mm, settings.size) for plane in planes))
    return PreparedInputs(
        images=np.stack(images).astype(np.float32),
        roi=np.stack(rois),
        planes=tuple(plane.label for plane in planes),
    )


def _geometry(mask: np.ndarray, spacing, settings: InputSettings):
    """Crop centre (voxels), half side (mm) and the box of voxels the window is measured on."""
    if settings.region == "image":
        lower = np.zeros(mask.ndim)
        upper = np.asarray(mask.shape, float) - 1
        margin = 0.0
    else:
        where = np.argwhere(mask)
        lower, upper = where.min(axis=0).astype(float), where.max(axis=0).astype(float)
        margin = settings.margin
    centre = (lower + upper) / 2
    extent_mm = (upper - lower + 1) * np.asarray(spacing)
    in_plane = extent_mm if settings.volume_mode == "orthogonal" else extent_mm[-2:]
    half_mm = float(in_plane.max()) / 2 * (1 + 2 * margin)
    half_voxels = half_mm / np.asarray(spacing)
    if mask.ndim == 3 and settings.volume_mode == "slices":
        half_voxels[0] = (upper[0] - lower[0]) / 2  # the ROI's own slices
    start = np.maximum(np.floor(centre - half_voxels), 0).astype(int)
    stop = np.minimum(np.ceil(centre + half_voxels) + 1, mask.shape).astype(int)
    box = tuple(slice(a, b) for a, b in zip(start, stop))
    return centre, half_mm, box


def _percentile_window(values: np.ndarray, box) -> tuple[float, float]:
    low, high = np.percentile(values[(slice(None), *box)], PERCENTILES)
    return float(low), float(high)


def _planes(values, mask, spacing, centre, volume_mode: str) -> list[_Plane]:
    if mask.ndim == 2:
        return [_Plane(values, mask, spacing, tuple(centre), "image")]
    row_col = (float(centre[1]), float(centre[2]))
    if volume_mode == "slices" or mask.shape[0] == 1:
        slices = np.flatnonzero(mask.any(axis=(1, 2)))
        return [
            _Plane(values[:, z], mask[z], spacing[1:], row_col, f"axial z={z}") for z in slices
        ]
    cz, cy, cx = (round(float(c)) for c in centre)
    sz, sy, sx = spacing
    return [
        _Plane(values[:, cz], mask[cz], (sy, sx), row_col, f"axial z={cz}"),
        _Plane(values[:, :, cy], mask[:, cy], (sz, sx), (centre[0], centre[2]),
               f"coronal y={cy}", rows_up=True),
        _Plane(values[:, :, :, cx], mask[:, :, cx], (sz, sy), (centre[0], centre[1]),
               f"sagittal x={cx}", rows_up=True),
    ]


def _sample(plane: _Plane, half_mm: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The plane's square of side ``2 * half_mm`` around its centre on a ``size`` grid."""
    step_mm = 2 * half_mm / size
    offsets = (np.arange(size) + 0.5) * step_mm - half_mm
    direction = -1.0 if plane.rows_up else 1.0
    rows = plane.centre[0] + direction * offsets / plane.spacing[0]
    cols = plane.centre[1] + offsets / plane.spacing[1]
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"))
    sigma = [max(0.0, (step_mm / s - 1) / 2) for s in plane.spacing]
    channels = []
    for channel in plane.values:
        smooth = channel
        if max(sigma) > 0:
            smooth = ndimage.gaussian_filter(channel, sigma, mode="nearest")
        channels.append(ndimage.map_coordinates(smooth, grid, order=1, mode="constant", cval=0.0))
    image = np.clip(np.stack(channels), 0.0, 1.0)
    roi = ndimage.map_coordinates(plane.mask.astype(np.float32), grid, order=1, cval=0.0) >= 0.5
    return image, roi

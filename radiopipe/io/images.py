"""Reading images and masks through SimpleITK, with the checks a real cohort needs.

Supported: NIfTI, NRRD, MHA/MHD and any other format SimpleITK reads from one file; a folder holding
exactly one DICOM series; PNG/JPEG/TIFF/BMP for 2D images. Colour images need an explicit channel
policy. Errors name the case, the file by its role and type ("the mask (.nrrd file)", never its
name or folder: those may hold a patient's name) and what to do. DICOM series folders are read by
:mod:`radiopipe.io.dicom_series`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.image_integrity import truncation
from radiopipe.io.dicom_series import read_dicom_folder
from radiopipe.io.naming import describe_file, redact_paths

CHANNEL_POLICIES = ("luminance", "mean", "red", "green", "blue")
_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights
_CHANNEL_INDEX = {"red": 0, "green": 1, "blue": 2}
_MAX_LABELS_SHOWN = 10


@dataclass(frozen=True)
class Volume:
    """An image as an array with its physical geometry.

    Attributes
    ----------
    array : numpy.ndarray
        Voxel values, axes in (z, y, x) order for 3D or (y, x) for 2D.
    spacing : tuple of float
        Voxel size in mm, in the same axis order as ``array``.
    origin : tuple of float
        Physical position of the first voxel (x, y, z), as SimpleITK reports it.
    direction : tuple of float
        Direction cosines, row-major, as SimpleITK reports them.
    """

    array: np.ndarray
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]

    @classmethod
    def from_sitk(cls, image: sitk.Image, *, copy: bool = True) -> Volume:
        """Build a Volume from a SimpleITK image.

        Parameters
        ----------
        image : SimpleITK.Image
        copy : bool
            Copy the voxels (the default). ``False`` gives a read-only view of the image's
            buffer instead, valid only while ``image`` lives: for callers that hold the image
            throughout and only read (a feature extraction), which saves copying a whole scan.
        """
        return cls(
            array=sitk.GetArrayFromImage(image) if copy else sitk.GetArrayViewFromImage(image),
            spacing=tuple(reversed(image.GetSpacing())),
            origin=tuple(image.GetOrigin()),
            direction=tuple(image.GetDirection()),
        )

    def to_sitk(self) -> sitk.Image:
        """Convert back to a SimpleITK image."""
        image = sitk.GetImageFromArray(self.array)
        image.SetSpacing(tuple(reversed(self.spacing)))
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image


def read_image(path: Path, *, case_id: str, channel_policy: str | None = None) -> sitk.Image:
    """Read a scalar image from a file or a single-series DICOM folder.

    Parameters
    ----------
    path : Path
        Image file, or a folder holding one DICOM series.
    case_id : str
        The case, for error messages.
    channel_policy : {'luminance', 'mean', 'red', 'green', 'blue'} or None
        How to turn a colour image into one channel; None refuses colour images.

    Returns
    -------
    SimpleITK.Image
        A single-channel image.

    Raises
    ------
    CaseError
        If the file cannot be read, a DICOM folder does not hold exactly one series, a colour
        image comes without a channel policy, the image is neither 2D nor 3D, or it holds NaN or
        infinite voxels.
    """
    path = Path(path)
    image = (
        read_dicom_folder(path, case_id) if path.is_dir() else _read_file(path, case_id, "image")
    )
    if image.GetDimension() not in (2, 3):
        size = "x".join(str(n) for n in image.GetSize())
        raise CaseError(
            case_id,
            f"{describe_file('image', path)} has {image.GetDimension()} dimensions (size {size}); "
            "radiopipe reads 2D and 3D images: save the time point or volume to analyse as its "
            "own file",
        )
    components = image.GetNumberOfComponentsPerPixel()
    if components == 1:
        return _finite(image, case_id, describe_file("image", path))
    if channel_policy is None:
        raise CaseError(
            case_id,
            f"{describe_file('image', path)} has {components} channels per pixel; set "
            f"data.channel_policy to one of {', '.join(CHANNEL_POLICIES)} to say how to make it "
            "single-channel",
        )
    scalar = _to_scalar(image, channel_policy, case_id, describe_file("image", path))
    return _finite(scalar, case_id, describe_file("image", path))


def _finite(image: sitk.Image, case_id: str, described: str) -> sitk.Image:
    """The image, unless it holds NaN or infinite voxels (features of them are meaningless)."""
    values = sitk.GetArrayViewFromImage(image)
    if np.issubdtype(values.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            raise CaseError(
                case_id,
                f"{described} has {bad} non-finite voxel(s) (NaN or infinity); replace them "
                "(e.g. by the background value) before extraction",
            )
    return image


def read_mask(
    path: Path | None,
    image: sitk.Image,
    *,
    case_id: str,
    label: int = 1,
    tolerance: float = 1e-4,
    min_voxels: int = 1,
    correct: bool = False,
) -> sitk.Image:
    """Read a mask, check it against the image and keep one label as a binary mask.

    Parameters
    ----------
    path : Path or None
        Mask file; None makes the whole image the region of interest.
    image : SimpleITK.Image
        The image the mask belongs to.
    case_id : str
        The case, for error messages.
    label : int
        Mask value of the region of interest.
    tolerance : float
        Geometry tolerance relative to the largest voxel size (spacing and origin) and absolute
        for direction cosines.
    min_voxels : int
        Fewest voxels the region of interest may have.
    correct : bool
        A mask on another grid is resampled onto the image's by nearest neighbour when its
        region of interest lies inside the image (pyradiomics' ``correctMask``); otherwise it
        is an error.

    Returns
    -------
    SimpleITK.Image
        A uint8 mask with 1 inside the region of interest, the image's geometry.

    Raises
    ------
    CaseError
        On unreadable or multi-channel masks, mismatched geometry, a missing label, or a region
        of interest with fewer than ``min_voxels`` voxels.
    """
    if path is None:
        whole = sitk.Image(image.GetSize(), sitk.sitkUInt8) + 1
        whole.CopyInformation(image)
        return whole
    path = Path(path)
    mask = _read_file(path, case_id, "mask")
    described = describe_file("mask", path)
    if mask.GetNumberOfComponentsPerPixel() != 1:
        raise CaseError(case_id, f"{described} has several channels; save it as a label map")
    if correct and not same_grid(image, mask, tolerance):
        mask = resample_mask_onto(image, mask, label, case_id=case_id, mask_name=described)
    check_geometry(image, mask, case_id=case_id, mask_name=described, tolerance=tolerance)
    values = sitk.GetArrayViewFromImage(mask)
    roi = values == label
    if not roi.any():
        present = np.unique(values)
        shown = ", ".join(f"{v:g}" for v in present[:_MAX_LABELS_SHOWN])
        more = (
            f" and {present.size - _MAX_LABELS_SHOWN} more"
            if present.size > _MAX_LABELS_SHOWN
            else ""
        )
        problem = (
            "is empty"
            if present.size == 1 and present[0] == 0
            else f"has no voxel with label {label}"
        )
        raise CaseError(
            case_id,
            f"{described} {problem} (labels present: {shown}{more}); "
            "set data.mask_label to the label of the region of interest or fix the mask",
        )
    check_roi_size(roi, case_id=case_id, min_voxels=min_voxels)
    binary = sitk.GetImageFromArray(roi.view(np.uint8))  # 0/1 bytes: no uint8 copy of the mask
    binary.CopyInformation(image)
    return binary


def check_roi_size(roi: np.ndarray, *, case_id: str, min_voxels: int) -> None:
    """Raise a CaseError when the region of interest has fewer than ``min_voxels`` voxels."""
    size = int(np.count_nonzero(roi))
    if size < min_voxels:
        raise CaseError(
            case_id,
            f"the region of interest has {size} voxel(s), fewer than data.min_roi_voxels = "
            f"{min_voxels}; its texture features would be undefined. Check the mask, or lower "
            "data.min_roi_voxels",
        )


def check_geometry(
    image: sitk.Image, mask: sitk.Image, *, case_id: str, mask_name: str, tolerance: float
) -> None:
    """Raise a CaseError showing both geometries unless image and mask share one grid.

    ``mask_name`` describes the mask in the message (e.g. "the mask (.nrrd file)").
    """
    if not same_grid(image, mask, tolerance):
        raise CaseError(
            case_id,
            f"the image and {mask_name} are not on the same grid: image "
            f"{describe_geometry(image)}; mask {describe_geometry(mask)}; "
            "resample the mask onto the image "
            "or raise data.geometry_tolerance if the difference is rounding "
            "(data.correct_mask: true resamples it by nearest neighbour, as pyradiomics' "
            "correctMask)",
        )


def same_grid(image: sitk.Image, mask: sitk.Image, tolerance: float) -> bool:
    """Whether two images share one grid: dimension and size, and spacing and origin within
    ``tolerance`` times the largest voxel size (at least 1), direction cosines within it."""
    scale = max(1.0, *image.GetSpacing())
    return (
        image.GetDimension() == mask.GetDimension()
        and image.GetSize() == mask.GetSize()
        and np.allclose(image.GetSpacing(), mask.GetSpacing(), rtol=0, atol=tolerance * scale)
        and np.allclose(image.GetOrigin(), mask.GetOrigin(), rtol=0, atol=tolerance * scale)
        and np.allclose(image.GetDirection(), mask.GetDirection(), rtol=0, atol=tolerance)
    )


def resample_mask_onto(
    image: sitk.Image, mask: sitk.Image, label: int, *, case_id: str, mask_name: str
) -> sitk.Image:
    """A mask on another grid resampled onto the image's by nearest neighbour (0 outside it),
    as pyradiomics' ``correctMask`` does; an error when the mask's region of interest (its
    voxels with ``label``, as boxes of voxel edges) reaches past the image (1e-3 voxel slack,
    pyradiomics' ``_checkROI``) or the two differ in dimension."""
    if image.GetDimension() != mask.GetDimension():
        raise CaseError(
            case_id,
            f"the image is {image.GetDimension()}D and {mask_name} {mask.GetDimension()}D; "
            "save the mask with the image's dimension",
        )
    roi = np.argwhere(sitk.GetArrayViewFromImage(mask) == label)
    if roi.size:
        low, high = roi.min(axis=0)[::-1] - 0.5, roi.max(axis=0)[::-1] + 0.5  # (x, y, z)
        corners = [
            image.TransformPhysicalPointToContinuousIndex(
                mask.TransformContinuousIndexToPhysicalPoint([float(v) for v in corner])
            )
            for corner in (low, high)
        ]
        if np.any(np.min(corners, axis=0) < -0.5 - 1e-3) or np.any(
            np.max(corners, axis=0) > np.array(image.GetSize()) - 0.5 + 1e-3
        ):
            raise CaseError(
                case_id,
                f"the region of interest of {mask_name} reaches past the image, so it cannot be "
                f"resampled onto it: image {describe_geometry(image)}; mask "
                f"{describe_geometry(mask)}; check that the mask belongs to this image",
            )
    return sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0)


def describe_geometry(image: sitk.Image) -> str:
    """One-line description of an image's grid: size, spacing, origin and direction."""

    def fmt(values):
        return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"

    return (
        f"size {fmt(image.GetSize())}, spacing {fmt(image.GetSpacing())}, "
        f"origin {fmt(image.GetOrigin())}, direction {fmt(image.GetDirection())}"
    )


def _read_file(path: Path, case_id: str, role: str) -> sitk.Image:
    reason = truncation(path)
    if reason is not None:
        raise CaseError(
            case_id,
            f"{describe_file(role, path)} is truncated: {reason}; copy the file again from its "
            "source",
        )
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown error"
        raise CaseError(
            case_id,
            f"cannot read {describe_file(role, path)} ({redact_paths(first.strip(), path)}); "
            "check the file's format",
        ) from None


def _to_scalar(image: sitk.Image, policy: str, case_id: str, described: str) -> sitk.Image:
    array = sitk.GetArrayFromImage(image).astype(np.float64)
    channels = array.shape[-1]
    if policy in _CHANNEL_INDEX or policy == "luminance":
        needed = 3 if policy in ("luminance", "blue") else _CHANNEL_INDEX[policy] + 1
        if channels < needed:
            raise CaseError(
                case_id,
                f"{described} has {channels} channels; channel_policy '{policy}' needs {needed}",
            )
    if policy == "luminance":
        scalar = array[..., :3] @ np.asarray(_LUMA)
    elif policy == "mean":
        colour = array[..., :3] if channels >= 3 else array[..., :1]
        scalar = colour.mean(axis=-1)
    else:
        scalar = array[..., _CHANNEL_INDEX[policy]]
    out = sitk.GetImageFromArray(scalar.astype(np.float32))
    out.CopyInformation(image)
    return out

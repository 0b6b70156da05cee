"""DICOM-SEG masks: one segment of a binary or fractional segmentation on its image's grid.

The segment is picked by the manifest's ``roi`` (its label, a pattern, or its number). Frames
are placed on the image's slices by their position; the SEG's rows, columns, pixel spacing and
orientation must be the image's, and each frame must lie on a slice, or the SEG is refused with
both geometries shown. A fractional segment keeps the voxels whose fraction is at least one half.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.images import describe_geometry
from radiopipe.structures import identifiers, pick_structure, read_mask_file, safe_name

DESCRIBED = "the mask (DICOM-SEG)"
FRACTION_INSIDE = 0.5
"""Least fraction of a fractional segment's voxel that counts as inside."""


def read_seg_mask(
    path: Path, image: sitk.Image, roi: str | None, *, case_id: str, tolerance: float = 1e-4
) -> sitk.Image:
    """One segment of a DICOM-SEG as a binary mask on the image's grid.

    Parameters
    ----------
    path : Path
        The SEG file.
    image : SimpleITK.Image
        The image the segmentation was made on (a 3D DICOM series).
    roi : str or None
        The segment: its label, a pattern, or its number; None when the file holds one segment.
    case_id : str
        The case, for messages.
    tolerance : float
        Geometry tolerance relative to the largest voxel size (positions, spacing) and absolute
        for direction cosines.

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 inside the segment) with the image's geometry.

    Raises
    ------
    CaseError
        When the file is no SEG, the segment is absent or ambiguous, or the SEG's geometry does
        not match the image's.
    """
    dataset = read_mask_file(path, "SEG", case_id=case_id, described=DESCRIBED)
    segment = pick_structure(dataset, roi, case_id=case_id, described=DESCRIBED)
    name = safe_name(segment.name, identifiers(dataset))
    frames = _frames(dataset)
    slices = _slice_of_each_frame(dataset, image, case_id, tolerance)
    size = image.GetSize()
    array = np.zeros(size[::-1], dtype=bool)
    inside = _inside(dataset, frames)
    for index, (number, k) in enumerate(zip(_segment_numbers(dataset), slices, strict=True)):
        if number == segment.number:
            array[k] |= inside[index]
    if not array.any():
        raise CaseError(
            case_id,
            f"{DESCRIBED}: segment '{name}' is empty on the image; check the segmentation or "
            "pick another segment",
        )
    mask = sitk.GetImageFromArray(array.astype(np.uint8))
    mask.CopyInformation(image)
    return mask



def _frames(dataset) -> np.ndarray:
    pixels = dataset.pixel_array
    return pixels[None] if pixels.ndim == 2 else pixels


def _inside(dataset, frames: np.ndarray) -> np.ndarray:
    if str(dataset.get("SegmentationType", "BINARY")) == "FRACTIONAL":
        maximum = float(dataset.get("MaximumFractionalValue", 255))
        return frames / maximum >= FRACTION_INSIDE
    return frames > 0


def _per_frame(dataset, index: int, sequence: str):
    """A functional group of frame ``index``: its own, else the shared one."""
    frames = dataset.get("PerFrameFunctionalGroupsSequence", [])
    if index < len(frames) and sequence in frames[index]:
        return frames[index][sequence][0]
    return dataset.SharedFunctionalGroupsSequence[0][sequence][0]


def _segment_numbers(dataset) -> list[int]:
    count = int(dataset.get("NumberOfFrames", 1))
    return [int(_per_frame(dataset, i, "SegmentIdentificationSequence").ReferencedSegmentNumber)
            for i in range(count)]


def _slice_of_each_frame(dataset, image: sitk.Image, case_id: str, tolerance: float) -> list[int]:
    """The image slice of every frame; CaseError unless the SEG lies on the image's grid."""
    size, spacing = image.GetSize(), np.asarray(image.GetSpacing())
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    scale = max(1.0, *spacing)
    count = int(dataset.get("NumberOfFrames", 1))
    positions = np.array([
        [float(v) for v in _per_frame(dataset, i, "PlanePositionSequence").ImagePositionPatient]
        for i in range(count)
    ])
    orientation = np.array([float(v) for v in
                            _per_frame(dataset, 0, "PlaneOrientationSequence")
                            .ImageOrientationPatient])
    row_spacing, column_spacing = (
        float(v) for v in _per_frame(dataset, 0, "PixelMeasuresSequence").PixelSpacing)
    index = ((positions - np.asarray(image.GetOrigin())) @ np.linalg.inv(direction).T) / spacing
    slices = np.rint(index[:, 2]).astype(int)
    fits = (
        image.GetDimension() == 3
        and (int(dataset.Columns), int(dataset.Rows)) == size[:2]
        and np.allclose(orientation, np.concatenate([direction[:, 0], direction[:, 1]]),
                        rtol=0, atol=tolerance)
        and np.allclose((column_spacing, row_spacing), spacing[:2], rtol=0,
                        atol=tolerance * scale)
        and np.allclose(index[:, :2] * spacing[:2], 0, rtol=0, atol=tolerance * scale)
        and np.allclose((index[:, 2] - slices) * spacing[2], 0, rtol=0, atol=tolerance * scale)
        and bool(np.all((slices >= 0) & (slices < size[2])))
    )
    if not fits:
        seg = (
            f"{dataset.Columns}x{dataset.Rows} pixels of ({column_spacing:.6g}, "
            f"{row_spacing:.6g}) mm, orientation ({', '.join(f'{v:.6g}' for v in orientation)})"
            f", first frame at ({', '.join(f'{v:.6g}' for v in positions[0])}), frames at "
            f"slice positions {index[:, 2].min():.3g}..{index[:, 2].max():.3g}"
        )
        raise CaseError(
            case_id,
            f"{DESCRIBED} does not lie on the image's grid: image {describe_geometry(image)}; "
            f"SEG {seg}; point the manifest's image at the series the SEG was made on",
        )
    return slices.tolist()

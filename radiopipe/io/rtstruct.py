"""RTSTRUCT masks: one structure's contours voxelised on its reference image's grid.

The structure set must belong to the image: the same Frame of Reference, and, where it lists
them, the image's series or some of its SOP instances. Contours are matched to slices by their
position (their plane's index along the slice axis, within :data:`SLICE_TOLERANCE` of a slice),
never by the SOP instance they name, so a re-exported or cropped series still fits. Each closed
planar contour is filled in the slice's index space (:mod:`radiopipe.io.polygons`); contours on
one slice combine by XOR, so an inner contour is a hole. Messages name the structure set by its
type only and show structure names without the file's identifiers.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.dicom_series import series_files
from radiopipe.io.polygons import fill_polygons
from radiopipe.structures import Structure, identifiers, pick_structure, read_mask_file, safe_name

DESCRIBED = "the mask (RTSTRUCT)"
SLICE_TOLERANCE = 0.25
"""Largest distance, in slices, between a contour's plane and the slice it is drawn on."""


def read_rtstruct_mask(
    path: Path, image: sitk.Image, series_folder: Path, roi: str | None, *, case_id: str
) -> sitk.Image:
    """One structure of an RTSTRUCT as a binary mask on its reference image's grid.

    Parameters
    ----------
    path : Path
        The RTSTRUCT file.
    image : SimpleITK.Image
        The reference image, as read from ``series_folder``.
    series_folder : Path
        The folder of the image's DICOM series (its UIDs are checked against the RTSTRUCT's).
    roi : str or None
        The structure: an exact ROI name or a pattern (:func:`radiopipe.structures.
        match_structures`); None when the file holds one structure only.
    case_id : str
        The case, for messages.

    Returns
    -------
    SimpleITK.Image
        uint8 mask (1 inside the structure) with the image's geometry.

    Raises
    ------
    CaseError
        When the file is no RTSTRUCT, the structure is absent or ambiguous, the structure set
        belongs to another series, a contour is empty or lies on no slice of the image, or the
        contours cover no voxel centre.
    """
    dataset = read_mask_file(path, "RTSTRUCT", case_id=case_id, described=DESCRIBED)
    structure = pick_structure(dataset, roi, case_id=case_id, described=DESCRIBED)
    check_reference(dataset, series_folder, case_id=case_id)
    name = safe_name(structure.name, identifiers(dataset))
    contours = _contours(dataset, structure, name, case_id)
    array = voxelise(contours, image, case_id=case_id, name=name)
    mask = sitk.GetImageFromArray(array.astype(np.uint8))
    mask.CopyInformation(image)
    return mask


def voxelise(contours: list[np.ndarray], image: sitk.Image, *, case_id: str, name: str):
    """Closed planar contours (``(n, 3)`` physical points each) filled on ``image``'s grid.

    Returns a boolean ``(z, y, x)`` array. Raises CaseError when a contour lies on no slice of
    the image or the filled mask is empty.
    """
    size = image.GetSize()
    if image.GetDimension() != 3:
        raise CaseError(case_id, f"{DESCRIBED} needs a 3D image; the image is 2D")
    to_index = np.linalg.inv(np.asarray(image.GetDirection()).reshape(3, 3))
    origin, spacing = np.asarray(image.GetOrigin()), np.asarray(image.GetSpacing())
    by_slice = defaultdict(list)
    for number, points in enumerate(contours, start=1):
        index = ((points - origin) @ to_index.T) / spacing
        level = float(index[:, 2].mean())
        k = int(round(level))
        flat = np.ptp(index[:, 2]) <= 2 * SLICE_TOLERANCE
        if not (flat and 0 <= k < size[2] and abs(level - k) <= SLICE_TOLERANCE):
            where = "is not planar in the image's slices" if not flat else (
                f"lies at slice position {level:.2f}, on no slice of the image (0..{size[2] - 1})")
            raise CaseError(
                case_id,
                f"{DESCRIBED}: contour {number} of structure '{name}' {where}; check that the "
                "structure set belongs to this image series",
            )
        by_slice[k].append(index[:, :2])
    array = np.zeros(size[::-1], dtype=bool)
    for k, polygons in by_slice.items():
        array[k] = fill_polygons(polygons, (size[1], size[0]))
    if not array.any():
        raise CaseError(
            case_id,
            f"{DESCRIBED}: the contours of structure '{name}' enclose no voxel centre of the "
            "image; check the structure, or that it belongs to this image series",
        )
    return array


def check_reference(dataset, series_folder: Path, *, case_id: str) -> None:
    """Raise a CaseError unless the structure set refers to the image series of the folder.

    The Frame of Reference must match; where the structure set lists referenced series or SOP
    instances, the image's series or one of its instances must be among them.
    """
    import pydicom  # an RTSTRUCT mask only: an image file's extraction never imports it

    files = series_files(series_folder, _series_uid(series_folder))
    headers = [
        pydicom.dcmread(f, stop_before_pixels=True,
                        specific_tags=["FrameOfReferenceUID", "SeriesInstanceUID",
                                       "SOPInstanceUID"])
        for f in files
    ]
    frames, series, instances = _references(dataset)
    image_frame = str(headers[0].get("FrameOfReferenceUID", ""))
    fix = "point the manifest's image at the series the structure set was drawn on"
    if frames and image_frame not in frames:
        raise CaseError(
            case_id,
            f"{DESCRIBED} belongs to another series: its Frame of Reference differs from the "
            f"image's; {fix}",
        )
    image_series = {str(h.get("SeriesInstanceUID", "")) for h in headers}
    image_instances = {str(h.get("SOPInstanceUID", "")) for h in headers}
    if (series or instances) and not (image_series & series or image_instances & instances):
        raise CaseError(
            case_id,
            f"{DESCRIBED} belongs to another series: it references neither the image's series "
            f"nor any of its {len(headers)} images; {fix}",
        )


def _series_uid(folder: Path) -> str:
    return sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))[0]


def _references(dataset) -> tuple[set[str], set[str], set[str]]:
    """The Frames of Reference, series and SOP instances the structure set refers to."""
    frames, series, instances = set(), set(), set()
    for frame in dataset.get("ReferencedFrameOfReferenceSequence", []):
        frames.add(str(frame.get("FrameOfReferenceUID", "")))
        for study in frame.get("RTReferencedStudySequence", []):
            for item in study.get("RTReferencedSeriesSequence", []):
                series.add(str(item.get("SeriesInstanceUID", "")))
                instances.update(str(c.ReferencedSOPInstanceUID)
                                 for c in item.get("ContourImageSequence", []))
    for roi in dataset.get("StructureSetROISequence", []):
        if "ReferencedFrameOfReferenceUID" in roi:
            frames.add(str(roi.ReferencedFrameOfReferenceUID))
    for roi in dataset.get("ROIContourSequence", []):
        for contour in roi.get("ContourSequence", []):
            instances.update(str(c.ReferencedSOPInstanceUID)
                             for c in contour.get("ContourImageSequence", []))
    return frames - {""}, series - {""}, instances - {""}


def _contours(dataset, structure: Structure, name: str, case_id: str) -> list[np.ndarray]:
    """The closed planar contours of a structure as ``(n, 3)`` physical points (``name``: the
    structure's name as messages show it)."""
    items = [r for r in dataset.get("ROIContourSequence", [])
             if int(r.get("ReferencedROINumber", -1)) == structure.number]
    sequence = [c for r in items for c in r.get("ContourSequence", [])]
    if not sequence:
        raise CaseError(
            case_id,
            f"{DESCRIBED}: structure '{name}' has no contour; draw it or pick another structure",
        )
    contours = []
    for number, contour in enumerate(sequence, start=1):
        kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR"))
        if kind != "CLOSED_PLANAR":
            continue
        points = np.asarray(contour.get("ContourData", []), dtype=float)
        if points.size < 9 or points.size % 3:
            raise CaseError(
                case_id,
                f"{DESCRIBED}: contour {number} of structure '{name}' is empty ("
                f"{points.size // 3} point(s), a closed contour needs 3); remove or redraw it",
            )
        contours.append(points.reshape(-1, 3))
    if not contours:
        raise CaseError(
            case_id,
            f"{DESCRIBED}: structure '{name}' has no closed contour (only points or open "
            "lines); pick a structure drawn as closed contours",
        )
    return contours

"""One case as extraction reads it: the image and the mask of its region of interest.

The mask may be a label map (any file SimpleITK reads), a DICOM RTSTRUCT or a DICOM-SEG; the two
DICOM kinds pick their structure by the manifest's ``roi``, and an RTSTRUCT needs the image as its
DICOM series folder (its UIDs are checked against the structure set's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.images import check_roi_size, read_image, read_mask
from radiopipe.io.rtstruct import read_rtstruct_mask
from radiopipe.io.seg import read_seg_mask
from radiopipe.structures import dicom_mask_modality

if TYPE_CHECKING:
    from radiopipe.config import DataConfig
    from radiopipe.manifest import Case


def read_case(case: Case, data: DataConfig) -> tuple[sitk.Image, sitk.Image]:
    """A case's image and mask as extraction reads them.

    Parameters
    ----------
    case : Case
        The case: its image (file or DICOM series folder), mask (label map, RTSTRUCT, SEG or
        None: the whole image) and ``roi`` (the structure of an RTSTRUCT or SEG).
    data : DataConfig
        The reading settings: ``channel_policy``, ``mask_label``, ``geometry_tolerance``,
        ``correct_mask`` (a label map on another grid resampled onto the image's),
        ``min_roi_voxels``.

    Returns
    -------
    image : SimpleITK.Image
        The single-channel image (`read_image`).
    mask : SimpleITK.Image
        The binary uint8 mask of the region of interest on the image's geometry.

    Raises
    ------
    CaseError
        When the image or mask cannot be read or do not fit together.
    """
    image = read_image(case.image, case_id=case.case_id, channel_policy=data.channel_policy)
    modality = dicom_mask_modality(case.mask)
    if modality is None:
        mask = read_mask(
            case.mask, image, case_id=case.case_id, label=data.mask_label,
            tolerance=data.geometry_tolerance, min_voxels=data.min_roi_voxels,
            correct=data.correct_mask,
        )
        return image, mask
    if modality == "SEG":
        mask = read_seg_mask(case.mask, image, case.roi, case_id=case.case_id,
                             tolerance=data.geometry_tolerance)
    elif case.image.is_dir():
        mask = read_rtstruct_mask(case.mask, image, case.image, case.roi, case_id=case.case_id)
    else:
        raise CaseError(
            case.case_id,
            "the mask is a DICOM RTSTRUCT, which needs the image as its DICOM series folder; "
            "point the manifest's image at that folder",
        )
    check_roi_size(sitk.GetArrayViewFromImage(mask), case_id=case.case_id,
                   min_voxels=data.min_roi_voxels)
    return image, mask

"""Reading one case: images, DICOM series, masks (label maps, RTSTRUCT, DICOM-SEG).

``radiopipe.io`` re-exports the names the rest of the package uses; the modules below hold them:
:mod:`~radiopipe.io.images` (image and label-map files, geometry and label checks),
:mod:`~radiopipe.io.dicom_series` (DICOM series folders), :mod:`~radiopipe.io.rtstruct` (RTSTRUCT
contours voxelised by :mod:`~radiopipe.io.polygons`), :mod:`~radiopipe.io.seg` (DICOM-SEG
segments), :mod:`~radiopipe.io.case` (one case's image
and mask, whatever the mask's kind) and :mod:`~radiopipe.io.naming` (how messages name files
without their names).
"""

from radiopipe.io.case import read_case
from radiopipe.io.dicom_series import SERIES_TAGS, read_dicom_folder
from radiopipe.io.images import (
    CHANNEL_POLICIES,
    Volume,
    check_geometry,
    describe_geometry,
    read_image,
    read_mask,
)
from radiopipe.io.naming import describe_file, redact_paths
from radiopipe.io.rtstruct import read_rtstruct_mask
from radiopipe.io.seg import read_seg_mask

__all__ = [
    "CHANNEL_POLICIES",
    "SERIES_TAGS",
    "Volume",
    "check_geometry",
    "describe_file",
    "describe_geometry",
    "read_case",
    "read_dicom_folder",
    "read_image",
    "read_mask",
    "read_rtstruct_mask",
    "read_seg_mask",
    "redact_paths",
]

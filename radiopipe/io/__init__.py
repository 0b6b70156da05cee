"""Reading one case: images, DICOM series, masks (label maps, RTSTRUCT, DICOM-SEG).

``radiopipe.io`` re-exports the names the rest of the package uses; the modules below hold them:
:mod:`~radiopipe.io.images` (image and label-map files, geometry and label checks),
:mod:`~radiopipe.io.dicom_series` (DICOM series folders) and :mod:`~radiopipe.io.naming` (how
messages name files without their names).
"""

from radiopipe.io.dicom_series import SERIES_TAGS, read_dicom_folder
from radiopipe.io.images import (
    CHANNEL_POLICIES,
    Volume,
    check_geometry,
    describe_geometry,
    read_case,
    read_image,
    read_mask,
)
from radiopipe.io.naming import describe_file, redact_paths

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
    "redact_paths",
]

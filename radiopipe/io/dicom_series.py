"""DICOM series folders: one series per folder, read through SimpleITK (GDCM).

DICOM metadata reaches messages only through an allow-list (:data:`SERIES_TAGS`).
"""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.naming import redact_paths

# The only DICOM tags a message may show (series listing of a folder with several series).
SERIES_TAGS = {"0020|0011": "series number", "0008|0060": "modality", "0008|103e": "description"}


def read_dicom_folder(folder: Path, case_id: str) -> sitk.Image:
    """The one DICOM series of ``folder`` as a SimpleITK image.

    Raises
    ------
    CaseError
        When the folder holds no series or several, or the series cannot be read.
    """
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
    if not series:
        raise CaseError(case_id, "the image (DICOM folder) holds no DICOM series")
    if len(series) > 1:
        listing = "; ".join(
            f"{i + 1}) {describe_series(folder, uid)}" for i, uid in enumerate(sorted(series))
        )
        raise CaseError(
            case_id,
            f"the image (DICOM folder) holds {len(series)} DICOM series: {listing}; "
            "put each series in its own folder and point the manifest at the one to use",
        )
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(series_files(folder, series[0]))
    try:
        return reader.Execute()
    except RuntimeError as exc:
        reason = redact_paths(str(exc).strip()[-200:], folder)
        raise CaseError(case_id, f"cannot read the DICOM series of the image ({reason})") from None


def series_files(folder: Path, uid: str) -> tuple[str, ...]:
    """The files of one series of ``folder``, in the slice order SimpleITK reads them."""
    return tuple(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), uid))


def describe_series(folder: Path, uid: str) -> str:
    """Series summary from the allow-listed tags only (:data:`SERIES_TAGS`) and a file count."""
    files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), uid)
    reader = sitk.ImageFileReader()
    reader.SetFileName(files[0])
    reader.ReadImageInformation()

    values = {
        label: reader.GetMetaData(key).strip()
        for key, label in SERIES_TAGS.items()
        if reader.HasMetaDataKey(key) and reader.GetMetaData(key).strip()
    }
    return ", ".join([f"{len(files)} file(s)", *(f"{k} '{v}'" for k, v in values.items())])

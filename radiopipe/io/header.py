"""The header of a DICOM series: the few tags radiopipe reads, and nothing else.

Only the tags of :data:`HEADER_TAGS` leave this module: acquisition provenance (modality,
scanner, kVp, slice thickness, pixel spacing, convolution kernel, field strength) and what SUV
needs (units, patient weight, dose, half life, times). Names, identifiers, dates and UIDs are
never read out.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import SimpleITK as sitk

# keyword -> how messages name it; the allow-list of what a header read returns.
HEADER_TAGS = {
    "Modality": "Modality (0008,0060)",
    "Manufacturer": "Manufacturer (0008,0070)",
    "ManufacturerModelName": "ManufacturerModelName (0008,1090)",
    "KVP": "KVP (0018,0060)",
    "SliceThickness": "SliceThickness (0018,0050)",
    "PixelSpacing": "PixelSpacing (0028,0030)",
    "ConvolutionKernel": "ConvolutionKernel (0018,1210)",
    "MagneticFieldStrength": "MagneticFieldStrength (0018,0087)",
    "Units": "Units (0054,1001)",
    "DecayCorrection": "DecayCorrection (0054,1102)",
    "PatientWeight": "PatientWeight (0010,1030)",
    "SeriesTime": "SeriesTime (0008,0031)",
    "AcquisitionTime": "AcquisitionTime (0008,0032)",
    "RadionuclideTotalDose": "RadionuclideTotalDose (0018,1074)",
    "RadionuclideHalfLife": "RadionuclideHalfLife (0018,1075)",
    "RadiopharmaceuticalStartTime": "RadiopharmaceuticalStartTime (0018,1072)",
}
# Tags read from the first item of RadiopharmaceuticalInformationSequence (0054,0016).
_RADIOPHARMACEUTICAL = (
    "RadionuclideTotalDose", "RadionuclideHalfLife", "RadiopharmaceuticalStartTime",
)


def series_header(path: Path) -> dict[str, Any] | None:
    """The allow-listed tags of a DICOM series folder's first file (no pixels read).

    Parameters
    ----------
    path : Path
        The image: a DICOM series folder, or a file (which has no DICOM header to read).

    Returns
    -------
    dict or None
        Keyword -> value (str, float or list of float) for each tag of :data:`HEADER_TAGS`
        present and not empty; None for an image file.
    """
    path = Path(path)
    if not path.is_dir():
        return None
    series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(path))
    if not series:
        return None
    first = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(path), series[0])[0]
    import pydicom  # DICOM series only: an image file's extraction never imports it

    with warnings.catch_warnings():  # value-length warnings of real headers are not ours
        warnings.simplefilter("ignore")
        dataset = pydicom.dcmread(first, stop_before_pixels=True)
        found = {key: dataset.get(key) for key in HEADER_TAGS if key not in _RADIOPHARMACEUTICAL}
        sequence = dataset.get("RadiopharmaceuticalInformationSequence")
        if sequence:
            found.update({key: sequence[0].get(key) for key in _RADIOPHARMACEUTICAL})
        return {key: _plain(value) for key, value in found.items()
                if value is not None and str(value).strip() != ""}


def _plain(value: Any) -> Any:
    """A header value as str, float or list of float (pydicom's types left behind)."""
    import pydicom

    if isinstance(value, pydicom.multival.MultiValue):
        return [_plain(v) for v in value]
    if isinstance(value, (pydicom.valuerep.DSfloat, pydicom.valuerep.IS, float, int)):
        return float(value)
    return str(value).strip()

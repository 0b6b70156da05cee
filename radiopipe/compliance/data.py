"""The IBSI-1 data folder: both phantoms and the reference tables, checked and read.

The folder is laid out as the IBSI publishes it (https://github.com/theibsi/data_sets)::

    digital_phantom/nifti/image/phantom.nii.gz   digital_phantom/nifti/mask/mask.nii.gz
    ct_phantom/nifti/image/phantom.nii.gz        ct_phantom/nifti/mask/mask.nii.gz
    ct_phantom/dicom/image/ (a DICOM series)     ct_phantom/dicom/mask/ (its RTSTRUCT, ROI GTV-1)
    reference_values/ibsi_1_dig_phantom.csv      reference_values/ibsi_1_chest_config_{a..e}.csv
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.compliance.configs import CONFIGURATIONS
from radiopipe.compliance.reference import Reference, read_references
from radiopipe.errors import RadiopipeError
from radiopipe.io import Volume, read_image, read_rtstruct_mask

DIGITAL_PHANTOM = "digital phantom"
"""Name of the digital phantom among the reference sets (the CT configurations are 'A'..'E')."""
CT_PHANTOM = "CT phantom"

_PHANTOM_FILES = {
    DIGITAL_PHANTOM: "digital_phantom/nifti",
    CT_PHANTOM: "ct_phantom/nifti",
}
_IMAGE, _MASK = "image/phantom.nii.gz", "mask/mask.nii.gz"
CT_INPUTS = ("nifti", "dicom")
"""How the CT phantom is read: its NIfTI export, or its DICOM series with the RTSTRUCT."""
_CT_DICOM, _CT_ROI = "ct_phantom/dicom", "GTV-1"


@dataclass(frozen=True)
class Phantom:
    """An image and its ROI mask (boolean), both on the image's grid."""

    image: Volume
    mask: Volume


def reference_table_path(data_dir: Path, reference_set: str) -> Path:
    """The CSV of one reference set: ``DIGITAL_PHANTOM`` or a configuration name 'A'..'E'."""
    if reference_set == DIGITAL_PHANTOM:
        name = "dig_phantom"
    else:
        name = f"chest_config_{reference_set.lower()}"
    return Path(data_dir) / "reference_values" / f"ibsi_1_{name}.csv"


def required_files(data_dir: Path, ct_input: str = "nifti") -> list[Path]:
    """Every file (and, for ``ct_input='dicom'``, folder) the compliance run reads."""
    data_dir = Path(data_dir)
    folders = [f for w, f in _PHANTOM_FILES.items() if ct_input == "nifti" or w != CT_PHANTOM]
    phantoms = [data_dir / folder / part for folder in folders for part in (_IMAGE, _MASK)]
    if ct_input == "dicom":
        phantoms += [data_dir / _CT_DICOM / "image", data_dir / _CT_DICOM / "mask"]
    tables = [reference_table_path(data_dir, name) for name in (DIGITAL_PHANTOM, *CONFIGURATIONS)]
    return phantoms + tables


def check_data_folder(data_dir: Path, ct_input: str = "nifti") -> None:
    """Raise a RadiopipeError naming the first missing file of the IBSI data folder."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RadiopipeError(
            f"IBSI data folder {data_dir} not found: give the folder holding digital_phantom/, "
            "ct_phantom/ and reference_values/ (https://github.com/theibsi/data_sets)."
        )
    for path in required_files(data_dir, ct_input):
        if not path.exists():
            raise RadiopipeError(
                f"IBSI data file {path.relative_to(data_dir)} is missing from {data_dir}: the "
                "folder must hold the IBSI-1 phantoms and reference tables as "
                "https://github.com/theibsi/data_sets lays them out."
            )


def read_phantom(data_dir: Path, which: str, ct_input: str = "nifti") -> Phantom:
    """Read ``DIGITAL_PHANTOM`` or ``CT_PHANTOM``.

    Intensities are converted to float64 and rounded to the nearest integer, as the IBSI asks
    for the NIfTI version of the CT image; the mask is kept where its (rounded) label is > 0.
    With ``ct_input='dicom'`` the CT phantom is read from its DICOM series and the RTSTRUCT's
    ROI GTV-1, voxelised by :func:`radiopipe.io.read_rtstruct_mask`.
    """
    if which == CT_PHANTOM and ct_input == "dicom":
        series = Path(data_dir) / _CT_DICOM / "image"
        rtstruct = next(iter(sorted((Path(data_dir) / _CT_DICOM / "mask").glob("*.dcm"))))
        read = read_image(series, case_id="CT phantom")
        # Slice spacing derived from decimal positions (2.9999999999998 mm for 3 mm): rounded to
        # a micrometre, as the NIfTI export stores it, so that resampled grids align alike.
        read.SetSpacing(tuple(round(s, 3) for s in read.GetSpacing()))
        image = Volume.from_sitk(read)
        label = Volume.from_sitk(
            read_rtstruct_mask(rtstruct, read, series, _CT_ROI, case_id="CT phantom"))
    else:
        folder = Path(data_dir) / _PHANTOM_FILES[which]
        image = Volume.from_sitk(sitk.ReadImage(str(folder / _IMAGE)))
        label = Volume.from_sitk(sitk.ReadImage(str(folder / _MASK)))
    array = np.rint(image.array.astype(np.float64))
    mask = np.rint(label.array.astype(np.float64)) > 0
    return Phantom(
        Volume(array, image.spacing, image.origin, image.direction),
        Volume(mask, label.spacing, label.origin, label.direction),
    )


def read_reference_set(data_dir: Path, reference_set: str) -> list[Reference]:
    """The reference values (rows with a value) of the digital phantom or one configuration."""
    return read_references(reference_table_path(data_dir, reference_set))

"""The IBSI-2 data folder: digital phantoms and phase-1 reference response maps, read in
``(i, j, k)`` voxel order.

The folder is laid out as the IBSI publishes it
(https://github.com/theibsi/ibsi_2_reference_data)::

    digital_phantom/<name>/image/<name>.nii.gz
    reference_response_maps/<id>-ValidCRM.nii.gz      e.g. 2_b-ValidCRM.nii.gz

Arrays keep the NIfTI voxel order (x, y, z) = (i, j, k) and are never reoriented: the IBSI names
filters along those axes, and flipping one changes the sign of odd filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.compliance.ibsi2.configs import FilterConfiguration
from radiopipe.errors import RadiopipeError

MAPS = "reference_response_maps"


def phantom_path(data_dir: Path, phantom: str) -> Path:
    """The image of a digital phantom."""
    return Path(data_dir) / "digital_phantom" / phantom / "image" / f"{phantom}.nii.gz"


def map_path(data_dir: Path, configuration: FilterConfiguration) -> Path:
    """The reference response map of a configuration."""
    return Path(data_dir) / MAPS / configuration.map_name


def check_data_folder(data_dir: Path, configurations: Iterable[FilterConfiguration]) -> None:
    """Raise a RadiopipeError naming the first missing phantom or reference map."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RadiopipeError(
            f"IBSI-2 data folder {data_dir} not found: give the folder holding digital_phantom/ "
            f"and {MAPS}/ (https://github.com/theibsi/ibsi_2_reference_data).")
    for configuration in configurations:
        for path in (phantom_path(data_dir, configuration.phantom),
                     map_path(data_dir, configuration)):
            if not path.exists():
                raise RadiopipeError(
                    f"IBSI-2 data file {path.relative_to(data_dir)} is missing from {data_dir}: "
                    "the folder must hold the IBSI-2 digital phantoms and phase-1 reference "
                    "response maps as https://github.com/theibsi/ibsi_2_reference_data lays "
                    "them out.")


def read_voxels(path: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    """A NIfTI image as a float64 array in ``(i, j, k)`` order, and its spacing in mm."""
    image = sitk.ReadImage(str(path))
    array = sitk.GetArrayFromImage(image).astype(np.float64)
    return np.transpose(array, tuple(reversed(range(array.ndim)))), image.GetSpacing()

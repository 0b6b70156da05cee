"""The shared reference data of the tests: its folder, the IBSI-1 phantoms and reference tables,
and pyradiomics' test cases.

The data live outside the project, in ``../shared/data`` from the repository's root (see that
folder's README.md). A test that needs a folder of it and cannot find it skips with a reason that
names the folder; it never passes silently. IBSI-1 reference values are read with the project's
own parser (:mod:`radiopipe.compliance.reference`) and compared with its tolerance rule
(:meth:`~radiopipe.compliance.reference.Reference.passes`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from radiopipe.compliance.data import (
    CT_PHANTOM,
    DIGITAL_PHANTOM,
    Phantom,
    read_phantom,
    read_reference_set,
    reference_table_path,
)
from radiopipe.compliance.reference import Reference
from radiopipe.io import Volume
from radiopipe.preprocess.discretise import fixed_bin_size

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""``../shared/data`` from the repository's root."""


def close_to_pyradiomics(ours: float, reference: float) -> bool:
    """Whether a value equals pyradiomics' within relative 1e-6 (absolute 1e-9 near zero); NaN
    only equals NaN."""
    if math.isnan(ours) or math.isnan(reference):
        return math.isnan(ours) and math.isnan(reference)
    return abs(ours - reference) <= 1e-9 + 1e-6 * abs(reference)


def pyradiomics_differences(ours: dict, reference: dict) -> dict:
    """The features of ``reference`` whose value in ``ours`` is not pyradiomics' (see
    :func:`close_to_pyradiomics`): feature -> (ours, pyradiomics')."""
    return {k: (ours[k], v) for k, v in reference.items() if not close_to_pyradiomics(ours[k], v)}


def data_folder(*parts: str) -> Path:
    """A folder of the shared reference data, or skip the calling test.

    Parameters
    ----------
    *parts : str
        The folder's path below ``../shared/data``, e.g. ``"ibsi1"`` or ``"pyradiomics_cases"``.

    Returns
    -------
    Path
        The folder.
    """
    folder = SHARED_DATA.joinpath(*parts)
    if not folder.is_dir():
        pytest.skip(f"reference data folder {folder} is missing")
    return folder


def ibsi_phantom(which: str = DIGITAL_PHANTOM) -> Phantom:
    """An IBSI-1 phantom as the compliance run reads it, or skip the calling test.

    Parameters
    ----------
    which : str
        :data:`~radiopipe.compliance.data.DIGITAL_PHANTOM` or
        :data:`~radiopipe.compliance.data.CT_PHANTOM`.

    Returns
    -------
    Phantom
        The image (float64, rounded to integers) and its boolean ROI mask.
    """
    return read_phantom(data_folder("ibsi1"), which)


def ibsi_references(reference_set: str = DIGITAL_PHANTOM) -> dict[str, Reference]:
    """The IBSI-1 reference values of one table, by tag, or skip the calling test.

    Parameters
    ----------
    reference_set : str
        :data:`~radiopipe.compliance.data.DIGITAL_PHANTOM` or a CT configuration 'A'..'E'.

    Returns
    -------
    dict of str to Reference
        The rows with a reference value (the IBSI gives none for a few features).
    """
    return {
        reference.tag: reference
        for reference in read_reference_set(data_folder("ibsi1"), reference_set)
    }


def with_a_reference_value(
    tags: Iterable[tuple[str, str]], reference_set: str = DIGITAL_PHANTOM
) -> list[tuple[str, str]]:
    """The ``(IBSI tag, feature name)`` pairs whose tag has a reference value, for parametrising.

    Runs at collection, so it does not skip: without the reference data it keeps every pair, and
    the tests they parametrise skip instead.
    """
    tags = list(tags)
    ibsi = SHARED_DATA / "ibsi1"
    if not reference_table_path(ibsi, reference_set).is_file():
        return tags
    valued = {reference.tag for reference in read_reference_set(ibsi, reference_set)}
    return [(tag, name) for tag, name in tags if tag in valued]


def ibsi_failures(
    computed: dict[str, float],
    references: Iterable[Reference],
    names: dict[str, str],
    aggregation: str | None,
) -> tuple[int, dict[str, tuple[float, float]]]:
    """Compare one family's values with the references of one aggregation.

    Parameters
    ----------
    computed : dict of str to float
        The family's values by feature name.
    references : iterable of Reference
        A reference table; only the rows of ``aggregation`` whose stem ``names`` lists count.
    names : dict of str to str
        IBSI tag stem (``cm_contrast``) to feature name (``Contrast``).
    aggregation : str or None
        The IBSI aggregation suffix (``'3D_avg'``, ``'2D'``...), None for features without one.

    Returns
    -------
    checked : int
        How many reference values were compared.
    failures : dict of str to (float, float)
        Stem to (computed value, reference value) of each value outside the tolerance.
    """
    checked, failures = 0, {}
    for reference in references:
        if reference.aggregation != aggregation or reference.stem not in names:
            continue
        checked += 1
        value = computed[names[reference.stem]]
        if not reference.passes(value):
            failures[reference.stem] = (value, reference.value)
    return checked, failures


@cache
def ct_phantom_config_a() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The IBSI-1 CT phantom discretised as configuration A asks, or skip the calling test.

    Configuration A: no resampling, re-segmentation to [-500, 400] HU, a fixed bin size of 25 HU
    from -500 HU; the unsegmented mask is the morphological mask.

    Returns
    -------
    levels : numpy.ndarray
        Grey levels (int64) inside the re-segmented mask, 0 outside.
    mask : numpy.ndarray
        The re-segmented (intensity) mask.
    morphological : numpy.ndarray
        The ROI mask as given.
    n_levels : int
        Number of grey levels.
    """
    phantom = ibsi_phantom(CT_PHANTOM)
    image, morphological = phantom.image.array, phantom.mask.array
    mask = morphological & (image >= -500) & (image <= 400)
    discretised = fixed_bin_size(image[mask], 25.0, lower_bound=-500.0)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    return levels, mask, morphological, discretised.n_levels


@dataclass(frozen=True)
class PyradiomicsCase:
    """One of pyradiomics' test cases: an image and its expert lesion label map (label 1).

    Attributes
    ----------
    image_path, label_path : Path
        The two NRRD files.
    """

    image_path: Path
    label_path: Path

    def images(self) -> tuple[sitk.Image, sitk.Image]:
        """The image and its label map as SimpleITK images (each call gets its own)."""
        return sitk.Image(_read(self.image_path)), sitk.Image(_read(self.label_path))

    def arrays(self, *, crop: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The (z, y, x) image array, in its stored type, and the boolean lesion mask.

        Parameters
        ----------
        crop : bool
            Crop both to the lesion's bounding box, as pyradiomics does before its features.
        """
        image, label = self.images()
        array = sitk.GetArrayFromImage(image)
        mask = sitk.GetArrayFromImage(label) == 1
        if crop:
            box = tuple(slice(i.min(), i.max() + 1) for i in np.nonzero(mask))
            return array[box], mask[box]
        return array, mask

    def lesion_crop(self, slices: int, width: int) -> tuple[sitk.Image, sitk.Image]:
        """The image and label map cut around the lesion's median voxel: ``slices`` slices
        either side of it and a ``2 * width`` voxel square in-plane."""
        image, label = self.images()
        roi = sitk.GetArrayFromImage(label) == 1
        z, y, x = (int(np.median(axis)) for axis in np.nonzero(roi))
        box = (slice(z - slices, z + slices + 1), slice(y - width, y + width),
               slice(x - width, x + width))
        index = [b.start for b in reversed(box)]
        size = [b.stop - b.start for b in reversed(box)]
        return sitk.RegionOfInterest(image, size, index), sitk.RegionOfInterest(label, size, index)

    def volumes(self) -> tuple[Volume, Volume]:
        """The image and the boolean lesion mask as Volumes with their geometry."""
        image, label = (Volume.from_sitk(part) for part in self.images())
        return image, Volume(label.array == 1, label.spacing, label.origin, label.direction)


def pyradiomics_case(name: str) -> PyradiomicsCase:
    """One of pyradiomics' test cases, or skip the calling test.

    Parameters
    ----------
    name : str
        ``'brain1'``, ``'breast1'`` or ``'lung1'``.
    """
    folder = data_folder("pyradiomics_cases")
    return PyradiomicsCase(folder / f"{name}_image.nrrd", folder / f"{name}_label.nrrd")


@cache
def _read(path: Path) -> sitk.Image:
    return sitk.ReadImage(str(path))


STS_PATIENTS = tuple(f"STS_00{i}" for i in range(1, 6))
STS_MODALITIES = ("CT", "MR_T1", "PET")


@dataclass(frozen=True)
class DicomCase:
    """A DICOM series with its RTSTRUCT, and the IBSI's NIfTI voxelisation of the same contour.

    Attributes
    ----------
    series : Path
        The DICOM series folder.
    rtstruct : Path
        The structure set.
    roi : str
        The structure's name.
    nifti_image, nifti_mask : Path
        The IBSI's NIfTI export of the image and of the structure (the oracle).
    """

    series: Path
    rtstruct: Path
    roi: str
    nifti_image: Path
    nifti_mask: Path


def ct_phantom_dicom() -> DicomCase:
    """The IBSI-1 CT phantom as a DICOM series with its RTSTRUCT, or skip the calling test."""
    dicom = data_folder("ibsi1", "ct_phantom", "dicom")
    nifti = data_folder("ibsi1", "ct_phantom", "nifti")
    return DicomCase(dicom / "image", dicom / "mask" / "DCM_RS_00060.dcm", "GTV-1",
                     nifti / "image" / "phantom.nii.gz", nifti / "mask" / "mask.nii.gz")


def sts_dicom(patient: str, modality: str) -> DicomCase:
    """One STS series (``modality`` CT, MR_T1 or PET) with its RTSTRUCT, or skip."""
    dicom = data_folder("sts", "dicom", patient, modality)
    nifti = data_folder("sts", "nifti", patient)
    return DicomCase(dicom / "image", dicom / "mask" / "RS.dcm", f"GTV_Mass_{modality}",
                     nifti / f"{modality}_image.nii.gz", nifti / f"{modality}_mask.nii.gz")

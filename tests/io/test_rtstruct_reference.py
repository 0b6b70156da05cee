"""RTSTRUCT voxelisation against the IBSI's own NIfTI voxelisation of the same contours: the
IBSI-1 CT phantom and the 15 STS series (5 patients x CT, MR_T1, PET)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import STS_MODALITIES, STS_PATIENTS, DicomCase, ct_phantom_dicom, sts_dicom

from radiopipe.api import extract_case
from radiopipe.io import read_image, read_rtstruct_mask

pytestmark = pytest.mark.reference

CASES = [("ct_phantom", None)] + [(p, m) for p in STS_PATIENTS for m in STS_MODALITIES]


def _case(patient, modality) -> DicomCase:
    return ct_phantom_dicom() if modality is None else sts_dicom(patient, modality)


def _same_grid(a: sitk.Image, b: sitk.Image) -> bool:
    return (a.GetSize() == b.GetSize()
            and np.allclose(a.GetSpacing(), b.GetSpacing(), atol=1e-4)
            and np.allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-3)
            and np.allclose(a.GetDirection(), b.GetDirection(), atol=1e-6))


@pytest.mark.parametrize(("patient", "modality"), CASES)
def test_rtstruct_voxelisation_equals_the_ibsi_nifti_mask(patient, modality):
    case = _case(patient, modality)
    image = read_image(case.series, case_id=patient)
    mask = read_rtstruct_mask(case.rtstruct, image, case.series, case.roi, case_id=patient)
    oracle = sitk.ReadImage(str(case.nifti_mask))
    # The NIfTI export lies on the DICOM series' grid (origin and direction as SimpleITK reads
    # the series); compare voxel by voxel only there.
    assert _same_grid(image, oracle), (patient, modality)
    ours = sitk.GetArrayFromImage(mask).astype(bool)
    theirs = sitk.GetArrayFromImage(oracle) > 0
    dice = 2 * np.count_nonzero(ours & theirs) / (ours.sum() + theirs.sum())
    assert dice >= 0.99, f"{patient} {modality}: Dice {dice:.4f}"
    assert dice == 1.0, f"{patient} {modality}: Dice {dice:.6f} (was 1.0 on every series)"


@pytest.mark.parametrize(("patient", "modality"),
                         [("ct_phantom", None), ("STS_002", "PET"), ("STS_003", "MR_T1")])
def test_features_from_dicom_and_rtstruct_equal_those_from_the_nifti_twins(patient, modality):
    case = _case(patient, modality)
    from_dicom = extract_case(case.series, case.rtstruct, roi=case.roi)
    from_nifti = extract_case(case.nifti_image, case.nifti_mask)
    assert list(from_dicom.index) == list(from_nifti.index)
    # The PET NIfTI stores SUV as float32 (voxels within 2e-6 of the DICOM's), the NIfTI header
    # the spacing as float32: within 1e-6, relative to the value's size where it exceeds 1.
    scale = np.maximum(1.0, from_nifti.abs())
    worst = ((from_dicom - from_nifti).abs() / scale).sort_values(ascending=False)
    assert worst.iloc[0] <= 1e-6, worst.head()

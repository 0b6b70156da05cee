"""PET in SUV: the factor by hand from the real STS PET tags, and a clear refusal without them."""

from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from conftest import write_image
from reference_data import data_folder

from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.errors import CaseError
from radiopipe.io.modality import read_modality
from radiopipe.manifest import Case, CaseImage


def _copy_pet_series(target, **changes):
    """STS_001's PET series with header edits (None deletes a tag)."""
    source = data_folder("sts", "dicom", "STS_001", "PET", "image")
    target.mkdir(parents=True)
    for file in sorted(source.glob("*.dcm")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(file)
            for keyword, value in changes.items():
                if value is None:
                    delattr(dataset, keyword)
                else:
                    setattr(dataset, keyword, value)
            dataset.save_as(target / file.name)
    return target


def _read_pet(folder, features=None, mask=None):
    image = CaseImage("pet", folder, mask)
    case = Case(case_id="sts-001", image=folder, mask=mask, label="", patient_id="p",
                modalities=(image,))
    return read_modality(case, image, features or FeatureConfig(), DataConfig(manifest="m.csv"))


def test_suv_from_the_real_sts_pet_tags_equals_the_hand_computation(tmp_path):
    series = _copy_pet_series(tmp_path / "pet", Units="BQML", DecayCorrection="START")
    raw = sitk.GetArrayFromImage(sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(
        str(series))))
    # STS_001: 71.0 kg, 3.88777472e8 Bq of 18F (half life 6588 s) injected at 10:35:00, the
    # series started at 11:20:11, 2711 s later.
    decayed = 3.88777472e8 * 2 ** (-2711 / 6588)
    factor = 71.0 * 1000 / decayed
    assert factor == pytest.approx(2.4290e-4, rel=1e-4)
    suv = sitk.GetArrayFromImage(_read_pet(series).image)
    np.testing.assert_allclose(suv, raw * factor, rtol=1e-12)


def test_a_series_decay_corrected_to_the_injection_is_not_decayed_again(tmp_path):
    series = _copy_pet_series(tmp_path / "pet", Units="BQML")  # STS_001 is ADMIN
    raw = sitk.GetArrayFromImage(sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(
        str(series))))
    suv = sitk.GetArrayFromImage(_read_pet(series).image)
    np.testing.assert_allclose(suv, raw * 71.0 * 1000 / 3.88777472e8, rtol=1e-12)


def test_a_series_in_suv_already_is_kept(tmp_path):
    series = data_folder("sts", "dicom", "STS_001", "PET", "image")  # Units GML
    read = _read_pet(series)
    raw = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(series)))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(read.image),
                                  sitk.GetArrayFromImage(raw))


def test_missing_tags_are_refused_in_one_line_naming_the_case_and_the_fix(tmp_path):
    series = _copy_pet_series(tmp_path / "pet", Units="BQML", PatientWeight=None)
    with pytest.raises(CaseError) as caught:
        _read_pet(series)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("case 'sts-001': the pet image (DICOM folder) is in Bq/ml")
    assert "PatientWeight (0010,1030)" in message
    assert "features.modalities.pet.suv.patient_weight_kg" in message
    assert "units: suv" in message
    # The override is the fix.
    features = FeatureConfig(modalities={"pet": {"suv": {"patient_weight_kg": 71.0}}})
    assert _read_pet(series, features).image.GetPixelID() == sitk.sitkFloat64


def test_a_pet_file_without_tags_needs_its_units_said(tmp_path):
    path = write_image(tmp_path / "pet.nii.gz", np.ones((4, 4, 4), np.float32))
    with pytest.raises(CaseError, match=r"no Units \(0054,1001\) tag.*suv.units: suv"):
        _read_pet(path)
    precomputed = FeatureConfig(modalities={"pet": {"suv": {"units": "suv"}}})
    assert sitk.GetArrayFromImage(_read_pet(path, precomputed).image).sum() == 64

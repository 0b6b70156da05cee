"""Where a case's ROI lies: orientation labels from known direction matrices, the ROI centre in
mm, the modality and its intensity unit, and the locations file."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import sphere_mask, write_dicom_series, write_image

from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.explain.location import (
    axis_letters,
    case_location,
    edge_labels,
    intensity_unit,
    locate,
    read_locations,
    write_locations,
)
from radiopipe.manifest import Case, CaseImage

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
# Columns of the direction matrix: first index axis -> patient's left (+x), second -> inferior
# (-z), third -> anterior (-y): a coronal acquisition, seen from the front as viewers show it.
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, -1.0, 0.0)
DATA = DataConfig(manifest="manifest.csv")
FEATURES = FeatureConfig()


def _image(array, direction=IDENTITY, spacing=(0.5, 0.8, 2.0), origin=(-10.0, 20.0, 30.0)):
    image = sitk.GetImageFromArray(array)
    image.SetDirection(direction)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image


@pytest.mark.parametrize(("vector", "letters"), [
    ((1, 0, 0), "L"), ((-1, 0, 0), "R"), ((0, 1, 0), "P"), ((0, -1, 0), "A"),
    ((0, 0, 1), "S"), ((0, 0, -1), "I"),
    ((0.8, -0.6, 0), "LA"),  # oblique: both components named, the larger first
    ((0.98, 0.2, 0), "L"),  # a small tilt names the main axis only
])
def test_axis_letters_follow_lps(vector, letters):
    assert axis_letters(vector) == letters


def test_an_axial_slice_reads_like_a_radiological_view():
    # identity direction: columns run to the patient's left, rows to the posterior
    assert edge_labels(IDENTITY, 3) == ("A", "P", "R", "L")


def test_a_coronal_direction_matrix_gives_coronal_labels():
    # columns run to the patient's left, rows run inferior: head at the top
    assert edge_labels(CORONAL, 3) == ("S", "I", "R", "L")


def test_a_2d_image_gets_no_orientation():
    assert edge_labels((1.0, 0.0, 0.0, 1.0), 2) == ("", "", "", "")


def test_locate_picks_the_largest_cross_section_and_the_centre_in_mm():
    mask = np.zeros((6, 10, 12), dtype=np.uint8)
    mask[2, 3:5, 4:6] = 1  # 4 voxels
    mask[3, 2:6, 3:9] = 1  # 24 voxels: the largest slice
    image = _image(np.arange(mask.size, dtype=np.float32).reshape(mask.shape))
    item = locate(image, _image(mask))
    assert item.slice_index == 3 and item.n_slices == 6
    assert item.image.shape == (10, 12) and item.roi.sum() == 24
    assert item.spacing == (0.8, 0.5)  # (row, column)
    k, j, i = np.argwhere(mask).mean(axis=0)
    assert item.centre == pytest.approx((-10 + 0.5 * i, 20 + 0.8 * j, 30 + 2.0 * k))
    assert item.edges == ("A", "P", "R", "L")


def test_the_centre_follows_the_direction_matrix():
    mask = np.zeros((4, 4, 4), dtype=np.uint8)
    mask[1, 2, 3] = 1
    item = locate(_image(np.zeros((4, 4, 4), np.float32), CORONAL, (1.0, 1.0, 1.0), (0, 0, 0)),
                  _image(mask, CORONAL, (1.0, 1.0, 1.0), (0, 0, 0)))
    # index (i, j, k) = (3, 2, 1): x = i = 3, y = -k = -1, z = -j = -2
    assert item.centre == pytest.approx((3.0, -1.0, -2.0))
    assert item.edges == ("S", "I", "R", "L")


@pytest.mark.parametrize(("modality", "pet_units", "unit"), [
    ("CT", None, "HU"), ("ct", None, "HU"), ("MR", None, "a.u."), ("PET", None, "SUV"),
    ("PT", "BQML", "Bq/mL"), ("PT", "GML", "SUV"), ("PT", "CNTS", None), ("US", None, None),
    (None, None, None),
])
def test_intensity_units_by_modality(modality, pet_units, unit):
    assert intensity_unit(modality, pet_units) == unit


def test_a_dicom_ct_series_is_located_in_hounsfield_units(tmp_path):
    array = np.zeros((5, 12, 12), dtype=np.int16)
    write_dicom_series(tmp_path / "ct", array, "1.2.3.4", study_uid="1.2.3")
    mask = sphere_mask((5, 12, 12), radius=2.0)
    write_image(tmp_path / "mask.nrrd", mask)
    case = Case("c1", tmp_path / "ct", tmp_path / "mask.nrrd", "a", "p1")
    item = case_location(case, DATA, FEATURES)
    assert (item.modality, item.intensity_unit, item.length_unit) == ("CT", "HU", "mm")


def test_the_manifest_modality_wins_and_unknown_stays_unknown(tmp_path):
    write_image(tmp_path / "im.nrrd", np.zeros((5, 8, 8), np.float32))
    write_image(tmp_path / "mask.nrrd", sphere_mask((5, 8, 8), radius=2.0))
    plain = Case("c1", tmp_path / "im.nrrd", tmp_path / "mask.nrrd", "a", "p1")
    declared = Case("c2", tmp_path / "im.nrrd", tmp_path / "mask.nrrd", "a", "p1",
                    clinical={"modality": "pet"})
    assert case_location(plain, DATA, FEATURES).intensity_unit is None
    assert case_location(declared, DATA, FEATURES).intensity_unit == "SUV"


def test_a_picture_is_measured_in_pixels(tmp_path):
    picture = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 3)
    sitk.WriteImage(sitk.GetImageFromArray(picture), str(tmp_path / "skin.png"))
    case = Case("c1", tmp_path / "skin.png", None, "a", "p1")
    item = case_location(case, DATA, FEATURES)
    assert item.length_unit == "px" and item.n_slices == 1 and item.edges == ("",) * 4


def test_an_unreadable_case_has_no_location(tmp_path, caplog):
    case = Case("c1", tmp_path / "missing.nrrd", None, "a", "p1")
    assert case_location(case, DATA, FEATURES) is None
    assert "no case location" in caplog.text


def test_locations_round_trip(tmp_path):
    mask = np.zeros((3, 5, 7), dtype=np.uint8)
    mask[1, 1:3, 2:5] = 1
    item = locate(_image(np.random.default_rng(0).normal(size=mask.shape).astype(np.float32)),
                  _image(mask), modality="CT", unit="HU")
    back = read_locations(write_locations(tmp_path / "loc.parquet", {"a": item}))["a"]
    np.testing.assert_allclose(back.image, item.image, rtol=1e-6)
    np.testing.assert_array_equal(back.roi, item.roi)
    assert (back.slice_index, back.spacing, back.edges, back.modality, back.intensity_unit) == (
        item.slice_index, item.spacing, item.edges, "CT", "HU")
    assert back.centre == pytest.approx(item.centre)
    assert read_locations(write_locations(tmp_path / "none.parquet", {})) == {}


def test_a_multimodal_case_is_located_on_its_first_image_named_by_its_modality(tmp_path):
    pet = np.full((5, 12, 12), 2.5, np.float32)
    write_image(tmp_path / "pet.nrrd", pet)
    write_image(tmp_path / "mr.nrrd", np.zeros((10, 24, 24), np.float32), spacing=(0.5, 0.5, 0.5))
    write_image(tmp_path / "pet-mask.nrrd", sphere_mask((5, 12, 12), radius=2.0))
    write_image(tmp_path / "mr-mask.nrrd", sphere_mask((10, 24, 24), radius=4.0),
                spacing=(0.5, 0.5, 0.5))
    images = (CaseImage("pet", tmp_path / "pet.nrrd", tmp_path / "pet-mask.nrrd"),
              CaseImage("mr_t1", tmp_path / "mr.nrrd", tmp_path / "mr-mask.nrrd"))
    case = Case("c1", images[0].image, images[0].mask, "a", "p1", modalities=images)
    features = FeatureConfig(modalities={"pet": {"suv": {"units": "suv"}},
                                         "mr_t1": {"normalisation": {"method": "zscore"}}})
    item = case_location(case, DATA, features)
    assert (item.modality, item.intensity_unit, item.n_slices) == ("pet (PT)", "SUV", 5)
    mr_first = Case("c1", images[1].image, images[1].mask, "a", "p1", modalities=images[::-1])
    item = case_location(mr_first, DATA, features)
    assert (item.modality, item.intensity_unit) == ("mr_t1 (MR)", "zscore-normalised units")

"""configs/sts_lung_metastasis.yaml: the 51-patient lung-metastasis study (PET + MR per patient)
and the protocol it carries out (docs/studies/sts_lung_metastasis.md)."""

from __future__ import annotations

import pandas as pd
from conftest import REPO
from reference_data import data_folder

from radiopipe.columns import column_name, with_modality
from radiopipe.config import load_config
from radiopipe.models.inputs import matched_columns
from radiopipe.study import cohort_manifest

CONFIG = REPO / "configs" / "sts_lung_metastasis.yaml"


def test_the_study_cohort_is_every_patient_with_pet_and_mr_and_the_recorded_outcome():
    folder = data_folder("sts", "nifti")
    outcome = pd.read_csv(folder.parent / "lung_metastasis.csv")
    manifest = cohort_manifest(load_config(CONFIG))

    assert manifest.modalities == ("pet", "mr_t1")
    assert manifest.classes == ("free_of_lung_metastasis", "lung_metastasis")
    labels = {case.case_id: case.label for case in manifest.cases}
    expected = {row.patient_id: ("lung_metastasis" if row.lung_metastasis == 1
                                 else "free_of_lung_metastasis")
                for row in outcome.itertuples()}
    assert labels == expected
    assert len(labels) == 51 and sum(v == "lung_metastasis" for v in labels.values()) == 19
    for case in manifest.cases:
        assert [image.image.name for image in case.images] == ["PET_image.nii.gz",
                                                               "MR_T1_image.nii.gz"]
        assert all(image.image.parent.name == case.case_id for image in case.images)


def test_the_protocol_names_the_settings_the_config_uses():
    config = load_config(CONFIG).config
    protocol = (REPO / "docs" / "studies" / "sts_lung_metastasis.md").read_text("utf-8")
    pet = config.features.modalities["pet"].features
    mr = config.features.modalities["mr_t1"].features
    assert pet["bin_width"] == 0.5 and "fixed bin width 0.5 SUV" in protocol
    assert mr["bin_count"] == 32 and "fixed bin number, 32 bins" in protocol
    assert config.model.cv.n_repeats == 10 and config.model.cv.n_splits == 5
    assert "10 repeats of 5-fold" in protocol
    assert config.model.name == "logistic" and "elastic-net logistic regression" in protocol
    assert config.model.preprocessing.n_features == 10 and "mRMR selection of 10" in protocol


def test_the_protocols_comparisons_and_controls_are_configured():
    model = load_config(CONFIG).config.model
    sets = {s.name: s.columns for s in model.feature_sets}
    assert sets == {"volume": ["mr_t1__original__shape__MeshVolume"],
                    "suvmax": ["pet__original__firstorder__Maximum"],
                    "pet": ["pet__*"], "mr": ["mr_t1__*"],
                    "pet_mr_stable": ["pet__*", "mr_t1__*"]}
    # amendment 1: the main set's columns again, through the in-fold stability filter
    stable = next(s for s in model.feature_sets if s.name == "pet_mr_stable")
    assert stable.stability_threshold == 0.9 and model.preprocessing.stability_threshold is None
    assert model.controls.negative_images == ["shuffled_voxels", "random_roi"]
    # The patterns pick the columns a PET + MR extraction names, and nothing of the other image.
    columns = [with_modality(m, column_name(t, f, n)) for m in ("pet", "mr_t1")
               for t, f, n in (("original", "shape", "MeshVolume"),
                               ("original", "firstorder", "Maximum"),
                               ("log-sigma-4-0-mm-3D", "glcm", "Contrast"))]
    assert matched_columns(columns, "volume", sets["volume"]) == [
        "mr_t1__original__shape__MeshVolume"]
    assert matched_columns(columns, "suvmax", sets["suvmax"]) == [
        "pet__original__firstorder__Maximum"]
    assert all(c.startswith("pet__") for c in matched_columns(columns, "pet", sets["pet"]))
    assert len(matched_columns(columns, "mr", sets["mr"])) == 3
    assert model.controls.shuffled_labels == 5 and model.threshold == "youden_in_fold"
    assert model.cv.seeds == list(range(10))

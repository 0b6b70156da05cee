"""Multimodal cases: several images of one patient in one row, each with its own settings."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
from conftest import sphere_mask, write_config, write_image

from radiopipe.cli import main
from radiopipe.columns import column_modality, is_column
from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.errors import ManifestError
from radiopipe.io.modality import read_modality
from radiopipe.manifest import Case, CaseImage, read_manifest

MODALITIES = {
    "ct": {"features": {"bin_width": 25}},
    "pet": {"features": {"bin_width": 0.5}, "suv": {"units": "suv"}},
    "mr": {"features": {"bin_width": 0.25}, "normalisation": {"method": "zscore",
                                                               "region": "image"}},
}


def make_multimodal_cohort(folder, n_per_class=9, seed=0):
    """CT (HU), PET (SUV) and MR (arbitrary units) spheres per case; the PET uptake and the CT
    density differ between the classes, each case is its own patient but for pairs."""
    rng = np.random.default_rng(seed)
    mask = sphere_mask((12, 12, 12), 4.0)
    rows = []
    for k, label in enumerate(("low", "high")):
        for i in range(n_per_class):
            case_id = f"{label}-{i:02d}"
            row = {"case_id": case_id}
            means = {"ct": (40 + 30 * k, 15), "pet": (2 + 3 * k, 0.8), "mr": (700, 90)}
            for modality, (mean, sd) in means.items():
                image = rng.normal(mean, sd, mask.shape).astype(np.float32)
                write_image(folder / modality / f"{case_id}.nrrd", image)
                write_image(folder / modality / f"{case_id}-mask.nrrd", mask)
                row[f"image__{modality}"] = f"{modality}/{case_id}.nrrd"
                row[f"mask__{modality}"] = f"{modality}/{case_id}-mask.nrrd"
            rows.append({**row, "label": label, "patient_id": f"p{k}-{i // 2}"})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _config(tmp_path, manifest, **overrides):
    features = {"backend": "native", "families": ["firstorder", "glcm"], "bin_width": 10,
                "modalities": MODALITIES}
    return write_config(tmp_path, manifest, features=features, **overrides)


def test_a_multimodal_manifest_gives_each_case_its_images(tmp_path):
    manifest = read_manifest(make_multimodal_cohort(tmp_path / "cohort", n_per_class=3))
    assert manifest.modalities == ("ct", "pet", "mr")
    case = manifest.cases[0]
    assert [i.modality for i in case.images] == ["ct", "pet", "mr"]
    assert case.image == case.images[0].image


def test_a_manifest_with_image_and_image_columns_is_refused(tmp_path):
    path = tmp_path / "m.csv"
    write_image(tmp_path / "a.nrrd", np.zeros((4, 4, 4), np.float32))
    path.write_text("case_id,image,mask,image__ct,label,patient_id\n"
                    "a,a.nrrd,,a.nrrd,x,p\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="multimodal manifest names every image"):
        read_manifest(path)


def test_the_cnn_branch_refuses_a_multimodal_manifest_before_extracting(tmp_path, capsys):
    pytest.importorskip("torch", reason="torch (the cnn extra) not installed")
    manifest = make_multimodal_cohort(tmp_path / "cohort", n_per_class=2)
    features = {"backend": "native", "families": ["firstorder"], "bin_width": 10,
                "modalities": MODALITIES, "kind": "both"}
    config = write_config(tmp_path, manifest, features=features)
    assert main(["extract", str(config), "-q"]) == 2
    assert ("the CNN branch embeds one image per case, but manifest 'manifest.csv' has several "
            "(ct, pet, mr); set features.kind: radiomics") in capsys.readouterr().err
    assert not (tmp_path / "run" / "cases").exists()  # refused before any case was extracted


def test_a_multimodal_cohort_trains_reports_and_predicts_end_to_end(tmp_path, caplog):
    manifest = make_multimodal_cohort(tmp_path / "cohort")
    config = _config(tmp_path, manifest)
    assert main(["-q", "run", str(config)]) == 0
    out = tmp_path / "run"
    table = pd.read_parquet(out / "features.parquet")
    features = [c for c in table.columns if is_column(c)]
    assert {column_modality(c) for c in features} == {"ct", "pet", "mr"}
    assert "pet__original__glcm__Contrast" in features
    assert "acquisition__pet__spacing_x" in table.columns
    assert set(table["diagnostics__pet__modality"]) == {"PT"}
    # MR z-scored over the whole image: its mean is about 0 whatever the scanner's scale.
    assert abs(table["mr__original__firstorder__Mean"].mean()) < 0.5
    # PET in SUV with bin width 0.5, CT in HU with bin width 25: other grey-level counts.
    assert (table["pet__original__glcm__JointEntropy"]
            != table["ct__original__glcm__JointEntropy"]).all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Acquisition by modality" in report
    for modality in ("ct", "pet", "mr"):  # one panel per image on each case page
        assert f'alt="{modality} image of case' in report

    with caplog.at_level(logging.INFO, logger="radiopipe"):
        assert main(["run", str(config)]) == 0
    assert "extract: reused" in caplog.text

    new = tmp_path / "new"
    assert main(["-q", "predict", "--model", str(out / "model"), "--manifest", str(manifest),
                 "--out", str(new)]) == 0
    predictions = pd.read_csv(new / "predictions.csv")
    assert len(predictions) == 18 and predictions["predicted"].notna().all()
    page_dir = tmp_path / "page"
    assert main(["-q", "explain", "--model", str(out / "model"), "--manifest", str(manifest),
                 "--case", "high-03", "--out", str(page_dir)]) == 0
    page = (page_dir / "explain-high-03.html").read_text(encoding="utf-8")
    assert 'alt="pet image of case high-03"' in page


def test_combat_harmonises_by_an_acquisition_provenance_column():
    from radiopipe.config import ModelConfig
    from radiopipe.models.inputs import input_columns, model_inputs

    frame = pd.DataFrame({
        "case_id": ["a", "b", "c", "d"], "patient_id": ["1", "2", "3", "4"],
        "label": ["x", "y", "x", "y"], "site": [None] * 4,
        "diagnostics__ct__convolution_kernel": ["SOFT", "SOFT", "BONE", "BONE"],
        "ct__original__firstorder__Mean": [1.0, 2.0, 3.0, 4.0],
    })
    model = ModelConfig(preprocessing={"harmonise": "combat",
                                       "harmonise_by": "diagnostics__ct__convolution_kernel"})
    columns = input_columns(frame, model, "image")
    assert columns.site == "diagnostics__ct__convolution_kernel"
    inputs = model_inputs(frame, None, columns, ["x", "y"])
    assert inputs.X[columns.site].tolist() == ["SOFT", "SOFT", "BONE", "BONE"]
    with pytest.raises(ValueError, match="harmonise_by"):
        ModelConfig(preprocessing={"harmonise_by": "label"})


def _mr_case(tmp_path):
    rng = np.random.default_rng(1)
    image = rng.normal(500, 50, (10, 10, 10)).astype(np.float32)
    image[:, :, :3] = rng.normal(900, 30, (10, 10, 3))  # a bright reference region (fat)
    labels = np.zeros(image.shape, np.uint8)
    labels[3:7, 3:7, 4:8] = 1
    labels[:, :, :3] = 2
    write_image(tmp_path / "mr.nrrd", image)
    write_image(tmp_path / "mr-mask.nrrd", labels)
    item = CaseImage("mr", tmp_path / "mr.nrrd", tmp_path / "mr-mask.nrrd")
    case = Case(case_id="c1", image=item.image, mask=item.mask, label="", patient_id="p",
                modalities=(item,))
    return case, item, image, labels


@pytest.mark.parametrize("normalisation", [
    {"method": "zscore", "region": "roi"},
    {"method": "zscore", "region": "image"},
    {"method": "reference", "reference_label": 2},
])
def test_mr_normalisation_uses_the_mean_and_sd_of_its_region(tmp_path, normalisation):
    case, item, image, labels = _mr_case(tmp_path)
    features = FeatureConfig(modalities={"mr": {"normalisation": normalisation}})
    read = read_modality(case, item, features, DataConfig(manifest="m.csv"))
    region = {"roi": labels == 1, "image": np.ones(image.shape, bool)}.get(
        normalisation.get("region") if normalisation["method"] == "zscore" else None,
        labels == 2)
    expected = (image.astype(np.float64) - image[region].mean()) / image[region].std()
    np.testing.assert_allclose(sitk.GetArrayFromImage(read.image), expected, rtol=1e-5,
                               atol=1e-9)

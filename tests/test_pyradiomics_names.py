"""Feature table columns in pyradiomics' names and back: the whole catalogue, and real output."""

from __future__ import annotations

import pandas as pd
import pytest
from reference_data import pyradiomics_case

import radiopipe as rp
from radiopipe.backends import get_backend
from radiopipe.columns import column_name, with_modality
from radiopipe.config import FeatureConfig
from radiopipe.features.catalogue import load_catalogue
from radiopipe.io import read_image, read_mask
from radiopipe.pyradiomics_names import from_pyradiomics_name, to_pyradiomics_name

IMAGE_NAMES = ("original", "log-sigma-1-0-mm-3D", "log-sigma-2-5-mm-2D", "wavelet-LLH",
               "wavelet2-HHL", "wavelet-HL", "lbp-2D", "square", "squareroot", "logarithm",
               "exponential", "gradient", "ibsi_mean-support-5-3D-mirror",
               "laws-L5E5E5-ri-max-energy-7-3D-mirror", "ibsi_log-sigma-1-5-mm-cutoff-4-3D-mirror")
MODALITIES = (None, "ct", "pet", "mr_t1")


def _catalogue_columns():
    """(radiopipe column, its pyradiomics name, planar) of every catalogue feature on every
    image type, with and without a modality."""
    rows = []
    for family in load_catalogue().values():
        planar = family.family == "shape2d"
        name = "shape" if planar else family.family  # planar shape reports as 'shape'
        py_family = "shape2D" if planar else family.family
        for feature in family.features:
            for image in IMAGE_NAMES:
                for modality in MODALITIES:
                    column = with_modality(modality, column_name(image, name, feature.name))
                    prefix = f"{modality}_" if modality else ""
                    rows.append((column, f"{prefix}{image}_{py_family}_{feature.name}", planar))
    return rows


def test_every_catalogue_feature_maps_both_ways_and_back():
    rows = _catalogue_columns()
    assert len(rows) > 2000
    for column, expected, planar in rows:
        name = to_pyradiomics_name(column, planar=planar)
        assert name == expected
        assert from_pyradiomics_name(name) == column
        assert to_pyradiomics_name(from_pyradiomics_name(expected), planar=planar) == expected
    # pyradiomics' own names in the catalogue are the ones the mapping writes
    for family in load_catalogue().values():
        for feature in family.features:
            if feature.pyradiomics is not None:
                assert to_pyradiomics_name(f"original__{family.family}__{feature.name}") \
                    .endswith(f"_{feature.pyradiomics}")


def test_tables_are_renamed_and_other_columns_kept():
    columns = [c for c, _, planar in _catalogue_columns() if not planar]
    other = ["case_id", "patient_id", "label", "site", "image_sha256", "acquisition__spacing_x",
             "diagnostics__manufacturer", "diagnostics__pet__kvp", "clinical__age"]
    diagnostics = ["pyradiomics__diagnostics_Mask-original_VoxelNum",
                   "pyradiomics__pet__diagnostics_Versions_PyRadiomics"]
    table = pd.DataFrame([range(len(other + diagnostics + columns))],
                         columns=other + diagnostics + columns)
    renamed = rp.to_pyradiomics_names(table)
    assert list(renamed.columns[:len(other)]) == other
    assert list(renamed.columns[len(other):len(other) + 2]) == [
        "diagnostics_Mask-original_VoxelNum", "pet_diagnostics_Versions_PyRadiomics"]
    assert renamed.to_numpy().tolist() == table.to_numpy().tolist()
    back = rp.from_pyradiomics_names(renamed)
    pd.testing.assert_frame_equal(back, table)


def test_names_that_would_collide_are_refused():
    table = pd.DataFrame(columns=["original__glcm__Contrast", "original_glcm_Contrast"])
    with pytest.raises(ValueError, match="would both be named 'original__glcm__Contrast'"):
        rp.from_pyradiomics_names(table)


@pytest.mark.reference
def test_real_pyradiomics_output_on_brain1_maps_to_the_native_engines_columns():
    radiomics = pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) absent")
    from radiomics import featureextractor

    case = pyradiomics_case("brain1")
    radiomics.setVerbosity(40)
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=25, sigma=[1.0])
    extractor.disableAllFeatures()
    for family in ("firstorder", "shape", "glszm"):
        extractor.enableFeatureClassByName(family)
    extractor.disableAllImageTypes()
    for image_type in ("Original", "LoG", "Wavelet", "LBP2D", "SquareRoot"):
        extractor.enableImageTypeByName(image_type)
    raw = extractor.execute(str(case.image_path), str(case.label_path), label=1)
    features = [k for k in raw if not k.startswith("diagnostics_")]
    diagnostics = [k for k in raw if k.startswith("diagnostics_")]
    assert {"lbp-2D_glszm_ZoneEntropy", "wavelet-LLH_firstorder_Mean",
            "log-sigma-1-0-mm-3D_glszm_ZoneEntropy", "diagnostics_Mask-original_VoxelNum",
            "original_shape_Sphericity"} <= set(raw)

    image = read_image(case.image_path, case_id="brain1")
    mask = read_mask(case.label_path, image, case_id="brain1")
    native = get_backend("native").extract(image, mask, FeatureConfig(
        families=["firstorder", "shape", "glszm"], log_sigmas=[1.0],
        image_types=["original", "log", "wavelet", "lbp2d", "squareroot"]))
    assert sorted(from_pyradiomics_name(k) for k in features) == sorted(native)
    assert sorted(to_pyradiomics_name(c) for c in native) == sorted(features)
    for key in diagnostics:
        column = from_pyradiomics_name(key)
        assert column == f"pyradiomics__{key}"
        assert to_pyradiomics_name(column) == key

"""IBSI-2 filters named in a feature config (``features.ibsi_filters``): validation, image names,
extraction, the pyradiomics backend's refusal, the catalogue and the report's methods text."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import sphere_mask, write_image
from reference_data import data_folder

import radiopipe
from radiopipe.compliance.ibsi2.phase2 import PHASE_2, read_phase_2_references, run_phase_2
from radiopipe.config import FeatureConfig, load_config
from radiopipe.errors import ConfigError
from radiopipe.features.catalogue import ibsi_tag_index, load_image_types
from radiopipe.features.engine import extract_features
from radiopipe.filters.ibsi2.laws import LAWS_KERNELS
from radiopipe.filters.ibsi2.response import filter_spec, filter_volume
from radiopipe.image_types import IBSI2_IMAGE_TYPES, IMAGE_TYPES, image_type_of
from radiopipe.io import Volume
from radiopipe.report.glossary import feature_meaning
from radiopipe.report.methods import catalogue_rows, image_type_descriptions
from radiopipe.settings.ibsi_filters import IBSI_FILTER, IBSI_FILTER_TYPES, LAWS_1D

BASE = {"name": "t", "output_dir": "out", "data": {"builtin": "mni152_tissue"}}
LAWS = {"type": "laws", "kernel": "L5E5E5", "rotation_invariant": True, "energy_distance": 7}


def _error(tmp_path, entries, **features) -> str:
    path = tmp_path / "config.yaml"
    config = {**BASE, "features": {"ibsi_filters": entries, **features}}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


# --- validation ------------------------------------------------------------------------------


def test_an_unknown_type_lists_the_types(tmp_path):
    message = _error(tmp_path, [{"type": "lawz", "kernel": "L5E5E5"}])
    assert message.startswith("config.yaml: 'features.ibsi_filters.0' ")
    assert ("'ibsi_mean', 'ibsi_log', 'laws', 'gabor', 'ibsi_wavelet', 'simoncelli', 'riesz'"
            in message)


def test_a_wrong_boundary_names_the_key_and_the_modes(tmp_path):
    message = _error(tmp_path, [{**LAWS, "boundary": "reflect"}])
    assert message == (
        "config.yaml: 'features.ibsi_filters.0.laws.boundary' should be 'constant', 'nearest', "
        "'periodic' or 'mirror'; got 'reflect'")


def test_an_unknown_key_lists_the_filters_keys(tmp_path):
    assert _error(tmp_path, [{**LAWS, "sigma": 1.0}]) == (
        "config.yaml: unknown key 'features.ibsi_filters.0.laws.sigma'; allowed keys here: "
        "boundary, dims, energy_distance, kernel, pooling, rotation_invariant, type")


@pytest.mark.parametrize(("entry", "expected"), [
    ({**LAWS, "dims": 2}, "'kernel' 'L5E5E5' names 3 1D kernels; dims 2 needs 2"),
    ({**LAWS, "kernel": "L5X5E5"}, "'kernel' must join one 1D Laws kernel"),
    ({**LAWS, "pooling": "min"}, "'features.ibsi_filters.0.laws.pooling' should be 'max' or"),
    ({"type": "ibsi_mean", "support": 4}, "'support' must be an odd number of voxels"),
    ({"type": "gabor", "sigma": 5, "wavelength": 2, "gamma": 1.5},
     "give exactly one of 'orientations'"),
    ({"type": "gabor", "sigma": 5, "wavelength": 2, "gamma": 1.5, "orientation_step": 25},
     "'orientation_step' must divide 360 degrees"),
    ({"type": "ibsi_wavelet", "wavelet": "db3", "decomposition": "LH"},
     "'decomposition' 'LH' needs one letter L or H per filtered axis: 3 for dims 3"),
    ({"type": "ibsi_wavelet", "wavelet": "coiff1", "decomposition": "LLH"}, "did you mean 'coif1'"),
    ({"type": "riesz", "base": "log", "order": [1, 0, 0]}, "base 'log' takes 'sigma'"),
    ({"type": "riesz", "base": "simoncelli", "level": 1, "order": [0, 2]},
     "'order' needs one int per filtered axis: 3 for dims 3"),
])
def test_a_wrong_parameter_is_one_clear_error(tmp_path, entry, expected):
    message = _error(tmp_path, [entry])
    assert expected in message
    assert "\n" not in message


def test_the_same_filter_twice_is_an_error(tmp_path):
    assert "'ibsi_filters' lists the same filter twice: laws-L5E5E5-ri-max-energy-7-3D-mirror" in (
        _error(tmp_path, [LAWS, dict(LAWS)]))


def test_the_pyradiomics_backend_refuses_ibsi_filters(tmp_path):
    message = _error(tmp_path, [LAWS, {"type": "simoncelli"}], backend="pyradiomics")
    assert ("backend 'pyradiomics' does not support ibsi_filters laws, simoncelli; use backend "
            "'native'") in message


def test_pyradiomics_log_and_wavelet_keep_their_settings():
    settings = FeatureConfig(image_types=["original", "log", "wavelet"], ibsi_filters=[LAWS])
    assert (settings.log_sigmas, settings.wavelet) == ([1.0, 2.0, 3.0], "coif1")
    assert FeatureConfig().ibsi_filters == []


def test_laws_kernels_match_the_filters():
    assert set(LAWS_1D) == set(LAWS_KERNELS)


# --- image names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "name"), [
    ({"type": "ibsi_mean", "support": 5, "dims": 2}, "ibsi_mean-support-5-2D-mirror"),
    ({"type": "ibsi_log", "sigma": 1.5, "boundary": "constant"},
     "ibsi_log-sigma-1-5-mm-cutoff-4-3D-constant"),
    (LAWS, "laws-L5E5E5-ri-max-energy-7-3D-mirror"),
    ({"type": "laws", "kernel": "L5S5", "dims": 2, "boundary": "periodic"},
     "laws-L5S5-2D-periodic"),
    ({"type": "gabor", "sigma": 5, "wavelength": 2, "gamma": 1.5, "orientation_step": 22.5,
      "dims": 2}, "gabor-sigma-5-mm-wavelength-2-mm-gamma-1-5-step-22-5-deg-2D-mirror"),
    ({"type": "gabor", "sigma": 10, "wavelength": 4, "gamma": 0.5, "orientations": [60],
      "dims": 2, "boundary": "constant"},
     "gabor-sigma-10-mm-wavelength-4-mm-gamma-0-5-theta-60-deg-2D-constant"),
    ({"type": "ibsi_wavelet", "wavelet": "db3", "decomposition": "LLH", "rotation_invariant": True},
     "ibsi_wavelet-db3-LLH-level-1-ri-mean-3D-mirror"),
    ({"type": "simoncelli", "level": 2}, "simoncelli-level-2-3D"),
    ({"type": "riesz", "base": "log", "sigma": 3, "order": [1, 0, 0], "boundary": "constant"},
     "riesz-log-sigma-3-mm-order-1-0-0-3D-constant"),
    ({"type": "riesz", "base": "simoncelli", "level": 1, "order": [0, 2, 0],
      "boundary": "nearest"}, "riesz-simoncelli-level-1-order-0-2-0-3D-nearest"),
])
def test_image_names_encode_every_parameter(entry, name):
    validated = IBSI_FILTER.validate_python(entry)
    assert validated.image_name() == name
    assert image_type_of(name) == entry["type"]
    assert "__" not in name


def test_every_ibsi_filter_type_is_an_image_type():
    assert tuple(IBSI2_IMAGE_TYPES) == IBSI_FILTER_TYPES
    assert not set(IBSI2_IMAGE_TYPES) & set(IMAGE_TYPES)


# --- extraction ------------------------------------------------------------------------------


def _volume(array, spacing=(1.0, 1.0, 1.0)) -> Volume:
    identity = tuple(np.eye(len(spacing)).ravel())
    return Volume(array, spacing, (0.0,) * len(spacing), identity)


def _phantom():
    rng = np.random.default_rng(3)
    mask = sphere_mask((14, 14, 14), 5.0)
    image = rng.normal(100, 20, mask.shape) + 30 * mask
    return _volume(image), _volume(mask)


def test_the_native_engine_adds_columns_per_filter():
    image, mask = _phantom()
    entries = [LAWS, {"type": "ibsi_mean", "support": 3, "dims": 2},
               {"type": "simoncelli", "level": 1}]
    settings = FeatureConfig(families=["firstorder", "glcm"], ibsi_filters=entries)
    values = extract_features(image, mask, settings)
    prefixes = {column.split("__")[0] for column in values}
    assert prefixes == {"original", "laws-L5E5E5-ri-max-energy-7-3D-mirror",
                        "ibsi_mean-support-3-2D-mirror", "simoncelli-level-1-3D"}
    plain = extract_features(image, mask, FeatureConfig(families=["firstorder", "glcm"]))
    assert {k: v for k, v in values.items() if k.startswith("original__")} == plain
    # The columns are the filter's response over the whole image, cropped to the ROI.
    mean = filter_volume(image.array, filter_spec(IBSI_FILTER.validate_python(entries[1])),
                         image.spacing)
    expected = mean[mask.array.astype(bool)].mean()
    assert values["ibsi_mean-support-3-2D-mirror__firstorder__Mean"] == pytest.approx(expected)


def test_a_3d_filter_on_a_2d_image_and_anisotropic_voxels_are_case_errors():
    image, mask = _phantom()
    planar = _volume(image.array[7], (1.0, 1.0)), _volume(mask.array[7], (1.0, 1.0))
    with pytest.raises(ValueError, match="is 3D and the image has one slice; set dims: 2"):
        extract_features(*planar, FeatureConfig(ibsi_filters=[LAWS]))
    in_plane = {"type": "laws", "kernel": "L5E5", "dims": 2}
    values = extract_features(*planar, FeatureConfig(families=["firstorder"],
                                                     ibsi_filters=[in_plane]))
    assert "laws-L5E5-2D-mirror__firstorder__Mean" in values
    thick = _volume(image.array, (3.0, 1.0, 1.0)), _volume(mask.array, (3.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="needs isotropic voxels along its axes"):
        extract_features(*thick, FeatureConfig(ibsi_filters=[LAWS]))
    assert extract_features(*thick, FeatureConfig(families=["firstorder"],
                                                  ibsi_filters=[in_plane]))


def test_extract_case_reads_the_filters_from_a_config(tmp_path):
    image, mask = _phantom()
    image_path = write_image(tmp_path / "image.nrrd", image.array.astype(np.float32))
    mask_path = write_image(tmp_path / "mask.nrrd", mask.array)
    values = radiopipe.extract_case(image_path, mask_path, features={
        "families": ["firstorder"], "ibsi_filters": [{"type": "ibsi_log", "sigma": 2.0}]})
    assert "ibsi_log-sigma-2-mm-cutoff-4-3D-mirror__firstorder__Mean" in values.index


PROVEN = ("3.A", "4.A", "6.A")
"""Phase-2 filters (2D LoG, Laws, wavelet) run through a feature config."""


@pytest.mark.reference
def test_a_config_reproduces_the_phase_2_values_of_the_compliance_run():
    """IBSI-2 phase-2 filters 3.A (LoG), 4.A (Laws) and 6.A (wavelet) named in a feature config
    and extracted from the IBSI-1 CT phantom give the compliance run's values, bit for bit, and
    so the IBSI-2 reference values."""
    phantom = data_folder("ibsi1", "ct_phantom", "nifti")
    references = read_phase_2_references(data_folder("ibsi2"))
    entries = {c.id: c.entry for c in PHASE_2 if c.id in PROVEN}
    features = {"definitions": "ibsi", "families": ["firstorder"],
                "resegment_range": [-1000, 400],
                "ibsi_filters": [entries[i].model_dump() for i in PROVEN]}
    values = radiopipe.extract_case(phantom / "image" / "phantom.nii.gz",
                                    phantom / "mask" / "mask.nii.gz", features=features)
    compliance = run_phase_2(data_folder("ibsi2"), data_folder("ibsi1"), PROVEN)
    index = ibsi_tag_index()
    assert len(compliance) == sum(len(references[i]) for i in PROVEN) == 54
    for check in compliance:
        family, name = index[check.reference.tag]
        value = values[f"{entries[check.filter_id].image_name()}__{family}__{name}"]
        assert value == check.value, (check.filter_id, check.reference.tag)
        assert check.reference.passes(value), (check.filter_id, check.reference.tag, value)


# --- catalogue and report --------------------------------------------------------------------


def test_the_catalogue_lists_every_image_type_and_nothing_else():
    catalogue = load_image_types()
    assert set(catalogue) == set(IMAGE_TYPES) | set(IBSI2_IMAGE_TYPES)
    assert {n for n, e in catalogue.items() if e.source == "ibsi2"} == set(IBSI2_IMAGE_TYPES)
    for name, entry in catalogue.items():
        assert entry.unit in ("", "intensity"), name
    assert "energy_distance" in catalogue["laws"].parameters


FEATURES = {"image_types": ["original", "log"], "log_sigmas": [1.0, 2.0], "wavelet": "coif1",
            "ibsi_filters": [LAWS, {"type": "gabor", "sigma": 5, "wavelength": 2, "gamma": 1.5,
                                    "orientation_step": 22.5, "dims": 2}]}


def test_the_methods_text_names_each_filter_with_its_parameters():
    assert image_type_descriptions(FEATURES) == [
        "original",
        "Laplacian of Gaussian (sigma 1, 2 mm)",
        "IBSI-2 Laws L5E5E5, energy distance 7, rotation invariant (max pooling over 24 "
        "rotations), 3D, mirror padding (laws-L5E5E5-ri-max-energy-7-3D-mirror)",
        "IBSI-2 Gabor, sigma 5 mm, wavelength 2 mm, gamma 1.5, rotation invariant (average over "
        "16 orientations, step 22.5 degrees), 2D, mirror padding "
        "(gabor-sigma-5-mm-wavelength-2-mm-gamma-1-5-step-22-5-deg-2D-mirror)",
    ]


def test_catalogue_rows_name_the_image_of_each_feature():
    columns = ["original__firstorder__Mean", "log-sigma-1-0-mm-3D__glcm__Contrast",
               "laws-L5E5E5-ri-max-energy-7-3D-mirror__firstorder__Mean"]
    rows = catalogue_rows(columns, FEATURES).set_index("feature")
    assert rows.loc[columns[0], "image"] == "original (original)"
    assert rows.loc[columns[1], "image"] == "Laplacian of Gaussian (log-sigma-1-0-mm-3D)"
    assert rows.loc[columns[2], "image"] == (
        "IBSI-2 Laws L5E5E5, energy distance 7, rotation invariant (max pooling over 24 "
        "rotations), 3D, mirror padding")
    assert rows.loc[columns[2], "ibsi_id"] == rows.loc[columns[0], "ibsi_id"]


def test_the_glossary_names_the_filtered_image():
    meaning = feature_meaning("laws-L5E5E5-ri-max-energy-7-3D-mirror__firstorder__Mean")
    assert meaning.endswith(
        "Computed on the Laws kernel-filtered image (laws-L5E5E5-ri-max-energy-7-3D-mirror).")


def test_the_config_reference_example_is_a_valid_features_section():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "image_types.md").read_text(
        encoding="utf-8")
    example = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    settings = FeatureConfig.model_validate(example["features"])
    assert [e.type for e in settings.ibsi_filters] == ["ibsi_log", "laws", "ibsi_wavelet", "gabor"]
    documented = {c.id: c.entry for c in PHASE_2 if c.id in PROVEN}
    assert settings.ibsi_filters[:3] == [documented[i] for i in PROVEN]

"""The catalogue (features/*.yaml) and the implementations, held against each other both ways."""

from __future__ import annotations

from collections import Counter

import pytest

from radiopipe.features.catalogue import UNITS, load_catalogue
from radiopipe.features.registry import FAMILIES, SHAPE_2D

IMPLEMENTED = {**FAMILIES, SHAPE_2D.name: SHAPE_2D}


def test_every_family_has_a_catalogue_file_and_every_file_a_family():
    assert set(load_catalogue()) == set(IMPLEMENTED)


@pytest.mark.parametrize("family", sorted(IMPLEMENTED))
def test_catalogue_lists_exactly_the_features_the_code_outputs(family):
    assert load_catalogue()[family].names() == IMPLEMENTED[family].feature_names


def test_ibsi_tags_and_ids_are_unique():
    entries = [f for fam in load_catalogue().values() for f in fam.features]
    tags = Counter(f.ibsi_tag for f in entries if f.ibsi_tag)
    assert [t for t, n in tags.items() if n > 1] == []


def test_every_pyradiomics_feature_is_catalogued():
    """pyradiomics' own feature lists, read from its classes, all appear in the catalogue."""
    pytest.importorskip("radiomics", reason="pyradiomics (the reference extra) not installed")
    from radiomics import featureextractor

    classes = featureextractor.getFeatureClasses()
    catalogue = load_catalogue()
    names = {"shape2D": "shape2d"}
    for pyradiomics_family, cls in classes.items():
        expected = {name for name, deprecated in cls.getFeatureNames().items() if not deprecated}
        entries = catalogue[names.get(pyradiomics_family, pyradiomics_family)].features
        catalogued = {f.pyradiomics for f in entries if f.pyradiomics}
        assert expected <= catalogued, (pyradiomics_family, expected - catalogued)


@pytest.mark.parametrize("family", sorted(IMPLEMENTED))
def test_every_feature_the_code_outputs_has_a_meaning_and_a_unit(family):
    """Registry -> catalogue: each output has a plain-language sentence and a unit kind."""
    entries = {f.name: f for f in load_catalogue()[family].features}
    for name in IMPLEMENTED[family].feature_names:
        assert entries[name].meaning.endswith(".") and len(entries[name].meaning) >= 20, name
        assert entries[name].unit in UNITS, name


def test_every_meaning_belongs_to_an_implemented_feature_and_is_its_own():
    """Catalogue -> registry: no meaning for a feature the code lacks, none copied twice within
    a family."""
    for family, entry in load_catalogue().items():
        assert set(entry.names()) <= set(IMPLEMENTED[family].feature_names), family
        meanings = Counter(f.meaning for f in entry.features)
        assert [m for m, n in meanings.items() if n > 1] == [], family


def test_units_follow_what_a_feature_measures():
    catalogue = load_catalogue()
    units = {(family, f.name): f.unit for family, e in catalogue.items() for f in e.features}
    assert units[("shape", "MeshVolume")] == "mm^3"
    assert units[("shape", "SurfaceArea")] == "mm^2"
    assert units[("shape", "Maximum3DDiameter")] == "mm"
    assert units[("shape", "Sphericity")] == ""
    assert units[("shape2d", "Perimeter")] == "mm"
    assert units[("firstorder", "Mean")] == "intensity"
    assert units[("firstorder", "Energy")] == "intensity^2"
    assert units[("firstorder", "Skewness")] == ""
    # texture matrices count discretised grey levels: never a physical unit
    for family in ("glcm", "glrlm", "glszm", "gldm", "ngtdm", "gldzm", "ngldm",
                   "intensity_histogram"):
        assert {f.unit for f in catalogue[family].features} == {""}, family

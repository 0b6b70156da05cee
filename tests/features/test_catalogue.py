"""The catalogue (features/*.yaml) and the implementations, held against each other both ways."""

from __future__ import annotations

from collections import Counter

import pytest

from radiopipe.features.catalogue import load_catalogue
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

"""Feature meanings on hover, units per modality, the glossary appendix and the scale bar."""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pytest

from radiopipe.features.catalogue import load_catalogue
from radiopipe.features.registry import FAMILIES, SHAPE_2D
from radiopipe.report.glossary import (
    feature_meaning,
    feature_term,
    feature_unit,
    glossary_section,
)
from radiopipe.report.layout import table
from radiopipe.report.location_figure import scale_bar, zoom_box


def _every_column() -> list[str]:
    """A column of every feature the code outputs (planar shape reports as 'shape')."""
    columns = [f"original__{family}__{name}" for family, entry in FAMILIES.items()
               for name in entry.feature_names]
    return columns + [f"original__shape__{name}" for name in SHAPE_2D.feature_names]


def test_every_catalogued_feature_has_a_meaning_in_the_report():
    columns = _every_column()
    assert len(columns) == sum(len(e.features) for e in load_catalogue().values())
    for column in columns:
        assert feature_meaning(column), column


def test_a_feature_name_carries_its_meaning_as_a_tooltip():
    term = feature_term("original__glcm__Idmn")
    assert term.startswith('<span class="term" title="How similar neighbouring voxel')
    assert term.endswith(">GLCM Idmn (original)</span>")
    filtered = unescape(feature_term("wavelet-LLH__glcm__Idmn"))
    assert "Computed on the wavelet-filtered image (wavelet-LLH)." in filtered
    # columns the catalogue does not describe keep their plain (escaped) name
    assert feature_term("clinical__age<65") == "age&lt;65"
    assert "<td><span class=" in table(["feature"], [[term]])  # tables keep it as HTML
    assert "<td>&lt;span" in table(["feature"], [[str(term)]])  # plain strings are escaped


@pytest.mark.parametrize(("column", "unit", "expected"), [
    ("original__firstorder__Mean", "HU", "HU"),
    ("original__firstorder__Mean", "SUV", "SUV"),
    ("original__firstorder__Mean", "a.u.", "a.u."),
    ("original__firstorder__Variance", "HU", "HU²"),
    ("original__firstorder__TotalEnergy", "HU", "HU²·mm³"),
    ("original__shape__IntegratedIntensity", "SUV", "SUV·mm³"),
    ("original__firstorder__Mean", None, ""),  # unknown modality: no unit rather than a wrong one
    ("log-sigma-1-0-mm-3D__firstorder__Mean", "HU", ""),  # filtered: not HU any more
    ("original__firstorder__Skewness", "HU", ""),
    ("original__glcm__JointAverage", "HU", ""),  # grey-level indices
    ("original__shape__MeshVolume", None, "mm³"),
    ("original__shape__SurfaceVolumeRatio", "HU", "mm⁻¹"),
    ("original__shape__MeshSurface", None, "mm²"),  # planar shape reports as 'shape'
    ("original__shape__Sphericity", "HU", ""),
    ("clinical__age", "HU", ""),
])
def test_units_per_modality(column, unit, expected):
    assert feature_unit(column, intensity_unit=unit) == expected


def test_normalised_intensities_and_pictures():
    assert feature_unit("original__firstorder__Mean", intensity_unit="HU", normalized=True) == ""
    assert feature_unit("original__shape__MeshSurface", intensity_unit=None,
                        length_unit="px") == "px²"


def test_the_glossary_lists_each_used_feature_once_with_its_images():
    html = glossary_section(["original__glcm__Idmn", "wavelet-LLH__glcm__Idmn",
                             "original__shape__MeshVolume", "clinical__age"])
    rows = re.findall(r"<tr>(.*?)</tr>", html)[1:]
    assert len(rows) == 2
    assert "GLCM Idmn" in rows[0] and "original, wavelet-LLH" in rows[0]
    assert "mm³" in rows[1]
    assert 'id="glossary"' in html
    assert "no catalogued" in glossary_section(["clinical__age"])


@pytest.mark.parametrize(("width", "spacing", "length", "pixels"), [
    (40.0, 0.5, 10.0, 20.0),
    (100.0, 0.9765625, 20.0, 20.48),
    (7.0, 1.0, 1.0, 1.0),
    (3.0, 0.1, 0.5, 5.0),
    (400.0, 2.0, 100.0, 50.0),
])
def test_scale_bar_is_a_round_length_of_at_most_a_quarter_of_the_view(width, spacing, length,
                                                                        pixels):
    got_length, got_pixels = scale_bar(width, spacing)
    assert got_length == pytest.approx(length)
    assert got_pixels == pytest.approx(pixels)
    assert got_length <= width / 4


def test_the_zoomed_view_widens_the_roi_box_within_the_slice():
    roi = np.zeros((100, 80), dtype=bool)
    roi[40:60, 10:30] = True  # 20 x 20 pixels
    rows, columns = zoom_box(roi)
    assert (rows.start, rows.stop) == (30, 70)  # doubled around the centre
    assert (columns.start, columns.stop) == (0, 40)
    small = np.zeros((100, 80), dtype=bool)
    small[50, 50] = True
    rows, columns = zoom_box(small)
    assert 16 <= rows.stop - rows.start <= 17 and 16 <= columns.stop - columns.start <= 17
    assert rows.start <= 50 < rows.stop and columns.start <= 50 < columns.stop

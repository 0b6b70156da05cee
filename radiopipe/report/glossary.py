"""What a feature means and which unit its value has, from the feature catalogue.

Every feature name the report prints in its text and tables is a :func:`feature_term`: the
readable name with the catalogue's plain-language meaning as its tooltip (``title``). The
report's glossary appendix (:func:`glossary_section`) lists the features the report names, with
their meaning and unit, so the printed report carries them too.

Units (:func:`feature_unit`) come from the catalogue's unit kind and the case: lengths in the
image's length unit (mm), intensities in the modality's unit (HU for CT, SUV for PET, a.u. for
MR) for features of the original, unnormalised image only; everything else (filtered images,
grey-level indices, ratios, an unknown modality) gets no unit rather than a wrong one.
"""

from __future__ import annotations

from markupsafe import Markup

from radiopipe.columns import is_column, split_column
from radiopipe.features.catalogue import FeatureEntry, catalogue_entry
from radiopipe.image_types import image_type, image_type_of
from radiopipe.report.layout import feature_label, table
from radiopipe.report.templating import render

SECTION_ID = "glossary"
_SUPERSCRIPTS = {"^2": "²", "^3": "³", "^-1": "⁻¹"}


def catalogue_feature(column: str) -> FeatureEntry | None:
    """The catalogue entry behind a feature column (planar shape features report as 'shape')."""
    if not is_column(column):
        return None
    _, family, name = split_column(column)
    entry = catalogue_entry(family, name)
    if entry is None and family == "shape":
        entry = catalogue_entry("shape2d", name)
    return entry


def feature_meaning(column: str) -> str | None:
    """One sentence saying what the feature measures, and on which filtered image; None for
    columns the catalogue does not describe (clinical, CNN)."""
    entry = catalogue_feature(column)
    if entry is None:
        return None
    image_name = split_column(column)[0]
    kind = image_type_of(image_name)
    if kind is None or kind == "original":
        return entry.meaning
    label = image_type(kind).label
    return f"{entry.meaning} Computed on the {label}-filtered image ({image_name})."


def feature_term(column: str) -> Markup:
    """The readable feature name (escaped), its meaning on hover (a ``title`` tooltip)."""
    meaning = feature_meaning(column)
    if meaning is None:
        return Markup.escape(feature_label(column))
    return Markup('<span class="term" title="{}">{}</span>').format(meaning, feature_label(column))


def feature_unit(column: str, *, intensity_unit: str | None, length_unit: str = "mm",
                 normalized: bool = False) -> str:
    """The unit of a feature's value for a case ('' when it has none or it is unknown).

    Parameters
    ----------
    column : str
        The feature column.
    intensity_unit : str or None
        The unit of the case's image intensities (HU, SUV, a.u.); None when unknown.
    length_unit : str
        The unit of the image's spacing ('mm'; 'px' for pictures).
    normalized : bool
        Whether the features were computed on normalised intensities (``features.normalize``),
        which have no unit.

    Examples
    --------
    >>> feature_unit("original__shape__MeshVolume", intensity_unit=None)
    'mm³'
    >>> feature_unit("original__firstorder__Variance", intensity_unit="HU")
    'HU²'
    """
    entry = catalogue_feature(column)
    if entry is None or not entry.unit:
        return ""
    parts = entry.unit.split(" ")
    if parts[0].startswith("intensity"):
        original = image_type_of(split_column(column)[0]) == "original"
        if intensity_unit is None or normalized or not original:
            return ""
        parts[0] = parts[0].replace("intensity", intensity_unit)
    return _pretty("·".join(part.replace("mm", length_unit) for part in parts))


def _pretty(unit: str) -> str:
    """Powers as superscripts: 'mm^3' -> 'mm³'."""
    for power, superscript in _SUPERSCRIPTS.items():
        unit = unit.replace(power, superscript)
    return unit


def glossary_section(columns) -> Markup:
    """The appendix: every catalogued feature among ``columns``, once per family feature, with
    its meaning, unit kind and the images it was computed on.

    Parameters
    ----------
    columns : iterable of str
        The feature columns the model uses (its inputs), in the order to list them.
    """
    images: dict[tuple[str, str], list[str]] = {}
    entries: dict[tuple[str, str], FeatureEntry] = {}
    for column in dict.fromkeys(columns):
        entry = catalogue_feature(column)
        if entry is not None:
            image_name, family, name = split_column(column)
            images.setdefault((family, name), []).append(image_name)
            entries[(family, name)] = entry
    rows = [
        [Markup("<b>{}</b>").format(
            feature_label(f"original__{family}__{name}").rsplit(" (", 1)[0]),
         entries[(family, name)].meaning,
         _pretty(entries[(family, name)].unit.replace("intensity", "image intensity unit"))
         or "none",
         ", ".join(used)]
        for (family, name), used in images.items()
    ]
    return render("glossary.html.j2", section_id=SECTION_ID, n_features=len(rows),
                  table=table(["feature", "meaning", "unit", "computed on"], rows) if rows else "")

"""The feature catalogue: one YAML per family in the top-level ``features/`` folder.

Each entry gives a feature's output name, IBSI identifier and reference-table tag, pyradiomics
name, formula, parity tolerance, documented deviations, a one-sentence plain-language meaning (the
report's glossary and tooltips) and its unit kind (:data:`UNITS`; the report turns ``intensity``
into HU, SUV or a.u. from the case's modality). The catalogue is installed as the
package ``radiopipe.catalogue``; tests hold it and the implementations against each other.

``image_types.yaml`` beside the family files lists the image types the features are computed on
(pyradiomics' and the IBSI-2 filters), with the config keys that set each, a plain-language
meaning and the unit kind of the filtered image's values (:func:`load_image_types`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

# A feature's unit kind: "" for none (ratios, counts, grey-level indices), lengths in the image's
# spacing unit (mm), and "intensity" for the image's own intensity unit (HU for CT, ...).
Unit = Literal["", "mm", "mm^2", "mm^3", "mm^-1", "intensity", "intensity^2",
               "intensity mm^3", "intensity^2 mm^3"]
UNITS: tuple[str, ...] = Unit.__args__


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(_Strict):
    """Parity tolerance against pyradiomics: |a - b| <= absolute + relative * |b|."""

    relative: float = Field(ge=0)
    absolute: float = Field(ge=0)


class FeatureEntry(_Strict):
    """One feature of the catalogue."""

    name: str = Field(pattern=r"^[A-Za-z0-9]+$")
    ibsi_id: str | None = Field(None, pattern=r"^[0-9A-Z]{4}$")
    ibsi_tag: str | None = None
    pyradiomics: str | None = None
    formula: str
    tolerance: Tolerance
    deviations: str | None = None
    meaning: str = Field(min_length=20, pattern=r"^[A-Z].*\.$")
    unit: Unit


class FamilyEntry(_Strict):
    """One family file of the catalogue."""

    family: str
    ibsi_prefix: str | None
    description: str
    features: tuple[FeatureEntry, ...]

    def names(self) -> tuple[str, ...]:
        """Output names of the family's features, in catalogue order."""
        return tuple(f.name for f in self.features)


class ImageTypeEntry(_Strict):
    """One image type of the catalogue (``image_types.yaml``)."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    source: Literal["pyradiomics", "ibsi2"]
    parameters: str
    meaning: str = Field(min_length=20, pattern=r"^[A-Z].*\.$")
    unit: Unit


IMAGE_TYPES_FILE = "image_types.yaml"


def _catalogue_folder():
    """The catalogue beside this source tree (``features/`` of a checkout, so code and catalogue
    always match, even when another checkout is the one installed), or the installed package."""
    source = Path(__file__).resolve().parents[2] / "features"
    if (source / "firstorder.yaml").is_file():
        return source
    return resources.files("radiopipe.catalogue")


@cache
def load_catalogue() -> dict[str, FamilyEntry]:
    """Every family of the catalogue, by family name."""
    families = {}
    for item in sorted(_catalogue_folder().iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml") and item.name != IMAGE_TYPES_FILE:
            entry = FamilyEntry.model_validate(yaml.safe_load(item.read_text(encoding="utf-8")))
            families[entry.family] = entry
    return families


@cache
def load_image_types() -> dict[str, ImageTypeEntry]:
    """Every image type of the catalogue, by config name (or IBSI-2 filter type)."""
    text = (_catalogue_folder() / IMAGE_TYPES_FILE).read_text(encoding="utf-8")
    entries = (ImageTypeEntry.model_validate(e) for e in yaml.safe_load(text)["image_types"])
    return {entry.name: entry for entry in entries}


def catalogue_entry(family: str, name: str) -> FeatureEntry | None:
    """The catalogue entry of a family's feature, or None when the catalogue has no such
    feature."""
    entry = load_catalogue().get(family)
    if entry is None:
        return None
    return next((f for f in entry.features if f.name == name), None)


def ibsi_tag_index() -> dict[str, tuple[str, str]]:
    """IBSI reference-table tag stem -> (family, feature name)."""
    return {
        feature.ibsi_tag: (family.family, feature.name)
        for family in load_catalogue().values()
        for feature in family.features
        if feature.ibsi_tag
    }

"""A case's acquisition provenance, recorded beside its features as ``diagnostics__*`` columns:
modality, manufacturer, scanner model, kVp, slice thickness, pixel spacing, convolution kernel
and field strength, read from the allow-listed DICOM tags (:mod:`radiopipe.io.header`). They
describe the scanner, never the patient. The text columns can serve as ComBat's batch variable
(``model.preprocessing.harmonise_by``) and are summarised by modality in the report.
"""

from __future__ import annotations

from typing import Any

from radiopipe.columns import diagnostics_column

# column name -> header keyword; text values first, then numbers.
TEXT = {"modality": "Modality", "manufacturer": "Manufacturer", "model": "ManufacturerModelName",
        "convolution_kernel": "ConvolutionKernel"}
NUMBERS = {"kvp": "KVP", "slice_thickness": "SliceThickness", "pixel_spacing": "PixelSpacing",
           "field_strength": "MagneticFieldStrength"}
DIAGNOSTICS = (*TEXT, *NUMBERS)
# The DICOM modality of a configured kind, for images without a header.
KIND_MODALITY = {"ct": "CT", "pet": "PT", "mr": "MR"}
_MAX_TEXT = 64


def acquisition_diagnostics(header: dict[str, Any] | None, *, modality: str | None = None,
                            kind: str | None = None) -> dict[str, Any]:
    """The provenance columns of one image (with its modality in their names for a multimodal
    case); without a DICOM header only a multimodal image's kind gives its modality.

    Examples
    --------
    >>> acquisition_diagnostics({"Modality": "CT", "KVP": 120.0, "PixelSpacing": [0.7, 0.7]})
    {'diagnostics__modality': 'CT', 'diagnostics__kvp': 120.0, 'diagnostics__pixel_spacing': 0.7}
    >>> acquisition_diagnostics(None, modality="pet", kind="pet")
    {'diagnostics__pet__modality': 'PT'}
    """
    found: dict[str, Any] = {}
    header = header or {}
    for name, keyword in TEXT.items():
        value = header.get(keyword)
        if isinstance(value, list):  # a multi-valued kernel ('B30f', 'FC13')
            value = "/".join(str(v) for v in value)
        if value is not None:
            found[name] = str(value)[:_MAX_TEXT]
    if "modality" not in found and kind in KIND_MODALITY:
        found["modality"] = KIND_MODALITY[kind]
    for name, keyword in NUMBERS.items():
        value = header.get(keyword)
        if isinstance(value, list):  # row and column spacing: their mean
            value = sum(value) / len(value) if value else None
        if value is not None:
            found[name] = float(value)
    return {diagnostics_column(name, modality): found[name]
            for name in DIAGNOSTICS if name in found}

"""IBSI-2 phase 2: intensity statistics of filtered CT-phantom response maps.

The IBSI-1 lung CT phantom is processed as configuration A (2D, native grid) or B (3D,
resampled to 1 mm isotropic with a tricubic spline, intensities rounded, mask interpolated
trilinearly and kept at a partial volume >= 0.5); both re-segment the ROI to [-1000, 400] HU.
Re-segmentation trims only the mask: each filter runs on the whole prepared image, with mirror
boundaries (Fourier filters on the image as it is), and the 18 IBSI-1 intensity statistics are
computed by the native engine (``definitions: ibsi``) over the response voxels of the
re-segmented ROI, pooled over all slices. Filters act along (x, y, z): the prepared
``(z, y, x)`` array is transposed first, so the first letter of a kernel name acts along x and
2D filters act in the axial plane.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiopipe.columns import column_name
from radiopipe.compliance.data import CT_PHANTOM, read_phantom
from radiopipe.compliance.ibsi2.configs import FILTERS, FilterConfiguration
from radiopipe.compliance.reference import Reference
from radiopipe.config import FeatureConfig
from radiopipe.errors import RadiopipeError
from radiopipe.features.catalogue import ibsi_tag_index
from radiopipe.features.extract import compute_families, prepare_case

REFERENCE_TABLE = "reference_feature_values/reference_values.csv"
RESEGMENT_RANGE = [-1000.0, 400.0]
_IMAGE_NAME = "filtered"


def _f(id_, filter_, **parameters) -> FilterConfiguration:
    dims = 2 if id_.endswith("A") else 3
    boundary = None if filter_ in ("original", "simoncelli") else "mirror"
    return FilterConfiguration(id_, CT_PHANTOM, filter_, dims, boundary, parameters)


_GABOR = {"sigma_mm": 5.0, "wavelength_mm": 2.0, "gamma": 1.5, "theta_step": math.pi / 8}

PHASE_2: tuple[FilterConfiguration, ...] = (
    _f("1.A", "original"), _f("1.B", "original"),
    _f("2.A", "mean", support=5), _f("2.B", "mean", support=5),
    _f("3.A", "log", sigma_mm=1.5), _f("3.B", "log", sigma_mm=1.5),
    _f("4.A", "laws", kernel="L5E5", rotation_invariant=True, energy_distance=7),
    _f("4.B", "laws", kernel="L5E5E5", rotation_invariant=True, energy_distance=7),
    _f("5.A", "gabor", **_GABOR), _f("5.B", "gabor", **_GABOR),
    _f("6.A", "wavelet", wavelet="db3", band="LH", level=1, rotation_invariant=True),
    _f("6.B", "wavelet", wavelet="db3", band="LLH", level=1, rotation_invariant=True),
    _f("7.A", "wavelet", wavelet="db3", band="HH", level=2, rotation_invariant=True),
    _f("7.B", "wavelet", wavelet="db3", band="HHH", level=2, rotation_invariant=True),
    _f("8.A", "simoncelli", level=1), _f("8.B", "simoncelli", level=1),
    _f("9.A", "simoncelli", level=2), _f("9.B", "simoncelli", level=2),
)
"""The phase-2 filters 1.A-9.B; ids ending in A use configuration A, in B configuration B."""


@dataclass(frozen=True)
class FeatureCheck:
    """One phase-2 reference value and radiopipe's value for it."""

    filter_id: str
    reference: Reference
    value: float | None

    @property
    def passed(self) -> bool:
        """Whether radiopipe's value lies within the reference's tolerance."""
        return self.value is not None and self.reference.passes(self.value)


def processing_settings(configuration: str) -> FeatureConfig:
    """Feature settings of phase-2 configuration 'A' or 'B' (intensity statistics only).

    Examples
    --------
    >>> processing_settings("B").resampled_spacing
    [1.0, 1.0, 1.0]
    """
    common = {"definitions": "ibsi", "image_types": ["original"], "families": ["firstorder"],
              "resegment_range": RESEGMENT_RANGE}
    if configuration == "A":
        return FeatureConfig(**common)
    return FeatureConfig(**common, resampled_spacing=[1.0, 1.0, 1.0], grid_alignment="ibsi",
                         interpolator="bspline", round_resampled=True)


def reference_table(data_dir: Path | str) -> Path:
    """The phase-2 reference table of ``data_dir``; a RadiopipeError names it when missing."""
    path = Path(data_dir) / REFERENCE_TABLE
    if not path.exists():
        raise RadiopipeError(
            f"IBSI-2 data file {REFERENCE_TABLE} is missing from {data_dir}: the folder must "
            "hold the phase-2 reference values as https://github.com/theibsi/"
            "ibsi_2_reference_data lays them out.")
    return path


def read_phase_2_references(data_dir: Path | str) -> dict[str, list[Reference]]:
    """Reference values by filter id, rows without a consensus value skipped."""
    path = reference_table(data_dir)
    found: dict[str, list[Reference]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if not row["consensus_value"].strip():
                continue
            tag = row["feature_tag"].strip()
            found[row["filter_id"].strip()].append(Reference(
                tag=tag, stem=tag, aggregation=None, value=float(row["consensus_value"]),
                tolerance=float(row["tolerance"] or 0.0)))
    return found


def filter_statistics(prepared, settings: FeatureConfig,
                      configuration: FilterConfiguration) -> dict[str, float]:
    """IBSI tag -> value of the intensity statistics of one filter's response in the ROI."""
    spacing = prepared.image.spacing  # (z, y, x)
    planar = spacing[1:] if configuration.dims == 2 else spacing
    if max(planar) - min(planar) > 1e-6:
        raise ValueError(f"Filter {configuration.id} needs isotropic voxels along its axes. "
                         f"Got spacing {spacing} (z, y, x) instead.")
    image = np.transpose(prepared.image.array.astype(np.float64))  # (x, y, z)
    response = np.transpose(FILTERS[configuration.filter](image, configuration, spacing[-1]))
    values = compute_families(_IMAGE_NAME, response[prepared.region], prepared, settings,
                              families=["firstorder"])
    index = ibsi_tag_index()
    return {tag: values[column_name(_IMAGE_NAME, family, name)]
            for tag, (family, name) in index.items() if tag.startswith("stat_")}


def run_phase_2(data_dir: Path | str, ibsi1_dir: Path | str,
                filter_ids: tuple[str, ...] | None = None) -> tuple[FeatureCheck, ...]:
    """Every phase-2 reference value against radiopipe's, in filter-id and table order.

    Parameters
    ----------
    data_dir : path
        The IBSI-2 folder (reference values).
    ibsi1_dir : path
        The IBSI-1 folder (the CT phantom).
    filter_ids : tuple of str, optional
        The filter ids to run (default all 1.A-9.B).
    """
    references = read_phase_2_references(data_dir)
    phantom = read_phantom(Path(ibsi1_dir), CT_PHANTOM)
    prepared_by = {}
    checks = []
    for configuration in PHASE_2:
        if filter_ids is not None and configuration.id not in filter_ids:
            continue
        letter = configuration.id[-1]
        settings = processing_settings(letter)
        if letter not in prepared_by:
            prepared_by[letter] = prepare_case(phantom.image, phantom.mask, settings)
        values = filter_statistics(prepared_by[letter], settings, configuration)
        checks += [FeatureCheck(configuration.id, r, values.get(r.tag))
                   for r in references[configuration.id]]
    return tuple(checks)

"""IBSI-2 phase 2: intensity statistics of filtered CT-phantom response maps.

The IBSI-1 lung CT phantom is processed as configuration A (2D, native grid) or B (3D,
resampled to 1 mm isotropic with a tricubic spline, intensities rounded, mask interpolated
trilinearly and kept at a partial volume >= 0.5); both re-segment the ROI to [-1000, 400] HU.
Re-segmentation trims only the mask: each filter runs on the whole prepared image, with mirror
boundaries (Fourier filters on the image as it is), and the 18 IBSI-1 intensity statistics are
computed by the native engine (``definitions: ibsi``) over the response voxels of the
re-segmented ROI, pooled over all slices. Filters act along (x, y, z): the prepared
``(z, y, x)`` array is transposed first, so the first letter of a kernel name acts along x and
2D filters act in the axial plane. Each filter is written as the ``features.ibsi_filters`` entry
a user would configure, and computed by the same ``filter_spec`` and ``filter_volume`` calls as
the extraction's, so a feature config naming these entries reproduces these values.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from radiopipe.columns import column_name
from radiopipe.compliance.data import CT_PHANTOM, read_phantom
from radiopipe.compliance.reference import Reference
from radiopipe.config import FeatureConfig
from radiopipe.errors import RadiopipeError
from radiopipe.features.catalogue import ibsi_tag_index
from radiopipe.features.extract import compute_families, prepare_case
from radiopipe.filters.ibsi2.response import FilterSpec, filter_spec, filter_volume
from radiopipe.settings.ibsi_filters import IBSI_FILTER, IBSIFilter

REFERENCE_TABLE = "reference_feature_values/reference_values.csv"
RESEGMENT_RANGE = [-1000.0, 400.0]
_IMAGE_NAME = "filtered"


@dataclass(frozen=True)
class Phase2Filter:
    """One phase-2 filter: its IBSI id and the ``features.ibsi_filters`` entry that computes it
    (None for the original image, 1.A and 1.B)."""

    id: str
    entry: IBSIFilter | None

    @property
    def dims(self) -> int:
        """2 for the ids ending in A (configuration A), 3 for B."""
        return 2 if self.id.endswith("A") else 3

    @property
    def filter(self) -> str:
        """The entry's type, or ``original``."""
        return "original" if self.entry is None else self.entry.type

    @property
    def spec(self) -> FilterSpec:
        """The filter as ``radiopipe.filters.ibsi2.response`` computes it."""
        if self.entry is None:
            return FilterSpec("original", self.dims, None)
        return filter_spec(self.entry)

    def describe(self) -> str:
        """The parameters in prose (the entry's ``describe``)."""
        return f"{self.dims}D" if self.entry is None else self.entry.describe()


def _f(id_: str, type_: str | None = None, **parameters) -> Phase2Filter:
    if type_ is None:
        return Phase2Filter(id_, None)
    dims = 2 if id_.endswith("A") else 3
    return Phase2Filter(id_, IBSI_FILTER.validate_python({"type": type_, "dims": dims,
                                                          **parameters}))


_GABOR = {"sigma": 5.0, "wavelength": 2.0, "gamma": 1.5, "orientation_step": 22.5}
_RI = {"rotation_invariant": True}

PHASE_2: tuple[Phase2Filter, ...] = (
    _f("1.A"), _f("1.B"),
    _f("2.A", "ibsi_mean", support=5), _f("2.B", "ibsi_mean", support=5),
    _f("3.A", "ibsi_log", sigma=1.5), _f("3.B", "ibsi_log", sigma=1.5),
    _f("4.A", "laws", kernel="L5E5", **_RI, energy_distance=7),
    _f("4.B", "laws", kernel="L5E5E5", **_RI, energy_distance=7),
    _f("5.A", "gabor", **_GABOR), _f("5.B", "gabor", **_GABOR),
    _f("6.A", "ibsi_wavelet", wavelet="db3", decomposition="LH", level=1, **_RI),
    _f("6.B", "ibsi_wavelet", wavelet="db3", decomposition="LLH", level=1, **_RI),
    _f("7.A", "ibsi_wavelet", wavelet="db3", decomposition="HH", level=2, **_RI),
    _f("7.B", "ibsi_wavelet", wavelet="db3", decomposition="HHH", level=2, **_RI),
    _f("8.A", "simoncelli", level=1), _f("8.B", "simoncelli", level=1),
    _f("9.A", "simoncelli", level=2), _f("9.B", "simoncelli", level=2),
)
"""The phase-2 filters 1.A-9.B as ``features.ibsi_filters`` entries (mirror padding, the
default); ids ending in A use configuration A (2D filters), in B configuration B (3D)."""


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
                      configuration: Phase2Filter) -> dict[str, float]:
    """IBSI tag -> value of the intensity statistics of one filter's response in the ROI.

    The filter runs through ``filter_volume``, as a ``features.ibsi_filters`` entry does in
    the extraction."""
    response = filter_volume(prepared.image.array, configuration.spec, prepared.image.spacing)
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

"""The IBSI-2 phase-1 compliance run: every configuration's response map against its reference.

A map passes when every voxel lies within 1 % of the reference map's range
(``max(ref) - min(ref)``) of the reference, the rule of the IBSI-2 reference data. A
configuration whose filter radiopipe lacks counts as not passed, so the total is always the
number of reference maps (33).

Examples
--------
>>> report = run_filter_compliance("../shared/data/ibsi2")  # doctest: +SKIP
>>> f"{report.n_passed}/{len(report.checks)}"  # doctest: +SKIP
'33/33'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiopipe.compliance.data import check_data_folder as check_ibsi1_folder
from radiopipe.compliance.ibsi2.configs import PHASE_1, FilterConfiguration
from radiopipe.compliance.ibsi2.data import (
    check_data_folder,
    map_path,
    phantom_path,
    read_voxels,
)
from radiopipe.compliance.ibsi2.phase2 import FeatureCheck, reference_table, run_phase_2
from radiopipe.filters.ibsi2.response import FILTERS, filter_response

TOLERANCE = 0.01
"""Allowed voxel difference as a fraction of the reference map's range."""
NOT_IMPLEMENTED = "filter not implemented"


@dataclass(frozen=True)
class MapCheck:
    """One configuration's response map against its reference map.

    Attributes
    ----------
    configuration : FilterConfiguration
    error : float or None
        ``max |response - reference| / (max(reference) - min(reference))``; None where the
        filter was not run.
    reason : str or None
        Why no response was computed (``NOT_IMPLEMENTED``).
    """

    configuration: FilterConfiguration
    error: float | None
    reason: str | None = None

    @property
    def passed(self) -> bool:
        """Whether every voxel lies within the tolerance."""
        return self.error is not None and self.error <= TOLERANCE


@dataclass(frozen=True)
class FilterComplianceReport:
    """Every map check of a phase-1 run, in IBSI order, and the phase-2 checks where run.

    Attributes
    ----------
    checks : tuple of MapCheck
        Phase 1, one per reference map.
    phase_2 : tuple of FeatureCheck
        Phase 2, one per reference value; empty when phase 2 was not run.
    """

    checks: tuple[MapCheck, ...]
    phase_2: tuple[FeatureCheck, ...] = ()

    @property
    def n_passed(self) -> int:
        """Number of maps that passed."""
        return sum(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[MapCheck, ...]:
        """The maps that did not pass (filter missing included)."""
        return tuple(check for check in self.checks if not check.passed)

    @property
    def phase_2_failures(self) -> tuple[FeatureCheck, ...]:
        """The phase-2 values outside their tolerance."""
        return tuple(check for check in self.phase_2 if not check.passed)


def relative_error(response: np.ndarray, reference: np.ndarray) -> float:
    """Largest voxel difference over the reference's range.

    Examples
    --------
    >>> relative_error(np.array([0.0, 2.1]), np.array([0.0, 2.0]))  # doctest: +ELLIPSIS
    0.05...
    """
    spread = float(reference.max() - reference.min())
    return float(np.abs(response - reference).max()) / spread


def check_configuration(data_dir: Path, configuration: FilterConfiguration) -> MapCheck:
    """Filter the configuration's phantom and compare the response with the reference map."""
    if configuration.filter not in FILTERS:
        return MapCheck(configuration, None, NOT_IMPLEMENTED)
    image, spacing = read_voxels(phantom_path(data_dir, configuration.phantom))
    reference, _ = read_voxels(map_path(data_dir, configuration))
    # The phantoms are isotropic (2 mm); lengths in mm are divided by that spacing.
    response = filter_response(image, configuration.spec, spacing[0])
    return MapCheck(configuration, relative_error(response, reference))


def run_filter_compliance(
    data_dir: Path | str, configurations: Sequence[FilterConfiguration] = PHASE_1, *,
    ct_phantom: Path | str | None = None,
) -> FilterComplianceReport:
    """Run IBSI-2 phase 1: every configuration against its reference response map; and phase 2
    when the IBSI-1 folder holding the CT phantom is given.

    Parameters
    ----------
    data_dir : path
        Folder holding ``digital_phantom/``, ``reference_response_maps/`` and (for phase 2)
        ``reference_feature_values/`` as the IBSI publishes them.
    configurations : sequence of FilterConfiguration
        Which configurations to check (default: all 33 with a reference map).
    ct_phantom : path, optional
        The IBSI-1 data folder (``ct_phantom/``); phase 2 runs only when given.

    Returns
    -------
    FilterComplianceReport

    Raises
    ------
    RadiopipeError
        When the folder lacks a phantom or reference map (the message names it).
    """
    data_dir = Path(data_dir)
    check_data_folder(data_dir, configurations)
    if ct_phantom is not None:
        reference_table(data_dir)
        check_ibsi1_folder(Path(ct_phantom))
    phase_1 = tuple(check_configuration(data_dir, c) for c in configurations)
    phase_2 = () if ct_phantom is None else run_phase_2(data_dir, ct_phantom)
    return FilterComplianceReport(phase_1, phase_2)

"""The IBSI-1 compliance run: every reference value radiopipe computes, against the tables.

Reference sets are the digital phantom and the CT phantom's configurations A-E. For each, every
row of its table that has a reference value becomes a :class:`Check`: the diagnostic
(image-processing) tags, morphology, local intensity, statistics, intensity histogram,
intensity-volume histogram and every texture family at every aggregation the table lists. A
reference radiopipe does not compute counts as a failure, so the total is always the table's.

Examples
--------
>>> report = run_compliance("../shared/data/ibsi1")  # doctest: +SKIP
>>> f"{report.n_passed}/{len(report.checks)}"  # doctest: +SKIP
'2104/2104'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from radiopipe.compliance.compute import feature_tags
from radiopipe.compliance.configs import CONFIGURATIONS, feature_settings
from radiopipe.compliance.data import (
    CT_INPUTS,
    CT_PHANTOM,
    DIGITAL_PHANTOM,
    Phantom,
    check_data_folder,
    read_phantom,
    read_reference_set,
)
from radiopipe.compliance.diagnostics import diagnostic_tags
from radiopipe.compliance.reference import Reference
from radiopipe.features.catalogue import load_catalogue
from radiopipe.features.extract import prepare_case

REFERENCE_SETS = (DIGITAL_PHANTOM, *CONFIGURATIONS)
"""The digital phantom, then configurations 'A'..'E', in table order."""

DIAGNOSTICS = "diagnostics"
_DIAGNOSTIC_TAG = re.compile(r"_(init|interp|reseg)_(img|roi)$")


@dataclass(frozen=True)
class Check:
    """One reference value and radiopipe's value for it.

    Attributes
    ----------
    reference_set : str
        ``DIGITAL_PHANTOM`` or a configuration name 'A'..'E'.
    family : str
        radiopipe family of the tag (``'glcm'``), or ``DIAGNOSTICS`` for image-processing tags.
    reference : Reference
    value : float or None
        radiopipe's value; None where radiopipe does not compute the tag.
    """

    reference_set: str
    family: str
    reference: Reference
    value: float | None

    @property
    def passed(self) -> bool:
        """Whether radiopipe's value lies within the reference's tolerance."""
        return self.value is not None and self.reference.passes(self.value)


@dataclass(frozen=True)
class ComplianceReport:
    """Every check of a compliance run, in reference-set and table order."""

    checks: tuple[Check, ...]

    @property
    def n_passed(self) -> int:
        """Number of checks that passed."""
        return sum(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that did not pass."""
        return tuple(check for check in self.checks if not check.passed)


def run_compliance(
    data_dir: Path | str, reference_sets: Sequence[str] = REFERENCE_SETS, *,
    ct_input: str = "nifti",
) -> ComplianceReport:
    """Compute every IBSI-1 reference value radiopipe can and compare it with the tables.

    Parameters
    ----------
    data_dir : path
        Folder holding ``digital_phantom/``, ``ct_phantom/`` and ``reference_values/`` as the
        IBSI publishes them.
    reference_sets : sequence of str
        Which sets to check: ``DIGITAL_PHANTOM`` and/or configuration names 'A'..'E'.
    ct_input : {'nifti', 'dicom'}
        Read the CT phantom from its NIfTI export or from its DICOM series and RTSTRUCT.

    Returns
    -------
    ComplianceReport

    Raises
    ------
    RadiopipeError
        When the folder lacks one of the IBSI files (the message names it).
    """
    data_dir = Path(data_dir)
    if ct_input not in CT_INPUTS:
        raise ValueError(
            f"The 'ct_input' parameter must be one of {CT_INPUTS}. Got {ct_input!r} instead.")
    check_data_folder(data_dir, ct_input)
    unknown = [name for name in reference_sets if name not in REFERENCE_SETS]
    if unknown:
        raise ValueError(
            f"The 'reference_sets' parameter must hold names from {REFERENCE_SETS}. "
            f"Got {unknown!r} instead."
        )
    phantoms: dict[str, Phantom] = {}
    checks: list[Check] = []
    for name in reference_sets:
        which = DIGITAL_PHANTOM if name == DIGITAL_PHANTOM else CT_PHANTOM
        if which not in phantoms:
            phantoms[which] = read_phantom(data_dir, which, ct_input)
        references = read_reference_set(data_dir, name)
        values = computed_values(phantoms[which], name, references)
        checks.extend(Check(name, tag_family(r.tag), r, values.get(r.tag)) for r in references)
    return ComplianceReport(tuple(checks))


def computed_values(
    phantom: Phantom, reference_set: str, references: Sequence[Reference]
) -> dict[str, float]:
    """radiopipe's value of every tag of ``references`` it computes, for one reference set.

    ``phantom`` is the digital phantom for ``DIGITAL_PHANTOM``, the CT phantom otherwise. It is
    prepared and its features computed by the production engine under the reference set's
    feature settings (`radiopipe.compliance.configs.feature_settings`).
    """
    digital = reference_set == DIGITAL_PHANTOM
    settings = feature_settings(None if digital else CONFIGURATIONS[reference_set])
    prepared = prepare_case(phantom.image, phantom.mask, settings)
    values = {} if digital else diagnostic_tags(phantom, prepared)
    values.update(feature_tags(prepared, settings, references))
    return values


def tag_family(tag: str) -> str:
    """The radiopipe family an IBSI tag belongs to, by its prefix; ``DIAGNOSTICS`` for the
    image-processing tags; the prefix itself for a family radiopipe lacks.

    Examples
    --------
    >>> tag_family("cm_contrast_2D_avg"), tag_family("morph_mask_vox_count_init_roi")
    ('glcm', 'diagnostics')
    """
    if _DIAGNOSTIC_TAG.search(tag):
        return DIAGNOSTICS
    prefix = tag.split("_", 1)[0]
    families = {f.ibsi_prefix: f.family for f in load_catalogue().values() if f.ibsi_prefix}
    return families.get(prefix, prefix)

"""Per-modality settings of a multimodal cohort: ``features.modalities.<name>``.

Each modality of a multimodal manifest (``image__ct``, ``image__pet``, ...) is extracted with the
``features`` section overridden by its own ``features`` keys (CT in HU with bin width 25, PET in
SUV with bin width 0.5, ...), after its intensities are made comparable: PET converted to SUV
(``suv``), MR normalised (``normalisation``). A modality the config does not list is extracted
with the ``features`` section as it is, its kind read from its name.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from pydantic import Field, model_validator

from radiopipe.settings.base import Strict

MODALITY_KINDS = ("ct", "pet", "mr", "other")
# Feature settings that stay the same for every modality of a case.
SHARED_FEATURE_KEYS = frozenset({"kind", "backend", "modalities"})

Positive = typing.Annotated[float, Field(gt=0)]


class SUVSettings(Strict):
    """How a PET image becomes standardised uptake values (SUVbw, g/ml).

    ``units: auto`` reads the DICOM tags of a PET series: an image in Bq/ml (Units ``BQML``) is
    converted with the patient's weight, the injected dose decayed from injection to the series'
    start (``DecayCorrection`` ``START``; ``ADMIN`` images are decay-corrected to the injection
    already) and the radionuclide's half life; an image in g/ml (``GML``) is SUV already.
    ``units: suv`` says the image holds SUV already (a precomputed SUV image, e.g. NIfTI);
    ``units: bqml`` converts an image in Bq/ml whatever its tags say. Each of the other settings,
    when given, replaces the DICOM tag it names for every case (a file without tags needs them
    all).
    """

    units: Literal["auto", "bqml", "suv"] = "auto"
    patient_weight_kg: Positive | None = None  # PatientWeight (0010,1030)
    injected_dose_bq: Positive | None = None  # RadionuclideTotalDose (0018,1074)
    half_life_s: Positive | None = None  # RadionuclideHalfLife (0018,1075)
    # Seconds from injection to the series' start (from RadiopharmaceuticalStartTime and
    # SeriesTime); 0 for an image decay-corrected to the injection.
    decay_time_s: typing.Annotated[float, Field(ge=0)] | None = None

    def overrides(self) -> dict[str, float]:
        """The given tag replacements, by setting name."""
        return self.model_dump(exclude={"units"}, exclude_none=True)


class NormalisationSettings(Strict):
    """How MR intensities are normalised before discretisation.

    ``zscore``: (x - mean) / SD over ``region`` (``roi``: the case's region of interest;
    ``image``: every voxel of the image). ``reference``: (x - mean) / SD over a reference region,
    the voxels of ``reference_label`` in the same mask file (e.g. fat or muscle), so that the
    region of interest keeps its contrast to it. ``none`` keeps the intensities.
    """

    method: Literal["none", "zscore", "reference"] = "none"
    region: Literal["roi", "image"] = "roi"
    reference_label: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _reference_label(self) -> NormalisationSettings:
        if (self.method == "reference") != (self.reference_label is not None):
            raise ValueError(
                "method 'reference' needs 'reference_label' (the reference region's label in the "
                "mask), and only it takes one"
            )
        return self


class ModalitySettings(Strict):
    """One modality's settings (see the module docstring)."""

    # null: read from the modality's name (ct..., pet... or pt..., mr...; else other).
    kind: Literal[MODALITY_KINDS] | None = None  # type: ignore[valid-type]
    features: dict[str, Any] = Field(default_factory=dict)
    suv: SUVSettings = SUVSettings()
    normalisation: NormalisationSettings = NormalisationSettings()

    @model_validator(mode="after")
    def _shared_keys(self) -> ModalitySettings:
        shared = sorted(SHARED_FEATURE_KEYS & set(self.features))
        if shared:
            raise ValueError(
                f"features.{shared[0]} is the same for every modality: set it in the features "
                "section itself"
            )
        return self


def modality_kind(name: str, settings: ModalitySettings | None) -> str:
    """A modality's kind: the configured one, else read from its name.

    Examples
    --------
    >>> modality_kind("pet", None), modality_kind("mr_t1", None), modality_kind("us", None)
    ('pet', 'mr', 'other')
    """
    if settings is not None and settings.kind is not None:
        return settings.kind
    for prefix, kind in (("ct", "ct"), ("pet", "pet"), ("pt", "pet"), ("mr", "mr")):
        if name.startswith(prefix):
            return kind
    return "other"

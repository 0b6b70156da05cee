"""PET in standardised uptake values: SUVbw from the DICOM tags of a series in Bq/ml.

SUVbw = activity concentration (Bq/ml) x patient weight (g) / decayed injected dose (Bq), with
the dose decayed from injection to the series' start (``DecayCorrection`` START, as the QIBA
vendor-neutral pseudo-code computes it) or not at all for an image decay-corrected to the
injection (ADMIN). A 1 g/ml tissue density is assumed, so SUV is in g/ml.

Examples
--------
>>> round(suv_factor(weight_kg=70, dose_bq=3.7e8, half_life_s=6586.2, decay_time_s=3600), 8)
0.00027634
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.header import HEADER_TAGS
from radiopipe.io.naming import describe_file

if TYPE_CHECKING:
    from radiopipe.settings.modalities import SUVSettings

_DAY_S = 86_400.0
# SUV setting -> the tag(s) it replaces.
NEEDED = {
    "patient_weight_kg": HEADER_TAGS["PatientWeight"],
    "injected_dose_bq": HEADER_TAGS["RadionuclideTotalDose"],
    "half_life_s": HEADER_TAGS["RadionuclideHalfLife"],
    "decay_time_s": f"{HEADER_TAGS['RadiopharmaceuticalStartTime']} and "
                    f"{HEADER_TAGS['SeriesTime']}",
}


def suv_factor(*, weight_kg: float, dose_bq: float, half_life_s: float,
               decay_time_s: float) -> float:
    """The factor from Bq/ml to SUVbw (g/ml): weight (g) / (dose x 2^(-t / half life))."""
    decayed = dose_bq * 2.0 ** (-decay_time_s / half_life_s)
    return weight_kg * 1000.0 / decayed


def to_suv(image: sitk.Image, header: dict[str, Any] | None, settings: SUVSettings, *,
           case_id: str, modality: str, path: Path) -> sitk.Image:
    """A PET image in SUVbw: converted from Bq/ml, or as it is when it holds SUV already.

    Parameters
    ----------
    image : SimpleITK.Image
        The PET image as read (rescale slope applied).
    header : dict or None
        Its series' allow-listed tags (:func:`radiopipe.io.header.series_header`); None for an
        image file.
    settings : SUVSettings
        ``units`` and the tag overrides.
    case_id, modality : str
        For messages.
    path : Path
        The image, named in messages by its role and type only.

    Raises
    ------
    CaseError
        When the image's units are unknown or not convertible, or a value SUV needs is in no tag
        and no setting.
    """
    key = f"features.modalities.{modality}.suv"
    described = describe_file(f"{modality} image", path)
    units = settings.units
    if units == "auto":
        found = (header or {}).get("Units")
        if found is None:
            raise CaseError(
                case_id,
                f"{described} has no {HEADER_TAGS['Units']} tag saying whether it holds Bq/ml or "
                f"SUV; set {key}.units: suv for an image in SUV already, or {key}.units: bqml "
                f"with {key}.patient_weight_kg, injected_dose_bq, half_life_s and decay_time_s",
            )
        if found == "GML":
            return image
        if found != "BQML":
            raise CaseError(
                case_id,
                f"{described} is in units '{found}', which radiopipe cannot convert to SUV "
                f"(it converts BQML); convert it to SUV first and set {key}.units: suv",
            )
    elif units == "suv":
        return image
    values = _values(header or {}, settings)
    missing = [name for name in NEEDED if values.get(name) is None]
    if missing:
        tags = ", ".join(NEEDED[name] for name in missing)
        settings_named = ", ".join(f"{key}.{name}" for name in missing)
        raise CaseError(
            case_id,
            f"{described} is in Bq/ml but lacks {tags} needed for SUV; set {settings_named}, or "
            f"give a precomputed SUV image with {key}.units: suv",
        )
    factor = suv_factor(weight_kg=values["patient_weight_kg"], dose_bq=values["injected_dose_bq"],
                        half_life_s=values["half_life_s"], decay_time_s=values["decay_time_s"])
    suv = sitk.Cast(image, sitk.sitkFloat64) * factor
    suv.CopyInformation(image)
    return suv


def _values(header: dict[str, Any], settings: SUVSettings) -> dict[str, float | None]:
    """What SUV needs, from the settings first and the tags second."""
    values = {
        "patient_weight_kg": header.get("PatientWeight"),
        "injected_dose_bq": header.get("RadionuclideTotalDose"),
        "half_life_s": header.get("RadionuclideHalfLife"),
        "decay_time_s": _decay_time(header),
    }
    values = {k: (v if v is None or v > 0 or k == "decay_time_s" else None)
              for k, v in values.items()}
    return {**values, **settings.overrides()}


def _decay_time(header: dict[str, Any]) -> float | None:
    """Seconds from injection to the series' start; 0 when the image is decay-corrected to the
    injection (ADMIN); None when the tags to compute it are missing."""
    correction = header.get("DecayCorrection")
    if correction == "ADMIN":
        return 0.0
    if correction not in (None, "START"):
        return None
    start, scan = header.get("RadiopharmaceuticalStartTime"), header.get("SeriesTime")
    if start is None or scan is None:
        return None
    seconds = _seconds(scan) - _seconds(start)
    return seconds + _DAY_S if seconds < 0 else seconds  # a scan past midnight


def _seconds(time: str) -> float:
    """A DICOM TM value (HHMMSS.FFFFFF, later parts optional) as seconds since midnight."""
    text = str(time).strip()
    hours, minutes = int(text[0:2]), int(text[2:4] or 0)
    seconds = float(text[4:] or 0)
    return hours * 3600.0 + minutes * 60.0 + seconds

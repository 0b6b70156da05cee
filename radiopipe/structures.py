"""The structures of a DICOM mask file (RTSTRUCT ROIs, DICOM-SEG segments) and the manifest's
``roi`` that picks them.

A manifest's ``roi`` names a structure exactly, by number (SEG segments), or by a regular
expression matched against the whole name (``GTV.*``). Names shown in messages and case ids pass
through :func:`safe_name`, which removes the file's own identifiers (patient name and id, dates,
UIDs) and any character outside ``[A-Za-z0-9._-]``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import MutableSequence
from dataclasses import dataclass
from pathlib import Path

from radiopipe.errors import CaseError

DICOM_MASK_MODALITIES = ("RTSTRUCT", "SEG")
# Header fields whose values may identify a patient or an examination.
_IDENTIFYING = (
    "PatientName", "PatientID", "OtherPatientIDs", "PatientBirthDate", "StudyDate", "SeriesDate",
    "ContentDate", "StructureSetDate", "InstanceCreationDate", "AcquisitionDate", "StudyID",
    "AccessionNumber", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
    "FrameOfReferenceUID", "StructureSetLabel", "StructureSetName",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SHOWN = 10


@dataclass(frozen=True)
class Structure:
    """One structure of a mask file.

    Attributes
    ----------
    number : int
        ROI number (RTSTRUCT) or segment number (SEG).
    name : str
        ROI name or segment label, as stored.
    """

    number: int
    name: str


def dicom_mask_modality(path: Path | None) -> str | None:
    """'RTSTRUCT' or 'SEG' when ``path`` is a DICOM file of that modality, otherwise None."""
    if path is None or not Path(path).is_file():
        return None
    with open(path, "rb") as handle:
        if handle.read(132)[128:] != b"DICM":
            return None
    import pydicom

    header = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"])
    modality = str(header.get("Modality", "")).upper()
    return modality if modality in DICOM_MASK_MODALITIES else None


def read_mask_file(path: Path, modality: str, *, case_id: str, described: str):
    """Read a DICOM mask file (pydicom dataset), refused in one line when it cannot be read or
    holds another modality than ``modality`` ('RTSTRUCT' or 'SEG')."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise CaseError(
            case_id, f"cannot read {described} ({type(exc).__name__}); check the file"
        ) from None
    if str(dataset.get("Modality", "")) != modality:
        raise CaseError(case_id, f"{described} is a DICOM file but no {modality}; check the file")
    return dataset


def read_structures(dataset) -> tuple[Structure, ...]:
    """The structures of an RTSTRUCT or SEG dataset (pydicom), in file order."""
    if dataset.Modality == "SEG":
        return tuple(
            Structure(int(s.SegmentNumber), str(s.get("SegmentLabel", "")))
            for s in dataset.get("SegmentSequence", [])
        )
    return tuple(
        Structure(int(s.ROINumber), str(s.get("ROIName", "")))
        for s in dataset.get("StructureSetROISequence", [])
    )


def expand_roi(path: Path, roi: str) -> list[tuple[str, str]]:
    """The structures a pattern ``roi`` picks in a DICOM mask file, one per manifest row.

    Parameters
    ----------
    path : Path
        An RTSTRUCT or SEG file.
    roi : str
        The manifest's ``roi``.

    Returns
    -------
    list of (str, str)
        ``(case id suffix, roi)`` per structure when ``roi`` matches several structures and none
        by its exact name: the suffix is the structure's safe name (its number where that is
        empty or shared), the roi the structure's exact name (its number where names repeat).
        Empty when ``roi`` picks one structure or none (the reader reports the latter).
    """
    import pydicom

    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    structures = read_structures(dataset)
    matches = match_structures(structures, roi)
    if len(matches) < 2 or any(s.name == roi for s in matches):
        return []
    secrets = identifiers(dataset)
    names = [s.name for s in structures]
    suffixes = [safe_name(s.name, secrets) for s in matches]
    return [
        (suffix if suffix and suffixes.count(suffix) == 1 else f"roi{s.number}",
         s.name if names.count(s.name) == 1 else str(s.number))
        for s, suffix in zip(matches, suffixes, strict=True)
    ]


def identifiers(dataset) -> tuple[str, ...]:
    """The identifying values of a DICOM header (patient name parts, ids, dates, UIDs)."""
    found = set()
    for keyword in _IDENTIFYING:
        with warnings.catch_warnings():  # values breaking their VR's length are still secrets
            warnings.simplefilter("ignore", UserWarning)
            value = dataset.get(keyword)
        if value is None:
            continue
        for item in value if isinstance(value, MutableSequence) else [value]:
            text = str(item).strip()
            found.add(text)
            found.update(part for part in re.split(r"[\^ ,]+", text) if part)
    return tuple(sorted((t for t in found if len(t) >= 3), key=len, reverse=True))


def safe_name(name: str, secrets: tuple[str, ...] = ()) -> str:
    """``name`` without the given identifiers and with unsafe characters replaced by '_'.

    Examples
    --------
    >>> safe_name("GTV 1 Doe", ("Doe",))
    'GTV_1'
    """
    for secret in secrets:
        name = re.sub(re.escape(secret), "", name, flags=re.IGNORECASE)
    return _UNSAFE.sub("_", name).strip("._-")


def match_structures(structures: tuple[Structure, ...], roi: str) -> list[Structure]:
    """The structures ``roi`` names: exact names first, then a segment number, then a pattern.

    Parameters
    ----------
    structures : tuple of Structure
    roi : str
        An exact name, a number, or a regular expression matched against whole names.

    Returns
    -------
    list of Structure
        Every structure named exactly ``roi`` if any; else the one numbered ``roi``; else every
        structure whose whole name matches ``roi`` as a regular expression.
    """
    exact = [s for s in structures if s.name == roi]
    if exact:
        return exact
    if roi.isdigit():
        numbered = [s for s in structures if s.number == int(roi)]
        if numbered:
            return numbered
    try:
        pattern = re.compile(roi)
    except re.error:
        return []
    return [s for s in structures if pattern.fullmatch(s.name)]


def pick_structure(dataset, roi: str | None, *, case_id: str, described: str) -> Structure:
    """The one structure of ``dataset`` that ``roi`` names.

    Parameters
    ----------
    dataset : pydicom.Dataset
        An RTSTRUCT or SEG.
    roi : str or None
        The manifest's ``roi``; None picks the file's only structure.
    case_id : str
    described : str
        How messages name the mask file (e.g. "the mask (RTSTRUCT)").

    Raises
    ------
    CaseError
        When no structure or several match (the message lists the names present).
    """
    structures = read_structures(dataset)
    secrets = identifiers(dataset)
    listing = _listing(structures, secrets)
    if roi is None:
        if len(structures) == 1:
            return structures[0]
        raise CaseError(
            case_id,
            f"{described} holds {len(structures)} structures ({listing}) and the manifest gives "
            "no 'roi'; add a 'roi' column naming the structure",
        )
    matches = match_structures(structures, roi)
    if not matches:
        raise CaseError(
            case_id,
            f"{described} has no structure matching roi '{roi}' (structures "
            f"present: {listing}); set the manifest's 'roi' to one of them",
        )
    if len(matches) > 1:
        exact = all(s.name == roi for s in matches)
        what = (f"{len(matches)} structures named '{roi}'" if exact
                else f"{len(matches)} structures matching roi '{roi}'")
        fix = ("rename the duplicates or give the structure's number" if exact
               else "give an exact name, or one manifest row per structure")
        raise CaseError(
            case_id,
            f"{described} has {what} ({_listing(tuple(matches), secrets)}); {fix}",
        )
    return matches[0]


def _listing(structures: tuple[Structure, ...], secrets: tuple[str, ...]) -> str:
    if not structures:
        return "none"
    shown = ", ".join(
        f"{s.number} '{safe_name(s.name, secrets)}'" for s in structures[:_SHOWN]
    )
    more = len(structures) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")

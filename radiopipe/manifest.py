"""The cohort manifest: one CSV row per case.

Required columns: ``case_id, image, mask, label, patient_id``; optional: ``site``, ``roi`` and any
clinical columns. Paths are relative to the manifest's folder. An empty ``mask`` cell means the
whole image is the region of interest (photographs, X-rays). ``roi`` names the structure of a DICOM
RTSTRUCT or SEG mask (an exact name, a segment number or a pattern such as ``GTV.*``). A pattern
matching several structures of the file becomes one row per structure, with case ids
``<case_id>-<structure name>`` (made safe: no identifier of the file, no character outside
``[A-Za-z0-9._-]``); like one row per lesion written out, these lesion rows share the row's
``patient_id``, which keeps a patient's lesions in one fold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radiopipe.errors import ManifestError
from radiopipe.structures import dicom_mask_modality, expand_roi

REQUIRED_COLUMNS = ("case_id", "image", "mask", "label", "patient_id")
CASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_CASE_ID_LENGTH = 128
_SHOWN = 5


@dataclass(frozen=True)
class Case:
    """One case of the cohort.

    Attributes
    ----------
    case_id : str
        Unique id; the only name reports and logs use for the case.
    image : Path
        Image file or DICOM series folder.
    mask : Path or None
        Mask file, or None when the whole image is the region of interest.
    label : str
        Class label.
    patient_id : str
        Grouping key: cases of one patient never straddle a train/test split.
    site : str or None
        Acquisition site, if given.
    roi : str or None
        The structure of a DICOM RTSTRUCT or SEG mask, if given.
    clinical : dict
        Other manifest columns, by name.
    """

    case_id: str
    image: Path
    mask: Path | None
    label: str
    patient_id: str
    site: str | None = None
    roi: str | None = None
    clinical: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """A validated cohort.

    Attributes
    ----------
    cases : tuple of Case
        In file order.
    classes : tuple of str
        Sorted class labels.
    name : str
        The manifest's file name (for messages).
    """

    cases: tuple[Case, ...]
    classes: tuple[str, ...]
    name: str

    def table(self) -> pd.DataFrame:
        """Case metadata (no paths) as a DataFrame indexed by ``case_id``."""
        rows = [
            {"case_id": c.case_id, "patient_id": c.patient_id, "label": c.label, "site": c.site}
            for c in self.cases
        ]
        return pd.DataFrame(rows).set_index("case_id")


def read_manifest(path: str | Path, *, require_labels: bool = True) -> Manifest:
    """Read and validate a cohort manifest.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    require_labels : bool
        Training cohorts need a label for every case and two classes at least; new cases to
        predict (``require_labels=False``) may leave ``label`` empty or omit the column.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        On missing columns, bad or duplicated case ids, missing files or labels, or a single class.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ManifestError(f"manifest '{path}' does not exist; pass the path of a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ManifestError(f"{name}: not a readable CSV file ({exc})") from None
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip())
    if not require_labels and "label" not in frame.columns:
        frame["label"] = ""

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ManifestError(
            f"{name}: missing column(s) {', '.join(missing)}; "
            f"the header must contain {', '.join(REQUIRED_COLUMNS)}"
        )
    if frame.empty:
        raise ManifestError(f"{name}: the header is there but no case follows; add one row per "
                            "case")
    _check_case_ids(frame, name)
    required = ("image", "label", "patient_id") if require_labels else ("image", "patient_id")
    _check_required_cells(frame, name, required)
    base = path.resolve().parent
    _check_files(frame, base, name)
    if "roi" in frame.columns:
        frame = _expand_rois(frame, base)
        _check_case_ids(frame, name)
    classes = tuple(sorted(label for label in frame["label"].unique() if label))
    if require_labels and len(classes) < 2:
        raise ManifestError(
            f"{name}: every case has label '{classes[0]}'; "
            "classification needs at least two classes"
        )

    extra = [c for c in frame.columns if c not in (*REQUIRED_COLUMNS, "site", "roi")]
    cases = tuple(
        Case(
            case_id=row["case_id"],
            image=base / row["image"],
            mask=(base / row["mask"]) if row["mask"] else None,
            label=row["label"],
            patient_id=row["patient_id"],
            site=(row.get("site") or None),
            roi=(row.get("roi") or None),
            clinical={c: row[c] for c in extra},
        )
        for row in frame.to_dict("records")
    )
    return Manifest(cases=cases, classes=classes, name=name)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _check_case_ids(frame: pd.DataFrame, name: str) -> None:
    ids = frame["case_id"]
    bad = [f"row {i + 2} ('{v}')" for i, v in enumerate(ids) if not CASE_ID_PATTERN.match(v)]
    if bad:
        raise ManifestError(
            f"{name}: invalid case_id in {_listing(bad)}; use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    # Case ids name files (cases/<case_id>.json): keep them well inside file-name limits.
    long = [f"row {i + 2} ({len(v)} characters)" for i, v in enumerate(ids)
            if len(v) > MAX_CASE_ID_LENGTH]
    if long:
        raise ManifestError(
            f"{name}: case_id too long in {_listing(long)}; use at most {MAX_CASE_ID_LENGTH} "
            "characters"
        )
    duplicated = sorted(ids[ids.duplicated()].unique())
    if duplicated:
        raise ManifestError(
            f"{name}: duplicated case_id {_listing(duplicated)}; every row needs its own case_id"
        )


def _check_required_cells(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        empty = frame.loc[frame[column] == "", "case_id"].tolist()
        if empty:
            raise ManifestError(f"{name}: empty '{column}' for case(s) {_listing(empty)}")


def _expand_rois(frame: pd.DataFrame, base: Path) -> pd.DataFrame:
    """One row per structure where a row's ``roi`` pattern matches several structures of its
    RTSTRUCT or SEG: case ids ``<case_id>-<structure>`` (safe names, no identifiers)."""
    rows = []
    for row in frame.to_dict("records"):
        mask = base / row["mask"] if row["mask"] else None
        expanded = (expand_roi(mask, row["roi"])
                    if row["roi"] and dicom_mask_modality(mask) is not None else [])
        if not expanded:
            rows.append(row)
        for suffix, roi in expanded:
            rows.append({**row, "case_id": f"{row['case_id']}-{suffix}", "roi": roi})
    return pd.DataFrame(rows, columns=frame.columns)


def _check_files(frame: pd.DataFrame, base: Path, name: str) -> None:
    # Cases are named by case_id and the file's role only: input paths may hold identifiers.
    missing = []
    for row in frame.itertuples():
        for column in ("image", "mask"):
            value = getattr(row, column)
            if value and not (base / value).exists():
                missing.append(f"{row.case_id} ({column})")
    if missing:
        raise ManifestError(
            f"{name}: {len(missing)} file(s) not found: {_listing(missing)}; "
            "paths are relative to the manifest's folder"
        )

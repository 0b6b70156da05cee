"""The cohort manifest: one CSV row per case.

Required columns: ``case_id, image, mask, label, patient_id``; optional: ``site``, ``roi`` and any
clinical columns. Paths are relative to the manifest's folder. An empty ``mask`` cell means the
whole image is the region of interest (photographs, X-rays). ``roi`` names the structure of a DICOM
RTSTRUCT or SEG mask (an exact name, a segment number or a pattern such as ``GTV.*``). A pattern
matching several structures of the file becomes one row per structure, with case ids
``<case_id>-<structure name>`` (made safe: no identifier of the file, no character outside
``[A-Za-z0-9._-]``); like one row per lesion written out, these lesion rows share the row's
``patient_id``, which keeps a patient's lesions in one fold.

A multimodal case (several images of one patient: CT, PET, MR, ...) gives each image in its own
columns ``image__<modality>``, ``mask__<modality>`` and, for a DICOM mask, ``roi__<modality>``
instead of ``image``, ``mask`` and ``roi`` (modality names as
:func:`radiopipe.columns.is_modality` allows: ``ct``, ``pet``, ``mr_t1``; a multimodal ``roi``
names one structure, it is not expanded). Each image's features are prefixed by its modality
(``pet__original__glcm__Contrast``). An empty ``image__<modality>`` cell means the case lacks that
image (its columns stay empty, imputed in the models); every case needs one image at least.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radiopipe.columns import SEPARATOR, is_modality
from radiopipe.errors import ManifestError
from radiopipe.structures import dicom_mask_modality, expand_roi

REQUIRED_COLUMNS = ("case_id", "image", "mask", "label", "patient_id")
IMAGE_PREFIX = "image" + SEPARATOR
MASK_PREFIX = "mask" + SEPARATOR
ROI_PREFIX = "roi" + SEPARATOR
CASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_CASE_ID_LENGTH = 128
_SHOWN = 5


@dataclass(frozen=True)
class CaseImage:
    """One image of a case with its mask.

    Attributes
    ----------
    modality : str or None
        The modality that prefixes the image's feature columns; None for a case of one image.
    image : Path
    mask : Path or None
    roi : str or None
        The structure of a DICOM RTSTRUCT or SEG mask, if given.
    """

    modality: str | None
    image: Path
    mask: Path | None
    roi: str | None = None


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
    modalities : tuple of CaseImage
        A multimodal case's images, in manifest column order; empty for a case of one image.
        ``image`` and ``mask`` are then the first of them.
    """

    case_id: str
    image: Path
    mask: Path | None
    label: str
    patient_id: str
    site: str | None = None
    roi: str | None = None
    clinical: dict[str, str] = field(default_factory=dict)
    modalities: tuple[CaseImage, ...] = ()

    @property
    def images(self) -> tuple[CaseImage, ...]:
        """Every image of the case: its modalities, or its one image (modality None)."""
        return self.modalities or (CaseImage(None, self.image, self.mask, self.roi),)


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
    modalities : tuple of str
        A multimodal cohort's modalities, in column order; empty otherwise.
    """

    cases: tuple[Case, ...]
    classes: tuple[str, ...]
    name: str
    modalities: tuple[str, ...] = ()

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
        predict and cohorts only extracted (``require_labels=False``) may leave ``label`` empty
        or omit the column.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        On missing columns, bad or duplicated case ids, missing files or labels, or a single
        class: every problem found, one line each.
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
    modalities = _modalities(frame, name)
    image_columns = [IMAGE_PREFIX + m for m in modalities] or ["image"]
    needed = [c for c in REQUIRED_COLUMNS if not (modalities and c in ("image", "mask"))]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ManifestError(
            f"{name}: missing column(s) {', '.join(missing)}; "
            f"the header must contain {', '.join(REQUIRED_COLUMNS)} (or image__<modality> and "
            "mask__<modality> columns instead of image and mask)"
        )
    if frame.empty:
        raise ManifestError(f"{name}: the header is there but no case follows; add one row per "
                            "case")
    required = ("label", "patient_id") if require_labels else ("patient_id",)
    base = path.resolve().parent
    mask_columns = [MASK_PREFIX + m for m in modalities] or ["mask"]
    problems = [
        *_case_id_problems(frame),
        *_empty_cell_problems(frame, required),
        *(_no_image_problems(frame, image_columns) if modalities
          else _empty_cell_problems(frame, ("image",))),
        *_file_problems(frame, base, [*image_columns, *mask_columns]),
    ]
    if not problems and "roi" in frame.columns:  # structures are listed from existing files
        frame = _expand_rois(frame, base)
        problems = _case_id_problems(frame)
    classes = tuple(sorted(label for label in frame["label"].unique() if label))
    if require_labels and len(classes) == 1:
        problems.append(f"every case has label '{classes[0]}'; classification needs at least "
                        "two classes")
    if problems:  # every problem found, one line each
        raise ManifestError("\n".join(f"{name}: {problem}" for problem in problems))

    roi_columns = [ROI_PREFIX + m for m in modalities if ROI_PREFIX + m in frame.columns]
    extra = [c for c in frame.columns if c not in (*REQUIRED_COLUMNS, "site", "roi",
                                                   *image_columns, *mask_columns, *roi_columns)]
    cases = tuple(_case(row, base, modalities, extra) for row in frame.to_dict("records"))
    return Manifest(cases=cases, classes=classes, name=name, modalities=modalities)


def _case(row: dict, base: Path, modalities: tuple[str, ...], extra: list[str]) -> Case:
    images = tuple(
        CaseImage(m, base / row[IMAGE_PREFIX + m],
                  (base / row[MASK_PREFIX + m]) if row.get(MASK_PREFIX + m) else None,
                  row.get(ROI_PREFIX + m) or None)
        for m in modalities if row[IMAGE_PREFIX + m]
    )
    first = images[0] if images else CaseImage(
        None, base / row["image"], (base / row["mask"]) if row["mask"] else None,
        row.get("roi") or None,
    )
    return Case(
        case_id=row["case_id"], image=first.image, mask=first.mask, label=row["label"],
        patient_id=row["patient_id"], site=(row.get("site") or None), roi=first.roi,
        clinical={c: row[c] for c in extra}, modalities=images,
    )


def _modalities(frame: pd.DataFrame, name: str) -> tuple[str, ...]:
    """The modalities of ``image__<modality>`` columns, checked against the other columns."""
    found = tuple(c.removeprefix(IMAGE_PREFIX) for c in frame.columns
                  if c.startswith(IMAGE_PREFIX))
    masks = [c.removeprefix(prefix) for c in frame.columns for prefix in (MASK_PREFIX, ROI_PREFIX)
             if c.startswith(prefix)]
    if not found and not masks:
        return ()
    bad = [m for m in (*found, *masks) if not is_modality(m)]
    if bad:
        raise ManifestError(
            f"{name}: invalid modality name(s) {_listing(bad)} in image__/mask__ columns; use "
            "lower-case letters, digits and single underscores (ct, pet, mr_t1)"
        )
    orphans = [f"mask__{m} or roi__{m}" for m in masks if m not in found]
    if orphans:
        raise ManifestError(f"{name}: column(s) {_listing(orphans)} without their image__ "
                            "column; add it or remove the mask column")
    single = [c for c in ("image", "mask", "roi") if c in frame.columns]
    if single:
        raise ManifestError(
            f"{name}: has both image__<modality> columns and {' and '.join(single)}; a "
            "multimodal manifest names every image by its modality (image__ct, mask__ct, "
            "roi__ct, ...)"
        )
    return found


def _no_image_problems(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    empty = frame.loc[(frame[columns] == "").all(axis=1), "case_id"].tolist()
    if not empty:
        return []
    return [f"no image for case(s) {_listing(empty)}; fill one image__<modality> cell at least"]


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _case_id_problems(frame: pd.DataFrame) -> list[str]:
    ids = frame["case_id"]
    problems = []
    bad = [f"row {i + 2} ('{v}')" for i, v in enumerate(ids) if not CASE_ID_PATTERN.match(v)]
    if bad:
        problems.append(f"invalid case_id in {_listing(bad)}; use letters, digits, '.', '_' or "
                        "'-', starting with a letter or digit")
    # Case ids name files (cases/<case_id>.json): keep them well inside file-name limits.
    long = [f"row {i + 2} ({len(v)} characters)" for i, v in enumerate(ids)
            if len(v) > MAX_CASE_ID_LENGTH]
    if long:
        problems.append(f"case_id too long in {_listing(long)}; use at most "
                        f"{MAX_CASE_ID_LENGTH} characters")
    duplicated = sorted(ids[ids.duplicated()].unique())
    if duplicated:
        problems.append(f"duplicated case_id {_listing(duplicated)}; every row needs its own "
                        "case_id")
    return problems


def _empty_cell_problems(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    problems = []
    for column in columns:
        empty = frame.loc[frame[column] == "", "case_id"].tolist()
        if empty:
            problems.append(f"empty '{column}' for case(s) {_listing(empty)}")
    return problems


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


def _file_problems(frame: pd.DataFrame, base: Path, columns: list[str]) -> list[str]:
    # Cases are named by case_id and the file's role only: input paths may hold identifiers.
    missing = []
    for row in frame.to_dict("records"):
        for column in columns:
            value = row[column]
            if value and not (base / value).exists():
                missing.append(f"{row['case_id']} ({column})")
    if not missing:
        return []
    return [f"{len(missing)} file(s) not found: {_listing(missing)}; paths are relative to the "
            "manifest's folder"]

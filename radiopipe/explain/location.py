"""Where a case's region of interest lies: the whole slice through it, its position in the
patient, the image's orientation and the unit of its intensities.

A case page shows the ROI on the whole slice of the image as it is stored (before any
resampling), so a reader can find it on their own viewer: the slice is the one with the ROI's
largest cross-section (first array axis), the position is the ROI's centre of mass in physical
coordinates (mm, in SimpleITK's LPS convention: x grows towards the patient's left, y towards
the posterior, z towards the head), and the orientation labels say which way each edge of the
displayed slice points, from the image's direction cosines.

``case_locations.parquet`` holds one row per located case (:func:`write_locations`).

Examples
--------
>>> axis_letters((1.0, 0.0, 0.0))
'L'
>>> axis_letters((0.0, -1.0, 0.0))
'A'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import SimpleITK as sitk

from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.diagnostics import KIND_MODALITY
from radiopipe.errors import CaseError
from radiopipe.io import read_case
from radiopipe.io.header import series_header
from radiopipe.io.modality import read_modality
from radiopipe.manifest import Case
from radiopipe.storage import atomic_write

logger = logging.getLogger(__name__)

# LPS: the patient direction each physical axis grows towards, and the opposite one.
_LPS = (("L", "R"), ("P", "A"), ("S", "I"))
OBLIQUE = 0.3  # a direction component at least this large names its axis too (oblique slices)
# Intensity unit by modality (manifest column ``modality`` or the DICOM Modality tag).
_MODALITY_UNITS = {"CT": "HU", "MR": "a.u.", "MRI": "a.u.", "PET": "SUV", "PT": "SUV"}
# PET pixel units as the DICOM Units tag (0054,1001) names them.
_PET_UNITS = {"GML": "SUV", "BQML": "Bq/mL"}
_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class CaseLocation:
    """The whole slice through a case's ROI and where it lies.

    Attributes
    ----------
    slice_index : int
        Index of the shown slice along the image's slice axis (0 for a 2D image).
    n_slices : int
        Slices in the image (1 for a 2D image).
    image : numpy.ndarray of shape (rows, columns)
        The whole slice, as stored.
    roi : numpy.ndarray of bool, shape (rows, columns)
        The ROI on that slice.
    spacing : tuple of float
        Pixel size (row, column), in ``length_unit``.
    centre : tuple of float
        The ROI's centre of mass in physical coordinates (x, y[, z]), in ``length_unit``.
    edges : tuple of str
        Orientation labels of the slice's (top, bottom, left, right) edges ('' when the image
        records no patient orientation: 2D images).
    modality : str or None
        'CT', 'MR', 'PET', ... when known.
    intensity_unit : str or None
        The unit of the image's intensities ('HU', 'SUV', 'Bq/mL', 'a.u.'); None when unknown.
    length_unit : str
        'mm', or 'px' for pictures (PNG, JPEG, TIFF, BMP), whose files record no pixel size.
    """

    slice_index: int
    n_slices: int
    image: np.ndarray
    roi: np.ndarray
    spacing: tuple[float, float]
    centre: tuple[float, ...]
    edges: tuple[str, str, str, str]
    modality: str | None
    intensity_unit: str | None
    length_unit: str


def axis_letters(vector) -> str:
    """The patient directions (LPS letters) a physical direction points towards, the largest
    component first; components under :data:`OBLIQUE` are left out."""
    vector = np.asarray(vector, dtype=np.float64)
    order = np.argsort(-np.abs(vector), kind="stable")
    return "".join(
        _LPS[axis][0 if vector[axis] > 0 else 1] for axis in order if abs(vector[axis]) >= OBLIQUE
    )


def edge_labels(direction, dimension: int) -> tuple[str, str, str, str]:
    """Orientation labels of a displayed slice's (top, bottom, left, right) edges.

    The slice is shown as NumPy holds it (``array[k]``: rows down, columns to the right); its
    columns run along the image's first index axis and its rows along the second, whose
    physical directions are the first two columns of the direction matrix.

    Parameters
    ----------
    direction : sequence of float
        SimpleITK's direction matrix, row-major (``image.GetDirection()``).
    dimension : int
        2 or 3; a 2D image records no patient orientation and gets empty labels.
    """
    if dimension != 3:
        return ("", "", "", "")
    matrix = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    column_axis, row_axis = matrix[:, 0], matrix[:, 1]
    return (axis_letters(-row_axis), axis_letters(row_axis),
            axis_letters(-column_axis), axis_letters(column_axis))


def intensity_unit(modality: str | None, pet_units: str | None = None) -> str | None:
    """The intensity unit of a modality; PET uses the DICOM Units tag when it is known."""
    if modality is None:
        return None
    modality = modality.strip().upper()
    if modality in ("PT", "PET") and pet_units is not None:
        return _PET_UNITS.get(pet_units.strip().upper())
    return _MODALITY_UNITS.get(modality)


def locate(image: sitk.Image, mask: sitk.Image, *, modality: str | None = None,
           unit: str | None = None, length_unit: str = "mm") -> CaseLocation:
    """The slice with the ROI's largest cross-section and the ROI's position.

    Parameters
    ----------
    image, mask : SimpleITK.Image
        The case as read (same geometry); the mask non-zero inside the ROI.
    modality, unit : str, optional
        The image's modality and intensity unit, when known.
    length_unit : str
        The unit of the image's spacing and origin.
    """
    array = sitk.GetArrayViewFromImage(image)
    roi = sitk.GetArrayViewFromImage(mask) > 0
    dimension = image.GetDimension()
    if dimension == 2:
        array, roi = array[None], roi[None]
    points = np.argwhere(roi)  # (k, j, i)
    index = int(np.argmax(roi.sum(axis=(1, 2))))
    centre_index = points.mean(axis=0)[::-1][:dimension]  # (i, j[, k])
    centre = image.TransformContinuousIndexToPhysicalPoint(tuple(float(c) for c in centre_index))
    spacing = image.GetSpacing()
    return CaseLocation(
        slice_index=index,
        n_slices=array.shape[0],
        image=np.asarray(array[index], dtype=np.float64),
        roi=np.asarray(roi[index], dtype=bool),
        spacing=(float(spacing[1]), float(spacing[0])),
        centre=tuple(float(c) for c in centre),
        edges=edge_labels(image.GetDirection(), dimension),
        modality=modality,
        intensity_unit=unit,
        length_unit=length_unit,
    )


def case_location(case: Case, data: DataConfig, features: FeatureConfig) -> CaseLocation | None:
    """Read one case as extraction does and locate its ROI; None (logged) if it cannot be read.

    The modality comes from the manifest's ``modality`` column when it has one, else from a
    DICOM series' Modality tag (and, for PET, its Units tag); otherwise it is unknown and the
    intensities get no unit. A case of several images is located on its first, read with its
    modality's settings (PET in SUV, normalised as configured) and named by its modality.
    """
    if case.images and case.images[0].modality is not None:
        return _first_modality_location(case, data, features)
    try:
        image, mask = read_case(case, data)
    except CaseError as exc:
        logger.warning("no case location: %s", exc)
        return None
    header = series_header(Path(case.image)) or {}
    modality, pet_units = header.get("Modality"), header.get("Units")
    declared = (case.clinical.get("modality") or "").strip()
    if declared:
        modality, pet_units = declared.upper(), None
    return locate(image, mask, modality=modality, unit=intensity_unit(modality, pet_units),
                  length_unit=_length_unit(case.image))


def _first_modality_location(case: Case, data: DataConfig,
                             features: FeatureConfig) -> CaseLocation | None:
    """The location on a multimodal case's first image, e.g. modality 'pet (PT)' in SUV."""
    item = case.images[0]
    try:
        read = read_modality(case, item, features, data)
    except CaseError as exc:
        logger.warning("no case location: %s", exc)
        return None
    dicom = KIND_MODALITY.get(read.kind)
    _, settings = features.modality(item.modality)
    method = settings.normalisation.method
    unit = (f"{method}-normalised units" if method != "none" else intensity_unit(dicom))
    return locate(read.image, read.mask, unit=unit, length_unit=_length_unit(item.image),
                  modality=f"{item.modality} ({dicom})" if dicom else item.modality)


def _length_unit(image_path: str) -> str:
    """'px' for a picture file (PNG, JPEG, ...: no physical spacing), else 'mm'."""
    return "px" if Path(image_path).suffix.lower() in _PICTURE_SUFFIXES else "mm"


def write_locations(path: Path, locations: dict[str, CaseLocation]) -> Path:
    """Write the cases' locations atomically, one row per case (slices flattened)."""
    rows = [
        {
            "case_id": case_id,
            "slice_index": item.slice_index,
            "n_slices": item.n_slices,
            "rows": item.image.shape[0],
            "columns": item.image.shape[1],
            "spacing_row": item.spacing[0],
            "spacing_column": item.spacing[1],
            "centre": list(item.centre),
            "edges": list(item.edges),
            "modality": item.modality,
            "intensity_unit": item.intensity_unit,
            "length_unit": item.length_unit,
            "image": item.image.ravel().astype(np.float32),
            "roi": item.roi.ravel(),
        }
        for case_id, item in locations.items()
    ]
    schema = pa.schema([
        ("case_id", pa.string()), ("slice_index", pa.int64()), ("n_slices", pa.int64()),
        ("rows", pa.int64()), ("columns", pa.int64()), ("spacing_row", pa.float64()),
        ("spacing_column", pa.float64()), ("centre", pa.list_(pa.float64())),
        ("edges", pa.list_(pa.string())), ("modality", pa.string()),
        ("intensity_unit", pa.string()), ("length_unit", pa.string()),
        ("image", pa.list_(pa.float32())), ("roi", pa.list_(pa.bool_())),
    ])
    table = pa.Table.from_pylist(rows, schema=schema)
    return atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read_locations(path: Path) -> dict[str, CaseLocation]:
    """Case id -> its location (the inverse of :func:`write_locations`)."""
    frame = pq.read_table(path).to_pandas()
    out = {}
    for row in frame.itertuples(index=False):
        shape = (int(row.rows), int(row.columns))
        out[str(row.case_id)] = CaseLocation(
            slice_index=int(row.slice_index),
            n_slices=int(row.n_slices),
            image=np.asarray(row.image, dtype=np.float64).reshape(shape),
            roi=np.asarray(row.roi, dtype=bool).reshape(shape),
            spacing=(float(row.spacing_row), float(row.spacing_column)),
            centre=tuple(float(c) for c in row.centre),
            edges=tuple(str(e) for e in row.edges),
            modality=_optional(row.modality),
            intensity_unit=_optional(row.intensity_unit),
            length_unit=str(row.length_unit),
        )
    return out


def _optional(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)

"""A multimodal case's images as its page shows them: one panel per modality, the largest axial
slice of its region of interest, read as extraction reads it (PET in SUV, MR normalised)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import SimpleITK as sitk

from radiopipe.config import DataConfig, FeatureConfig
from radiopipe.errors import CaseError
from radiopipe.io.modality import read_modality
from radiopipe.manifest import Case

logger = logging.getLogger(__name__)
PANEL_COLUMNS = ("case_id", "modality", "slice_index", "spacing_row", "spacing_column", "row",
                 "column", "image", "roi")


@dataclass(frozen=True)
class ModalityPanel:
    """One modality's slice.

    Attributes
    ----------
    modality : str
    slice_index : int
        The axial slice shown (the ROI's largest).
    image : numpy.ndarray
        The slice's intensities (SUV for PET, normalised MR).
    roi : numpy.ndarray of bool
    spacing : tuple of float
        Row and column spacing in mm.
    """

    modality: str
    slice_index: int
    image: np.ndarray
    roi: np.ndarray
    spacing: tuple[float, float]


def modality_panels(case: Case, features: FeatureConfig, data: DataConfig) -> list[ModalityPanel]:
    """One panel per image of a multimodal case ([] for a case of one image); an image that
    cannot be read is left out with a log line."""
    panels = []
    for item in case.modalities:
        try:
            read = read_modality(case, item, features, data)
        except CaseError as exc:
            logger.warning("no %s panel: %s", item.modality, exc)
            continue
        image = sitk.GetArrayFromImage(read.image).astype(np.float64)
        roi = sitk.GetArrayFromImage(read.mask).astype(bool)
        spacing = tuple(reversed(read.image.GetSpacing()))
        if image.ndim == 2:
            image, roi, spacing = image[None], roi[None], (1.0, *spacing)
        z = int(np.argmax(roi.sum(axis=(1, 2))))
        panels.append(ModalityPanel(item.modality, z, image[z], roi[z],
                                    (float(spacing[1]), float(spacing[2]))))
    return panels


def panels_frame(case_id: str, panels: list[ModalityPanel]) -> pd.DataFrame:
    """One row per pixel of each panel: the table behind the case page's modality figures."""
    frames = []
    for panel in panels:
        rows, columns = np.indices(panel.image.shape)
        frames.append(pd.DataFrame({
            "case_id": case_id, "modality": panel.modality, "slice_index": panel.slice_index,
            "spacing_row": panel.spacing[0], "spacing_column": panel.spacing[1],
            "row": rows.ravel(), "column": columns.ravel(), "image": panel.image.ravel(),
            "roi": panel.roi.ravel(),
        }, columns=list(PANEL_COLUMNS)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(PANEL_COLUMNS))


def panels_from_frame(frame: pd.DataFrame) -> dict[str, list[ModalityPanel]]:
    """Case id -> its panels in table order (the inverse of :func:`panels_frame`)."""
    out: dict[str, list[ModalityPanel]] = {}
    for (case_id, modality), part in frame.groupby(["case_id", "modality"], sort=False):
        shape = (int(part["row"].max()) + 1, int(part["column"].max()) + 1)
        first = part.iloc[0]
        out.setdefault(str(case_id), []).append(ModalityPanel(
            modality=str(modality), slice_index=int(first["slice_index"]),
            image=part["image"].to_numpy(dtype=np.float64).reshape(shape),
            roi=part["roi"].to_numpy(dtype=bool).reshape(shape),
            spacing=(float(first["spacing_row"]), float(first["spacing_column"])),
        ))
    return out

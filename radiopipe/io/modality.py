"""One image of a (multimodal) case, read as extraction reads it: the image and its mask, PET
converted to SUV, MR normalised, and the series' header for the acquisition provenance."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import SimpleITK as sitk

from radiopipe.errors import CaseError
from radiopipe.io.case import read_case
from radiopipe.io.header import series_header
from radiopipe.io.images import read_mask
from radiopipe.io.suv import to_suv
from radiopipe.preprocess.region_normalise import zscore_by_region

if TYPE_CHECKING:
    from radiopipe.config import DataConfig, FeatureConfig
    from radiopipe.manifest import Case, CaseImage
    from radiopipe.settings.modalities import NormalisationSettings


@dataclasses.dataclass(frozen=True)
class ModalityImage:
    """One image of a case, ready for its features.

    Attributes
    ----------
    modality : str or None
        None for a case of one image.
    kind : {'ct', 'pet', 'mr', 'other'} or None
        The modality's kind (None for a case of one image).
    image, mask : SimpleITK.Image
    header : dict or None
        The allow-listed DICOM tags (:mod:`radiopipe.io.header`); None for an image file.
    features : FeatureConfig
        The modality's feature settings.
    """

    modality: str | None
    kind: str | None
    image: sitk.Image
    mask: sitk.Image
    header: dict[str, Any] | None
    features: FeatureConfig


def read_modality(case: Case, item: CaseImage, features: FeatureConfig,
                  data: DataConfig) -> ModalityImage:
    """Read one image of ``case`` with its modality's settings.

    Raises
    ------
    CaseError
        When the image or mask cannot be read, SUV cannot be computed, or the normalisation's
        region is missing.
    """
    single = dataclasses.replace(case, image=item.image, mask=item.mask, roi=item.roi,
                                 modalities=())
    image, mask = read_case(single, data)
    header = series_header(item.image)
    if item.modality is None:
        return ModalityImage(None, None, image, mask, header, features)
    kind, settings = features.modality(item.modality)
    if kind == "pet":
        image = to_suv(image, header, settings.suv, case_id=case.case_id,
                       modality=item.modality, path=item.image)
    if settings.normalisation.method != "none":
        image = _normalise(image, mask, settings.normalisation, case, item, data)
    return ModalityImage(item.modality, kind, image, mask, header,
                         features.for_modality(item.modality))


def _normalise(image: sitk.Image, mask: sitk.Image, settings: NormalisationSettings, case: Case,
               item: CaseImage, data: DataConfig) -> sitk.Image:
    values = sitk.GetArrayFromImage(image)
    if settings.method == "reference":
        key = f"features.modalities.{item.modality}.normalisation"
        if item.mask is None:
            raise CaseError(case.case_id, f"{key} reads the reference region from the mask, and "
                            f"the {item.modality} image has none; give mask__{item.modality}")
        reference = read_mask(item.mask, image, case_id=case.case_id,
                              label=settings.reference_label, tolerance=data.geometry_tolerance)
        region = sitk.GetArrayViewFromImage(reference).astype(bool)
    elif settings.region == "roi":
        region = sitk.GetArrayViewFromImage(mask).astype(bool)
    else:
        region = np.ones(values.shape, dtype=bool)
    out = sitk.GetImageFromArray(zscore_by_region(values, region))
    out.CopyInformation(image)
    return out

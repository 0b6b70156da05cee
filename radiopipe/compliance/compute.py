"""radiopipe's IBSI-mode value for every reference tag it can compute.

A tag names a feature through the catalogue (``features/*.yaml``: its ``ibsi_tag`` stem) and,
for texture families, an aggregation suffix (``cm_contrast_2_5D_avg``). Each family is computed
once per aggregation, with the inputs the IBSI defines for it:

- morphology (``morph_``) on the morphological mask; its intensity features (centre of mass
  shift, integrated intensity, Moran's I, Geary's C) on the intensity mask as well;
- local intensity (``loc_``) on the whole image, centred on intensity-mask voxels;
- statistics (``stat_``) on the intensity mask's intensities;
- intensity histogram (``ih_``) and texture on the discretised intensity mask, the GLDZM's
  distance to the edge measured on the morphological mask;
- intensity-volume histogram (``ivh_``) on its own discretisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from radiopipe.compliance.prepare import PreparedRoi
from radiopipe.compliance.reference import Reference
from radiopipe.features.catalogue import ibsi_tag_index
from radiopipe.features.registry import FAMILIES


def feature_tags(roi: PreparedRoi, references: Iterable[Reference]) -> dict[str, float]:
    """radiopipe's value of every reference whose feature radiopipe computes, by IBSI tag.

    References whose stem is in no catalogue entry are left out.
    """
    index = ibsi_tag_index()
    wanted: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
    for reference in references:
        if reference.stem in index:
            family, name = index[reference.stem]
            wanted[family, reference.aggregation].append((reference.tag, name))
    tags = {}
    for (family, aggregation), features in wanted.items():
        values = family_values(roi, family, aggregation)
        tags.update({tag: values[name] for tag, name in features})
    return tags


def family_values(roi: PreparedRoi, family: str, aggregation: str | None) -> dict[str, float]:
    """Every IBSI-mode feature of one family (at one aggregation, for texture families)."""
    compute = FAMILIES[family].compute
    if family == "shape":
        return morphology(roi)
    if family == "local_intensity":
        return compute(roi.image, roi.intensity_mask, roi.spacing)
    if family == "firstorder":
        return compute(
            roi.image,
            roi.intensity_mask,
            spacing=roi.spacing,
            mode="ibsi",
            levels=roi.levels,
            n_levels=roi.n_levels,
        )
    if family == "intensity_histogram":
        return compute(roi.levels, roi.intensity_mask, roi.n_levels)
    if family == "intensity_volume":
        ivh = roi.ivh
        return compute(
            ivh.values,
            roi.intensity_mask,
            step=ivh.step,
            lower_bound=ivh.lower_bound,
            upper_bound=ivh.upper_bound,
        )
    extra = {"roi_edge_mask": roi.morphological_mask} if family == "gldzm" else {}
    return compute(
        roi.levels, roi.intensity_mask, roi.n_levels, aggregation=aggregation, mode="ibsi", **extra
    )


def morphology(roi: PreparedRoi) -> dict[str, float]:
    """IBSI morphological features: geometry of the morphological mask, intensity features over
    the intensity mask (see `radiopipe.features.shape.compute_shape`)."""
    return FAMILIES["shape"].compute(
        roi.morphological_mask,
        roi.spacing,
        mode="ibsi",
        image=roi.image,
        intensity_mask=roi.intensity_mask,
    )

"""radiopipe's IBSI-mode value for every reference tag it can compute, by the production engine.

A tag names a feature through the catalogue (``features/*.yaml``: its ``ibsi_tag`` stem) and,
for texture families, an aggregation suffix (``cm_contrast_2_5D_avg``). The phantom is prepared
and its families computed by the engine's own steps (`radiopipe.features.extract`), under the
configuration's feature settings (`radiopipe.compliance.configs.feature_settings`): once per
aggregation the reference table lists, with the inputs the IBSI defines for each family
(morphology on the morphological mask, its intensity features and every other family on the
intensity mask, local intensity on the image around the ROI, the GLDZM's distance to the edge
measured on the morphological mask).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from radiopipe.columns import column_name
from radiopipe.compliance.reference import Reference
from radiopipe.config import FeatureConfig
from radiopipe.features.catalogue import ibsi_tag_index
from radiopipe.features.extract import (
    PreparedCase,
    compute_families,
    filter_images,
    shape_features,
)
from radiopipe.features.family import settings_aggregation


def feature_tags(
    prepared: PreparedCase, settings: FeatureConfig, references: Iterable[Reference]
) -> dict[str, float]:
    """radiopipe's value of every reference whose feature radiopipe computes, by IBSI tag.

    Parameters
    ----------
    prepared : PreparedCase
        The phantom prepared under ``settings`` (`radiopipe.features.extract.prepare_case`).
    settings : FeatureConfig
        The reference set's settings; its aggregation is replaced by each the references name.
    references : iterable of Reference

    Returns
    -------
    dict of str to float
        IBSI tag -> value. References whose stem is in no catalogue entry are left out.
    """
    index = ibsi_tag_index()
    wanted: dict[str | None, list[tuple[str, str, str]]] = defaultdict(list)
    for reference in references:
        if reference.stem in index:
            family, name = index[reference.stem]
            wanted[reference.aggregation].append((reference.tag, family, name))
    (original,) = filter_images(prepared, settings).values()
    shape = shape_features(prepared, settings)
    tags = {}
    for aggregation, features in wanted.items():
        at = settings
        if aggregation is not None:
            at = settings.model_copy(update={"aggregation": settings_aggregation(aggregation)})
        families = {family for _, family, _ in features}
        values = {
            **shape, **compute_families("original", original, prepared, at, families=families)
        }
        tags.update(
            {tag: values[column_name("original", family, name)] for tag, family, name in features}
        )
    return tags

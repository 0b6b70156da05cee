"""The batched counterpart of `radiopipe.features.registry`: families computed for a whole batch.

``BATCHED[name](batch, settings)`` computes family ``name`` (a `radiopipe.features.registry`
name) for every ROI of a `radiopipe.gpu.packing.PackedBatch` and returns a
``(n_roi, len(FAMILIES[name].feature_names))`` array in the batch's namespace, columns in the
family's ``feature_names`` order. Families without an entry (shape, the intensity and
intensity-volume histograms, local intensity) run on the host through ``Family.compute``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from radiopipe.features.registry import FAMILIES
from radiopipe.gpu import texture
from radiopipe.gpu.firstorder import firstorder_batch
from radiopipe.gpu.packing import PackedBatch

if TYPE_CHECKING:
    from radiopipe.config import FeatureConfig


def _firstorder(batch: PackedBatch, settings: FeatureConfig):
    return firstorder_batch(
        batch.voxel_values, batch.voxel_levels, batch.roi_start, batch.voxel_volumes,
        voxel_array_shift=settings.voxel_array_shift, mode=settings.definitions,
    )


def _texture(name: str, compute) -> Callable:
    """Texture family ``name``'s batched ``compute(batch, *, aggregation, mode)``, at the
    aggregation the family computes at under the settings."""

    def batched(batch: PackedBatch, settings: FeatureConfig):
        aggregation = FAMILIES[name].aggregation(settings)
        return compute(batch, aggregation=aggregation, mode=settings.definitions)

    return batched


BATCHED: dict[str, Callable] = {
    "firstorder": _firstorder,
    "glcm": _texture("glcm", texture.glcm_batch),
    "glrlm": _texture("glrlm", texture.glrlm_batch),
    "glszm": _texture("glszm", texture.glszm_batch),
    "gldm": lambda batch, settings: texture.gldm_batch(
        batch, aggregation=FAMILIES["gldm"].aggregation(settings), mode=settings.definitions,
        gldm_a=settings.gldm_a,
    ),
    "ngtdm": _texture("ngtdm", texture.ngtdm_batch),
    "gldzm": _texture("gldzm", texture.gldzm_batch),
    "ngldm": _texture("ngldm", texture.ngldm_batch),
}
"""Family name -> ``f(batch, settings) -> (n_roi, n_features)`` array."""

# The families whose batched kernels read the neighbours at Chebyshev distance 1 only.
_DISTANCE_ONE = frozenset({"glcm", "gldm", "ngtdm"})


def batched_families(settings: FeatureConfig) -> list[str]:
    """The configured families the GPU computes in batches under ``settings``; the others run
    on the host through ``Family.compute`` (GLCM, GLDM and NGTDM at ``distances`` other than
    [1], GLCM and GLRLM with a ``direction_weighting``, every family in the planes of a
    ``slice_axis`` other than 0: settings the batched kernels lack)."""
    on_host = set()
    if list(settings.distances) != [1]:
        on_host |= _DISTANCE_ONE
    if settings.direction_weighting is not None:
        on_host |= {"glcm", "glrlm"}
    if settings.slice_axis != 0 and settings.aggregation.startswith("2"):
        on_host |= set(BATCHED)
    return [name for name in settings.families if name in BATCHED and name not in on_host]

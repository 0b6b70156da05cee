"""What a feature map or contribution map shows, in words for its caption."""

from __future__ import annotations

from collections.abc import Callable

from radiopipe.config import FeatureConfig
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.local_values import KERNELS, WINDOWS, kernel_families

_SCALED = {
    1: " divided by the number of ROI voxels in the window (a sum over voxels, whose raw value "
       "would grow with how much of the window the ROI fills)",
    -1: " times the number of ROI voxels in the window (the reciprocal of a sum over voxels, "
        "whose raw value would shrink with how much of the window the ROI fills)",
}


_ENGINES = {
    KERNELS: "the voxel-wise engine (pyradiomics' voxel-based definitions, as the voxel-wise "
             "maps compute them)",
    WINDOWS: "the extraction's own feature code",
}


def engine_words(item: FeatureMap) -> str:
    """What computed the local values, e.g. ``"the extraction's own feature code"``."""
    return " and ".join(_ENGINES[engine] for engine in item.engine.split(" + "))


def engines_text(settings: FeatureConfig, window: int) -> str:
    """How the maps' local values are computed under these settings, for the methods appendix."""
    windows = f"{_ENGINES[WINDOWS]} on the ROI voxels of each window"
    families = kernel_families(settings, window=window)
    if not families:
        return f"{windows}, in every map"
    names = ", ".join("first-order" if f == "firstorder" else f.upper() for f in families)
    return (
        f"{names} features of 3D images: {_ENGINES[KERNELS]} at the windows' centres, kernels "
        f"of radius {window // 2} (the window) counting only ROI voxels; other maps (other "
        f"families, 2D images): {windows}; each map's caption names its engine"
    )


def window_words(item: FeatureMap) -> str:
    """The window's size in voxels and mm, e.g. ``'5 x 5 x 5-voxel (5 x 5 x 5 mm)'``."""
    voxels = " x ".join([str(item.window)] * len(item.window_mm))
    mm = " x ".join(f"{side:.3g}" for side in item.window_mm)
    return f"{voxels}-voxel ({mm} mm)"


def map_caption(item: FeatureMap, label: Callable[[str], str]) -> str:
    """The caption of one map; ``label`` names a feature column for readers."""
    where = ("wholly inside the ROI" if item.min_coverage >= 1
             else f"at least {item.min_coverage:.0%} inside the ROI")
    shown = (f"Shown only where the window lies {where}; ROI voxels left blank are too near "
             "its edge.")
    stride = f" (every {item.stride}th voxel)" if item.stride > 1 else ""
    window = window_words(item)
    engine = engine_words(item)
    if item.kind == CONTRIBUTION:
        names = ", ".join(label(f) for f in item.feature.split(" + "))
        return (
            f"Contribution of {names} to the model's log-odds of {item.output}: for each voxel, "
            f"how much the log-odds of {item.output} (log(p / (1 - p)) of the predicted "
            "probability) change when these features take their values in the "
            f"{window} window around it{stride} (computed by {engine}), standing for the whole "
            "ROI, instead of a typical training case's; the case's other features unchanged, "
            f"predicted by the model that predicted this case. Red pushes towards {item.output}, "
            f"blue away; +1 multiplies the odds by 2.7. The whole ROI: {item.whole_roi:+.3g}. "
            "Windows hold fewer voxels than the ROI: their values are noisier, and may lie "
            f"outside the range the model was trained on. {shown}"
        )
    return (
        f"Local value of {label(item.feature)}{_SCALED.get(item.exponent, '')}: the feature "
        f"computed by {engine} over the ROI voxels of the {window} window around each voxel of "
        f"the ROI's largest slice{stride}, with the case's own extraction's discretisation "
        f"(over the whole ROI); the whole ROI's value on the same scale is "
        f"{item.whole_roi:.4g}. Bright: high values. {shown} It shows where the feature is "
        "high or low, not where the prediction comes from (see the contribution map)."
    )

"""What a feature map or contribution map shows, in words for its caption."""

from __future__ import annotations

from collections.abc import Callable

from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap

_SCALED = {
    1: " divided by the number of ROI voxels in the window (a sum over voxels, whose raw value "
       "would grow with how much of the window the ROI fills)",
    -1: " times the number of ROI voxels in the window (the reciprocal of a sum over voxels, "
        "whose raw value would shrink with how much of the window the ROI fills)",
}


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
    if item.kind == CONTRIBUTION:
        names = ", ".join(label(f) for f in item.feature.split(" + "))
        return (
            f"Contribution of {names} to the model's log-odds of {item.output}: for each voxel, "
            f"how much the log-odds of {item.output} (log(p / (1 - p)) of the predicted "
            "probability) change when these features take their values in the "
            f"{window} window around it{stride}, standing for the whole ROI, instead of a "
            "typical training case's; the case's other features unchanged, predicted by the "
            f"model that predicted this case. Red pushes towards {item.output}, blue away; +1 "
            f"multiplies the odds by 2.7. The whole ROI: {item.whole_roi:+.3g}. Windows hold "
            "fewer voxels than the ROI: their values are noisier, and may lie outside the range "
            f"the model was trained on. {shown}"
        )
    return (
        f"Local value of {label(item.feature)}{_SCALED.get(item.exponent, '')}: the feature "
        f"computed with the extraction's settings in the {window} window around each voxel of "
        f"the ROI's largest slice{stride}; the whole ROI's value on the same scale is "
        f"{item.whole_roi:.4g}. Bright: high values. {shown} It shows where the feature is "
        "high or low, not where the prediction comes from (see the contribution map)."
    )

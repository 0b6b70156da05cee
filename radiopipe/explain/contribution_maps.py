"""Contribution maps: where in the ROI the case's top features take values that push its prediction.

For each shown voxel of the local value maps (:mod:`radiopipe.explain.feature_maps`), the case's
model inputs are copied with the mapped features replaced by the window's values, and the model
that predicted the case (the fold model that held it out, or a bundle's model) predicts that row.
The map shows

    c(voxel) = logit_K(case, mapped features := the window's values)
             - logit_K(case, mapped features := the reference's values)

in log-odds of the explained class K (``logit p = log(p / (1 - p))`` of the model's predicted
probability; +1 multiplies the odds of K by e = 2.7). The reference is the typical training case
as the model's imputer recorded it (:func:`radiopipe.explain.anatomy.reference_frame`), the
permutation explainer's reference; the case's other inputs keep their own values. A red voxel:
had the whole ROI the texture found around it, the mapped features would move the model towards K;
blue: away from K. :attr:`FeatureMap.whole_roi` gives the same quantity for the case itself.

A window's value stands for the whole ROI's: intensive features as they are, extensive ones per
voxel times the ROI's voxel count (``value * N ** e``), "the ROI's value had every voxel the
window's texture". Why this and not the alternatives:

* the model itself is asked, so interactions between the mapped features and with the case's
  other inputs are the model's own; a SHAP dependence curve (feature value -> SHAP value across
  the cohort) would average them away and needs a smoother with a bandwidth to choose;
* it costs one batched prediction per case; occluding ROI regions would re-extract the features
  once per region, and a tree model is flat to the small changes occluding one region makes.

Limits, said in the caption: windows hold fewer voxels than the ROI, so their texture values are
noisier, and may lie outside what the model saw in training (trees then hold their edge value).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from radiopipe.explain.anatomy import reference_frame
from radiopipe.explain.feature_maps import CONTRIBUTION, LOCAL_VALUE, FeatureMap
from radiopipe.models.validation import predict_codes

_CLIP = 1e-9  # probabilities clipped to [_CLIP, 1 - _CLIP] before the logit


@dataclass(frozen=True)
class CaseModel:
    """The model that predicted a case, and the case as it saw it.

    Attributes
    ----------
    estimator : object
        A fitted radiopipe estimator (a fold model or a bundle's model).
    row : pandas.DataFrame
        The case's model inputs, one row, the estimator's columns.
    classes : list of str
        The classes in code order.
    output : str
        The class whose log-odds the map shows.
    """

    estimator: object
    row: pd.DataFrame
    classes: list[str]
    output: str


def contribution_map(maps: list[FeatureMap], model: CaseModel) -> FeatureMap | None:
    """The mapped features' joint contribution, voxel by voxel (see the module docstring).

    Parameters
    ----------
    maps : list of FeatureMap
        The case's local value maps (one slice, the same windows).
    model : CaseModel

    Returns
    -------
    FeatureMap or None
        ``kind='contribution'``, values in log-odds of ``model.output``; None when no map's
        feature is a model input.
    """
    local = [m for m in maps if m.kind == LOCAL_VALUE and m.feature in model.row.columns]
    if not local:
        return None
    first = local[0]
    # Windows the local value maps leave blank (too little of them in the ROI) stay blank here:
    # the model would otherwise impute the missing values and paint the reference's colour.
    shown = (first.window_voxels > 0) & np.logical_and.reduce(
        [np.isfinite(item.values) for item in local])
    rows = model.row.loc[model.row.index.repeat(int(shown.sum()))].reset_index(drop=True)
    for item in local:
        rows[item.feature] = item.values[shown] * float(item.roi_voxels) ** item.exponent
    reference = model.row.copy()
    statistics = reference_frame(model.estimator, model.row)
    for item in local:
        reference[item.feature] = statistics[item.feature].to_numpy()
    base = _logit(model, reference)[0]
    values = np.full(shown.shape, np.nan)
    values[shown] = _logit(model, rows) - base
    return replace(
        first,
        feature=" + ".join(item.feature for item in local),
        values=values,
        whole_roi=float(_logit(model, model.row)[0] - base),
        exponent=0,
        kind=CONTRIBUTION,
        output=model.output,
        engine=" + ".join(dict.fromkeys(item.engine for item in local)),
    )


def _logit(model: CaseModel, X: pd.DataFrame) -> np.ndarray:
    """log(p / (1 - p)) of the output class under the model, one per row."""
    proba = predict_codes(model.estimator, X, len(model.classes))
    p = np.clip(proba[:, model.classes.index(model.output)], _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))

"""The extra validations behind the design checks of ``metrics.json``: the primary model on the
main feature set validated again under other seeds, with shuffled labels, and on each
negative-control image's features.

`radiopipe.models.design_checks` turns their results into the recorded figures; the train stage
calls :func:`design_checks` and :func:`negative_image_aucs` after the main validation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radiopipe.columns import is_column
from radiopipe.errors import DataError
from radiopipe.models.design_checks import (
    auc_interval,
    auc_of,
    control_auc,
    repeat_aucs,
    shuffled_labels,
    threshold_summary,
)
from radiopipe.models.designs import design_splits
from radiopipe.models.factory import make_candidate
from radiopipe.models.fitting import FitSettings
from radiopipe.models.inputs import ModelInputs, model_inputs
from radiopipe.models.validation import ValidationResult, validate
from radiopipe.records import DesignChecks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraValidation:
    """How the extra validations run, as the main one did.

    Attributes
    ----------
    n_jobs : int
        Parallel fits (joblib).
    dask_address : str or None
        The Dask scheduler the boosters train on, if any.
    perturbed : pandas.DataFrame or None
        Perturbed-image features for the in-fold stability filter, if configured.
    """

    n_jobs: int
    dask_address: str | None = None
    perturbed: pd.DataFrame | None = None


def design_checks(model, inputs: ModelInputs, splits, primary: ValidationResult,
                  extra: ExtraValidation) -> DesignChecks:
    """Spread over repeats and seeds, the shuffled-label control and the in-fold threshold of
    the primary model on the main feature set.

    Parameters
    ----------
    model : ModelConfig
        The model section of the config (its ``cv``, ``controls`` and ``bootstrap``).
    inputs : ModelInputs
        The main feature set's design matrix, labels and groups.
    splits : list of OuterSplit
        The main design's splits.
    primary : ValidationResult
        The primary model's validation under ``splits``.
    extra : ExtraValidation
        How the extra validations (other seeds, shuffled labels) run.

    Returns
    -------
    DesignChecks
        Without negative-control images (see :func:`negative_image_aucs`).
    """
    cv = model.cv
    seeds = []
    if cv.seeds:
        seeds.append({"seed": cv.seed, "roc_auc": auc_of(inputs.y, primary)})
        for seed in (s for s in cv.seeds if s != cv.seed):
            logger.info("train: the design again with seed %d (model.cv.seeds)", seed)
            result = _validate_primary(model, inputs, inputs.y,
                                       cv.model_copy(update={"seed": seed}), extra)
            seeds.append({"seed": seed, "roc_auc": auc_of(inputs.y, result)})
    shuffled = []
    permutations = shuffled_labels(inputs.y, inputs.groups, model.controls.shuffled_labels,
                                   cv.seed)
    for k, y in enumerate(permutations):
        logger.info("train: shuffled-label control %d/%d", k + 1, len(permutations))
        result = _validate_primary(model, inputs, y, cv, extra)
        shuffled.append({"permutation": k,
                         **auc_interval(y, inputs.groups, result, model.bootstrap)})
    return DesignChecks(
        repeats=repeat_aucs(inputs.y, primary) if cv.design == "repeated_kfold" else [],
        seeds=seeds,
        shuffled_labels=shuffled,
        threshold=(threshold_summary(inputs.y, inputs.groups, primary, splits, model.bootstrap)
                   if primary.thresholds is not None else None),
    )


def negative_image_aucs(model, frame: pd.DataFrame, control_values: pd.DataFrame,
                        clinical: pd.DataFrame | None, inputs: ModelInputs, splits,
                        extra: ExtraValidation) -> list[dict]:
    """The primary model on the main set validated under ``splits`` on each negative-control
    image's features (the cases' radiomics columns replaced, every other column kept).

    Parameters
    ----------
    model : ModelConfig
        The model section of the config; ``model.controls.negative_images`` names the controls.
    frame : pandas.DataFrame
        The feature table the main validation used.
    control_values : pandas.DataFrame
        The negative-control images' features: a ``control`` and a ``case_id`` column beside
        the radiomics columns.
    clinical : pandas.DataFrame or None
        The clinical table, if configured.
    inputs : ModelInputs
        The main feature set's inputs (their columns are kept).
    splits : list of OuterSplit
        The main design's splits.
    extra : ExtraValidation
        How the validations run.

    Returns
    -------
    list of dict
        One ROC-AUC with its interval per control.

    Raises
    ------
    DataError
        A case with features has none for a control.
    """
    radiomics = [c for c in frame.columns if is_column(c)]
    classes = sorted(frame["label"].unique())
    settings = FitSettings(model.search, model.preprocessing.calibration, model.cv.seed)
    found = []
    for control in model.controls.negative_images:
        part = control_values[control_values["control"] == control].set_index("case_id")
        missing = [c for c in frame["case_id"] if c not in part.index]
        if missing:
            raise DataError(
                f"case '{missing[0]}' has features but no '{control}' negative-control features "
                f"({len(missing)} case(s) in all): see controls/failures/ and rerun 'radiopipe "
                "train CONFIG', which retries them")
        swapped = frame.copy()
        swapped[radiomics] = part.loc[frame["case_id"], radiomics].to_numpy()
        subset = model_inputs(swapped, clinical, inputs.columns, classes)
        logger.info("train: negative control '%s' under the main design's splits", control)
        candidate = make_candidate(model, model.name, subset.columns, seed=model.cv.seed,
                                   dask_address=extra.dask_address, perturbed=extra.perturbed)
        [result] = validate([candidate], subset.X, inputs.y, inputs.groups, splits, settings,
                            n_jobs=extra.n_jobs)
        found.append(control_auc(inputs.y, inputs.groups, result, control, model.bootstrap))
    return found


def _validate_primary(model, inputs: ModelInputs, y: np.ndarray, cv,
                      extra: ExtraValidation) -> ValidationResult:
    """The primary model on the main feature set, validated with labels ``y`` under the design
    ``cv`` (its splits drawn anew)."""
    splits = design_splits(cv, y, inputs.groups, inputs.sites)
    candidate = make_candidate(model, model.name, inputs.columns, seed=cv.seed,
                               dask_address=extra.dask_address, perturbed=extra.perturbed)
    settings = FitSettings(model.search, model.preprocessing.calibration, cv.seed)
    [result] = validate([candidate], inputs.X, y, inputs.groups, splits, settings,
                        n_jobs=extra.n_jobs)
    return result

"""Distribution shift: how far a new case lies from the cases a model was trained on.

The train stage keeps, in the model bundle, the training range of every numeric model input and
of the acquisition parameters (voxel spacing, intensity range), with a robust scale per feature.
``predict`` measures each new case against it: a feature is *far out* when it lies beyond the
training range by more than ``z_threshold`` robust standard deviations (1.4826 median absolute
deviations, so one standard deviation for normal data); an acquisition parameter is out when it
lies outside the training range widened by ``acquisition_margin`` (relative). A case is flagged
when more than ``max_fraction`` of its features are far out, or any acquisition parameter is out:
a prediction for it extrapolates and should not be trusted without a look. A training case is
never flagged: its values lie inside the ranges by construction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radiopipe.records import ShiftReference

# A feature whose training values barely vary gets this scale floor (relative to its magnitude),
# so that a tiny change is not an infinite z-score.
_SCALE_FLOOR = 1e-6


def fit_reference(inputs: pd.DataFrame, acquisition: pd.DataFrame, *, z_threshold: float,
                  max_fraction: float, acquisition_margin: float) -> ShiftReference:
    """The training distribution of a model's numeric inputs and acquisition parameters.

    Parameters
    ----------
    inputs : pandas.DataFrame
        The training cases' numeric model inputs (non-numeric columns are left out).
    acquisition : pandas.DataFrame
        Their acquisition parameters (may have no columns).
    z_threshold, max_fraction, acquisition_margin : float
        The flagging rules (module docstring), stored with the reference.

    Returns
    -------
    ShiftReference
    """
    numeric = inputs.select_dtypes("number")
    values = numeric.to_numpy(dtype=np.float64)
    acq = acquisition.to_numpy(dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: NaN, handled below
        median = np.nanmedian(values, axis=0)
        mad = 1.4826 * np.nanmedian(np.abs(values - median), axis=0)
        low, high = np.nanmin(acq, axis=0), np.nanmax(acq, axis=0)
        feature_low, feature_high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    floor = _SCALE_FLOOR * np.maximum(np.abs(np.nan_to_num(median)), 1.0)
    scale = np.where(np.isfinite(mad) & (mad > floor), mad, floor)
    return ShiftReference(
        features=list(numeric.columns),
        low=_listed(feature_low), high=_listed(feature_high), scale=_listed(scale),
        acquisition={c: [_plain(lo), _plain(hi)]
                     for c, lo, hi in zip(acquisition.columns, low, high, strict=True)},
        z_threshold=z_threshold, max_fraction=max_fraction,
        acquisition_margin=acquisition_margin,
    )


def shift_table(reference: ShiftReference, inputs: pd.DataFrame,
                acquisition: pd.DataFrame) -> pd.DataFrame:
    """One row per new case: how far it lies from the training distribution.

    Columns: ``shift_flagged`` (bool), ``shift_far_fraction`` (share of features far out),
    ``shift_max_sd`` (the largest distance beyond a feature's training range, in robust standard
    deviations; 0 inside every range), ``shift_features`` (up to three features furthest out,
    with that distance), ``shift_acquisition`` (acquisition parameters outside the training
    range).
    """
    values = inputs.reindex(columns=reference.features).to_numpy(dtype=np.float64)
    low = np.asarray(reference.low, dtype=np.float64)  # None (undefined): NaN
    high = np.asarray(reference.high, dtype=np.float64)
    beyond = np.maximum(low - values, values - high).clip(min=0.0)
    z = beyond / np.asarray(reference.scale, dtype=np.float64)
    z = np.where(np.isfinite(z), z, 0.0)  # a missing value is imputed in the model, not shifted
    far = (z > reference.z_threshold).mean(axis=1) if reference.features else np.zeros(len(values))
    rows = []
    for i, case_id in enumerate(inputs.index):
        order = np.argsort(-z[i], kind="stable")[:3]
        furthest = [f"{reference.features[j]} ({z[i, j]:.1f} SD beyond)" for j in order
                    if z[i, j] > reference.z_threshold]
        outside = _acquisition_outside(reference, acquisition.loc[case_id])
        rows.append({
            "case_id": case_id,
            "shift_flagged": bool(far[i] > reference.max_fraction or outside),
            "shift_far_fraction": float(far[i]),
            "shift_max_sd": float(z[i].max()) if z.shape[1] else 0.0,
            "shift_features": "; ".join(furthest),
            "shift_acquisition": "; ".join(outside),
        })
    return pd.DataFrame(rows).set_index("case_id")


def _acquisition_outside(reference: ShiftReference, row: pd.Series) -> list[str]:
    out = []
    for column, (low, high) in reference.acquisition.items():
        value = row.get(column, np.nan)
        if low is None or high is None or not np.isfinite(value):
            continue
        margin = reference.acquisition_margin * max(abs(low), abs(high), 1e-12)
        if value < low - margin or value > high + margin:
            name = column.split("__", 1)[1]
            out.append(f"{name} {value:.4g} (training {low:.4g} to {high:.4g})")
    return out


def _listed(values: np.ndarray) -> list[float | None]:
    return [_plain(v) for v in values]


def _plain(value) -> float | None:
    """A float for JSON (None where undefined)."""
    return float(value) if np.isfinite(value) else None

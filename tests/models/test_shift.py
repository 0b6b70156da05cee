"""Distribution shift: training cases are never flagged; a case far beyond a feature's training
range, or acquired with other voxels or intensities, is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radiopipe.models.shift import fit_reference, shift_table

RULES = {"z_threshold": 3.0, "max_fraction": 0.1, "acquisition_margin": 0.1}


def _cohort(n=80, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.Index([f"c{i}" for i in range(n)], name="case_id")
    inputs = pd.DataFrame({
        "original__firstorder__Mean": rng.normal(100, 10, n),
        "original__glcm__Contrast": rng.lognormal(0, 1, n),  # heavy tail
        "original__shape__VoxelVolume": np.full(n, 123.0),  # constant in training
        "clinical__sex": ["f", "m"] * (n // 2),  # not numeric: left out
    }, index=index)
    acquisition = pd.DataFrame({"acquisition__spacing_x": np.full(n, 1.0),
                                "acquisition__intensity_p99": rng.normal(250, 5, n)},
                               index=index)
    return inputs, acquisition


def test_training_cases_are_never_flagged():
    inputs, acquisition = _cohort()
    reference = fit_reference(inputs, acquisition, **RULES)
    assert reference.features == ["original__firstorder__Mean", "original__glcm__Contrast",
                                  "original__shape__VoxelVolume"]
    table = shift_table(reference, inputs, acquisition)
    assert not table["shift_flagged"].any() and (table["shift_max_sd"] == 0).all()


def test_cases_beyond_the_training_ranges_are_flagged_with_what_is_out():
    inputs, acquisition = _cohort()
    reference = fit_reference(inputs, acquisition, **RULES)
    new, new_acq = _cohort(n=4, seed=1)
    new.iloc[1, 0] = 1000.0  # intensities x10
    new_acq.iloc[1, 1] = 2500.0
    new_acq.iloc[2, 0] = 2.0  # 2 mm voxels
    new.iloc[3, 2] = 124.0  # a feature constant in training differs
    table = shift_table(reference, new, new_acq)
    assert table["shift_flagged"].tolist() == [False, True, True, True]
    assert table.loc["c1", "shift_features"].startswith("original__firstorder__Mean (")
    low, high = reference.acquisition["acquisition__intensity_p99"]
    assert table.loc["c1", "shift_acquisition"] == (
        f"intensity_p99 2500 (training {low:.4g} to {high:.4g})"
    )
    assert table.loc["c2", "shift_acquisition"] == "spacing_x 2 (training 1 to 1)"
    assert table.loc["c3", "shift_features"].startswith("original__shape__VoxelVolume (")

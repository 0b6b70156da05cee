"""The stability filter: fitted on the training cases' perturbed versions only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiopipe.models.stability import StabilityFilter


def _perturbed(n_cases=20, versions=3, seed=0):
    """'stable' follows the case, 'noisy' is noise, 'flips' is stable on the first half of the
    cases and noise on the second."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_cases):
        for v in range(versions):
            rows.append({"case_id": f"c{i}", "perturbation": f"v{v}",
                         "stable": i + rng.normal(0, 0.01),
                         "noisy": rng.normal(),
                         "flips": i + rng.normal(0, 0.01) if i < n_cases // 2 else
                         rng.normal(0, 50)})
    return pd.DataFrame(rows).set_index(["case_id", "perturbation"])


def _rows(perturbed, cases):
    originals = perturbed.xs("v0", level="perturbation")
    return originals.loc[cases].assign(age=np.arange(len(cases), dtype=float))


def test_it_keeps_the_stable_features_and_the_unmeasured_columns():
    perturbed = _perturbed()
    cases = [f"c{i}" for i in range(20)]
    selector = StabilityFilter(perturbed, threshold=0.9).fit(_rows(perturbed, cases))
    assert list(selector.get_feature_names_out()) == ["stable", "age"]
    assert selector.icc_[0] > 0.99 and abs(selector.icc_[1]) < 0.5 and np.isnan(selector.icc_[3])


def test_the_icc_is_computed_on_the_training_cases_alone():
    perturbed = _perturbed()
    first_half = [f"c{i}" for i in range(10)]
    second_half = [f"c{i}" for i in range(10, 20)]
    kept = StabilityFilter(perturbed).fit(_rows(perturbed, first_half)).get_feature_names_out()
    assert "flips" in kept
    kept = StabilityFilter(perturbed).fit(_rows(perturbed, second_half)).get_feature_names_out()
    assert "flips" not in kept


def test_a_case_without_perturbed_versions_names_the_case_and_the_fix():
    perturbed = _perturbed(n_cases=4)
    rows = pd.DataFrame({"stable": [1.0, 2.0]}, index=["c0", "c9"])
    with pytest.raises(ValueError, match="no perturbed versions of case 'c9'; rerun the robust"):
        StabilityFilter(perturbed).fit(rows)


@pytest.mark.parametrize("threshold", [1.5, -0.1])
def test_a_threshold_outside_0_1_is_refused(threshold):
    with pytest.raises(ValueError, match="'threshold' parameter of StabilityFilter must be"):
        StabilityFilter(threshold=threshold).fit(np.ones((3, 2)))


def test_without_perturbed_values_it_keeps_every_column():
    assert StabilityFilter().fit(np.ones((3, 2))).get_support().all()

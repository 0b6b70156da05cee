"""Validation designs: every split (outer and inner) keeps each patient on one side."""

from __future__ import annotations

import numpy as np
import pytest
from model_tasks import synthetic_task

from radiopipe.config import CVConfig
from radiopipe.errors import DataError
from radiopipe.models.designs import check_disjoint, design_splits

DESIGNS = {
    "kfold": CVConfig(n_splits=4, inner_splits=3),
    "repeated_kfold": CVConfig(design="repeated_kfold", n_splits=3, n_repeats=2),
    "train_val_test": CVConfig(design="train_val_test"),
    "external": CVConfig(design="external", external_sites=["east"]),
}


@pytest.mark.parametrize("design", DESIGNS)
def test_no_patient_on_both_sides_of_any_split(design):
    _, y, groups, sites, _ = synthetic_task(90, n_classes=3)
    splits = design_splits(DESIGNS[design], y, groups, sites)
    assert splits
    for split in splits:
        assert not set(groups[split.train]) & set(groups[split.test])
        assert len(np.intersect1d(split.train, split.test)) == 0
        inner_groups = groups[split.train]
        for inner_train, inner_test in split.inner:
            assert not set(inner_groups[inner_train]) & set(inner_groups[inner_test])


def test_kfold_tests_every_case_once_and_repeats_reshuffle():
    _, y, groups, sites, _ = synthetic_task(60)
    once = design_splits(DESIGNS["kfold"], y, groups, sites)
    tested = np.concatenate([s.test for s in once])
    assert sorted(tested) == list(range(len(y)))
    repeated = design_splits(DESIGNS["repeated_kfold"], y, groups, sites)
    assert [s.repeat for s in repeated] == [0, 0, 0, 1, 1, 1]
    assert not np.array_equal(repeated[0].test, repeated[3].test)


def test_train_val_test_fractions_are_by_patient_and_stratified():
    _, y, groups, sites, _ = synthetic_task(200)
    (split,) = design_splits(DESIGNS["train_val_test"], y, groups, sites)
    (inner_train, validation), = split.inner
    n_patients = len(np.unique(groups))
    share = [len(np.unique(groups[rows])) / n_patients for rows in
             (split.train[inner_train], split.train[validation], split.test)]
    np.testing.assert_allclose(share, [0.70, 0.15, 0.15], atol=0.02)
    for rows in (split.train[validation], split.test):
        assert set(y[rows]) == {0, 1}


def test_external_holds_out_whole_sites():
    _, y, groups, sites, _ = synthetic_task(60)
    (split,) = design_splits(DESIGNS["external"], y, groups, sites)
    assert set(sites[split.test]) == {"east"}
    assert "east" not in set(sites[split.train])


def test_external_refuses_a_patient_seen_at_two_sites():
    _, y, groups, sites, _ = synthetic_task(60)
    sites = sites.copy()
    first = np.flatnonzero(groups == groups[0])
    if len(first) == 1:  # give the patient a second case at another site
        groups = groups.copy()
        groups[first[0] + 1] = groups[0]
        first = np.flatnonzero(groups == groups[0])
    sites[first[0]], sites[first[-1]] = "east", "north"
    with pytest.raises(DataError, match="RPD001 patient in train and test: p000"):
        design_splits(DESIGNS["external"], y, groups, sites)


def test_unknown_external_site_and_missing_sites_are_clear_errors():
    _, y, groups, sites, _ = synthetic_task(30)
    with pytest.raises(DataError, match="unknown site\\(s\\) west; the manifest has east, north"):
        design_splits(CVConfig(design="external", external_sites=["west"]), y, groups, sites)
    with pytest.raises(DataError, match="needs a 'site' for every case"):
        design_splits(DESIGNS["external"], y, groups, np.full(len(y), None))


def test_too_few_patients_per_class_is_a_data_error():
    groups = np.array([0, 0, 1, 1, 2, 3, 4, 5])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    with pytest.raises(DataError, match="class code 1 has cases from only 2 patient"):
        design_splits(CVConfig(n_splits=3), y, groups)


def test_check_disjoint_names_the_patient():
    groups = np.array(["a", "a", "b"])
    with pytest.raises(DataError, match="RPD001 patient in train and test: a"):
        check_disjoint(groups, np.array([0, 2]), np.array([1]))

"""Validation designs as explicit splits: every split is grouped by patient and checked for it.

A design yields outer splits (the estimate) and, inside each outer training set, inner splits
(hyperparameter search, calibration): patient-grouped stratified k-fold (nested when a search
runs), repeated k-fold, a grouped train/validation/test split, and external validation on
held-out sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from radiopipe.config import CVConfig
from radiopipe.errors import DataError

Splits = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class OuterSplit:
    """One outer split.

    Attributes
    ----------
    train, test : numpy.ndarray
        Row positions.
    inner : list of (train, test)
        Splits of the outer training rows, as positions into ``train``.
    repeat, fold : int
        Repeat number and fold within it.
    """

    train: np.ndarray
    test: np.ndarray
    inner: Splits
    repeat: int = 0
    fold: int = 0


def design_splits(
    cv: CVConfig, y: np.ndarray, groups: np.ndarray, sites: np.ndarray | None = None
) -> list[OuterSplit]:
    """The outer splits of the configured design, each with its inner splits.

    Parameters
    ----------
    cv : CVConfig
        Design and its settings.
    y : array of int
        Class codes.
    groups : array
        Patient ids.
    sites : array of str or None
        Site of each row (design 'external').

    Raises
    ------
    DataError
        When the cohort cannot carry the design (too few patients per class, unknown site, a
        patient at both a training and a held-out site).
    """
    if cv.design in ("kfold", "repeated_kfold"):
        repeats = cv.n_repeats if cv.design == "repeated_kfold" else 1
        check_groups_per_class(y, groups, cv.n_splits, "model.cv.n_splits")
        out = []
        for r in range(repeats):
            outer = grouped_kfold(y, groups, cv.n_splits, cv.seed + r)
            for k, (train, test) in enumerate(outer):
                inner = grouped_kfold(y[train], groups[train], cv.inner_splits, cv.seed, lower=True)
                out.append(OuterSplit(train, test, inner, repeat=r, fold=k))
        return out
    if cv.design == "train_val_test":
        return [_train_val_test(y, groups, cv.fractions, cv.seed)]
    return [_external(y, groups, sites, cv)]


def grouped_kfold(
    y: np.ndarray, groups: np.ndarray, n_splits: int, seed: int, *, lower: bool = False,
    key: str = "model.cv.inner_splits",
) -> Splits:
    """Stratified k-fold over patients (``StratifiedGroupKFold``, shuffled by ``seed``).

    Parameters
    ----------
    lower : bool
        Lower ``n_splits`` to the patient count of the smallest class instead of raising; used
        for inner folds, whose training rows hold fewer patients. Fewer than 2 patients in a
        class still raises.
    key : str
        The setting that configures ``n_splits``, named by the error.

    Raises
    ------
    DataError
        When a class spans fewer patients than the folds need.
    """
    fewest = min(len(np.unique(groups[y == k])) for k in np.unique(y))
    if lower:
        if fewest < 2:
            code = next(k for k in np.unique(y) if len(np.unique(groups[y == k])) == fewest)
            raise DataError(
                f"{key} needs every class in at least 2 patients of each training set; class "
                f"code {code} has {fewest} patient(s) in a training set of {len(y)} cases; lower "
                "model.cv.n_splits or add patients"
            )
        n_splits = min(n_splits, fewest)
    check_groups_per_class(y, groups, max(n_splits, 2), key)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(len(y)), y, groups)]


def check_groups_per_class(y: np.ndarray, groups: np.ndarray, n_splits: int, key: str) -> None:
    """Raise a DataError unless every class spans at least ``n_splits`` patients."""
    for code in np.unique(y):
        n_groups = len(np.unique(groups[y == code]))
        if n_groups < n_splits:
            raise DataError(
                f"class code {code} has cases from only {n_groups} patient(s), fewer than "
                f"{key}={n_splits}; lower it or add patients"
            )


def check_disjoint(groups: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
    """Raise ``RPD001`` when a patient has rows on both sides of a split."""
    shared = sorted(set(groups[train]) & set(groups[test]))
    if shared:
        shown = ", ".join(str(g) for g in shared[:5])
        raise DataError(
            f"RPD001 patient in train and test: {shown}"
            f"{' and more' if len(shared) > 5 else ''}; a patient's cases must stay on one side"
        )


def _train_val_test(y, groups, fractions, seed) -> OuterSplit:
    """Patients dealt to train/validation/test per class stratum (a patient's majority label)."""
    patients, codes = np.unique(groups, return_inverse=True)
    counts = np.zeros((len(patients), int(y.max()) + 1), dtype=np.int64)
    np.add.at(counts, (codes, y), 1)
    stratum = counts.argmax(axis=1)
    rng = np.random.default_rng(seed)
    part = np.zeros(len(patients), dtype=np.int64)  # 0 train, 1 validation, 2 test
    for label in np.unique(stratum):
        members = rng.permutation(np.flatnonzero(stratum == label))
        n_val = int(round(fractions[1] * len(members)))
        n_test = int(round(fractions[2] * len(members)))
        part[members[:n_test]] = 2
        part[members[n_test : n_test + n_val]] = 1
    row_part = part[codes]
    for index, name in ((1, "validation"), (2, "test")):
        if set(np.unique(y[row_part == index])) != set(np.unique(y)):
            raise DataError(
                f"the {name} part of the train/validation/test split misses a class; add "
                "patients or raise model.cv.fractions for it"
            )
    outer_train = np.flatnonzero(row_part < 2)
    test = np.flatnonzero(row_part == 2)
    inner_part = row_part[outer_train]
    inner = [(np.flatnonzero(inner_part == 0), np.flatnonzero(inner_part == 1))]
    return OuterSplit(outer_train, test, inner)


def _external(y, groups, sites, cv: CVConfig) -> OuterSplit:
    if sites is None or any(s is None or s != s for s in sites):
        raise DataError("design 'external' needs a 'site' for every case in the manifest")
    sites = np.asarray(sites, dtype=str)
    unknown = sorted(set(cv.external_sites) - set(sites))
    if unknown:
        raise DataError(
            f"model.cv.external_sites names unknown site(s) {', '.join(unknown)}; the manifest "
            f"has {', '.join(sorted(set(sites)))}"
        )
    held_out = np.isin(sites, cv.external_sites)
    train, test = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    if len(train) == 0:
        raise DataError("model.cv.external_sites holds out every site; nothing is left to train on")
    check_disjoint(groups, train, test)
    inner = grouped_kfold(y[train], groups[train], cv.inner_splits, cv.seed, lower=True)
    return OuterSplit(train, test, inner)

"""Small synthetic modelling tasks built in code (no images): inputs with patients and sites."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radiopipe.models.infold import InputColumns

SITES = ("north", "south", "east")


def synthetic_task(
    n_patients: int = 60,
    *,
    n_classes: int = 2,
    signal: float = 1.5,
    n_features: int = 8,
    seed: int = 0,
    clinical: bool = False,
    combat: bool = False,
    embedding: int = 0,
):
    """One to three cases per patient; feature 0 and 1 carry the class, the rest is noise.

    Returns
    -------
    X : pandas.DataFrame
        Index ``case_id``; image columns ``original__firstorder__f<i>``, ``embedding`` CNN
        embedding columns ``cnn__toy__e<j>`` (the first carries the class), optional clinical
        columns and a ``site`` column (when ``combat``).
    y, groups, sites : numpy.ndarray
    columns : InputColumns
    """
    rng = np.random.default_rng(seed)
    per_patient = rng.integers(1, 4, n_patients)
    groups = np.repeat([f"p{i:03d}" for i in range(n_patients)], per_patient)
    patient_class = rng.integers(0, n_classes, n_patients)
    patient_class[:n_classes] = np.arange(n_classes)
    y = np.repeat(patient_class, per_patient)
    patient_site = np.asarray(SITES, dtype=object)[np.arange(n_patients) % len(SITES)]
    sites = np.repeat(patient_site, per_patient)
    n = len(y)
    values = rng.normal(size=(n, n_features))
    values[:, 0] += signal * y
    values[:, 1] += 0.5 * signal * y + rng.normal(size=n)
    site_shift = {"north": 0.0, "south": 2.0, "east": -1.0}
    values += np.array([site_shift[s] for s in sites])[:, None]
    image = tuple(f"original__firstorder__f{i}" for i in range(n_features))
    X = pd.DataFrame(values, columns=list(image), index=pd.Index([f"c{i:04d}" for i in range(n)],
                                                                   name="case_id"))
    embedded = tuple(f"cnn__toy__e{j}" for j in range(embedding))
    if embedding:
        vectors = rng.normal(size=(n, embedding))
        vectors[:, 0] += signal * y
        X[list(embedded)] = vectors
    numeric, categorical = (), ()
    if clinical:
        X["clinical__age"] = np.where(rng.random(n) < 0.1, np.nan, 60 + 10 * rng.normal(size=n))
        sex = rng.choice(["f", "m"], n).astype(object)
        sex[rng.random(n) < 0.1] = np.nan
        X["clinical__sex"] = sex
        numeric, categorical = ("clinical__age",), ("clinical__sex",)
    if combat:
        X["site"] = sites.astype(str)
    columns = InputColumns(
        image, numeric, categorical, "site" if combat else None, embedded,
        embedding_components=3 if embedding else 8,
    )
    return X[columns.order], y, groups, sites, columns


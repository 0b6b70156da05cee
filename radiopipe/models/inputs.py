"""A model's inputs: the feature table and the manifest's clinical columns, by feature set.

Plain functions on tables, shared by training, explanation and prediction, so that the rows and
columns a fold model saw during validation are assembled the same way when it explains them and
when a bundle predicts new cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from radiopipe.cnn.columns import split_feature_columns
from radiopipe.config import LoadedConfig, ModelConfig
from radiopipe.errors import ConfigError, DataError
from radiopipe.manifest import Manifest
from radiopipe.models.infold import InputColumns
from radiopipe.records import InputColumnsRecord
from radiopipe.table import feature_columns

CLINICAL_PREFIX = "clinical__"


@dataclass(frozen=True)
class ModelInputs:
    """Everything a model sees of a cohort.

    Attributes
    ----------
    X : pandas.DataFrame
        One row per case (index: ``case_id``), columns in ``columns.order``.
    y : numpy.ndarray
        Class codes (training) or -1 (unlabelled).
    groups : numpy.ndarray
        Patient ids.
    sites : numpy.ndarray
        Site per case (None where the manifest gives none).
    columns : InputColumns
    """

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    sites: np.ndarray
    columns: InputColumns


def clinical_table(manifest: Manifest) -> pd.DataFrame:
    """The manifest's clinical columns as strings, indexed by ``case_id``."""
    rows = {case.case_id: case.clinical for case in manifest.cases}
    return pd.DataFrame.from_dict(rows, orient="index")


def model_inputs(
    frame: pd.DataFrame,
    clinical: pd.DataFrame | None,
    columns: InputColumns,
    classes: list[str],
) -> ModelInputs:
    """Assemble the model's input table from the feature table and the manifest's columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature table (one row per case).
    clinical : pandas.DataFrame or None
        :func:`clinical_table` of the manifest; needed when ``columns`` has clinical columns.
    columns : InputColumns
        Wanted columns; clinical names carry the ``clinical__`` prefix.
    classes : list of str
        Class labels by code; a label outside them becomes -1.

    Raises
    ------
    DataError
        For a missing clinical column, a non-numeric value in a numeric column, or a missing
        site when ComBat needs it.
    """
    index = pd.Index(frame["case_id"].astype(str), name="case_id")
    image_columns = (*columns.image, *columns.embedding)
    parts = {name: frame[name].to_numpy(dtype=np.float64) for name in image_columns}
    for name in (*columns.numeric, *columns.categorical):
        parts[name] = _clinical_column(clinical, name, index, numeric=name in columns.numeric)
    sites = frame["site"].to_numpy(dtype=object)
    if columns.site is not None:
        if columns.site not in frame.columns:
            raise DataError(
                f"ComBat harmonises by '{columns.site}', which the feature table lacks; set "
                "model.preprocessing.harmonise_by to 'site' or a diagnostics__ column it has"
            )
        batches = frame[columns.site].to_numpy(dtype=object)
        missing = index[pd.isna(batches)].tolist()
        if missing:
            raise DataError(
                f"ComBat harmonisation needs a '{columns.site}' for every case; missing for "
                f"{', '.join(missing[:5])}"
            )
        parts[columns.site] = batches.astype(str)
    X = pd.DataFrame(parts, index=index, columns=columns.order)
    codes = {c: i for i, c in enumerate(classes)}
    y = frame["label"].map(lambda label: codes.get(label, -1)).to_numpy(dtype=np.int64)
    return ModelInputs(X, y, frame["patient_id"].to_numpy(dtype=object), sites, columns)


def _clinical_column(clinical, name: str, case_ids: pd.Index, *, numeric: bool) -> np.ndarray:
    column = name.removeprefix(CLINICAL_PREFIX)
    if clinical is None or column not in clinical.columns:
        have = [] if clinical is None else sorted(clinical.columns)
        raise DataError(
            f"clinical column '{column}' is not in the manifest (its extra columns: "
            f"{', '.join(have) or 'none'})"
        )
    values = clinical.loc[case_ids, column].fillna("").astype(str).str.strip()
    empty = values == ""
    if not numeric:
        return np.where(empty, np.nan, values.to_numpy(dtype=object))
    parsed = pd.to_numeric(values.where(~empty), errors="coerce")
    bad = values[parsed.isna() & ~empty]
    if len(bad):
        shown = ", ".join(f"{case} ('{v}')" for case, v in bad.head(5).items())
        raise DataError(f"clinical column '{column}' must be numeric; not a number in {shown}")
    return parsed.to_numpy(dtype=np.float64)


def input_columns(
    frame: pd.DataFrame, model: ModelConfig, feature_set: str, *, pca_components: int = 8
) -> InputColumns:
    """The input columns of one feature set.

    'image' (every image column: radiomics and CNN embeddings), 'fused' (the same, named so in
    the radiomics / CNN ablation), 'radiomics', 'cnn', 'clinical' or 'combined' (image and
    clinical), or the name of one of ``model.feature_sets`` (the feature columns its patterns
    match, see :func:`matched_columns`). CNN embeddings are reduced in-fold to
    ``pca_components`` components.

    Raises
    ------
    ConfigError
        For a configured set with a pattern that matches no feature column.
    """
    clinical = model.clinical
    radiomics, embedding = split_feature_columns(feature_columns(frame))
    configured = {s.name: s.columns for s in model.feature_sets}
    if feature_set in configured:
        chosen = set(matched_columns(feature_columns(frame), feature_set, configured[feature_set]))
        radiomics = [c for c in radiomics if c in chosen]
        embedding = [c for c in embedding if c in chosen]
    named = feature_set in configured
    use_radiomics = named or feature_set in ("image", "fused", "combined", "radiomics")
    use_cnn = named or feature_set in ("image", "fused", "combined", "cnn")
    use_clinical = feature_set in ("clinical", "combined")
    combat = model.preprocessing.harmonise == "combat" and use_radiomics and bool(radiomics)
    return InputColumns(
        image=tuple(radiomics) if use_radiomics else (),
        numeric=tuple(CLINICAL_PREFIX + c for c in clinical.numeric) if use_clinical else (),
        categorical=(
            tuple(CLINICAL_PREFIX + c for c in clinical.categorical) if use_clinical else ()
        ),
        site=model.preprocessing.harmonise_by if combat else None,
        embedding=tuple(embedding) if use_cnn else (),
        embedding_components=pca_components,
    )


def matched_columns(columns: list[str], name: str, patterns: list[str]) -> list[str]:
    """The feature columns that the glob ``patterns`` of feature set ``name`` match, in table
    order.

    Examples
    --------
    >>> matched_columns(["pet__a", "pet__b", "mr__a"], "pet", ["pet__*"])
    ['pet__a', 'pet__b']

    Raises
    ------
    ConfigError
        When a pattern matches no column (naming the set, the pattern and close columns).
    """
    for pattern in patterns:
        if not any(fnmatchcase(c, pattern) for c in columns):
            head = pattern.split("__")[0] + "__"
            near = [c for c in columns if c.startswith(head)][:3]
            hint = f" (it has {', '.join(near)}, ...)" if near else ""
            raise ConfigError(
                f"model.feature_sets '{name}': pattern '{pattern}' matches no feature column of "
                f"the feature table{hint}; correct the pattern or drop it"
            )
    return [c for c in columns if any(fnmatchcase(c, p) for p in patterns)]


def feature_sets(loaded: LoadedConfig) -> list[str]:
    """The validated feature sets, the main one first (see :func:`input_columns`).

    Clinical columns add 'image' (or 'fused') and 'clinical' beside 'combined'; features.kind
    'both' adds the radiomics-only and CNN-only ablation; ``model.feature_sets`` come last, in
    config order.
    """
    config = loaded.config
    clinical = config.model.clinical
    has_clinical = bool(clinical.numeric or clinical.categorical)
    both = config.features.kind == "both"
    image_set = "fused" if both else "image"
    sets = ["combined" if has_clinical else image_set]
    if has_clinical and clinical.compare_feature_sets:
        sets += [image_set, "clinical"]
    if both and config.cnn.compare_feature_sets:
        sets += ["radiomics", "cnn"]
    return sets + [s.name for s in config.model.feature_sets]


def columns_record(columns: InputColumns) -> InputColumnsRecord:
    """The input columns as a bundle records them."""
    return InputColumnsRecord(
        image=list(columns.image), numeric=list(columns.numeric),
        categorical=list(columns.categorical), site=columns.site,
        embedding=list(columns.embedding), embedding_components=columns.embedding_components,
    )


def columns_from_record(record: InputColumnsRecord) -> InputColumns:
    """The input columns a bundle recorded (inverse of :func:`columns_record`)."""
    return InputColumns(
        image=tuple(record.image), numeric=tuple(record.numeric),
        categorical=tuple(record.categorical), site=record.site,
        embedding=tuple(record.embedding), embedding_components=record.embedding_components,
    )

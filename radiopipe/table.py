"""The feature table: one row per case, written to parquet with its provenance.

Columns: the case metadata (:data:`META_COLUMNS`), per-row provenance (:data:`PROVENANCE_COLUMNS`),
the case's acquisition parameters (``acquisition__spacing_x``, ...; see
:mod:`radiopipe.acquisition`), its acquisition provenance (``diagnostics__manufacturer``, ...;
see :mod:`radiopipe.diagnostics`), the pyradiomics backend's own diagnostics
(``pyradiomics__diagnostics_*``, never features) and the features, named
``{image_type}__{family}__{feature}``
(``{modality}__{image_type}__{family}__{feature}`` for a multimodal case).
Run-level provenance (config hash, package versions) is stored in the parquet file's metadata
under the key ``radiopipe``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from radiopipe.columns import (
    acquisition_columns,
    diagnostics_columns,
    is_column,
    pyradiomics_columns,
    split_diagnostics,
)
from radiopipe.diagnostics import NUMBERS
from radiopipe.errors import RadiopipeError
from radiopipe.manifest import Manifest
from radiopipe.provenance import package_versions
from radiopipe.storage import atomic_write

META_COLUMNS = ("case_id", "patient_id", "label", "site")
PROVENANCE_COLUMNS = ("backend", "backend_version", "image_sha256", "mask_sha256")
METADATA_KEY = b"radiopipe"


@dataclass(frozen=True)
class CaseResult:
    """Outcome of one case.

    Attributes
    ----------
    case_id : str
    status : {'computed', 'reused', 'failed'}
    features : dict or None
        Feature values, None when the case failed.
    provenance : dict
        Image and mask hashes, backend name and version.
    reason : str or None
        Why the case failed.
    note : str or None
        Why a stored result was not reused (unreadable or altered), for the run's log.
    """

    case_id: str
    status: Literal["computed", "reused", "failed"]
    features: dict[str, float] | None
    provenance: dict[str, str]
    reason: str | None = None
    note: str | None = None


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns (``{image_type}__{family}__{feature}``) of a feature table, in table
    order."""
    return [c for c in frame.columns if is_column(c)]


def build_table(manifest: Manifest, results: Sequence[CaseResult]) -> pd.DataFrame:
    """Assemble the successful cases into a feature table, in manifest order.

    Features missing for a case (a family that could not be computed) become NaN.
    """
    cases = {c.case_id: c for c in manifest.cases}
    rows = []
    for result in results:
        if result.features is None:
            continue
        case = cases[result.case_id]
        row = {"case_id": case.case_id, "patient_id": case.patient_id, "label": case.label,
               "site": case.site}
        row.update({k: result.provenance.get(k, "") for k in PROVENANCE_COLUMNS})
        row.update(result.features)
        rows.append(row)
    columns = [*META_COLUMNS, *PROVENANCE_COLUMNS]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    features = [c for c in frame.columns if is_column(c)]
    acquisition = acquisition_columns(frame.columns)
    diagnostics = diagnostics_columns(frame.columns)
    numeric = [*acquisition, *(c for c in diagnostics if split_diagnostics(c)[1] in NUMBERS),
               *features]
    frame[numeric] = frame[numeric].astype("float64")
    return frame[[*columns, *acquisition, *diagnostics, *pyradiomics_columns(frame.columns),
                  *features]]


def write_table(
    frame: pd.DataFrame, path: Path, *, config_hash: str, failed_cases: Sequence[str] = (),
    source: dict | None = None,
) -> Path:
    """Write the table to parquet atomically, with run provenance in the file metadata.

    Parameters
    ----------
    frame : pandas.DataFrame
        The feature table.
    path : Path
        Target parquet file.
    config_hash : str
        Hash of the resolved config that produced the table.
    failed_cases : sequence of str
        Case ids of the cohort that have no row because their extraction failed.
    source : dict, optional
        Where features computed elsewhere came from (``description``, ``file``, ``sha256``;
        see :mod:`radiopipe.stages.import_features`); absent for extracted features.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    provenance = {
        "config_hash": config_hash,
        "versions": package_versions(),
        "failed_cases": list(failed_cases),
        **({"source": source} if source else {}),
    }
    metadata = {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(provenance).encode()}
    table = table.replace_schema_metadata(metadata)
    return atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read_table(path: Path) -> tuple[pd.DataFrame, dict]:
    """Read a feature table and its run provenance.

    Raises
    ------
    RadiopipeError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise RadiopipeError(
            f"no feature table at '{path.name}' in the run folder; "
            "run 'radiopipe extract CONFIG' first"
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise RadiopipeError(
            f"the feature table '{path.name}' in the run folder cannot be read ({exc}); delete "
            "it and run 'radiopipe extract CONFIG' again"
        ) from None
    provenance = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"{}"))
    return table.to_pandas(), provenance

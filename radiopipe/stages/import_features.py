"""The import stage: a pyradiomics batch CSV -> the run's ``features.parquet``, in place of
extraction, so that ``train`` and ``report`` run on features pyradiomics computed elsewhere.

Each CSV row is matched to a case of the config's manifest, which gives its case id, patient and
label: by a column of case ids (``id_column``; ``case_id`` where the CSV has one) or else by its
``Image`` and ``Mask`` paths, which resolve against the CSV's folder as pyradiomics resolves them.
A case without a row, or whose row pyradiomics left empty, is recorded in ``failures/``. The
table's rows carry the backend ``pyradiomics CSV`` with the pyradiomics version the CSV names and
the case's image and mask hashes; its metadata names the CSV and its SHA-256 (``source``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from radiopipe.config import LoadedConfig
from radiopipe.errors import DataError
from radiopipe.extraction import input_sha256
from radiopipe.manifest import Case, Manifest
from radiopipe.pyradiomics_csv import DESCRIPTION, PyradiomicsCSV, read_pyradiomics_csv
from radiopipe.run_folder import RunFolder
from radiopipe.storage import atomic_write_json, file_sha256
from radiopipe.study import cohort_manifest, open_run
from radiopipe.table import CaseResult, build_table, write_table

logger = logging.getLogger(__name__)

STAGE = "import"
BACKEND = "pyradiomics CSV"
_VERSION = "pyradiomics__diagnostics_Versions_PyRadiomics"


@dataclass(frozen=True)
class ImportOutcome:
    """What the import wrote.

    Attributes
    ----------
    run : RunFolder
    results : list of CaseResult
        One per manifest case, in manifest order.
    failed_cases : list of str
        Cases without features.
    """

    run: RunFolder
    results: list[CaseResult]
    failed_cases: list[str]


def import_features(loaded: LoadedConfig, csv_path: Path,
                    id_column: str | None = None) -> ImportOutcome:
    """Write the run's feature table from a pyradiomics batch CSV.

    Parameters
    ----------
    loaded : LoadedConfig
        The run's config (its manifest gives case ids, patients and labels).
    csv_path : Path
        pyradiomics' batch output (``--format csv``).
    id_column : str, optional
        The CSV column of case ids; default ``case_id`` where present, else paths match.

    Raises
    ------
    DataError
        If a row matches no case or two rows match one, or the CSV is not pyradiomics' output.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"pyradiomics CSV '{csv_path.name}' does not exist; pass the file that "
                        "pyradiomics wrote with --format csv")
    imported = read_pyradiomics_csv(csv_path)
    run = open_run(loaded)
    manifest = cohort_manifest(loaded, require_labels=False)
    rows = _match(imported, manifest, csv_path, id_column)
    results = [_result(case, rows.get(case.case_id), imported, run, csv_path.name)
               for case in manifest.cases]
    failed = [r.case_id for r in results if r.status == "failed"]
    source = {"description": DESCRIPTION, "file": csv_path.name,
              "sha256": file_sha256(csv_path)}
    write_table(build_table(manifest, results), run.features, config_hash=loaded.hash,
                failed_cases=failed, source=source)
    logger.info("%s: %d case(s) imported from '%s', %d without features", STAGE,
                len(results) - len(failed), csv_path.name, len(failed))
    return ImportOutcome(run, results, failed)


def _match(imported: PyradiomicsCSV, manifest: Manifest, csv_path: Path,
           id_column: str | None) -> dict:
    """case id -> the CSV row index of that case."""
    frame = imported.rows
    if id_column is None and "case_id" in frame.columns:
        id_column = "case_id"
    if id_column is not None and id_column not in frame.columns:
        raise DataError(f"'{csv_path.name}' has no column '{id_column}'; its columns: "
                        f"{', '.join(c for c in frame.columns if '__' not in c)}")
    if id_column is None:
        by_path = {(_resolved(c.image), _resolved(c.mask)): c.case_id for c in manifest.cases}
        keys = [(_resolved(csv_path.parent / str(image)), _resolved(csv_path.parent / str(mask)))
                for image, mask in zip(frame["Image"], frame["Mask"], strict=True)]
        how = "its Image and Mask paths match no case of the manifest; give the CSV a case_id "
        found = [by_path.get(key) for key in keys]
    else:
        known = {c.case_id for c in manifest.cases}
        found = [str(v) if str(v) in known else None for v in frame[id_column]]
        how = f"its {id_column} is not a case id of the manifest; "
    rows: dict[str, object] = {}
    for line, (index, case_id) in enumerate(zip(frame.index, found, strict=True), start=2):
        if case_id is None:
            raise DataError(f"'{csv_path.name}' line {line}: {how}"
                            "column (or pass --id-column) or list the case in the manifest")
        if case_id in rows:
            raise DataError(f"'{csv_path.name}' line {line}: case '{case_id}' has a row "
                            "already; keep one row per case")
        rows[case_id] = index
    return rows


def _resolved(path: Path | None) -> Path | None:
    return None if path is None else Path(path).resolve()


def _result(case: Case, index, imported: PyradiomicsCSV, run: RunFolder,
            name: str) -> CaseResult:
    """The case's imported features, or its failure (recorded in ``failures/``)."""
    row = None if index is None else imported.rows.loc[index]
    version = "" if row is None or _VERSION not in row.index else str(row[_VERSION])
    image_sha256, mask_sha256 = input_sha256(case)
    provenance = {"backend": BACKEND, "backend_version": version,
                  "image_sha256": image_sha256, "mask_sha256": mask_sha256}
    if row is not None and imported.computed(index):
        run.failure_file(case.case_id).unlink(missing_ok=True)
        values = row[[*imported.diagnostics, *imported.features]].to_dict()
        return CaseResult(case.case_id, "computed", values, provenance)
    reason = (f"case '{case.case_id}': no row in '{name}'" if row is None else
              f"case '{case.case_id}': pyradiomics computed no features for it (its row in "
              f"'{name}' is empty)")
    atomic_write_json(run.failure_file(case.case_id),
                      {"case_id": case.case_id, "error": "NoFeatures", "reason": reason})
    return CaseResult(case.case_id, "failed", None, provenance, reason)

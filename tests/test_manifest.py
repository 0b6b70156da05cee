"""Cohort manifest validation."""

from __future__ import annotations

import pytest

from radiopipe.errors import ManifestError
from radiopipe.manifest import read_manifest

HEADER = "case_id,image,mask,label,patient_id"


def _manifest(tmp_path, rows, header=HEADER, files=("a.nrrd", "b.nrrd", "m.nrrd")):
    for name in files:
        (tmp_path / name).write_bytes(b"x")
    path = tmp_path / "cohort.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_valid_manifest_resolves_paths_relative_to_itself(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,m.nrrd,yes,p1", "c2,b.nrrd,,no,p2"])
    manifest = read_manifest(path)
    assert [c.case_id for c in manifest.cases] == ["c1", "c2"]
    assert manifest.cases[0].image == tmp_path / "a.nrrd"
    assert manifest.cases[1].mask is None
    assert manifest.classes == ("no", "yes")


def test_clinical_columns_and_site_are_kept(tmp_path):
    header = HEADER + ",site,age"
    path = _manifest(
        tmp_path, ["c1,a.nrrd,m.nrrd,yes,p1,A,61", "c2,b.nrrd,m.nrrd,no,p2,B,70"], header
    )
    case = read_manifest(path).cases[0]
    assert case.site == "A"
    assert case.clinical == {"age": "61"}


def test_duplicated_case_ids(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,m.nrrd,yes,p1", "c1,b.nrrd,m.nrrd,no,p2"])
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert str(info.value) == "cohort.csv: duplicated case_id c1; every row needs its own case_id"


def test_missing_files_are_listed(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,gone.nrrd,yes,p1", "c2,lost.nrrd,m.nrrd,no,p2"])
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert str(info.value) == (
        "cohort.csv: 2 file(s) not found: c1 (mask), c2 (image); "
        "paths are relative to the manifest's folder"
    )


def test_missing_label(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,m.nrrd,,p1", "c2,b.nrrd,m.nrrd,no,p2"])
    with pytest.raises(ManifestError, match=r"cohort.csv: empty 'label' for case\(s\) c1"):
        read_manifest(path)


def test_single_class(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,m.nrrd,yes,p1", "c2,b.nrrd,m.nrrd,yes,p2"])
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert str(info.value) == (
        "cohort.csv: every case has label 'yes'; classification needs at least two classes"
    )


def test_missing_column(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,yes,p1"], header="case_id,image,label,patient_id")
    with pytest.raises(ManifestError, match="missing column\\(s\\) mask"):
        read_manifest(path)


def test_case_ids_must_be_safe_file_names(tmp_path):
    path = _manifest(tmp_path, ["../c1,a.nrrd,m.nrrd,yes,p1", "c2,b.nrrd,m.nrrd,no,p2"])
    with pytest.raises(ManifestError, match=r"invalid case_id in row 2 \('../c1'\)"):
        read_manifest(path)


def test_missing_manifest_file(tmp_path):
    with pytest.raises(ManifestError, match="does not exist"):
        read_manifest(tmp_path / "none.csv")


def test_new_cases_to_predict_need_no_labels(tmp_path):
    path = _manifest(tmp_path, ["c1,a.nrrd,m.nrrd,p1", "c2,b.nrrd,m.nrrd,p2"],
                     header="case_id,image,mask,patient_id")
    manifest = read_manifest(path, require_labels=False)
    assert [c.label for c in manifest.cases] == ["", ""]
    assert manifest.classes == ()

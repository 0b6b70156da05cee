"""Cohort extraction: failures recorded per case, atomic per-case results reused on rerun."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import make_cohort, write_config, write_image

from radiopipe.config import DataConfig, load_config
from radiopipe.errors import CaseError
from radiopipe.extraction import compute_features, extract_cohort
from radiopipe.features import batch
from radiopipe.io import read_case
from radiopipe.manifest import Case, read_manifest
from radiopipe.run_folder import RunFolder


def _extract(config_file, n_jobs=1):
    loaded = load_config(config_file)
    manifest = read_manifest(loaded.resolve(loaded.config.data.manifest))
    out = loaded.output_dir
    results = extract_cohort(
        manifest, loaded.config.features, loaded.config.data, RunFolder(out), n_jobs=n_jobs,
        progress=False,
    )
    return results, out


def test_a_failing_case_is_recorded_and_the_others_finish(config_file, cohort):
    (cohort.parent / "images" / "dark-03.nrrd").write_bytes(b"truncated upload")
    results, out = _extract(config_file, n_jobs=2)
    failed = [r for r in results if r.status == "failed"]
    assert [r.case_id for r in failed] == ["dark-03"]
    assert sum(r.status == "computed" for r in results) == 23
    record = json.loads((out / "failures" / "dark-03.json").read_text(encoding="utf-8"))
    assert record["reason"].startswith("case 'dark-03': cannot read the image (.nrrd file) (")
    assert "dark-03.nrrd" not in record["reason"] and "images" not in record["reason"]
    assert not (out / "cases" / "dark-03.json").exists()
    assert len(list((out / "cases").glob("*.json"))) == 23


def test_rerun_after_interruption_reuses_finished_cases(config_file):
    _, out = _extract(config_file)
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "cases").glob("*.json")}
    (out / "cases" / "bright-05.json").unlink()  # as if the run stopped before this case
    results, _ = _extract(config_file)
    statuses = {r.case_id: r.status for r in results}
    assert statuses.pop("bright-05") == "computed"
    assert set(statuses.values()) == {"reused"}
    for name, mtime in finished.items():
        if name != "bright-05.json":
            assert (out / "cases" / name).stat().st_mtime_ns == mtime


def test_changed_inputs_or_settings_are_recomputed(config_file, cohort):
    first, out = _extract(config_file)
    mask = cohort.parent / "masks" / "dark-00.nrrd"
    # same bytes: reused
    mask.write_bytes((cohort.parent / "masks" / "dark-01.nrrd").read_bytes() + b"")
    (cohort.parent / "images" / "dark-00.nrrd").write_bytes(
        (cohort.parent / "images" / "dark-01.nrrd").read_bytes()
    )
    results, _ = _extract(config_file)
    assert {r.case_id for r in results if r.status == "computed"} == {"dark-00"}
    text = config_file.read_text(encoding="utf-8").replace("bin_width: 10", "bin_width: 12")
    config_file.write_text(text)
    results, _ = _extract(config_file)
    assert {r.status for r in results} == {"computed"}


def test_a_fixed_case_clears_its_failure(config_file, cohort):
    image = cohort.parent / "images" / "dark-03.nrrd"
    good = image.read_bytes()
    image.write_bytes(b"broken")
    _, out = _extract(config_file)
    assert (out / "failures" / "dark-03.json").exists()
    image.write_bytes(good)
    results, _ = _extract(config_file)
    assert all(r.status != "failed" for r in results)
    assert not (out / "failures" / "dark-03.json").exists()


def _stored(out, case_id):
    return json.loads((out / "cases" / f"{case_id}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("damage", ["edited", "garbled", "empty list"])
def test_a_damaged_stored_result_is_recomputed_not_trusted(config_file, damage, caplog):
    first, out = _extract(config_file)
    path = out / "cases" / "dark-02.json"
    true_mean = _stored(out, "dark-02")["features"]["original__firstorder__Mean"]
    if damage == "edited":  # still valid JSON, one value changed
        record = _stored(out, "dark-02")
        record["features"]["original__firstorder__Mean"] = 1.0
        path.write_text(json.dumps(record), encoding="utf-8")
    elif damage == "garbled":
        path.write_bytes(bytes(range(256)) * 4)
    else:
        path.write_text("[]", encoding="utf-8")
    with caplog.at_level("WARNING", logger="radiopipe"):
        results, _ = _extract(config_file)
    statuses = {r.case_id: r.status for r in results}
    assert statuses.pop("dark-02") == "computed" and set(statuses.values()) == {"reused"}
    assert _stored(out, "dark-02")["features"]["original__firstorder__Mean"] == true_mean
    why = {"edited": "was altered after it was written", "garbled": "is unreadable",
           "empty list": "is not a result record"}[damage]
    assert f"case 'dark-02': its stored result {why}; recomputed" in caplog.text


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_a_truncated_nifti_image_is_refused(tmp_path, suffix):
    volume = np.arange(8000, dtype=np.float32).reshape(20, 20, 20)
    image = write_image(tmp_path / f"scan{suffix}", volume)
    mask = write_image(tmp_path / f"mask{suffix}", np.ones((20, 20, 20), np.uint8))
    case = Case(case_id="c1", image=image, mask=mask, label="a", patient_id="p1")
    read_case(case, DataConfig(manifest="m.csv"))  # whole files read
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 2])
    with pytest.raises(CaseError, match=rf"^case 'c1': the image \({re.escape(suffix)} file\) is "
                                        "truncated: .*; copy the file again from its source$"):
        read_case(case, DataConfig(manifest="m.csv"))


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_a_truncated_nrrd_or_metaimage_is_refused_by_its_reader(tmp_path, suffix):
    image = write_image(tmp_path / f"scan{suffix}", np.ones((20, 20, 20), np.float32))
    data = image.read_bytes()
    image.write_bytes(data[: len(data) // 2])
    case = Case(case_id="c1", image=image, mask=None, label="a", patient_id="p1")
    with pytest.raises(CaseError, match=rf"^case 'c1': cannot read the image \({re.escape(suffix)} "
                                        r"file\) \("):
        read_case(case, DataConfig(manifest="m.csv"))


def test_small_native_rois_of_a_job_are_batched_and_equal_their_own_extraction(
    tmp_path, monkeypatch
):
    manifest_path = make_cohort(tmp_path / "cohort", n_per_class=4)
    (tmp_path / "cohort" / "images" / "dark-01.nrrd").write_bytes(b"truncated upload")
    families = ["firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm"]
    config = write_config(tmp_path, manifest_path,
                          features={"backend": "native", "families": families, "bin_width": 10})
    batches = []

    def recording(cases, settings):
        batches.append(len(cases))
        return real(cases, settings)

    real = batch.extract_many
    monkeypatch.setattr(batch, "extract_many", recording)
    results, _ = _extract(config)
    assert batches == [7]  # every readable case in one batch, the unreadable one left out
    assert [r.case_id for r in results if r.status == "failed"] == ["dark-01"]
    loaded = load_config(config)
    for case, result in zip(read_manifest(loaded.resolve(loaded.config.data.manifest)).cases,
                            results):
        if result.status == "failed":
            continue
        alone = compute_features(case, loaded.config.features, loaded.config.data)
        assert list(alone) == [k for k in result.features if k in alone]
        for key, value in alone.items():
            assert result.features[key] == pytest.approx(value, rel=1e-10, abs=1e-12, nan_ok=True)

"""IBSI-2 phase 1: every filter configuration against its reference response map."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import data_folder

from radiopipe import cli
from radiopipe.compliance.ibsi2.configs import PHASE_1, FilterConfiguration
from radiopipe.compliance.ibsi2.data import map_path, phantom_path
from radiopipe.compliance.ibsi2.phase2 import (
    PHASE_2,
    REFERENCE_TABLE,
    FeatureCheck,
    processing_settings,
    read_phase_2_references,
    run_phase_2,
)
from radiopipe.compliance.ibsi2.run import (
    NOT_IMPLEMENTED,
    FilterComplianceReport,
    MapCheck,
    check_configuration,
    run_filter_compliance,
)
from radiopipe.compliance.ibsi2.table import format_filter_report
from radiopipe.compliance.reference import Reference

SLOW = {"4.a.2", "4.b.2"}
"""Configurations that take several seconds (Gabor in three planes, all orientations)."""


def _write_ijk(path, array, spacing=2.0):
    """Write an (i, j, k) array as NIfTI (SimpleITK wants (k, j, i))."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = sitk.GetImageFromArray(np.transpose(array, (2, 1, 0)))
    image.SetSpacing((spacing,) * 3)
    sitk.WriteImage(image, str(path))


# --- by hand ---------------------------------------------------------------------------------


def test_phase_1_has_one_configuration_per_reference_map():
    assert len(PHASE_1) == 33
    assert len({c.map_name for c in PHASE_1}) == 33
    assert PHASE_1[0].map_name == "1_a_1-ValidCRM.nii.gz"
    assert PHASE_1[-1].map_name == "10_b_1-ValidCRM.nii.gz"


def test_run_on_a_hand_made_folder(tmp_path):
    """A 2D 3x3 mean of an off-centre impulse: 255 / 9 over the (i, j) square of its slice."""
    image = np.zeros((7, 8, 9), dtype=np.uint8)
    image[2, 5, 6] = 255
    expected = np.zeros(image.shape, dtype=np.float32)
    expected[1:4, 4:7, 6] = 255 / 9
    config = FilterConfiguration("1.b.1", "impulse", "mean", 2, "zero", {"support": 3})
    _write_ijk(phantom_path(tmp_path, "impulse"), image)
    _write_ijk(map_path(tmp_path, config), expected)
    report = run_filter_compliance(tmp_path, [config])
    assert report.n_passed == 1
    assert report.checks[0].error == pytest.approx(0.0, abs=1e-6)
    expected[2, 5, 6] += 255 * 0.011  # one voxel 1.1 % of the range off
    _write_ijk(map_path(tmp_path, config), expected)
    check = run_filter_compliance(tmp_path, [config]).checks[0]
    assert not check.passed
    assert check.error == pytest.approx(0.011 * 255 / (255 / 9 + 255 * 0.011), rel=1e-5)


def test_a_missing_filter_counts_as_not_passed(tmp_path):
    config = FilterConfiguration("11.a", "impulse", "steerable", 3, "zero")
    check = check_configuration(tmp_path, config)
    assert (check.error, check.reason, check.passed) == (None, NOT_IMPLEMENTED, False)


def _report() -> FilterComplianceReport:
    passed = MapCheck(PHASE_1[0], 2.95e-8)
    missing = MapCheck(FilterConfiguration("11.a", "impulse", "steerable", 3, "zero"), None,
                       NOT_IMPLEMENTED)
    return FilterComplianceReport((passed, missing))


def test_table_by_hand():
    lines = format_filter_report(_report()).splitlines()
    assert lines[0].split() == ["id", "filter", "parameters", "error/range", "pass"]
    assert lines[1].split() == ["1.a.1", "mean", "3D", "support=15", "zero", "2.95e-08", "PASS"]
    assert lines[2].split() == ["11.a", "steerable", "3D", "zero", "filter", "not",
                                "implemented", "FAIL"]
    assert lines[-2:] == ["ibsi2 phase 1: 1/2 passed", "ibsi2: 1/2 passed"]


def test_command_exits_1_when_a_map_fails(monkeypatch, capsys):
    monkeypatch.setattr(cli.api, "check_filter_compliance", lambda data_dir, ct_phantom: _report())
    assert cli.main(["compliance", "--chapter", "2", "--data", "anywhere"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "ibsi2: 1/2 passed"


def test_command_names_the_missing_file(tmp_path, capsys):
    assert cli.main(["compliance", "--chapter", "2", "--data", str(tmp_path)]) == 2
    assert "digital_phantom/checkerboard/image/checkerboard.nii.gz is missing" in (
        capsys.readouterr().err)
    assert cli.main(["compliance", "--chapter", "2", "--data", str(tmp_path / "absent")]) == 2
    assert "absent not found" in capsys.readouterr().err


# --- IBSI-2 reference response maps ----------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir():
    return data_folder("ibsi2")


@pytest.mark.reference
@pytest.mark.parametrize("config", [
    pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.id in SLOW else [])
    for c in PHASE_1
])
def test_reference_response_map(data_dir, config):
    check = check_configuration(data_dir, config)
    if check.reason == NOT_IMPLEMENTED:
        pytest.xfail(NOT_IMPLEMENTED)
    assert check.passed, f"{config.id}: max error {check.error:.3%} of the reference range"


# --- phase 2 ---------------------------------------------------------------------------------


def test_phase_2_has_eighteen_filters_in_both_configurations():
    assert [c.id for c in PHASE_2][:4] == ["1.A", "1.B", "2.A", "2.B"]
    assert len(PHASE_2) == 18
    assert {c.dims for c in PHASE_2 if c.id.endswith("A")} == {2}
    assert processing_settings("A").resampled_spacing is None
    assert processing_settings("B").interpolator == "bspline"


def test_phase_2_references_skip_rows_without_a_value(tmp_path):
    path = tmp_path / REFERENCE_TABLE
    path.parent.mkdir(parents=True)
    path.write_text("filter_id;feature;feature_tag;consensus_value;tolerance\n"
                    "8.B;Mean;stat_mean;-0.5;0.2\n8.B;QCoD;stat_qcod;;\n", encoding="utf-8")
    (reference,) = read_phase_2_references(tmp_path)["8.B"]
    assert (reference.tag, reference.value, reference.tolerance) == ("stat_mean", -0.5, 0.2)
    assert reference.passes(-0.35) and not reference.passes(-0.75)


def test_phase_2_table_by_hand():
    mean = Reference("stat_mean", "stat_mean", None, -47.0, 4.6)
    skew = Reference("stat_skew", "stat_skew", None, -2.17, 0.07)
    report = FilterComplianceReport(
        (MapCheck(PHASE_1[0], 0.0),),
        (FeatureCheck("1.A", mean, -46.98), FeatureCheck("1.A", skew, -2.3)))
    lines = format_filter_report(report).splitlines()
    assert "FAILED 1.A stat_skew: radiopipe -2.3, reference -2.17 +- 0.07" in lines
    assert lines[-4].split() == ["1.A", "original", "2D", "1/2"]
    assert lines[-3:] == ["ibsi2 phase 2: 1/2 passed", "ibsi2 phase 1: 1/1 passed",
                          "ibsi2: 2/3 passed"]


def test_phase_2_names_a_missing_reference_table(tmp_path, capsys):
    data = data_folder("ibsi2")
    for config in PHASE_1:
        for path in (phantom_path(data, config.phantom), map_path(data, config)):
            target = tmp_path / path.relative_to(data)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(path)
    argv = ["compliance", "--chapter", "2", "--data", str(tmp_path), "--ct-phantom", "x"]
    assert cli.main(argv) == 2
    assert f"{REFERENCE_TABLE} is missing" in capsys.readouterr().err


@pytest.fixture(scope="module")
def phase_2_checks():
    return run_phase_2(data_folder("ibsi2"), data_folder("ibsi1"))


@pytest.mark.reference
@pytest.mark.slow
@pytest.mark.parametrize("filter_id", [c.id for c in PHASE_2])
def test_phase_2_reference_values(phase_2_checks, filter_id):
    checks = [check for check in phase_2_checks if check.filter_id == filter_id]
    assert len(checks) == (17 if filter_id == "8.B" else 18)  # 8.B stat_qcod has no consensus
    failed = [f"{c.reference.tag}: {c.value} vs {c.reference.value}" for c in checks
              if not c.passed]
    assert not failed, failed

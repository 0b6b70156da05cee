"""IBSI-2 phase 1: every filter configuration against its reference response map."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import data_folder

from radiopipe import cli
from radiopipe.compliance.ibsi2.configs import PHASE_1, FilterConfiguration
from radiopipe.compliance.ibsi2.data import map_path, phantom_path
from radiopipe.compliance.ibsi2.run import (
    NOT_IMPLEMENTED,
    FilterComplianceReport,
    MapCheck,
    check_configuration,
    run_filter_compliance,
)
from radiopipe.compliance.ibsi2.table import format_filter_report

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
    assert lines[-1] == "ibsi2 phase 1: 1/2 passed"


def test_command_exits_1_when_a_map_fails(monkeypatch, capsys):
    monkeypatch.setattr(cli.api, "check_filter_compliance", lambda data_dir: _report())
    assert cli.main(["compliance", "--chapter", "2", "--data", "anywhere"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "ibsi2 phase 1: 1/2 passed"


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

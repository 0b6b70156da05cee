"""The public API: configs in code, one case's features, results that display in Jupyter, and
the command line running through it."""

from __future__ import annotations

import pandas as pd
import pytest
from markupsafe import escape
from matplotlib.figure import Figure

import radiopipe as rp
from radiopipe import api, cli
from radiopipe.errors import CaseError, ConfigError
from radiopipe.manifest import read_manifest
from radiopipe.results import Extraction

FEATURES = {"backend": "native", "families": ["firstorder", "glcm"], "bin_width": 10}


def test_the_package_exports_the_api():
    assert set(rp.API) == set(api.__all__)
    assert all(getattr(rp, name) is getattr(api, name) for name in rp.API)
    with pytest.raises(AttributeError, match="has no attribute 'extrakt'"):
        rp.extrakt  # noqa: B018


def test_make_config_validates_like_a_file(tmp_path):
    config = rp.make_config("nb", data={"manifest": "m.csv"}, compute={"n_jobs": 2},
                            base_dir=tmp_path)
    assert config.output_dir == (tmp_path / "runs" / "nb").resolve()
    assert config.config.compute.n_jobs == 2
    with pytest.raises(ConfigError, match=r"unknown key 'features.bin_widht'; did you mean"):
        rp.make_config("nb", data={"manifest": "m.csv"}, features={"bin_widht": 5})


def test_one_case_equals_its_row_of_the_cohort_table(tmp_path, cohort):
    config = rp.make_config("t", data={"manifest": "cohort/manifest.csv"}, features=FEATURES,
                            output_dir="run", base_dir=tmp_path)
    extraction = rp.extract(config, progress=False)
    case = read_manifest(cohort).cases[3]
    values = rp.extract_case(case.image, case.mask, features=FEATURES)
    assert values.name == case.case_id
    row = extraction.features.loc[case.case_id]
    pd.testing.assert_series_equal(values, row[values.index], check_names=False)
    assert "24 case(s) x" in extraction._repr_html_() and "<table" in extraction._repr_html_()
    assert repr(extraction).startswith("Extraction(24 case(s) x")


def test_one_case_errors_name_the_problem(tmp_path, cohort):
    case = read_manifest(cohort).cases[0]
    with pytest.raises(CaseError, match="has no voxel with label 7"):
        rp.extract_case(case.image, case.mask, mask_label=7)
    with pytest.raises(ConfigError, match="features.bin_width"):
        rp.extract_case(case.image, case.mask, features={"bin_width": -1})


def test_backends_side_by_side(cohort):
    pytest.importorskip("radiomics", reason="pyradiomics (the 'reference' extra) is not installed")
    case = read_manifest(cohort).cases[0]
    table = rp.compare_backends(case.image, case.mask, features=FEATURES)
    assert list(table.columns) == ["native", "pyradiomics", "abs_difference", "rel_difference"]
    shared = table.dropna()
    assert len(shared) > 30 and shared["rel_difference"].max() < 1e-6


def test_feature_maps_draw_and_tabulate(cohort):
    case = read_manifest(cohort).cases[0]
    wanted = ["original__glcm__Contrast", "original__firstorder__Mean"]
    maps = rp.feature_maps(case.image, case.mask, wanted, settings=FEATURES, max_windows=20)
    assert [m.feature for m in maps.maps] == wanted
    frame = maps.frame()
    assert list(frame.columns) == ["row", "column", "window_voxels", *wanted]
    shown = frame["window_voxels"] > 0  # windows at least half inside the ROI
    assert shown.any() and frame.loc[shown, wanted].notna().all().all()
    assert frame.loc[~shown, wanted].isna().all().all()
    assert isinstance(maps.plot(), Figure)


def test_backend_auto_says_what_it_chose():
    choice = rp.backend_status("auto")
    assert choice.backend in ("native", "cupy")
    if choice.backend == "native":
        assert choice.reason and escape(choice.reason) in choice._repr_html_()


def test_a_run_returns_displayable_results(tmp_path, cohort):
    config = rp.make_config(
        "t", data={"manifest": "cohort/manifest.csv"}, features=FEATURES, output_dir="run",
        model={"name": "logistic", "compare": ["xgboost"], "cv": {"n_splits": 3},
               "xgboost": {"n_estimators": 30}, "bootstrap": {"n_resamples": 50}},
        explain={"enabled": True, "feature_maps": {"enabled": False}},
        report={"pdf": "never", "n_cases": 1}, base_dir=tmp_path,
    )
    run = rp.run(config, progress=False)
    assert run.failed_cases == [] and run.report.path.is_file()
    comparison = run.training.comparison
    assert list(comparison["model"]) == ["logistic", "xgboost"]
    assert comparison["roc_auc"].between(0, 1).all() and run.training.roc_auc > 0.8
    assert "Feature extraction" in run._repr_html_() and "report.html" in run._repr_html_()
    explanations = rp.explain_heldout(config)
    importance = explanations.importance()
    assert list(importance.columns) == ["feature", "mean_abs_shap"]
    assert importance["mean_abs_shap"].is_monotonic_decreasing
    assert isinstance(explanations.plot(top=5), Figure)


def test_the_command_line_runs_through_the_api(config_file, monkeypatch):
    calls = []

    def spy(loaded, *, progress):
        calls.append(loaded.source)
        return Extraction(pd.DataFrame(), {"a": "case 'a': broken"}, {}, config_file)

    monkeypatch.setattr(api, "extract", spy)
    assert cli.main(["-q", "extract", str(config_file)]) == cli.EXIT_CASES_FAILED
    assert calls == ["config.yaml"]

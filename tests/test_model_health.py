"""Model health end to end: a model that learned nothing is flagged at the top of the report, in
the command's last lines, in the model card and on every explain page of its bundle; a small
cohort with the SVM gets one line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import make_cohort, write_config

from radiopipe.cli import EXIT_USAGE, main

# No split can gain more than min_child_weight allows on 24 cases: every tree is a single leaf,
# and every case gets the base score.
CONSTANT = {"cv": {"n_splits": 3, "seed": 0},
            "xgboost": {"n_estimators": 5, "min_child_weight": 1000}}


def test_a_model_that_learned_nothing_is_flagged_everywhere(tmp_path, capsys):
    manifest = make_cohort(tmp_path / "cohort")
    config = write_config(tmp_path, manifest, model=CONSTANT)
    assert main(["-q", "run", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    saved = next(i for i, line in enumerate(lines) if line.startswith("saved model: "))
    assert lines[saved].startswith("saved model: xgboost (primary, model.name), out-of-fold "
                                   "ROC-AUC: 0.5000")
    health = lines[saved + 1:]  # the last lines, most severe first
    assert health[0].startswith("model health RPD007 (error): the model learned nothing")
    assert [line[13:19] for line in health] == ["RPD007", "RPD008", "RPD009"]

    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["health"][0]["code"] == "RPD007"
    report = (run / "report.html").read_text(encoding="utf-8")
    body = report[report.index("<body>"):]
    assert body.index('id="model-health"') < body.index("<h1>")
    assert "This model learned nothing" in body
    # No empty SHAP figures and no case pages of a model with nothing to explain.
    assert body.count("nothing to explain") == 2 and '<section class="case"' not in body
    card = json.loads((run / "model_card.json").read_text(encoding="utf-8"))
    assert next(iter(card)) == "health" and card["health"][0].startswith("RPD007 (error)")
    diagnostics = (run / "report_diagnostics.csv").read_text(encoding="utf-8")
    assert "RPD007,the model's predictions are constant" in diagnostics

    assert main(["-q", "explain", "--model", str(run / "model"), "--manifest", str(manifest),
                 "--case", "dark-00", "--out", str(tmp_path / "explained")]) == 0
    page = (tmp_path / "explained" / "explain-dark-00.html").read_text(encoding="utf-8")
    assert page.index('id="model-health"') < page.index("<h1>")
    assert "This model learned nothing" in page
    assert "(correct)" not in page and "(tie: no class predicted)" in page


def test_a_healthy_run_names_the_saved_and_the_best_compared_model(tmp_path, capsys):
    manifest = make_cohort(tmp_path / "cohort")
    model = {"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 20},
             "compare": ["logistic"]}
    config = write_config(tmp_path, manifest, model=model, explain={"enabled": False})
    assert main(["-q", "extract", str(config)]) == 0
    assert main(["-q", "train", str(config)]) == 0
    saved, best = capsys.readouterr().out.splitlines()[-2:]
    assert saved.startswith("saved model: xgboost (primary, model.name), out-of-fold ROC-AUC: ")
    assert best.startswith("best of 2 compared: ")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    if metrics["best_model"] == "logistic":
        assert best.endswith("(not saved; set model.name: logistic to save it)")
    else:
        assert best.endswith("(the saved model)")
    assert not (tmp_path / "run" / "report.html").exists()


def _svm_run(tmp_path, search: int) -> subprocess.CompletedProcess:
    # 12 cases, 3 patients per class: each outer training set holds 2 patients of a class, each
    # inner (search) training set 1.
    manifest = make_cohort(tmp_path / "cohort", n_per_class=6)
    model = {"name": "svm", "cv": {"n_splits": 3, "seed": 0}, "search": {"n_iter": search},
             "svm": {"calibration_splits": 3}}
    write_config(tmp_path, manifest, model=model, explain={"enabled": False})
    command = [sys.executable, "-m", "radiopipe"]
    assert main(["-q", "extract", str(tmp_path / "config.yaml")]) == 0
    return subprocess.run([*command, "train", "config.yaml"], cwd=tmp_path, capture_output=True,
                          encoding="utf-8", errors="replace", timeout=600)


def test_a_small_cohort_refuses_the_svm_calibration_in_one_line(tmp_path):
    done = _svm_run(tmp_path, search=2)
    assert done.returncode == EXIT_USAGE
    assert "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("radiopipe: error: model.svm.calibration_splits: the SVM's probability "
                           "calibration needs every class in at least 2 patients")
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_a_small_cohort_lowers_the_svm_calibration_folds_with_a_log_line(tmp_path):
    done = _svm_run(tmp_path, search=0)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert ("model.svm.calibration_splits=3 lowered to 2 where a training set holds only 2 "
            "patients of a class") in done.stderr
    assert "saved model: svm (primary, model.name)" in done.stdout

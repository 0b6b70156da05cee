"""Long stages say how far they are: one INFO line per finished outer-split fit, per explained
fold and per case's feature maps, through the package logger."""

from __future__ import annotations

import logging
import re

from conftest import make_cohort, write_config

from radiopipe import api


def test_train_and_explain_log_their_progress(tmp_path, caplog):
    manifest = make_cohort(tmp_path / "cohort")
    config = write_config(
        tmp_path, manifest,
        model={"cv": {"n_splits": 3, "seed": 0}, "compare": ["logistic"],
               "xgboost": {"n_estimators": 20}, "bootstrap": {"n_resamples": 20}},
        explain={"enabled": True}, report={"n_cases": 2},
    )
    caplog.set_level(logging.INFO, logger="radiopipe")
    api.run(config, progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("radiopipe")]
    fits = [line for line in lines if line.startswith("train: outer split ")]
    assert len(fits) == 6  # two models, three outer splits each
    for line in fits:
        assert re.fullmatch(r"train: outer split [1-3]/3 done \((xgboost|logistic), \d+ s; "
                            r"[1-6]/6 fits\)", line), line
    assert {line.split("; ")[1] for line in fits} == {f"{k}/6 fits)" for k in range(1, 7)}
    assert "train: refitting xgboost on all 24 cases" in lines
    shap = [line for line in lines if line.startswith("explain: SHAP ")]
    assert len(shap) == 3 and re.fullmatch(r"explain: SHAP 24/24 cases \(\d+ s\)", shap[-1])
    maps = [line for line in lines if line.startswith("feature maps: ")]
    assert [m.split(" (")[0] for m in maps] == [f"feature maps: {k}/2 cases" for k in (1, 2)]

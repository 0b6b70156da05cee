"""Stage reuse: a stage reruns when, and only when, the settings or inputs it reads changed, and
says why; an output edited since it was written is recomputed, never trusted."""

from __future__ import annotations

import logging

import pytest
from conftest import write_config

from radiopipe import api
from radiopipe.config import load_config
from radiopipe.run_folder import RunFolder
from radiopipe.stage_reuse import StageReads, record_stage, reuse_verdict

STAGES = ("extract", "train", "explain", "report")


def _run(config_file, caplog) -> dict[str, str]:
    """Run every stage; stage -> 'reused' or 'running' as the run logged it."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="radiopipe"):
        api.run(load_config(config_file), progress=False)
    verdicts = {}
    for record in caplog.records:
        stage, _, rest = record.getMessage().partition(": ")
        if stage in STAGES and rest.split(" ")[0] in ("reused", "running"):
            verdicts[stage] = rest
    return verdicts


def _state(verdicts: dict[str, str]) -> dict[str, str]:
    return {stage: verdicts[stage].split(" ")[0] for stage in STAGES}


@pytest.fixture
def tiny(tmp_path, cohort):
    """A config writer over the synthetic cohort (native engine, fast models, pages off)."""
    def write(**changes):
        sections = {
            "features": {"families": ["firstorder", "glcm"], "bin_width": 10},
            "model": {"cv": {"n_splits": 3, "seed": 0}, "xgboost": {"n_estimators": 20},
                      "bootstrap": {"n_resamples": 50}},
            "report": {"title": "first", "n_cases": 2, "pdf": "never"},
        }
        for section, values in changes.items():
            sections[section] = {**sections[section], **values}
        return write_config(tmp_path, cohort, **sections)

    return write


def test_each_edit_reruns_exactly_the_stages_that_read_it(tiny, caplog):
    assert _state(_run(tiny(), caplog)) == dict.fromkeys(STAGES, "running")
    again = _run(tiny(), caplog)
    assert _state(again) == dict.fromkeys(STAGES, "reused")
    assert again["train"] == "reused (settings and inputs unchanged)"

    title = _run(tiny(report={"title": "second"}), caplog)
    assert _state(title) == {"extract": "reused", "train": "reused", "explain": "reused",
                             "report": "running"}
    assert title["report"] == "running (settings changed: config)"

    search = _run(tiny(report={"title": "second"}, model={"search": {"n_iter": 2}}), caplog)
    assert _state(search) == {"extract": "reused", "train": "running", "explain": "running",
                              "report": "running"}
    assert search["train"] == "running (settings changed: model)"

    binning = _run(tiny(report={"title": "second"}, model={"search": {"n_iter": 2}},
                        features={"bin_width": 5}), caplog)
    assert _state(binning) == dict.fromkeys(STAGES, "running")
    assert binning["extract"] == "running (settings changed: features)"


def test_an_edited_output_is_recomputed(tiny, caplog):
    config = tiny()
    _run(config, caplog)
    run = RunFolder(load_config(config).output_dir)
    run.metrics.write_text(run.metrics.read_text(encoding="utf-8").replace('"xgboost"', '"x"', 1),
                           encoding="utf-8")
    verdicts = _run(config, caplog)
    assert verdicts["train"] == "running (metrics.json changed since it was written)"
    assert '"xgboost"' in run.metrics.read_text(encoding="utf-8")


def test_a_changed_image_reruns_extraction(tiny, caplog, cohort):
    config = tiny()
    _run(config, caplog)
    image = cohort.parent / "images" / "dark-00.nrrd"
    image.write_bytes(image.read_bytes())  # same bytes: still reused
    assert _state(_run(config, caplog))["extract"] == "reused"
    images = sorted((cohort.parent / "images").glob("*.nrrd"))
    images[0].write_bytes(images[1].read_bytes())
    assert _run(config, caplog)["extract"] == "running (inputs changed: images)"


def test_verdicts_name_what_changed(tmp_path):
    run = RunFolder(tmp_path).create()
    reads = StageReads({"model": {"n": 1}}, {"features.parquet": "a" * 64})
    assert reuse_verdict(run, "train", reads).reason == "no earlier result"
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    record_stage(run, "train", reads, [tmp_path / "out.txt"], 0.0)
    assert reuse_verdict(run, "train", reads).reuse
    changed = StageReads({"model": {"n": 2}}, {"features.parquet": "b" * 64})
    assert reuse_verdict(run, "train", changed).reason == (
        "settings changed: model; inputs changed: features.parquet"
    )
    (tmp_path / "out.txt").unlink()
    assert reuse_verdict(run, "train", reads).reason == "out.txt is missing"
    run.stage_record("train").write_text("not json", encoding="utf-8")
    assert reuse_verdict(run, "train", reads).reason == "no earlier result"


def test_the_explain_stage_fits_no_model(tiny, caplog, monkeypatch):
    config = tiny()
    _run(config, caplog)
    run = RunFolder(load_config(config).output_dir)
    run.stage_record("explain").unlink()
    fits = []

    def spy(self, *args, **kwargs):
        fits.append(type(self).__name__)
        raise AssertionError("a model was fitted to explain held-out rows")

    import imblearn.pipeline
    import sklearn.pipeline

    from radiopipe.models import boosters, fitting

    for cls in (sklearn.pipeline.Pipeline, imblearn.pipeline.Pipeline,
                boosters.XGBoostClassifier, boosters.LightGBMClassifier):
        monkeypatch.setattr(cls, "fit", spy)
    monkeypatch.setattr(fitting, "fit_candidate", spy)
    explanations = api.explain_heldout(load_config(config))
    assert fits == [] and len(explanations.values) > 0


def test_report_before_train_says_what_to_run(tiny, capsys):
    from radiopipe.cli import main

    config = tiny()
    assert main(["-q", "extract", str(config)]) == 0
    capsys.readouterr()
    assert main(["-q", "report", str(config)]) == 2
    assert capsys.readouterr().err == (
        "radiopipe: error: no metrics.json in the run folder; run 'radiopipe train CONFIG' first\n"
    )


def test_a_second_process_on_the_same_run_folder_is_refused(tiny, capsys):
    import subprocess
    import sys

    from radiopipe.cli import main

    config = tiny()
    run = RunFolder(load_config(config).output_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from radiopipe.run_folder import RunFolder, hold\n"
         f"with hold(RunFolder({str(run.root)!r})):\n"
         "    print('held', flush=True)\n"
         "    sys.stdin.readline()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, encoding="utf-8",
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert main(["-q", "run", str(config)]) == 2
        err = capsys.readouterr().err
        assert err == (f"radiopipe: error: the run folder 'run' is in use by another radiopipe "
                       f"process (pid {holder.pid}); wait for it to finish, or set another "
                       "output_dir (--out)\n")
    finally:
        holder.communicate("done\n", timeout=60)
    assert main(["-q", "extract", str(config)]) == 0  # released when the holder ended

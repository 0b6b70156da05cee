"""A cohort without labels, or with one class, is extracted; training it is refused in one line."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_cohort, write_config

from radiopipe.cli import main


@pytest.mark.parametrize(("labels", "expected"), [
    ("none", "radiopipe: error: train needs a label for every case; 6 case(s) have none"),
    ("one", "radiopipe: error: train needs at least two classes; every case with features has "
            "label 'dark'"),
])
def test_extract_runs_and_train_refuses_in_one_line(tmp_path, capsys, labels, expected):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=3)
    frame = pd.read_csv(manifest, dtype=str)
    if labels == "none":
        frame = frame.drop(columns="label")
    else:
        frame["label"] = "dark"
    frame.to_csv(manifest, index=False)
    config = write_config(tmp_path, manifest)

    assert main(["-q", "extract", str(config)]) == 0
    assert len(pd.read_parquet(tmp_path / "run" / "features.parquet")) == 6
    capsys.readouterr()
    assert main(["-q", "train", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(expected)
    assert "\n" not in err

"""configs/sts_multimodal.yaml: five real STS patients, CT + PET + MR from DICOM + RTSTRUCT as one
case each."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import yaml
from conftest import REPO
from reference_data import data_folder

from radiopipe.cli import main
from radiopipe.columns import column_modality, is_column


@pytest.mark.slow
def test_the_sts_config_extracts_three_modalities_of_five_patients_and_reuses_them(
        tmp_path, caplog):
    data_folder("sts", "dicom")
    config = yaml.safe_load((REPO / "configs" / "sts_multimodal.yaml").read_text("utf-8"))
    config["output_dir"] = str(tmp_path / "run")
    config["data"]["manifest"] = str(REPO / "configs" / config["data"]["manifest"])
    path = tmp_path / "sts.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")

    assert main(["-q", "extract", str(path)]) == 0
    table = pd.read_parquet(tmp_path / "run" / "features.parquet")
    assert table["case_id"].tolist() == [f"STS_00{i}" for i in range(1, 6)]
    modalities = [column_modality(c) for c in table.columns if is_column(c)]
    assert {m: modalities.count(m) for m in set(modalities)} == {"ct": 107, "pet": 107,
                                                                   "mr_t1": 107}
    assert table[[c for c in table.columns if is_column(c)]].notna().all().all()
    assert set(table["diagnostics__ct__modality"]) == {"CT"}

    with caplog.at_level(logging.INFO, logger="radiopipe"):
        assert main(["extract", str(path)]) == 0
    assert "extract: reused (settings and inputs unchanged)" in caplog.text

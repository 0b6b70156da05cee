"""The ablation end to end: radiomics-only, CNN-only and fused models under the same folds, with
intervals, in metrics and report; the saved bundle embeds new cases as training did."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch", reason="the CNN branch needs pip install 'radiopipe[cnn]'")

from conftest import make_cohort  # noqa: E402

from radiopipe import api  # noqa: E402
from radiopipe.cli import main  # noqa: E402
from radiopipe.config import parse_config  # noqa: E402
from radiopipe.models.bundle import load_bundle  # noqa: E402
from radiopipe.run_folder import RunFolder  # noqa: E402


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ablation")
    manifest = make_cohort(folder / "cohort", n_per_class=8)
    loaded = parse_config(
        {
            "name": "ablation",
            "output_dir": "run",
            "data": {"manifest": "cohort/manifest.csv"},
            "features": {"kind": "both", "families": ["firstorder"], "bin_width": 10},
            "cnn": {"input_size": 32, "intensity_window": [0, 255], "pca_components": 3},
            "model": {
                "name": "logistic",
                "cv": {"n_splits": 3},
                "bootstrap": {"n_resamples": 100},
            },
        },
        base_dir=folder,
    )
    outcome = api.run(loaded, progress=False)
    return loaded, manifest, outcome


def test_three_feature_sets_are_compared_under_the_same_folds(ablation):
    loaded, _, outcome = ablation
    record = outcome.training.record
    assert [c.feature_set for c in record.comparison] == ["fused", "radiomics", "cnn"]
    for entry in record.comparison:
        low, high = entry.ci["roc_auc"]
        assert low <= entry.metrics["roc_auc"] <= high
    assert record.features.kind == "both"
    assert record.features.n_embedding == 1280
    long = pd.read_parquet(RunFolder(loaded.output_dir).comparison_predictions)
    folds = long.pivot(index="case_id", columns="feature_set", values="fold")
    assert (folds["fused"] == folds["radiomics"]).all() and (folds["fused"] == folds["cnn"]).all()


def test_report_lists_the_ablation_rows(ablation):
    loaded, _, outcome = ablation
    forest = pd.read_csv(loaded.output_dir / "report_model_comparison.csv")
    assert {"logistic [fused]", "logistic [radiomics]", "logistic [cnn]"} <= set(forest["model"])
    assert outcome.report.path.is_file()


def test_bundle_reduces_embeddings_in_fold_and_predicts_new_cases(ablation, tmp_path):
    loaded, manifest, _ = ablation
    bundle = load_bundle(loaded.output_dir / "model")
    pca = bundle.estimator.named_steps["embedding_pca"]
    assert list(pca.get_feature_names_out()[-3:]) == [
        f"cnn__efficientnet_lite0__pc{i}" for i in (1, 2, 3)
    ]
    assert bundle.manifest.settings.cnn["weights_sha256"].startswith("57934424")
    out = tmp_path / "predicted"
    args = ["-q", "predict", "--model", str(loaded.output_dir / "model"), "--manifest",
            str(manifest), "--out", str(out)]
    assert main(args) == 0
    predicted = pd.read_csv(out / "predictions.csv")
    final = pd.read_parquet(RunFolder(loaded.output_dir).final_predictions)
    columns = ["proba__bright", "proba__dark"]
    np.testing.assert_allclose(predicted[columns].to_numpy(), final[columns].to_numpy(), atol=1e-6)

"""Embeddings over a cohort: deterministic, batched, cached per case, resumable, robust."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch", reason="the CNN branch needs pip install 'radiopipe[cnn]'")

from cnn_toys import write_torchscript  # noqa: E402
from conftest import make_cohort, sphere_mask, write_image  # noqa: E402

from radiopipe.cnn.backbones import BackboneOptions, load_backbone  # noqa: E402
from radiopipe.cnn.embed import aggregate, embed_inputs  # noqa: E402
from radiopipe.config import parse_config  # noqa: E402
from radiopipe.run_folder import RunFolder  # noqa: E402
from radiopipe.stages.extract import extract  # noqa: E402
from radiopipe.table import read_table  # noqa: E402

CNN = {"input_size": 32, "batch_size": 8, "intensity_window": [0, 255]}
FIRST_COLUMN = "cnn__efficientnet_lite0__e0"


def _loaded(folder, kind="cnn", **cnn):
    features = {"kind": kind, "backend": "native", "families": ["firstorder"], "bin_width": 10}
    return parse_config(
        {"name": "e", "output_dir": "run", "data": {"manifest": "cohort/manifest.csv"},
         "features": features, "cnn": {**CNN, **cnn}},
        base_dir=folder,
    )


def test_same_input_same_vector_whatever_the_batch():
    backbone = load_backbone(BackboneOptions("efficientnet_lite0", input_size=32))
    images = np.random.default_rng(0).random((5, 1, 32, 32), dtype=np.float32)
    first = embed_inputs(backbone, [images], batch_size=5)[0]
    again = embed_inputs(backbone, [images], batch_size=5)[0]
    np.testing.assert_array_equal(first, again)  # deterministic on the CPU
    split = embed_inputs(backbone, [images[:2], images[2:]], batch_size=3)
    np.testing.assert_allclose(np.concatenate(split), first, rtol=1e-4, atol=1e-5)


def test_aggregation_over_a_case_inputs():
    per_input = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, 0.5]])
    np.testing.assert_array_equal(aggregate(per_input, "mean"), [2.0, -1.0, 0.5])
    np.testing.assert_array_equal(aggregate(per_input, "max"), [3.0, 0.0, 0.5])
    with pytest.raises(ValueError, match="aggregation must be one of mean, max"):
        aggregate(per_input, "median")


def test_embeddings_are_cached_per_case_and_reused(tmp_path):
    make_cohort(tmp_path / "cohort", n_per_class=3)
    loaded = _loaded(tmp_path)
    first = extract(loaded, progress=False).results
    assert [r.status for r in first] == ["computed"] * 6
    run = RunFolder(loaded.output_dir)
    assert sorted(p.name for p in run.embeddings_dir.iterdir()) == sorted(
        f"{r.case_id}.npz" for r in first
    )
    table, _ = read_table(run.features)
    embedding = [c for c in table.columns if c.startswith("cnn__")]
    assert len(embedding) == 1280 and embedding[0] == FIRST_COLUMN
    assert set(table["backend"]) == {"cnn"}
    assert not any(c.startswith("original__") for c in table.columns)  # kind 'cnn': no radiomics

    assert extract(loaded, progress=False).reused  # nothing changed: the stage is reused
    run.stage_record("extract").unlink()  # without the stage's record, each case is reused
    second = extract(loaded, progress=False).results
    assert [r.status for r in second] == ["reused"] * 6
    again, _ = read_table(run.features)
    np.testing.assert_array_equal(again[embedding].to_numpy(), table[embedding].to_numpy())

    changed = extract(_loaded(tmp_path, margin=0.5), progress=False).results
    assert [r.status for r in changed] == ["computed"] * 6


def test_new_weights_in_the_same_file_are_embedded_again(tmp_path):
    make_cohort(tmp_path / "cohort", n_per_class=2)
    weights = write_torchscript(tmp_path / "toy.pt", seed=0)
    loaded = _loaded(tmp_path, backbone="torchscript", weights="toy.pt")
    first = extract(loaded, progress=False).results
    write_torchscript(weights, seed=1)
    second = extract(loaded, progress=False).results
    assert {r.status for r in second} == {"computed"}
    assert first[0].features["cnn__torchscript__e0"] != second[0].features["cnn__torchscript__e0"]


def test_a_failing_case_is_recorded_and_the_others_are_embedded(tmp_path):
    manifest = make_cohort(tmp_path / "cohort", n_per_class=2)
    write_image(manifest.parent / "masks" / "dark-01.nrrd", np.zeros_like(sphere_mask()))
    results = extract(_loaded(tmp_path), progress=False).results
    status = {r.case_id: r.status for r in results}
    assert status.pop("dark-01") == "failed" and set(status.values()) == {"computed"}
    failure = json.loads((tmp_path / "run" / "failures" / "dark-01.json").read_text("utf-8"))
    assert failure["reason"].startswith("case 'dark-01'") and "is empty" in failure["reason"]
    table, provenance = read_table(RunFolder(tmp_path / "run").features)
    assert "dark-01" not in set(table["case_id"]) and provenance["failed_cases"] == ["dark-01"]


def test_kind_both_joins_radiomics_and_embeddings(tmp_path):
    make_cohort(tmp_path / "cohort", n_per_class=2)
    extract(_loaded(tmp_path, kind="both"), progress=False)
    table, _ = read_table(RunFolder(tmp_path / "run").features)
    assert "original__firstorder__Mean" in table.columns and FIRST_COLUMN in table.columns
    assert set(table["backend"]) == {"native"}
    assert table[FIRST_COLUMN].notna().all()


@pytest.mark.parametrize(("colour", "policy", "shape"), [
    ("rgb", None, (30, 40, 3)), ("grey", "luminance", (30, 40)),
])
def test_colour_images_keep_rgb_or_follow_the_channel_policy(tmp_path, colour, policy, shape):
    import SimpleITK as sitk

    from radiopipe.cnn.extraction import read_cnn_case
    from radiopipe.config import CNNConfig, DataConfig
    from radiopipe.manifest import Case

    pixels = np.zeros((30, 40, 3), np.uint8)
    pixels[..., 0] = 200
    sitk.WriteImage(sitk.GetImageFromArray(pixels, isVector=True), str(tmp_path / "photo.png"))
    case = Case("photo", tmp_path / "photo.png", None, "a", "p1", None, {})
    data = DataConfig(manifest="m.csv", channel_policy=policy)
    image, mask, spacing = read_cnn_case(case, CNNConfig(colour=colour), data)
    assert image.shape == shape and mask.shape == (30, 40) and mask.all()
    assert spacing == (1.0, 1.0)
    assert image.max() == (200 if colour == "rgb" else pytest.approx(0.299 * 200))


def test_an_edited_embedding_is_recomputed(tmp_path, caplog):
    make_cohort(tmp_path / "cohort", n_per_class=1)
    loaded = _loaded(tmp_path)
    first = extract(loaded, progress=False).results
    run = RunFolder(loaded.output_dir)
    path = run.embedding_file(first[0].case_id)
    with np.load(path) as record:
        stored = {name: record[name] for name in record.files}
    stored["embedding"] = stored["embedding"] + 1.0  # valid file, altered values
    with open(path, "wb") as handle:
        np.savez(handle, **stored)
    run.stage_record("extract").unlink()
    with caplog.at_level("WARNING", logger="radiopipe"):
        again = extract(loaded, progress=False).results
    assert [r.status for r in again] == ["computed", "reused"]
    assert "the stored embedding was altered after it was written; recomputed" in caplog.text
    assert again[0].features == first[0].features

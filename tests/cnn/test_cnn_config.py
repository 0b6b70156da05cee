"""The config's CNN keys: features.kind and the cnn section, with the messages users get."""

from __future__ import annotations

import pytest

from radiopipe.config import load_config, parse_config
from radiopipe.errors import ConfigError

BASE = {"name": "t", "output_dir": "out", "data": {"builtin": "mni152_tissue"}}


def _error(data) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="c.yaml")
    return str(info.value)


def test_defaults_keep_the_radiomics_run():
    config = parse_config(BASE).config
    assert config.features.kind == "radiomics"
    assert config.cnn.backbone == "efficientnet_lite0" and config.cnn.weights is None
    assert (config.cnn.volume_mode, config.cnn.aggregation, config.cnn.pca_components) == (
        "slices", "mean", 8
    )


def test_kind_choice_is_checked_with_a_suggestion():
    message = _error({**BASE, "features": {"kind": "bath"}})
    assert message.startswith("c.yaml: 'features.kind' should be 'radiomics', 'cnn' or 'both'")
    assert message.endswith("did you mean 'both'?")


@pytest.mark.parametrize(
    ("cnn", "expected"),
    [
        ({"backbone": "onnx"}, "backbone 'onnx' needs 'weights': the model file's path"),
        ({"intensity_window": [100, -100]}, "must be [low, high] with low < high"),
        ({"mean": [0.5]}, "give 'mean' and 'std' together"),
        ({"mean": [0.5, 0.5, 0.5], "std": [0.2]}, "'mean' and 'std' need the same number"),
        ({"pca_components": 0}, "'cnn.pca_components' should be greater than or equal to 1"),
        ({"aggregation": "median"}, "'cnn.aggregation' should be 'mean' or 'max'"),
        ({"batchsize": 4}, "unknown key 'cnn.batchsize'; did you mean 'cnn.batch_size'?"),
    ],
)
def test_cnn_section_errors_name_the_key(cnn, expected):
    assert expected in _error({**BASE, "cnn": cnn})


def test_shipped_configs_validate():
    from conftest import REPO

    loaded = load_config(REPO / "configs" / "cnn.yaml")
    assert loaded.config.features.kind == "both"
    assert loaded.config.cnn.compare_feature_sets

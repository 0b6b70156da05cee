"""Config loading and validation: exact messages for the errors users make."""

from __future__ import annotations

import pytest
import yaml

from radiopipe.config import (
    RESOLVED_CONFIG_NAME,
    config_hash,
    load_config,
    parse_config,
    write_resolved_config,
)
from radiopipe.errors import ConfigError

BASE = {"name": "t", "output_dir": "out", "data": {"builtin": "mni152_tissue"}}


def _write(tmp_path, data) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def _error(tmp_path, data) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    return str(info.value)


def test_defaults_are_filled_in(tmp_path):
    loaded = load_config(_write(tmp_path, BASE))
    assert loaded.config.features.backend == "native"
    assert loaded.config.model.cv.n_splits == 5
    assert loaded.output_dir == (tmp_path / "out").resolve()


def test_unknown_key_suggests_the_close_match(tmp_path):
    data = {**BASE, "features": {"bin_widht": 5}}
    assert _error(tmp_path, data) == (
        "config.yaml: unknown key 'features.bin_widht'; did you mean 'features.bin_width'?"
    )


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(tmp_path):
    data = {**BASE, "compute": {"gpus": 2}}
    assert _error(tmp_path, data) == (
        "config.yaml: unknown key 'compute.gpus'; allowed keys here: address, "
        "distributed_training, engine, n_jobs, n_workers"
    )


def test_wrong_type_names_the_path_and_the_value(tmp_path):
    data = {**BASE, "compute": {"n_jobs": "two"}}
    assert _error(tmp_path, data) == (
        "config.yaml: 'compute.n_jobs' should be a valid integer, unable to parse string as an "
        "integer; got 'two'"
    )


def test_out_of_range_value(tmp_path):
    data = {**BASE, "features": {"bin_width": -1}}
    assert _error(tmp_path, data) == (
        "config.yaml: 'features.bin_width' should be greater than 0; got -1"
    )


def test_misspelt_choice_suggests_the_valid_one(tmp_path):
    data = {**BASE, "features": {"backend": "pyradiomic"}}
    assert _error(tmp_path, data) == (
        "config.yaml: 'features.backend' should be 'native', 'cupy', 'auto' or 'pyradiomics'; "
        "got 'pyradiomic'; did you mean 'pyradiomics'?"
    )


def test_missing_required_key(tmp_path):
    data = {k: v for k, v in BASE.items() if k != "name"}
    assert _error(tmp_path, data) == "config.yaml: 'name' is required but missing"


def test_data_needs_exactly_one_source(tmp_path):
    data = {**BASE, "data": {"builtin": "mni152_tissue", "manifest": "m.csv"}}
    assert _error(tmp_path, data) == (
        "config.yaml: 'data' set exactly one of 'builtin' (a built-in dataset) or 'manifest' "
        "(a CSV path); got {'builtin': 'mni152_tissue', 'manifest': 'm.csv'}"
    )


def test_duplicated_yaml_key_is_refused(tmp_path):
    text = "name: a\nname: b\noutput_dir: o\ndata: {builtin: mni152_tissue}\n"
    assert "key 'name' is given twice" in _error(tmp_path, text)


def test_invalid_yaml_and_non_mapping(tmp_path):
    assert _error(tmp_path, "name: [unclosed").startswith("config.yaml: not valid YAML:")
    assert _error(tmp_path, "- a\n- b\n") == (
        "config.yaml: the top level must be a mapping of keys; got a list"
    )


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_hash_ignores_key_order_and_omitted_defaults():
    explicit = {**BASE, "compute": {"n_jobs": 1}}
    reordered = dict(reversed(list(BASE.items())))
    assert parse_config(explicit).hash == parse_config(reordered).hash
    changed = {**BASE, "compute": {"n_jobs": 2}}
    assert parse_config(changed).hash != parse_config(BASE).hash


def test_resolved_config_is_written_with_its_hash(tmp_path):
    loaded = parse_config(BASE, base_dir=tmp_path)
    path = write_resolved_config(loaded, tmp_path)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert path.name == RESOLVED_CONFIG_NAME
    assert written["config_hash"] == config_hash(loaded.config)
    assert written["config"]["features"]["bin_width"] == 25.0


def test_pyradiomics_backend_refuses_what_pyradiomics_lacks(tmp_path):
    data = {**BASE, "features": {"backend": "pyradiomics", "families": ["glcm", "gldzm"]}}
    assert _error(tmp_path, data).startswith(
        "config.yaml: 'features' backend 'pyradiomics' does not support families gldzm; "
        "use backend 'native'"
    )


def test_unknown_wavelet_suggests_a_name(tmp_path):
    data = {**BASE, "features": {"wavelet": "coiff1"}}
    assert (
        "'wavelet' must be a discrete PyWavelets name such as 'coif1'; did you mean"
        in _error(tmp_path, data)
    )


def test_ivh_bins_from_the_resegmentation_range(tmp_path):
    features = {"ivh_discretisation": "fixed_bin_size", "ivh_bin_width": 2.5}
    message = _error(tmp_path, {**BASE, "features": features})
    assert "set resegment_range with both bounds" in message
    closed = {**features, "resegment_range": [-1000, 400]}
    loaded = load_config(_write(tmp_path, {**BASE, "features": closed}))
    assert loaded.config.features.ivh_bin_width == 2.5


def test_pyradiomics_backend_does_not_round_resampled_intensities(tmp_path):
    features = {"backend": "pyradiomics", "round_resampled": True}
    assert "does not support round_resampled" in _error(tmp_path, {**BASE, "features": features})

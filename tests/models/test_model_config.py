"""The model section of the config: zoo and ensemble names, designs and their checks."""

from __future__ import annotations

import pytest

from radiopipe.config import parse_config
from radiopipe.errors import ConfigError


def _model(**model):
    data = {"name": "x", "output_dir": "o", "data": {"builtin": "mni152_tissue"}, "model": model}
    return parse_config(data).config.model


def test_defaults_keep_the_single_xgboost_model():
    model = _model()
    assert model.name == "xgboost" and model.candidates == ["xgboost"]
    assert model.cv.design == "kfold" and model.search.n_iter == 0


def test_candidates_are_the_primary_then_the_compared():
    model = _model(
        name="vote",
        compare=["svm", "vote", "logistic"],
        ensembles=[{"name": "vote", "members": ["svm", "logistic"], "weights": [2, 1]}],
    )
    assert model.candidates == ["vote", "svm", "logistic"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"name": "xgbost"}, "name 'xgbost' is neither a zoo model .* did you mean 'xgboost'"),
        ({"compare": ["ridge"]}, "compare 'ridge' is neither a zoo model"),
        ({"compare": ["svm", "svm"]}, "'compare' lists a model twice"),
        (
            {"ensembles": [{"name": "e", "members": ["svm", "svm"]}]},
            "'members' must not repeat a model",
        ),
        (
            {"ensembles": [{"name": "svm", "members": ["svm", "logistic"]}]},
            "'name' 'svm' is a model of the zoo",
        ),
        (
            {"ensembles": [{"name": "e", "method": "stacking", "members": ["svm", "logistic"],
                            "weights": [1, 1]}]},
            "'weights' apply to method 'soft_voting' only",
        ),
        (
            {"ensembles": [{"name": "e", "members": ["svm", "logistic"], "weights": [1]}]},
            "one weight >= 0 per member",
        ),
        ({"cv": {"design": "external"}}, "needs 'external_sites'"),
        ({"cv": {"external_sites": ["a"]}}, "applies to design 'external' only"),
        ({"cv": {"design": "train_val_test", "fractions": [0.5, 0.2, 0.2]}}, "must sum to 1"),
        (
            {"preprocessing": {"harmonise": "combat"},
             "cv": {"design": "external", "external_sites": ["a"]}},
            "ComBat adjusts only sites seen in training",
        ),
        ({"clinical": {"numeric": ["site"]}}, "site cannot be clinical"),
        ({"search": {"scoring": "auc"}}, "did you mean 'roc_auc'"),
    ],
)
def test_invalid_model_settings_are_config_errors(model, message):
    with pytest.raises(ConfigError, match=message):
        _model(**model)


def test_a_typo_inside_an_ensemble_suggests_the_key():
    with pytest.raises(ConfigError, match="unknown key 'model.ensembles.0.membrs'; did you mean "
                                          "'model.ensembles.0.members'"):
        _model(ensembles=[{"name": "e", "membrs": ["svm", "logistic"]}])


def test_unknown_model_names_are_listed_with_the_sections_other_errors():
    with pytest.raises(ConfigError) as raised:
        _model(name="xgbost", compare=["svm", "ridge"], cvv={}, svm={"C": -1})
    lines = str(raised.value).splitlines()
    assert len(lines) == 4
    found = "\n".join(lines)
    for expected in ("unknown key 'model.cvv'", "'model.svm.C' should be greater than 0",
                     "'model.name' name 'xgbost' is neither a zoo model",
                     "'model.compare.1' compare 'ridge' is neither a zoo model"):
        assert expected in found, expected

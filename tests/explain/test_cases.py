"""Which held-out cases get a page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiopipe.errors import ConfigError
from radiopipe.explain.cases import select_cases


def _oof():
    return pd.DataFrame(
        {
            "case_id": ["a1", "a2", "a3", "b1", "b2", "b3", "u"],
            "label": ["a", "a", "a", "b", "b", "b", "a"],
            "proba__a": [0.9, 0.6, 0.2, 0.1, 0.45, 0.8, np.nan],
            "proba__b": [0.1, 0.4, 0.8, 0.9, 0.55, 0.2, np.nan],
        }
    )


def test_most_confident_correct_then_most_confident_wrong_per_class():
    chosen = select_cases(_oof(), ["a", "b"], explicit=[], n_cases=6)
    # correct a: a1 (0.9), a2 (0.6); correct b: b1 (0.9), b2; wrong a: a3; wrong b: b3
    assert chosen == ["a1", "b1", "a3", "b3", "a2", "b2"]
    assert select_cases(_oof(), ["a", "b"], explicit=[], n_cases=3) == ["a1", "b1", "a3"]


def test_configured_cases_must_have_a_held_out_prediction():
    assert select_cases(_oof(), ["a", "b"], explicit=["b2", "a1"], n_cases=6) == ["b2", "a1"]
    with pytest.raises(ConfigError, match="without a held-out prediction: u, zz"):
        select_cases(_oof(), ["a", "b"], explicit=["u", "zz"], n_cases=6)

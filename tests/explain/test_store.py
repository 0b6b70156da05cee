"""SHAP values and feature maps round-trip through parquet."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from radiopipe.explain.explainers import Explanation
from radiopipe.explain.feature_maps import CONTRIBUTION, FeatureMap
from radiopipe.explain.local_values import KERNELS, WINDOWS
from radiopipe.explain.store import (
    explanation_frame,
    maps_frame,
    maps_from_frame,
    read_explanation,
    read_metadata,
    write_explanation,
    write_maps,
)


def test_explanation_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    explanation = Explanation(
        case_ids=("a", "b"), features=("f1", "f2", "f3"), outputs=("x", "y"),
        values=rng.normal(size=(2, 3, 2)), base_values=rng.normal(size=(2, 2)),
        output_space="probability", method="permutation",
    )
    frame = explanation_frame(explanation, [0, 1])
    assert list(frame.columns) == ["case_id", "fold", "output", "base_value", "model_output",
                                   "f1", "f2", "f3"]
    assert frame["output"].tolist() == ["x", "y", "x", "y"]
    path = write_explanation(tmp_path / "shap.parquet", explanation, [0, 1], {"key": "k"})
    back, folds, meta = read_explanation(path)
    np.testing.assert_array_equal(back.values, explanation.values)
    np.testing.assert_array_equal(back.base_values, explanation.base_values)
    assert back.case_ids == ("a", "b") and back.outputs == ("x", "y") and folds.tolist() == [0, 1]
    assert meta["method"] == "permutation" and read_metadata(path)["key"] == "k"


def test_maps_round_trip():
    item = FeatureMap(
        feature="original__glcm__Contrast", slice_index=4, image=np.arange(6.0).reshape(2, 3),
        roi=np.array([[True, False, True], [True, True, False]]),
        values=np.array([[1.0, np.nan, 2.0], [3.0, 4.0, np.nan]]), window=5, stride=1,
        spacing=(0.5, 0.7), window_voxels=np.array([[90, 0, 80], [100, 125, 0]]),
        min_coverage=0.5, roi_voxels=400, whole_roi=2.5, slice_spacing=2.0, exponent=1,
        engine=KERNELS,
    )
    contribution = replace(item, feature="original__glcm__Contrast + original__glcm__Idm",
                           kind=CONTRIBUTION, output="malignant", exponent=0, whole_roi=-0.3,
                           engine=f"{KERNELS} + {WINDOWS}")
    back, back_contribution = maps_from_frame(maps_frame("c1", [item, contribution]))["c1"]
    for original, read in ((item, back), (contribution, back_contribution)):
        for name in ("feature", "spacing", "kind", "output", "exponent", "roi_voxels",
                     "min_coverage", "whole_roi", "slice_spacing", "window_mm", "engine"):
            assert getattr(read, name) == getattr(original, name), name
        np.testing.assert_array_equal(read.values, original.values)
        np.testing.assert_array_equal(read.roi, original.roi)
        np.testing.assert_array_equal(read.window_voxels, original.window_voxels)
    assert maps_from_frame(maps_frame("c1", [])) == {}
    # a table written before maps recorded their engine holds window maps
    (old,) = maps_from_frame(maps_frame("c1", [item]).drop(columns="engine"))["c1"]
    assert old.engine == WINDOWS


def test_planar_maps_round_trip_through_parquet(tmp_path):
    """A 2D case's maps have no slice spacing (NaN); a table of only such maps stores the column
    as nulls, which must read back as NaN."""
    item = FeatureMap(
        feature="original__firstorder__Mean", slice_index=0, image=np.ones((2, 2)),
        roi=np.ones((2, 2), dtype=bool), values=np.ones((2, 2)), window=3, stride=1,
        spacing=(1.0, 1.0), window_voxels=np.full((2, 2), 9), min_coverage=0.5, roi_voxels=4,
        whole_roi=1.0,
    )
    path = write_maps(tmp_path / "maps.parquet", maps_frame("c1", [item]), {})
    (back,) = maps_from_frame(pd.read_parquet(path))["c1"]
    assert np.isnan(back.slice_spacing) and back.window_mm == item.window_mm

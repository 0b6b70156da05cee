"""Re-segmentation by intensity range and outliers: by hand and against pyradiomics."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import pyradiomics_case

from radiopipe.preprocess.resegment import resegment, resegment_outliers, resegment_range

# A 3x3 image; the ROI leaves out the corner 9.
IMAGE = np.array([[-600.0, -500.0, 0.0], [400.0, 401.0, 10.0], [20.0, 30.0, 9.0]])
ROI = np.ones((3, 3), dtype=bool)
ROI[2, 2] = False


def test_range_is_closed_and_either_bound_may_be_open():
    assert resegment_range(IMAGE, ROI, -500, 400).tolist() == [
        [False, True, True], [True, False, True], [True, True, False]
    ]
    assert resegment_range(IMAGE, ROI, low=0).sum() == 6  # 0, 400, 401, 10, 20, 30
    assert resegment_range(IMAGE, ROI, high=-500).tolist()[0] == [True, True, False]
    assert np.array_equal(resegment_range(IMAGE, ROI), ROI)


def test_outliers_by_hand():
    # Twenty zeros and one 100: mean 4.76, sd 21.3, so 100 lies beyond 3 sd and is dropped.
    image = np.array([0.0] * 20 + [100.0])
    kept = resegment_outliers(image, np.ones(21, dtype=bool))
    assert kept.tolist() == [True] * 20 + [False]
    # With n = 5 the 100 (4.47 sd above the mean) stays.
    assert resegment_outliers(image, np.ones(21, dtype=bool), n_sigmas=5).all()


def test_combined_rules_use_the_same_roi_and_intersect():
    image = np.array([0.0] * 20 + [100.0, -1000.0])
    mask = np.ones(22, dtype=bool)
    kept = resegment(image, mask, intensity_range=(-500, None), outlier_sigmas=3.0)
    # Outlier statistics come from the input ROI (with -1000), not the range-filtered one.
    expected = resegment_range(image, mask, -500, None) & resegment_outliers(image, mask, 3.0)
    assert np.array_equal(kept, expected)
    assert kept.tolist() == [True] * 21 + [False]


def test_degenerate_rois_stay_defined():
    empty = np.zeros((3, 3), dtype=bool)
    assert not resegment(IMAGE, empty, intensity_range=(0, 1), outlier_sigmas=3.0).any()
    flat = np.full((2, 2), 5.0)
    assert resegment_outliers(flat, np.ones((2, 2), dtype=bool)).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="low <= high"):
        resegment_range(IMAGE, ROI, 10, -10)
    with pytest.raises(ValueError, match="'n_sigmas'"):
        resegment_outliers(IMAGE, ROI, 0)


@pytest.mark.reference
@pytest.mark.parametrize("name", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize("rule", ["range", "lower bound", "3 sigma", "1 sigma"])
def test_matches_pyradiomics(name, rule):
    case = pyradiomics_case(name)
    pytest.importorskip("radiomics")
    from radiomics import imageoperations

    image, label = case.images()
    mask = imageoperations.getMask(label)
    array, roi = sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(mask) == 1
    # Absolute thresholds at the ROI's quartiles, so every case keeps part of its ROI.
    low, high = (float(q) for q in np.percentile(array[roi], [25, 75]))
    pyradiomics_settings, ours = {
        "range": ({"resegmentRange": [low, high]}, {"intensity_range": (low, high)}),
        "lower bound": ({"resegmentRange": [low]}, {"intensity_range": (low, None)}),
        "3 sigma": ({"resegmentRange": [-3, 3], "resegmentMode": "sigma"}, {"outlier_sigmas": 3.0}),
        "1 sigma": ({"resegmentRange": [-1, 1], "resegmentMode": "sigma"}, {"outlier_sigmas": 1.0}),
    }[rule]
    reference = imageoperations.resegmentMask(image, mask, **pyradiomics_settings)
    computed = resegment(array, roi, **ours)
    np.testing.assert_array_equal(computed, sitk.GetArrayFromImage(reference) == 1)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    cupy = pytest.importorskip("cupy")
    rules = {"intensity_range": (-500, 400), "outlier_sigmas": 1.0}
    on_gpu = resegment(cupy.asarray(IMAGE), cupy.asarray(ROI), **rules)
    assert np.array_equal(cupy.asnumpy(on_gpu), resegment(IMAGE, ROI, **rules))

"""Feature maps: a feature computed voxel-wise in windows, with the extraction's settings (by
the voxel-wise engine's kernels where it covers the feature, by the family's own computation on
each window elsewhere); windows mostly outside the ROI masked, extensive features per voxel."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.ndimage import gaussian_filter

from radiopipe.columns import split_column
from radiopipe.config import FeatureConfig
from radiopipe.explain.feature_maps import extensive_exponent, feature_maps, has_map
from radiopipe.explain.local_values import KERNELS, WINDOWS
from radiopipe.features.engine import extract_features
from radiopipe.features.registry import FAMILIES
from radiopipe.io import Volume
from radiopipe.voxelwise.maps import voxel_maps

PLANAR = ((1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
SPATIAL = ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def _planar(array, roi):
    return Volume(array, *PLANAR), Volume(roi.astype(np.uint8), *PLANAR)


def test_a_3x3_window_mean_by_hand():
    image = np.arange(25, dtype=np.float64).reshape(5, 5)
    roi = np.zeros((5, 5), dtype=bool)
    roi[1:4, 1:4] = True  # values 6 7 8 / 11 12 13 / 16 17 18
    settings = FeatureConfig(families=["firstorder"], bin_width=5)
    (item,) = feature_maps(*_planar(image, roi), ["original__firstorder__Mean"], settings, window=3)
    assert item.slice_index == 0 and item.stride == 1 and item.window == 3
    np.testing.assert_array_equal(item.image, image)  # the ROI plus a margin: all of it here
    np.testing.assert_array_equal(item.roi, roi)
    assert item.values[1, 2] == pytest.approx((6 + 7 + 8 + 11 + 12 + 13) / 6)  # edge: 2x3
    assert item.values[2, 2] == pytest.approx(12.0)  # centre: the whole ROI
    assert item.whole_roi == pytest.approx(12.0) and item.window_mm == (3.0, 3.0)
    # corners: 2x2 of the ROI, 4 of 9 window voxels, under the default half: not shown
    assert np.isnan(item.values[[1, 1, 3, 3], [1, 3, 1, 3]]).all()
    assert item.window_voxels[1, 1] == 0 and item.window_voxels[1, 2] == 6
    assert np.isnan(item.values[~roi]).all()
    (inside,) = feature_maps(*_planar(image, roi), ["original__firstorder__Mean"], settings,
                             window=3, min_coverage=1.0)
    assert np.flatnonzero(np.isfinite(inside.values)).tolist() == [12]  # only the centre


@pytest.mark.parametrize(
    "feature",
    ["original__glcm__Contrast", "original__glszm__ZoneEntropy", "original__firstorder__Entropy",
     "log-sigma-1-0-mm-3D__ngtdm__Busyness", "original__firstorder__Energy"],
)
def test_a_window_holding_the_whole_roi_gives_the_extracted_value(feature):
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    settings = FeatureConfig(image_types=["original", "log"], log_sigmas=[1.0], bin_width=10)
    volume, mask = Volume(image, *SPATIAL), Volume(roi, *SPATIAL)
    expected = extract_features(volume, mask, settings)[feature]
    (item,) = feature_maps(volume, mask, [feature], settings, window=7, min_coverage=0.05)
    assert item.slice_index == 3  # the first of the ROI's equally large slices
    assert item.roi_voxels == 27 and (item.window_voxels[item.roi] == 27).all()
    # extensive features (Busyness, Energy) are shown per voxel: n ** exponent times less
    scale = 27.0 ** item.exponent
    np.testing.assert_allclose(item.values[item.roi] * scale, expected, rtol=1e-12)
    assert item.whole_roi * scale == pytest.approx(expected, rel=1e-12)


def test_the_stride_keeps_the_windows_within_the_budget_and_covers_the_shown_roi():
    image = np.random.default_rng(1).normal(size=(20, 20))
    roi = np.zeros((20, 20), dtype=bool)
    roi[2:12, 3:13] = True  # 100 voxels; the 4 corners' windows are 4/9 inside: not shown
    settings = FeatureConfig(families=["glcm"], bin_width=0.5)
    (item,) = feature_maps(*_planar(image, roi), ["original__glcm__JointEntropy"], settings,
                           window=3, max_windows=30)
    assert item.stride == 2  # 24 windows on every second voxel of both axes
    shown = item.window_voxels > 0
    assert shown.sum() == 96 and np.isfinite(item.values[shown]).all()
    assert np.isnan(item.values[~shown]).all()


def _sphere(radius: int, size: int) -> np.ndarray:
    grid = np.indices((size,) * 3) - size // 2
    return (grid**2).sum(axis=0) <= radius**2


def test_an_energy_map_reads_the_intensity_not_the_roi_voxels_in_the_window():
    roi = _sphere(7, 21)
    noisy = 100 + np.random.default_rng(2).normal(0, 5, roi.shape)
    settings = FeatureConfig(families=["firstorder"], bin_width=5)
    feature = "original__firstorder__Energy"
    uniform_map, noisy_map = (
        feature_maps(Volume(image, *SPATIAL), Volume(roi.astype(np.uint8), *SPATIAL), [feature],
                     settings, window=5)[0]
        for image in (np.full(roi.shape, 100.0), noisy)
    )
    shown = uniform_map.window_voxels > 0
    counts = uniform_map.window_voxels[shown]
    assert counts.min() < 0.75 * counts.max()  # rim windows hold fewer ROI voxels than inner ones
    # a uniform region gives a flat map: Energy per ROI voxel of the window is 100 ** 2
    np.testing.assert_allclose(uniform_map.values[shown], 100.0**2, rtol=1e-12)
    assert uniform_map.whole_roi == pytest.approx(100.0**2)
    values = noisy_map.values[shown]
    assert abs(np.corrcoef(values, counts)[0, 1]) < 0.3
    assert np.corrcoef(values * counts, counts)[0, 1] > 0.9  # what the window's sum would track
    # windows less than half inside the ROI are not shown: ROI voxels at the rim stay blank
    rim = uniform_map.roi & ~shown
    assert rim.any() and np.isnan(uniform_map.values[rim]).all()
    assert np.isnan(uniform_map.values[~uniform_map.roi]).all()


def test_the_extensive_exponents_are_how_each_feature_grows_with_the_voxel_count():
    """Doubling a periodic texture doubles the voxels at the same texture: a feature of exponent
    e is multiplied by 2 ** e. GLDZM's distance features measure how far zones lie from the ROI's
    edge, which depends on the ROI's thickness rather than its voxel count: not tested."""
    block = 100 + 400 * gaussian_filter(np.random.default_rng(0).normal(size=(12, 12, 12)), 1.0,
                                        mode="wrap")
    settings = FeatureConfig(bin_width=10, families=["firstorder", "glcm", "glrlm", "glszm",
                                                      "gldm", "ngtdm", "gldzm", "ngldm"])

    def features(image):
        roi = np.pad(np.ones(image.shape, np.uint8), 2)
        return extract_features(Volume(np.pad(image, 2), *SPATIAL), Volume(roi, *SPATIAL),
                                settings)

    single, double = features(block), features(np.concatenate([block, block]))
    distance = {"LargeDistanceEmphasis", "LargeDistanceLowGrayLevelEmphasis",
                "LargeDistanceHighGrayLevelEmphasis", "ZoneDistanceVariance"}
    tested = [f for f in single if has_map(f) and single[f] != 0
              and not (split_column(f)[1] == "gldzm" and split_column(f)[2] in distance)]
    declared = {(f.name, name) for f in FAMILIES.values() for name, _ in f.extensive}
    assert {(split_column(f)[1], split_column(f)[2]) for f in tested} >= declared
    measured = {f: np.log2(double[f] / single[f]) for f in tested}
    wrong = {f: round(e, 2) for f, e in measured.items()
             if not abs(e - extensive_exponent(f)) < 0.35}
    assert wrong == {}


def test_which_features_have_maps():
    assert has_map("original__glcm__Contrast")
    assert has_map("wavelet-LLH__firstorder__Mean")
    assert not has_map("original__shape__Sphericity")  # the whole ROI's shape
    assert not has_map("original__local_intensity__LocalPeak")  # already local
    assert not has_map("clinical__age")
    assert not has_map("cnn__resnet18__embedding")
    assert feature_maps(*_planar(np.zeros((3, 3)), np.ones((3, 3), bool)),
                        ["original__shape__Sphericity"], FeatureConfig()) == []


def _textured_sphere(seed: int, size: int = 17, radius: int = 6):
    """A float32 texture (smoothed noise) in a spherical ROI, away from the image's edge."""
    texture = gaussian_filter(np.random.default_rng(seed).normal(size=(size,) * 3), 1.0)
    image = (100 + 300 * texture).astype(np.float32)
    return Volume(image, *SPATIAL), Volume(_sphere(radius, size).astype(np.uint8), *SPATIAL)


KERNEL_FEATURES = [
    "original__firstorder__Mean", "original__firstorder__Energy", "original__firstorder__Entropy",
    "original__glcm__Contrast", "original__glcm__Idmn", "original__glcm__MCC",
    "original__glrlm__RunLengthNonUniformity", "original__glszm__ZoneEntropy",
    "original__gldm__DependenceNonUniformity", "original__ngtdm__Coarseness",
    "log-sigma-1-0-mm-3D__glcm__Idm", "log-sigma-1-0-mm-3D__firstorder__Median",
    "log-sigma-1-0-mm-3D__ngtdm__Busyness",
]


@pytest.mark.parametrize("window", [3, 5])
def test_a_3d_pyradiomics_map_is_the_voxel_wise_maps_value_at_each_centre(window):
    """Every computed centre of the report's map holds the voxel-wise engine's value at that
    voxel (kernel radius window // 2, masked), an extensive feature's divided by the ROI voxels
    of its window raised to its exponent."""
    volume, mask = _textured_sphere(3)
    settings = FeatureConfig(image_types=["original", "log"], log_sigmas=[1.0], bin_width=20)
    maps = feature_maps(volume, mask, KERNEL_FEATURES, settings, window=window,
                        max_windows=10_000, min_coverage=0.3)
    expected = voxel_maps(volume, mask, KERNEL_FEATURES, settings, kernel_radius=window // 2,
                          extent="image", n_threads=1)
    corner = np.maximum(np.argwhere(mask.array).min(axis=0)[1:] - 3, 0)  # the view: box + 3
    assert [item.feature for item in maps] == KERNEL_FEATURES
    for item in maps:
        assert item.engine == KERNELS and item.stride == 1  # every shown voxel is a centre
        shown = item.window_voxels > 0
        rows, columns = np.nonzero(shown)
        assert len(rows) > 100
        voxel = sitk.GetArrayFromImage(expected[item.feature])[
            item.slice_index, rows + corner[0], columns + corner[1]]
        assert np.isfinite(voxel).all(), item.feature
        scaled = voxel / item.window_voxels[shown].astype(np.float64) ** item.exponent
        np.testing.assert_allclose(item.values[shown], scaled, rtol=1e-9, atol=1e-12,
                                   err_msg=item.feature)
    assert {item.exponent for item in maps} == {-1, 0, 1}


def test_the_kernels_are_evaluated_at_the_centres_of_a_strided_map_only():
    volume, mask = _textured_sphere(4)
    settings = FeatureConfig(bin_width=20)
    feature = "original__glcm__JointEntropy"
    (item,) = feature_maps(volume, mask, [feature], settings, window=5, max_windows=20)
    assert item.stride > 1 and item.engine == KERNELS
    expected = sitk.GetArrayFromImage(voxel_maps(volume, mask, [feature], settings,
                                                 kernel_radius=2, extent="image")[feature])
    corner = np.maximum(np.argwhere(mask.array).min(axis=0)[1:] - 3, 0)
    points = np.argwhere(item.window_voxels > 0)
    origin = points.min(axis=0)
    centres = points[((points - origin) % item.stride == 0).all(axis=1)]
    assert 0 < len(centres) <= 20
    voxel = expected[item.slice_index, centres[:, 0] + corner[0], centres[:, 1] + corner[1]]
    np.testing.assert_allclose(item.values[tuple(centres.T)], voxel, rtol=1e-9)


def test_groups_the_voxel_wise_engine_does_not_cover_keep_the_window_path():
    """GLDZM and NGLDM have no kernels, IBSI definitions and GLCMs at several distances are not
    what the kernels compute, a 2D image has no 3D kernel: their maps come from the family's
    own computation on each window, whose window holding the whole ROI gives the extracted
    value."""
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, size=(9, 9, 9))
    roi = np.zeros(image.shape, dtype=np.uint8)
    roi[3:6, 3:6, 3:6] = 1
    volume, mask = Volume(image, *SPATIAL), Volume(roi, *SPATIAL)
    cases = [
        (FeatureConfig(bin_width=10, families=["glcm", "gldzm", "ngldm"]),
         {"original__gldzm__ZoneDistanceEntropy": WINDOWS, "original__ngldm__DependenceEntropy":
          WINDOWS, "original__glcm__Contrast": KERNELS}),
        (FeatureConfig(bin_width=10, definitions="ibsi"),
         {"original__glcm__Contrast": WINDOWS, "original__firstorder__Mean": WINDOWS}),
        (FeatureConfig(bin_width=10, distances=[1, 2]),
         {"original__glcm__Contrast": WINDOWS, "original__firstorder__Mean": KERNELS}),
        (FeatureConfig(bin_width=10, aggregation="3D_comb"),
         {"original__glrlm__RunEntropy": WINDOWS, "original__glszm__ZoneEntropy": KERNELS}),
    ]
    for settings, engines in cases:
        expected = extract_features(volume, mask, settings)
        maps = feature_maps(volume, mask, list(engines), settings, window=7, min_coverage=0.05)
        assert {item.feature: item.engine for item in maps} == engines
        for item in maps:
            np.testing.assert_allclose(item.values[item.roi], expected[item.feature],
                                       rtol=1e-12, err_msg=item.feature)
    flat = np.arange(25, dtype=np.float64).reshape(5, 5)
    (planar,) = feature_maps(*_planar(flat, flat > 5), ["original__glcm__Contrast"],
                             FeatureConfig(bin_width=5), window=3)
    assert planar.engine == WINDOWS

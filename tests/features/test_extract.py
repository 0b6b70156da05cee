"""One case through the native engine: degenerate ROIs give defined values, bad ones clear
errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from radiopipe.config import FeatureConfig
from radiopipe.features.binning import bin_dtype
from radiopipe.features.engine import extract_features
from radiopipe.features.extract import prepare_case
from radiopipe.io import Volume

IDENTITY = tuple(np.eye(3).ravel())
SETTINGS = FeatureConfig(image_types=["original"])


def _volume(array):
    return Volume(array, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), IDENTITY)


def _extract(image, mask, settings=SETTINGS):
    return extract_features(_volume(image), _volume(mask), settings)


def _nan_families(features):
    return {key.split("__")[1] for key, value in features.items() if math.isnan(value)}


@pytest.fixture
def image():
    return np.random.default_rng(0).normal(100.0, 20.0, (10, 12, 12))


def test_one_grey_level_gives_no_nan(image):
    mask = np.zeros(image.shape, bool)
    mask[3:6, 3:6, 3:6] = True
    image[mask] = 100.0
    features = _extract(image, mask)
    assert _nan_families(features) == set()
    assert features["original__firstorder__Entropy"] == 0.0
    assert features["original__glcm__JointEnergy"] == pytest.approx(1.0)
    assert features["original__glszm__ZonePercentage"] == pytest.approx(1 / 27)


def test_one_slice_mask_uses_in_plane_directions(image):
    mask = np.zeros(image.shape, bool)
    mask[4, 2:9, 2:9] = True
    assert _nan_families(_extract(image, mask)) == set()
    features = _extract(image, mask, FeatureConfig(image_types=["original"], definitions="ibsi"))
    assert not math.isnan(features["original__glcm__Contrast"])
    assert not math.isnan(features["original__glrlm__RunPercentage"])
    # A flat ROI has no third principal axis; that one IBSI ratio alone is undefined.
    assert {k for k, v in features.items() if math.isnan(v)} == {
        "original__shape__VolumeDensityApproximateEnclosingEllipsoid"
    }


def test_pyradiomics_definitions_report_pyradiomics_feature_set(image):
    mask = np.zeros(image.shape, bool)
    mask[2:8, 3:9, 3:9] = True
    families = ["firstorder", "shape", "glcm", "gldzm"]
    settings = FeatureConfig(image_types=["original"], families=families)
    pyradiomics_set = _extract(image, mask, settings)
    ibsi_set = _extract(image, mask, settings.model_copy(update={"definitions": "ibsi"}))
    for ibsi_extra in ("shape__Compactness1", "shape__MoransI", "glcm__SumVariance"):
        assert f"original__{ibsi_extra}" not in pyradiomics_set
        assert f"original__{ibsi_extra}" in ibsi_set
    # pyradiomics has no GLDZM: the family is reported whole under either definitions.
    assert "original__gldzm__SmallDistanceEmphasis" in pyradiomics_set


def test_one_voxel_has_no_voxel_pairs(image):
    mask = np.zeros(image.shape, bool)
    mask[5, 5, 5] = True
    features = _extract(image, mask)
    assert features["original__shape__VoxelVolume"] == 1.0
    assert features["original__firstorder__Mean"] == image[5, 5, 5]
    assert features["original__glszm__SmallAreaEmphasis"] == 1.0
    # No direction fits inside a single voxel, so co-occurrences and runs are undefined there
    # (pyradiomics refuses such a ROI outright); elongation and flatness are 0/0.
    assert _nan_families(features) == {"glcm", "glrlm", "shape"}


def test_empty_mask_is_a_clear_error(image):
    with pytest.raises(ValueError, match="empty"):
        _extract(image, np.zeros(image.shape, bool))


def test_planar_image_uses_2d_shape():
    rng = np.random.default_rng(1)
    image = rng.normal(50.0, 5.0, (20, 20))
    mask = np.zeros((20, 20), bool)
    mask[5:15, 4:12] = True
    volume = Volume(image, (0.5, 0.5), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
    roi = Volume(mask, (0.5, 0.5), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
    features = extract_features(volume, roi, SETTINGS)
    assert features["original__shape__PixelSurface"] == pytest.approx(80 * 0.25)
    assert "original__shape__MeshVolume" not in features


def test_resegmentation_keeps_the_morphological_mask_for_shape_and_zone_distances(image):
    from radiopipe.features.gldzm import compute_gldzm
    from radiopipe.features.shape import compute_shape
    from radiopipe.preprocess.discretise import fixed_bin_size

    mask = np.zeros(image.shape, bool)
    mask[2:8, 3:10, 3:10] = True
    settings = FeatureConfig(
        image_types=["original"],
        families=["shape", "gldzm"],
        definitions="ibsi",
        discretisation="fixed_bin_size",
        bin_width=10.0,
        resegment_range=[90.0, None],
    )
    features = _extract(image, mask, settings)
    kept = mask & (image >= 90.0)
    shape = compute_shape(mask, (1.0, 1.0, 1.0), mode="ibsi", image=image, intensity_mask=kept)
    assert features["original__shape__MoransI"] == shape["MoransI"]
    assert features["original__shape__MeshVolume"] == shape["MeshVolume"]
    levels = np.zeros(image.shape, np.int32)
    discretised = fixed_bin_size(image[kept], 10.0, lower_bound=90.0)
    levels[kept] = discretised.levels
    zones = compute_gldzm(
        levels, kept, discretised.n_levels, aggregation="3D", mode="ibsi", roi_edge_mask=mask
    )
    assert features["original__gldzm__SmallDistanceEmphasis"] == pytest.approx(
        zones["SmallDistanceEmphasis"], rel=1e-12
    )


def test_resegmentation_that_empties_the_roi_is_a_clear_error(image):
    mask = np.zeros(image.shape, bool)
    mask[2:8, 3:10, 3:10] = True
    settings = FeatureConfig(
        image_types=["original"], resegment_range=[1e6, None], definitions="ibsi"
    )
    with pytest.raises(ValueError, match="leaves no voxel of the ROI"):
        _extract(image, mask, settings)


@pytest.mark.parametrize("planar", [False, True], ids=["3d", "2d"])
@pytest.mark.parametrize("image_types", [["original"], ["original", "log", "wavelet", "square"]])
@pytest.mark.parametrize("family_threads", [False, True])
def test_threads_give_the_sequential_values_in_order(image_types, family_threads, planar,
                                                     monkeypatch):
    """Filters running beside the families (one task per image type and LoG sigma), shape and
    the families on the caller's thread or on their own in groups of shared work (this ROI is
    smaller than FAMILY_THREAD_VOXELS: lowered for the second), give the values and the column
    order of the plain sequence shape -> filter_images -> compute_families, whatever the order
    of the families in the settings."""
    from radiopipe.features import engine
    from radiopipe.features.extract import compute_families, filter_images, shape_features
    from radiopipe.features.registry import reported

    if family_threads:
        monkeypatch.setattr(engine, "FAMILY_THREAD_VOXELS", 1)

    rng = np.random.default_rng(3)
    image = rng.normal(100, 30, (12, 14, 13))
    grid = np.indices(image.shape) - np.array([6, 7, 6])[:, None, None, None]
    mask = ((grid**2).sum(axis=0) <= 16).astype(np.uint8)
    settings = FeatureConfig(
        image_types=image_types, log_sigmas=[1.0, 2.0],
        families=["glrlm", "firstorder", "ngtdm", "glcm", "shape", "gldm", "glszm"],
    )
    assert engine.family_groups(settings) == [["glrlm", "glcm"], ["firstorder"],
                                              ["ngtdm", "gldm"], ["glszm"]]
    volumes = [_volume(image), _volume(mask)]
    if planar:
        volumes = [Volume(array[6], (1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
                   for array in (image, mask)]
    prepared = prepare_case(*volumes, settings)
    assert prepared.planar == planar
    expected = shape_features(prepared, settings)
    for name, filtered in filter_images(prepared, settings).items():
        expected.update(compute_families(name, filtered, prepared, settings))
    expected = reported(expected, settings.definitions)
    features = extract_features(*volumes, settings)
    assert list(features) == list(expected)
    assert features == expected


def test_resampled_intensities_are_rounded_when_asked(image):
    from radiopipe.features.extract import prepare_case

    mask = np.zeros(image.shape, bool)
    mask[3:7, 3:9, 3:9] = True
    settings = FeatureConfig(
        definitions="ibsi", resampled_spacing=[1.5, 1.5, 1.5], grid_alignment="ibsi",
        interpolator="linear",
    )
    resampled = prepare_case(_volume(image), _volume(mask), settings).image.array
    assert not np.array_equal(resampled, np.rint(resampled))
    rounded = settings.model_copy(update={"round_resampled": True})
    assert np.array_equal(
        prepare_case(_volume(image), _volume(mask), rounded).image.array, np.rint(resampled)
    )


def test_the_ivh_reads_the_intensities_when_asked():
    # Intensities 10..17 (8 grey levels of bin width 1): the IVH's intensities are grey levels by
    # default, the intensities themselves with ivh_discretisation 'none'.
    image = np.arange(10.0, 18.0).reshape(1, 2, 4)
    mask = np.ones(image.shape, bool)
    key = "original__intensity_volume__IntensityAt90PercentVolume"
    settings = FeatureConfig(
        definitions="ibsi", families=["intensity_volume"], discretisation="fixed_bin_size",
        bin_width=1.0,
    )
    assert _extract(image, mask, settings)[key] == 2.0  # 7 of 8 voxels at or above level 2
    settings = settings.model_copy(update={"ivh_discretisation": "none"})
    assert _extract(image, mask, settings)[key] == 11.0


@pytest.mark.parametrize(
    ("image_name", "float32_input", "definitions", "expected"),
    [
        ("original", True, "pyradiomics", np.float32),
        ("original", False, "pyradiomics", np.float64),
        ("log-sigma-2-0-mm-3D", False, "pyradiomics", np.float32),
        ("gradient", False, "pyradiomics", np.float32),
        ("lbp-2D", True, "pyradiomics", np.float32),
        ("wavelet-LLH", True, "pyradiomics", np.float32),
        ("wavelet-LLH", False, "pyradiomics", np.float64),
        ("square", True, "pyradiomics", np.float64),
        ("lbp-3D-k", True, "pyradiomics", np.float64),
        ("original", True, "ibsi", np.float64),
        ("log-sigma-2-0-mm-3D", True, "ibsi", np.float64),
    ],
)
def test_images_are_binned_in_pyradiomics_pixel_type(image_name, float32_input, definitions,
                                                      expected):
    dtype = np.float32 if float32_input else np.int16
    image = np.arange(6 * 6 * 6, dtype=dtype).reshape(6, 6, 6)
    mask = np.zeros(image.shape, dtype=bool)
    mask[1:5, 1:5, 1:5] = True
    settings = FeatureConfig(definitions=definitions)
    prepared = prepare_case(_volume(image), _volume(mask), settings)
    assert bin_dtype(image_name, prepared.pixel_type, settings) == expected


def test_a_normalised_float32_image_is_binned_in_float64():
    image = np.arange(6 * 6 * 6, dtype=np.float32).reshape(6, 6, 6)
    mask = np.ones(image.shape, dtype=bool)
    settings = FeatureConfig(normalize=True)
    prepared = prepare_case(_volume(image), _volume(mask), settings)
    assert bin_dtype("original", prepared.pixel_type, settings) == np.float64
    assert bin_dtype("log-sigma-1-0-mm-3D", prepared.pixel_type, settings) == np.float32

"""pyradiomics parameters translated into radiopipe's feature settings."""

from __future__ import annotations

import pytest

import radiopipe as rp
from radiopipe.errors import ConfigError


def test_flat_settings_become_the_native_engine_with_pyradiomics_definitions():
    config = rp.from_pyradiomics({
        "binCount": 64, "force2D": True, "resampledPixelSpacing": [2, 2, 0],
        "interpolator": "sitkLinear", "resegmentRange": [-3, 3], "resegmentMode": "sigma",
        "additionalInfo": True, "label": 1,
    })
    assert (config.backend, config.definitions) == ("native", "pyradiomics")
    assert (config.discretisation, config.bin_count) == ("fixed_bin_number", 64)
    assert config.aggregation == "2_5D_avg"
    assert config.resampled_spacing == [2.0, 2.0, None]
    assert config.interpolator == "linear"
    assert config.resegment_outliers == 3.0


def test_normalisation_shift_and_coarseness_are_expressed():
    config = rp.from_pyradiomics({
        "normalize": True, "normalizeScale": 100, "removeOutliers": 3, "voxelArrayShift": 2000,
        "gldm_a": 1,
    })
    assert (config.normalize, config.normalize_scale, config.normalize_outliers) == (
        True, 100.0, 3
    )
    assert (config.voxel_array_shift, config.gldm_a) == (2000.0, 1)


@pytest.mark.parametrize(
    ("norm", "force_2d", "aggregation", "weighting"),
    [
        (None, False, "3D_avg", None),
        ("no_weighting", False, "3D_comb", None),
        ("manhattan", False, "3D_comb", "manhattan"),
        ("euclidean", True, "2_5D_comb", "euclidean"),
        ("infinity", False, "3D_comb", "infinity"),
    ],
)
def test_weighting_norms_are_merged_aggregations(norm, force_2d, aggregation, weighting):
    config = rp.from_pyradiomics({"weightingNorm": norm, "force2D": force_2d})
    assert (config.aggregation, config.direction_weighting) == (aggregation, weighting)


def test_force2d_dimension_is_the_slice_axis():
    config = rp.from_pyradiomics({"force2D": True, "force2Ddimension": 2})
    assert (config.aggregation, config.slice_axis) == ("2_5D_avg", 2)
    assert rp.from_pyradiomics({}).slice_axis == 0


def test_reading_settings_go_to_the_data_section(tmp_path):
    params = {"correctMask": True, "geometryTolerance": 0.001, "binWidth": 5}
    assert rp.from_pyradiomics(params).bin_width == 5.0
    assert rp.pyradiomics_reading(params) == {"correct_mask": True, "geometry_tolerance": 0.001}
    assert rp.pyradiomics_reading({"setting": params}) == rp.pyradiomics_reading(params)
    assert rp.pyradiomics_reading({"binWidth": 5}) == {}


def test_lbp_2d_settings_are_expressed():
    config = rp.from_pyradiomics({
        "imageType": {"LBP2D": {"lbp2DRadius": 2, "lbp2DSamples": 16, "lbp2DMethod": "ror"}},
    })
    assert config.image_types == ["lbp2d"]
    assert (config.lbp2d_radius, config.lbp2d_samples, config.lbp2d_method) == (2.0, 16, "ror")
    with pytest.raises(ConfigError, match="'lbp2d_method'"):
        rp.from_pyradiomics({"lbp2DMethod": "made_up"})


def test_lbp_3d_settings_are_expressed():
    config = rp.from_pyradiomics({
        "imageType": {"LBP3D": {
            "lbp3DLevels": 3, "lbp3DIcosphereRadius": 1.5, "lbp3DIcosphereSubdivision": 2,
        }},
    })
    assert config.image_types == ["lbp3d"]
    assert (
        config.lbp3d_levels, config.lbp3d_icosphere_radius, config.lbp3d_icosphere_subdivision
    ) == (3, 1.5, 2)


def test_texture_distances_are_expressed():
    assert rp.from_pyradiomics({"distances": [1, 2, 3]}).distances == [1, 2, 3]
    assert rp.from_pyradiomics({}).distances == [1]


def test_a_parameter_file_gives_image_types_and_families(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        "imageType:\n  Original: {}\n  LoG:\n    sigma: [1.0, 3.0]\n"
        "featureClass:\n  firstorder:\n  shape2D:\n"
        "setting:\n  binWidth: 10\n  weightingNorm: no_weighting\n  resegmentRange: [0]\n",
        encoding="utf-8",
    )
    config = rp.from_pyradiomics(params)
    assert config.image_types == ["original", "log"]
    assert config.log_sigmas == [1.0, 3.0]
    assert config.families == ["firstorder", "shape"]
    assert config.bin_width == 10.0
    assert config.aggregation == "3D_comb"
    assert config.resegment_range == [0.0, None]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"label": 2}, "'label'"),
        ({"resegmentRange": [-2, 3], "resegmentMode": "sigma"}, "'resegmentRange'"),
        ({"madeUpSetting": 1}, "'madeUpSetting'"),
        ({"distances": [0, 2]}, "'distances.0'"),
        ({"weightingNorm": "chebyshev"}, "'weightingNorm'"),
        ({"imageType": {"MadeUpType": {}}}, "'MadeUpType'"),
        ({"featureClass": {"glcm": ["Contrast"]}}, "'glcm'"),
    ],
)
def test_what_cannot_be_expressed_is_refused_in_one_line_naming_it(params, named):
    with pytest.raises(ConfigError, match=named) as error:
        rp.from_pyradiomics(params)
    assert "\n" not in str(error.value)

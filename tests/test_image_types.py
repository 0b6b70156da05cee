"""The one image-type table: config, filters and pyradiomics names agree with it."""

import typing

from radiopipe.config import FeatureConfig
from radiopipe.filters import FILTERS
from radiopipe.image_types import IMAGE_TYPES, image_type_of


def test_every_image_type_has_a_filter_and_nothing_else_does():
    assert set(FILTERS) == {t.pyradiomics for t in IMAGE_TYPES.values()}


def test_the_config_accepts_exactly_the_table():
    annotation = FeatureConfig.model_fields["image_types"].annotation
    (literal,) = typing.get_args(annotation)
    assert typing.get_args(literal) == tuple(IMAGE_TYPES)


def test_image_names_map_back_to_their_type():
    assert image_type_of("log-sigma-1-0-mm-3D") == "log"
    assert image_type_of("wavelet-LLH") == "wavelet"
    assert image_type_of("wavelet2-LLH") == image_type_of("wavelet3-HHH") == "wavelet"
    assert image_type_of("waveletX-LLH") is None
    assert image_type_of("squareroot") == "squareroot"
    assert image_type_of("lbp-2D") == "lbp2d"
    assert image_type_of("lbp-3D-k") == image_type_of("lbp-3D-m1") == "lbp3d"
    assert image_type_of("cnn") is None

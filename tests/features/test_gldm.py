"""GLDM (pyradiomics' NGLDM subset): hand example, IBSI-1 phantom, pyradiomics parity."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_failures, ibsi_phantom, pyradiomics_case

from radiopipe.features import gldm, ngldm
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load(
    (REPO / "features" / "gldm.yaml").read_text(encoding="utf-8")
)["features"]
NGLDM_CATALOGUE = yaml.safe_load(
    (REPO / "features" / "ngldm.yaml").read_text(encoding="utf-8")
)["features"]

# Hand example, as in test_ngldm.py: dependence counts j = 1 (4 corners, level 1), j = 3 (4
# edges, level 2) and j = 1 (centre, level 3).
IMAGE_3X3 = np.array([[1, 2, 1], [2, 3, 2], [1, 2, 1]])


def test_features_of_hand_example():
    values = gldm.compute_gldm(
        IMAGE_3X3, IMAGE_3X3 > 0, 3, aggregation="2D", mode="pyradiomics"
    )
    assert values["SmallDependenceEmphasis"] == pytest.approx((4 + 4 / 9 + 1) / 9)
    # 1 / (i^2 j^2): 4 corners 1 / 1, 4 edges 1 / (4 * 9), the centre 1 / 9.
    assert values["SmallDependenceLowGrayLevelEmphasis"] == pytest.approx((4 + 4 / 36 + 1 / 9) / 9)
    assert values["GrayLevelNonUniformity"] == pytest.approx((16 + 16 + 1) / 9)
    assert values["DependenceVariance"] == pytest.approx(4 / 9 * 5 / 9 * 4)


def test_is_the_ngldm_subset():
    values = gldm.compute_gldm(IMAGE_3X3, IMAGE_3X3 > 0, 3, aggregation="3D", gldm_a=1)
    full = ngldm.compute_ngldm(IMAGE_3X3, IMAGE_3X3 > 0, 3, aggregation="3D", alpha=1)
    assert values == {name: full[name] for name in gldm.FEATURE_NAMES}


def test_catalogue_matches_feature_names():
    assert tuple(entry["name"] for entry in CATALOGUE) == gldm.FEATURE_NAMES


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"aggregation": "3D_avg"}, "aggregation"),
        ({"aggregation": "3D", "mode": "radiomics"}, "mode"),
        ({"aggregation": "3D", "gldm_a": -0.5}, "alpha"),
    ],
)
def test_bad_parameters_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        gldm.compute_gldm(IMAGE_3X3, IMAGE_3X3 > 0, 3, **arguments)


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["2D", "2_5D", "3D"])
def test_ibsi_digital_phantom(aggregation, digital_phantom_references):
    phantom = ibsi_phantom()
    levels = phantom.image.array.astype(int)
    ours = gldm.compute_gldm(levels, phantom.mask.array, 6, aggregation=aggregation)
    # The IBSI tags of these features belong to the ngldm family, whose definitions GLDM shares.
    names = {
        entry["ibsi_tag"]: entry["name"]
        for entry in NGLDM_CATALOGUE
        if entry["name"] in gldm.FEATURE_NAMES
    }
    references = digital_phantom_references.values()
    assert ibsi_failures(ours, references, names, aggregation) == (14, {})


def _pyradiomics_gldm(image: np.ndarray, mask: np.ndarray, **settings) -> dict[str, float]:
    radiomics_gldm = pytest.importorskip("radiomics.gldm")
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = radiomics_gldm.RadiomicsGLDM(
        sitk.GetImageFromArray(image), sitk.GetImageFromArray(mask.astype(np.uint8)), **settings
    )
    return {name: float(value) for name, value in extractor.execute().items()}


def _discretised(image: np.ndarray, mask: np.ndarray, bin_width: float):
    """pyradiomics' binWidth discretisation of the (cropped) ROI."""
    discretised = fixed_bin_size_pyradiomics(image[mask], bin_width)
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretised.levels
    return levels, discretised.n_levels


def _assert_pyradiomics_parity(ours: dict, reference: dict) -> None:
    mismatches = {}
    for entry in CATALOGUE:
        name, tolerance = entry["name"], entry["tolerance"]
        expected = reference[entry["pyradiomics"]]
        if not math.isclose(
            ours[name], expected, rel_tol=tolerance["relative"], abs_tol=tolerance["absolute"]
        ):
            mismatches[name] = (ours[name], expected)
    assert len(reference) == len(CATALOGUE)
    assert not mismatches


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize("settings, aggregation", [({}, "3D"), ({"force2D": True}, "2_5D")])
def test_pyradiomics_parity(case, settings, aggregation):
    image, mask = pyradiomics_case(case).arrays(crop=True)
    image = image.astype(np.float64)
    reference = _pyradiomics_gldm(image, mask, binWidth=25, **settings)
    levels, n_levels = _discretised(image, mask, 25.0)
    ours = gldm.compute_gldm(levels, mask, n_levels, aggregation=aggregation, mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize(
    "settings, options",
    [({"gldm_a": 1}, {"gldm_a": 1}), ({"distances": [1, 2]}, {"distance": 2})],
)
def test_pyradiomics_parity_of_options(settings, options):
    # pyradiomics' distances=[1, 2] is the Chebyshev ball of radius 2.
    image, mask = pyradiomics_case("brain1").arrays(crop=True)
    image = image.astype(np.float64)
    reference = _pyradiomics_gldm(image, mask, binWidth=25, **settings)
    levels, n_levels = _discretised(image, mask, 25.0)
    ours = gldm.compute_gldm(
        levels, mask, n_levels, aggregation="3D", mode="pyradiomics", **options
    )
    _assert_pyradiomics_parity(ours, reference)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["flat", "one_slice", "isolated_voxels"])
def test_degenerate_rois_match_pyradiomics(case):
    image = np.random.default_rng(3).integers(1, 5, size=(3, 4, 4)).astype(np.float64)
    mask = np.ones(image.shape, dtype=bool)
    if case == "flat":
        image[:] = 2
    elif case == "one_slice":
        mask[[0, 2]] = False
    else:
        mask[:] = False
        mask[0, 0, 0] = mask[2, 3, 3] = mask[0, 3, 0] = True
    reference = _pyradiomics_gldm(image, mask, binWidth=1)
    levels, n_levels = _discretised(image, mask, 1.0)
    ours = gldm.compute_gldm(levels, mask, n_levels, aggregation="3D", mode="pyradiomics")
    _assert_pyradiomics_parity(ours, reference)

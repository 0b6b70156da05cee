"""First-order statistics: a hand-computed ROI, IBSI-1 phantom references, pyradiomics parity."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_phantom, pyradiomics_case, with_a_reference_value

from radiopipe.features.firstorder import FEATURE_NAMES, compute_firstorder
from radiopipe.preprocess.discretise import fixed_bin_size_pyradiomics

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((REPO / "features" / "firstorder.yaml").read_text(encoding="utf-8"))
IBSI_TAGS = [(f["ibsi_tag"], f["name"]) for f in CATALOGUE["features"] if f["ibsi_tag"]]
PYRADIOMICS = [
    (f["pyradiomics"], f["name"], f["tolerance"]) for f in CATALOGUE["features"] if f["pyradiomics"]
]


@pytest.fixture(scope="module")
def phantom():
    phantom = ibsi_phantom()
    return phantom.image.array, phantom.mask.array, phantom.image.spacing


def test_hand_computed_roi():
    # ROI intensities 1, 2, 2, 3, 7 (the 9 is outside the mask); levels = intensities.
    image = np.array([[[1.0, 2.0, 2.0], [3.0, 7.0, 9.0]]])
    mask = image < 9
    features = compute_firstorder(
        image, mask, spacing=(2.0, 1.0, 0.5), mode="ibsi", levels=image.astype(int), n_levels=9
    )
    assert tuple(features) == FEATURE_NAMES
    assert features["Mean"] == pytest.approx(3.0)
    assert features["Variance"] == pytest.approx(4.4)  # (4 + 1 + 1 + 0 + 16) / 5
    assert features["Energy"] == pytest.approx(67.0)  # 1 + 4 + 4 + 9 + 49
    assert features["TotalEnergy"] == pytest.approx(67.0)  # voxel volume 1 mm^3
    assert features["RootMeanSquared"] == pytest.approx(np.sqrt(67.0 / 5))
    assert features["Median"] == 2.0
    assert features["10Percentile"] == pytest.approx(1.4)  # linear between 1 and 2
    assert features["InterquartileRange"] == pytest.approx(1.0)  # P75 = 3, P25 = 2
    assert features["Range"] == 6.0
    assert features["MeanAbsoluteDeviation"] == pytest.approx(1.6)  # (2 + 1 + 1 + 0 + 4) / 5
    assert features["MedianAbsoluteDeviation"] == pytest.approx(1.4)  # (1 + 0 + 0 + 1 + 5) / 5
    # 1.4 <= X <= 5.4 keeps 2, 2, 3: mean 7/3, deviations 1/3, 1/3, 2/3.
    assert features["RobustMeanAbsoluteDeviation"] == pytest.approx(4.0 / 9.0)
    assert features["Skewness"] == pytest.approx((-8 - 1 - 1 + 0 + 64) / 5 / 4.4**1.5)
    assert features["Kurtosis"] == pytest.approx((16 + 1 + 1 + 0 + 256) / 5 / 4.4**2 - 3)
    assert features["CoefficientOfVariation"] == pytest.approx(np.sqrt(4.4) / 3)
    assert features["QuartileCoefficientOfDispersion"] == pytest.approx(0.2)
    # Levels 1, 2, 2, 3, 7: p = 0.2, 0.4, 0.2, 0.2.
    assert features["Entropy"] == pytest.approx(-(3 * 0.2 * np.log2(0.2) + 0.4 * np.log2(0.4)))
    assert features["Uniformity"] == pytest.approx(3 * 0.04 + 0.16)


def test_modes_differ_in_kurtosis_only():
    rng = np.random.default_rng(0)
    image = rng.normal(50, 10, (4, 5, 6))
    mask = image > 40
    levels = np.ceil(image / 5).astype(int)
    common = dict(spacing=(1.0, 1.0, 1.0), levels=levels, n_levels=int(levels.max()))
    ibsi = compute_firstorder(image, mask, mode="ibsi", **common)
    pyradiomics = compute_firstorder(image, mask, mode="pyradiomics", **common)
    assert pyradiomics["Kurtosis"] == pytest.approx(ibsi["Kurtosis"] + 3.0)
    for name in set(FEATURE_NAMES) - {"Kurtosis"}:
        assert pyradiomics[name] == pytest.approx(ibsi[name], rel=1e-12), name


def test_voxel_array_shift_applies_to_energy_features():
    image = np.array([[[-1.0, 0.0, 1.0]]])
    features = compute_firstorder(
        image, image > -5, spacing=(1.0, 1.0, 2.0), mode="pyradiomics", voxel_array_shift=10
    )
    assert features["Energy"] == pytest.approx(81 + 100 + 121)
    assert features["TotalEnergy"] == pytest.approx(2 * 302)
    assert features["RootMeanSquared"] == pytest.approx(np.sqrt(302 / 3))
    assert features["Mean"] == 0.0


@pytest.mark.parametrize("mode", ["ibsi", "pyradiomics"])
def test_degenerate_rois_give_defined_values(mode):
    single = np.zeros((3, 3, 3))
    single[1, 1, 1] = 5.0
    flat = np.full((1, 4, 4), 7.0)
    for image, mask in ((single, single > 0), (flat, flat > 0)):
        features = compute_firstorder(image, mask, spacing=(1.0, 1.0, 1.0), mode=mode)
        assert all(np.isfinite(v) for v in features.values())
        assert features["Skewness"] == features["Kurtosis"] == 0.0
        assert features["Variance"] == features["Entropy"] == 0.0
        assert features["Uniformity"] == 1.0


def test_bad_input_is_rejected():
    image = np.ones((2, 2, 2))
    with pytest.raises(ValueError, match="'mode' parameter"):
        compute_firstorder(image, image > 0, spacing=(1, 1, 1), mode="other")
    with pytest.raises(ValueError, match="at least one voxel"):
        compute_firstorder(image, image > 1, spacing=(1, 1, 1))
    with pytest.raises(ValueError, match="shape"):
        compute_firstorder(image, np.ones((2, 2), dtype=bool), spacing=(1, 1, 1))


@pytest.mark.reference
@pytest.mark.parametrize("tag, name", with_a_reference_value(IBSI_TAGS))
def test_ibsi_digital_phantom(phantom, digital_phantom_references, tag, name):
    image, mask, spacing = phantom
    features = compute_firstorder(
        image, mask, spacing=spacing, mode="ibsi", levels=image.astype(int), n_levels=6
    )
    reference = digital_phantom_references[tag]
    assert reference.passes(features[name]), (tag, features[name], reference.value)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
@pytest.mark.parametrize("shift", [0, 2000])
def test_pyradiomics_parity(case, shift):
    radiomics = pytest.importorskip("radiomics")
    from radiomics import firstorder, imageoperations

    radiomics.setVerbosity(logging.ERROR)
    image, label = pyradiomics_case(case).images()
    box, _ = imageoperations.checkMask(image, label, label=1)
    image, label = imageoperations.cropToTumorMask(image, label, box)
    settings = dict(label=1, binWidth=25, voxelArrayShift=shift)
    expected = firstorder.RadiomicsFirstOrder(image, label, **settings).execute()

    array = sitk.GetArrayFromImage(image)
    mask = sitk.GetArrayFromImage(label) == 1
    binned = fixed_bin_size_pyradiomics(array[mask].astype(float), 25)
    levels = np.zeros(array.shape, dtype=np.int32)
    levels[mask] = binned.levels
    ours = compute_firstorder(
        array,
        mask,
        spacing=image.GetSpacing()[::-1],
        mode="pyradiomics",
        levels=levels,
        n_levels=binned.n_levels,
        voxel_array_shift=shift,
    )
    assert set(expected) == {pyradiomics_name for pyradiomics_name, _, _ in PYRADIOMICS}
    mismatches = [
        (name, ours[name], float(expected[pyradiomics_name]))
        for pyradiomics_name, name, tolerance in PYRADIOMICS
        if abs(ours[name] - float(expected[pyradiomics_name]))
        > tolerance["absolute"] + tolerance["relative"] * abs(float(expected[pyradiomics_name]))
    ]
    assert not mismatches

"""The native engine against pyradiomics on float32 images: binned in float32 with float32 edges,
and wavelet sub-bands summed in float32, as pyradiomics bins them and PyWavelets sums them.

Every feature must equal pyradiomics' value within relative 1e-6 (absolute 1e-9 near zero),
MCC apart where pyradiomics' epsilon shows (`radiopipe.features.glcm`).
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from float32_bins import disagreeing_value
from reference_data import close_to_pyradiomics, data_folder, pyradiomics_differences

from radiopipe.config import FeatureConfig
from radiopipe.io import read_image, read_mask


def _float32_phantom(binning: dict) -> tuple[sitk.Image, sitk.Image]:
    """A float32 image whose ROI holds values that float32 and float64 bin edges put in
    different levels (pyradiomics bins a float32 image with float32 edges)."""
    rng = np.random.default_rng(7)
    array = rng.uniform(-3.1, 7.3, (16, 18, 20)).astype(np.float32)
    z, y, x = np.ogrid[:16, :18, :20]
    roi = (z - 8) ** 2 + (y - 9) ** 2 + (x - 10) ** 2 <= 36
    value = disagreeing_value(array[roi], **binning)
    array[tuple(axis[::20] for axis in np.nonzero(roi))] = value  # 1 ROI voxel in 20
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.9, 0.9, 1.5))
    mask = sitk.GetImageFromArray(roi.astype(np.uint8))
    mask.CopyInformation(image)
    return image, mask


@pytest.mark.parametrize(
    "binning",
    [{"discretisation": "fixed_bin_number", "bin_count": 32}, {"bin_width": 0.1}],
    ids=["bin_count", "bin_width"],
)
@pytest.mark.parametrize(
    "preparation",
    [{}, {"resampled_spacing": [0.9, 0.9, 1.5], "interpolator": "nearest"},
     {"resegment_range": [-10.0, 100.0]}],
    ids=["as_read", "resampled", "resegmented"],
)
def test_float32_image_is_binned_in_float32_as_pyradiomics_bins_it(binning, preparation,
                                                                   backends):
    native, pyradiomics = backends
    image, mask = _float32_phantom(
        {"binCount": binning["bin_count"]} if "bin_count" in binning
        else {"binWidth": binning["bin_width"]}
    )
    settings = {"families": ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"],
                **binning, **preparation}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}


def test_float32_image_wavelets_are_computed_in_float32_as_pywavelets_computes_them(backends):
    """A float32 MR-like image (values near 1000, smooth): its sub-bands carry float32 rounding
    of the order of 1e-4, large beside the small detail values, so pyradiomics' features of
    them are reproduced only by PyWavelets' own float32 sums (and binned with float32 edges)."""
    native, pyradiomics = backends
    rng = np.random.default_rng(11)
    array = (1000 + 40 * rng.normal(size=(14, 21, 23))).astype(np.float32)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.8, 0.8, 2.0))
    z, y, x = np.ogrid[:14, :21, :23]
    mask = sitk.GetImageFromArray(
        ((z - 7) ** 2 / 25 + (y - 10) ** 2 / 64 + (x - 11) ** 2 / 64 <= 1).astype(np.uint8))
    mask.CopyInformation(image)
    settings = {"image_types": ["wavelet"], "families": ["firstorder", "glcm", "glrlm"],
                "discretisation": "fixed_bin_number", "bin_count": 32}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference) and len(reference) == 8 * (18 + 24 + 16)
    # MCC: pyradiomics' epsilon (see test_float32_mr_log_image_matches_pyradiomics)
    different = {k: (ours[k], v) for k, v in reference.items()
                 if not close_to_pyradiomics(ours[k], v) and not k.endswith("__MCC")}
    assert different == {}


@pytest.mark.reference
@pytest.mark.parametrize(
    ("image_types", "n_features"),
    [(["original", "log"], 2 * 93), (["wavelet"], 8 * 93)],
    ids=["log", "wavelet"],
)
def test_float32_mr_filtered_images_match_pyradiomics(image_types, n_features, backends):
    """STS_009's float32 MR, as the lung-metastasis study extracts it (2 mm linear resampling,
    32 bins): its LoG image (float32) is binned with float32 edges, as pyradiomics bins it, and
    its wavelet sub-bands are PyWavelets' float32 sums, binned likewise."""
    native, pyradiomics = backends
    folder = data_folder("sts", "nifti", "STS_009")
    image = read_image(folder / "MR_T1_image.nii.gz", case_id="STS_009")
    mask = read_mask(folder / "MR_T1_mask.nii.gz", image, case_id="STS_009")
    assert image.GetPixelID() == sitk.sitkFloat32
    settings = {
        "image_types": image_types, "log_sigmas": [2.0],
        "families": ["firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"],
        "resampled_spacing": [2.0, 2.0, 2.0], "interpolator": "linear",
        "discretisation": "fixed_bin_number", "bin_count": 32,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert len(reference) == n_features
    # pyradiomics adds machine epsilon to p_x(i) p_y(k) in MCC's Q matrix: with grey levels as
    # rare as here (p_x p_y down to 2e-6), that moves MCC by up to 2.8e-6 relative (LoG:
    # 0.7157661 against radiopipe's 0.7157673, which pyradiomics' own formula gives without the
    # epsilon).
    different = pyradiomics_differences(ours, reference)
    assert all(k.endswith("__glcm__MCC") for k in different), different

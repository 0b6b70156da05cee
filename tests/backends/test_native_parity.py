"""The native engine against pyradiomics-bhklab 3.1.4 on real cases, through the whole extraction.

Every pyradiomics feature of the original image, of LoG (sigma 1, 2, 3 mm) and of the eight
wavelet sub-bands must equal pyradiomics' value within relative 1e-6 (absolute 1e-9 near zero).
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from reference_data import close_to_pyradiomics, pyradiomics_case, pyradiomics_differences

from radiopipe.config import FeatureConfig
from radiopipe.io import read_image, read_mask

IMAGE_TYPES = ["original", "log", "wavelet"]
EXPECTED_FAILURES: dict[str, str] = {}  # feature column -> reason; none today


def _case(name):
    """The case as radiopipe's own readers read it (the extraction's whole input path)."""
    case = pyradiomics_case(name)
    image = read_image(case.image_path, case_id=name)
    return image, read_mask(case.label_path, image, case_id=name)


# pyradiomics' default (3D) on every case; its force2D (2.5D, in-plane wavelet) on the MR cases.
# Expected counts: original 107 + 93 per filtered image (3 LoG + 8 or 4 wavelet sub-bands).
SCENARIOS = [
    ("brain1", "3D_avg", 1130),
    ("breast1", "3D_avg", 1130),
    ("lung1", "3D_avg", 1130),
    ("brain1", "2_5D_avg", 758),
    ("breast1", "2_5D_avg", 758),
]


@pytest.mark.reference
@pytest.mark.parametrize(("case", "aggregation", "n_features"), SCENARIOS)
def test_every_pyradiomics_feature_matches(case, aggregation, n_features, backends):
    native, pyradiomics = backends
    image, mask = _case(case)
    ours = native.extract(
        image, mask, FeatureConfig(image_types=IMAGE_TYPES, aggregation=aggregation)
    )
    reference = pyradiomics.extract(
        image,
        mask,
        FeatureConfig(backend="pyradiomics", image_types=IMAGE_TYPES, aggregation=aggregation),
    )
    assert len(reference) == n_features
    assert set(ours) == set(reference)  # pyradiomics definitions report its feature set exactly
    different = {
        key: (ours[key], value)
        for key, value in reference.items()
        if not close_to_pyradiomics(ours[key], value) and key not in EXPECTED_FAILURES
    }
    assert different == {}


def test_planar_image_resampled_in_plane_matches_pyradiomics(backends):
    """A 2D image (one slice, its own 2D geometry) resampled to 1 x 1 mm, as pyradiomics does."""
    import SimpleITK as sitk

    native, pyradiomics = backends
    rng = np.random.default_rng(0)
    image = sitk.GetImageFromArray(rng.normal(100.0, 10.0, (40, 40)))
    image.SetSpacing((0.7, 0.5))
    labels = np.zeros((40, 40), np.uint8)
    labels[10:30, 12:28] = 1
    mask = sitk.GetImageFromArray(labels)
    mask.CopyInformation(image)
    ours = native.extract(image, mask, FeatureConfig(resampled_spacing=[1.0, 1.0, 0]))
    reference = pyradiomics.extract(
        image, mask, FeatureConfig(backend="pyradiomics", resampled_spacing=[1.0, 1.0, 0])
    )
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}


@pytest.mark.reference
@pytest.mark.parametrize("case", ["lung1", "brain1"])
def test_integer_image_resampled_in_its_pixel_type_matches_pyradiomics(case, backends):
    """pyradiomics resamples an int16 image as int16 (interpolated values truncated back)."""

    native, pyradiomics = backends
    image, mask = _case(case)
    assert image.GetPixelID() == sitk.sitkInt16
    settings = {"resampled_spacing": [2.0, 2.0, 2.0]}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}


@pytest.mark.reference
@pytest.mark.parametrize(
    "settings",
    [
        {"normalize": True},
        {"normalize": True, "normalize_scale": 100.0, "normalize_outliers": 3.0, "bin_width": 5},
        {"normalize": True, "normalize_scale": 500.0, "resampled_spacing": [1.0, 1.0, 1.0]},
    ],
)
def test_normalised_small_roi_matches_pyradiomics(settings, backends):
    """breast1's ROI is 143 voxels: SimpleITK's sample standard deviation shows at 1e-4."""
    native, pyradiomics = backends
    image, mask = _case("breast1")
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}


@pytest.mark.reference
def test_voxel_array_shift_matches_pyradiomics(backends):
    native, pyradiomics = backends
    image, mask = _case("lung1")
    settings = {"families": ["firstorder"], "voxel_array_shift": 2000.0}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    unshifted = native.extract(image, mask, FeatureConfig(families=["firstorder"]))
    assert unshifted["original__firstorder__Energy"] < ours["original__firstorder__Energy"]


@pytest.mark.reference
def test_gldm_coarseness_matches_pyradiomics(backends):
    native, pyradiomics = backends
    image, mask = _case("brain1")
    settings = {"families": ["gldm"], "gldm_a": 2}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    exact = native.extract(image, mask, FeatureConfig(families=["gldm"]))
    assert exact["original__gldm__DependenceEntropy"] != ours["original__gldm__DependenceEntropy"]


@pytest.mark.reference
def test_pad_distance_of_a_resampled_filtered_image_matches_pyradiomics(backends):
    """A LoG of the resampled grid sees only pad_distance voxels past the ROI's box."""
    native, pyradiomics = backends
    image, mask = _case("breast1")
    settings = {
        "families": ["firstorder"], "image_types": ["log"], "log_sigmas": [2.0],
        "resampled_spacing": [1.0, 1.0, 1.0], "pad_distance": 1,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    padded = native.extract(image, mask, FeatureConfig(**{**settings, "pad_distance": 5}))
    key = "log-sigma-2-0-mm-3D__firstorder__Mean"
    assert padded[key] != ours[key]


def _largest_slice(name):
    """brain1's slice holding most of its ROI, as a 2D image and mask (2D geometry)."""
    import SimpleITK as sitk

    image, mask = _case(name)
    labels = sitk.GetArrayFromImage(mask)
    z = int(np.argmax((labels == 1).sum(axis=(1, 2))))
    return image[:, :, z], mask[:, :, z]


@pytest.mark.reference
def test_planar_image_filters_match_pyradiomics_on_a_2d_image(backends, tmp_path):
    """A 2D image is filtered in its plane: 2D LoG (still named '-3D') and 4 wavelet sub-bands.

    pyradiomics reads the 2D image as 2D (no force2D): the oracle runs its extractor on it
    directly, every class of features enabled (shape as shape2D); the pyradiomics backend
    passes it the same way.
    """
    from radiomics import featureextractor

    native, pyradiomics = backends
    image_2d, mask_2d = _largest_slice("brain1")
    sitk.WriteImage(image_2d, str(tmp_path / "image.nrrd"))
    sitk.WriteImage(mask_2d, str(tmp_path / "mask.nrrd"))
    image = read_image(tmp_path / "image.nrrd", case_id="brain1_2d")
    mask = read_mask(tmp_path / "mask.nrrd", image, case_id="brain1_2d")
    assert image.GetDimension() == 2
    settings = FeatureConfig(image_types=IMAGE_TYPES)
    ours = native.extract(image, mask, settings)

    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=settings.bin_width, sigma=list(settings.log_sigmas), additionalInfo=False
    )
    extractor.enableAllFeatures()
    extractor.disableAllImageTypes()
    for image_type in ("Original", "LoG", "Wavelet"):
        extractor.enableImageTypeByName(image_type)
    raw = extractor.execute(str(tmp_path / "image.nrrd"), str(tmp_path / "mask.nrrd"), label=1)
    reference = {
        "__".join(key.replace("shape2D", "shape").split("_", 2)): float(value)
        for key, value in raw.items()
        if not key.startswith("diagnostics_")
    }
    images = {key.split("__")[0] for key in reference}
    wavelets = {f"wavelet-{band}" for band in ("LH", "HL", "HH", "LL")}
    assert images == {"original", *(f"log-sigma-{s}-0-mm-3D" for s in (1, 2, 3)), *wavelets}
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    through_backend = settings.model_copy(update={"backend": "pyradiomics"})
    assert pyradiomics.extract(image, mask, through_backend) == reference


@pytest.mark.reference
@pytest.mark.parametrize("aggregation", ["3D_avg", "2_5D_avg"])
def test_local_binary_pattern_2d_matches_pyradiomics(aggregation, backends):
    """LBP 2D slice by slice on a volume; its codes (0-9) read with bin width 1."""
    native, pyradiomics = backends
    image, mask = _case("brain1")
    settings = {"image_types": ["lbp2d"], "bin_width": 1.0, "aggregation": aggregation}
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert {key.split("__")[0] for key in reference} == {"original", "lbp-2D"}  # original: shape
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}


@pytest.mark.reference
@pytest.mark.parametrize(
    ("distances", "aggregation"), [([1, 2, 3], "3D_avg"), ([2], "3D_avg"), ([1, 3], "2_5D_avg")]
)
def test_texture_distances_match_pyradiomics(distances, aggregation, backends):
    """pyradiomics' distances: every GLCM offset at each distance is an angle of its own; the
    NGTDM and GLDM neighbourhoods hold the voxels at those Chebyshev distances."""
    native, pyradiomics = backends
    image, mask = _case("brain1")
    settings = {
        "families": ["glcm", "ngtdm", "gldm"], "distances": distances, "aggregation": aggregation,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert len(reference) == 24 + 5 + 14
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    nearest = native.extract(image, mask, FeatureConfig(families=settings["families"]))
    key = "original__glcm__Contrast"
    assert nearest[key] != ours[key]


@pytest.mark.reference
@pytest.mark.parametrize(
    ("weighting", "aggregation"),
    [
        (None, "3D_comb"),
        ("manhattan", "3D_comb"),
        ("euclidean", "3D_comb"),
        ("infinity", "3D_comb"),
        ("manhattan", "2_5D_comb"),
    ],
)
def test_direction_weighting_matches_pyradiomics(weighting, aggregation, backends):
    """pyradiomics' weightingNorm (None: 'no_weighting'): GLCM and GLRLM directions merged,
    weighted by their length in mm (lung1's voxels are anisotropic, so the norms differ)."""
    native, pyradiomics = backends
    image, mask = _case("lung1")
    settings = {
        "families": ["glcm", "glrlm"], "aggregation": aggregation,
        "direction_weighting": weighting, "distances": [1, 2],
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert len(reference) == 24 + 16
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    if weighting is not None:
        unweighted = FeatureConfig(**{**settings, "direction_weighting": None})
        plain = native.extract(image, mask, unweighted)
        key = "original__glrlm__RunPercentage"
        assert plain[key] != ours[key]


@pytest.mark.reference
@pytest.mark.parametrize("slice_axis", [0, 1, 2])
def test_force2d_dimension_matches_pyradiomics(slice_axis, backends):
    """pyradiomics' force2D with force2Ddimension: in-plane texture and wavelet in the planes
    normal to that array axis."""
    native, pyradiomics = backends
    image, mask = _case("breast1")
    settings = {
        "image_types": ["original", "wavelet"], "aggregation": "2_5D_avg",
        "slice_axis": slice_axis,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert len(reference) == 107 + 4 * 93
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    if slice_axis:
        axial = native.extract(image, mask, FeatureConfig(**{**settings, "slice_axis": 0}))
        key = "original__glszm__ZoneEntropy"
        assert axial[key] != ours[key]


def _mask_on_another_grid(image, mask):
    """The mask resampled (nearest neighbour) onto a shifted grid of other spacing and size."""
    import SimpleITK as sitk

    spacing = np.array(image.GetSpacing()) * (1.5, 0.75, 0.5)
    origin = np.array(image.GetOrigin()) + 0.3 * spacing
    size = (np.array(image.GetSize()) * image.GetSpacing() / spacing).astype(int) - 3
    grid = sitk.Image([int(n) for n in size], sitk.sitkUInt8)
    grid.SetSpacing(tuple(spacing))
    grid.SetOrigin(tuple(origin))
    grid.SetDirection(image.GetDirection())
    return sitk.Resample(mask, grid, sitk.Transform(), sitk.sitkNearestNeighbor, 0)


@pytest.mark.reference
def test_mask_on_another_grid_is_corrected_as_pyradiomics_does(backends, tmp_path):
    """pyradiomics' correctMask: the mask resampled onto the image's grid by nearest neighbour;
    without data.correct_mask, the reader refuses it naming the case and the setting."""
    from radiomics import featureextractor

    from radiopipe.errors import CaseError

    native, _ = backends
    case = pyradiomics_case("brain1")
    image = read_image(case.image_path, case_id="brain1")
    other_grid = _mask_on_another_grid(image, sitk.ReadImage(str(case.label_path)))
    sitk.WriteImage(other_grid, str(tmp_path / "mask.nrrd"))
    with pytest.raises(CaseError, match=r"case 'brain1'.*data\.correct_mask: true"):
        read_mask(tmp_path / "mask.nrrd", image, case_id="brain1")
    mask = read_mask(tmp_path / "mask.nrrd", image, case_id="brain1", correct=True)
    families = ["firstorder", "shape", "glcm", "glszm"]
    ours = native.extract(image, mask, FeatureConfig(families=families))

    extractor = featureextractor.RadiomicsFeatureExtractor(
        binWidth=25, correctMask=True, additionalInfo=False
    )
    extractor.disableAllFeatures()
    for family in families:
        extractor.enableFeatureClassByName(family)
    raw = extractor.execute(str(case.image_path), str(tmp_path / "mask.nrrd"), label=1)
    reference = {
        "__".join(key.split("_", 2)): float(value)
        for key, value in raw.items()
        if not key.startswith("diagnostics_")
    }
    assert len(reference) == 18 + 14 + 24 + 16
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    original = native.extract(*_case("brain1"), FeatureConfig(families=["shape"]))
    key = "original__shape__VoxelVolume"
    assert original[key] != ours[key]


@pytest.mark.reference
@pytest.mark.parametrize(
    ("lbp", "slice_axis"),
    [
        ({"lbp2d_radius": 2.0, "lbp2d_samples": 16}, 0),
        ({"lbp2d_method": "ror"}, 0),
        ({"lbp2d_method": "default", "lbp2d_radius": 1.5}, 1),
        ({}, 2),
    ],
)
def test_local_binary_pattern_2d_settings_match_pyradiomics(lbp, slice_axis, backends):
    """lbp2DRadius, lbp2DSamples, lbp2DMethod and the slice axis (force2Ddimension) of LBP 2D."""
    native, pyradiomics = backends
    image, mask = _case("brain1")
    settings = {
        "image_types": ["lbp2d"], "families": ["firstorder", "glcm", "glszm"],
        "bin_width": 1.0, "aggregation": "2_5D_avg", "slice_axis": slice_axis, **lbp,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    assert len(reference) == 18 + 24 + 16
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}
    plain = native.extract(image, mask, FeatureConfig(image_types=["lbp2d"], bin_width=1.0))
    key = "lbp-2D__firstorder__Mean"
    assert plain[key] != ours[key]


@pytest.fixture
def scipy_sph_harm(monkeypatch):
    """SciPy's former ``sph_harm(m, n, theta, phi)`` (theta azimuthal, phi polar), which
    pyradiomics' LBP 3D imports, as the exact wrapper of its successor ``sph_harm_y(n, m,
    polar, azimuthal)``: pyradiomics' own LBP 3D then runs unchanged."""
    import scipy.special

    pytest.importorskip("trimesh", reason="trimesh (the dev extra) not installed")

    def sph_harm(m, n, theta, phi):
        return scipy.special.sph_harm_y(n, m, phi, theta)

    monkeypatch.setattr(scipy.special, "sph_harm", sph_harm, raising=False)


@pytest.mark.reference
# pyradiomics' LBP 3D imports map_coordinates from SciPy's deprecated scipy.ndimage.interpolation.
@pytest.mark.filterwarnings("ignore:Please import `map_coordinates`:DeprecationWarning")
@pytest.mark.parametrize(
    "lbp",
    [
        {},
        {"lbp3d_levels": 3, "lbp3d_icosphere_radius": 1.5, "lbp3d_icosphere_subdivision": 2},
    ],
)
def test_local_binary_pattern_3d_matches_pyradiomics(lbp, backends, scipy_sph_harm):
    """pyradiomics' LBP 3D: one image per spherical-harmonic degree and the kurtosis image."""
    native, pyradiomics = backends
    image, mask = _case("brain1")
    settings = {
        "image_types": ["lbp3d"], "families": ["firstorder", "glcm"], "bin_width": 1.0, **lbp,
    }
    ours = native.extract(image, mask, FeatureConfig(**settings))
    reference = pyradiomics.extract(image, mask, FeatureConfig(backend="pyradiomics", **settings))
    levels = lbp.get("lbp3d_levels", 2)
    images = {f"lbp-3D-m{n}" for n in range(1, levels + 1)} | {"lbp-3D-k"}
    assert {key.split("__")[0] for key in reference} == images
    assert set(ours) == set(reference)
    assert pyradiomics_differences(ours, reference) == {}

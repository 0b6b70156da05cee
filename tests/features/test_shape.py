"""3D shape: hand-computed meshes and bodies, IBSI-1 phantom references, pyradiomics parity."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from reference_data import ibsi_phantom, pyradiomics_case, with_a_reference_value
from scipy.spatial.transform import Rotation

from radiopipe.features.diameters import max_distance, max_distance_in_planes
from radiopipe.features.enclosing import (
    ellipsoid_surface_area,
    minimum_volume_enclosing_ellipsoid,
    oriented_minimum_bounding_box,
)
from radiopipe.features.mesh import surface_mesh
from radiopipe.features.shape import (
    FEATURE_NAMES,
    INTENSITY_FEATURES,
    compute_shape,
    spatial_autocorrelation,
)

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = yaml.safe_load((REPO / "features" / "shape.yaml").read_text(encoding="utf-8"))
IBSI_TAGS = [(f["ibsi_tag"], f["name"]) for f in CATALOGUE["features"] if f["ibsi_tag"]]
PYRADIOMICS = [
    (f["pyradiomics"], f["name"], f["tolerance"]) for f in CATALOGUE["features"] if f["pyradiomics"]
]


def test_single_voxel_mesh_is_an_octahedron():
    spacing = (3.0, 2.0, 1.0)
    mesh = surface_mesh(np.ones((1, 1, 1), dtype=bool), spacing)
    half = np.array(spacing) / 2
    assert mesh.volume == pytest.approx(4 / 3 * np.prod(half))
    # Eight faces, each the triangle between the half-axis points of one octant.
    face = 0.5 * np.linalg.norm([half[1] * half[2], half[0] * half[2], half[0] * half[1]])
    assert mesh.area == pytest.approx(8 * face)
    assert len(mesh.vertices) == 6
    assert max_distance(mesh.vertices) == 3.0
    assert max_distance_in_planes(mesh.vertices, 0) == 2.0  # same z: the y and x axes
    assert max_distance_in_planes(mesh.vertices, 1) == 3.0
    assert max_distance_in_planes(mesh.vertices, 2) == 3.0


def test_single_voxel_gives_defined_values():
    features = compute_shape(np.ones((1, 1, 1)), (1.0, 1.0, 1.0), image=np.full((1, 1, 1), 4.0))
    assert tuple(features) == FEATURE_NAMES
    undefined = {name for name, value in features.items() if np.isnan(value)}
    # No major axis (0 / 0) and a zero-volume approximate ellipsoid.
    assert undefined == {
        "Elongation",
        "Flatness",
        "VolumeDensityApproximateEnclosingEllipsoid",
        "AreaDensityApproximateEnclosingEllipsoid",
    }
    assert features["MoransI"] == features["GearysC"] == 1.0  # flat ROI convention
    assert features["CentreOfMassShift"] == 0.0


def test_principal_axes_of_two_voxels():
    mask = np.ones((1, 1, 2), dtype=bool)  # centres 1 mm apart along x
    pyradiomics = compute_shape(mask, (1.0, 1.0, 1.0), mode="pyradiomics")
    ibsi = compute_shape(mask, (1.0, 1.0, 1.0), mode="ibsi")
    assert pyradiomics["MajorAxisLength"] == pytest.approx(4 * 0.5)  # variance 1/4
    assert ibsi["MajorAxisLength"] == pytest.approx(4 * np.sqrt(0.5))  # variance 1/2
    assert ibsi["MinorAxisLength"] == ibsi["Elongation"] == ibsi["Flatness"] == 0.0


def test_one_slice_roi_is_flat():
    mask = np.zeros((3, 6, 6), dtype=bool)
    mask[1, 1:5, 1:4] = True
    image = np.arange(mask.size, dtype=float).reshape(mask.shape)
    features = compute_shape(mask, (2.0, 1.0, 1.0), image=image)
    assert features["LeastAxisLength"] == features["Flatness"] == 0.0
    assert np.isnan(features["VolumeDensityApproximateEnclosingEllipsoid"])
    assert features["VoxelVolume"] == 24.0
    assert np.isfinite(features["MoransI"]) and np.isfinite(features["GearysC"])


def test_intensity_features_need_the_image():
    features = compute_shape(np.ones((2, 2, 2)), (1.0, 1.0, 1.0))
    assert set(FEATURE_NAMES) - set(features) == set(INTENSITY_FEATURES)


def test_oriented_box_of_a_rotated_cuboid():
    corners = np.array([(x, y, z) for x in (0, 2) for y in (0, 3) for z in (0, 5)], dtype=float)
    rotated = corners @ Rotation.from_euler("xyz", [0.3, -0.7, 1.1]).as_matrix().T
    volume, area = oriented_minimum_bounding_box(rotated)
    assert volume == pytest.approx(30.0)
    assert area == pytest.approx(2 * (6 + 15 + 10))


def test_minimum_volume_ellipsoid_of_the_axis_points():
    a, b, c = 4.0, 2.5, 1.0
    points = np.array([(a, 0, 0), (-a, 0, 0), (0, b, 0), (0, -b, 0), (0, 0, c), (0, 0, -c)])
    rotated = points @ Rotation.from_euler("zyx", [0.5, 0.2, -0.4]).as_matrix().T + 7.0
    assert minimum_volume_enclosing_ellipsoid(rotated) == pytest.approx([a, b, c], rel=1e-6)


def test_ellipsoid_series_is_exact_for_spheres_and_continuous():
    assert ellipsoid_surface_area(3.0, 3.0, 3.0) == pytest.approx(4 * np.pi * 9)
    spheroid = ellipsoid_surface_area(4.0, 2.0, 2.0)
    assert ellipsoid_surface_area(4.0, 2.0, 2.0 - 1e-9) == pytest.approx(spheroid, rel=1e-8)
    assert ellipsoid_surface_area(0.0, 0.0, 0.0) == 0.0


def test_spatial_autocorrelation_matches_the_pair_sums():
    rng = np.random.default_rng(7)
    image = rng.normal(10, 3, (4, 6, 5))
    mask = rng.random(image.shape) < 0.6
    spacing = (2.0, 0.7, 1.1)
    points = np.argwhere(mask) * spacing
    x = image[mask] - image[mask].mean()
    distance = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    w = 1.0 / distance
    n = len(x)
    moran = n / w.sum() * (w * np.outer(x, x)).sum() / (x**2).sum()
    geary = (n - 1) / (2 * w.sum()) * (w * (x[:, None] - x[None]) ** 2).sum() / (x**2).sum()
    assert spatial_autocorrelation(image, mask, spacing) == pytest.approx((moran, geary), rel=1e-9)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="'mode' parameter"):
        compute_shape(np.ones((2, 2, 2)), (1, 1, 1), mode="other")
    with pytest.raises(ValueError, match="at least one voxel"):
        compute_shape(np.zeros((2, 2, 2)), (1, 1, 1))
    with pytest.raises(ValueError, match="3D"):
        compute_shape(np.ones((2, 2)), (1, 1, 1))
    with pytest.raises(ValueError, match="'spacing' parameter"):
        compute_shape(np.ones((2, 2, 2)), (1, 1))


@pytest.fixture(scope="module")
def radiomics_shape():
    radiomics = pytest.importorskip("radiomics")
    from radiomics import shape

    radiomics.setVerbosity(logging.ERROR)
    return shape.RadiomicsShape


def pyradiomics_shape_features(radiomics_shape, mask: np.ndarray, spacing) -> dict[str, float]:
    """All pyradiomics 3D shape features of a (z, y, x) mask, the deprecated ones included."""
    label = sitk.GetImageFromArray(mask.astype(np.uint8))
    label.SetSpacing(tuple(float(s) for s in spacing[::-1]))
    extractor = radiomics_shape(label, label, label=1)
    for name in extractor.getFeatureNames():
        extractor.enableFeatureByName(name)
    return {name: float(value) for name, value in extractor.execute().items()}


@pytest.mark.reference
def test_mesh_matches_pyradiomics_on_random_masks(radiomics_shape):
    rng = np.random.default_rng(11)
    for _ in range(150):
        mask = rng.random(rng.integers(1, 6, size=3)) < rng.uniform(0.2, 0.9)
        if not mask.any():
            continue
        spacing = tuple(rng.uniform(0.3, 3.0, size=3))
        expected = pyradiomics_shape_features(radiomics_shape, mask, spacing)
        ours = compute_shape(mask, spacing, mode="pyradiomics")
        for name in ("MeshVolume", "SurfaceArea", "Maximum3DDiameter", "Maximum2DDiameterSlice",
                     "Maximum2DDiameterColumn", "Maximum2DDiameterRow"):
            assert ours[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-9), (name, mask)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["brain1", "breast1", "lung1"])
def test_pyradiomics_parity(radiomics_shape, case):
    _, label = pyradiomics_case(case).images()
    mask = sitk.GetArrayFromImage(label) == 1
    spacing = label.GetSpacing()[::-1]
    box = tuple(slice(i.min(), i.max() + 1) for i in np.nonzero(mask))  # pyradiomics' crop
    expected = pyradiomics_shape_features(radiomics_shape, mask[box], spacing)
    ours = compute_shape(mask, spacing, mode="pyradiomics")
    # pyradiomics also computes its deprecated features; the catalogue names the reported ones.
    assert {pyradiomics_name for pyradiomics_name, _, _ in PYRADIOMICS} <= set(expected)
    mismatches = [
        (name, ours[name], expected[pyradiomics_name])
        for pyradiomics_name, name, tolerance in PYRADIOMICS
        if abs(ours[name] - expected[pyradiomics_name])
        > tolerance["absolute"] + tolerance["relative"] * abs(expected[pyradiomics_name])
    ]
    assert not mismatches


@pytest.fixture(scope="module")
def phantom():
    phantom = ibsi_phantom()
    return compute_shape(
        phantom.mask.array, phantom.image.spacing, mode="ibsi", image=phantom.image.array
    )


@pytest.mark.reference
@pytest.mark.parametrize("tag, name", with_a_reference_value(IBSI_TAGS))
def test_ibsi_digital_phantom(phantom, digital_phantom_references, tag, name):
    reference = digital_phantom_references[tag]
    assert reference.passes(phantom[name]), (tag, phantom[name], reference.value)


@pytest.mark.parametrize("seed", range(5))
def test_line_extremes_keep_the_hull_and_every_diameter(seed):
    """The vertices first or last on their grid lines span the same hull as all vertices, so
    the 3D and plane diameters computed from them are those of the whole mesh."""
    from scipy.spatial import ConvexHull

    from radiopipe.features.diameters import line_extremes

    rng = np.random.default_rng(seed)
    mask = rng.random((6, 9, 8)) < 0.5
    spacing = (2.5, 0.7, 0.9)
    mesh = surface_mesh(mask, spacing)
    np.testing.assert_allclose(mesh.lattice * np.asarray(spacing) / 2, mesh.vertices, rtol=0)
    extremes = line_extremes(mesh.lattice)
    kept = mesh.vertices[extremes.all(axis=1)]
    assert len(kept) < len(mesh.vertices)
    np.testing.assert_allclose(ConvexHull(kept).volume, ConvexHull(mesh.vertices).volume)
    assert max_distance(kept) == max_distance(mesh.vertices)
    for axis in range(3):
        plane_kept = mesh.vertices[np.delete(extremes, axis, axis=1).all(axis=1)]
        assert max_distance_in_planes(plane_kept, axis) == max_distance_in_planes(
            mesh.vertices, axis
        )


@pytest.mark.parametrize("seed", range(5))
def test_hull_candidates_keep_the_hull_and_the_3d_diameter(seed):
    """Dropping the vertices strictly inside their line along a diagonal too leaves the hull's
    corners, so the hull and the largest distance are those of the whole mesh."""
    from scipy.spatial import ConvexHull

    from radiopipe.features.diameters import hull_candidates, line_extremes

    rng = np.random.default_rng(seed)
    mask = rng.random((7, 10, 9)) < 0.6
    spacing = (2.5, 0.7, 0.9)
    mesh = surface_mesh(mask, spacing)
    candidates = hull_candidates(mesh.lattice)
    assert candidates.sum() < line_extremes(mesh.lattice).all(axis=1).sum()
    kept = mesh.vertices[candidates]
    whole = ConvexHull(mesh.vertices)
    assert set(map(tuple, mesh.vertices[whole.vertices])) <= set(map(tuple, kept))
    np.testing.assert_allclose(ConvexHull(kept).volume, whole.volume)
    assert max_distance(kept) == max_distance(mesh.vertices)


def test_hull_candidates_of_one_diagonal_line():
    from radiopipe.features.diameters import hull_candidates

    # four points on the line along (1, -1, 1), stored out of order, and one off it
    lattice = np.array([[2, -2, 2], [0, 0, 0], [3, -3, 3], [1, -1, 1], [0, 1, 0]])
    assert hull_candidates(lattice).tolist() == [False, True, True, False, True]


def test_line_extremes_of_one_line():
    from radiopipe.features.diameters import line_extremes

    lattice = np.array([[0, 0, 3], [0, 0, 1], [0, 0, 2], [0, 1, 2]])
    assert line_extremes(lattice)[:, 2].tolist() == [True, True, False, True]
    assert line_extremes(lattice)[:, 1].all()

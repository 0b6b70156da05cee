"""The compiled and selective paths of the shape features against plain brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from radiopipe.features.diameters import max_distance, max_distance_in_planes
from radiopipe.features.enclosing import oriented_minimum_bounding_box
from radiopipe.features.mesh import (
    _CUBE_CORNERS,
    _SQUARE_CORNERS,
    _cross2,
    _cube_constants,
    _square_table,
    contour,
    surface_mesh,
)
from radiopipe.features.shape import FEATURE_NAMES, compute_shape, voxel_indices


def _brute_force_in_plane_diameter(points: np.ndarray, axis: int) -> float:
    best = 0.0
    for a, b in itertools.combinations(points, 2):
        if a[axis] == b[axis]:
            best = max(best, float(np.sqrt(np.sum(np.delete(a - b, axis) ** 2))))
    return best


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_in_plane_diameters_match_all_pairs(axis):
    rng = np.random.default_rng(axis)
    points = np.column_stack([rng.integers(0, 4, 150), rng.normal(size=150), rng.normal(size=150)])
    points = np.roll(points, axis, axis=1)
    assert max_distance_in_planes(points, axis) == _brute_force_in_plane_diameter(points, axis)


def test_in_plane_diameter_of_a_large_plane_uses_its_hull():
    # 1500 points in one plane (beyond the pair-by-pair size), 3 in another.
    rng = np.random.default_rng(7)
    plane = np.column_stack([np.zeros(1500), rng.uniform(-1.0, 1.0, (1500, 2))])
    plane[:2, 1:] = [[-3.0, 0.0], [3.0, 0.0]]
    other = np.array([[1.0, 0.0, 0.0], [1.0, 0.5, 0.0], [1.0, 0.0, 0.5]])
    assert max_distance_in_planes(np.vstack([plane, other]), 0) == pytest.approx(6.0, abs=1e-12)


@pytest.mark.parametrize("shape", ["ellipsoid", "sphere", "lattice"])
def test_largest_distance_equals_all_pairs_bit_for_bit(shape):
    # The pruned search must not miss the farthest pair, also when every point is as far from
    # the centroid (sphere) and when many pairs tie (lattice).
    rng = np.random.default_rng(11)
    points = rng.normal(size=(600, 3)) * [1.0, 2.0, 5.0]
    if shape == "sphere":
        points /= np.linalg.norm(points, axis=1, keepdims=True)
    if shape == "lattice":
        points = np.round(points)
    pairs = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1)
    assert max_distance(points, on_hull=True) == float(np.sqrt(pairs.max()))


def _brute_force_box(points: np.ndarray) -> tuple[float, float]:
    """Smallest box with a face on a hull facet plane, by trying every pair of directions.

    Among boxes of the same volume (to 1e-9) the smallest area, as the compiled search does.
    """
    hull = ConvexHull(points)
    candidates = []
    for normal in hull.equations[:, :3]:
        normal = normal / np.linalg.norm(normal)
        helper = np.eye(3)[np.argmin(np.abs(normal))]
        first = np.cross(normal, helper)
        first /= np.linalg.norm(first)
        second = np.cross(normal, first)
        flat = points @ np.stack([first, second]).T
        height = np.ptp(points @ normal)
        for a, b in itertools.permutations(flat[ConvexHull(flat).vertices], 2):
            direction = (b - a) / np.linalg.norm(b - a)
            across = np.array([-direction[1], direction[0]])
            width, depth = np.ptp(flat @ direction), np.ptp(flat @ across)
            volume = width * depth * height
            candidates.append((volume, 2.0 * (width * depth + depth * height + width * height)))
    smallest = min(volume for volume, _ in candidates)
    return smallest, min(area for volume, area in candidates if volume <= smallest * (1 + 1e-9))


@pytest.mark.parametrize(
    ("block", "spacing"),
    [((2, 8, 1), (1.0, 1.0, 1.0)), ((3, 5, 2), (1.0, 1.0, 1.0)), ((4, 2, 1), (1.9, 2.3, 0.45))],
)
def test_oriented_box_of_symmetric_blocks_takes_the_smallest_area_among_equal_volumes(
    block, spacing
):
    vertices = surface_mesh(np.ones(block, dtype=bool), spacing).vertices
    points = vertices[ConvexHull(vertices).vertices]
    volume, area = oriented_minimum_bounding_box(points)
    expected_volume, expected_area = _brute_force_box(points)
    assert volume == pytest.approx(expected_volume, rel=1e-9)
    assert area == pytest.approx(expected_area, rel=1e-9)


def test_oriented_box_of_a_random_roi_matches_brute_force():
    mask = np.random.default_rng(11).random((5, 6, 4)) > 0.4
    vertices = surface_mesh(mask, (1.5, 0.8, 0.8)).vertices
    points = vertices[ConvexHull(vertices).vertices]
    np.testing.assert_allclose(
        oriented_minimum_bounding_box(points), _brute_force_box(points), rtol=1e-9
    )


def test_a_subset_of_features_equals_the_same_features_of_the_full_set():
    rng = np.random.default_rng(2)
    mask = np.zeros((7, 9, 8), dtype=bool)
    mask[1:6, 2:8, 1:7] = rng.random((5, 6, 6)) > 0.3
    image = rng.normal(100.0, 10.0, mask.shape)
    full = compute_shape(mask, (2.0, 0.7, 0.7), mode="pyradiomics", image=image)
    subset = ["MeshVolume", "Maximum2DDiameterRow", "Flatness", "VolumeDensityConvexHull"]
    selected = compute_shape(
        mask, (2.0, 0.7, 0.7), mode="pyradiomics", image=image, features=subset
    )
    assert list(selected) == [name for name in FEATURE_NAMES if name in subset]
    assert selected == {name: full[name] for name in selected}


def test_costly_bodies_are_computed_only_when_asked_for(monkeypatch):
    from radiopipe.features import shape

    def refuse(*args, **kwargs):
        raise AssertionError("computed although not asked for")

    costly = (
        "oriented_minimum_bounding_box",
        "minimum_volume_enclosing_ellipsoid",
        "spatial_autocorrelation",
    )
    for name in costly:
        monkeypatch.setattr(shape, name, refuse)
    mask = np.ones((3, 4, 5), dtype=bool)
    kept = [name for name in FEATURE_NAMES if "Oriented" not in name and "Minimum" not in name]
    kept = [name for name in kept if name not in ("MoransI", "GearysC")]
    out = compute_shape(mask, (1.0, 1.0, 1.0), image=np.ones(mask.shape), features=kept)
    assert list(out) == kept


def test_unknown_feature_names_are_refused():
    with pytest.raises(ValueError, match="'features' parameter of compute_shape"):
        compute_shape(np.ones((2, 2, 2), dtype=bool), (1.0, 1.0, 1.0), features=["Volume"])


@pytest.mark.parametrize("seed", range(6))
def test_diameter_without_the_hull_equals_the_diameter_from_the_hull(seed):
    # pyradiomics' feature set asks for no hull body: its diameter is searched on the line
    # extremes; asking for a hull density takes the hull path, and the two agree bit for bit.
    rng = np.random.default_rng(seed)
    mask = np.zeros((9, 12, 10), dtype=bool)
    mask[1:8, 1:11, 1:9] = rng.random((7, 10, 8)) > 0.4
    spacing = (2.5, 0.7, 0.9)
    pair_search = compute_shape(mask, spacing, mode="pyradiomics", features=["Maximum3DDiameter"])
    from_hull = compute_shape(
        mask, spacing, mode="pyradiomics", features=["Maximum3DDiameter", "AreaDensityConvexHull"]
    )
    assert pair_search["Maximum3DDiameter"] == from_hull["Maximum3DDiameter"]


@pytest.mark.parametrize("dimension", [2, 3])
def test_largest_distance_of_few_points_equals_the_largest_distance_of_their_hull(dimension):
    rng = np.random.default_rng(dimension)
    points = np.round(rng.normal(size=(2000, dimension)) * 10.0) * 0.35
    hull_points = points[ConvexHull(points).vertices]
    assert max_distance(points) == max_distance(hull_points, on_hull=True)


def _configurations(padded: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Configuration index of every 2^d block of a padded uint8 mask."""
    shape = tuple(n - 1 for n in padded.shape)
    config = np.zeros(shape, dtype=np.uint8)
    for bit, corner in enumerate(corners.astype(int)):
        block = padded[tuple(slice(c, c + n) for c, n in zip(corner, shape))]
        config |= block << np.uint8(bit)
    return config


def _surface_sums_by_bincount(mask: np.ndarray, spacing) -> tuple[float, float]:
    """Mesh volume and area from NumPy's configurations and bincounts (the compiled pass's
    reference)."""
    padded = np.pad(mask, 1).astype(np.uint8)
    config = _configurations(padded, _CUBE_CORNERS)
    surface = np.nonzero((config != 0) & (config != 255))
    kinds = config[surface]
    counts = np.bincount(kinds, minlength=256).astype(float)
    area_c, normal_c, triple_c = _cube_constants(tuple(spacing))
    origin_sums = np.stack(
        [np.bincount(kinds, weights=i * s, minlength=256) for i, s in zip(surface, spacing)], axis=1
    )
    return (np.sum(origin_sums * normal_c) + counts @ triple_c) / 6.0, counts @ area_c


@pytest.mark.parametrize("seed", range(4))
def test_compiled_surface_sums_equal_numpy_bincounts_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((6 + seed, 9, 7)) > 0.45
    spacing = (1.3, 0.71, 0.93)
    mesh = surface_mesh(mask, spacing)
    assert (mesh.volume, mesh.area) == _surface_sums_by_bincount(mask, spacing)


def _contour_sums_by_bincount(mask: np.ndarray, spacing) -> tuple[float, float]:
    """Contour area and perimeter from NumPy's configurations and bincounts."""
    padded = np.pad(mask, 1).astype(np.uint8)
    config = _configurations(padded, _SQUARE_CORNERS)
    edge = np.nonzero((config != 0) & (config != 15))
    kinds = config[edge]
    counts = np.bincount(kinds, minlength=16).astype(float)
    ends = _square_table()[0] * np.asarray(spacing, dtype=float)
    a, b = ends[:, :, 0], ends[:, :, 1]
    length = np.linalg.norm(b - a, axis=-1).sum(axis=1)
    origin_sums = np.stack(
        [np.bincount(kinds, weights=index * s, minlength=16) for index, s in zip(edge, spacing)],
        axis=1,
    )
    twice_area = np.sum(_cross2(origin_sums, (b - a).sum(axis=1))) + counts @ _cross2(a, b).sum(
        axis=1
    )
    return twice_area / 2.0, counts @ length


@pytest.mark.parametrize("seed", range(4))
def test_compiled_contour_sums_equal_numpy_bincounts_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((12 + seed, 17)) > 0.45
    spacing = (0.83, 0.61)
    outline = contour(mask, spacing)
    assert (outline.area, outline.perimeter) == _contour_sums_by_bincount(mask, spacing)


@pytest.mark.parametrize("shape", [(5, 7, 6), (9, 11), (1, 4, 3)])
def test_voxel_indices_equal_argwhere(shape):
    mask = np.random.default_rng(len(shape)).random(shape) > 0.5
    indices, reference = voxel_indices(mask), np.argwhere(mask)
    assert indices.dtype == reference.dtype
    assert indices.strides == reference.strides  # the same reduction order
    np.testing.assert_array_equal(indices, reference)
    spacing = np.array(shape, dtype=float) * 0.37
    assert np.array_equal((indices * spacing).mean(axis=0), (reference * spacing).mean(axis=0))

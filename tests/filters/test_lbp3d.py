"""LBP 3D (pyradiomics' definition): the icosphere and a pattern computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from radiopipe.filters.lbp3d import icosphere_vertices, local_binary_pattern_3d


@pytest.mark.parametrize(("subdivisions", "radius"), [(0, 1.0), (1, 1.0), (2, 1.5)])
def test_icosphere_vertices_are_trimeshs_bit_for_bit_and_in_order(subdivisions, radius):
    trimesh = pytest.importorskip("trimesh", reason="trimesh (the dev extra) not installed")
    expected = np.asarray(trimesh.creation.icosphere(subdivisions, radius).vertices)
    assert np.array_equal(icosphere_vertices(subdivisions, radius), expected)


def test_a_flat_neighbourhood_is_all_ones_with_undefined_kurtosis():
    """Every sample equals the centre: the pattern is all ones, so only degree 0 is left,
    c_00 = N_v Y_00 and m1 = sqrt(N_v) N_v Y_00^2 = sqrt(N_v) N_v / (4 pi)."""
    image = np.full((7, 7, 7), 5, dtype=np.int16)
    images = local_binary_pattern_3d(image, region=(slice(3, 4),) * 3)
    n_vertices = len(icosphere_vertices(1))
    assert set(images) == {"lbp-3D-m1", "lbp-3D-m2", "lbp-3D-k"}
    assert images["lbp-3D-m1"].item() == pytest.approx(
        math.sqrt(n_vertices) * n_vertices / (4 * math.pi), rel=1e-12
    )
    assert math.isnan(images["lbp-3D-k"].item())
    # pyradiomics evaluates the harmonics at swapped angles (see the module): its degree-1
    # harmonics do not sum to 0 over the sphere, so a flat pattern keeps a degree-1 part, which
    # at the true angles would vanish.
    from scipy.special import sph_harm_y

    x, y, z = icosphere_vertices(1).T
    polar, azimuth = np.arccos(z), np.arctan2(y, x)
    true_angles = [abs(sph_harm_y(1, m, polar, azimuth).sum()) for m in (-1, 0, 1)]
    assert max(true_angles) < 1e-12
    assert images["lbp-3D-m2"].item() > 1.0


def test_a_2d_image_is_refused():
    with pytest.raises(ValueError, match="LBP 3D needs a 3D image"):
        local_binary_pattern_3d(np.zeros((5, 5)))

"""The contour rasteriser on hand-made polygons: centres inside by the even-odd rule, half-open
edges, holes and several polygons on one slice."""

from __future__ import annotations

import numpy as np

from radiopipe.io.polygons import fill_polygon, fill_polygons


def _square(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def test_a_square_between_centres_holds_the_centres_it_encloses():
    mask = fill_polygon(_square(0.5, 0.5, 2.5, 2.5), (4, 4))
    expected = np.zeros((4, 4), dtype=bool)
    expected[1:3, 1:3] = True
    np.testing.assert_array_equal(mask, expected)


def test_centres_on_left_and_lower_edges_are_in_on_right_and_upper_edges_out():
    mask = fill_polygon(_square(1, 1, 3, 3), (5, 5))
    expected = np.zeros((5, 5), dtype=bool)
    expected[1:3, 1:3] = True  # rows 1, 2 and columns 1, 2; row/column 3 lies on the far edges
    np.testing.assert_array_equal(mask, expected)


def test_two_polygons_sharing_an_edge_tile_without_gap_or_overlap():
    left, right = fill_polygon(_square(0, 0, 2, 4), (4, 4)), fill_polygon(_square(2, 0, 4, 4),
                                                                           (4, 4))
    assert not (left & right).any()
    assert (left | right).all()


def test_a_triangle_holds_the_centres_right_of_its_diagonal_and_those_on_it():
    mask = fill_polygon(np.array([[-0.5, -0.5], [4.5, -0.5], [4.5, 4.5]]), (4, 4))
    rows, columns = np.indices((4, 4))
    # The diagonal is the triangle's left edge: centres on it are inside.
    np.testing.assert_array_equal(mask, columns >= rows)


def test_the_vertex_order_does_not_matter():
    square = _square(0.5, 0.5, 3.5, 2.5)
    np.testing.assert_array_equal(fill_polygon(square, (5, 5)),
                                  fill_polygon(square[::-1], (5, 5)))


def test_an_inner_polygon_on_the_same_slice_is_a_hole():
    mask = fill_polygons([_square(-0.5, -0.5, 5.5, 5.5), _square(1.5, 1.5, 3.5, 3.5)], (6, 6))
    assert mask.sum() == 36 - 4
    assert not mask[2:4, 2:4].any()


def test_separate_polygons_on_one_slice_are_both_filled():
    mask = fill_polygons([_square(-0.5, -0.5, 1.5, 1.5), _square(2.5, 2.5, 4.5, 4.5)], (5, 5))
    assert mask.sum() == 8 and mask[0, 0] and mask[4, 4] and not mask[2, 2]


def test_a_polygon_beyond_the_grid_is_clipped_and_one_outside_it_fills_nothing():
    assert fill_polygon(_square(-10, -10, 1.5, 1.5), (4, 4)).sum() == 4
    assert not fill_polygon(_square(10, 10, 12, 12), (4, 4)).any()
    assert not fill_polygon(np.array([[1.0, 1.0], [2.0, 2.0]]), (4, 4)).any()

"""Tests of the shared geometry: rotations, polygons, farthest-point sampling, components."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robot_memory.core.types import StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import (
    boundary_points,
    connected_components,
    counter_clockwise,
    distance_to_edges,
    farthest_points,
    points_in_polygon,
    pole_of_inaccessibility,
    polygon_area,
    polygons_overlap,
    quaternion_matrix,
    self_intersection,
    shared_boundary_m,
    shared_stretches,
    signed_area,
    signed_depth,
    spanning_joins,
)

SQUARE = [(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)]
# An L: a 4 x 4 square without its top-right 2 x 2 quarter (area 12).
L_SHAPE = [(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0)]


def _reference_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    """The textbook formula for a unit quaternion (x, y, z, w)."""
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


# ================================================================ rotations
@pytest.mark.parametrize(('axis', 'vector', 'turned'), [
    ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # yaw: x forward turns to y left
    ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),  # roll: y turns to z
    ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),  # pitch: z turns to x
])
def test_a_quarter_turn_about_an_axis_turns_known_vectors(axis, vector, turned) -> None:
    s = math.sin(math.pi / 4)
    q = (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(math.pi / 4))
    assert quaternion_matrix(q) @ np.array(vector) == pytest.approx(turned, abs=1e-12)


def test_the_identity_quaternion_is_the_identity_matrix() -> None:
    assert np.array_equal(quaternion_matrix((0.0, 0.0, 0.0, 1.0)), np.eye(3))


def test_a_half_turn_about_z_reverses_x_and_y() -> None:
    rot = quaternion_matrix((0.0, 0.0, 1.0, 0.0))
    assert rot == pytest.approx(np.diag([-1.0, -1.0, 1.0]), abs=1e-12)


def test_random_quaternions_give_rotations_equal_to_the_formula_and_the_pose() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        # Not normalised, and of any scale: both are normalised first.
        q = rng.normal(size=4) * rng.uniform(0.01, 100.0)
        rot = quaternion_matrix(q)
        unit = q / np.linalg.norm(q)
        assert rot == pytest.approx(_reference_matrix(*unit), abs=1e-12)
        assert rot @ rot.T == pytest.approx(np.eye(3), abs=1e-12)
        assert np.linalg.det(rot) == pytest.approx(1.0)
        # q and -q are the same rotation.
        assert quaternion_matrix(-q) == pytest.approx(rot, abs=1e-12)
        pose = StampedPose(0.0, (1.0, 2.0, 3.0), tuple(q))
        assert np.array_equal(pose.matrix()[:3, :3], quaternion_matrix(pose.orientation_xyzw))
        assert pose.matrix()[:3, :3] == pytest.approx(rot, abs=1e-12)


@pytest.mark.parametrize('q', [(0.0, 0.0, 0.0, 0.0), (math.nan, 0.0, 0.0, 1.0),
                               (0.0, 0.0, 1.0)])
def test_a_zero_non_finite_or_short_quaternion_is_refused(q) -> None:
    with pytest.raises(InvalidInputError, match='non-zero quaternion'):
        quaternion_matrix(q)


# ================================================================= polygons
@pytest.mark.parametrize(('polygon', 'area'), [
    (SQUARE, 12.0),
    (L_SHAPE, 12.0),
    ([(0.0, 0.0), (3.0, 0.0), (0.0, 4.0)], 6.0),
    ([(0.0, 0.0), (1.0, 1.0)], 0.0),
])
def test_shoelace_area_of_known_polygons(polygon, area) -> None:
    assert polygon_area(polygon) == pytest.approx(area)
    assert polygon_area(polygon[::-1]) == pytest.approx(area)


def test_the_sign_of_the_area_says_which_way_the_vertices_run() -> None:
    assert signed_area(SQUARE) == pytest.approx(12.0)
    assert signed_area(SQUARE[::-1]) == pytest.approx(-12.0)
    assert counter_clockwise(SQUARE[::-1]) == tuple(SQUARE[::-1])[::-1]
    assert counter_clockwise(SQUARE) == tuple(SQUARE)


def test_points_inside_the_l_and_out_of_its_missing_corner() -> None:
    pts = np.array([[1.0, 1.0], [3.0, 1.0], [1.0, 3.0], [3.0, 3.0], [5.0, 1.0], [-1.0, 0.5]])
    assert points_in_polygon(pts, L_SHAPE).tolist() == [True, True, True, False, False, False]


def test_depth_is_the_distance_to_the_nearest_edge_signed_by_inside() -> None:
    pts = np.array([[2.0, 1.5], [1.0, 1.0], [5.0, 1.5], [2.0, -0.5]])
    assert distance_to_edges(pts, SQUARE) == pytest.approx([1.5, 1.0, 1.0, 0.5])
    assert signed_depth(pts, SQUARE) == pytest.approx([1.5, 1.0, -1.0, -0.5])


def test_the_pole_of_a_rectangle_is_its_centre_and_of_the_l_lies_in_its_corner() -> None:
    assert pole_of_inaccessibility(SQUARE) == pytest.approx((2.0, 1.5), abs=2e-3)
    x, y = pole_of_inaccessibility(L_SHAPE)
    # The L's widest circle touches the walls x = 0 and y = 0 and the inner corner (2, 2):
    # centred at (r, r) with √2 (2 - r) = r.
    r = 4.0 - 2.0 * math.sqrt(2.0)
    assert (x, y) == pytest.approx((r, r), abs=2e-3)
    assert signed_depth(np.array([[x, y]]), L_SHAPE)[0] == pytest.approx(r, abs=2e-3)


def test_a_bow_tie_crosses_itself_and_a_square_does_not() -> None:
    assert self_intersection([(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0)]) == (0, 2)
    assert self_intersection(SQUARE) is None
    assert self_intersection(L_SHAPE) is None


def test_boundary_points_keep_their_spacing_and_include_the_vertices() -> None:
    pts = boundary_points(SQUARE, 0.5)
    assert len(pts) == 28  # 14 m of boundary in steps of 0.5 m
    for vertex in SQUARE:
        assert any(np.allclose(p, vertex) for p in pts)
    assert np.abs(distance_to_edges(pts, SQUARE)).max() == pytest.approx(0.0, abs=1e-12)


def test_neighbouring_rooms_share_a_wall_and_do_not_overlap() -> None:
    right = [(4.0, 1.0), (7.0, 1.0), (7.0, 5.0), (4.0, 5.0)]
    assert shared_boundary_m(SQUARE, right) == pytest.approx(2.0)
    ((length, mid),) = shared_stretches(SQUARE, right, 0.05)
    assert length == pytest.approx(2.0) and mid == pytest.approx((4.0, 2.0))
    assert not polygons_overlap(SQUARE, right, 0.05)
    shifted = [(x - 1.0, y) for x, y in right]
    assert polygons_overlap(SQUARE, shifted, 0.05)
    inner = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)]
    assert polygons_overlap(SQUARE, inner, 0.05)  # one inside the other shares all its floor
    assert shared_boundary_m(SQUARE, [(10.0, 0.0), (11.0, 0.0), (11.0, 1.0)]) == 0.0


# =================================================================== points
def test_farthest_points_start_at_the_first_and_keep_their_spacing() -> None:
    grid = np.stack(np.meshgrid(np.arange(0, 6.01, 0.25), np.arange(0, 4.01, 0.25)),
                    axis=-1).reshape(-1, 2)
    chosen = farthest_points(grid, (3.0, 2.0), 2.0, 5)
    assert chosen.shape == (5, 2)
    assert chosen[0].tolist() == [3.0, 2.0]
    gaps = [math.dist(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1:]]
    assert min(gaps) >= 2.0
    # Greedy: the second is the candidate farthest from the first (a corner of the grid).
    assert math.dist(chosen[1], (3.0, 2.0)) == pytest.approx(math.hypot(3.0, 2.0))


def test_farthest_points_stop_at_the_spacing_and_keep_the_first_alone() -> None:
    grid = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    assert farthest_points(grid, (0.0, 0.0), 2.0, 10).tolist() == [[0.0, 0.0], [5.0, 0.0]]
    assert farthest_points(grid, (0.0, 0.0), 10.0, 5).tolist() == [[0.0, 0.0]]
    assert farthest_points(np.zeros((0, 2)), np.array([1.0, 2.0]), 1.0, 3).tolist() == \
        [[1.0, 2.0]]


# =================================================================== graphs
def test_connected_components_group_joined_nodes_and_keep_lone_ones() -> None:
    groups = connected_components('abcdef', [('a', 'b'), ('b', 'c'), ('d', 'e')])
    assert sorted(sorted(g) for g in groups) == [['a', 'b', 'c'], ['d', 'e'], ['f']]
    assert connected_components([1, 2], []) == [{1}, {2}]


def test_spanning_joins_take_only_pairs_that_join_separate_groups_in_order() -> None:
    candidates = [('a', 'b'), ('c', 'd'), ('a', 'c'), ('b', 'd'), ('d', 'e')]
    joins = spanning_joins('abcde', [('a', 'b')], candidates)
    assert joins == [('c', 'd'), ('a', 'c'), ('d', 'e')]
    assert len(connected_components('abcde', [('a', 'b'), *joins])) == 1
    assert spanning_joins('ab', [], []) == []

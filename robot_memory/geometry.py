"""Small geometry shared by every layer: rotations, floor polygons, spread points, components.

The project's one copy of each: a quaternion (x, y, z, w) as a rotation matrix, polygon area
and orientation (shoelace), point-in-polygon and distance to a polygon's edges, the pole of
inaccessibility, polygon overlap and shared boundary, greedy farthest-point sampling, and
connected components of a graph (networkx). Points are metres in a plane (`map` x, y) unless
a function says otherwise. Pure numpy / networkx: no rclpy, no OpenCV.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt
from networkx.utils import UnionFind

from robot_memory.exceptions import InvalidInputError

__all__ = [
    'Vec2',
    'boundary_points',
    'connected_components',
    'counter_clockwise',
    'distance_to_edges',
    'farthest_points',
    'point_in_polygon',
    'points_in_polygon',
    'pole_of_inaccessibility',
    'polygon_area',
    'polygon_edges',
    'polygons_overlap',
    'quaternion_matrix',
    'segments_cross',
    'self_intersection',
    'shared_boundary_m',
    'shared_stretches',
    'signed_area',
    'signed_depth',
    'spanning_joins',
]

Vec2 = tuple[float, float]
Node = TypeVar('Node', bound=Hashable)

# Edges within this angle of each other run together (for a shared stretch of boundary).
_PARALLEL_SIN = math.sin(math.radians(5.0))


# ================================================================ rotations
def quaternion_matrix(rotation_xyzw: Sequence[float] | np.ndarray) -> np.ndarray:
    """The 3x3 rotation matrix of a quaternion (x, y, z, w), normalised first.

    Raises `InvalidInputError` for a zero or non-finite quaternion.
    """
    q = tuple(float(v) for v in rotation_xyzw)
    norm = math.sqrt(sum(v * v for v in q))
    if len(q) != 4 or not (math.isfinite(norm) and norm > 1e-9):
        raise InvalidInputError(f'rotation must be a non-zero quaternion (x, y, z, w), '
                                f'got {q!r}')
    x, y, z, w = (v / norm for v in q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


# ================================================================= polygons
def signed_area(polygon: Sequence[Vec2] | npt.ArrayLike) -> float:
    """Shoelace area of a polygon: positive when its vertices run counter-clockwise."""
    pts = np.asarray(polygon, dtype=float).reshape(-1, 2)
    if len(pts) < 3:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def polygon_area(polygon: Sequence[Vec2] | npt.ArrayLike) -> float:
    """Area of a polygon (m² for vertices in metres), whichever way its vertices run."""
    return abs(signed_area(polygon))


def counter_clockwise(polygon: Sequence[Vec2]) -> tuple[Vec2, ...]:
    """The polygon's vertices as float pairs, reversed if they ran clockwise."""
    pts = tuple((float(x), float(y)) for x, y in polygon)
    return pts if signed_area(pts) >= 0 else pts[::-1]


def polygon_edges(polygon: Sequence[Vec2]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(start, end) of each edge, the closing edge from the last vertex to the first included."""
    pts = np.asarray(polygon, dtype=float)
    return [(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]


def distance_to_edges(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Distance from each point (N, 2) to the polygon's boundary."""
    a = np.asarray(polygon, dtype=float)
    b = np.roll(a, -1, axis=0)
    d = b - a
    length2 = np.maximum((d * d).sum(axis=1), 1e-18)
    rel = points[:, None, :] - a[None, :, :]
    t = np.clip((rel * d[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    closest = a[None] + t[..., None] * d[None]
    out: np.ndarray = np.sqrt(((points[:, None, :] - closest) ** 2).sum(axis=2)).min(axis=1)
    return out


def point_in_polygon(x: float, y: float, polygon: Sequence[Vec2]) -> bool:
    """Whether one point lies inside the polygon, by the even-odd rule (`points_in_polygon` for
    many; this is the cheaper one for a single point). Points on an edge may fall either way.
    """
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


def points_in_polygon(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Whether each point (N, 2) lies inside the polygon, by the even-odd rule.

    Points on an edge may fall either way.
    """
    a = np.asarray(polygon, dtype=float)
    b = np.roll(a, -1, axis=0)
    x, y = points[:, 0:1], points[:, 1:2]
    crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)
    dy = np.where(crosses, b[:, 1] - a[:, 1], 1.0)
    x_cross = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
    out: np.ndarray = ((crosses & (x < x_cross)).sum(axis=1) % 2) == 1
    return out


def signed_depth(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Signed distance of each point (N, 2) to the boundary: positive inside, negative outside."""
    dist = distance_to_edges(points, polygon)
    out: np.ndarray = np.where(points_in_polygon(points, polygon), dist, -dist)
    return out


def pole_of_inaccessibility(polygon: Sequence[Vec2], precision_m: float = 0.001) -> Vec2:
    """The point inside a polygon farthest from its edges, to within `precision_m`."""
    pts = np.asarray(polygon, dtype=float)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    # A dense first grid finds the right lobe of a concave polygon; then zoom in around it.
    step = float(max(hi - lo)) / 48.0
    middle = (lo + hi) / 2
    centre, half = middle, (hi - lo) / 2
    while True:
        xs = np.arange(centre[0] - half[0], centre[0] + half[0] + step / 2, step)
        ys = np.arange(centre[1] - half[1], centre[1] + half[1] + step / 2, step)
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        depth = signed_depth(grid, polygon)
        # Many points tie in a rectangle (its whole medial segment); take the most central.
        near_best = grid[depth >= depth.max() - min(step, precision_m) / 2]
        best = near_best[int(np.argmin(np.hypot(*(near_best - middle).T)))]
        if step <= precision_m:
            break
        centre, half = best, np.array([2 * step, 2 * step])
        step /= 4.0
    return (float(best[0]), float(best[1]))


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def segments_cross(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> bool:
    """Whether segments p1-p2 and q1-q2 cross at a point inside both (touching does not count).
    """
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    eps = 1e-9
    return ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and \
        ((d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps))


def self_intersection(polygon: Sequence[Vec2]) -> tuple[int, int] | None:
    """The first pair of edges (i, j) of the polygon that cross each other, or None."""
    edges = polygon_edges(polygon)
    n = len(edges)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing vertex
            if segments_cross(*edges[i], *edges[j]):
                return i, j
    return None


def boundary_points(polygon: Sequence[Vec2], spacing_m: float) -> np.ndarray:
    """Points along a polygon's edges, at most `spacing_m` apart, vertices included."""
    out = []
    for p, q in polygon_edges(polygon):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / spacing_m))
        out.append(p + np.linspace(0.0, 1.0, n, endpoint=False)[:, None] * (q - p))
    return np.vstack(out)


def polygons_overlap(a: Sequence[Vec2], b: Sequence[Vec2], tolerance_m: float) -> bool:
    """Whether two polygons share floor deeper than `tolerance_m`, not merely a boundary."""
    lo_a, hi_a = np.min(a, axis=0), np.max(a, axis=0)
    lo_b, hi_b = np.min(b, axis=0), np.max(b, axis=0)
    if (np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b) <= tolerance_m).any():
        return False
    # An overlap puts part of one outline inside the other (or one polygon inside the other,
    # which its pole shows); sampling the outlines finds it and lets traced outlines touch.
    spacing = max(tolerance_m, 0.01)
    for first, second in ((a, b), (b, a)):
        probes = np.vstack([boundary_points(first, spacing),
                            [pole_of_inaccessibility(first, spacing)]])
        if (signed_depth(probes, second) > tolerance_m).any():
            return True
    return False


def shared_stretches(a: Sequence[Vec2], b: Sequence[Vec2],
                     tolerance_m: float) -> list[tuple[float, Vec2]]:
    """(length, midpoint) of each stretch where an edge of `a` runs along an edge of `b`."""
    out = []
    for p1, p2 in polygon_edges(a):
        d = p2 - p1
        length = float(np.hypot(*d))
        if length < 1e-9:
            continue
        u = d / length
        for q1, q2 in polygon_edges(b):
            e = q2 - q1
            e_len = float(np.hypot(*e))
            if e_len < 1e-9 or abs(u[0] * e[1] - u[1] * e[0]) / e_len > _PARALLEL_SIN:
                continue
            # Both ends of b's edge within tolerance of a's line: the edges run together.
            if max(abs(_cross(p1, p2, q1)), abs(_cross(p1, p2, q2))) / length > tolerance_m:
                continue
            t1, t2 = sorted((float(np.dot(q1 - p1, u)), float(np.dot(q2 - p1, u))))
            lo, hi = max(t1, 0.0), min(t2, length)
            if hi - lo > 1e-9:
                mid = p1 + u * (lo + hi) / 2
                out.append((hi - lo, (float(mid[0]), float(mid[1]))))
    return out


def shared_boundary_m(a: Sequence[Vec2], b: Sequence[Vec2], tolerance_m: float = 0.05) -> float:
    """Length of boundary two polygons share (edges running together within `tolerance_m`)."""
    return sum(length for length, _ in shared_stretches(a, b, tolerance_m))


# =================================================================== points
def farthest_points(candidates: npt.ArrayLike, first: npt.ArrayLike, spacing_m: float,
                    count: int) -> np.ndarray:
    """Greedy farthest-point sampling of planar points, as a (K, 2) array with K ≤ max(count, 1).

    `first` comes first; then, while fewer than `count` are chosen, the candidate farthest
    from every chosen point, as long as it is at least `spacing_m` from them.
    """
    start = np.asarray(first, dtype=float).reshape(2)
    chosen = [start]
    pts = np.asarray(candidates, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return np.stack(chosen)
    nearest = np.hypot(pts[:, 0] - start[0], pts[:, 1] - start[1])
    while len(chosen) < count:
        k = int(np.argmax(nearest))
        if nearest[k] < spacing_m:
            break
        chosen.append(pts[k])
        nearest = np.minimum(nearest, np.hypot(pts[:, 0] - pts[k, 0], pts[:, 1] - pts[k, 1]))
    return np.stack(chosen)


# =================================================================== graphs
def connected_components(nodes: Iterable[Node],
                         edges: Iterable[tuple[Node, Node]]) -> list[set[Node]]:
    """The groups of `nodes` joined by `edges` (an edge's ends must be among the nodes)."""
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return [set(c) for c in nx.connected_components(graph)]


def spanning_joins(nodes: Iterable[Node], edges: Iterable[tuple[Node, Node]],
                   candidates: Iterable[tuple[Node, Node]]) -> list[tuple[Node, Node]]:
    """The candidate pairs, in the order given, that join groups not yet joined (Kruskal).

    The groups start as the connected components of `nodes` and `edges`; each pair taken
    merges its two groups, so the result is a spanning forest over them.
    """
    groups = UnionFind(nodes)
    for a, b in edges:
        groups.union(a, b)
    joins = []
    for a, b in candidates:
        if groups[a] != groups[b]:
            groups.union(a, b)
            joins.append((a, b))
    return joins

"""Rooms on a real robot: named regions drawn over the map, or segmented from an occupancy grid.

Two ways to give the memory its room layer (`room:<name>` nodes with a floor polygon in `map`,
`place:<name>/<k>` viewpoints, `adjacent` and `traversable` edges):

- `load_regions(path)` reads a YAML of named polygons drawn over the robot's map (format in
  `sim/regions_example.yaml`). Places are taken from the file or generated inside each polygon;
  regions that share a stretch of boundary are adjacent unless the file lists the pairs.
- `rooms_from_occupancy(grid, resolution_m, origin_xy)` segments a `nav_msgs/OccupancyGrid`
  morphologically: free space is eroded until doorways close (a distance-transform threshold
  of half the door width), the pieces left are room seeds, the seeds grow back over free
  space by falling clearance (a watershed on the distance map), pieces joined by an opening
  wider than a door or smaller than a room are merged, and each room's outline becomes a
  polygon in `map`. Measured against the built-in simulator's true rooms: `docs/rooms.md`.

OpenCV (`opencv-python-headless`) is imported inside the functions that need it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from robot_memory.config import read_yaml
from robot_memory.core.scene_graph import (
    EdgeKind,
    Layer,
    PlaceAttributes,
    RoomAttributes,
    SceneGraph,
)
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'MIN_SHARED_BOUNDARY_M',
    'Agreement',
    'PlaceParams',
    'Region',
    'RegionFile',
    'SegmentationParams',
    'graph_from_regions',
    'label_rooms',
    'load_regions',
    'pole_of_inaccessibility',
    'read_regions',
    'rooms_from_occupancy',
    'save_regions',
    'segment_rooms',
    'segmentation_agreement',
    'shared_boundary_m',
]

log = logging.getLogger(__name__)

Vec2 = tuple[float, float]

# Regions touching over less than this (a corner, a sliver) are not adjacent: no doorway fits.
MIN_SHARED_BOUNDARY_M = 0.5
_NAME = re.compile(r'^[A-Za-z0-9_-]+$')
_REGION_KEYS = ('name', 'category', 'polygon', 'places')
_FILE_KEYS = ('frame_id', 'building', 'regions', 'adjacent', 'place_generation')
_PLACE_KEYS = ('spacing_m', 'clearance_m', 'max_per_room')
_PARALLEL_SIN = math.sin(math.radians(5.0))
_FREE, _UNKNOWN = 0, -1


# ================================================================== values
@dataclass(frozen=True, slots=True)
class Region:
    """A named floor region in `map`: category, polygon (counter-clockwise) and places."""

    name: str
    category: str
    polygon_m: tuple[Vec2, ...]
    places_m: tuple[Vec2, ...] = ()

    @property
    def room_id(self) -> str:
        """Scene-graph id, `room:<name>`."""
        return f'room:{self.name}'

    @property
    def area_m2(self) -> float:
        """Floor area of the polygon."""
        return abs(_signed_area(self.polygon_m))


@dataclass(frozen=True, slots=True)
class PlaceParams:
    """How places are generated where none are given.

    The first place is the point farthest from the region's edges (the pole of inaccessibility);
    more follow, each as far as possible from those chosen, while that is at least `spacing_m`.
    """

    spacing_m: float = 2.0  # least distance between generated view places
    clearance_m: float = 0.4  # least distance from a place to the region's edge or an obstacle
    max_per_room: int = 3  # view places per room (door places come on top on a grid map)

    def __post_init__(self) -> None:
        if not (self.spacing_m > 0 and self.clearance_m >= 0 and self.max_per_room >= 1):
            raise InvalidInputError(
                f'place parameters need spacing_m > 0, clearance_m ≥ 0 and max_per_room ≥ 1, '
                f'got {self.spacing_m}, {self.clearance_m}, {self.max_per_room}')


@dataclass(frozen=True, slots=True)
class SegmentationParams:
    """Room segmentation of an occupancy grid.

    `door_width_m`: the widest doorway in metres. Free space narrower than this separates rooms;
    an opening wider than this joins them into one (open-plan rooms stay whole). Corridors
    narrower than this are not rooms of their own: the rooms beside them share them out.
    `min_room_area_m2`: rooms with less free floor than this (m²) are merged into the neighbour
    they share the longest opening with, or dropped when they have none.
    `min_seed_area_m2`: room seeds smaller than this (m²) are ignored, so that a bulge of free
    space between two pieces of furniture does not start a room of its own.
    `free_threshold`: cells with a value in [0, free_threshold] are free (occupancy percent,
    as nav2's map_server `free_thresh` 0.25); -1 is unknown, the rest occupied.
    """

    door_width_m: float = 1.0
    min_room_area_m2: float = 2.0
    min_seed_area_m2: float = 0.1
    free_threshold: int = 25
    places: PlaceParams = field(default_factory=PlaceParams)

    def __post_init__(self) -> None:
        if not self.door_width_m > 0:
            raise InvalidInputError(f'door_width_m must be positive, got {self.door_width_m}')
        if self.min_room_area_m2 < 0 or self.min_seed_area_m2 < 0:
            raise InvalidInputError(
                f'min_room_area_m2 and min_seed_area_m2 must be ≥ 0, got '
                f'{self.min_room_area_m2}, {self.min_seed_area_m2}')
        if not 0 <= self.free_threshold < 100:
            raise InvalidInputError(
                f'free_threshold must be in [0, 100), got {self.free_threshold}')


class RegionFile(NamedTuple):
    """The content of a regions YAML: building name, regions, adjacency (None: from geometry)."""

    building: str
    regions: list[Region]
    adjacent: list[tuple[str, str]] | None
    place_params: PlaceParams


class Agreement(NamedTuple):
    """How well a segmentation matches the true rooms (segments matched one-to-one)."""

    accuracy: float  # fraction of scored cells whose segment is matched to their true room
    rooms_found: int
    rooms_true: int


# ================================================================ geometry
def _signed_area(polygon: Sequence[Vec2]) -> float:
    pts = np.asarray(polygon, dtype=float).reshape(-1, 2)
    if len(pts) < 3:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _ccw(polygon: Sequence[Vec2]) -> tuple[Vec2, ...]:
    pts = tuple((float(x), float(y)) for x, y in polygon)
    return pts if _signed_area(pts) >= 0 else pts[::-1]


def _edge_distance(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Distance from each point (N, 2) to the polygon's boundary."""
    a = np.asarray(polygon, dtype=float)
    b = np.roll(a, -1, axis=0)
    d = b - a
    length2 = np.maximum((d * d).sum(axis=1), 1e-18)
    rel = points[:, None, :] - a[None, :, :]
    t = np.clip((rel * d[None]).sum(axis=2) / length2[None], 0.0, 1.0)
    closest = a[None] + t[..., None] * d[None]
    return np.sqrt(((points[:, None, :] - closest) ** 2).sum(axis=2)).min(axis=1)


def _inside(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Even-odd rule for each point (N, 2)."""
    a = np.asarray(polygon, dtype=float)
    b = np.roll(a, -1, axis=0)
    x, y = points[:, 0:1], points[:, 1:2]
    crosses = (a[None, :, 1] > y) != (b[None, :, 1] > y)
    dy = np.where(crosses, b[:, 1] - a[:, 1], 1.0)
    x_cross = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
    return ((crosses & (x < x_cross)).sum(axis=1) % 2) == 1


def _depth(points: np.ndarray, polygon: Sequence[Vec2]) -> np.ndarray:
    """Signed distance to the boundary: positive inside, negative outside."""
    dist = _edge_distance(points, polygon)
    return np.where(_inside(points, polygon), dist, -dist)


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
        depth = _depth(grid, polygon)
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


def _properly_cross(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> bool:
    """Whether two segments cross at a point inside both (touching does not count)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    eps = 1e-9
    return ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and \
        ((d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps))


def _edges(polygon: Sequence[Vec2]) -> list[tuple[np.ndarray, np.ndarray]]:
    pts = np.asarray(polygon, dtype=float)
    return [(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]


def _self_intersection(polygon: Sequence[Vec2]) -> tuple[int, int] | None:
    edges = _edges(polygon)
    n = len(edges)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing vertex
            if _properly_cross(*edges[i], *edges[j]):
                return i, j
    return None


def _boundary_points(polygon: Sequence[Vec2], spacing_m: float) -> np.ndarray:
    """Points along a polygon's edges, at most `spacing_m` apart, vertices included."""
    out = []
    for p, q in _edges(polygon):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / spacing_m))
        out.append(p + np.linspace(0.0, 1.0, n, endpoint=False)[:, None] * (q - p))
    return np.vstack(out)


def _overlap(a: Sequence[Vec2], b: Sequence[Vec2], tolerance_m: float) -> bool:
    """Whether two polygons share floor deeper than `tolerance_m`, not merely a boundary."""
    lo_a, hi_a = np.min(a, axis=0), np.max(a, axis=0)
    lo_b, hi_b = np.min(b, axis=0), np.max(b, axis=0)
    if (np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b) <= tolerance_m).any():
        return False
    # An overlap puts part of one outline inside the other (or one polygon inside the other,
    # which its pole shows); sampling the outlines finds it and lets traced outlines touch.
    spacing = max(tolerance_m, 0.01)
    for first, second in ((a, b), (b, a)):
        probes = np.vstack([_boundary_points(first, spacing),
                            [pole_of_inaccessibility(first, spacing)]])
        if (_depth(probes, second) > tolerance_m).any():
            return True
    return False


def _shared_pieces(a: Sequence[Vec2], b: Sequence[Vec2],
                   tolerance_m: float) -> list[tuple[float, Vec2]]:
    """(length, midpoint) of each stretch where an edge of `a` runs along an edge of `b`."""
    out = []
    for p1, p2 in _edges(a):
        d = p2 - p1
        length = float(np.hypot(*d))
        if length < 1e-9:
            continue
        u = d / length
        for q1, q2 in _edges(b):
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
    return sum(length for length, _ in _shared_pieces(a, b, tolerance_m))


def _farthest_points(candidates: np.ndarray, first: np.ndarray, spacing: float,
                     count: int) -> list[np.ndarray]:
    """Greedy farthest-point choice from `first` while the next is at least `spacing` away."""
    chosen = [first]
    if len(candidates) == 0:
        return chosen
    nearest = np.hypot(*(candidates - first).T)
    while len(chosen) < count:
        k = int(np.argmax(nearest))
        if nearest[k] < spacing:
            break
        chosen.append(candidates[k])
        nearest = np.minimum(nearest, np.hypot(*(candidates - candidates[k]).T))
    return chosen


def _polygon_places(polygon: Sequence[Vec2], params: PlaceParams) -> tuple[Vec2, ...]:
    """View places inside a polygon: its pole, then farthest points on a grid."""
    pole = np.array(pole_of_inaccessibility(polygon))
    pts = np.asarray(polygon, dtype=float)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    step = min(params.spacing_m / 4.0, 0.25)
    xs = np.arange(lo[0] + step / 2, hi[0], step)
    ys = np.arange(lo[1] + step / 2, hi[1], step)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    grid = grid[_depth(grid, polygon) >= params.clearance_m] if len(grid) else grid
    chosen = _farthest_points(grid, pole, params.spacing_m, params.max_per_room)
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in chosen)


def _segment_inside(a: Vec2, b: Vec2, polygon: Sequence[Vec2], tolerance_m: float) -> bool:
    n = max(2, int(math.dist(a, b) / 0.05) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = np.asarray(a) + t * (np.asarray(b) - np.asarray(a))
    return bool((_depth(pts, polygon) >= -tolerance_m).all())


# ============================================================ region files
def _fail(source: str, message: str) -> InvalidInputError:
    return InvalidInputError(f'{source}: {message}')


def _points(value: Any, what: str, source: str) -> tuple[Vec2, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(source, f'{what} must be a list of [x, y] points, got {value!r}')
    out = []
    for k, p in enumerate(value):
        try:
            x, y = (float(v) for v in p)
        except (TypeError, ValueError):
            raise _fail(source, f'{what} point {k} must be [x, y] in metres, '
                                f'got {p!r}') from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise _fail(source, f'{what} point {k} must be finite, got {p!r}')
        out.append((x, y))
    return tuple(out)


def _place_params(value: Any, source: str) -> PlaceParams:
    if value is None:
        return PlaceParams()
    if not isinstance(value, Mapping):
        raise _fail(source, f'place_generation must be a mapping, got {value!r}')
    unknown = sorted(set(value) - set(_PLACE_KEYS))
    if unknown:
        raise _fail(source, f'unknown place_generation keys {unknown}; '
                            f'valid: {", ".join(_PLACE_KEYS)}')
    try:
        return PlaceParams(**{k: (int(v) if k == 'max_per_room' else float(v))
                              for k, v in value.items()})
    except (TypeError, ValueError) as exc:
        raise _fail(source, f'place_generation: {exc}') from None


def _parse_region(index: int, entry: Any, source: str, tolerance_m: float) -> Region:
    if not isinstance(entry, Mapping):
        raise _fail(source, f'region {index} must be a mapping with name, category and '
                            f'polygon, got {entry!r}')
    name = entry.get('name')
    label = f'region {index} ({name!r})' if name is not None else f'region {index}'
    unknown = sorted(set(entry) - set(_REGION_KEYS))
    if unknown:
        raise _fail(source, f'{label}: unknown keys {unknown}; valid: {", ".join(_REGION_KEYS)}')
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(source, f'{label}: name must be a non-empty string of letters, digits, '
                            f'"_" or "-"')
    category = entry.get('category')
    if not isinstance(category, str) or not category.strip():
        raise _fail(source, f'{label}: category must be a non-empty string, got {category!r}')
    if 'polygon' not in entry:
        raise _fail(source, f'{label}: polygon is missing')
    polygon = _points(entry['polygon'], f'{label}: polygon', source)
    if len(polygon) >= 2 and polygon[0] == polygon[-1]:
        polygon = polygon[:-1]  # a closed ring repeats its first point
    if len(polygon) < 3:
        raise _fail(source, f'{label}: polygon needs at least 3 points, got {len(polygon)}')
    crossing = _self_intersection(polygon)
    if crossing is not None:
        raise _fail(source, f'{label}: polygon crosses itself (edges {crossing[0]} and '
                            f'{crossing[1]})')
    if abs(_signed_area(polygon)) < 1e-6:
        raise _fail(source, f'{label}: polygon has zero area')
    places = _points(entry.get('places') or [], f'{label}: places', source)
    polygon = _ccw(polygon)
    for k, p in enumerate(places):
        if _depth(np.array([p]), polygon)[0] < -tolerance_m:
            raise _fail(source, f'{label}: place {k} {list(p)} lies outside the polygon')
    return Region(name, category.strip(), polygon, places)


def read_regions(source: str | Path | Mapping[str, Any],
                 tolerance_m: float = 0.05) -> RegionFile:
    """Read and check a regions YAML (or its dict); errors name the region and the problem."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = '<regions>'
    else:
        where = str(source)
        data = read_yaml(source, 'regions file')
    if not isinstance(data, Mapping) or not isinstance(data.get('regions'), list):
        raise _fail(where, 'a regions file is a mapping with a "regions" list')
    unknown = sorted(set(data) - set(_FILE_KEYS))
    if unknown:
        raise _fail(where, f'unknown keys {unknown}; valid: {", ".join(_FILE_KEYS)}')
    frame_id = data.get('frame_id', 'map')
    if frame_id != 'map':
        raise _fail(where, f'frame_id must be "map" (polygons are drawn over the map), '
                           f'got {frame_id!r}')
    building = str(data.get('building') or 'building')
    if not data['regions']:
        raise _fail(where, 'the regions list is empty')
    regions = [_parse_region(i, entry, where, tolerance_m)
               for i, entry in enumerate(data['regions'])]
    seen: dict[str, int] = {}
    for i, region in enumerate(regions):
        if region.name in seen:
            raise _fail(where, f'region {i} ({region.name!r}): the name is already used by '
                               f'region {seen[region.name]}')
        seen[region.name] = i
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            if _overlap(a.polygon_m, b.polygon_m, tolerance_m):
                raise _fail(where, f'regions {a.name!r} and {b.name!r} overlap; regions may '
                                   f'share edges but not floor')
    adjacent = None
    if data.get('adjacent') is not None:
        adjacent = []
        if not isinstance(data['adjacent'], list):
            raise _fail(where, f'adjacent must be a list of [a, b] name pairs, '
                               f'got {data["adjacent"]!r}')
        for k, pair in enumerate(data['adjacent']):
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise _fail(where, f'adjacent entry {k} must be a pair of region names, '
                                   f'got {pair!r}')
            for name in pair:
                if name not in seen:
                    raise _fail(where, f'adjacent entry {k} names unknown region {name!r}; '
                                       f'valid: {", ".join(seen)}')
            if pair[0] == pair[1]:
                raise _fail(where, f'adjacent entry {k} joins {pair[0]!r} to itself')
            adjacent.append((str(pair[0]), str(pair[1])))
    return RegionFile(building, regions, adjacent,
                      _place_params(data.get('place_generation'), where))


def graph_from_regions(regions: Iterable[Region], building: str = 'building',
                       adjacent: Iterable[tuple[str, str]] | None = None,
                       params: PlaceParams | None = None,
                       tolerance_m: float = 0.05) -> SceneGraph:
    """Rooms, places (given or generated) and adjacency / traversable edges from regions.

    Without `adjacent`, regions that share at least `MIN_SHARED_BOUNDARY_M` of boundary are
    adjacent. Places of one region are joined where the straight line stays inside it; two
    adjacent regions are joined through the middle of their longest shared stretch.
    """
    params = params or PlaceParams()
    regions = list(regions)
    graph = SceneGraph(building)
    place_ids: dict[str, list[tuple[str, Vec2]]] = {}
    for region in regions:
        graph.add_room(region.room_id, RoomAttributes(region.name, region.category,
                                                      region.polygon_m))
        places = region.places_m or _polygon_places(region.polygon_m, params)
        place_ids[region.name] = []
        for k, (x, y) in enumerate(places):
            place_id = f'place:{region.name}/{k}'
            graph.add_place(place_id, PlaceAttributes(region.room_id, (x, y, 0.0)))
            place_ids[region.name].append((place_id, (x, y)))
        _join_places(graph, place_ids[region.name],
                     lambda a, b, r=region: _segment_inside(a, b, r.polygon_m, tolerance_m))
    by_name = {r.name: r for r in regions}
    if adjacent is None:
        pairs = [(a.name, b.name) for i, a in enumerate(regions) for b in regions[i + 1:]
                 if shared_boundary_m(a.polygon_m, b.polygon_m, tolerance_m)
                 >= MIN_SHARED_BOUNDARY_M]
    else:
        pairs = [tuple(p) for p in adjacent]  # type: ignore[misc]
    for name_a, name_b in pairs:
        graph.add_edge(EdgeKind.ADJACENT, f'room:{name_a}', f'room:{name_b}')
        pieces = _shared_pieces(by_name[name_a].polygon_m, by_name[name_b].polygon_m,
                                tolerance_m)
        places_a, places_b = place_ids[name_a], place_ids[name_b]
        if pieces:
            door = max(pieces)[1]
            pa = min(places_a, key=lambda p: math.dist(p[1], door))
            pb = min(places_b, key=lambda p: math.dist(p[1], door))
            length = math.dist(pa[1], door) + math.dist(door, pb[1])
        else:
            pa, pb = min(((a, b) for a in places_a for b in places_b),
                         key=lambda ab: math.dist(ab[0][1], ab[1][1]))
            length = math.dist(pa[1], pb[1])
        if not graph.has_edge(EdgeKind.TRAVERSABLE, pa[0], pb[0]):
            graph.add_edge(EdgeKind.TRAVERSABLE, pa[0], pb[0], length_m=length)
    return graph


def _join_places(graph: SceneGraph, places: list[tuple[str, Vec2]], clear: Any) -> None:
    """Join places with a clear straight line; then the nearest pairs until all are joined."""
    component = {pid: i for i, (pid, _) in enumerate(places)}
    pairs = sorted(((math.dist(a[1], b[1]), a, b) for i, a in enumerate(places)
                    for b in places[i + 1:]), key=lambda t: t[0])
    blocked = []
    for length, a, b in pairs:
        if clear(a[1], b[1]):
            graph.add_edge(EdgeKind.TRAVERSABLE, a[0], b[0], length_m=length)
            _union(component, a[0], b[0])
        else:
            blocked.append((length, a, b))
    for length, a, b in blocked:
        if component[a[0]] != component[b[0]]:
            graph.add_edge(EdgeKind.TRAVERSABLE, a[0], b[0], length_m=length)
            _union(component, a[0], b[0])


def _union(component: dict[str, int], a: str, b: str) -> None:
    old, new = component[b], component[a]
    for key, value in component.items():
        if value == old:
            component[key] = new


def load_regions(source: str | Path | Mapping[str, Any], params: PlaceParams | None = None,
                 tolerance_m: float = 0.05) -> SceneGraph:
    """Rooms and places from a regions YAML drawn over the robot's map."""
    spec = read_regions(source, tolerance_m)
    log.info('%d regions from %s', len(spec.regions),
             source if not isinstance(source, Mapping) else 'a mapping')
    return graph_from_regions(spec.regions, spec.building, spec.adjacent,
                              params or spec.place_params, tolerance_m)


def save_regions(graph: SceneGraph, path: str | Path) -> Path:
    """Write a graph's rooms, places and adjacency as a regions YAML that loads back equal."""
    import yaml

    regions = []
    for room_id in graph.rooms:
        attrs = graph.get_room(room_id)
        places = sorted(graph.places_in(room_id), key=lambda p: int(p.rpartition('/')[2]))
        regions.append({
            'name': room_id.partition(':')[2],
            'category': attrs.category,
            'polygon': [[float(x), float(y)] for x, y in attrs.polygon_m],
            'places': [[float(v) for v in graph.get_place(p).position_m[:2]] for p in places],
        })
    adjacent = sorted([u.partition(':')[2], v.partition(':')[2]]
                      for u, v, _ in graph.edges(EdgeKind.ADJACENT) if u < v)
    data = {'frame_id': 'map', 'building': graph.get_node(Layer.BUILDING.value).name,
            'regions': regions, 'adjacent': adjacent}
    path = Path(path)
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('# robot_memory regions (format: sim/regions_example.yaml)\n')
        yaml.safe_dump(data, fh, sort_keys=False, default_flow_style=None, width=99)
    return path


# ============================================================ segmentation
class _Segmentation(NamedTuple):
    free_labels: np.ndarray  # (H, W) int32 on free cells only
    labels: np.ndarray  # (H, W) int32 grown over every known cell
    clearance_m: np.ndarray  # (H, W) float32 distance to the nearest non-free cell
    free: np.ndarray  # (H, W) bool


def _check_grid(grid: Any, resolution_m: float) -> np.ndarray:
    arr = np.asarray(grid)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidInputError(f'grid must be a non-empty 2D array (rows along y), '
                                f'got shape {arr.shape}')
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f'grid must hold integer OccupancyGrid values, got {arr.dtype}')
    if arr.min() < -1 or arr.max() > 100:
        raise InvalidInputError(f'grid values must be -1 (unknown) or 0..100 (occupancy %), '
                                f'got {int(arr.min())}..{int(arr.max())}')
    if not (math.isfinite(resolution_m) and resolution_m > 0):
        raise InvalidInputError(f'resolution_m must be positive, got {resolution_m}')
    return arr


def _grow(labels: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Spread labels into unlabelled allowed cells, one ring per step (geodesic nearest)."""
    import cv2

    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    square = np.ones((3, 3), np.uint8)
    out = labels.astype(np.float32)  # dilate has no int32; float32 is exact to 2**24
    step = 0
    while True:
        todo = allowed & (out == 0)
        # Alternating 4- and 8-neighbour rings grows octagons, close to Euclidean circles.
        grown = cv2.dilate(out, cross if step % 2 == 0 else square)
        new = todo & (grown > 0)
        if not new.any():
            return out.astype(np.int32)
        out[new] = grown[new]
        step += 1


def _boundaries(labels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """(a, b) with a < b → midpoints (x=col, y=row) of the cell edges where a meets b."""
    keys, xs, ys = [], [], []
    n = int(labels.max()) + 1
    for a, b, dx, dy in ((labels[:, :-1], labels[:, 1:], 0.5, 0.0),
                         (labels[:-1, :], labels[1:, :], 0.0, 0.5)):
        m = (a > 0) & (b > 0) & (a != b)
        rows, cols = np.nonzero(m)
        lo, hi = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
        keys.append(lo.astype(np.int64) * n + hi)
        xs.append(cols + dx)
        ys.append(rows + dy)
    key = np.concatenate(keys)
    if key.size == 0:
        return {}
    pts = np.stack([np.concatenate(xs), np.concatenate(ys)], axis=1).astype(np.float32)
    order = np.argsort(key, kind='stable')
    key, pts = key[order], pts[order]
    uniq, starts = np.unique(key, return_index=True)
    groups = np.split(pts, starts[1:])
    return {(int(k // n), int(k % n)): g for k, g in zip(uniq, groups, strict=True)}


def _length_cells(points: np.ndarray) -> float:
    import cv2

    if len(points) < 2:
        return float(len(points))
    (_, (w, h), _) = cv2.minAreaRect(points)
    return float(max(w, h)) + 1.0


def _merge(labels: np.ndarray, resolution_m: float, params: SegmentationParams) -> np.ndarray:
    """Merge segments joined wider than a door, then segments smaller than a room."""
    labels = labels.copy()
    cell_m2 = resolution_m * resolution_m
    while True:
        bounds = {k: _length_cells(p) * resolution_m for k, p in _boundaries(labels).items()}
        area = np.bincount(labels.ravel()) * cell_m2
        wide = [k for k, length in bounds.items() if length > params.door_width_m]
        if wide:
            a, b = wide[0]
        else:
            small = [k for k in range(1, len(area))
                     if 0 < area[k] < params.min_room_area_m2
                     and any(k in pair for pair in bounds)]
            if not small:
                break
            k = min(small, key=lambda s: (area[s], s))
            a, b = max((pair for pair in bounds if k in pair), key=lambda p: (bounds[p], p))
        keep, drop = (a, b) if area[a] >= area[b] else (b, a)
        labels[labels == drop] = keep
    # Isolated pockets too small for a room join whatever room surrounds them later.
    area = np.bincount(labels.ravel()) * cell_m2
    tiny = np.flatnonzero((area > 0) & (area < params.min_room_area_m2))
    labels[np.isin(labels, tiny[tiny > 0])] = 0
    return labels


def _relabel(labels: np.ndarray) -> np.ndarray:
    present = np.unique(labels[labels > 0])
    lut = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lut[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    return lut[labels]


def _segment(grid: Any, resolution_m: float, params: SegmentationParams) -> _Segmentation:
    import cv2
    from scipy import ndimage

    arr = _check_grid(grid, resolution_m)
    known = arr != _UNKNOWN
    free = known & (arr <= params.free_threshold)
    # Padding with obstacle keeps the map's edge from counting as open space.
    padded = np.pad(free, 1).astype(np.uint8)
    clearance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    clearance = (clearance * resolution_m).astype(np.float32)
    # An opening n cells wide measures (n + 1) / 2 cells at its middle (cell centres to the
    # obstacle cell's centre): the half cell keeps a doorway exactly door_width_m wide closed.
    core_level = (params.door_width_m + resolution_m) / 2
    core = (clearance > core_level).astype(np.uint8)
    _, seeds, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] * resolution_m ** 2 < params.min_seed_area_m2
    small[0] = False
    seeds[small[seeds]] = 0
    # Flood by falling clearance, one cell at a time (a watershed on the distance map): every
    # room fills its open floor before any front squeezes through a doorway, so borders fall
    # in the doorways even where a room's core lies far from its door.
    labels = seeds.astype(np.int32)
    for level in np.arange(float(core_level), -resolution_m / 2, -resolution_m):
        labels = _grow(labels, free & (clearance >= level))
    # Free space no seed reached (rooms narrower than a door everywhere) is a room of its own.
    rest = (free & (labels == 0)).astype(np.uint8)
    n_rest, rest_labels = cv2.connectedComponents(rest, connectivity=4)
    if n_rest > 1:
        offset = int(labels.max())
        labels = np.where(rest_labels > 0, rest_labels + offset, labels)
    free_labels = _relabel(_merge(labels, resolution_m, params))
    grown = free_labels
    if free_labels.max() > 0:
        # Walls, furniture and pockets take the nearest room, so polygons cover the whole floor.
        idx = ndimage.distance_transform_edt(free_labels == 0, return_distances=False,
                                             return_indices=True)
        grown = free_labels[idx[0], idx[1]]
        grown[~known] = 0
    return _Segmentation(free_labels, grown.astype(np.int32), clearance, free)


def label_rooms(grid: Any, resolution_m: float,
                params: SegmentationParams | None = None) -> np.ndarray:
    """Room label per cell (int32; 0 = unknown space, k = the k-th room of `segment_rooms`)."""
    return _segment(grid, resolution_m, params or SegmentationParams()).labels


def _polygon_of(mask: np.ndarray, resolution_m: float,
                origin_xy: Vec2) -> tuple[Vec2, ...]:
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    contour = cv2.approxPolyDP(contour, 0.5, True).reshape(-1, 2)
    # Contours run through cell centres; cell (r, c) is centred at origin + (c, r) + ½.
    pts = [(round(origin_xy[0] + (c + 0.5) * resolution_m, 3),
            round(origin_xy[1] + (r + 0.5) * resolution_m, 3)) for c, r in contour]
    return _ccw(pts)


def _cell_xy(rc: np.ndarray, resolution_m: float, origin_xy: Vec2) -> np.ndarray:
    return np.stack([origin_xy[0] + (rc[:, 1] + 0.5) * resolution_m,
                     origin_xy[1] + (rc[:, 0] + 0.5) * resolution_m], axis=1)


class _Door(NamedTuple):
    a: int
    b: int
    center_xy: Vec2


def _segment_regions(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                     params: SegmentationParams) -> tuple[_Segmentation, list[Region],
                                                          list[_Door], dict[tuple[int, int], int]]:
    """Regions with view and door places, the doors, and (door, label) → door place index."""
    seg = _segment(grid, resolution_m, params)
    origin = (float(origin_xy[0]), float(origin_xy[1]))
    doors = []
    for (a, b), pts in sorted(_boundaries(seg.free_labels).items()):
        mid = pts.mean(axis=0)
        doors.append(_Door(a, b, (origin[0] + (mid[0] + 0.5) * resolution_m,
                                  origin[1] + (mid[1] + 0.5) * resolution_m)))
    regions: list[Region] = []
    door_places: dict[tuple[int, int], int] = {}
    pp = params.places
    for k in range(1, int(seg.free_labels.max()) + 1):
        cells = np.argwhere(seg.free_labels == k)
        clear = seg.clearance_m[cells[:, 0], cells[:, 1]]
        xy = _cell_xy(cells, resolution_m, origin)
        pole = xy[int(np.argmax(clear))]
        # Cells farther from obstacles than half a door are the room proper, never a doorway
        # or a gap behind furniture; rooms too narrow to have any fall back to clearance_m.
        roomy = xy[clear > max(pp.clearance_m, (params.door_width_m + resolution_m) / 2)]
        if len(roomy) == 0:
            roomy = xy[clear >= pp.clearance_m]
        views = _farthest_points(roomy, pole, pp.spacing_m, pp.max_per_room)
        places = [tuple(float(round(v, 3)) for v in p) for p in views]
        for d, door in enumerate(doors):
            if k not in (door.a, door.b):
                continue
            # In from the doorway, where the robot stands clear of the frame.
            centre = np.asarray(door.center_xy)
            dist = np.hypot(*(roomy - centre).T) if len(roomy) else np.zeros(0)
            ok = dist >= 0.5
            if not ok.any():
                continue
            best = roomy[ok][int(np.argmin(dist[ok]))]
            places.append((round(float(best[0]), 3), round(float(best[1]), 3)))
            door_places[(d, k)] = len(places) - 1
        polygon = _polygon_of(seg.labels == k, resolution_m, origin)
        regions.append(Region(f'region_{k - 1}', 'unknown', polygon,
                              tuple(places)))  # type: ignore[arg-type]
    return seg, regions, doors, door_places


def segment_rooms(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                  params: SegmentationParams | None = None) -> list[Region]:
    """Rooms of an OccupancyGrid array (rows along +y from `origin_xy`), as named regions.

    Region k (named `region_<k>`, category `unknown`) is label k + 1 of `label_rooms`; its
    places are view places followed by one place beside each doorway it has.
    """
    return _segment_regions(grid, resolution_m, origin_xy, params or SegmentationParams())[1]


def rooms_from_occupancy(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                         params: SegmentationParams | None = None,
                         building: str = 'building') -> SceneGraph:
    """A scene graph of segmented rooms: adjacency through doorways, places joined by free lines.
    """
    params = params or SegmentationParams()
    seg, regions, doors, door_places = _segment_regions(grid, resolution_m, origin_xy, params)
    origin = (float(origin_xy[0]), float(origin_xy[1]))
    graph = SceneGraph(building)

    def line_free(a: Vec2, b: Vec2) -> bool:
        n = max(2, int(math.dist(a, b) / (resolution_m / 2)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        pts = np.asarray(a) + t * (np.asarray(b) - np.asarray(a))
        cols = np.floor((pts[:, 0] - origin[0]) / resolution_m).astype(int)
        rows = np.floor((pts[:, 1] - origin[1]) / resolution_m).astype(int)
        inside = (rows >= 0) & (rows < seg.free.shape[0]) & (cols >= 0) & \
            (cols < seg.free.shape[1])
        return bool(inside.all() and seg.free[rows, cols].all())

    for region in regions:
        graph.add_room(region.room_id, RoomAttributes(region.name, region.category,
                                                      region.polygon_m))
        ids = []
        for k, (x, y) in enumerate(region.places_m):
            place_id = f'place:{region.name}/{k}'
            graph.add_place(place_id, PlaceAttributes(region.room_id, (x, y, 0.0)))
            ids.append((place_id, (x, y)))
        _join_places(graph, ids, line_free)
    for d, door in enumerate(doors):
        ra, rb = regions[door.a - 1], regions[door.b - 1]
        graph.add_edge(EdgeKind.ADJACENT, ra.room_id, rb.room_id)
        ka, kb = door_places.get((d, door.a)), door_places.get((d, door.b))
        if ka is None or kb is None:
            continue
        pa, pb = ra.places_m[ka], rb.places_m[kb]
        length = math.dist(pa, door.center_xy) + math.dist(door.center_xy, pb)
        graph.add_edge(EdgeKind.TRAVERSABLE, f'place:{ra.name}/{ka}', f'place:{rb.name}/{kb}',
                       length_m=length)
    log.info('segmented %d rooms with %d doorways', len(regions), len(doors))
    return graph


def segmentation_agreement(labels: np.ndarray, truth: np.ndarray,
                           mask: np.ndarray | None = None) -> Agreement:
    """Per-cell agreement after matching segments to true rooms one-to-one (Hungarian method).

    `labels`: segment per cell (0 = none); `truth`: true room index per cell (-1 = none);
    cells scored: `mask` (default all) where a true room exists. Unmatched segments and
    unlabelled cells count as wrong.
    """
    from scipy.optimize import linear_sum_assignment

    labels, truth = np.asarray(labels), np.asarray(truth)
    if labels.shape != truth.shape:
        raise InvalidInputError(f'labels {labels.shape} and truth {truth.shape} differ in shape')
    scored = truth >= 0
    if mask is not None:
        scored &= np.asarray(mask, dtype=bool)
    pred, true = labels[scored].astype(np.int64), truth[scored].astype(np.int64)
    if pred.size == 0:
        raise InvalidInputError('no cells to score: truth has no room in the mask')
    found = np.unique(labels[labels > 0])
    true_ids = np.unique(true)
    table = np.zeros((len(found) + 1, int(true.max()) + 1))
    index = np.zeros(int(max(labels.max(), 0)) + 1, dtype=np.int64)
    index[found] = np.arange(1, len(found) + 1)
    np.add.at(table, (index[np.maximum(pred, 0)], true), 1.0)
    table[0] = 0.0  # unlabelled cells match nothing
    rows, cols = linear_sum_assignment(table, maximize=True)
    return Agreement(float(table[rows, cols].sum() / pred.size), len(found), len(true_ids))

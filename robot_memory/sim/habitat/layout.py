"""The Habitat scene's layout: rooms, view places on the navmesh, and traversable edges.

Rooms are the semantic scene's regions on the agent's floor (rectangles from their bounding
boxes), or, for scenes without regions, rooms segmented from the navmesh's top-down map.
Places are spread over the navmesh in each room; edges join places whose geodesic is nearly
straight. `build_layout` takes habitat-sim's scene and pathfinder objects; the other
functions are pure and tested without habitat_sim.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from networkx.utils import UnionFind

from robot_memory.core.scene_graph import EdgeKind, PlaceAttributes, RoomAttributes, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import farthest_points, polygon_area
from robot_memory.sim.habitat.config import HabitatConfig
from robot_memory.sim.habitat.observations import _category_name, room_category
from robot_memory.sim.habitat.transforms import (
    Vec2,
    VecLike,
    _aabb_corners,
    _vec,
    habitat_to_map_position,
    map_to_habitat_position,
)

__all__ = [
    'SceneLayout',
    'build_layout',
    'place_edges',
    'places_along',
    'region_polygon',
    'spread_points',
    'topdown_to_occupancy',
    'view_place',
]

log = logging.getLogger(__name__)

CANDIDATE_STEP_M = 0.25  # grid of candidate places on the navmesh
FLOOR_TOLERANCE_M = 0.5  # navmesh points within this of the floor height are on the floor


def region_polygon(aabb_min: VecLike, aabb_max: VecLike) -> tuple[Vec2, ...]:
    """A region's Habitat bounding box as a counter-clockwise floor rectangle in `map`."""
    a = habitat_to_map_position(aabb_min)
    b = habitat_to_map_position(aabb_max)
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def topdown_to_occupancy(navigable: np.ndarray, meters_per_pixel: float,
                         first_sample_xz: Sequence[float]) -> tuple[np.ndarray, Vec2]:
    """Habitat's top-down navigability map as an OccupancyGrid array and its origin in `map`.

    `navigable[i, j]` is Habitat's sample at (x, z) = first_sample_xz + (j, i) * mpp (as
    `pathfinder.get_topdown_view` gives it, starting at the navmesh bounds' minimum). The
    result has rows along `map` +y, columns along +x, 0 where navigable and 100 elsewhere.
    """
    nav = np.asarray(navigable, dtype=bool)
    if nav.ndim != 2 or nav.size == 0:
        raise InvalidInputError(f'navigable must be a non-empty 2D array, got {nav.shape}')
    rows, cols = nav.shape
    grid = np.where(nav, 0, 100).astype(np.int8)[::-1, ::-1].T
    x0, z0 = (float(v) for v in first_sample_xz)
    # Sample (i, j) is the centre of its cell; map x = -z and map y = -x reverse both axes.
    origin = (-(z0 + (rows - 0.5) * meters_per_pixel), -(x0 + (cols - 0.5) * meters_per_pixel))
    return np.ascontiguousarray(grid), origin


def spread_points(candidates: np.ndarray, first: Sequence[float], spacing_m: float,
                  count: int) -> list[Vec2]:
    """`first`, then greedily the candidate farthest from those chosen, while ≥ `spacing_m`."""
    return [(float(x), float(y)) for x, y in farthest_points(candidates, first, spacing_m, count)]


def place_edges(positions: Mapping[str, Vec2], geodesic_m: Callable[[str, str], float],
                max_edge_m: float, detour: float = 1.25) -> list[tuple[str, str, float]]:
    """Traversable (a, b, length_m) between places, joined so that all reachable ones connect.

    Pairs closer than `max_edge_m` whose geodesic is nearly straight (at most `detour` times
    the straight line, plus 0.3 m) are joined; then separate groups are joined by their
    nearest pair with a finite geodesic.
    """
    ids = sorted(positions)
    edges: list[tuple[str, str, float]] = []
    group = UnionFind(ids)

    def join(a: str, b: str, length: float) -> None:
        edges.append((a, b, length))
        group.union(a, b)

    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            straight = math.dist(positions[a], positions[b])
            if straight > max_edge_m:
                continue
            length = geodesic_m(a, b)
            if math.isfinite(length) and length <= detour * straight + 0.3:
                join(a, b, length)
    while len({group[p] for p in ids}) > 1:
        # Try the straight-nearest pairs across groups first: geodesics are the costly part.
        pairs = sorted((math.dist(positions[a], positions[b]), a, b) for a in ids for b in ids
                       if a < b and group[a] != group[b])
        best = None
        for _, a, b in pairs[:8]:
            length = geodesic_m(a, b)
            if math.isfinite(length) and (best is None or length < best[2]):
                best = (a, b, length)
        if best is None:
            break  # the rest lies on other navmesh islands
        join(*best)
    return edges


def places_along(path_xy: Sequence[Vec2], places: Mapping[str, Vec2],
                 radius_m: float) -> list[str]:
    """Places within `radius_m` of a polyline, in the order the path passes them."""
    pts = np.asarray(path_xy, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return []
    if len(pts) == 1:
        pts = np.vstack([pts, pts])
    a, b = pts[:-1], pts[1:]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    start = np.concatenate([[0.0], np.cumsum(length)[:-1]])
    hits = []
    for place_id, (x, y) in places.items():
        rel = np.array([x, y]) - a
        t = np.clip((rel * d).sum(axis=1) / np.maximum(length ** 2, 1e-18), 0.0, 1.0)
        dist = np.hypot(*(rel - t[:, None] * d).T)
        k = int(np.argmin(dist))
        if dist[k] <= radius_m:
            hits.append((start[k] + t[k] * length[k], place_id))
    return [p for _, p in sorted(hits)]



# ========================================================= the scene's map
class SceneLayout(NamedTuple):
    """The scene's map: rooms and places, the dock, and the places and rooms left out."""

    graph: SceneGraph
    dock: str
    unreachable_places: list[str]
    unreachable_rooms: list[str]


def view_place(graph: SceneGraph, room_id: str) -> str:
    """A room's view place: its first (`place:<room>/0` where it was kept)."""
    return min(graph.places_in(room_id), key=lambda p: int(p.rpartition('/')[2]))


def rooms_from_regions(semantic_scene: Any,
                       floor_y_m: float) -> list[tuple[str, str, tuple[Vec2, ...]]]:
    """(name, category, polygon) of the semantic regions on the agent's floor."""
    regions = []
    for region in list(semantic_scene.regions or []):
        if region is None:
            continue
        lo, hi = _aabb_corners(region.aabb)
        if not lo[1] - FLOOR_TOLERANCE_M <= floor_y_m <= hi[1]:
            continue
        category = room_category(_category_name(region.category))
        regions.append((category, region_polygon(lo, hi)))
    return _named(regions)


def rooms_from_navmesh(pathfinder: Any, floor_y_m: float, config: HabitatConfig
                       ) -> list[tuple[str, str, tuple[Vec2, ...], list[Vec2]]]:
    """Rooms segmented from the navmesh's top-down map (scenes without regions)."""
    # Layering: the segmentation lives in perception; only this fallback path needs it.
    from robot_memory.perception.rooms import PlaceParams, SegmentationParams, segment_rooms

    mpp = 0.05
    lo, _ = pathfinder.get_bounds()
    navigable = np.asarray(pathfinder.get_topdown_view(mpp, floor_y_m), dtype=bool)
    grid, origin = topdown_to_occupancy(navigable, mpp, (float(lo[0]), float(lo[2])))
    # The navmesh is already shrunk by the agent's radius: doorways look that much narrower.
    door = max(config.door_width_m - 2 * config.agent_radius_m, 0.2)
    params = SegmentationParams(
        door_width_m=door, min_room_area_m2=1.0,
        places=PlaceParams(config.place_spacing_m, 0.05, config.max_places_per_room))
    out = []
    for region in segment_rooms(grid, mpp, origin, params):
        out.append((region.name, 'room', region.polygon_m, list(region.places_m)))
    return out


def places_in(pathfinder: Any, polygon: Sequence[Vec2], floor_y_m: float,
              config: HabitatConfig) -> list[Vec2]:
    """View places on the navmesh inside a room rectangle, spread `place_spacing_m` apart."""
    xs, ys = zip(*polygon, strict=True)
    gx = np.arange(min(xs) + CANDIDATE_STEP_M / 2, max(xs), CANDIDATE_STEP_M)
    gy = np.arange(min(ys) + CANDIDATE_STEP_M / 2, max(ys), CANDIDATE_STEP_M)
    candidates, clearance = [], []
    for x in gx:
        for y in gy:
            point = np.array(map_to_habitat_position((x, y, floor_y_m)), np.float32)
            if not pathfinder.is_navigable(point, FLOOR_TOLERANCE_M):
                continue
            candidates.append((float(x), float(y)))
            clearance.append(float(pathfinder.distance_to_closest_obstacle(point, 2.0)))
    if not candidates:
        return []
    pts, clear = np.array(candidates), np.array(clearance)
    first = pts[int(np.argmax(clear))]
    roomy = pts[clear >= config.place_clearance_m]
    return spread_points(roomy, first, config.place_spacing_m, config.max_places_per_room)


def build_layout(simulator: Any, config: HabitatConfig, floor_y_m: float,
                 geodesic_hab_m: Callable[[VecLike, VecLike], float]) -> SceneLayout:
    """Rooms, places on the navmesh, and traversable edges measured by the pathfinder.

    `simulator` is the habitat-sim `Simulator`; `geodesic_hab_m(a, b)` the navmesh distance
    between two Habitat points (inf where no path joins them). The dock is the view place of
    the largest room; places the dock cannot reach are left out, and rooms left without places.
    """
    pathfinder = simulator.pathfinder
    source = config.room_source
    rooms: list[tuple[str, str, tuple[Vec2, ...], list[Vec2]]] = []
    if source in ('auto', 'regions'):
        rooms = [(name, category, polygon, places_in(pathfinder, polygon, floor_y_m, config))
                 for name, category, polygon in rooms_from_regions(simulator.semantic_scene,
                                                                   floor_y_m)]
        rooms = [r for r in rooms if r[3]]
        if not rooms and source == 'regions':
            raise InvalidInputError(f'{config.scene_path}: the semantic scene has no '
                                    'regions on the floor of the agent; use '
                                    'room_source: navmesh')
    if not rooms:
        rooms = [r for r in rooms_from_navmesh(pathfinder, floor_y_m, config) if r[3]]
    if not rooms:
        raise InvalidInputError(f'{config.scene_path}: no navigable floor found for '
                                f'places')
    graph = SceneGraph(Path(config.scene_path).stem or 'habitat')
    positions: dict[str, Vec2] = {}
    room_of: dict[str, str] = {}
    snap = pathfinder.snap_point
    for name, category, polygon, places in rooms:
        room_id = f'room:{name}'
        graph.add_room(room_id, RoomAttributes(name, category, polygon))
        for k, (x, y) in enumerate(places):
            point = _vec(snap(np.array(map_to_habitat_position((x, y, floor_y_m)),
                                       np.float32)))
            if not np.all(np.isfinite(point)):
                continue
            mx, my, mz = (round(v, 3) for v in habitat_to_map_position(point))
            place_id = f'place:{name}/{k}'
            graph.add_place(place_id, PlaceAttributes(room_id, (mx, my, mz)))
            positions[place_id] = (mx, my)
            room_of[place_id] = room_id
    dock = max(graph.rooms, key=lambda r: polygon_area(graph.get_room(r).polygon_m)
               if graph.places_in(r) else -1.0)
    dock = view_place(graph, dock)

    def geodesic(a: str, b: str) -> float:
        pa = map_to_habitat_position(graph.get_place(a).position_m)
        pb = map_to_habitat_position(graph.get_place(b).position_m)
        return geodesic_hab_m(pa, pb)

    reachable = {p for p in positions if p == dock or math.isfinite(geodesic(dock, p))}
    unreachable = sorted(set(positions) - reachable)
    for place_id in unreachable:
        graph.remove_node(place_id)
        positions.pop(place_id)
    for a, b, length in place_edges(positions, geodesic, config.max_edge_m):
        graph.add_edge(EdgeKind.TRAVERSABLE, a, b, length_m=length)
        if room_of[a] != room_of[b]:
            graph.add_edge(EdgeKind.ADJACENT, room_of[a], room_of[b])
    lost_rooms = [r for r in graph.rooms if not graph.places_in(r)]
    for room_id in lost_rooms:
        graph.remove_node(room_id)
    if unreachable:
        log.warning('%s: %d places not reachable from the dock %s on the navmesh%s: %s',
                    config.scene_path, len(unreachable), dock,
                    f', so rooms {", ".join(lost_rooms)} are left out' if lost_rooms else '',
                    ', '.join(unreachable))
    return SceneLayout(graph, dock, unreachable, lost_rooms)


def _named(regions: list[tuple[str, tuple[Vec2, ...]]]) -> list[tuple[str, str, tuple[Vec2, ...]]]:
    """(name, category, polygon): names are the category, `_2`, `_3`, … on repeats."""
    counts: dict[str, int] = {}
    out = []
    for category, polygon in regions:
        counts[category] = counts.get(category, 0) + 1
        n = counts[category]
        out.append((category if n == 1 else f'{category}_{n}', category, polygon))
    return out

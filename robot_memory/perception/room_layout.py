"""The room layer from named floor regions: rooms, view places, adjacency and traversable edges.

A `Region` is a named polygon in `map` with its places. `graph_from_regions` turns regions into
the scene graph's room layer (`room:<name>`, `place:<name>/<k>`, `adjacent` and `traversable`
edges), generating places (`PlaceParams`) where a region gives none. Region files are read and
written in `perception/regions.py`; rooms segmented from an occupancy grid in
`perception/room_segmentation.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from robot_memory.core.scene_graph import EdgeKind, PlaceAttributes, RoomAttributes, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import (
    Vec2,
    farthest_points,
    pole_of_inaccessibility,
    polygon_area,
    shared_boundary_m,
    shared_stretches,
    signed_depth,
    spanning_joins,
)

__all__ = [
    'MIN_SHARED_BOUNDARY_M',
    'PlaceParams',
    'Region',
    'graph_from_regions',
    'join_places',
]

# Regions touching over less than this (a corner, a sliver) are not adjacent: no doorway fits.
MIN_SHARED_BOUNDARY_M = 0.5

# A place: its scene-graph id and its position (x, y) in `map`.
PlaceXY = tuple[str, Vec2]


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
        return polygon_area(self.polygon_m)


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


def polygon_places(polygon: Sequence[Vec2], params: PlaceParams) -> tuple[Vec2, ...]:
    """View places inside a polygon: its pole, then farthest points on a grid."""
    pole = np.array(pole_of_inaccessibility(polygon))
    pts = np.asarray(polygon, dtype=float)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    step = min(params.spacing_m / 4.0, 0.25)
    xs = np.arange(lo[0] + step / 2, hi[0], step)
    ys = np.arange(lo[1] + step / 2, hi[1], step)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    grid = grid[signed_depth(grid, polygon) >= params.clearance_m] if len(grid) else grid
    chosen = farthest_points(grid, pole, params.spacing_m, params.max_per_room)
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in chosen)


def _segment_inside(a: Vec2, b: Vec2, polygon: Sequence[Vec2], tolerance_m: float) -> bool:
    n = max(2, int(math.dist(a, b) / 0.05) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = np.asarray(a) + t * (np.asarray(b) - np.asarray(a))
    return bool((signed_depth(pts, polygon) >= -tolerance_m).all())


def join_places(graph: SceneGraph, places: list[PlaceXY],
                clear: Callable[[Vec2, Vec2], bool]) -> None:
    """Join places with a clear straight line; then the nearest pairs until all are joined."""
    pairs = sorted(((math.dist(a[1], b[1]), a, b) for i, a in enumerate(places)
                    for b in places[i + 1:]), key=lambda t: t[0])
    joined: list[tuple[str, str]] = []
    blocked: dict[tuple[str, str], float] = {}
    for length, a, b in pairs:
        if clear(a[1], b[1]):
            graph.add_edge(EdgeKind.TRAVERSABLE, a[0], b[0], length_m=length)
            joined.append((a[0], b[0]))
        else:
            blocked[(a[0], b[0])] = length
    for a_id, b_id in spanning_joins([pid for pid, _ in places], joined, blocked):
        graph.add_edge(EdgeKind.TRAVERSABLE, a_id, b_id, length_m=blocked[(a_id, b_id)])


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
    place_ids: dict[str, list[PlaceXY]] = {}
    for region in regions:
        graph.add_room(region.room_id, RoomAttributes(region.name, region.category,
                                                      region.polygon_m))
        places = region.places_m or polygon_places(region.polygon_m, params)
        place_ids[region.name] = []
        for k, (x, y) in enumerate(places):
            place_id = f'place:{region.name}/{k}'
            graph.add_place(place_id, PlaceAttributes(region.room_id, (x, y, 0.0)))
            place_ids[region.name].append((place_id, (x, y)))

        def inside(a: Vec2, b: Vec2, r: Region = region) -> bool:
            return _segment_inside(a, b, r.polygon_m, tolerance_m)

        join_places(graph, place_ids[region.name], inside)
    by_name = {r.name: r for r in regions}
    if adjacent is None:
        pairs = [(a.name, b.name) for i, a in enumerate(regions) for b in regions[i + 1:]
                 if shared_boundary_m(a.polygon_m, b.polygon_m, tolerance_m)
                 >= MIN_SHARED_BOUNDARY_M]
    else:
        pairs = [(a, b) for a, b in adjacent]
    for name_a, name_b in pairs:
        graph.add_edge(EdgeKind.ADJACENT, f'room:{name_a}', f'room:{name_b}')
        pieces = shared_stretches(by_name[name_a].polygon_m, by_name[name_b].polygon_m,
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

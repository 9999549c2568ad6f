"""The `World` model: a building's rooms, doors, furniture, places and its initial objects.

A `World` is generated from a spec or a seed (`generate.py`) or put together from another
simulator's scene (`from_parts`); it answers lookups, gives the structure as boxes for the
renderer and the rooms and places as a scene graph. The catalogue it is drawn from is in
`catalog.py`, its parts in `parts.py`; their names are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.scene_graph import (
    EdgeKind,
    PlaceAttributes,
    RoomAttributes,
    SceneGraph,
)
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.sim.appearance import DEFAULT_STYLE, dress, validate_style
from robot_memory.sim.catalog import (
    COLORS,
    DOOR_HEIGHT_M,
    DOOR_WIDTH_M,
    FURNITURE_CATALOG,
    OBJECT_CATALOG,
    ROBOT_CLEARANCE_M,
    ROOM_CATEGORIES,
    ROOM_FURNITURE,
    SLOT_M,
    WALL_THICKNESS_M,
    WORLD_KINDS,
    FurnitureClass,
    ObjectClass,
    label_space,
)
from robot_memory.sim.generate import (
    DEFAULT_MIN_INSTANCES,
    choose_placement,
    furnish,
    layout_rooms,
    load_spec,
    make_places,
    populate,
    random_spec,
)
from robot_memory.sim.parts import (
    Box,
    Door,
    Furniture,
    ObjectInstance,
    Place,
    Placement,
    Room,
    Support,
    Vec2,
    Vec3,
    WorldState,
)

__all__ = [
    'COLORS',
    'DEFAULT_MIN_INSTANCES',
    'DOOR_HEIGHT_M',
    'DOOR_WIDTH_M',
    'FURNITURE_CATALOG',
    'OBJECT_CATALOG',
    'ROBOT_CLEARANCE_M',
    'ROOM_CATEGORIES',
    'ROOM_FURNITURE',
    'SLOT_M',
    'WALL_THICKNESS_M',
    'WORLD_KINDS',
    'Box',
    'Door',
    'Furniture',
    'FurnitureClass',
    'ObjectClass',
    'ObjectInstance',
    'Place',
    'Placement',
    'Room',
    'Support',
    'Vec2',
    'Vec3',
    'World',
    'WorldState',
    'choose_placement',
    'label_space',
    'load_spec',
    'place_edges',
    'random_spec',
]


class World:
    """A generated building: rooms, doors, furniture, places and the initial objects."""

    def __init__(self, spec: Mapping[str, Any], seed: int | None = None) -> None:
        self.spec = dict(spec)
        self.kind = str(spec.get('kind', 'custom'))
        self.seed = int(seed if seed is not None else spec.get('seed', 0))
        self.wall_height_m = float(spec.get('wall_height_m', 2.5))
        self.style = validate_style(str(spec.get('style', DEFAULT_STYLE)))
        rng = np.random.default_rng([self.seed, 1])
        rooms, doors = layout_rooms(spec, rng)
        furniture = furnish(rooms, doors, rng)
        self._build(rooms, doors, furniture, make_places(rooms, doors, furniture),
                    spec.get('objects', {}), rng)

    def _build(self, rooms: tuple[Room, ...], doors: tuple[Door, ...],
               furniture: tuple[Furniture, ...], places: tuple[Place, ...],
               objects: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.rooms, self.doors = rooms, doors
        self._room_by_name = {r.name: r for r in self.rooms}
        self.furniture = furniture
        self._furn_by_id = {f.furn_id: f for f in self.furniture}
        self.supports: dict[str, Support] = {f.furn_id: f.support for f in self.furniture}
        self.places = places
        self.initial_state: WorldState = populate(self, objects, rng)

    # ----------------------------------------------------------- constructors
    @classmethod
    def generate(cls, seed: int, kind: str = 'apartment', style: str = DEFAULT_STYLE) -> World:
        """Draw a spec of the given kind from the seed and build it in a style."""
        return cls({**random_spec(kind, seed), 'style': style}, seed)

    @classmethod
    def from_yaml(cls, path: str | Path, seed: int | None = None,
                  style: str | None = None) -> World:
        """Build a world from a YAML spec file; a spec it cannot build from is one error.

        `style` (home, flat), when given, overrides the spec's own `style` key.
        """
        spec = load_spec(path)
        if style is not None:
            spec = {**spec, 'style': style}
        try:
            return cls(spec, seed)
        except RobotMemoryError:
            raise
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            raise InvalidInputError(f'{path}: not a usable world spec ({type(exc).__name__}: '
                                    f'{exc}); the specs in sim/worlds/ show the format') from None

    @classmethod
    def named(cls, name: str, seed: int, style: str | None = None) -> World:
        """A world kind (drawn from the seed) or a path to a YAML spec, in a style."""
        if name in WORLD_KINDS:
            return cls.generate(seed, name, style or DEFAULT_STYLE)
        path = Path(name)
        if path.suffix in ('.yaml', '.yml') and path.is_file():
            return cls.from_yaml(path, seed, style)
        raise InvalidInputError(
            f'unknown world {name!r}; valid: {", ".join(WORLD_KINDS)} or a path to a .yaml spec'
        )

    @classmethod
    def from_parts(cls, kind: str, seed: int, rooms: Iterable[Room],
                   furniture: Iterable[Furniture], places: Iterable[Place],
                   objects: Mapping[str, Any], wall_height_m: float = 2.5) -> World:
        """A world of given rooms, furniture and places (another simulator's scene), with the
        initial objects drawn into its supports from `seed` as `objects` says (count, …)."""
        world = cls.__new__(cls)
        world.spec = {'kind': kind, 'objects': dict(objects)}
        world.kind, world.seed, world.wall_height_m = kind, int(seed), float(wall_height_m)
        world.style = 'flat'  # another simulator draws the scene; its objects stay catalogue
        world._build(tuple(rooms), (), tuple(furniture), tuple(places), objects,
                     np.random.default_rng([int(seed), 1]))
        return world

    def dress(self, obj: ObjectInstance, others: Mapping[str, ObjectInstance]) -> ObjectInstance:
        """An object as this world's style draws it, among the household's `others`."""
        return dress(obj, self.style, self.seed, others)

    # ----------------------------------------------------------------- lookup
    def room(self, name: str) -> Room:
        """A room by name; raises `InvalidInputError` listing the valid names."""
        try:
            return self._room_by_name[name]
        except KeyError:
            valid = ', '.join(r.name for r in self.rooms)
            raise InvalidInputError(f'unknown room {name!r}; valid: {valid}') from None

    def furniture_by_id(self, furn_id: str) -> Furniture:
        """A piece of furniture by id."""
        try:
            return self._furn_by_id[furn_id]
        except KeyError:
            raise InvalidInputError(f'unknown furniture {furn_id!r}') from None

    def room_at(self, x: float, y: float) -> Room | None:
        """The room whose rectangle contains (x, y), or None."""
        for room in self.rooms:
            if room.contains(x, y):
                return room
        return None

    def place(self, place_id: str) -> Place:
        """A place by id; raises `InvalidInputError` listing some valid ids."""
        for place in self.places:
            if place.place_id == place_id:
                return place
        valid = ', '.join(p.place_id for p in self.places[:8])
        raise InvalidInputError(f'unknown place {place_id!r}; valid include: {valid}, …')

    def places_in(self, room: str) -> list[Place]:
        """Places of one room, view places first."""
        return [p for p in self.places if p.room == room]

    @property
    def bounds_m(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the whole building."""
        return (min(r.x0 for r in self.rooms), min(r.y0 for r in self.rooms),
                max(r.x1 for r in self.rooms), max(r.y1 for r in self.rooms))

    # -------------------------------------------------------------- geometry
    def structure_boxes(self) -> list[tuple[str, Box]]:
        """Walls, floors and the ceiling as (kind, box); kind is 'wall', 'floor', 'ceiling'."""
        out: list[tuple[str, Box]] = []
        t, h = WALL_THICKNESS_M, self.wall_height_m
        for room in self.rooms:
            out.append(('floor', ((room.x0, room.y0, -0.05), (room.x1, room.y1, 0.0))))
            for side in ('south', 'north', 'west', 'east'):
                for box in _wall_pieces(room, side, self.doors, t, h):
                    out.append(('wall', box))
        x0, y0, x1, y1 = self.bounds_m
        out.append(('ceiling', ((x0, y0, h), (x1, y1, h + 0.05))))
        return out

    # ------------------------------------------------------------ scene graph
    def scene_graph(self) -> SceneGraph:
        """Building → rooms (polygons) → places, adjacency through doors, traversable edges."""
        graph = SceneGraph(self.kind)
        for room in self.rooms:
            graph.add_room(room.room_id, RoomAttributes(room.name, room.category, room.polygon_m))
        for door in self.doors:
            graph.add_edge(EdgeKind.ADJACENT, f'room:{door.room_a}', f'room:{door.room_b}')
        for place in self.places:
            graph.add_place(place.place_id, PlaceAttributes(f'room:{place.room}',
                                                            place.position_m))
        for a, b, length in place_edges(self):
            graph.add_edge(EdgeKind.TRAVERSABLE, a, b, length_m=length)
        return graph

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description of the static world."""
        return {
            'kind': self.kind,
            'seed': self.seed,
            'style': self.style,
            'wall_height_m': self.wall_height_m,
            'rooms': [{'name': r.name, 'category': r.category,
                       'polygon_m': [list(p) for p in r.polygon_m]} for r in self.rooms],
            'doors': [{'rooms': [d.room_a, d.room_b], 'center_m': list(d.center_m),
                       'axis': d.axis, 'width_m': d.width_m} for d in self.doors],
            'furniture': [{'id': f.furn_id, 'class': f.cls, 'room': f.room, 'color': f.color,
                           'min_m': list(f.box_m[0]), 'max_m': list(f.box_m[1]),
                           'relation': f.support.relation} for f in self.furniture],
            'places': [{'id': p.place_id, 'room': p.room, 'position_m': list(p.position_m)}
                       for p in self.places],
        }

    def __repr__(self) -> str:
        return (f'World(kind={self.kind!r}, seed={self.seed}, rooms={len(self.rooms)}, '
                f'furniture={len(self.furniture)}, objects={len(self.initial_state.objects)})')



def _wall_pieces(room: Room, side: str, doors: Iterable[Door], t: float, h: float) -> list[Box]:
    """Boxes of one inset wall of a room, cut where its doors are (a lintel above each)."""
    if side in ('south', 'north'):
        y = room.y0 if side == 'south' else room.y1
        lo, hi = room.x0, room.x1
        gaps = sorted(d.center_m[0] for d in doors if d.axis == 'x'
                      and room.name in (d.room_a, d.room_b) and abs(d.center_m[1] - y) < 1e-6)
    else:
        y = room.x0 if side == 'west' else room.x1
        lo, hi = room.y0, room.y1
        gaps = sorted(d.center_m[1] for d in doors if d.axis == 'y'
                      and room.name in (d.room_a, d.room_b) and abs(d.center_m[0] - y) < 1e-6)
    inner = (y, y + t) if side in ('south', 'west') else (y - t, y)
    spans: list[tuple[float, float, float, float]] = []  # along_lo, along_hi, z_lo, z_hi
    cursor = lo
    for g in gaps:
        a, b = g - DOOR_WIDTH_M / 2, g + DOOR_WIDTH_M / 2
        if a > cursor:
            spans.append((cursor, a, 0.0, h))
        spans.append((a, b, DOOR_HEIGHT_M, h))
        cursor = b
    if cursor < hi:
        spans.append((cursor, hi, 0.0, h))
    boxes: list[Box] = []
    for a, b, z0, z1 in spans:
        if side in ('south', 'north'):
            boxes.append(((a, inner[0], z0), (b, inner[1], z1)))
        else:
            boxes.append(((inner[0], a, z0), (inner[1], b, z1)))
    return boxes


def _segment_blocked(a: Vec3, b: Vec3, furniture: Iterable[Furniture]) -> bool:
    """Whether a straight floor segment passes through tall furniture (the camera would)."""
    for t in np.linspace(0.0, 1.0, 12):
        x, y = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        for f in furniture:
            (x0, y0, z0), (x1, y1, z1) = f.box_m
            if z1 > 1.0 and z0 < 1.0 and x0 - 0.2 < x < x1 + 0.2 and y0 - 0.2 < y < y1 + 0.2:
                return True
    return False


def place_edges(world: World) -> list[tuple[str, str, float]]:
    """Traversable (a, b, length_m): within a room, and across each door between door places."""
    edges: list[tuple[str, str, float]] = []
    for room in world.rooms:
        places = world.places_in(room.name)
        furn = [f for f in world.furniture if f.room == room.name]
        pairs = [(a, b) for i, a in enumerate(places) for b in places[i + 1:]]
        free = [(a, b) for a, b in pairs if not _segment_blocked(a.position_m, b.position_m, furn)]
        # Rooms are convex, so a straight segment is the geodesic; fall back to all pairs if
        # skipping the ones through furniture would cut the room's places apart.
        chosen = free if _connected(places, free) else pairs
        edges += [(a.place_id, b.place_id, math.dist(a.position_m, b.position_m))
                  for a, b in chosen]
    for i in range(len(world.doors)):
        ends = [p for p in world.places if p.door == i]
        if len(ends) == 2:
            a, b = ends
            edges.append((a.place_id, b.place_id, math.dist(a.position_m, b.position_m)))
    return edges


def _connected(places: list[Place], pairs: list[tuple[Place, Place]]) -> bool:
    if len(places) <= 1:
        return True
    seen = {places[0].place_id}
    frontier = [places[0].place_id]
    adj: dict[str, list[str]] = {}
    for a, b in pairs:
        adj.setdefault(a.place_id, []).append(b.place_id)
        adj.setdefault(b.place_id, []).append(a.place_id)
    while frontier:
        for nxt in adj.get(frontier.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return len(seen) == len(places)

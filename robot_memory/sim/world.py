"""Procedural homes and offices: rooms, doors, furniture with support surfaces, objects, places.

A world is built from a spec (a plain dict, usually read from `sim/worlds/*.yaml`); a seed
alone first draws a spec and then builds it, so both routes share one code path. Everything the
spec leaves open is drawn from `np.random.default_rng(seed)`, so a (spec, seed) pair always
gives the same world. Geometry is axis-aligned: rooms are rectangles along a hallway, walls are
thin boxes inset into each room, furniture and objects are boxes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
from robot_memory.perception.class_segments import LabelSpace

__all__ = [
    'COLORS',
    'FURNITURE_CATALOG',
    'OBJECT_CATALOG',
    'ROOM_CATEGORIES',
    'WORLD_KINDS',
    'Door',
    'Furniture',
    'FurnitureClass',
    'ObjectClass',
    'ObjectInstance',
    'Place',
    'Placement',
    'Room',
    'Support',
    'World',
    'WorldState',
    'load_spec',
    'random_spec',
]

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Box = tuple[Vec3, Vec3]  # (min corner, max corner) in map

WORLD_KINDS = ('apartment', 'house', 'office')
ROOM_CATEGORIES = (
    'kitchen', 'living_room', 'bedroom', 'bathroom', 'study', 'hallway', 'dining_room',
)
COLORS: dict[str, tuple[int, int, int]] = {
    'red': (200, 40, 40), 'green': (50, 160, 60), 'blue': (40, 80, 200),
    'yellow': (230, 210, 50), 'orange': (240, 140, 30), 'purple': (130, 60, 170),
    'pink': (240, 130, 180), 'brown': (120, 80, 40), 'black': (30, 30, 30),
    'white': (235, 235, 235), 'grey': (130, 130, 130), 'beige': (215, 195, 150),
    'teal': (30, 140, 140), 'navy': (25, 35, 100),
}
DOOR_WIDTH_M = 0.9
DOOR_HEIGHT_M = 2.05
WALL_THICKNESS_M = 0.05
SLOT_M = 0.25
ROBOT_CLEARANCE_M = 0.45


@dataclass(frozen=True, slots=True)
class FurnitureClass:
    """A kind of furniture: footprint (width along the wall, depth), height, support."""

    name: str
    size_m: Vec3
    relation: str = 'on'  # 'on' top surface, 'in' inside (hidden), 'hang' in front
    against_wall: bool = True
    base_z_m: float = 0.0
    colors: tuple[str, ...] = ('brown', 'beige', 'white', 'grey')


@dataclass(frozen=True, slots=True)
class ObjectClass:
    """A kind of small object: size, colours, which states it has, mobility, home rooms."""

    name: str
    size_m: Vec3
    colors: tuple[str, ...]
    states: tuple[str, ...] = ()  # e.g. ('closed', 'open'); first is the initial state
    mobility: str = 'movable'  # 'static' objects never move; furniture is separate
    rooms: tuple[str, ...] = ROOM_CATEGORIES
    hangable: bool = False
    weight: float = 1.0


def _fc(name: str, w: float, d: float, h: float, **kw: Any) -> FurnitureClass:
    return FurnitureClass(name, (w, d, h), **kw)


FURNITURE_CATALOG: dict[str, FurnitureClass] = {f.name: f for f in (
    _fc('counter', 2.0, 0.6, 0.9, colors=('white', 'grey', 'beige')),
    _fc('fridge', 0.7, 0.7, 1.8, relation='in', colors=('white', 'grey')),
    _fc('kitchen_table', 1.2, 0.8, 0.75, against_wall=False),
    _fc('cabinet', 0.8, 0.45, 0.9, relation='in'),
    _fc('sofa', 2.0, 0.9, 0.45, colors=('grey', 'navy', 'green', 'beige')),
    _fc('coffee_table', 1.0, 0.6, 0.45, against_wall=False),
    _fc('tv_stand', 1.5, 0.45, 0.5, colors=('black', 'brown', 'white')),
    _fc('bookshelf', 0.9, 0.35, 1.1),
    _fc('bed', 2.0, 1.6, 0.5, colors=('white', 'blue', 'beige', 'grey')),
    _fc('nightstand', 0.5, 0.4, 0.55),
    _fc('wardrobe', 1.2, 0.6, 2.0, relation='in'),
    _fc('desk', 1.4, 0.7, 0.75),
    _fc('sink_counter', 1.0, 0.5, 0.85, colors=('white', 'grey')),
    _fc('bathtub', 1.7, 0.75, 0.55, colors=('white',)),
    _fc('filing_cabinet', 0.5, 0.6, 1.0, relation='in', colors=('grey', 'black')),
    _fc('coat_hook', 0.8, 0.1, 0.12, relation='hang', base_z_m=1.55, colors=('brown', 'black')),
    _fc('shoe_rack', 0.8, 0.35, 0.45),
    _fc('console_table', 1.0, 0.35, 0.8),
    _fc('dining_table', 1.6, 0.9, 0.75, against_wall=False),
    _fc('sideboard', 1.4, 0.45, 0.85),
)}

# Furniture per room category: (required, optional).
ROOM_FURNITURE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'kitchen': (('counter', 'fridge'), ('kitchen_table', 'cabinet', 'counter')),
    'living_room': (('sofa', 'coffee_table', 'tv_stand'), ('bookshelf', 'sideboard')),
    'bedroom': (('bed', 'nightstand', 'wardrobe'), ('desk', 'nightstand', 'bookshelf')),
    'bathroom': (('sink_counter',), ('bathtub', 'cabinet')),
    'study': (('desk', 'bookshelf'), ('filing_cabinet', 'desk', 'sideboard')),
    'hallway': (('coat_hook', 'shoe_rack'), ('console_table', 'coat_hook')),
    'dining_room': (('dining_table', 'sideboard'), ('cabinet', 'bookshelf')),
}

_WARM = ('kitchen', 'living_room', 'dining_room')
OBJECT_CATALOG: dict[str, ObjectClass] = {o.name: o for o in (
    ObjectClass('mug', (0.09, 0.09, 0.1), ('red', 'blue', 'white', 'green', 'yellow', 'black'),
                rooms=('kitchen', 'study', 'living_room', 'dining_room'), weight=2.0),
    ObjectClass('cup', (0.08, 0.08, 0.09), ('white', 'blue', 'orange'), rooms=_WARM),
    ObjectClass('plate', (0.25, 0.25, 0.03), ('white', 'beige', 'blue'),
                rooms=('kitchen', 'dining_room')),
    ObjectClass('bowl', (0.16, 0.16, 0.07), ('white', 'red', 'green'),
                rooms=('kitchen', 'dining_room')),
    ObjectClass('bottle', (0.08, 0.08, 0.25), ('green', 'blue', 'white'), rooms=_WARM),
    ObjectClass('apple', (0.08, 0.08, 0.08), ('red', 'green'), rooms=('kitchen', 'dining_room')),
    ObjectClass('book', (0.16, 0.23, 0.04), ('red', 'blue', 'green', 'yellow', 'black'),
                rooms=('living_room', 'study', 'bedroom'), weight=2.0),
    ObjectClass('notebook', (0.15, 0.21, 0.02), ('black', 'red', 'blue'),
                rooms=('study', 'bedroom')),
    ObjectClass('laptop', (0.33, 0.23, 0.03), ('grey', 'black', 'white'), ('closed', 'open'),
                rooms=('study', 'living_room', 'bedroom')),
    ObjectClass('phone', (0.08, 0.15, 0.02), ('black', 'white', 'blue'),
                rooms=('living_room', 'bedroom', 'study')),
    ObjectClass('charger', (0.06, 0.06, 0.03), ('white', 'black'),
                rooms=('bedroom', 'study', 'living_room')),
    ObjectClass('remote', (0.05, 0.18, 0.03), ('black', 'grey'), rooms=('living_room',)),
    ObjectClass('keys', (0.08, 0.06, 0.03), ('grey', 'yellow'), rooms=('hallway',),
                hangable=True),
    ObjectClass('wallet', (0.11, 0.09, 0.03), ('brown', 'black'), rooms=('hallway', 'bedroom')),
    ObjectClass('glasses', (0.14, 0.05, 0.04), ('black', 'brown'),
                rooms=('bedroom', 'living_room', 'study')),
    ObjectClass('backpack', (0.32, 0.2, 0.45), ('red', 'blue', 'black', 'green', 'orange'),
                rooms=('hallway', 'bedroom', 'study'), hangable=True),
    ObjectClass('handbag', (0.3, 0.15, 0.25), ('brown', 'black', 'red'),
                rooms=('hallway', 'bedroom'), hangable=True),
    ObjectClass('jacket', (0.32, 0.12, 0.7), ('navy', 'black', 'green', 'beige'),
                rooms=('hallway', 'bedroom'), hangable=True),
    ObjectClass('umbrella', (0.08, 0.08, 0.7), ('black', 'red', 'blue'), rooms=('hallway',),
                hangable=True),
    ObjectClass('hat', (0.25, 0.25, 0.12), ('beige', 'black', 'red'),
                rooms=('hallway', 'bedroom'), hangable=True),
    ObjectClass('shoe', (0.28, 0.11, 0.12), ('black', 'white', 'brown'), rooms=('hallway',)),
    ObjectClass('towel', (0.3, 0.2, 0.08), ('white', 'blue', 'pink'), rooms=('bathroom',)),
    ObjectClass('toothbrush', (0.03, 0.03, 0.19), ('blue', 'green', 'pink'),
                rooms=('bathroom',)),
    ObjectClass('soap', (0.09, 0.06, 0.04), ('white', 'pink', 'yellow'), rooms=('bathroom',)),
    ObjectClass('pillow', (0.32, 0.3, 0.12), ('white', 'grey', 'teal', 'yellow'),
                rooms=('bedroom', 'living_room')),
    ObjectClass('toy', (0.15, 0.15, 0.15), ('red', 'yellow', 'blue', 'green'),
                rooms=('living_room', 'bedroom')),
    ObjectClass('box', (0.3, 0.25, 0.2), ('brown', 'white'), ('closed', 'open'),
                rooms=('hallway', 'study', 'living_room')),
    ObjectClass('lamp', (0.25, 0.25, 0.45), ('white', 'black', 'yellow'), ('off', 'on'),
                mobility='static', rooms=('bedroom', 'living_room', 'study')),
    ObjectClass('plant', (0.25, 0.25, 0.4), ('green',), mobility='static',
                rooms=('living_room', 'hallway', 'study', 'bedroom')),
    ObjectClass('kettle', (0.2, 0.15, 0.25), ('white', 'black', 'grey'), ('off', 'on'),
                mobility='static', rooms=('kitchen',)),
    ObjectClass('toaster', (0.28, 0.16, 0.2), ('grey', 'red'), ('off', 'on'),
                mobility='static', rooms=('kitchen',)),
    ObjectClass('speaker', (0.15, 0.15, 0.2), ('black', 'grey'), ('off', 'on'),
                mobility='static', rooms=('living_room', 'study')),
)}

# Instances every world has at least, so that identity matters (three mugs, two backpacks).
def label_space() -> LabelSpace:
    """The class ids a class-image segmentation of the built-in worlds uses (0: background).

    `config/label_space_sim.yaml` holds the same; memory_node reads it in segmentation 'class'.
    """
    return LabelSpace.from_classes([*OBJECT_CATALOG, *FURNITURE_CATALOG])


DEFAULT_MIN_INSTANCES = {'mug': 3, 'backpack': 2, 'book': 3, 'keys': 1, 'laptop': 1}

_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    'apartment': {'rooms': (4, 6), 'objects': (50, 80),
                  'pool': ('kitchen', 'living_room', 'bedroom', 'bathroom', 'study',
                           'dining_room')},
    'house': {'rooms': (8, 12), 'objects': (140, 220),
              'pool': ('kitchen', 'living_room', 'bedroom', 'bathroom', 'study', 'dining_room',
                       'bedroom', 'bedroom', 'bathroom', 'study', 'living_room')},
    'office': {'rooms': (6, 10), 'objects': (90, 150),
               'pool': ('kitchen', 'bathroom', 'dining_room', 'study', 'study', 'study',
                        'study', 'study', 'study')},
}
_OFFICE_NAMES = {'study': 'office', 'dining_room': 'meeting_room'}


@dataclass(frozen=True, slots=True)
class Room:
    """A rectangular room; walls are inset into it, the rectangle is its floor polygon."""

    name: str
    category: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def room_id(self) -> str:
        """Scene-graph id, `room:<name>`."""
        return f'room:{self.name}'

    @property
    def polygon_m(self) -> tuple[Vec2, ...]:
        """Counter-clockwise floor polygon."""
        return ((self.x0, self.y0), (self.x1, self.y0), (self.x1, self.y1), (self.x0, self.y1))

    @property
    def area_m2(self) -> float:
        """Floor area."""
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    @property
    def center_m(self) -> Vec2:
        """Centre of the rectangle."""
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) lies inside, at least `margin` from the walls."""
        return (self.x0 + margin <= x <= self.x1 - margin
                and self.y0 + margin <= y <= self.y1 - margin)


@dataclass(frozen=True, slots=True)
class Door:
    """An opening between two rooms in the wall they share; `axis` is the wall's direction."""

    room_a: str
    room_b: str
    center_m: Vec2
    axis: str  # 'x': the wall runs along x (door passes along y); 'y': the other way
    width_m: float = DOOR_WIDTH_M


@dataclass(frozen=True, slots=True)
class Support:
    """Where objects can rest on (or in, or hang from) one piece of furniture, in slots."""

    support_id: str
    room: str
    relation: str  # 'on' | 'in'
    hanging: bool
    z_m: float  # top surface for 'on'/'in'; hanging point for hooks
    slots: tuple[Vec2, ...]

    def object_z(self, height_m: float) -> float:
        """Height of the centre of an object of this height resting in a slot."""
        return self.z_m - height_m / 2 if self.hanging else self.z_m + height_m / 2


@dataclass(frozen=True, slots=True)
class Furniture:
    """One axis-aligned piece of furniture with its support surface."""

    furn_id: str
    cls: str
    room: str
    box_m: Box
    color: str
    support: Support

    @property
    def center_m(self) -> Vec3:
        """Centre of the box."""
        lo, hi = self.box_m
        return tuple((a + b) / 2 for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]

    @property
    def size_m(self) -> Vec3:
        """Extent of the box."""
        lo, hi = self.box_m
        return tuple(b - a for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ObjectInstance:
    """One small object: id `obj:<class>_<k>`, class, colour, size, mobility, state kind."""

    obj_id: str
    cls: str
    color: str
    size_m: Vec3
    mobility: str
    states: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an object is and in which state: support, slot, position, room."""

    support_id: str
    relation: str
    slot: int
    position_m: Vec3
    room: str
    state: str = ''


@dataclass(frozen=True, slots=True)
class Place:
    """A viewpoint on the floor; `door` names the door a door place sits next to."""

    place_id: str
    room: str
    position_m: Vec3
    door: int = -1


@dataclass(slots=True)
class WorldState:
    """The mutable present of a world: which objects exist, where they are, their states."""

    objects: dict[str, ObjectInstance] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    occupied: dict[tuple[str, int], str] = field(default_factory=dict)
    next_index: dict[str, int] = field(default_factory=dict)
    version: int = 0

    def copy(self) -> WorldState:
        """An independent copy (values are immutable, so shallow dict copies suffice)."""
        return WorldState(dict(self.objects), dict(self.placements), dict(self.occupied),
                          dict(self.next_index), self.version)

    def place(self, obj: ObjectInstance, placement: Placement) -> None:
        """Put an object (new or existing) into a free slot."""
        key = (placement.support_id, placement.slot)
        holder = self.occupied.get(key)
        if holder is not None and holder != obj.obj_id:
            raise InvalidInputError(f'slot {key} already holds {holder}')
        old = self.placements.get(obj.obj_id)
        if old is not None:
            self.occupied.pop((old.support_id, old.slot), None)
        self.objects[obj.obj_id] = obj
        self.placements[obj.obj_id] = placement
        self.occupied[key] = obj.obj_id
        self.version += 1

    def remove(self, obj_id: str) -> None:
        """Take an object out of the world."""
        old = self.placements.pop(obj_id)
        self.occupied.pop((old.support_id, old.slot), None)
        del self.objects[obj_id]
        self.version += 1

    def set_state(self, obj_id: str, state: str) -> None:
        """Change an object's state in place."""
        old = self.placements[obj_id]
        self.placements[obj_id] = Placement(old.support_id, old.relation, old.slot,
                                            old.position_m, old.room, state)
        self.version += 1

    def new_id(self, cls: str) -> str:
        """Next unused id of a class, `obj:<class>_<k>`."""
        k = self.next_index.get(cls, 0)
        self.next_index[cls] = k + 1
        return f'obj:{cls}_{k}'


class World:
    """A generated building: rooms, doors, furniture, places and the initial objects."""

    def __init__(self, spec: Mapping[str, Any], seed: int | None = None) -> None:
        self.spec = dict(spec)
        self.kind = str(spec.get('kind', 'custom'))
        self.seed = int(seed if seed is not None else spec.get('seed', 0))
        self.wall_height_m = float(spec.get('wall_height_m', 2.5))
        rng = np.random.default_rng([self.seed, 1])
        rooms, doors = _layout(spec, rng)
        furniture = _furnish(rooms, doors, rng)
        self._build(rooms, doors, furniture, _make_places(rooms, doors, furniture),
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
        self.initial_state: WorldState = _populate(self, objects, rng)

    # ----------------------------------------------------------- constructors
    @classmethod
    def generate(cls, seed: int, kind: str = 'apartment') -> World:
        """Draw a spec of the given kind from the seed and build it."""
        return cls(random_spec(kind, seed), seed)

    @classmethod
    def from_yaml(cls, path: str | Path, seed: int | None = None) -> World:
        """Build a world from a YAML spec file; a spec it cannot build from is one error."""
        spec = load_spec(path)
        try:
            return cls(spec, seed)
        except RobotMemoryError:
            raise
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            raise InvalidInputError(f'{path}: not a usable world spec ({type(exc).__name__}: '
                                    f'{exc}); the specs in sim/worlds/ show the format') from None

    @classmethod
    def named(cls, name: str, seed: int) -> World:
        """A world kind (drawn from the seed) or a path to a YAML spec."""
        if name in WORLD_KINDS:
            return cls.generate(seed, name)
        path = Path(name)
        if path.suffix in ('.yaml', '.yml') and path.is_file():
            return cls.from_yaml(path, seed)
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
        world._build(tuple(rooms), (), tuple(furniture), tuple(places), objects,
                     np.random.default_rng([int(seed), 1]))
        return world

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


# ====================================================================== specs
def load_spec(path: str | Path) -> dict[str, Any]:
    """Read a YAML world spec."""
    from robot_memory.config import read_yaml

    data = read_yaml(path, 'world spec')
    if not isinstance(data, dict) or 'rooms' not in data:
        raise InvalidInputError(f'{path}: a world spec is a mapping with a "rooms" list')
    return data


def random_spec(kind: str, seed: int) -> dict[str, Any]:
    """Draw a world spec of a kind (apartment, house, office) from a seed."""
    if kind not in _KIND_DEFAULTS:
        raise InvalidInputError(f'unknown world kind {kind!r}; valid: {", ".join(WORLD_KINDS)}')
    rng = np.random.default_rng([seed, 0])
    d = _KIND_DEFAULTS[kind]
    n_rooms = int(rng.integers(d['rooms'][0], d['rooms'][1] + 1))
    pool = list(d['pool'])
    categories = pool[: n_rooms - 1]  # the hallway is one of the rooms
    order = rng.permutation(len(categories))
    rooms = []
    counts: dict[str, int] = {}
    for i in order:
        category = categories[i]
        base = _OFFICE_NAMES.get(category, category) if kind == 'office' else category
        counts[base] = counts.get(base, 0) + 1
        name = base if counts[base] == 1 else f'{base}_{counts[base]}'
        rooms.append({'name': name, 'category': category})
    lo, hi = d['objects']
    return {'kind': kind, 'seed': seed, 'rooms': rooms, 'auto_doors': True,
            'objects': {'count': int(rng.integers(lo, hi + 1)), 'fit_to_capacity': True}}


# ===================================================================== layout
def _layout(spec: Mapping[str, Any], rng: np.random.Generator) -> tuple[tuple[Room, ...],
                                                                         tuple[Door, ...]]:
    """Rooms on both sides of a straight hallway, each with a door onto it."""
    entries = [dict(r) for r in spec['rooms'] if r.get('category') != 'hallway']
    names = [r['name'] for r in entries]
    if len(set(names)) != len(names) or 'hallway' in names:
        raise InvalidInputError(f'room names must be unique and not "hallway": {names}')
    for r in entries:
        if r.get('category') not in ROOM_CATEGORIES:
            raise InvalidInputError(f'room {r.get("name")!r} has category '
                                    f'{r.get("category")!r}; valid: {", ".join(ROOM_CATEGORIES)}')
    hall_w = float(spec.get('hallway_width_m', rng.uniform(1.5, 1.9)))
    sides: dict[str, list[dict[str, Any]]] = {'north': [], 'south': []}
    for r in entries:
        width, depth = _room_size(r['category'], rng)
        r['width_m'] = float(r.get('width_m') or width)
        r['depth_m'] = float(r.get('depth_m') or depth)
        # Unplaced rooms go to the shorter side so both sides come out about equally long.
        side = r.get('side') or min(sides, key=lambda k: sum(x['width_m'] for x in sides[k]))
        if side not in sides:
            raise InvalidInputError(f'room {r["name"]!r}: side {side!r}; valid: north, south')
        sides[side].append(r)
    length = max(3.0, max(sum(r['width_m'] for r in rs) for rs in sides.values()))
    for rs in sides.values():
        if rs:  # widen the rooms of the shorter side so both sides end flush
            extra = (length - sum(r['width_m'] for r in rs)) / len(rs)
            for r in rs:
                r['width_m'] = round(r['width_m'] + extra, 3)
    rooms = [Room('hallway', 'hallway', 0.0, 0.0, length, hall_w)]
    doors: list[Door] = []
    for side, rs in sides.items():
        x = 0.0
        prev: Room | None = None
        for r in rs:
            if side == 'north':
                room = Room(r['name'], r['category'], x, hall_w, x + r['width_m'],
                            hall_w + r['depth_m'])
                wall_y = hall_w
            else:
                room = Room(r['name'], r['category'], x, -r['depth_m'], x + r['width_m'], 0.0)
                wall_y = 0.0
            x += r['width_m']
            dx = float(rng.uniform(room.x0 + 0.7, room.x1 - 0.7))
            doors.append(Door('hallway', room.name, (round(dx, 3), wall_y), 'x'))
            if prev is not None:
                pair = {prev.category, room.category}
                wanted = [prev.name, room.name] in spec.get('extra_doors', []) or \
                    [room.name, prev.name] in spec.get('extra_doors', [])
                auto = spec.get('auto_doors') and pair in (
                    {'kitchen', 'dining_room'}, {'living_room', 'dining_room'})
                if wanted or auto:
                    depth = min(prev.y1 - prev.y0, room.y1 - room.y0)
                    off = float(rng.uniform(0.8, depth - 0.8))
                    dy = hall_w + off if side == 'north' else -off
                    doors.append(Door(prev.name, room.name, (room.x0, round(dy, 3)), 'y'))
            prev = room
            rooms.append(room)
    return tuple(rooms), tuple(doors)


def _room_size(category: str, rng: np.random.Generator) -> Vec2:
    lo, hi = {'bathroom': (2.2, 3.0), 'living_room': (4.0, 5.5), 'kitchen': (3.0, 4.2),
              'dining_room': (3.2, 4.2), 'bedroom': (3.2, 4.4), 'study': (3.0, 3.8)}[category]
    return round(float(rng.uniform(lo, hi)), 2), round(float(rng.uniform(max(lo, 3.0), hi)), 2)


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


# ================================================================= furniture
def _furnish(rooms: Iterable[Room], doors: tuple[Door, ...],
             rng: np.random.Generator) -> tuple[Furniture, ...]:
    """Place each room's furniture against walls (or free-standing), clear of doors."""
    out: list[Furniture] = []
    counts: dict[str, int] = {}
    for room in rooms:
        required, optional = ROOM_FURNITURE[room.category]
        n_opt = int(rng.integers(1, len(optional) + 1)) if room.area_m2 > 8 else 0
        wanted = list(required) + [optional[i] for i in rng.permutation(len(optional))[:n_opt]]
        keepout = [_door_zone(d, room) for d in doors if room.name in (d.room_a, d.room_b)]
        taken: list[tuple[float, float, float, float]] = []
        # Largest first: big pieces are the hard ones to fit.
        wanted.sort(key=lambda c: -FURNITURE_CATALOG[c].size_m[0] * FURNITURE_CATALOG[c].size_m[1])
        for cls_name in wanted:
            fc = FURNITURE_CATALOG[cls_name]
            rect = _fit(fc, room, taken, keepout, rng)
            if rect is None:
                continue
            k = counts.get(cls_name, 0)
            counts[cls_name] = k + 1
            furn_id = f'furn:{cls_name}_{k}'
            color = fc.colors[int(rng.integers(len(fc.colors)))]
            x0, y0, x1, y1 = rect
            box = ((x0, y0, fc.base_z_m), (x1, y1, fc.base_z_m + fc.size_m[2]))
            out.append(Furniture(furn_id, cls_name, room.name, box, color,
                                 _support(furn_id, fc, room, box)))
            taken.append(rect)
    return tuple(out)


def _door_zone(door: Door, room: Room) -> tuple[float, float, float, float]:
    x, y = door.center_m
    half = door.width_m / 2 + 0.3
    if door.axis == 'x':
        return (x - half, y - 1.1, x + half, y + 1.1)
    return (x - 1.1, y - half, x + 1.1, y + half)


def _overlaps(a: tuple[float, ...], b: tuple[float, ...], margin: float = 0.0) -> bool:
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0]
                or a[3] + margin <= b[1] or b[3] + margin <= a[1])


def _fit(fc: FurnitureClass, room: Room, taken: list[tuple[float, float, float, float]],
         keepout: list[tuple[float, float, float, float]],
         rng: np.random.Generator) -> tuple[float, float, float, float] | None:
    w, d, _ = fc.size_m
    t = WALL_THICKNESS_M + 0.02
    for _ in range(80):
        if fc.against_wall:
            side = ('south', 'north', 'west', 'east')[int(rng.integers(4))]
            if side in ('south', 'north'):
                if room.x1 - room.x0 < w + 2 * t:
                    continue
                x0 = float(rng.uniform(room.x0 + t, room.x1 - t - w))
                y0 = room.y0 + t if side == 'south' else room.y1 - t - d
                rect = (x0, y0, x0 + w, y0 + d)
            else:
                if room.y1 - room.y0 < w + 2 * t:
                    continue
                y0 = float(rng.uniform(room.y0 + t, room.y1 - t - w))
                x0 = room.x0 + t if side == 'west' else room.x1 - t - d
                rect = (x0, y0, x0 + d, y0 + w)
        else:
            sx, sy = (w, d) if rng.random() < 0.5 else (d, w)
            lo_x, hi_x = room.x0 + 0.9, room.x1 - 0.9 - sx
            lo_y, hi_y = room.y0 + 0.9, room.y1 - 0.9 - sy
            if hi_x < lo_x or hi_y < lo_y:
                return None
            x0, y0 = float(rng.uniform(lo_x, hi_x)), float(rng.uniform(lo_y, hi_y))
            rect = (x0, y0, x0 + sx, y0 + sy)
        rect = tuple(round(v, 3) for v in rect)  # type: ignore[assignment]
        if any(_overlaps(rect, o, 0.4) for o in taken) or any(_overlaps(rect, z) for z in keepout):
            continue
        return rect
    return None


def _support(furn_id: str, fc: FurnitureClass, room: Room, box: Box) -> Support:
    (x0, y0, z0), (x1, y1, z1) = box
    if fc.relation == 'hang':
        # Objects hang in front of the board, on the side away from the wall it is fixed to.
        along_x = (x1 - x0) >= (y1 - y0)
        if along_x:
            front = 1.0 if abs(y0 - room.y0) < abs(y1 - room.y1) else -1.0
            y_c = (y1 if front > 0 else y0) + front * 0.12
            n = max(1, int((x1 - x0) // SLOT_M))
            xs = np.linspace(x0, x1, n + 2)[1:-1] if n > 1 else [(x0 + x1) / 2]
            slots = tuple((round(float(x), 3), round(y_c, 3)) for x in xs)
        else:
            front = 1.0 if abs(x0 - room.x0) < abs(x1 - room.x1) else -1.0
            x_c = (x1 if front > 0 else x0) + front * 0.12
            n = max(1, int((y1 - y0) // SLOT_M))
            ys = np.linspace(y0, y1, n + 2)[1:-1] if n > 1 else [(y0 + y1) / 2]
            slots = tuple((round(x_c, 3), round(float(y), 3)) for y in ys)
        return Support(furn_id, room.name, 'on', True, z1, slots)
    inset = 0.1 if fc.relation == 'in' else 0.04
    ax0, ay0, ax1, ay1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
    nx_ = max(1, int((ax1 - ax0) // SLOT_M))
    ny_ = max(1, int((ay1 - ay0) // SLOT_M))
    slots = tuple(
        (round(ax0 + (i + 0.5) * (ax1 - ax0) / nx_, 3),
         round(ay0 + (j + 0.5) * (ay1 - ay0) / ny_, 3))
        for j in range(ny_) for i in range(nx_)
    )
    z = z0 + 0.1 if fc.relation == 'in' else z1
    return Support(furn_id, room.name, fc.relation, False, z, slots)


# ==================================================================== places
def _clearance(x: float, y: float, furniture: Iterable[Furniture]) -> float:
    best = math.inf
    for f in furniture:
        if f.box_m[0][2] > 1.0:  # wall-mounted boards do not block the floor
            continue
        (x0, y0, _), (x1, y1, _) = f.box_m
        dx = max(x0 - x, 0.0, x - x1)
        dy = max(y0 - y, 0.0, y - y1)
        best = min(best, math.hypot(dx, dy))
    return best


def _make_places(rooms: tuple[Room, ...], doors: tuple[Door, ...],
                 furniture: tuple[Furniture, ...]) -> tuple[Place, ...]:
    """View places (1–3 per room, in free space) and one place beside each door per side."""
    out: list[Place] = []
    for room in rooms:
        furn = [f for f in furniture if f.room == room.name]
        margin = ROBOT_CLEARANCE_M
        xs = np.arange(room.x0 + margin, room.x1 - margin + 1e-9, 0.25)
        ys = np.arange(room.y0 + margin, room.y1 - margin + 1e-9, 0.25)
        cands = [(float(x), float(y)) for y in ys for x in xs
                 if _clearance(float(x), float(y), furn) >= ROBOT_CLEARANCE_M]
        cx, cy = room.center_m
        if not cands:
            cands = [(cx, cy)]
        n_views = 1 + (room.area_m2 > 15) + (room.area_m2 > 25)
        views = [min(cands, key=lambda p: math.hypot(p[0] - cx, p[1] - cy))]
        while len(views) < n_views:
            far = max(cands, key=lambda p: min(math.hypot(p[0] - v[0], p[1] - v[1])
                                               for v in views))
            if min(math.hypot(far[0] - v[0], far[1] - v[1]) for v in views) < 1.5:
                break
            views.append(far)
        k = 0
        for x, y in views:
            out.append(Place(f'place:{room.name}/{k}', room.name, (round(x, 3), round(y, 3), 0.0)))
            k += 1
        for i, door in enumerate(doors):
            if room.name not in (door.room_a, door.room_b):
                continue
            x, y = door.center_m
            if door.axis == 'x':
                y += 0.5 if room.contains(x, y + 0.5) else -0.5
            else:
                x += 0.5 if room.contains(x + 0.5, y) else -0.5
            out.append(Place(f'place:{room.name}/{k}', room.name, (round(x, 3), round(y, 3), 0.0),
                             door=i))
            k += 1
    return tuple(out)


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


# =================================================================== objects
def _populate(world: World, spec: Mapping[str, Any], rng: np.random.Generator) -> WorldState:
    """Put the initial objects into free slots, mostly in their home rooms."""
    state = WorldState()
    capacity = sum(len(s.slots) for s in world.supports.values())
    count = int(spec.get('count', 80))
    if spec.get('fit_to_capacity'):
        # Drawn worlds keep a third of the slots free so that people have room to move things.
        count = max(min(count, int(0.65 * capacity)), min(50, capacity))
    if not 1 <= count <= capacity:
        raise InvalidInputError(f'objects.count={count} does not fit: this world has '
                                f'{capacity} slots')
    minimum = dict(DEFAULT_MIN_INSTANCES)
    minimum.update({str(k): int(v) for k, v in spec.get('min_instances', {}).items()})
    for name in minimum:
        if name not in OBJECT_CATALOG:
            raise InvalidInputError(f'unknown object class {name!r}; valid: '
                                    f'{", ".join(sorted(OBJECT_CATALOG))}')
    classes = [c for c, n in minimum.items() for _ in range(n)]
    names = sorted(OBJECT_CATALOG)
    weights = np.array([OBJECT_CATALOG[n].weight for n in names])
    while len(classes) < count:
        classes.append(names[int(rng.choice(len(names), p=weights / weights.sum()))])
    colour_cycle: dict[str, list[str]] = {}
    for cls_name in classes[:count]:
        oc = OBJECT_CATALOG[cls_name]
        if not colour_cycle.get(cls_name):
            colour_cycle[cls_name] = [oc.colors[i] for i in rng.permutation(len(oc.colors))]
        color = colour_cycle[cls_name].pop()
        obj = ObjectInstance(state.new_id(cls_name), cls_name, color, oc.size_m, oc.mobility,
                             oc.states)
        placement = choose_placement(world, state, obj, rng, oc.rooms,
                                     oc.states[0] if oc.states else '')
        if placement is None:
            continue
        state.place(obj, placement)
    state.version = 0
    return state


def choose_placement(world: World, state: WorldState, obj: ObjectInstance,
                     rng: np.random.Generator, rooms: Iterable[str] | None = None,
                     obj_state: str = '', supports: Iterable[str] | None = None,
                     ) -> Placement | None:
    """A free slot for an object, preferring supports in rooms of the given categories."""
    oc = OBJECT_CATALOG[obj.cls]
    cats = set(rooms) if rooms is not None else None
    options: list[tuple[str, int]] = []
    pools = []
    if supports is not None:
        pools.append([world.supports[s] for s in supports])
    pools.append([s for s in world.supports.values()
                  if cats is None or world.room(s.room).category in cats])
    pools.append(list(world.supports.values()))
    for pool in pools:
        options = [(s.support_id, i) for s in pool for i in range(len(s.slots))
                   if (s.support_id, i) not in state.occupied and (oc.hangable or not s.hanging)
                   and not (oc.mobility == 'static' and s.relation == 'in')]
        if options:
            break
    if not options:
        return None
    support_id, slot = options[int(rng.integers(len(options)))]
    support = world.supports[support_id]
    x, y = support.slots[slot]
    # A little jitter so positions are not on a visible grid; small enough to stay in the slot.
    jx, jy = (float(v) for v in rng.uniform(-0.03, 0.03, 2))
    z = support.object_z(obj.size_m[2])
    return Placement(support_id, support.relation, slot,
                     (round(x + jx, 4), round(y + jy, 4), round(z, 4)), support.room, obj_state)

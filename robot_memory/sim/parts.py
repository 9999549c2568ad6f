"""The parts a world is made of: rooms, doors, furniture with supports, places and objects.

All are frozen values in `map` metres except `WorldState`, the mutable present (which objects
exist, where they are, in which state) that the activity model changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.catalog import DOOR_WIDTH_M, Vec3

__all__ = [
    'Box',
    'Door',
    'Furniture',
    'ObjectInstance',
    'Place',
    'Placement',
    'Room',
    'Support',
    'Vec2',
    'Vec3',
    'WorldState',
]

Vec2 = tuple[float, float]
Box = tuple[Vec3, Vec3]  # (min corner, max corner) in map


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
        return ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)

    @property
    def size_m(self) -> Vec3:
        """Extent of the box."""
        lo, hi = self.box_m
        return (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])


@dataclass(frozen=True, slots=True)
class ObjectInstance:
    """One small object: id `obj:<class>_<k>`, class, colour, size, mobility, state kind.

    How it looks beyond its colour's name (`sim/appearance.py`): its own shade `rgb` (empty:
    the catalogue colour, as in the flat world), a pattern with a second colour, and the
    matched set it belongs to (`look_group`: objects of one group look identical).
    """

    obj_id: str
    cls: str
    color: str
    size_m: Vec3
    mobility: str
    states: tuple[str, ...] = ()
    rgb: tuple[int, ...] = ()
    accent_rgb: tuple[int, ...] = ()
    pattern: str = 'plain'
    look_group: str = ''


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

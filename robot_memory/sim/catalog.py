"""The catalogue a world is drawn from: room categories, colours, furniture and object classes.

Sizes are in metres (width along the wall, depth, height), colours are names with an RGB for
the renderer. `label_space()` numbers these classes for a class-image segmentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robot_memory.perception.class_segments import LabelSpace

__all__ = [
    'COLORS',
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
    'FurnitureClass',
    'ObjectClass',
    'label_space',
]

Vec3 = tuple[float, float, float]

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


def label_space() -> LabelSpace:
    """The class ids a class-image segmentation of the built-in worlds uses (0: background).

    `config/label_space_sim.yaml` holds the same; memory_node reads it in segmentation 'class'.
    """
    return LabelSpace.from_classes([*OBJECT_CATALOG, *FURNITURE_CATALOG])

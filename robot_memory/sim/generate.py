"""World generation: a spec (or a seed) → rooms, doors, furniture, places and initial objects.

A world is built from a spec (a plain dict, usually read from `sim/worlds/*.yaml`); a seed
alone first draws a spec (`random_spec`) and then builds it, so both routes share one code
path. Everything the spec leaves open is drawn from the generator the `World` passes in, so a
(spec, seed) pair always gives the same world. Geometry is axis-aligned: rooms are rectangles
along a hallway, furniture and objects are boxes. `choose_placement` also serves the activity
model, which puts objects down where people leave them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robot_memory.config import read_yaml
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.catalog import (
    FURNITURE_CATALOG,
    OBJECT_CATALOG,
    ROBOT_CLEARANCE_M,
    ROOM_CATEGORIES,
    ROOM_FURNITURE,
    SLOT_M,
    WALL_THICKNESS_M,
    WORLD_KINDS,
    FurnitureClass,
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
    WorldState,
)

if TYPE_CHECKING:
    from robot_memory.sim.world import World

__all__ = [
    'DEFAULT_MIN_INSTANCES',
    'choose_placement',
    'furnish',
    'furniture_support',
    'layout_rooms',
    'load_spec',
    'make_places',
    'populate',
    'random_spec',
]

# Instances every world has at least, so that identity matters (three mugs, two backpacks).
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


# ====================================================================== specs
def load_spec(path: str | Path) -> dict[str, Any]:
    """Read a YAML world spec."""
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


# ====================================================================== rooms
def layout_rooms(spec: Mapping[str, Any],
                 rng: np.random.Generator) -> tuple[tuple[Room, ...], tuple[Door, ...]]:
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


# ================================================================= furniture
def furnish(rooms: Iterable[Room], doors: tuple[Door, ...],
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
                                 furniture_support(furn_id, fc, room, box)))
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
        rect = (round(rect[0], 3), round(rect[1], 3), round(rect[2], 3), round(rect[3], 3))
        if any(_overlaps(rect, o, 0.4) for o in taken) or any(_overlaps(rect, z) for z in keepout):
            continue
        return rect
    return None


def furniture_support(furn_id: str, fc: FurnitureClass, room: Room, box: Box) -> Support:
    """The slots objects rest in on (or in, or hang from) a piece of furniture of a class."""
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


def make_places(rooms: tuple[Room, ...], doors: tuple[Door, ...],
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


# =================================================================== objects
def populate(world: World, spec: Mapping[str, Any], rng: np.random.Generator) -> WorldState:
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
        obj = world.dress(ObjectInstance(state.new_id(cls_name), cls_name, color, oc.size_m,
                                         oc.mobility, oc.states), state.objects)
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

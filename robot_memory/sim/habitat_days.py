"""Household days in a Habitat scene: the built-in simulator's activity model moves objects.

A Habitat scene is static. To make it a home that changes between patrols, the scene's
furniture (semantic objects with boxes) and the backend's rooms and places become a sim
`World` (`scene_world`): furniture with a flat top at table-to-counter height, or of a class
the built-in catalogue knows, offers support slots; the initial small objects are drawn into
them from the seed, and `ActivityModel` moves, adds, removes and toggles them by the same
habits, deliveries and removals as in the built-in worlds, with the same ground-truth log.
`SceneObjects` keeps habitat-sim rigid objects (scaled primitive boxes, no physics) in step
with that state, each with a semantic id of its own labelled with its class, and with its
colour and state as a perfect detector would report them (the boxes are drawn untextured).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.catalog import FURNITURE_CATALOG, FurnitureClass
from robot_memory.sim.generate import furniture_support
from robot_memory.sim.parts import Furniture, Place, Room, Support, WorldState
from robot_memory.sim.world import World

if TYPE_CHECKING:
    from robot_memory.sim.habitat import HabitatSim

__all__ = ['SceneFurniture', 'SceneObjects', 'habitat_scale', 'household_sim', 'scene_world']

# A piece of furniture of a class the catalogue does not know offers its top as a support
# when the top is at a height where people put things down.
SURFACE_HEIGHTS_M = (0.3, 1.3)
PRIMITIVE = 'cubeSolid'  # habitat-sim's built-in cube, -1..1 on each axis


@dataclass(frozen=True, slots=True)
class SceneFurniture:
    """A semantic object of the scene: instance id, class, box in `map` (min, max corners)."""

    semantic_id: int
    cls: str
    lo_m: tuple[float, float, float]
    hi_m: tuple[float, float, float]


def _furniture_class(cls: str, height_m: float) -> FurnitureClass | None:
    if cls in FURNITURE_CATALOG:
        return FURNITURE_CATALOG[cls]
    if SURFACE_HEIGHTS_M[0] <= height_m <= SURFACE_HEIGHTS_M[1]:
        return FurnitureClass(cls, (0.0, 0.0, height_m), relation='on')
    return None


def scene_world(graph: SceneGraph, furniture: Iterable[SceneFurniture], seed: int,
                objects: int) -> World:
    """A sim `World` of a scene's rooms, places and furniture, with `objects` small objects.

    Rooms are the rectangles around the layout's room polygons; furniture belongs to the room
    its centre lies in (pieces in no room are left out).
    """
    rooms = []
    for room_id in graph.rooms:
        attrs = graph.get_room(room_id)
        xs, ys = zip(*attrs.polygon_m, strict=True)
        rooms.append(Room(attrs.name, attrs.category, min(xs), min(ys), max(xs), max(ys)))
    pieces = []
    for item in furniture:
        cx, cy = (item.lo_m[0] + item.hi_m[0]) / 2, (item.lo_m[1] + item.hi_m[1]) / 2
        found = graph.find_room_at(cx, cy)
        if found is None:
            continue
        room = next(r for r in rooms if r.room_id == found)
        furn_id = f'habitat:{item.semantic_id}'
        box = (item.lo_m, item.hi_m)
        fc = _furniture_class(item.cls, item.hi_m[2])
        # Every piece is in the world (and the truth); one nothing rests on has no slots.
        support = (furniture_support(furn_id, fc, room, box) if fc is not None else
                   Support(furn_id, room.name, 'on', False, item.hi_m[2], ()))
        pieces.append(Furniture(furn_id, item.cls, room.name, box, '', support))
    places = [Place(p, graph.get_place(p).room_id.split(':', 1)[1],
                    graph.get_place(p).position_m) for p in graph.places]
    # As in the built-in worlds, a third of the slots stay free for people to move things to.
    capacity = sum(len(piece.support.slots) for piece in pieces)
    count = min(objects, int(0.65 * capacity))
    if count < 1:
        raise InvalidInputError(f'the scene has {capacity} support slots on its furniture: no '
                                'room for objects')
    return World.from_parts('habitat', seed, rooms, pieces, places, {'count': count})


class SceneObjects:
    """habitat-sim rigid objects kept in step with a `WorldState`, one semantic id each."""

    def __init__(self, simulator: Any, first_semantic_id: int,
                 to_habitat: Any, scale_of: Any) -> None:
        self._templates = simulator.get_object_template_manager()
        self._objects = simulator.get_rigid_object_manager()
        self._to_habitat = to_habitat  # map position → habitat position
        self._scale_of = scale_of  # map size → habitat scale of the primitive
        self._next_id = first_semantic_id
        self._rigid: dict[str, tuple[Any, tuple[float, float, float]]] = {}
        self.semantic_of: dict[str, int] = {}  # object id → semantic id (kept when removed)
        self.object_of: dict[int, str] = {}
        self.class_of: dict[int, str] = {}
        #: Semantic id → what a perfect detector says of the object (colour, state).
        self.attributes: dict[int, dict[str, str]] = {}
        self._version = -1

    def _template(self, cls: str, size_m: tuple[float, float, float]) -> str:
        handle = f'robot_memory_{cls}_' + '_'.join(f'{v:.3f}' for v in size_m)
        if not self._templates.get_template_handles(handle):
            template = self._templates.get_template_by_handle(
                self._templates.get_template_handles(PRIMITIVE)[0])
            template.scale = self._scale_of(size_m)
            self._templates.register_template(template, handle)
        return handle

    def sync(self, state: WorldState) -> None:
        """Add, move and remove rigid objects so the scene shows `state`."""
        if state.version == self._version and self._rigid.keys() == state.placements.keys():
            return
        import magnum as mn

        for obj_id in sorted(set(self._rigid) - set(state.placements)):
            rigid, _ = self._rigid.pop(obj_id)
            self._objects.remove_object_by_id(rigid.object_id)
        for obj_id, placement in sorted(state.placements.items()):
            obj = state.objects[obj_id]
            known = self._rigid.get(obj_id)
            if known is None:
                rigid = self._objects.add_object_by_template_handle(
                    self._template(obj.cls, obj.size_m))
                sid = self.semantic_of.setdefault(obj_id, self._new_id())
                rigid.semantic_id = sid
                self.object_of[sid] = obj_id
                self.class_of[sid] = obj.cls
            else:
                rigid = known[0]
            self.attributes[self.semantic_of[obj_id]] = _attributes(obj.color, placement.state)
            if known is None or known[1] != placement.position_m:
                rigid.translation = mn.Vector3(*self._to_habitat(placement.position_m))
                self._rigid[obj_id] = (rigid, placement.position_m)
        self._version = state.version

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def categories(self) -> Mapping[int, str]:
        """Semantic id → class of every object ever shown."""
        return dict(self.class_of)

    def clear(self) -> None:
        """Remove every rigid object (a reset)."""
        for rigid, _ in self._rigid.values():
            self._objects.remove_object_by_id(rigid.object_id)
        self._rigid.clear()
        self._version = -1


def _attributes(color: str, state: str) -> dict[str, str]:
    return {k: v for k, v in (('color', color), ('state', state)) if v}


def habitat_scale(size_m: tuple[float, float, float]) -> Any:
    """Scale of the -1..1 primitive cube for an object of `size_m` (map x, y, z)."""
    import magnum as mn

    sx, sy, sz = (max(float(v), 0.02) / 2 for v in size_m)
    return mn.Vector3(sy, sz, sx)  # habitat x = -map y, y = map z, z = -map x


def household_sim(backend: str, scene: str, seed: int, habitat_config: str | None = None,
                  detector: str = 'perfect', objects: int = 30) -> HabitatSim | None:
    """The simulator a `--backend` option names: None for the built-in one (the caller builds
    it from its world), else the Habitat backend on `scene` with a household of `objects`."""
    if backend == 'builtin':
        return None
    if backend != 'habitat':
        raise InvalidInputError(f'backend {backend!r}; valid: builtin, habitat')
    if detector != 'perfect':
        raise InvalidInputError("the Habitat backend has no detector model: its labels are the "
                                "scene's (use --detector perfect)")
    from dataclasses import replace

    from robot_memory.sim.habitat import HabitatConfig, HabitatSim

    base = HabitatConfig.from_yaml(habitat_config) if habitat_config else \
        HabitatConfig(scene_path=scene)
    try:
        return HabitatSim(replace(base, scene_path=scene or base.scene_path, seed=seed,
                                  objects=base.objects or objects))
    except ImportError as exc:  # habitat-sim comes from conda only
        raise InvalidInputError(str(exc)) from None

"""Layered 3D scene graph: building → room → place → object (after Hydra / HOV-SG).

Node ids say their layer (`room:kitchen`, `place:kitchen/0`, `object:17`). Edges have a kind;
`adjacent` and `traversable` are symmetric and stored both ways. Lookups come in three forms:
`has_*` (bool), `find_*` (value or None) and `get_*` (raises `UnknownNodeError`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import networkx as nx

from robot_memory._compat import StrEnum
from robot_memory.exceptions import InvalidInputError, RobotMemoryError, UnknownNodeError
from robot_memory.geometry import point_in_polygon

__all__ = [
    'BuildingAttributes',
    'EdgeKind',
    'Layer',
    'ObjectAttributes',
    'PlaceAttributes',
    'RoomAttributes',
    'SceneGraph',
    'node_layer',
    'point_in_polygon',
]

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]


class Layer(StrEnum):
    """Scene-graph layers, top to bottom."""

    BUILDING = 'building'
    ROOM = 'room'
    PLACE = 'place'
    OBJECT = 'object'


class EdgeKind(StrEnum):
    """Relations between nodes."""

    CONTAINS = 'contains'
    ADJACENT = 'adjacent'
    TRAVERSABLE = 'traversable'
    SUPPORTED_BY = 'supported_by'
    INSIDE = 'inside'
    NEAR = 'near'


SYMMETRIC_EDGES = frozenset({EdgeKind.ADJACENT, EdgeKind.TRAVERSABLE})
OBJECT_RELATIONS = frozenset({EdgeKind.SUPPORTED_BY, EdgeKind.INSIDE, EdgeKind.NEAR})


def node_layer(node_id: str) -> Layer:
    """Return the layer a node id names (`room:kitchen` → `Layer.ROOM`)."""
    prefix, sep, _ = node_id.partition(':')
    if not sep and node_id != Layer.BUILDING:
        raise InvalidInputError(
            f'node id {node_id!r} has no layer prefix; expected one of '
            f'{", ".join(layer.value + ":" for layer in Layer)}'
        )
    try:
        return Layer(prefix)
    except ValueError:
        valid = ', '.join(layer.value for layer in Layer)
        raise InvalidInputError(
            f'unknown layer {prefix!r} in {node_id!r}; valid: {valid}') from None


@dataclass(frozen=True, slots=True)
class BuildingAttributes:
    """The root of the graph."""

    name: str = 'building'


@dataclass(frozen=True, slots=True)
class RoomAttributes:
    """A room: category (`kitchen`), a display name and its floor polygon in `map`."""

    name: str
    category: str
    polygon_m: tuple[Vec2, ...] = ()

    def contains_xy(self, x: float, y: float) -> bool:
        """Whether the point lies on this room's floor polygon."""
        return len(self.polygon_m) >= 3 and point_in_polygon(x, y, self.polygon_m)

    @property
    def centroid_m(self) -> Vec2:
        """Mean of the polygon's vertices."""
        if not self.polygon_m:
            return (0.0, 0.0)
        xs, ys = zip(*self.polygon_m, strict=True)
        return (sum(xs) / len(xs), sum(ys) / len(ys))


@dataclass(frozen=True, slots=True)
class PlaceAttributes:
    """A viewpoint the robot can stand at, inside a room."""

    room_id: str
    position_m: Vec3


@dataclass(frozen=True, slots=True)
class ObjectAttributes:
    """An object as the graph shows it at one time."""

    label: str
    position_m: Vec3
    extent_m: Vec3 = (0.1, 0.1, 0.1)
    color: str = ''
    state: str = ''
    mobility: str = 'movable'
    extra: dict[str, str] = field(default_factory=dict)


NodeAttributes = BuildingAttributes | RoomAttributes | PlaceAttributes | ObjectAttributes
_ATTRIBUTE_TYPES: dict[Layer, type] = {
    Layer.BUILDING: BuildingAttributes,
    Layer.ROOM: RoomAttributes,
    Layer.PLACE: PlaceAttributes,
    Layer.OBJECT: ObjectAttributes,
}
_Attrs = TypeVar('_Attrs', RoomAttributes, PlaceAttributes, ObjectAttributes)


class SceneGraph:
    """A typed layered scene graph over a networkx `MultiDiGraph` keyed by edge kind."""

    def __init__(self, building: str = 'building') -> None:
        self._g = nx.MultiDiGraph()
        self._g.add_node(Layer.BUILDING.value, attrs=BuildingAttributes(building))

    # ----------------------------------------------------------------- nodes
    def add_room(self, room_id: str, attrs: RoomAttributes) -> bool:
        """Add a room under the building; False if it exists."""
        if not self._add(room_id, Layer.ROOM, attrs):
            return False
        self._g.add_edge(Layer.BUILDING.value, room_id, key=EdgeKind.CONTAINS)
        return True

    def add_place(self, place_id: str, attrs: PlaceAttributes) -> bool:
        """Add a place inside its room; False if it exists."""
        self.get_room(attrs.room_id)
        if not self._add(place_id, Layer.PLACE, attrs):
            return False
        self._g.add_edge(attrs.room_id, place_id, key=EdgeKind.CONTAINS)
        return True

    def add_object(self, object_id: str, attrs: ObjectAttributes, room_id: str | None) -> bool:
        """Add an object, inside `room_id` when given; False if it exists."""
        if room_id is not None:
            self.get_room(room_id)
        if not self._add(object_id, Layer.OBJECT, attrs):
            return False
        if room_id is not None:
            self._g.add_edge(room_id, object_id, key=EdgeKind.CONTAINS)
        return True

    def _add(self, node_id: str, layer: Layer, attrs: NodeAttributes) -> bool:
        if node_layer(node_id) is not layer:
            raise InvalidInputError(f'{node_id!r} is not a {layer.value} id ("{layer.value}:…")')
        if not isinstance(attrs, _ATTRIBUTE_TYPES[layer]):
            raise InvalidInputError(
                f'{node_id!r} needs {_ATTRIBUTE_TYPES[layer].__name__}, got {type(attrs).__name__}'
            )
        if node_id in self._g:
            return False
        self._g.add_node(node_id, attrs=attrs)
        return True

    def remove_node(self, node_id: str) -> bool:
        """Remove a node and its edges (and, for a room, nothing else); False if absent."""
        if node_id not in self._g or node_id == Layer.BUILDING.value:
            return False
        self._g.remove_node(node_id)
        return True

    def has_node(self, node_id: str) -> bool:
        """Whether the node exists."""
        return node_id in self._g

    def find_node(self, node_id: str) -> NodeAttributes | None:
        """Attributes of a node, or None."""
        data = self._g.nodes.get(node_id)
        return None if data is None else data['attrs']

    def get_node(self, node_id: str) -> NodeAttributes:
        """Attributes of a node; raises `UnknownNodeError`."""
        attrs = self.find_node(node_id)
        if attrs is None:
            raise UnknownNodeError(f'no node {node_id!r} in the scene graph')
        return attrs

    def get_room(self, room_id: str) -> RoomAttributes:
        """Attributes of a room; raises `UnknownNodeError`."""
        return self._get_typed(room_id, Layer.ROOM, RoomAttributes)

    def get_place(self, place_id: str) -> PlaceAttributes:
        """Attributes of a place; raises `UnknownNodeError`."""
        return self._get_typed(place_id, Layer.PLACE, PlaceAttributes)

    def get_object(self, object_id: str) -> ObjectAttributes:
        """Attributes of an object; raises `UnknownNodeError`."""
        return self._get_typed(object_id, Layer.OBJECT, ObjectAttributes)

    def _get_typed(self, node_id: str, layer: Layer, cls: type[_Attrs]) -> _Attrs:
        attrs = self.find_node(node_id)
        if not isinstance(attrs, cls):
            known = ', '.join(sorted(self.nodes(layer))[:10])
            raise UnknownNodeError(f'no {layer.value} {node_id!r}; known: {known or "none"}')
        return attrs

    def update_object(self, object_id: str, attrs: ObjectAttributes) -> None:
        """Replace an object's attributes."""
        self.get_object(object_id)
        self._g.nodes[object_id]['attrs'] = attrs

    def nodes(self, layer: Layer) -> list[str]:
        """Node ids of one layer, sorted."""
        return sorted(n for n in self._g.nodes if node_layer(n) is layer)

    def num_nodes(self, layer: Layer | None = None) -> int:
        """Number of nodes, in one layer or in all."""
        if layer is None:
            return int(self._g.number_of_nodes())
        return sum(1 for n in self._g.nodes if node_layer(n) is layer)

    @property
    def rooms(self) -> list[str]:
        """Room ids, sorted."""
        return self.nodes(Layer.ROOM)

    @property
    def places(self) -> list[str]:
        """Place ids, sorted."""
        return self.nodes(Layer.PLACE)

    @property
    def objects(self) -> list[str]:
        """Object ids, sorted."""
        return self.nodes(Layer.OBJECT)

    # ----------------------------------------------------------------- edges
    def add_edge(self, kind: EdgeKind, source: str, target: str, **attrs: float) -> bool:
        """Add a typed edge (both ways for symmetric kinds); False if it exists."""
        kind = EdgeKind(kind)
        for node in (source, target):
            self.get_node(node)
        self._check_edge(kind, source, target)
        if self._g.has_edge(source, target, key=kind):
            return False
        self._g.add_edge(source, target, key=kind, **attrs)
        if kind in SYMMETRIC_EDGES:
            self._g.add_edge(target, source, key=kind, **attrs)
        return True

    @staticmethod
    def _check_edge(kind: EdgeKind, source: str, target: str) -> None:
        layers = (node_layer(source), node_layer(target))
        allowed = {
            EdgeKind.CONTAINS: {(Layer.BUILDING, Layer.ROOM), (Layer.ROOM, Layer.PLACE),
                                (Layer.ROOM, Layer.OBJECT)},
            EdgeKind.ADJACENT: {(Layer.ROOM, Layer.ROOM)},
            EdgeKind.TRAVERSABLE: {(Layer.PLACE, Layer.PLACE)},
        }.get(kind, {(Layer.OBJECT, Layer.OBJECT)})
        if layers not in allowed:
            raise InvalidInputError(
                f'a {kind.value} edge cannot join {layers[0].value} {source!r} to '
                f'{layers[1].value} {target!r}'
            )

    def remove_edge(self, kind: EdgeKind, source: str, target: str) -> bool:
        """Remove a typed edge (both ways for symmetric kinds); False if absent."""
        kind = EdgeKind(kind)
        if not self._g.has_edge(source, target, key=kind):
            return False
        self._g.remove_edge(source, target, key=kind)
        if kind in SYMMETRIC_EDGES and self._g.has_edge(target, source, key=kind):
            self._g.remove_edge(target, source, key=kind)
        return True

    def has_edge(self, kind: EdgeKind, source: str, target: str) -> bool:
        """Whether the typed edge exists."""
        return bool(self._g.has_edge(source, target, key=EdgeKind(kind)))

    def successors(self, node_id: str, kind: EdgeKind) -> list[str]:
        """Targets of `kind` edges leaving a node, sorted."""
        self.get_node(node_id)
        kind = EdgeKind(kind)
        return sorted(v for _, v, k in self._g.out_edges(node_id, keys=True) if k == kind)

    def predecessors(self, node_id: str, kind: EdgeKind) -> list[str]:
        """Sources of `kind` edges entering a node, sorted."""
        self.get_node(node_id)
        kind = EdgeKind(kind)
        return sorted(u for u, _, k in self._g.in_edges(node_id, keys=True) if k == kind)

    def edges(self, kind: EdgeKind | None = None) -> Iterator[tuple[str, str, EdgeKind]]:
        """All edges as (source, target, kind), optionally of one kind."""
        for u, v, k in self._g.edges(keys=True):
            if kind is None or k == kind:
                yield u, v, EdgeKind(k)

    def num_edges(self, kind: EdgeKind | None = None) -> int:
        """Number of directed edges, of one kind or all."""
        return sum(1 for _ in self.edges(kind))

    # ------------------------------------------------------------- geometry
    def room_of(self, node_id: str) -> str | None:
        """The room containing a place or object, or None."""
        rooms = [u for u in self.predecessors(node_id, EdgeKind.CONTAINS)
                 if node_layer(u) is Layer.ROOM]
        return rooms[0] if rooms else None

    def find_room_at(self, x: float, y: float) -> str | None:
        """The room whose polygon contains (x, y), or None."""
        for room_id in self.rooms:
            if self.get_room(room_id).contains_xy(x, y):
                return room_id
        return None

    def objects_in(self, room_id: str) -> list[str]:
        """Objects contained by a room, sorted."""
        self.get_room(room_id)
        return [n for n in self.successors(room_id, EdgeKind.CONTAINS)
                if node_layer(n) is Layer.OBJECT]

    def places_in(self, room_id: str) -> list[str]:
        """Places contained by a room, sorted."""
        self.get_room(room_id)
        return [n for n in self.successors(room_id, EdgeKind.CONTAINS)
                if node_layer(n) is Layer.PLACE]

    def connect_places(self, a: str, b: str) -> bool:
        """Add a traversable edge whose `length_m` is the straight-line distance."""
        pa, pb = self.get_place(a).position_m, self.get_place(b).position_m
        return self.add_edge(EdgeKind.TRAVERSABLE, a, b, length_m=math.dist(pa, pb))

    def place_path(self, start: str, goal: str) -> tuple[list[str], float]:
        """Shortest traversable path between two places and its length in metres."""
        self.get_place(start)
        self.get_place(goal)
        sub = nx.Graph()
        sub.add_nodes_from(self.places)
        for u, v, _ in self.edges(EdgeKind.TRAVERSABLE):
            sub.add_edge(u, v, length_m=self._g.edges[u, v, EdgeKind.TRAVERSABLE]['length_m'])
        try:
            length, path = nx.single_source_dijkstra(sub, start, goal, weight='length_m')
        except nx.NetworkXNoPath:
            raise UnknownNodeError(f'no traversable path from {start!r} to {goal!r}') from None
        return list(path), float(length)

    def nearest_place(self, x: float, y: float) -> str | None:
        """The place closest to (x, y) in the plane, or None if there are none."""
        best, best_d = None, math.inf
        for place_id in self.places:
            px, py, _ = self.get_place(place_id).position_m
            d = math.hypot(px - x, py - y)
            if d < best_d:
                best, best_d = place_id, d
        return best

    # --------------------------------------------------------------- export
    def copy(self) -> SceneGraph:
        """A copy that shares the immutable attribute values."""
        out = SceneGraph.__new__(SceneGraph)
        out._g = self._g.copy()
        return out

    def to_networkx(self) -> nx.MultiDiGraph:
        """A copy of the underlying networkx graph (attributes under `attrs`)."""
        return self._g.copy()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description of the graph."""
        from dataclasses import asdict

        nodes = []
        for node_id, data in sorted(self._g.nodes(data=True)):
            entry = {'id': node_id, **_jsonable(asdict(data['attrs']))}
            if node_layer(node_id) is Layer.OBJECT:
                entry['room_id'] = self.room_of(node_id)
            nodes.append(entry)
        edges = []
        for u, v, k, data in sorted(self._g.edges(keys=True, data=True)):
            if k in SYMMETRIC_EDGES and u > v:
                continue
            if k == EdgeKind.CONTAINS:
                continue
            edges.append({'source': u, 'target': v, 'kind': str(k), **data})
        return {'nodes': nodes, 'edges': edges}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneGraph:
        """Rebuild a graph written by `to_dict`; raises `InvalidInputError` when malformed."""
        try:
            return cls._from_dict(data)
        except RobotMemoryError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise InvalidInputError(f'malformed scene graph ({type(exc).__name__}: {exc}); '
                                    'expected {"nodes": [...], "edges": [...]}') from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> SceneGraph:
        graph = cls()
        by_layer: dict[Layer, list[dict[str, Any]]] = {layer: [] for layer in Layer}
        for node in data['nodes']:
            by_layer[node_layer(node['id'])].append(node)
        for node in by_layer[Layer.BUILDING]:
            graph._g.nodes[Layer.BUILDING.value]['attrs'] = BuildingAttributes(node['name'])
        for node in by_layer[Layer.ROOM]:
            polygon = tuple(tuple(p) for p in node['polygon_m'])
            graph.add_room(node['id'], RoomAttributes(node['name'], node['category'], polygon))
        for node in by_layer[Layer.PLACE]:
            graph.add_place(node['id'],
                            PlaceAttributes(node['room_id'], tuple(node['position_m'])))
        for node in by_layer[Layer.OBJECT]:
            fields = {k: v for k, v in node.items() if k not in ('id', 'room_id')}
            fields['position_m'] = tuple(fields['position_m'])
            fields['extent_m'] = tuple(fields['extent_m'])
            graph.add_object(node['id'], ObjectAttributes(**fields), node.get('room_id'))
        for edge in data['edges']:
            extra = {k: v for k, v in edge.items() if k not in ('source', 'target', 'kind')}
            graph.add_edge(EdgeKind(edge['kind']), edge['source'], edge['target'], **extra)
        return graph

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SceneGraph) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = ', '.join(f'{layer.value}s={self.num_nodes(layer)}' for layer in Layer)
        return f'SceneGraph({counts}, edges={self.num_edges()})'


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value

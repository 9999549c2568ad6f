"""The memory's scene graph at one time, written for other tools: plain JSON or Spark-DSG.

`robot-memory export --db F --at T --format json|spark-dsg --out G.json`. Both carry the
world as `memory.at(T)` knew it: building → rooms → places → present objects, in the `map`
frame, with positions, names and the edges between them.

Spark-DSG (Hydra's scene-graph library, `spark_dsg` on PyPI, imported only here): the layers
are its BUILDINGS / ROOMS / PLACES / OBJECTS; node symbols 'B', 'R', 'p', 'O' numbered in id
order (the memory's ids are kept as each node's `name` and in the graph's metadata, so a
reader can map them back); rooms carry their polygon's bounding box; an object hangs under the
nearest place of its room (Hydra's places → objects), a place under its room, a room under
the building; room adjacency and place traversability are the intralayer edges; the class of
each object is a semantic label of a `Labelspace`. Memory keeps where an object is, not how
big it is (events record positions, not extents), so object boxes are points at the object's
position — `robot_memory_extent_known: false` in the metadata says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from robot_memory.core.clock import check_stamp
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.scene_graph import EdgeKind, ObjectAttributes, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.attributes import COLOUR_NAMES

__all__ = ['EXPORT_FORMATS', 'export_memory', 'graph_json', 'to_spark_dsg']

EXPORT_FORMATS = ('json', 'spark-dsg')
JSON_FORMAT = 'robot_memory.scene_graph'
JSON_VERSION = 1


def graph_json(memory: EpisodicMemory, at_s: float) -> dict[str, Any]:
    """The plain JSON export: the scene graph at `at_s` and each present object's facts."""
    view = memory.at(at_s)
    objects = {}
    for object_id, s in sorted(view.objects.items()):
        objects[object_id] = {
            'label': s.label, 'color': s.color, 'state': s.state, 'mobility': s.mobility,
            'position_m': list(s.position_m) if s.position_m else None, 'room': s.room_id,
            'support': list(s.support) if s.support else None, 'since_s': s.since_s,
            'last_seen_s': s.last_seen_s,
            'p_still_there': round(memory.p_still_there(object_id, at_s), 4)}
    return {'format': JSON_FORMAT, 'version': JSON_VERSION, 'frame_id': 'map',
            'at_s': at_s, 'at': memory.clock.local(at_s).isoformat(),
            'graph': view.scene_graph().to_dict(), 'objects': objects,
            'missing': sorted(view.missing)}


def _place_of(graph: SceneGraph, object_id: str, attrs: ObjectAttributes) -> str | None:
    """The nearest place in the object's room (the nearest anywhere when it has no room)."""
    room = graph.room_of(object_id)
    places = graph.places_in(room) if room else graph.places
    x, y = attrs.position_m[0], attrs.position_m[1]
    return min(places, key=lambda p: math.dist(graph.get_place(p).position_m[:2], (x, y)),
               default=None)


def to_spark_dsg(graph: SceneGraph, at_s: float, source: str = '') -> Any:
    """A `spark_dsg.DynamicSceneGraph` of `graph`; raises `InvalidInputError` without it."""
    try:
        import numpy as np
        import spark_dsg as dsg  # type: ignore[import-untyped]
    except ImportError:
        raise InvalidInputError('the spark-dsg format needs the spark_dsg package (pip install '
                                'spark-dsg==1.1.3; make test installs it)') from None
    out = dsg.DynamicSceneGraph()
    ids: dict[str, Any] = {}

    def add(layer: Any, letter: str, node_id: str, attrs: Any, index: int) -> None:
        symbol = dsg.NodeSymbol(letter, index)
        attrs.name = node_id
        out.add_node(layer, symbol, attrs)
        ids[node_id] = symbol

    building = dsg.SemanticNodeAttributes()
    building.position = np.zeros(3)
    add(dsg.DsgLayers.BUILDINGS, 'B', 'building', building, 0)
    for k, room_id in enumerate(sorted(graph.rooms)):
        room = graph.get_room(room_id)
        attrs = dsg.RoomNodeAttributes()
        cx, cy = room.centroid_m
        attrs.position = np.array([cx, cy, 0.0])
        if room.polygon_m:
            xs, ys = [p[0] for p in room.polygon_m], [p[1] for p in room.polygon_m]
            attrs.bounding_box = dsg.BoundingBox(
                np.array([max(xs) - min(xs), max(ys) - min(ys), 0.0], np.float32),
                np.array([(max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2, 0.0], np.float32))
        add(dsg.DsgLayers.ROOMS, 'R', room_id, attrs, k)
        out.insert_edge(ids['building'], ids[room_id])
    for k, place_id in enumerate(sorted(graph.places)):
        place = graph.get_place(place_id)
        attrs = dsg.PlaceNodeAttributes()
        attrs.position = np.array(place.position_m, dtype=float)
        add(dsg.DsgLayers.PLACES, 'p', place_id, attrs, k)
        if place.room_id in ids:
            out.insert_edge(ids[place.room_id], ids[place_id])
    labels = sorted({graph.get_object(o).label for o in graph.objects})
    label_ids = {label: i for i, label in enumerate(labels)}
    for k, object_id in enumerate(sorted(graph.objects)):
        obj = graph.get_object(object_id)
        attrs = dsg.ObjectNodeAttributes()
        attrs.position = np.array(obj.position_m, dtype=float)
        attrs.semantic_label = label_ids[obj.label]
        attrs.bounding_box = dsg.BoundingBox(np.zeros(3, np.float32),
                                             np.array(obj.position_m, np.float32))
        # The colour names perception reads (its reference shades); grey where none is known.
        attrs.color = np.array(COLOUR_NAMES.get(obj.color, COLOUR_NAMES['grey']), np.uint8)
        add(dsg.DsgLayers.OBJECTS, 'O', object_id, attrs, k)
        parent = _place_of(graph, object_id, obj) or graph.room_of(object_id)
        if parent is not None:
            out.insert_edge(ids[parent], ids[object_id])
    for kind in (EdgeKind.ADJACENT, EdgeKind.TRAVERSABLE):
        for a, b, _ in graph.edges(kind):
            if a in ids and b in ids and not out.has_edge(ids[a], ids[b]):
                out.insert_edge(ids[a], ids[b])
    # By name and by layer id: readers look a labelspace up either way.
    out.set_labelspace(dsg.Labelspace(dict(enumerate(labels))), dsg.DsgLayers.OBJECTS)
    out.set_labelspace(dsg.Labelspace(dict(enumerate(labels))),
                       out.get_layer_key(dsg.DsgLayers.OBJECTS).layer)
    out.metadata.add({'robot_memory': {
        'at_s': at_s, 'source': source, 'frame_id': 'map', 'extent_known': False,
        'node_ids': {str(symbol): node_id for node_id, symbol in ids.items()},
        'objects': {o: {'label': graph.get_object(o).label,
                        'color': graph.get_object(o).color,
                        'state': graph.get_object(o).state} for o in sorted(graph.objects)}}})
    return out


def export_memory(memory: EpisodicMemory, out: Path, fmt: str = 'json',
                  at_s: float | None = None, source: str = '') -> dict[str, Any]:
    """Write the memory at `at_s` (default: its latest time) to `out`; return a summary."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(f'unknown export format {fmt!r}; valid: '
                                f'{", ".join(EXPORT_FORMATS)}')
    t = memory.now_s if at_s is None else check_stamp(at_s, 'at')
    graph = memory.at(t).scene_graph()
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == 'json':
            out.write_text(json.dumps(graph_json(memory, t), indent=1), encoding='utf-8')
        else:
            to_spark_dsg(graph, t, source).save(str(out), include_mesh=False)
    except OSError as exc:
        raise InvalidInputError(f'cannot write {out}: {exc.strerror or exc}') from None
    return {'out': str(out), 'format': fmt, 'at_s': t, 'buildings': 1,
            'rooms': len(graph.rooms), 'places': len(graph.places),
            'objects': len(graph.objects)}

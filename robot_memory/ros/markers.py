"""Memory and planner state → visualization_msgs/MarkerArray for RViz.

Namespaces (each with ids unique within it): `rooms`, `room_names`, `places`, `place_edges`,
`objects`, `object_labels`, `relations`, `robot_path` (memory) and `candidate_goals`,
`candidate_labels`, `goal` (planner). Every array starts with DELETEALL, so markers of
objects memory no longer holds disappear. Stamps are zero: RViz then draws them in the fixed
frame whatever the clock (simulated time and wall time differ).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from robot_memory.core.planner import Decision
from robot_memory.core.scene_graph import EdgeKind, SceneGraph

if TYPE_CHECKING:  # the planner node draws markers without loading the mapping pipeline
    from robot_memory.service import ObjectMarker

__all__ = ['MEMORY_NAMESPACES', 'PLANNER_NAMESPACES', 'memory_markers', 'planner_markers',
           'staleness_color']

MEMORY_NAMESPACES = ('rooms', 'room_names', 'places', 'place_edges', 'objects',
                     'object_labels', 'relations', 'robot_path')
PLANNER_NAMESPACES = ('candidate_goals', 'candidate_labels', 'goal')
_ROOM_PALETTE = ((0.35, 0.55, 0.95), (0.95, 0.6, 0.25), (0.45, 0.8, 0.45), (0.8, 0.45, 0.8),
                 (0.9, 0.85, 0.3), (0.4, 0.8, 0.85), (0.85, 0.4, 0.4), (0.6, 0.6, 0.6))


def _rgba(r: float, g: float, b: float, a: float = 1.0) -> ColorRGBA:
    return ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a))


def staleness_color(p_still_there: float) -> ColorRGBA:
    """Colour a belief: green when fresh, through yellow, to red when stale."""
    p = min(max(float(p_still_there), 0.0), 1.0)
    return _rgba(min(1.0, 2.0 * (1.0 - p)), min(1.0, 2.0 * p), 0.1, 0.85)


def _point(x: float, y: float, z: float) -> Point:
    return Point(x=float(x), y=float(y), z=float(z))


def _marker(frame_id: str, ns: str, marker_id: int, kind: int) -> Marker:
    m = Marker(ns=ns, id=marker_id, type=kind, action=Marker.ADD)
    m.header.frame_id = frame_id
    m.header.stamp = Time()
    m.pose.orientation.w = 1.0
    return m


def _delete_all(frame_id: str) -> Marker:
    m = Marker(action=Marker.DELETEALL)
    m.header.frame_id = frame_id
    return m


def memory_markers(layout: SceneGraph, objects: Sequence[ObjectMarker],
                   relations: Iterable[tuple[str, str, str]],
                   robot_path_m: Sequence[tuple[float, float, float]],
                   frame_id: str = 'map') -> MarkerArray:
    """Rooms, places, objects coloured by staleness, relation edges and the robot path."""
    out: list[Marker] = [_delete_all(frame_id)]
    for i, room_id in enumerate(layout.rooms):
        room = layout.get_room(room_id)
        colour = _ROOM_PALETTE[i % len(_ROOM_PALETTE)]
        if len(room.polygon_m) >= 3:
            outline = _marker(frame_id, 'rooms', i, Marker.LINE_STRIP)
            outline.scale.x = 0.05
            outline.color = _rgba(*colour, 0.9)
            outline.points = [_point(x, y, 0.02) for x, y in (*room.polygon_m, room.polygon_m[0])]
            out.append(outline)
        name = _marker(frame_id, 'room_names', i, Marker.TEXT_VIEW_FACING)
        cx, cy = room.centroid_m
        name.pose.position = _point(cx, cy, 2.2)
        name.scale.z = 0.4
        name.color = _rgba(*colour)
        name.text = room.name
        out.append(name)
    places = layout.places
    if places:
        dots = _marker(frame_id, 'places', 0, Marker.SPHERE_LIST)
        dots.scale.x = dots.scale.y = dots.scale.z = 0.15
        dots.color = _rgba(0.2, 0.4, 1.0, 0.8)
        dots.points = [_point(*layout.get_place(p).position_m[:2], 0.05) for p in places]
        out.append(dots)
        edges = _marker(frame_id, 'place_edges', 0, Marker.LINE_LIST)
        edges.scale.x = 0.02
        edges.color = _rgba(0.2, 0.4, 1.0, 0.5)
        for a, b, _ in layout.edges(EdgeKind.TRAVERSABLE):
            if a < b:  # traversable edges are stored both ways
                edges.points += [_point(*layout.get_place(a).position_m[:2], 0.05),
                                 _point(*layout.get_place(b).position_m[:2], 0.05)]
        if edges.points:
            out.append(edges)
    position: dict[str, tuple[float, float, float]] = {}
    for i, obj in enumerate(objects):
        position[obj.object_id] = obj.position_m
        cube = _marker(frame_id, 'objects', i, Marker.CUBE)
        cube.pose.position = _point(*obj.position_m)
        cube.scale.x, cube.scale.y, cube.scale.z = (max(float(e), 0.03) for e in obj.extent_m)
        cube.color = staleness_color(obj.p_still_there)
        cube.text = obj.object_id
        out.append(cube)
        label = _marker(frame_id, 'object_labels', i, Marker.TEXT_VIEW_FACING)
        x, y, z = obj.position_m
        label.pose.position = _point(x, y, z + max(float(obj.extent_m[2]), 0.1) / 2 + 0.12)
        label.scale.z = 0.12
        label.color = staleness_color(obj.p_still_there)
        label.text = f'{obj.label} {obj.p_still_there:.0%}'
        out.append(label)
    links = _marker(frame_id, 'relations', 0, Marker.LINE_LIST)
    links.scale.x = 0.015
    links.color = _rgba(1.0, 1.0, 1.0, 0.7)
    for source, target, _ in relations:
        if source in position and target in position:
            links.points += [_point(*position[source]), _point(*position[target])]
    if links.points:
        out.append(links)
    if len(robot_path_m) >= 2:
        path = _marker(frame_id, 'robot_path', 0, Marker.LINE_STRIP)
        path.scale.x = 0.03
        path.color = _rgba(1.0, 0.5, 0.0, 0.9)
        path.points = [_point(x, y, z) for x, y, z in robot_path_m]
        out.append(path)
    return MarkerArray(markers=out)


def planner_markers(decision: Decision | None, layout: SceneGraph,
                    goal_place: str | None = None, frame_id: str = 'map') -> MarkerArray:
    """The planner's candidate places sized by net value, and its current goal."""
    out: list[Marker] = [_delete_all(frame_id)]
    candidates = decision.candidates if decision is not None else ()
    best = max((v - c for _, v, c in candidates), default=0.0)
    for i, (place, value, cost) in enumerate(candidates):
        if not layout.has_node(place):
            continue
        x, y, _ = layout.get_place(place).position_m
        net = value - cost
        share = net / best if best > 0 else 0.0
        dot = _marker(frame_id, 'candidate_goals', i, Marker.CYLINDER)
        dot.pose.position = _point(x, y, 0.05)
        dot.scale.x = dot.scale.y = 0.2 + 0.4 * max(share, 0.0)
        dot.scale.z = 0.05
        dot.color = _rgba(0.2, 0.9, 0.9, 0.8) if net > 0 else _rgba(0.5, 0.5, 0.5, 0.5)
        out.append(dot)
        text = _marker(frame_id, 'candidate_labels', i, Marker.TEXT_VIEW_FACING)
        text.pose.position = _point(x, y, 0.5)
        text.scale.z = 0.15
        text.color = _rgba(0.2, 0.9, 0.9)
        text.text = f'{place.split(":", 1)[-1]} {net:+.3f}'
        out.append(text)
    if goal_place is not None and layout.has_node(goal_place):
        x, y, _ = layout.get_place(goal_place).position_m
        arrow = _marker(frame_id, 'goal', 0, Marker.ARROW)
        arrow.points = [_point(x, y, 1.2), _point(x, y, 0.1)]
        arrow.scale.x, arrow.scale.y, arrow.scale.z = 0.08, 0.16, 0.2
        arrow.color = _rgba(1.0, 0.2, 0.8)
        out.append(arrow)
    return MarkerArray(markers=out)

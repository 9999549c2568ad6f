"""Tests of the RViz markers built from memory and planner state (no node is spun)."""

from __future__ import annotations

from collections import Counter

import pytest

pytest.importorskip('visualization_msgs.msg', reason='ROS 2 message packages are not installed')

from visualization_msgs.msg import Marker

from robot_memory.core.planner import Decision
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.ros.markers import (
    MEMORY_NAMESPACES,
    PLANNER_NAMESPACES,
    memory_markers,
    planner_markers,
    staleness_color,
)
from robot_memory.service import ObjectMarker


def _objects() -> list[ObjectMarker]:
    return [ObjectMarker('object:000001', 'mug', (1.0, 1.0, 0.8), (0.1, 0.1, 0.1),
                         'room:kitchen', 0.95, 'object:000002'),
            ObjectMarker('object:000002', 'table', (1.0, 1.2, 0.4), (1.0, 0.8, 0.8),
                         'room:kitchen', 0.2, None)]


def _check_well_formed(markers: list[Marker], namespaces: tuple[str, ...]) -> None:
    assert markers[0].action == Marker.DELETEALL
    body = markers[1:]
    assert all(m.header.frame_id == 'map' for m in markers)
    keys = Counter((m.ns, m.id) for m in body)
    assert all(n == 1 for n in keys.values()), keys
    assert {m.ns for m in body} <= set(namespaces)


def test_memory_markers_draw_every_layer_with_unique_ids(two_room_graph: SceneGraph) -> None:
    array = memory_markers(two_room_graph, _objects(),
                           [('object:000001', 'object:000002', 'supported_by')],
                           [(0.0, 0.0, 0.05), (1.0, 0.0, 0.05), (2.0, 1.0, 0.05)])
    markers = list(array.markers)
    _check_well_formed(markers, MEMORY_NAMESPACES)
    by_ns = Counter(m.ns for m in markers[1:])
    assert by_ns == {'rooms': 2, 'room_names': 2, 'places': 1, 'place_edges': 1,
                     'objects': 2, 'object_labels': 2, 'relations': 1, 'robot_path': 1}
    labels = [m.text for m in markers if m.ns == 'object_labels']
    assert labels == ['mug 95%', 'table 20%']
    edges = next(m for m in markers if m.ns == 'place_edges')
    assert len(edges.points) == 2  # one traversable edge, stored both ways, drawn once


def test_staleness_goes_from_green_to_red() -> None:
    fresh, stale = staleness_color(1.0), staleness_color(0.0)
    assert fresh.g > fresh.r and stale.r > stale.g
    assert staleness_color(2.0) == fresh  # clamped


def test_empty_memory_gives_only_the_clearing_marker() -> None:
    assert [m.action for m in memory_markers(SceneGraph(), [], [], []).markers] == [
        Marker.DELETEALL]


def test_planner_markers_show_candidates_and_the_goal(two_room_graph: SceneGraph) -> None:
    decision = Decision('place:kitchen/0', 0.3, 0.04, 0.4, 'worth a look',
                        (('place:kitchen/0', 0.3, 0.04), ('place:study/0', 0.1, 0.2)))
    markers = list(planner_markers(decision, two_room_graph, 'place:kitchen/0').markers)
    _check_well_formed(markers, PLANNER_NAMESPACES)
    assert Counter(m.ns for m in markers[1:]) == {'candidate_goals': 2,
                                                  'candidate_labels': 2, 'goal': 1}
    assert [m.text for m in markers if m.ns == 'candidate_labels'] == [
        'kitchen/0 +0.260', 'study/0 -0.100']

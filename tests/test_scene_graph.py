"""Tests of the layered scene graph."""

from __future__ import annotations

import pytest

from robot_memory.core import EdgeKind, Layer, ObjectAttributes, RoomAttributes, SceneGraph
from robot_memory.core.scene_graph import node_layer, point_in_polygon
from robot_memory.exceptions import InvalidInputError, UnknownNodeError


def test_rooms_hang_under_the_building(two_room_graph: SceneGraph) -> None:
    assert two_room_graph.successors('building', EdgeKind.CONTAINS) == [
        'room:kitchen', 'room:study']
    assert two_room_graph.num_nodes(Layer.ROOM) == 2


def test_add_returns_false_for_an_existing_node(two_room_graph: SceneGraph) -> None:
    again = RoomAttributes('kitchen', 'kitchen')
    assert two_room_graph.add_room('room:kitchen', again) is False


def test_lookups_come_in_three_forms(two_room_graph: SceneGraph) -> None:
    assert two_room_graph.has_node('room:study')
    assert two_room_graph.find_node('room:attic') is None
    with pytest.raises(UnknownNodeError, match="no room 'room:attic'; known: room:kitchen"):
        two_room_graph.get_room('room:attic')


def test_node_ids_must_name_their_layer(two_room_graph: SceneGraph) -> None:
    with pytest.raises(InvalidInputError, match="'place:x' is not a room id"):
        two_room_graph.add_room('place:x', RoomAttributes('x', 'x'))
    with pytest.raises(InvalidInputError, match="unknown layer 'attic'"):
        node_layer('attic:1')


def test_symmetric_edges_are_stored_both_ways(two_room_graph: SceneGraph) -> None:
    assert two_room_graph.has_edge(EdgeKind.ADJACENT, 'room:study', 'room:kitchen')
    assert two_room_graph.remove_edge(EdgeKind.ADJACENT, 'room:study', 'room:kitchen')
    assert not two_room_graph.has_edge(EdgeKind.ADJACENT, 'room:kitchen', 'room:study')


def test_edges_join_only_the_layers_their_kind_allows(two_room_graph: SceneGraph) -> None:
    with pytest.raises(InvalidInputError, match='a traversable edge cannot join room'):
        two_room_graph.add_edge(EdgeKind.TRAVERSABLE, 'room:kitchen', 'room:study')


def test_place_path_follows_traversable_edges(two_room_graph: SceneGraph) -> None:
    path, length = two_room_graph.place_path('place:kitchen/0', 'place:study/0')
    assert path == ['place:kitchen/0', 'place:study/0']
    assert length == pytest.approx(4.0)


def test_a_missing_path_raises(two_room_graph: SceneGraph) -> None:
    two_room_graph.remove_edge(EdgeKind.TRAVERSABLE, 'place:kitchen/0', 'place:study/0')
    with pytest.raises(UnknownNodeError, match='no traversable path'):
        two_room_graph.place_path('place:kitchen/0', 'place:study/0')


def test_objects_and_their_relations(two_room_graph: SceneGraph) -> None:
    table = ObjectAttributes('table', (2.0, 2.0, 0.4), mobility='furniture')
    mug = ObjectAttributes('mug', (2.0, 2.0, 0.8), color='red')
    assert two_room_graph.add_object('object:table', table, 'room:kitchen')
    assert two_room_graph.add_object('object:mug', mug, 'room:kitchen')
    assert two_room_graph.add_edge(EdgeKind.SUPPORTED_BY, 'object:mug', 'object:table')
    assert two_room_graph.objects_in('room:kitchen') == ['object:mug', 'object:table']
    assert two_room_graph.room_of('object:mug') == 'room:kitchen'
    assert two_room_graph.successors('object:mug', EdgeKind.SUPPORTED_BY) == ['object:table']


def test_room_lookup_by_point(two_room_graph: SceneGraph) -> None:
    assert two_room_graph.find_room_at(5.0, 1.0) == 'room:study'
    assert two_room_graph.find_room_at(9.0, 1.0) is None
    assert two_room_graph.nearest_place(5.5, 2.0) == 'place:study/0'


@pytest.mark.parametrize(('x', 'y', 'inside'),
                         [(0.5, 0.5, True), (1.5, 1.5, False), (0.5, 1.5, True)])
def test_point_in_an_l_shaped_polygon(x: float, y: float, inside: bool) -> None:
    ell = ((0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2))
    assert point_in_polygon(x, y, ell) is inside


def test_dict_round_trip_keeps_everything(two_room_graph: SceneGraph) -> None:
    two_room_graph.add_object('object:mug', ObjectAttributes('mug', (1.0, 1.0, 0.8)),
                              'room:kitchen')
    again = SceneGraph.from_dict(two_room_graph.to_dict())
    assert again == two_room_graph
    assert again.room_of('object:mug') == 'room:kitchen'


def test_removing_a_node_removes_its_edges(two_room_graph: SceneGraph) -> None:
    assert two_room_graph.remove_node('place:study/0')
    assert two_room_graph.num_edges(EdgeKind.TRAVERSABLE) == 0
    assert two_room_graph.remove_node('place:study/0') is False

"""Tests of the place graph, paths and patrol choice."""

from __future__ import annotations

import itertools
import math

import pytest

from robot_memory.exceptions import InvalidInputError, UnknownNodeError
from robot_memory.sim.navigation import Navigator
from robot_memory.sim.world import World


@pytest.mark.parametrize('kind', ['apartment', 'house', 'office'])
@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_every_room_is_reachable_on_the_place_graph(kind, seed):
    world = World.generate(seed, kind)
    nav = Navigator(world)
    assert nav.reachable_rooms() == {r.name for r in world.rooms}
    graph = world.scene_graph()
    for room in world.rooms:
        path, length = graph.place_path(nav.dock, nav.view_place(room.name))
        assert path[0] == nav.dock and length >= 0.0


def test_path_length_is_the_sum_of_its_edges_and_at_least_the_straight_line():
    world = World.generate(1, 'house')
    nav = Navigator(world)
    rooms = [r.name for r in world.rooms]
    a, b = nav.view_place(rooms[1]), nav.view_place(rooms[-1])
    path, length = nav.path(a, b)
    pos = [world.place(p).position_m for p in path]
    assert length == pytest.approx(sum(math.dist(p, q) for p, q in itertools.pairwise(pos)))
    assert length >= math.dist(pos[0], pos[-1]) - 1e-9
    assert world.scene_graph().place_path(a, b)[1] == pytest.approx(length)


def test_paths_between_rooms_pass_through_door_places():
    world = World.generate(0, 'apartment')
    nav = Navigator(world)
    dock_room = world.place(nav.dock).room
    for room in (r.name for r in world.rooms if r.name != dock_room):
        path, _ = nav.path(nav.dock, nav.view_place(room))
        rooms_on_path = [world.place(p).room for p in path]
        changes = [i for i in range(1, len(path)) if rooms_on_path[i] != rooms_on_path[i - 1]]
        assert changes, f'the path to the {room} never leaves the {dock_room}'
        for i in changes:
            assert world.place(path[i - 1]).door >= 0 and world.place(path[i]).door >= 0


@pytest.mark.parametrize('fraction', [0.3, 0.6, 1.0])
def test_patrol_covers_the_configured_fraction_of_rooms(fraction):
    world = World.generate(2, 'house')
    nav = Navigator(world)
    rooms = nav.patrol_rooms(seed=2, day=0, session=0, fraction=fraction)
    assert len(rooms) == max(1, round(fraction * len(world.rooms)))
    assert len(set(rooms)) == len(rooms)


def test_patrol_rooms_are_deterministic_and_vary_by_day():
    nav = Navigator(World.generate(2, 'house'))
    assert nav.patrol_rooms(2, 0, 0, 0.6) == nav.patrol_rooms(2, 0, 0, 0.6)
    assert len({tuple(nav.patrol_rooms(2, d, 0, 0.6)) for d in range(7)}) > 1


def test_tour_visits_each_chosen_room_once():
    world = World.generate(3, 'office')
    nav = Navigator(world)
    rooms = nav.patrol_rooms(3, 1, 0, 0.6)
    tour = nav.tour(nav.dock, rooms)
    assert sorted(world.place(p).room for p in tour) == sorted(rooms)


def test_unknown_place_is_a_named_error():
    nav = Navigator(World.generate(0, 'apartment'))
    with pytest.raises(UnknownNodeError, match="no place 'place:attic/0'"):
        nav.path(nav.dock, 'place:attic/0')
    with pytest.raises(InvalidInputError, match="unknown room 'attic'"):
        nav.view_place('attic')

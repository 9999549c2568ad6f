"""Tests of the procedural world generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from robot_memory.core.scene_graph import EdgeKind
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.activity import ActivityModel
from robot_memory.sim.clock import sim_time
from robot_memory.sim.world import OBJECT_CATALOG, ROOM_CATEGORIES, World

WORLDS = Path(__file__).resolve().parents[1] / 'sim' / 'worlds'


def _truth_hash(seed: int, days: int = 3) -> str:
    model = ActivityModel(World.generate(seed, 'apartment'), seed=seed)
    model.advance_to(sim_time(days))
    return model.truth.hash()


def test_same_seed_gives_identical_ground_truth_hash():
    assert _truth_hash(5) == _truth_hash(5)


def test_different_seed_gives_different_ground_truth_hash():
    assert _truth_hash(5) != _truth_hash(6)


@pytest.mark.parametrize(('kind', 'lo', 'hi'), [
    ('apartment', 4, 6), ('house', 8, 12), ('office', 6, 10),
])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_world_kinds_have_their_room_and_object_counts(kind, lo, hi, seed):
    world = World.generate(seed, kind)
    assert lo <= len(world.rooms) <= hi
    assert 50 <= len(world.initial_state.objects) <= 300
    assert {r.category for r in world.rooms} <= set(ROOM_CATEGORIES)
    assert any(r.category == 'hallway' for r in world.rooms)


def test_several_instances_of_a_class_have_different_colours():
    world = World.generate(0, 'apartment')
    mugs = [o for o in world.initial_state.objects.values() if o.cls == 'mug']
    backpacks = [o for o in world.initial_state.objects.values() if o.cls == 'backpack']
    assert len(mugs) >= 3 and len(backpacks) >= 2
    assert len({m.color for m in mugs[:3]}) == 3
    assert len({b.color for b in backpacks[:2]}) == 2


def test_objects_rest_on_their_support_in_a_free_slot():
    world = World.generate(1, 'house')
    state = world.initial_state
    assert len(state.occupied) == len(state.placements)
    for obj_id, placement in state.placements.items():
        support = world.supports[placement.support_id]
        obj = state.objects[obj_id]
        assert placement.room == support.room
        assert placement.position_m[2] == pytest.approx(support.object_z(obj.size_m[2]), abs=1e-3)
        sx, sy = support.slots[placement.slot]
        assert abs(placement.position_m[0] - sx) <= 0.03 + 1e-9
        assert abs(placement.position_m[1] - sy) <= 0.03 + 1e-9


def test_objects_have_class_colour_state_and_mobility():
    world = World.generate(2, 'apartment')
    state = world.initial_state
    mobilities = {o.mobility for o in state.objects.values()}
    assert mobilities <= {'movable', 'static'} and 'movable' in mobilities
    for obj_id, obj in state.objects.items():
        assert obj_id.startswith(f'obj:{obj.cls}_')
        assert obj.color in OBJECT_CATALOG[obj.cls].colors
        assert state.placements[obj_id].state in (obj.states or ('',))
    assert any(p.state in ('open', 'closed', 'on', 'off') for p in state.placements.values())


def test_furniture_stays_inside_its_room():
    world = World.generate(3, 'house')
    for furn in world.furniture:
        room = world.room(furn.room)
        (x0, y0, _), (x1, y1, _) = furn.box_m
        assert room.contains(x0, y0) and room.contains(x1, y1)
        assert furn.furn_id.startswith(f'furn:{furn.cls}_')


@pytest.mark.parametrize('name', ['apartment', 'house', 'office'])
def test_yaml_specs_build_the_rooms_they_list(name):
    world = World.named(str(WORLDS / f'{name}.yaml'), seed=0)
    listed = {r['name'] for r in world.spec['rooms']} | {'hallway'}
    assert {r.name for r in world.rooms} == listed
    assert len(world.initial_state.objects) == world.spec['objects']['count']


def test_scene_graph_has_rooms_places_and_door_adjacency():
    world = World.generate(0, 'apartment')
    graph = world.scene_graph()
    assert graph.rooms == sorted(r.room_id for r in world.rooms)
    for door in world.doors:
        assert graph.has_edge(EdgeKind.ADJACENT, f'room:{door.room_a}', f'room:{door.room_b}')
    for place in world.places:
        assert place.place_id.startswith(f'place:{place.room}/')
        assert graph.room_of(place.place_id) == f'room:{place.room}'
        assert graph.find_room_at(place.position_m[0], place.position_m[1]) == \
            f'room:{place.room}'
    assert graph.objects == []


def test_unknown_world_kind_names_the_valid_ones():
    with pytest.raises(InvalidInputError, match=r"unknown world 'castle'; valid: apartment, "
                                                r'house, office or a path to a \.yaml spec'):
        World.named('castle', 0)


def test_too_many_objects_for_the_slots_is_an_error():
    spec = {'kind': 'tiny', 'rooms': [{'name': 'bathroom', 'category': 'bathroom'}],
            'objects': {'count': 10_000}}
    with pytest.raises(InvalidInputError, match=r'objects\.count=10000 does not fit'):
        World(spec, seed=0)

"""Household days for Habitat scenes without habitat-sim: the scene's furniture as a sim world
that the activity model runs on (the rigid objects are tested in test_habitat_real.py)."""

from __future__ import annotations

import pytest

from robot_memory.core import SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.activity import ActivityConfig, ActivityModel
from robot_memory.sim.clock import SIM_EPOCH_S
from robot_memory.sim.habitat_days import SceneFurniture, scene_world

DAY_S = 86400.0


FURNITURE = [
    SceneFurniture(1, 'counter', (0.2, 0.2, 0.0), (2.6, 0.8, 0.9)),  # in the catalogue
    SceneFurniture(2, 'table', (5.0, 1.0, 0.0), (6.2, 1.8, 0.75)),  # a flat top: a support
    SceneFurniture(3, 'refrigerator', (3.0, 0.2, 0.0), (3.7, 0.9, 1.9)),  # too tall: none
    SceneFurniture(4, 'sofa', (6.0, 3.0, 0.0), (7.9, 3.9, 0.45)),
    SceneFurniture(5, 'lamp', (20.0, 20.0, 0.0), (20.3, 20.3, 1.6)),  # in no room: left out
]


def test_the_scene_furniture_becomes_supports_and_holds_objects(two_room_graph: SceneGraph
                                                                ) -> None:
    world = scene_world(two_room_graph, FURNITURE, seed=3, objects=20)
    by_id = {f.furn_id: f for f in world.furniture}
    assert sorted(by_id) == ['habitat:1', 'habitat:2', 'habitat:3', 'habitat:4']
    assert by_id['habitat:3'].support.slots == ()  # in the truth, but nothing rests on it
    assert by_id['habitat:2'].support.z_m == 0.75 and by_id['habitat:2'].room == 'study'
    assert 5 <= len(world.initial_state.objects) <= 20
    for placement in world.initial_state.placements.values():
        assert placement.support_id in ('habitat:1', 'habitat:2', 'habitat:4')
    assert [p.place_id for p in world.places] == ['place:kitchen/0', 'place:study/0']


def test_the_activity_model_runs_on_it_and_is_deterministic(two_room_graph: SceneGraph) -> None:
    def days(seed: int) -> tuple[str, int]:
        world = scene_world(two_room_graph, FURNITURE, seed, 20)
        model = ActivityModel(world, ActivityConfig(), seed)
        model.advance_to(SIM_EPOCH_S + 3 * DAY_S)
        return model.truth.hash(), len(model.events)

    first, events = days(5)
    assert events > 10
    assert days(5) == (first, events)
    assert days(6)[0] != first


def test_a_scene_without_surfaces_cannot_hold_objects(two_room_graph: SceneGraph) -> None:
    with pytest.raises(InvalidInputError, match='no room for objects'):
        scene_world(two_room_graph, FURNITURE[2:3], seed=0, objects=10)


def test_a_habitat_backend_without_habitat_sim_is_one_clear_error() -> None:
    try:
        import habitat_sim  # noqa: F401
        pytest.skip('habitat-sim is installed here')
    except ImportError:
        pass
    from robot_memory.sim.habitat_days import household_sim

    assert household_sim('builtin', '', 0) is None
    with pytest.raises(InvalidInputError, match='conda install habitat-sim'):
        household_sim('habitat', 'house.glb', 0)
    with pytest.raises(InvalidInputError, match="backend 'unreal'"):
        household_sim('unreal', 'house.glb', 0)
    with pytest.raises(InvalidInputError, match='no detector model'):
        household_sim('habitat', 'house.glb', 0, detector='realistic')

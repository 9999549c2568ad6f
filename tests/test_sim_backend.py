"""Tests of the `SimBackend` protocol and the built-in simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip('open3d', reason='open3d is needed for the raycasting renderer')

from robot_memory.core.types import Frame
from robot_memory.exceptions import InvalidInputError, UnknownNodeError
from robot_memory.sim.backend import BuiltinSim, SimBackend, SimConfig
from robot_memory.sim.clock import SIM_EPOCH_S, hour_of, sim_time
from robot_memory.sim.renderer import CameraConfig

SMALL = CameraConfig(width=160, height=120)


@pytest.fixture()
def sim() -> BuiltinSim:
    return BuiltinSim(SimConfig(seed=1, camera=SMALL))


def test_builtin_sim_satisfies_the_protocol_and_is_a_context_manager():
    with BuiltinSim(seed=0, camera=SMALL) as sim:
        assert isinstance(sim, SimBackend)
        assert sim.now_s == SIM_EPOCH_S


def test_go_to_advances_the_clock_by_travel_and_turn_time(sim):
    room = next(r.name for r in sim.world.rooms if r.name != 'hallway')
    goal = sim.navigator.view_place(room)
    before = sim.now_s
    result = sim.go_to(goal)
    assert result.path[0] == sim.navigator.dock and result.path[-1] == goal
    travel = result.distance_m / sim.config.speed_mps
    assert result.duration_s >= travel - 1e-6
    assert result.duration_s <= travel + len(result.path) * math.pi / sim.config.turn_rate_rad_s
    assert sim.now_s == pytest.approx(before + result.duration_s)
    assert sim.place_id == goal
    assert sim.pose.position_m[:2] == pytest.approx(sim.world.place(goal).position_m[:2])
    assert len(result.frames) == int(result.distance_m / sim.config.capture_every_m + 1e-9)


def test_go_to_without_capture_returns_no_frames(sim):
    goal = sim.navigator.view_place(sim.world.rooms[-1].name)
    assert sim.go_to(goal, capture=False).frames == []


def test_go_to_an_unknown_place_is_a_named_error(sim):
    with pytest.raises(UnknownNodeError, match="no place 'place:garage/0'"):
        sim.go_to('place:garage/0')


def test_frames_carry_shuffled_segments_labels_and_no_ground_truth(sim):
    frames = sim.look_around(4)
    assert len(frames) == 4
    for frame in frames:
        assert isinstance(frame, Frame)
        ids = set(np.unique(frame.segments).tolist()) - {0}
        assert ids == set(frame.labels)
        assert frame.segments.dtype == np.int32 and frame.rgb.shape == (120, 160, 3)
        assert frame.intrinsics == sim.intrinsics
    truth = sim.last_frame_truth()
    assert set(truth) == set(frames[-1].labels)
    assert all(v.startswith(('obj:', 'furn:')) for v in truth.values())
    assert [f.frame_index for f in frames] == sorted(f.frame_index for f in frames)


def test_segment_ids_are_not_stable_across_frames(sim):
    a, b = sim.observe(), sim.observe()
    ta = sim.last_frame_truth()
    sim.observe()
    assert np.array_equal(a.segments > 0, b.segments > 0)
    assert len(ta) < 3 or any(not np.array_equal(a.segments, f.segments)
                              for f in (b, sim.observe()))


def test_camera_is_pitched_down_at_the_configured_height(sim):
    frame = sim.observe()
    z_axis = frame.map_T_camera[:3, 2]
    assert frame.map_T_camera[2, 3] == pytest.approx(SMALL.height_m)
    assert math.degrees(math.asin(-z_axis[2])) == pytest.approx(SMALL.pitch_deg)
    yaw = sim.pose.yaw_rad
    assert z_axis[:2] / np.linalg.norm(z_axis[:2]) == pytest.approx([math.cos(yaw),
                                                                     math.sin(yaw)])


def test_look_around_turns_a_full_circle_in_equal_steps(sim):
    start = sim.now_s
    yaw0 = sim.pose.yaw_rad
    sim.look_around(8)
    assert math.remainder(sim.pose.yaw_rad - yaw0 - 7 * math.tau / 8, math.tau) == \
        pytest.approx(0.0, abs=1e-9)
    assert sim.now_s - start == pytest.approx(7 * (math.tau / 8) / sim.config.turn_rate_rad_s)


def test_step_runs_the_activity_model(sim):
    sim.step(sim_time(1) - sim.now_s)
    assert sim.activity.events and sim.truth.num_intervals() > len(sim.world.initial_state.objects)
    with pytest.raises(InvalidInputError, match='dt_s must be ≥ 0'):
        sim.step(-1.0)


def test_patrol_day_runs_two_sessions_over_the_configured_share_of_rooms():
    sim = BuiltinSim(SimConfig(seed=2, camera=SMALL, look_around_views=4))
    frames = list(sim.patrol_day(0))
    hours = sorted({int(hour_of(f.stamp_s)) for f in frames})
    assert hours[0] == 9 and 19 in hours
    visited = {sim.world.room_at(*f.map_T_camera[:2, 3]).name for f in frames}
    chosen = set(sim.navigator.patrol_rooms(2, 0, 0, 0.6)) | set(
        sim.navigator.patrol_rooms(2, 0, 1, 0.6))
    assert chosen <= visited
    assert sim.place_id == sim.navigator.dock


def test_reset_with_the_same_seed_replays_the_same_frames():
    a = BuiltinSim(seed=4, camera=SMALL)
    first = [f.rgb for f in a.look_around(3)]
    a.reset(4)
    again = [f.rgb for f in a.look_around(3)]
    assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))


def test_scene_graph_has_rooms_and_places_but_no_objects(sim):
    graph = sim.scene_graph()
    assert len(graph.rooms) == len(sim.world.rooms)
    assert len(graph.places) == len(sim.world.places)
    assert graph.objects == []

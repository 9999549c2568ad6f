"""Tests of the simulator boundary: the `SimBackend` abstract base and the backends under it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from robot_memory.sim.backend import BuiltinSim
from robot_memory.sim.base import NavResult, SimBackend
from robot_memory.sim.habitat import HabitatSim

# What the ROS bridge, bringup and the evaluators call on a simulator.
BOUNDARY = {
    'reset', 'close', 'now_s', 'pose', 'place_id', 'intrinsics', 'scene_graph', 'step', 'go_to',
    'teleport', 'look_around', 'observe', 'patrol_day', 'last_frame_truth', 'frame_truth',
    'truth', 'world',
}


def test_the_base_declares_every_call_made_on_a_backend() -> None:
    assert SimBackend.__abstractmethods__ == BOUNDARY


@pytest.mark.parametrize('backend', [BuiltinSim, HabitatSim])
def test_each_backend_implements_the_whole_boundary(backend: type[SimBackend]) -> None:
    assert issubclass(backend, SimBackend)
    assert backend.__abstractmethods__ == frozenset()


def test_a_backend_that_leaves_a_method_out_fails_at_construction() -> None:
    class Partial(SimBackend):
        def reset(self, seed: int | None = None) -> None:
            pass

        def close(self) -> None:
            pass

        def patrol_day(self, day: int) -> Iterator[object]:  # type: ignore[override]
            yield from ()

    with pytest.raises(TypeError, match=r'abstract method.*\bgo_to\b'):
        Partial()  # type: ignore[abstract]


def test_nav_result_is_the_same_type_from_the_old_module() -> None:
    from robot_memory.sim import backend

    assert backend.NavResult is NavResult and backend.SimBackend is SimBackend


def test_make_backend_returns_a_sim_backend() -> None:
    pytest.importorskip('rclpy')
    pytest.importorskip('open3d', reason='the built-in simulator needs open3d')
    from robot_memory.ros.params import SimBridgeParams
    from robot_memory.ros.sim_bridge_node import make_backend

    with make_backend(SimBridgeParams(width_px=64, height_px=48)) as sim:
        assert isinstance(sim, SimBackend)
        assert sim.scene_graph().places

"""The simulator boundary: `SimBackend`, the abstract base every backend subclasses.

As habitat-lab's `Simulator`, the base declares once what the memory stack, the ROS bridge
(`ros/sim_bridge_node.py`) and the evaluators (`eval/`) call on a simulator: the lifecycle
(`reset`, `close`, use as a context manager), the clock and the robot's state, motion
(`step`, `go_to`, `teleport`, `look_around`), sensing (`observe`), patrols (`patrol_day`) and
the ground truth evaluators score against. A backend that leaves one of them out fails at
construction, not at the first call.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import CameraIntrinsics, Frame, StampedPose

if TYPE_CHECKING:
    from robot_memory.sim.truth import TruthLog
    from robot_memory.sim.world import World

__all__ = ['NavResult', 'SimBackend']

_Backend = TypeVar('_Backend', bound='SimBackend')


class NavResult(NamedTuple):
    """What a `go_to` did: the places passed, distance, time taken, frames captured."""

    path: list[str]
    distance_m: float
    duration_s: float
    frames: list[Frame]


class SimBackend(abc.ABC):
    """A simulator the memory stack can drive: built-in, Habitat, or one to come.

    Frames carry per-frame shuffled segment ids, as a detector's would; which true object or
    furniture each segment shows is kept apart (`frame_truth`) for the evaluators.
    """

    #: (stamp_s, x_m, y_m) of the robot base in `map`, from the last reset on (for maps).
    trail: list[tuple[float, float, float]]

    # ----------------------------------------------------------- lifecycle
    @abc.abstractmethod
    def reset(self, seed: int | None = None) -> None:
        """Start over (optionally with a new seed) at the start of the simulated week."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release resources."""

    def __enter__(self: _Backend) -> _Backend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --------------------------------------------------------------- state
    @property
    @abc.abstractmethod
    def now_s(self) -> float:
        """The simulated clock (seconds since the Unix epoch)."""

    @property
    @abc.abstractmethod
    def pose(self) -> StampedPose:
        """The robot base in `map`."""

    @property
    @abc.abstractmethod
    def place_id(self) -> str:
        """The place the robot last reached."""

    @property
    @abc.abstractmethod
    def intrinsics(self) -> CameraIntrinsics:
        """The camera's intrinsics."""

    @abc.abstractmethod
    def scene_graph(self) -> SceneGraph:
        """Rooms and places (never objects) as a map would give them."""

    # -------------------------------------------------------------- motion
    @abc.abstractmethod
    def step(self, dt_s: float) -> None:
        """Let the world run for `dt_s` seconds with the robot standing still."""

    @abc.abstractmethod
    def go_to(self, place_id: str, capture: bool = True) -> NavResult:
        """Drive to a place along the shortest path, capturing frames on the way."""

    @abc.abstractmethod
    def teleport(self, x: float, y: float, yaw_rad: float) -> None:
        """Put the robot at a `map` pose without moving the clock."""

    @abc.abstractmethod
    def look_around(self, n_views: int | None = None) -> list[Frame]:
        """Turn in place through a full circle, one frame per view."""

    # ------------------------------------------------------------- sensing
    @abc.abstractmethod
    def observe(self) -> Frame:
        """One frame at the current pose."""

    @abc.abstractmethod
    def patrol_day(self, day: int) -> Iterator[Frame]:
        """Run the day's patrol sessions, yielding every frame."""

    # ------------------------------------------------ truth, for evaluators
    @abc.abstractmethod
    def last_frame_truth(self) -> dict[int, str]:
        """Segment id → true object or furniture id for the last frame."""

    @abc.abstractmethod
    def frame_truth(self, frame_index: int) -> dict[int, str]:
        """Segment id → true id for one of the recent frames."""

    @property
    @abc.abstractmethod
    def truth(self) -> TruthLog:
        """The ground-truth log of the household; raises where the scene has none."""

    @property
    @abc.abstractmethod
    def world(self) -> World:
        """The household as a sim `World`; raises where the scene has none."""

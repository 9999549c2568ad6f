"""The built-in household simulator (`BuiltinSim`), its configuration and scenario files.

`SimBackend` and `NavResult` live in `robot_memory.sim.base` and are re-exported here.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import CameraIntrinsics, Frame, SegmentLabel, StampedPose
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.sim.activity import ActivityConfig, ActivityModel
from robot_memory.sim.appearance import DEFAULT_STYLE, illuminant, validate_style
from robot_memory.sim.base import NavResult, SimBackend
from robot_memory.sim.clock import SIM_EPOCH_S, hour_of, sim_time
from robot_memory.sim.detector import DetectorConfig, DetectorNoise
from robot_memory.sim.navigation import Navigator
from robot_memory.sim.renderer import CameraConfig, RenderConfig, Renderer, camera_pose
from robot_memory.sim.truth import FrameTruth, TruthLog
from robot_memory.sim.world import COLORS, OBJECT_CATALOG, World

__all__ = ['BuiltinSim', 'NavResult', 'SimBackend', 'SimConfig', 'load_scenario']

log = logging.getLogger(__name__)
VISIBLE_MIN_PX = 200  # an object this large in a frame counts as seen, for evaluators


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything the built-in simulator can be told: world, robot, camera, activity, patrol."""

    world: str = 'apartment'  # a kind (apartment, house, office) or a YAML spec path
    seed: int = 0
    # 'home': objects vary in size, shade and pattern, some in matched sets, states show, the
    # light follows the hour and the room; 'flat': the catalogue world of earlier releases.
    world_style: str = DEFAULT_STYLE
    speed_mps: float = 0.5
    turn_rate_rad_s: float = 0.8
    capture_every_m: float = 1.5
    look_around_views: int = 8
    patrol_fraction: float = 0.6
    patrol_start_hours: tuple[float, ...] = (9.0, 19.0)
    # Rooms every patrol visits (one robot of several, each with its own rooms); empty: a
    # `patrol_fraction` of the rooms drawn anew each session.
    patrol_rooms: tuple[str, ...] = ()
    camera: CameraConfig = field(default_factory=CameraConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    activity: ActivityConfig = field(default_factory=ActivityConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)

    def __post_init__(self) -> None:
        if self.speed_mps <= 0 or self.turn_rate_rad_s <= 0:
            raise InvalidInputError(f'speeds must be positive, got speed_mps={self.speed_mps}, '
                                    f'turn_rate_rad_s={self.turn_rate_rad_s}')
        if not 0 < self.patrol_fraction <= 1:
            raise InvalidInputError(f'patrol_fraction must be in (0, 1], '
                                    f'got {self.patrol_fraction}')
        validate_style(self.world_style)
        if self.capture_every_m <= 0:
            raise InvalidInputError(f'capture_every_m must be positive, '
                                    f'got {self.capture_every_m}')


def load_scenario(source: str | Path | Mapping[str, Any], **overrides: Any) -> SimConfig:
    """Build a `SimConfig` from a scenario YAML (or its dict), with keyword overrides.

    Errors name the file or the field: unknown keys, values of the wrong type, bad settings.
    """
    from robot_memory.config import errors_name, read_yaml

    if isinstance(source, Mapping):
        return _scenario(dict(source), 'scenario', overrides)
    data = read_yaml(source, 'scenario') or {}
    with errors_name(source):
        return _scenario(data, f'scenario {source}', overrides)


def _scenario(data: Any, what: str, overrides: Mapping[str, Any]) -> SimConfig:
    """A `SimConfig` from a scenario's content; errors say `what`."""
    from robot_memory.config import build

    if not isinstance(data, Mapping):
        raise InvalidInputError(f'{what} must be a mapping of settings, got {data!r}')
    data = dict(data)
    try:  # the two sections with converters of their own (habits, detector presets)
        if 'activity' in data:
            data['activity'] = ActivityConfig.from_dict(data['activity'])
        if 'detector' in data:
            data['detector'] = DetectorConfig.from_value(data['detector'])
    except RobotMemoryError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(f'{what}: {exc}') from None
    return replace(build(SimConfig, data, what), **overrides)


class BuiltinSim(SimBackend):
    """The built-in household simulator: procedural world, activity, raycast camera, patrols.

    Frames carry per-frame shuffled segment ids and detector-like labels; the true identity of
    each segment of the last frame is kept apart in `last_frame_truth()` for the evaluators.
    """

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        self.config = replace(config or SimConfig(), **overrides)
        self._world_cache: tuple[tuple[int, str], World] | None = None
        self.reset(self.config.seed)

    # ----------------------------------------------------------- lifecycle
    def reset(self, seed: int | None = None) -> None:
        """Rebuild world, activity and robot for a seed; the clock goes to Monday 00:00."""
        if seed is not None:
            self.config = replace(self.config, seed=int(seed))
        seed = self.config.seed
        key = (seed, self.config.world_style)
        if self._world_cache is None or self._world_cache[0] != key:
            self._world_cache = (key, World.named(self.config.world, seed,
                                                  self.config.world_style))
        self._world = self._world_cache[1]
        self.navigator = Navigator(self.world)
        for room in self.config.patrol_rooms:
            self.navigator.view_place(room)  # an unknown room is an error naming the valid ones
        self.activity = ActivityModel(self.world, self.config.activity, seed)
        self.renderer = Renderer(self.world, self.config.camera, self.config.render)
        self._graph = self.world.scene_graph()
        self._now_s = SIM_EPOCH_S
        self._place = self.navigator.dock
        x, y, _ = self.world.place(self._place).position_m
        self._xy = (x, y)
        self._yaw = 0.0
        self._frame_index = 0
        self._rng = np.random.default_rng([seed, 13])
        self._detector = DetectorNoise(self.config.detector, list(OBJECT_CATALOG),
                                       list(COLORS), seed)
        self._frame_truth = FrameTruth()
        self._visible: dict[str, list[float]] = {}
        self.trail: list[tuple[float, float, float]] = [(self._now_s, x, y)]
        log.debug('reset %r', self.world)

    def close(self) -> None:
        """Drop the raycasting scene."""
        self.renderer = Renderer(self.world, self.config.camera, self.config.render)

    # ---------------------------------------------------------- properties
    @property
    def now_s(self) -> float:
        """The simulated clock (seconds since the Unix epoch)."""
        return self._now_s

    @property
    def pose(self) -> StampedPose:
        """The robot base in `map` (z = 0, yaw about +z)."""
        half = self._yaw / 2
        return StampedPose(self._now_s, (self._xy[0], self._xy[1], 0.0),
                           (0.0, 0.0, math.sin(half), math.cos(half)))

    @property
    def place_id(self) -> str:
        """The place the robot last reached."""
        return self._place

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """The camera's intrinsics."""
        return self.config.camera.intrinsics

    @property
    def world(self) -> World:
        """The world of the current seed."""
        return self._world

    @property
    def truth(self) -> TruthLog:
        """The ground-truth log (for scoring only)."""
        return self.activity.truth

    def scene_graph(self) -> SceneGraph:
        """Rooms and places with adjacency and traversable edges; no objects."""
        return self._graph.copy()

    def last_frame_truth(self) -> dict[int, str]:
        """Segment id → true object or furniture id for the last frame (for evaluators)."""
        return self._frame_truth.last()

    def visibility_log(self) -> dict[str, list[float]]:
        """True id → stamps of the frames it filled at least `VISIBLE_MIN_PX` pixels of."""
        return {k: list(v) for k, v in self._visible.items()}

    def frame_truth(self, frame_index: int) -> dict[int, str]:
        """Segment id → true id for one of the recent frames (`go_to` renders ahead)."""
        return self._frame_truth.get(frame_index)

    # ------------------------------------------------------------- motion
    def step(self, dt_s: float) -> None:
        """Advance the clock, letting people act; the robot stands still."""
        if not dt_s >= 0:
            raise InvalidInputError(f'dt_s must be ≥ 0, got {dt_s}')
        self._now_s += dt_s
        self.activity.advance_to(self._now_s)

    def _turn_to(self, yaw: float) -> None:
        delta = math.remainder(yaw - self._yaw, math.tau)
        self.step(abs(delta) / self.config.turn_rate_rad_s)
        self._yaw = yaw

    def go_to(self, place_id: str, capture: bool = True) -> NavResult:
        """Drive along the shortest path to a place, a frame every `capture_every_m`."""
        path, distance = self.navigator.path(self._place, place_id)
        start = self._now_s
        frames: list[Frame] = []
        step_m = self.config.capture_every_m
        since_capture = 0.0
        for a, b in itertools.pairwise(path):
            (x0, y0, _), (x1, y1, _) = (self.world.place(a).position_m,
                                        self.world.place(b).position_m)
            length = math.hypot(x1 - x0, y1 - y0)
            if length < 1e-9:
                continue
            self._turn_to(math.atan2(y1 - y0, x1 - x0))
            done = 0.0
            while done < length - 1e-9:
                move = min(step_m - since_capture, length - done)
                done += move
                since_capture += move
                self.step(move / self.config.speed_mps)
                f = done / length
                self._xy = (x0 + f * (x1 - x0), y0 + f * (y1 - y0))
                self.trail.append((self._now_s, *self._xy))
                if since_capture >= step_m - 1e-9:
                    since_capture = 0.0
                    if capture:
                        frames.append(self.observe())
            self._place = b
        self._place = place_id
        return NavResult(path, distance, self._now_s - start, frames)

    def teleport(self, x: float, y: float, yaw_rad: float) -> None:
        """Put the robot at a pose without moving the clock (for tests and benchmarks)."""
        self._xy, self._yaw = (float(x), float(y)), float(yaw_rad)
        self.trail.append((self._now_s, *self._xy))
        # Paths start from the place the robot is at: the nearest one to where it was put.
        self._place = min((p.place_id for p in self.world.places),
                          key=lambda pid: math.dist(self.world.place(pid).position_m[:2],
                                                    self._xy))

    def look_around(self, n_views: int | None = None) -> list[Frame]:
        """Turn through a full circle in `n_views` steps, one frame per view."""
        n = self.config.look_around_views if n_views is None else int(n_views)
        if n < 1:
            raise InvalidInputError(f'n_views must be ≥ 1, got {n}')
        frames = []
        for k in range(n):
            if k:
                self._turn_to(self._yaw + math.tau / n)
            frames.append(self.observe())
        return frames

    # --------------------------------------------------------------- sensing
    def camera_pose(self) -> np.ndarray:
        """`map_T_camera` of the optical frame at the current pose."""
        return camera_pose(self._xy[0], self._xy[1], self._yaw, self.config.camera)

    def observe(self) -> Frame:
        """Render one frame at the current pose with shuffled per-frame segment ids."""
        self.renderer.set_state(self.activity.state)
        room = self.world.room_at(*self._xy)
        self.renderer.set_light(illuminant(hour_of(self._now_s), room.name if room else '',
                                           self.config.seed, self.world.style))
        map_T_camera = self.camera_pose()
        out = self.renderer.render(map_T_camera, self._rng)
        boxes = self.renderer.owners  # per box; an object may be drawn as several boxes
        box_pixels = np.bincount(out.owner.ravel() + 1, minlength=len(boxes) + 1)[1:]
        # One segment per furniture piece or object, whatever number of boxes draw it.
        parts: dict[str, list[int]] = {}
        for b in np.flatnonzero(box_pixels).tolist():
            if boxes[b].kind in ('furniture', 'object'):
                parts.setdefault(boxes[b].owner_id, []).append(int(b))
        for owner_id, owned in parts.items():
            if sum(int(box_pixels[b]) for b in owned) >= VISIBLE_MIN_PX:
                self._visible.setdefault(owner_id, []).append(self._now_s)
        seen = list(parts)
        ids = self._rng.permutation(len(seen)).astype(np.int32) + 1
        lut = np.zeros(len(boxes) + 1, dtype=np.int32)
        labels: dict[int, SegmentLabel] = {}
        truth: dict[int, str] = {}
        state = self.activity.state
        # A segmentation network gives a class; colour and state are the memory's to read
        # from the pixels. `attributes: labels` hands them over from the truth instead (the
        # comparison mode of earlier releases).
        told = self.config.detector.attributes == 'labels'
        for owner_id, seg in zip(seen, ids, strict=True):
            for b in parts[owner_id]:
                lut[b + 1] = seg
            attrs: dict[str, str] = {}
            if owner_id.startswith('obj:'):
                obj = state.objects[owner_id]
                if told:
                    attrs['color'] = obj.color
                    if state.placements[owner_id].state:
                        attrs['state'] = state.placements[owner_id].state
                labels[int(seg)] = SegmentLabel(obj.cls, attrs)
            else:
                furn = self.world.furniture_by_id(owner_id)
                if told:
                    attrs['color'] = furn.color
                labels[int(seg)] = SegmentLabel(furn.cls, attrs)
            truth[int(seg)] = owner_id
        segments = np.take(lut, out.owner + 1)
        small = {seg for seg, owner_id in truth.items() if owner_id.startswith('obj:')}
        labels, segments = self._detector.apply(labels, segments, small, out.depth_m)
        # Both halves of a split segment show its object; a spurious one shows none.
        for half, whole in self._detector.split_from.items():
            if whole in truth:
                truth[half] = truth[whole]
        # Evaluators see what the detector reported; a missed segment was not seen.
        truth = {seg: owner_id for seg, owner_id in truth.items() if seg in labels}
        self._frame_truth.record(self._frame_index, truth)
        frame = Frame(self._now_s, out.rgb, out.depth_m.astype(np.float32, copy=False),
                      segments.astype(np.int32, copy=False), labels, map_T_camera,
                      self.intrinsics, self._frame_index)
        self._frame_index += 1
        return frame

    # --------------------------------------------------------------- patrols
    def patrol_day(self, day: int) -> Iterator[Frame]:
        """Run the day's patrol sessions, yielding every frame; activity runs in between."""
        for session, hour in enumerate(self.config.patrol_start_hours):
            start = sim_time(day, hour)
            if self._now_s < start:
                self.step(start - self._now_s)
            rooms = list(self.config.patrol_rooms) or self.navigator.patrol_rooms(
                self.config.seed, day, session, self.config.patrol_fraction)
            log.info('day %d session %d: patrolling %s', day, session, ', '.join(rooms))
            for place in self.navigator.tour(self._place, rooms):
                yield from self.go_to(place).frames
                yield from self.look_around()
            if self._place != self.navigator.dock:
                yield from self.go_to(self.navigator.dock).frames

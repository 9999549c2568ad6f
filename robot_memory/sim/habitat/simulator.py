"""`HabitatSim`: the `SimBackend` on habitat-sim, with Habitat's Y-up frame turned REP-103.

`habitat_sim` is imported inside `HabitatSim` only, so this module imports anywhere. The
frame conversions (`transforms`), the observation → `Frame` conversion (`observations`) and
the scene's rooms and places (`layout`) live beside it and are tested without habitat_sim;
`go_to` follows `pathfinder.find_path`.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import CameraIntrinsics, Frame, StampedPose
from robot_memory.exceptions import BlockedPoseError, InvalidInputError, UnknownNodeError
from robot_memory.sim.base import NavResult, SimBackend
from robot_memory.sim.clock import SIM_EPOCH_S, sim_time
from robot_memory.sim.habitat.config import HabitatConfig
from robot_memory.sim.habitat.layout import (
    FLOOR_TOLERANCE_M,
    build_layout,
    places_along,
    view_place,
)
from robot_memory.sim.habitat.observations import (
    BACKGROUND_CATEGORIES,
    COLOR_SENSOR,
    DEPTH_SENSOR,
    SEMANTIC_SENSOR,
    category_table,
    frame_from_observation,
)
from robot_memory.sim.habitat.transforms import (
    Quat,
    VecLike,
    _aabb_corners,
    _map_box,
    _vec,
    habitat_camera_to_map,
    habitat_to_map_pose,
    habitat_to_map_position,
    map_to_habitat_position,
    yaw_to_habitat_quaternion,
)
from robot_memory.sim.truth import FrameTruth, TruthLog

if TYPE_CHECKING:
    from robot_memory.sim.activity import ActivityModel
    from robot_memory.sim.habitat_days import SceneFurniture, SceneObjects
    from robot_memory.sim.world import World

__all__ = ['VIEW_NOISE_MODEL', 'HabitatSim']

log = logging.getLogger(__name__)

VIEW_NOISE_MODEL = 'robot_memory_view'  # no noise, no copy (see _register_view_noise_model)
# Semantic check: a labelled pixel is consistent when its depth point lies within this of its
# object's box; the ids are aligned when at least SEMANTIC_ALIGNED_FRACTION of them are. An
# aligned scene scores near 1 (edges and box slack), ids rotated onto other geometry near 0.
SEMANTIC_BOX_MARGIN_M = 0.25
SEMANTIC_ALIGNED_FRACTION = 0.5
SEMANTIC_MIN_PIXELS = 200  # fewer labelled pixels with boxes than this: cannot tell

class HabitatSim(SimBackend):
    """`SimBackend` over habitat-sim: RGB, depth and semantic sensors on one agent.

    The scene is static (Habitat has no household activity): `step` only moves the clock.
    Frames carry shuffled per-frame segment ids labelled with the semantic scene's classes;
    each segment's Habitat instance is kept apart in `last_frame_truth()` for evaluators.
    """

    def __init__(self, config: HabitatConfig, **overrides: Any) -> None:
        try:
            import habitat_sim
            from habitat_sim.utils.common import quat_from_coeffs, quat_to_coeffs
        except ImportError as exc:
            raise ImportError(
                'the Habitat backend needs habitat-sim, which is distributed through conda: '
                'conda install habitat-sim headless -c conda-forge -c aihabitat '
                '(see docs/habitat.md)') from exc
        self._hs = habitat_sim
        self._quat_from_coeffs = quat_from_coeffs
        self._quat_to_coeffs = quat_to_coeffs
        self.config = replace(config, **overrides)
        _keep_frames_on_the_heap()
        self._view_noise_model = _register_view_noise_model()
        self._sim = habitat_sim.Simulator(self._configuration())
        if self.config.recompute_navmesh or not self._sim.pathfinder.is_loaded:
            settings = habitat_sim.NavMeshSettings()
            settings.set_defaults()
            settings.agent_radius = self.config.agent_radius_m
            settings.agent_height = self.config.agent_height_m
            self._sim.recompute_navmesh(self._sim.pathfinder, settings)
        try:
            self._agent = self._sim.get_agent(0)
            self._categories = category_table(list(self._sim.semantic_scene.objects or []))
            self._floor_y = float(self._agent.get_state().position[1])
            #: What the backend found about the scene (also in map/layout and diagnostics).
            self.diagnostics: dict[str, Any] = {'scene': self.config.scene_path}
            self.last_observe_ms = (0.0, 0.0)  # render, conversion of the last observe()
            layout = build_layout(self._sim, self.config, self._floor_y,
                                  lambda a, b: self._path(a, b)[1])
            self._graph, self._dock = layout.graph, layout.dock
            self.diagnostics.update(unreachable_places=layout.unreachable_places,
                                    unreachable_rooms=layout.unreachable_rooms)
            self.reset(self.config.seed)
            self._mount_camera()
            self._check_semantics()
            self.activity: ActivityModel | None = None
            self._scene_objects: SceneObjects | None = None
            if self.config.objects:
                self._start_days()
        except BaseException:
            self._sim.close()  # the GL context and the GPU memory go with the error
            raise
        log.info('Habitat scene %s: %d rooms, %d places, %d semantic classes',
                 self.config.scene_path, len(self._graph.rooms), len(self._graph.places),
                 len(set(self._categories.values())))

    def _configuration(self) -> Any:
        hs, c = self._hs, self.config
        sim_cfg = hs.SimulatorConfiguration()
        sim_cfg.scene_id = c.scene_path
        if c.scene_dataset_config:
            sim_cfg.scene_dataset_config_file = c.scene_dataset_config
        sim_cfg.enable_physics = False
        sim_cfg.random_seed = c.seed
        sim_cfg.gpu_device_id = c.gpu_device_id
        specs = []
        for uuid, kind in ((COLOR_SENSOR, hs.SensorType.COLOR),
                           (DEPTH_SENSOR, hs.SensorType.DEPTH),
                           (SEMANTIC_SENSOR, hs.SensorType.SEMANTIC)):
            spec = hs.CameraSensorSpec()
            spec.uuid = uuid
            spec.sensor_type = kind
            spec.sensor_subtype = hs.SensorSubType.PINHOLE
            spec.resolution = [c.sensor_height_px, c.sensor_width_px]
            spec.position = [0.0, c.sensor_height_m, 0.0]
            # A positive turn about the camera's x axis tilts it up; pitch_deg counts down.
            spec.orientation = [-math.radians(c.sensor_pitch_deg), 0.0, 0.0]
            spec.hfov = c.sensor_hfov_deg
            if self._view_noise_model:
                spec.noise_model = VIEW_NOISE_MODEL
            specs.append(spec)
        agent_cfg = hs.agent.AgentConfiguration()
        agent_cfg.sensor_specifications = specs
        agent_cfg.radius = c.agent_radius_m
        agent_cfg.height = c.agent_height_m
        return hs.Configuration(sim_cfg, [agent_cfg])

    # ----------------------------------------------------------- lifecycle
    def reset(self, seed: int | None = None) -> None:
        """Put the robot back on its dock at Monday 00:00; the seed drives the segment ids."""
        if seed is not None:
            self.config = replace(self.config, seed=int(seed))
        self._sim.reset()
        self._sim.seed(self.config.seed)
        self._now_s = SIM_EPOCH_S
        self._rng = np.random.default_rng([self.config.seed, 13])
        self._frame_index = 0
        self._frame_truth = FrameTruth()
        self._place = self._dock
        self._set_agent(self._hab_position(self._dock), 0.0)
        x, y, _ = self._graph.get_place(self._dock).position_m
        self.trail: list[tuple[float, float, float]] = [(self._now_s, x, y)]
        if getattr(self, 'activity', None) is not None:
            self._start_days()

    def close(self) -> None:
        """Release the Habitat simulator."""
        self._sim.close()

    # ---------------------------------------------------------- properties
    @property
    def now_s(self) -> float:
        """The simulated clock (seconds since the Unix epoch)."""
        return self._now_s

    @property
    def pose(self) -> StampedPose:
        """The robot base in `map`."""
        state = self._agent.get_state()
        return habitat_to_map_pose(self._now_s, _vec(state.position),
                                   self._coeffs(state.rotation))

    @property
    def place_id(self) -> str:
        """The place the robot last reached."""
        return self._place

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """The camera's intrinsics."""
        return self.config.intrinsics

    def scene_graph(self) -> SceneGraph:
        """Rooms and places with adjacency and traversable edges; no objects."""
        return self._graph.copy()

    def last_frame_truth(self) -> dict[int, str]:
        """Segment id → `habitat:<instance id>` for the last frame (for evaluators)."""
        return self._frame_truth.last()

    def frame_truth(self, frame_index: int) -> dict[int, str]:
        """Segment id → true instance for one of the recent frames."""
        return self._frame_truth.get(frame_index)

    # ------------------------------------------------------------- helpers
    def _coeffs(self, rotation: Any) -> Quat:
        x, y, z, w = (float(v) for v in self._quat_to_coeffs(rotation))
        return (x, y, z, w)

    def _hab_position(self, place_id: str) -> np.ndarray:
        return np.array(map_to_habitat_position(self._graph.get_place(place_id).position_m))

    def _set_agent(self, position_hab: VecLike, yaw_rad: float) -> None:
        state = self._hs.agent.AgentState()
        state.position = np.asarray(position_hab, dtype=np.float32)
        state.rotation = self._quat_from_coeffs(np.array(yaw_to_habitat_quaternion(yaw_rad)))
        # The sensors keep their mounting (_mount_camera) relative to the body.
        self._agent.set_state(state, reset_sensors=False)
        self._yaw = float(yaw_rad)

    # ------------------------------------------------------- household days
    def _start_days(self) -> None:
        """Furniture, objects and the activity model for this seed (`objects` > 0)."""
        from robot_memory.sim.activity import ActivityConfig, ActivityModel
        from robot_memory.sim.habitat_days import SceneObjects, habitat_scale, scene_world

        scene = list(self._sim.semantic_scene.objects or [])
        if self._scene_objects is None:
            first = 1 + max((int(o.semantic_id) for o in scene if o is not None), default=0)
            self._scene_objects = SceneObjects(self._sim, first, map_to_habitat_position,
                                               habitat_scale)
        self._scene_objects.clear()
        world = scene_world(self._graph, self._scene_furniture(scene), self.config.seed,
                            self.config.objects)
        self.activity = ActivityModel(world, ActivityConfig(), self.config.seed)
        self.activity.advance_to(self._now_s)

    def _scene_furniture(self, scene: Sequence[Any]) -> list[SceneFurniture]:
        from robot_memory.sim.habitat_days import SceneFurniture

        out = []
        for obj in scene:
            if obj is None:
                continue
            sid = int(obj.semantic_id)
            cls = self._categories.get(sid, '')
            lo, hi = _aabb_corners(obj.aabb)
            if cls in BACKGROUND_CATEGORIES or not (np.all(hi - lo > 0) and
                                                    np.all(hi - lo < 5.0)):
                continue
            a, b = _map_box(lo, hi)
            out.append(SceneFurniture(sid, cls, (float(a[0]), float(a[1]), float(a[2])),
                                      (float(b[0]), float(b[1]), float(b[2]))))
        return out

    @property
    def world(self) -> World:
        """The scene as a sim world: rooms, furniture and supports (needs `objects` > 0)."""
        return self._days().world

    def _days(self) -> ActivityModel:
        if self.activity is None:
            raise InvalidInputError('a static Habitat scene has no household: set objects > 0 '
                                    'in the Habitat config')
        return self.activity

    @property
    def truth(self) -> TruthLog:
        """The ground-truth log of the household (for scoring; needs `objects` > 0)."""
        return self._days().truth

    # -------------------------------------------------------- scene checks
    def _mount_camera(self) -> None:
        """Put the sensors `sensor_height_m` above the floor under the dock.

        The navmesh surface lies above the floor (~0.1 m in habitat-sim 0.2.2), and the agent
        stands on it: the floor is found by looking straight down with the depth sensor.
        """
        if self.config.sensor_height_above == 'navmesh':
            return
        import magnum as mn

        sensors = [self._agent._sensors[k] for k in (COLOR_SENSOR, DEPTH_SENSOR, SEMANTIC_SENSOR)]
        node = sensors[1].node
        mounting = node.rotation
        node.rotation = mn.Quaternion.rotation(mn.Rad(-math.pi / 2), mn.Vector3.x_axis())
        try:
            depth = np.asarray(self._sim.get_sensor_observations()[DEPTH_SENSOR], dtype=float)
        finally:
            node.rotation = mounting
        h, w = depth.shape[:2]
        centre = depth[h // 2 - 2:h // 2 + 3, w // 2 - 2:w // 2 + 3]
        centre = centre[np.isfinite(centre) & (centre > 0)]
        if not centre.size:
            log.warning('no floor seen below the dock: the camera stays %.2f m above the '
                        'navmesh', self.config.sensor_height_m)
            self.diagnostics['navmesh_above_floor_m'] = None
            return
        floor_y = float(node.absolute_translation[1]) - float(np.median(centre))
        offset = self._floor_y - floor_y
        self.diagnostics['navmesh_above_floor_m'] = round(offset, 3)
        if not 0.0 <= offset <= FLOOR_TOLERANCE_M:
            log.warning('the floor below the dock is %.2f m from the navmesh: camera height '
                        'left as configured above the navmesh', offset)
            return
        for sensor in sensors:
            x, _, z = sensor.node.translation
            sensor.node.translation = mn.Vector3(x, self.config.sensor_height_m - offset, z)

    def _check_semantics(self) -> None:
        """Check that semantic ids lie on their objects' geometry (`semantic_check`).

        Renders the rooms' first places in four directions, back-projects every labelled
        pixel with its depth and counts those inside their object's box from the semantic
        scene. A semantic mesh loaded in another frame than the render mesh (a
        `NAME_semantic.ply` in an MP3D .glb's own frame, habitat-sim 0.2.2) puts ids on the
        wrong pixels: few land in their boxes. The fix is a stage config (docs/habitat.md).
        """
        result: dict[str, Any] = {'checked': False}
        self.diagnostics['semantic_alignment'] = result
        if self.config.semantic_check == 'off':
            return
        boxes = {}
        for obj in list(self._sim.semantic_scene.objects or []):
            category = self._categories.get(int(obj.semantic_id), '') if obj else ''
            if category in BACKGROUND_CATEGORIES:
                continue
            lo, hi = _aabb_corners(obj.aabb)
            if np.all(hi - lo > 0) and np.all(hi - lo < 5.0):  # not the whole building
                boxes[int(obj.semantic_id)] = _map_box(lo, hi)
        inside = total = 0
        state = self._agent.get_state()
        try:
            for room_id in self._graph.rooms:
                position = self._hab_position(view_place(self._graph, room_id))
                for k in range(4):
                    self._set_agent(position, k * math.pi / 2)
                    a, b = self._labelled_points_in_boxes(boxes)
                    inside, total = inside + a, total + b
        finally:
            self._agent.set_state(state, reset_sensors=False)
        if total < SEMANTIC_MIN_PIXELS:
            log.info('semantic check: too few labelled pixels with object boxes (%d)', total)
            result['labelled_pixels'] = total
            return
        fraction = inside / total
        result.update(checked=True, labelled_pixels=total, on_their_objects=round(fraction, 3),
                      aligned=fraction >= SEMANTIC_ALIGNED_FRACTION)
        if result['aligned']:
            return
        message = (f'{self.config.scene_path}: semantic ids do not lie on their objects '
                   f'({fraction:.0%} of labelled pixels inside their object boxes): the '
                   'semantic mesh is in another frame than the render mesh. For an MP3D-style '
                   '.glb with NAME_semantic.ply, add NAME.stage_config.json with '
                   '"semantic_up": [0, 1, 0], "semantic_front": [0, 0, -1] (docs/habitat.md); '
                   'semantic_check: warn runs anyway')
        if self.config.semantic_check == 'error':
            raise InvalidInputError(message)
        log.warning('%s', message)

    def _labelled_points_in_boxes(self, boxes: Mapping[int, tuple[np.ndarray, np.ndarray]]
                                  ) -> tuple[int, int]:
        """(labelled pixels inside their box, labelled pixels with a box) of one view."""
        observation = self._sim.get_sensor_observations()
        depth = np.asarray(observation[DEPTH_SENSOR], dtype=float)[::4, ::4]
        semantic = np.asarray(observation[SEMANTIC_SENSOR])[::4, ::4]
        k = self.intrinsics
        v, u = np.mgrid[0:k.height:4, 0:k.width:4]
        ids = semantic.ravel().astype(np.int64)
        z = depth.ravel()
        use = np.isin(ids, list(boxes)) & np.isfinite(z) & (z > 0)
        if not use.any():
            return 0, 0
        z, ids = z[use], ids[use]
        optical = np.stack([(u.ravel()[use] - k.cx) * z / k.fx,
                            (v.ravel()[use] - k.cy) * z / k.fy, z, np.ones_like(z)])
        points = (self.camera_pose() @ optical)[:3].T
        lo = np.array([boxes[i][0] for i in ids.tolist()]) - SEMANTIC_BOX_MARGIN_M
        hi = np.array([boxes[i][1] for i in ids.tolist()]) + SEMANTIC_BOX_MARGIN_M
        return int(np.all((points >= lo) & (points <= hi), axis=1).sum()), len(ids)

    def _path(self, start_hab: VecLike, goal_hab: VecLike) -> tuple[list[np.ndarray], float]:
        path = self._hs.ShortestPath()
        path.requested_start = np.asarray(start_hab, dtype=np.float32)
        path.requested_end = np.asarray(goal_hab, dtype=np.float32)
        if not self._sim.pathfinder.find_path(path):
            return [], math.inf
        return [_vec(p) for p in path.points], float(path.geodesic_distance)

    # ------------------------------------------------------------- motion
    def step(self, dt_s: float) -> None:
        """Advance the clock; with `objects`, the household moves things meanwhile."""
        if not dt_s >= 0:
            raise InvalidInputError(f'dt_s must be ≥ 0, got {dt_s}')
        self._now_s += dt_s
        if self.activity is not None:
            self.activity.advance_to(self._now_s)

    def _turn_to(self, yaw: float) -> None:
        delta = math.remainder(yaw - self._yaw, math.tau)
        self.step(abs(delta) / self.config.turn_rate_rad_s)
        self._yaw = yaw

    def go_to(self, place_id: str, capture: bool = True) -> NavResult:
        """Follow the navmesh's shortest path to a place, a frame every `capture_every_m`."""
        start_hab = _vec(self._agent.get_state().position)
        points, distance = self._path(start_hab, self._hab_position(place_id))
        if not points:
            raise UnknownNodeError(f'no navmesh path from {self._place!r} to {place_id!r}')
        start_s = self._now_s
        frames: list[Frame] = []
        step_m = self.config.capture_every_m
        since_capture = 0.0
        for a, b in itertools.pairwise(points):
            (x0, y0, _), (x1, y1, _) = habitat_to_map_position(a), habitat_to_map_position(b)
            length = float(np.linalg.norm(b - a))
            if length < 1e-9:
                continue
            self._turn_to(math.atan2(y1 - y0, x1 - x0))
            done = 0.0
            while done < length - 1e-9:
                move = min(step_m - since_capture, length - done)
                done += move
                since_capture += move
                self.step(move / self.config.speed_mps)
                here = a + (b - a) * (done / length)
                self._set_agent(here, self._yaw)
                mx, my, _ = habitat_to_map_position(here)
                self.trail.append((self._now_s, mx, my))
                if since_capture >= step_m - 1e-9:
                    since_capture = 0.0
                    if capture:
                        frames.append(self.observe())
        self._set_agent(points[-1], self._yaw)
        positions = {p: self._graph.get_place(p).position_m[:2] for p in self._graph.places}
        path_xy = [habitat_to_map_position(p)[:2] for p in points]
        passed = places_along(path_xy, positions, self.config.place_spacing_m / 4)
        passed = [p for p in passed if p not in (self._place, place_id)]
        path = [self._place, *passed, place_id] if self._place != place_id else [place_id]
        self._place = place_id
        return NavResult(path, distance, self._now_s - start_s, frames)

    def teleport(self, x: float, y: float, yaw_rad: float) -> None:
        """Put the robot at a `map` pose, without moving the clock.

        A target off the navmesh (in a wall, in furniture) is moved to the nearest navigable
        point when that is within `teleport_snap_m`, with a warning; farther, or where the
        navmesh has no point near, it is a `BlockedPoseError` and the robot stays.
        """
        if not all(math.isfinite(v) for v in (x, y, yaw_rad)):
            raise InvalidInputError(f'teleport needs a finite pose, got ({x}, {y}, {yaw_rad})')
        pathfinder = self._sim.pathfinder
        target = np.array(map_to_habitat_position((x, y, self._floor_y)), np.float32)
        reached = target
        if not pathfinder.is_navigable(target, FLOOR_TOLERANCE_M):
            snapped = _vec(pathfinder.snap_point(target))
            off_m = float(np.linalg.norm((snapped - target)[[0, 2]])) \
                if np.all(np.isfinite(snapped)) else math.inf
            if off_m > self.config.teleport_snap_m:
                raise BlockedPoseError(
                    f'teleport to ({x:.2f}, {y:.2f}) is not on the navmesh (in an obstacle or '
                    f'outside the map); the nearest navigable point is '
                    f'{"none" if math.isinf(off_m) else f"{off_m:.2f} m away"}, more than '
                    f'teleport_snap_m {self.config.teleport_snap_m} m')
            mx, my, _ = habitat_to_map_position(snapped)
            log.warning('teleport to (%.2f, %.2f) is off the navmesh: moved %.2f m to the '
                        'nearest navigable point (%.2f, %.2f)', x, y, off_m, mx, my)
            reached = snapped
        self._set_agent(reached, float(yaw_rad))
        mx, my, _ = habitat_to_map_position(reached)
        self.trail.append((self._now_s, mx, my))

    def look_around(self, n_views: int | None = None) -> list[Frame]:
        """Turn through a full circle in `n_views` steps, one frame per view."""
        n = self.config.look_around_views if n_views is None else int(n_views)
        if n < 1:
            raise InvalidInputError(f'n_views must be ≥ 1, got {n}')
        position = _vec(self._agent.get_state().position)
        frames = []
        for k in range(n):
            if k:
                self._turn_to(self._yaw + math.tau / n)
                self._set_agent(position, self._yaw)
            frames.append(self.observe())
        return frames

    # --------------------------------------------------------------- sensing
    def camera_pose(self) -> np.ndarray:
        """`map_T_camera` of the optical frame at the current pose."""
        sensor = self._agent.get_state().sensor_states[COLOR_SENSOR]
        return habitat_camera_to_map(_vec(sensor.position), self._coeffs(sensor.rotation))

    def observe(self) -> Frame:
        """Render RGB, depth and semantics at the current pose as a `Frame`."""
        attributes = None
        if self._scene_objects is not None and self.activity is not None:
            self._scene_objects.sync(self.activity.state)
            self._categories.update(self._scene_objects.categories())
            attributes = self._scene_objects.attributes
        start = time.perf_counter()
        observation = self._sim.get_sensor_observations()
        rendered = time.perf_counter()
        converted = frame_from_observation(
            observation, stamp_s=self._now_s, map_T_camera=self.camera_pose(),
            intrinsics=self.intrinsics, categories=self._categories, rng=self._rng,
            frame_index=self._frame_index, attributes=attributes)
        self.last_observe_ms = ((rendered - start) * 1e3, (time.perf_counter() - rendered) * 1e3)
        objects = self._scene_objects.object_of if self._scene_objects is not None else {}
        truth = {seg: objects.get(inst, f'habitat:{inst}')
                 for seg, inst in converted.instance_of.items()}
        self._frame_truth.record(self._frame_index, truth)
        self._frame_index += 1
        return converted.frame

    # --------------------------------------------------------------- patrols
    def patrol_rooms(self, day: int, session: int) -> list[str]:
        """Room ids a patrol session visits: `patrol_fraction` of them, drawn from the seed."""
        rooms = [r for r in self._graph.rooms if self._graph.places_in(r)]
        n = max(1, round(self.config.patrol_fraction * len(rooms)))
        rng = np.random.default_rng([self.config.seed, 11, day, session])
        return sorted(rooms[i] for i in rng.choice(len(rooms), size=n, replace=False))

    def patrol_day(self, day: int) -> Iterator[Frame]:
        """Run the day's patrol sessions, yielding every frame."""
        for session, hour in enumerate(self.config.patrol_start_hours):
            start = sim_time(day, hour)
            if self._now_s < start:
                self.step(start - self._now_s)
            todo = {view_place(self._graph, r) for r in self.patrol_rooms(day, session)}
            while todo:
                here = self._graph.get_place(self._place).position_m
                nxt = min(sorted(todo), key=lambda p: math.dist(
                    here, self._graph.get_place(p).position_m))
                todo.discard(nxt)
                yield from self.go_to(nxt).frames
                yield from self.look_around()
            if self._place != self._dock:
                yield from self.go_to(self._dock).frames


def _keep_frames_on_the_heap() -> None:
    """Stop glibc from handing every frame's arrays back to the kernel and faulting them in again.

    A frame allocates ~5 MB of fresh arrays at 640x480. With glibc's defaults they are mapped
    and unmapped (or the heap trimmed) frame after frame, and touching new pages cost more than
    the conversion itself (measured: conversion 8.6 → 3.1 ms, sys time /3). Keeping arrays
    below 16 MB on the heap and trimming only above 128 MB free reuses the same pages. The
    setting is process-wide and only about where freed memory waits; nothing where it is not
    glibc.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 16 << 20)
    mallopt(m_trim_threshold, 128 << 20)


def _register_view_noise_model() -> bool:
    """Register a noise model that hands out Habitat's sensor buffers without copying them.

    habitat-sim's default ("None") copies each image (~1 ms per sensor at 640x480);
    `frame_from_observation` copies what it keeps anyway. False where the registry is absent.
    """
    try:
        from habitat_sim.registry import registry
        from habitat_sim.sensors.noise_models.sensor_noise_model import SensorNoiseModel
    except ImportError:
        return False
    if registry.get_noise_model(VIEW_NOISE_MODEL) is None:
        class ViewNoiseModel(SensorNoiseModel):  # type: ignore[misc]  # habitat_sim: untyped
            @staticmethod
            def is_valid_sensor_type(sensor_type: Any) -> bool:
                return True

            def apply(self, x: Any) -> Any:
                return x

        registry.register_noise_model(ViewNoiseModel, name=VIEW_NOISE_MODEL)
    return True

"""The Habitat backend: `SimBackend` on habitat-sim, with Habitat's Y-up frame turned REP-103.

`habitat_sim` is imported inside `HabitatSim` only, so this module imports anywhere; the frame
conversions and the observation → `Frame` conversion are pure functions tested without it.

Frames. Habitat's world and its agent body use x right, y up, z backwards (the agent and its
cameras look along -z). REP-103 `map` and `base_link` use x forward, y left, z up. So

    map = HABITAT_TO_MAP @ habitat:  map x = -habitat z,  map y = -habitat x,  map z = habitat y

a proper rotation: an agent facing -z in Habitat faces +x in `map`, and a turn about Habitat's
+y is the same turn about `map`'s +z. A Habitat camera (OpenGL: x right, y up, looking along
-z) becomes the optical frame (x right, y down, z forward) by flipping its y and z axes.

Rooms are the semantic scene's regions on the agent's floor (rectangles from their bounding
boxes), or, for scenes without regions, rooms segmented from the navmesh's top-down map.
Places are spread over the navmesh in each room; `go_to` follows `pathfinder.find_path`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np

from robot_memory.core.scene_graph import (
    EdgeKind,
    PlaceAttributes,
    RoomAttributes,
    SceneGraph,
)
from robot_memory.core.types import CameraIntrinsics, Frame, SegmentLabel, StampedPose
from robot_memory.exceptions import BlockedPoseError, InvalidInputError, UnknownNodeError
from robot_memory.sim.backend import NavResult
from robot_memory.sim.clock import SIM_EPOCH_S, sim_time
from robot_memory.sim.truth import FrameTruth, TruthLog

if TYPE_CHECKING:
    from robot_memory.sim.activity import ActivityModel
    from robot_memory.sim.habitat_days import SceneFurniture, SceneObjects
    from robot_memory.sim.world import World

__all__ = [
    'BACKGROUND_CATEGORIES',
    'COLOR_SENSOR',
    'DEPTH_SENSOR',
    'HABITAT_TO_MAP',
    'ROOM_SOURCES',
    'SEMANTIC_SENSOR',
    'HabitatConfig',
    'HabitatFrame',
    'HabitatSim',
    'category_table',
    'frame_from_observation',
    'habitat_camera_to_map',
    'habitat_to_map_pose',
    'habitat_to_map_position',
    'habitat_to_map_quaternion',
    'map_to_habitat_position',
    'map_to_habitat_quaternion',
    'normalize_category',
    'place_edges',
    'places_along',
    'region_polygon',
    'room_category',
    'spread_points',
    'topdown_to_occupancy',
    'yaw_to_habitat_quaternion',
]

log = logging.getLogger(__name__)

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # (x, y, z, w)

HABITAT_TO_MAP = np.array([[0.0, 0.0, -1.0],
                           [-1.0, 0.0, 0.0],
                           [0.0, 1.0, 0.0]])
_GL_TO_OPTICAL = np.diag([1.0, -1.0, -1.0])  # columns: optical axes in the OpenGL camera frame
COLOR_SENSOR, DEPTH_SENSOR, SEMANTIC_SENSOR = 'color_sensor', 'depth_sensor', 'semantic_sensor'
ROOM_SOURCES = ('auto', 'regions', 'navmesh')
SEMANTIC_CHECKS = ('error', 'warn', 'off')
VIEW_NOISE_MODEL = 'robot_memory_view'  # no noise, no copy (see _register_view_noise_model)
# Semantic check: a labelled pixel is consistent when its depth point lies within this of its
# object's box; the ids are aligned when at least SEMANTIC_ALIGNED_FRACTION of them are. An
# aligned scene scores near 1 (edges and box slack), ids rotated onto other geometry near 0.
SEMANTIC_BOX_MARGIN_M = 0.25
SEMANTIC_ALIGNED_FRACTION = 0.5
SEMANTIC_MIN_PIXELS = 200  # fewer labelled pixels with boxes than this: cannot tell
# Structure and unlabelled stuff in HM3D / MP3D / Replica annotations: not objects to remember.
BACKGROUND_CATEGORIES = frozenset({
    '', 'unknown', 'unlabeled', 'unlabelled', 'no_label', 'void', 'misc', 'objects', 'wall',
    'floor', 'ceiling', 'beam', 'column', 'railing', 'stairs', 'roof',
})
_CANDIDATE_STEP_M = 0.25  # grid of candidate places on the navmesh
_FLOOR_TOLERANCE_M = 0.5  # navmesh points within this of the floor height are on the floor


# ============================================================== conversions
def habitat_to_map_position(position: Sequence[float]) -> Vec3:
    """A point in Habitat's world (x right, y up, z back) in REP-103 `map`."""
    x, y, z = (float(v) for v in position)
    return (-z, -x, y)


def map_to_habitat_position(position: Sequence[float]) -> Vec3:
    """A point in `map` in Habitat's world frame."""
    x, y, z = (float(v) for v in position)
    return (-y, z, -x)


def habitat_to_map_quaternion(rotation_xyzw: Sequence[float]) -> Quat:
    """The orientation of a Habitat body (agent or object) as a REP-103 body in `map`.

    Both the frames and the bodies change axes by `HABITAT_TO_MAP`, so the rotation keeps its
    angle and its axis is carried over: (v, w) → (HABITAT_TO_MAP v, w).
    """
    x, y, z, w = (float(v) for v in rotation_xyzw)
    mx, my, mz = habitat_to_map_position((x, y, z))
    return _normalized((mx, my, mz, w))


def map_to_habitat_quaternion(rotation_xyzw: Sequence[float]) -> Quat:
    """The inverse of `habitat_to_map_quaternion`."""
    x, y, z, w = (float(v) for v in rotation_xyzw)
    hx, hy, hz = map_to_habitat_position((x, y, z))
    return _normalized((hx, hy, hz, w))


def yaw_to_habitat_quaternion(yaw_rad: float) -> Quat:
    """Habitat rotation of an agent heading `yaw_rad` in `map` (a turn about Habitat's +y)."""
    return (0.0, math.sin(yaw_rad / 2), 0.0, math.cos(yaw_rad / 2))


def _normalized(q: Sequence[float]) -> Quat:
    norm = math.sqrt(sum(v * v for v in q))
    if not (math.isfinite(norm) and norm > 1e-9):
        raise InvalidInputError(f'rotation must be a non-zero quaternion (x, y, z, w), got {q}')
    x, y, z, w = (v / norm for v in q)
    return (x, y, z, w)


def _quaternion_matrix(rotation_xyzw: Sequence[float]) -> np.ndarray:
    x, y, z, w = _normalized(rotation_xyzw)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def habitat_to_map_pose(stamp_s: float, position: Sequence[float],
                        rotation_xyzw: Sequence[float], frame_id: str = 'map') -> StampedPose:
    """The agent's Habitat state as the robot base pose in `map`."""
    return StampedPose(stamp_s, habitat_to_map_position(position),
                       habitat_to_map_quaternion(rotation_xyzw), frame_id)


def habitat_camera_to_map(position: Sequence[float],
                          rotation_xyzw: Sequence[float]) -> np.ndarray:
    """`map_T_camera` of the optical frame (z forward, x right, y down) from a sensor state."""
    out = np.eye(4)
    out[:3, :3] = HABITAT_TO_MAP @ _quaternion_matrix(rotation_xyzw) @ _GL_TO_OPTICAL
    out[:3, 3] = habitat_to_map_position(position)
    return out


def normalize_category(name: str) -> str:
    """A dataset category as a class name: lower case, words joined by '_'."""
    words = str(name).strip().lower().replace('-', ' ').replace('_', ' ').split()
    return '_'.join(words)


def room_category(name: str) -> str:
    """A region category (MP3D `living room`, `familyroom/lounge`) as a room category."""
    first = normalize_category(str(name).split('/')[0])
    return 'room' if first in ('', 'no_label', 'junk', 'unknown', 'other_room') else first


def _category_name(category: Any) -> str:
    if category is None:
        return ''
    name = getattr(category, 'name', '')
    return str(name() if callable(name) else name)


def category_table(objects: Sequence[Any]) -> dict[int, str]:
    """Semantic instance id → class name from a semantic scene's objects."""
    table: dict[int, str] = {}
    for obj in objects:
        if obj is None:
            continue
        name = normalize_category(_category_name(getattr(obj, 'category', None)))
        if name:
            table[int(obj.semantic_id)] = name
    return table


class HabitatFrame(NamedTuple):
    """A converted observation: the frame, and each segment's Habitat instance id."""

    frame: Frame
    instance_of: dict[int, int]


# Instance ids below this are relabelled through a table indexed by id (bincount + take:
# ~1 ms at 640x480); larger ones through np.unique (a sort: ~40 ms at 640x480).
_DIRECT_ID_LIMIT = 1 << 22


def _instances(semantic: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The instance ids in an id image, sorted, and a function that paints a value per id.

    `paint(values)` returns the image with every pixel of `instances[k]` set to `values[k]`.
    """
    if semantic.size and semantic.dtype.kind in 'ui' and \
            (semantic.dtype.kind == 'u' or int(semantic.min()) >= 0) and \
            int(semantic.max()) < _DIRECT_ID_LIMIT:
        instances = np.flatnonzero(np.bincount(semantic.ravel()))

        def paint(values: np.ndarray) -> np.ndarray:
            table = np.zeros(int(instances[-1]) + 1, dtype=values.dtype)
            table[instances] = values
            return np.take(table, semantic)

        return instances, paint
    instances, inverse = np.unique(semantic, return_inverse=True)
    return instances, lambda values: values[inverse.reshape(semantic.shape)]


def frame_from_observation(observation: Mapping[str, np.ndarray], *, stamp_s: float,
                           map_T_camera: np.ndarray, intrinsics: CameraIntrinsics,
                           categories: Mapping[int, str], rng: np.random.Generator,
                           frame_index: int = 0,
                           background: frozenset[str] = BACKGROUND_CATEGORIES,
                           attributes: Mapping[int, Mapping[str, str]] | None = None
                           ) -> HabitatFrame:
    """Turn Habitat's sensor dict into a `Frame`, with shuffled per-frame segment ids.

    `observation` holds `color_sensor` (H, W, 4) uint8 RGBA, `depth_sensor` (H, W) float32
    metres (0 = no return) and `semantic_sensor` (H, W) instance ids. Instances whose class is
    unknown or in `background` become segment 0; the others are numbered 1..n in a random
    order, as a detector would, with their class from `categories` as the label and what
    `attributes` holds for the instance (colour, state) as its attributes.
    """
    for key in (COLOR_SENSOR, DEPTH_SENSOR, SEMANTIC_SENSOR):
        if key not in observation:
            raise InvalidInputError(f'observation has no {key!r}; got {sorted(observation)}')
    color = np.asarray(observation[COLOR_SENSOR])
    depth = np.asarray(observation[DEPTH_SENSOR])
    semantic = np.asarray(observation[SEMANTIC_SENSOR])
    size = (intrinsics.height, intrinsics.width)
    if color.ndim != 3 or color.shape[:2] != size or color.shape[2] not in (3, 4):
        raise InvalidInputError(f'{COLOR_SENSOR} must be {size[0]}x{size[1]}x4 (RGBA), '
                                f'got {color.shape}')
    for key, image in ((DEPTH_SENSOR, depth), (SEMANTIC_SENSOR, semantic)):
        if image.shape[:2] != size or (image.ndim == 3 and image.shape[2] != 1) or \
                image.ndim not in (2, 3):
            raise InvalidInputError(f'{key} must be {size[0]}x{size[1]}, got {image.shape}')
    # Copies throughout: the arrays may be views of Habitat's sensor buffers.
    depth = depth.reshape(size).astype(np.float32)
    depth[~((depth > 0) & (depth < np.inf))] = np.nan  # 0: no return
    semantic = np.ascontiguousarray(semantic.reshape(size))  # read several times below
    rgb = cv2.cvtColor(color, cv2.COLOR_RGBA2RGB) if color.shape[2] == 4 and \
        color.dtype == np.uint8 else np.ascontiguousarray(color[..., :3], dtype=np.uint8)

    instances, paint = _instances(semantic)
    keep = [i for i, inst in enumerate(instances.tolist())
            if categories.get(int(inst), '') not in background]
    ids = rng.permutation(len(keep)).astype(np.int32) + 1
    lut = np.zeros(len(instances), dtype=np.int32)
    labels: dict[int, SegmentLabel] = {}
    instance_of: dict[int, int] = {}
    for i, seg in zip(keep, ids.tolist(), strict=True):
        inst = int(instances[i])
        lut[i] = seg
        labels[seg] = SegmentLabel(categories[inst], (attributes or {}).get(inst, {}))
        instance_of[seg] = inst
    segments = paint(lut)
    frame = Frame(float(stamp_s), rgb, depth, segments.astype(np.int32, copy=False), labels,
                  np.asarray(map_T_camera, dtype=float), intrinsics, int(frame_index))
    return HabitatFrame(frame, instance_of)


def region_polygon(aabb_min: Sequence[float], aabb_max: Sequence[float]) -> tuple[Vec2, ...]:
    """A region's Habitat bounding box as a counter-clockwise floor rectangle in `map`."""
    a = habitat_to_map_position(aabb_min)
    b = habitat_to_map_position(aabb_max)
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def topdown_to_occupancy(navigable: np.ndarray, meters_per_pixel: float,
                         first_sample_xz: Sequence[float]) -> tuple[np.ndarray, Vec2]:
    """Habitat's top-down navigability map as an OccupancyGrid array and its origin in `map`.

    `navigable[i, j]` is Habitat's sample at (x, z) = first_sample_xz + (j, i) * mpp (as
    `pathfinder.get_topdown_view` gives it, starting at the navmesh bounds' minimum). The
    result has rows along `map` +y, columns along +x, 0 where navigable and 100 elsewhere.
    """
    nav = np.asarray(navigable, dtype=bool)
    if nav.ndim != 2 or nav.size == 0:
        raise InvalidInputError(f'navigable must be a non-empty 2D array, got {nav.shape}')
    rows, cols = nav.shape
    grid = np.where(nav, 0, 100).astype(np.int8)[::-1, ::-1].T
    x0, z0 = (float(v) for v in first_sample_xz)
    # Sample (i, j) is the centre of its cell; map x = -z and map y = -x reverse both axes.
    origin = (-(z0 + (rows - 0.5) * meters_per_pixel), -(x0 + (cols - 0.5) * meters_per_pixel))
    return np.ascontiguousarray(grid), origin


def spread_points(candidates: np.ndarray, first: Sequence[float], spacing_m: float,
                  count: int) -> list[Vec2]:
    """`first`, then greedily the candidate farthest from those chosen, while ≥ `spacing_m`."""
    chosen = [(float(first[0]), float(first[1]))]
    pts = np.asarray(candidates, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return chosen
    nearest = np.hypot(pts[:, 0] - first[0], pts[:, 1] - first[1])
    while len(chosen) < count:
        k = int(np.argmax(nearest))
        if nearest[k] < spacing_m:
            break
        chosen.append((float(pts[k, 0]), float(pts[k, 1])))
        nearest = np.minimum(nearest, np.hypot(pts[:, 0] - pts[k, 0], pts[:, 1] - pts[k, 1]))
    return chosen


def place_edges(positions: Mapping[str, Vec2], geodesic_m: Callable[[str, str], float],
                max_edge_m: float, detour: float = 1.25) -> list[tuple[str, str, float]]:
    """Traversable (a, b, length_m) between places, joined so that all reachable ones connect.

    Pairs closer than `max_edge_m` whose geodesic is nearly straight (at most `detour` times
    the straight line, plus 0.3 m) are joined; then separate groups are joined by their
    nearest pair with a finite geodesic.
    """
    ids = sorted(positions)
    edges: list[tuple[str, str, float]] = []
    group = {p: i for i, p in enumerate(ids)}

    def join(a: str, b: str, length: float) -> None:
        edges.append((a, b, length))
        old, new = group[b], group[a]
        for key, value in group.items():
            if value == old:
                group[key] = new

    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            straight = math.dist(positions[a], positions[b])
            if straight > max_edge_m:
                continue
            length = geodesic_m(a, b)
            if math.isfinite(length) and length <= detour * straight + 0.3:
                join(a, b, length)
    while len(set(group.values())) > 1:
        # Try the straight-nearest pairs across groups first: geodesics are the costly part.
        pairs = sorted((math.dist(positions[a], positions[b]), a, b) for a in ids for b in ids
                       if a < b and group[a] != group[b])
        best = None
        for _, a, b in pairs[:8]:
            length = geodesic_m(a, b)
            if math.isfinite(length) and (best is None or length < best[2]):
                best = (a, b, length)
        if best is None:
            break  # the rest lies on other navmesh islands
        join(*best)
    return edges


def places_along(path_xy: Sequence[Vec2], places: Mapping[str, Vec2],
                 radius_m: float) -> list[str]:
    """Places within `radius_m` of a polyline, in the order the path passes them."""
    pts = np.asarray(path_xy, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return []
    if len(pts) == 1:
        pts = np.vstack([pts, pts])
    a, b = pts[:-1], pts[1:]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    start = np.concatenate([[0.0], np.cumsum(length)[:-1]])
    hits = []
    for place_id, (x, y) in places.items():
        rel = np.array([x, y]) - a
        t = np.clip((rel * d).sum(axis=1) / np.maximum(length ** 2, 1e-18), 0.0, 1.0)
        dist = np.hypot(*(rel - t[:, None] * d).T)
        k = int(np.argmin(dist))
        if dist[k] <= radius_m:
            hits.append((start[k] + t[k] * length[k], place_id))
    return [p for _, p in sorted(hits)]


# =================================================================== config
@dataclass(frozen=True, slots=True)
class HabitatConfig:
    """Everything the Habitat backend can be told (`config/habitat.yaml`, see docs/habitat.md).
    """

    scene_path: str  # a .glb / .basis.glb scene, or a scene id of the dataset config
    scene_dataset_config: str = ''  # *.scene_dataset_config.json (semantics for HM3D, MP3D)
    sensor_width_px: int = 640
    sensor_height_px: int = 480
    sensor_hfov_deg: float = 90.0
    sensor_height_m: float = 1.25  # camera above the floor (see sensor_height_above)
    sensor_height_above: str = 'floor'  # floor (found below the dock) | navmesh (raw)
    sensor_pitch_deg: float = 0.0  # downwards
    agent_radius_m: float = 0.18
    agent_height_m: float = 1.5
    place_spacing_m: float = 2.0  # least distance between the view places of a room
    place_clearance_m: float = 0.4  # least distance from a view place to an obstacle
    max_places_per_room: int = 3
    max_edge_m: float = 4.0  # longest traversable edge between two places
    room_source: str = 'auto'  # regions (semantic scene) | navmesh (segmented) | auto
    recompute_navmesh: bool = False  # rebuild it for this agent (always if the scene has none)
    door_width_m: float = 1.0  # for room segmentation of the navmesh (rooms.py)
    seed: int = 0
    speed_mps: float = 0.5
    turn_rate_rad_s: float = 0.8
    capture_every_m: float = 1.5
    look_around_views: int = 8
    patrol_fraction: float = 0.6
    patrol_start_hours: tuple[float, ...] = (9.0, 19.0)
    gpu_device_id: int = 0
    objects: int = 0  # movable objects the activity model moves between patrols (0: static)
    teleport_snap_m: float = 0.5  # farthest a teleport target off the navmesh is moved onto it
    semantic_check: str = 'error'  # error | warn | off: semantic ids vs depth geometry (docs)

    def __post_init__(self) -> None:
        if not str(self.scene_path).strip():
            raise InvalidInputError('scene_path must name a Habitat scene')
        positive = ('sensor_width_px', 'sensor_height_px', 'sensor_hfov_deg', 'sensor_height_m',
                    'agent_radius_m', 'agent_height_m', 'place_spacing_m', 'max_places_per_room',
                    'max_edge_m', 'door_width_m', 'speed_mps', 'turn_rate_rad_s',
                    'capture_every_m', 'look_around_views')
        for name in positive:
            if not getattr(self, name) > 0:
                raise InvalidInputError(f'{name} must be positive, got {getattr(self, name)}')
        if not 0 < self.sensor_hfov_deg < 180:
            raise InvalidInputError(f'sensor_hfov_deg must be in (0, 180), '
                                    f'got {self.sensor_hfov_deg}')
        if self.sensor_height_above not in ('floor', 'navmesh'):
            raise InvalidInputError(f'sensor_height_above {self.sensor_height_above!r}; '
                                    f'valid: floor, navmesh')
        if self.semantic_check not in SEMANTIC_CHECKS:
            raise InvalidInputError(f'semantic_check {self.semantic_check!r}; '
                                    f'valid: {", ".join(SEMANTIC_CHECKS)}')
        if self.objects < 0:
            raise InvalidInputError(f'objects must be ≥ 0, got {self.objects}')
        if not self.teleport_snap_m >= 0:
            raise InvalidInputError(f'teleport_snap_m must be ≥ 0, got {self.teleport_snap_m}')
        if self.room_source not in ROOM_SOURCES:
            raise InvalidInputError(f'room_source {self.room_source!r}; '
                                    f'valid: {", ".join(ROOM_SOURCES)}')
        if not 0 < self.patrol_fraction <= 1:
            raise InvalidInputError(f'patrol_fraction must be in (0, 1], '
                                    f'got {self.patrol_fraction}')

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """Pinhole intrinsics of Habitat's camera sensors."""
        return CameraIntrinsics.from_fov(self.sensor_width_px, self.sensor_height_px,
                                         self.sensor_hfov_deg)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HabitatConfig:
        """Build a config from a mapping; unknown keys are an error listing the valid ones."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidInputError(f'unknown Habitat config keys {unknown}; '
                                    f'valid: {", ".join(known)}')
        if 'scene_path' not in data:
            raise InvalidInputError('the Habitat config needs scene_path')
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            default = known[key].default
            try:
                if key == 'patrol_start_hours':
                    kwargs[key] = tuple(float(h) for h in value)
                elif key in ('scene_path', 'scene_dataset_config'):
                    # $VARS and ~ let one file serve machines with data in different places.
                    kwargs[key] = os.path.expanduser(os.path.expandvars(str(value or '')))
                elif isinstance(default, bool):
                    kwargs[key] = _boolean(value)
                elif isinstance(default, str):
                    kwargs[key] = str(value)
                elif isinstance(default, int):
                    kwargs[key] = int(value)
                else:
                    kwargs[key] = float(value)
            except (TypeError, ValueError):
                raise InvalidInputError(f'Habitat config {key}: bad value {value!r}') from None
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> HabitatConfig:
        """Read `config/habitat.yaml` (a flat mapping of these fields)."""
        from robot_memory.config import read_yaml

        data = read_yaml(path, 'Habitat config')
        if not isinstance(data, Mapping):
            raise InvalidInputError(f'{path}: the Habitat config is a mapping of settings')
        return cls.from_dict(data)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('true', 'yes', '1'):
        return True
    if text in ('false', 'no', '0'):
        return False
    raise ValueError(value)


# ================================================================ simulator
def _vec(value: Any) -> np.ndarray:
    return np.array([float(value[0]), float(value[1]), float(value[2])])


def _aabb_corners(aabb: Any) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of a Habitat box: magnum Range3D, or the older center / sizes box."""
    if hasattr(aabb, 'min'):
        return _vec(aabb.min), _vec(aabb.max)
    center, sizes = _vec(aabb.center), _vec(aabb.sizes)
    return center - sizes / 2, center + sizes / 2


class HabitatSim:
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
            self._graph, self._dock = self._build_graph()
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

    def __enter__(self) -> HabitatSim:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

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

    def _set_agent(self, position_hab: Sequence[float], yaw_rad: float) -> None:
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
            out.append(SceneFurniture(sid, cls, tuple(map(float, a)), tuple(map(float, b))))
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
        if not 0.0 <= offset <= _FLOOR_TOLERANCE_M:
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
                position = self._hab_position(self._view_place_in(self._graph, room_id))
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

    def _path(self, start_hab: Sequence[float],
              goal_hab: Sequence[float]) -> tuple[list[np.ndarray], float]:
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
        if not pathfinder.is_navigable(target, _FLOOR_TOLERANCE_M):
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
            todo = {self._view_place(r) for r in self.patrol_rooms(day, session)}
            while todo:
                here = self._graph.get_place(self._place).position_m
                nxt = min(sorted(todo), key=lambda p: math.dist(
                    here, self._graph.get_place(p).position_m))
                todo.discard(nxt)
                yield from self.go_to(nxt).frames
                yield from self.look_around()
            if self._place != self._dock:
                yield from self.go_to(self._dock).frames

    def _view_place(self, room_id: str) -> str:
        return min(self._graph.places_in(room_id), key=lambda p: int(p.rpartition('/')[2]))

    # ------------------------------------------------------------ the map
    def _rooms_from_regions(self) -> list[tuple[str, str, tuple[Vec2, ...]]]:
        """(name, category, polygon) of the semantic regions on the agent's floor."""
        regions = []
        for region in list(self._sim.semantic_scene.regions or []):
            if region is None:
                continue
            lo, hi = _aabb_corners(region.aabb)
            if not lo[1] - _FLOOR_TOLERANCE_M <= self._floor_y <= hi[1]:
                continue
            category = room_category(_category_name(region.category))
            regions.append((category, region_polygon(lo, hi)))
        return _named(regions)

    def _rooms_from_navmesh(self) -> list[tuple[str, str, tuple[Vec2, ...], list[Vec2]]]:
        """Rooms segmented from the navmesh's top-down map (scenes without regions)."""
        # Layering: the segmentation lives in perception; only this fallback path needs it.
        from robot_memory.perception.rooms import PlaceParams, SegmentationParams, segment_rooms

        pathfinder = self._sim.pathfinder
        mpp = 0.05
        lo, _ = pathfinder.get_bounds()
        navigable = np.asarray(pathfinder.get_topdown_view(mpp, self._floor_y), dtype=bool)
        grid, origin = topdown_to_occupancy(navigable, mpp, (float(lo[0]), float(lo[2])))
        # The navmesh is already shrunk by the agent's radius: doorways look that much narrower.
        door = max(self.config.door_width_m - 2 * self.config.agent_radius_m, 0.2)
        params = SegmentationParams(
            door_width_m=door, min_room_area_m2=1.0,
            places=PlaceParams(self.config.place_spacing_m, 0.05, self.config.max_places_per_room))
        out = []
        for region in segment_rooms(grid, mpp, origin, params):
            out.append((region.name, 'room', region.polygon_m, list(region.places_m)))
        return out

    def _places_in(self, polygon: Sequence[Vec2]) -> list[Vec2]:
        """View places on the navmesh inside a room rectangle, spread `place_spacing_m` apart."""
        pathfinder = self._sim.pathfinder
        xs, ys = zip(*polygon, strict=True)
        gx = np.arange(min(xs) + _CANDIDATE_STEP_M / 2, max(xs), _CANDIDATE_STEP_M)
        gy = np.arange(min(ys) + _CANDIDATE_STEP_M / 2, max(ys), _CANDIDATE_STEP_M)
        candidates, clearance = [], []
        for x in gx:
            for y in gy:
                point = np.array(map_to_habitat_position((x, y, self._floor_y)), np.float32)
                if not pathfinder.is_navigable(point, _FLOOR_TOLERANCE_M):
                    continue
                candidates.append((float(x), float(y)))
                clearance.append(float(pathfinder.distance_to_closest_obstacle(point, 2.0)))
        if not candidates:
            return []
        pts, clear = np.array(candidates), np.array(clearance)
        first = pts[int(np.argmax(clear))]
        roomy = pts[clear >= self.config.place_clearance_m]
        return spread_points(roomy, first, self.config.place_spacing_m,
                             self.config.max_places_per_room)

    def _build_graph(self) -> tuple[SceneGraph, str]:
        """Rooms, places on the navmesh, and traversable edges measured by the pathfinder."""
        source = self.config.room_source
        rooms: list[tuple[str, str, tuple[Vec2, ...], list[Vec2]]] = []
        if source in ('auto', 'regions'):
            rooms = [(name, category, polygon, self._places_in(polygon))
                     for name, category, polygon in self._rooms_from_regions()]
            rooms = [r for r in rooms if r[3]]
            if not rooms and source == 'regions':
                raise InvalidInputError(f'{self.config.scene_path}: the semantic scene has no '
                                        'regions on the floor of the agent; use '
                                        'room_source: navmesh')
        if not rooms:
            rooms = [r for r in self._rooms_from_navmesh() if r[3]]
        if not rooms:
            raise InvalidInputError(f'{self.config.scene_path}: no navigable floor found for '
                                    f'places')
        graph = SceneGraph(Path(self.config.scene_path).stem or 'habitat')
        positions: dict[str, Vec2] = {}
        room_of: dict[str, str] = {}
        snap = self._sim.pathfinder.snap_point
        for name, category, polygon, places in rooms:
            room_id = f'room:{name}'
            graph.add_room(room_id, RoomAttributes(name, category, polygon))
            for k, (x, y) in enumerate(places):
                point = _vec(snap(np.array(map_to_habitat_position((x, y, self._floor_y)),
                                           np.float32)))
                if not np.all(np.isfinite(point)):
                    continue
                mx, my, mz = (round(v, 3) for v in habitat_to_map_position(point))
                place_id = f'place:{name}/{k}'
                graph.add_place(place_id, PlaceAttributes(room_id, (mx, my, mz)))
                positions[place_id] = (mx, my)
                room_of[place_id] = room_id
        dock = max(graph.rooms, key=lambda r: _area(graph.get_room(r).polygon_m)
                   if graph.places_in(r) else -1.0)
        dock = self._view_place_in(graph, dock)

        def geodesic(a: str, b: str) -> float:
            pa = map_to_habitat_position(graph.get_place(a).position_m)
            pb = map_to_habitat_position(graph.get_place(b).position_m)
            return self._path(pa, pb)[1]

        reachable = {p for p in positions if p == dock or math.isfinite(geodesic(dock, p))}
        unreachable = sorted(set(positions) - reachable)
        for place_id in unreachable:
            graph.remove_node(place_id)
            positions.pop(place_id)
        for a, b, length in place_edges(positions, geodesic, self.config.max_edge_m):
            graph.add_edge(EdgeKind.TRAVERSABLE, a, b, length_m=length)
            if room_of[a] != room_of[b]:
                graph.add_edge(EdgeKind.ADJACENT, room_of[a], room_of[b])
        lost_rooms = [r for r in graph.rooms if not graph.places_in(r)]
        for room_id in lost_rooms:
            graph.remove_node(room_id)
        self.diagnostics.update(unreachable_places=unreachable, unreachable_rooms=lost_rooms)
        if unreachable:
            log.warning('%s: %d places not reachable from the dock %s on the navmesh%s: %s',
                        self.config.scene_path, len(unreachable), dock,
                        f', so rooms {", ".join(lost_rooms)} are left out' if lost_rooms else '',
                        ', '.join(unreachable))
        return graph, dock

    @staticmethod
    def _view_place_in(graph: SceneGraph, room_id: str) -> str:
        return min(graph.places_in(room_id), key=lambda p: int(p.rpartition('/')[2]))


def _named(regions: list[tuple[str, tuple[Vec2, ...]]]) -> list[tuple[str, str, tuple[Vec2, ...]]]:
    """(name, category, polygon): names are the category, `_2`, `_3`, … on repeats."""
    counts: dict[str, int] = {}
    out = []
    for category, polygon in regions:
        counts[category] = counts.get(category, 0) + 1
        n = counts[category]
        out.append((category if n == 1 else f'{category}_{n}', category, polygon))
    return out


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
        class ViewNoiseModel(SensorNoiseModel):
            @staticmethod
            def is_valid_sensor_type(sensor_type: Any) -> bool:
                return True

            def apply(self, x: Any) -> Any:
                return x

        registry.register_noise_model(ViewNoiseModel, name=VIEW_NOISE_MODEL)
    return True


def _map_box(lo_hab: np.ndarray, hi_hab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned Habitat box as the same box in `map` (min corner, max corner)."""
    a, b = HABITAT_TO_MAP @ lo_hab, HABITAT_TO_MAP @ hi_hab
    return np.minimum(a, b), np.maximum(a, b)


def _area(polygon: Sequence[Vec2]) -> float:
    pts = np.asarray(polygon, dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))

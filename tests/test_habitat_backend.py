"""Tests of the Habitat backend: pure conversions, and `HabitatSim` on a stand-in habitat_sim.

The conversions are checked with Habitat-shaped data (no habitat_sim needed). `HabitatSim`
runs against a stand-in `habitat_sim` (`_fake_habitat_modules`: a few lines per habitat-sim
call the backend makes, over a two-room flat); the real simulator is tried only where
`habitat_sim` imports and `HABITAT_TEST_SCENE` names a scene.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from robot_memory.core.scene_graph import EdgeKind
from robot_memory.core.types import CameraIntrinsics, StampedPose
from robot_memory.exceptions import BlockedPoseError, InvalidInputError, UnknownNodeError
from robot_memory.sim.backend import SimBackend
from robot_memory.sim.clock import SIM_EPOCH_S
from robot_memory.sim.habitat_backend import (
    HABITAT_TO_MAP,
    HabitatConfig,
    HabitatSim,
    category_table,
    frame_from_observation,
    habitat_camera_to_map,
    habitat_to_map_pose,
    habitat_to_map_position,
    habitat_to_map_quaternion,
    map_to_habitat_position,
    map_to_habitat_quaternion,
    normalize_category,
    place_edges,
    places_along,
    region_polygon,
    room_category,
    spread_points,
    topdown_to_occupancy,
    yaw_to_habitat_quaternion,
)
from robot_memory.sim.renderer import CameraConfig, camera_pose

DOCS = Path(__file__).resolve().parents[1] / 'docs' / 'habitat.md'


def _matrix(q: tuple[float, ...]) -> np.ndarray:
    return StampedPose(0.0, (0.0, 0.0, 0.0), q).matrix()[:3, :3]


def _axis_angle(axis: tuple[float, float, float], angle: float) -> tuple[float, ...]:
    s = math.sin(angle / 2)
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def _same_rotation(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return abs(abs(float(np.dot(a, b))) - 1.0) < 1e-9  # q and -q are one rotation


# ============================================================ conversions
@pytest.mark.parametrize(('habitat', 'rep103'), [
    ((0.0, 0.0, -1.0), (1.0, 0.0, 0.0)),   # Habitat forward (-z) is map forward (+x)
    ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),   # Habitat left (-x) is map left (+y)
    ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),    # up stays up
    ((2.0, 0.5, 3.0), (-3.0, -2.0, 0.5)),
])
def test_habitat_positions_map_to_rep103_axes(habitat, rep103):
    assert habitat_to_map_position(habitat) == pytest.approx(rep103)
    assert map_to_habitat_position(rep103) == pytest.approx(habitat)


def test_the_axis_change_is_a_proper_rotation():
    assert np.allclose(HABITAT_TO_MAP @ HABITAT_TO_MAP.T, np.eye(3))
    assert np.linalg.det(HABITAT_TO_MAP) == pytest.approx(1.0)


def test_an_agent_facing_minus_z_in_habitat_faces_plus_x_in_map():
    pose = habitat_to_map_pose(5.0, (1.0, 0.1, -2.0), (0.0, 0.0, 0.0, 1.0))
    assert pose.position_m == pytest.approx((2.0, -1.0, 0.1))
    assert pose.yaw_rad == pytest.approx(0.0)
    assert pose.matrix()[:3, 0] == pytest.approx((1.0, 0.0, 0.0))  # base_link x: forward


def test_an_agent_turned_to_habitat_plus_x_faces_map_minus_y():
    turned = _axis_angle((0.0, 1.0, 0.0), -math.pi / 2)  # -z turns onto +x
    assert _matrix(turned) @ np.array([0.0, 0.0, -1.0]) == pytest.approx((1.0, 0.0, 0.0))
    pose = habitat_to_map_pose(0.0, (0.0, 0.0, 0.0), turned)
    assert pose.yaw_rad == pytest.approx(-math.pi / 2)


@pytest.mark.parametrize('yaw', [0.0, 0.3, math.pi / 2, 2.5, -1.0, math.pi])
def test_a_yaw_in_map_is_a_turn_about_habitat_up(yaw):
    q = yaw_to_habitat_quaternion(yaw)
    assert math.remainder(habitat_to_map_pose(0.0, (0, 0, 0), q).yaw_rad - yaw, math.tau) == \
        pytest.approx(0.0, abs=1e-12)
    # The agent's forward (-z) in Habitat, carried to map, points along the yaw.
    forward = HABITAT_TO_MAP @ _matrix(q) @ np.array([0.0, 0.0, -1.0])
    assert forward == pytest.approx((math.cos(yaw), math.sin(yaw), 0.0))


def test_quaternions_round_trip_and_conjugate_the_rotation_matrix():
    rng = np.random.default_rng(0)
    for q in rng.normal(size=(50, 4)):
        q = tuple(q / np.linalg.norm(q))
        in_map = habitat_to_map_quaternion(q)
        assert _same_rotation(map_to_habitat_quaternion(in_map), q)
        assert np.allclose(_matrix(in_map), HABITAT_TO_MAP @ _matrix(q) @ HABITAT_TO_MAP.T)


def test_positions_round_trip():
    rng = np.random.default_rng(1)
    for p in rng.normal(scale=5.0, size=(50, 3)):
        assert map_to_habitat_position(habitat_to_map_position(p)) == pytest.approx(tuple(p))


def test_a_level_camera_looks_along_map_x_with_image_y_down():
    m = habitat_camera_to_map((0.0, 1.25, 0.0), (0.0, 0.0, 0.0, 1.0))
    assert m[:3, 2] == pytest.approx((1.0, 0.0, 0.0))   # optical z: forward
    assert m[:3, 0] == pytest.approx((0.0, -1.0, 0.0))  # optical x: right
    assert m[:3, 1] == pytest.approx((0.0, 0.0, -1.0))  # optical y: down
    assert m[:3, 3] == pytest.approx((0.0, 0.0, 1.25))


@pytest.mark.parametrize(('yaw', 'pitch_deg'), [(0.0, 0.0), (0.7, 15.0), (-2.0, 30.0),
                                                  (math.pi, 5.0)])
def test_camera_pose_matches_the_builtin_renderer_for_the_same_mounting(yaw, pitch_deg):
    # Habitat sensor: agent yaw about +y, then the sensor's own pitch about x (negative = down).
    agent = np.array(yaw_to_habitat_quaternion(yaw))
    pitch = np.array(_axis_angle((1.0, 0.0, 0.0), -math.radians(pitch_deg)))
    rot = _matrix(tuple(agent)) @ _matrix(tuple(pitch))
    sensor_q = StampedPose.from_matrix(0.0, np.block([[rot, np.zeros((3, 1))],
                                                      [np.zeros((1, 3)), np.ones((1, 1))]]))
    position = map_to_habitat_position((1.5, -0.5, 1.2))
    ours = habitat_camera_to_map(position, sensor_q.orientation_xyzw)
    builtin = camera_pose(1.5, -0.5, yaw, CameraConfig(height_m=1.2, pitch_deg=pitch_deg))
    assert np.allclose(ours, builtin, atol=1e-9)


def test_region_boxes_become_counter_clockwise_rectangles_in_map():
    polygon = region_polygon((-1.0, 0.0, -3.0), (2.0, 2.5, 1.0))
    assert polygon == ((-1.0, -2.0), (3.0, -2.0), (3.0, 1.0), (-1.0, 1.0))


def test_topdown_navigability_lands_on_the_same_map_cells():
    rng = np.random.default_rng(2)
    navigable = rng.random((37, 53)) > 0.6
    mpp, x0, z0 = 0.1, -2.3, 4.1
    grid, (ox, oy) = topdown_to_occupancy(navigable, mpp, (x0, z0))
    assert grid.shape == (53, 37) and grid.dtype == np.int8
    assert (grid == 0).sum() == navigable.sum()
    for i, j in zip(*np.nonzero(navigable), strict=True):
        x, y, _ = habitat_to_map_position((x0 + j * mpp, 0.0, z0 + i * mpp))
        row, col = math.floor((y - oy) / mpp), math.floor((x - ox) / mpp)
        assert grid[row, col] == 0


# ============================================================ observations
CATEGORIES = {1: 'wall', 2: 'chair', 3: 'table', 4: 'floor', 7: 'potted_plant'}


def _observation(h: int = 6, w: int = 8) -> dict[str, np.ndarray]:
    color = np.zeros((h, w, 4), np.uint8)
    color[..., 0], color[..., 1], color[..., 2], color[..., 3] = 10, 20, 30, 255
    depth = np.full((h, w), 2.0, np.float32)
    depth[0, 0] = 0.0  # no return
    semantic = np.zeros((h, w), np.uint32)
    semantic[:, :2] = 1           # wall
    semantic[:2, 2:5] = 2         # chair
    semantic[3:, 5:] = 3          # table
    semantic[5, 0] = 99           # an instance the semantic scene does not know
    semantic[2:4, 2:4] = 7        # plant
    return {'color_sensor': color, 'depth_sensor': depth, 'semantic_sensor': semantic}


def _convert(obs: dict[str, np.ndarray], seed: int = 0) -> Any:
    return frame_from_observation(
        obs, stamp_s=12.5, map_T_camera=np.eye(4),
        intrinsics=CameraIntrinsics.from_fov(8, 6, 90.0), categories=CATEGORIES,
        rng=np.random.default_rng(seed), frame_index=3)


def test_a_habitat_observation_becomes_a_frame():
    obs = _observation()
    frame, instance_of = _convert(obs)
    assert frame.stamp_s == 12.5 and frame.frame_index == 3
    assert frame.rgb.shape == (6, 8, 3) and frame.rgb.dtype == np.uint8
    assert tuple(frame.rgb[1, 1]) == (10, 20, 30)
    assert frame.depth_m.dtype == np.float32 and math.isnan(frame.depth_m[0, 0])
    assert frame.depth_m[1, 1] == 2.0
    assert frame.segments.dtype == np.int32
    # Objects get segments 1..n; walls, floors and unknown instances are background.
    assert sorted(frame.labels) == [1, 2, 3]
    assert sorted(label.label for label in frame.labels.values()) == \
        ['chair', 'potted_plant', 'table']
    assert sorted(instance_of.values()) == [2, 3, 7]
    for seg, inst in instance_of.items():
        assert np.array_equal(frame.segments == seg, obs['semantic_sensor'] == inst)
        assert frame.labels[seg].label == CATEGORIES[inst]
    assert (frame.segments[obs['semantic_sensor'] == 1] == 0).all()
    assert frame.segments[5, 0] == 0


def test_segment_ids_are_shuffled_per_frame_like_a_detector():
    obs = _observation()
    orders = {tuple(sorted(_convert(obs, seed).instance_of.items())) for seed in range(12)}
    assert len(orders) > 1


@pytest.mark.parametrize(('key', 'bad', 'message'), [
    ('color_sensor', np.zeros((6, 8), np.uint8), 'color_sensor must be 6x8x4'),
    ('depth_sensor', np.zeros((5, 8), np.float32), 'depth_sensor must be 6x8, got (5, 8)'),
    ('semantic_sensor', np.zeros((6, 9), np.uint32), 'semantic_sensor must be 6x8'),
])
def test_observations_of_the_wrong_shape_are_named(key, bad, message):
    obs = _observation()
    obs[key] = bad
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        _convert(obs)


def test_a_missing_sensor_is_named():
    obs = _observation()
    del obs['semantic_sensor']
    with pytest.raises(InvalidInputError, match="observation has no 'semantic_sensor'"):
        _convert(obs)


def _named(name: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(name=lambda: name)


def test_the_category_table_comes_from_the_semantic_scene_objects():
    objects = [types.SimpleNamespace(semantic_id=5, category=_named('Kitchen Cabinet')),
               types.SimpleNamespace(semantic_id=6, category=None),
               None,
               types.SimpleNamespace(semantic_id=8, category=_named('tv-monitor'))]
    assert category_table(objects) == {5: 'kitchen_cabinet', 8: 'tv_monitor'}


@pytest.mark.parametrize(('raw', 'room'), [
    ('living room', 'living_room'), ('familyroom/lounge', 'familyroom'), ('no label', 'room'),
    ('Bathroom', 'bathroom'), ('', 'room')])
def test_region_categories_become_room_categories(raw, room):
    assert room_category(raw) == room


def test_category_names_are_normalised():
    assert normalize_category('  Chest_of Drawers ') == 'chest_of_drawers'


# ================================================================== places
def test_spread_points_start_at_the_first_and_keep_their_distance():
    grid = np.stack(np.meshgrid(np.arange(0, 6.01, 0.25), np.arange(0, 4.01, 0.25)),
                    axis=-1).reshape(-1, 2)
    chosen = spread_points(grid, (3.0, 2.0), 2.0, 5)
    assert chosen[0] == (3.0, 2.0) and len(chosen) == 5
    assert min(math.dist(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1:]) >= 2.0
    assert spread_points(grid, (3.0, 2.0), 10.0, 5) == [(3.0, 2.0)]


def test_place_edges_join_near_places_and_bridge_groups_by_geodesic():
    positions = {'place:a/0': (0.0, 0.0), 'place:a/1': (2.0, 0.0), 'place:b/0': (9.0, 0.0),
                 'place:c/0': (50.0, 50.0)}

    def geodesic(a: str, b: str) -> float:
        if 'place:c/0' in (a, b):
            return math.inf  # another navmesh island
        return math.dist(positions[a], positions[b]) * 1.1

    edges = place_edges(positions, geodesic, max_edge_m=4.0)
    pairs = {(a, b) for a, b, _ in edges}
    assert pairs == {('place:a/0', 'place:a/1'), ('place:a/1', 'place:b/0')}
    assert dict(((a, b), length) for a, b, length in edges)[('place:a/1', 'place:b/0')] == \
        pytest.approx(7.7)


def test_places_along_a_path_come_in_travel_order():
    path = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0)]
    places = {'p:end': (4.1, 3.9), 'p:mid': (2.0, 0.2), 'p:corner': (3.9, 0.1),
              'p:off': (0.0, 3.0)}
    assert places_along(path, places, 0.5) == ['p:mid', 'p:corner', 'p:end']


# ================================================================== config
def _docs_yaml() -> str:
    text = DOCS.read_text(encoding='utf-8')
    section = text.split('## `config/habitat.yaml`', 1)[1]
    return section.split('```yaml\n', 1)[1].split('```', 1)[0]


def test_the_documented_config_loads_and_shows_the_defaults(tmp_path):
    path = tmp_path / 'habitat.yaml'
    path.write_text(_docs_yaml(), encoding='utf-8')
    config = HabitatConfig.from_yaml(path)
    assert config.scene_path.endswith('17DRP5sb8fy.glb')
    defaults = HabitatConfig(scene_path=config.scene_path)
    assert config == defaults
    assert config.intrinsics.width == 640 and config.intrinsics.hfov_rad == \
        pytest.approx(math.pi / 2)


def test_config_paths_expand_environment_variables(monkeypatch):
    monkeypatch.setenv('HABITAT_DATA', '/data/habitat')
    config = HabitatConfig.from_dict({'scene_path': '$HABITAT_DATA/scene.glb', 'seed': '4',
                                      'recompute_navmesh': 'false'})
    assert config.scene_path == '/data/habitat/scene.glb' and config.seed == 4
    assert config.recompute_navmesh is False


@pytest.mark.parametrize(('data', 'message'), [
    ({'scene_path': 'a.glb', 'sensor_fov': 90}, "unknown Habitat config keys ['sensor_fov']"),
    ({'sensor_width_px': 64}, 'the Habitat config needs scene_path'),
    ({'scene_path': 'a.glb', 'room_source': 'rooms'},
     "room_source 'rooms'; valid: auto, regions, navmesh"),
    ({'scene_path': 'a.glb', 'sensor_hfov_deg': 190}, 'sensor_hfov_deg must be in (0, 180)'),
    ({'scene_path': 'a.glb', 'agent_radius_m': 0}, 'agent_radius_m must be positive, got 0.0'),
    ({'scene_path': 'a.glb', 'seed': 'x'}, "Habitat config seed: bad value 'x'"),
    ({'scene_path': 'a.glb', 'recompute_navmesh': 'maybe'},
     "Habitat config recompute_navmesh: bad value 'maybe'"),
])
def test_bad_configs_are_named(data, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        HabitatConfig.from_dict(data)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match='cannot read the Habitat config'):
        HabitatConfig.from_yaml(tmp_path / 'absent.yaml')


def test_without_habitat_sim_the_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, 'habitat_sim', None)  # import fails
    with pytest.raises(ImportError, match='conda install habitat-sim'):
        HabitatSim(HabitatConfig(scene_path='a.glb'))


# ========================================================= stand-in Habitat
# A flat of two rooms side by side in map coordinates: west x 0..4, east x 4..8, y 0..3, a
# wall at x = 4 with a 0.86 m doorway around y = 1.5. Navigable: 0.2 m clear of every wall,
# so the navmesh's doorway is 0.46 m wide, as a 0.18 m agent's would be.
DOOR_MAP = (4.0, 1.5)
DOOR_Y = (1.07, 1.93)


def _navigable_map(x: float, y: float) -> bool:
    if not (0.2 <= x <= 7.8 and 0.2 <= y <= 2.8):
        return False
    return abs(x - 4.0) >= 0.2 or DOOR_Y[0] + 0.2 <= y <= DOOR_Y[1] - 0.2


def _clearance_map(x: float, y: float) -> float:
    d = min(x, 8.0 - x, y, 3.0 - y)
    for wy0, wy1 in ((0.0, DOOR_Y[0]), (DOOR_Y[1], 3.0)):  # the wall on both sides of the door
        dy = max(wy0 - y, 0.0, y - wy1)
        d = min(d, math.hypot(x - 4.0, dy))
    return d


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz])


class _PathFinder:
    def __init__(self) -> None:
        self.seeds: list[int] = []
        self.is_loaded = True

    def seed(self, value: int) -> None:
        self.seeds.append(value)

    @staticmethod
    def _map(pt: Any) -> tuple[float, float]:
        x, y, _ = habitat_to_map_position(pt)
        return x, y

    def is_navigable(self, pt: Any, max_y_delta: float = 0.5) -> bool:
        return abs(float(pt[1])) <= max_y_delta and _navigable_map(*self._map(pt))

    def distance_to_closest_obstacle(self, pt: Any, max_search_radius: float = 2.0) -> float:
        return min(_clearance_map(*self._map(pt)), max_search_radius)

    def snap_point(self, pt: Any) -> np.ndarray:
        x, y = self._map(pt)
        x, y = min(max(x, 0.2), 7.8), min(max(y, 0.2), 2.8)
        if not _navigable_map(x, y):  # in the wall band beside the door: step out of it
            x = 3.8 if x < 4.0 else 4.2
        return np.array(map_to_habitat_position((x, y, 0.0)), np.float32)

    def try_step(self, start: Any, end: Any) -> np.ndarray:
        return np.asarray(end if self.is_navigable(end) else start, np.float32)

    def find_path(self, path: Any) -> bool:
        a, b = self._map(path.requested_start), self._map(path.requested_end)
        if not (_navigable_map(*a) and _navigable_map(*b)):
            path.points, path.geodesic_distance = [], math.inf
            return False
        corners = [a, DOOR_MAP, b] if (a[0] < 4.0) != (b[0] < 4.0) else [a, b]
        path.points = [np.array(map_to_habitat_position((x, y, 0.0)), np.float32)
                       for x, y in corners]
        path.geodesic_distance = sum(math.dist(p, q) for p, q in itertools.pairwise(corners))
        return True

    def get_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.array(map_to_habitat_position((7.8, 2.8, 0.0)))
        hi = np.array(map_to_habitat_position((0.2, 0.2, 0.0)))
        return lo, hi

    def get_topdown_view(self, meters_per_pixel: float, height: float) -> np.ndarray:
        # As habitat-sim: rows along z, columns along x, from the bounds' minimum.
        lo, hi = self.get_bounds()
        rows = int((hi[2] - lo[2]) / meters_per_pixel)
        cols = int((hi[0] - lo[0]) / meters_per_pixel)
        out = np.zeros((rows, cols), bool)
        for i in range(rows):
            for j in range(cols):
                point = (lo[0] + j * meters_per_pixel, height, lo[2] + i * meters_per_pixel)
                out[i, j] = self.is_navigable(point)
        return out


class _Agent:
    def __init__(self, specs: list[Any]) -> None:
        self._specs = {s.uuid: s for s in specs}
        self._position = np.array(map_to_habitat_position((1.0, 1.0, 0.0)), np.float32)
        self._rotation = np.array([0.0, 0.0, 0.0, 1.0])

    def get_state(self) -> Any:
        sensors = {}
        for uuid, spec in self._specs.items():
            pitch = np.array(_axis_angle((1.0, 0.0, 0.0), spec.orientation[0]))
            offset = _matrix(tuple(self._rotation)) @ np.asarray(spec.position, float)
            sensors[uuid] = types.SimpleNamespace(position=self._position + offset,
                                                  rotation=_quat_mul(self._rotation, pitch))
        return types.SimpleNamespace(position=self._position.copy(),
                                     rotation=self._rotation.copy(), sensor_states=sensors)

    def set_state(self, state: Any, reset_sensors: bool = True) -> None:
        self._position = np.asarray(state.position, np.float32)
        self._rotation = np.asarray(state.rotation, float)


class _Simulator:
    with_regions = True
    made: ClassVar[list[_Simulator]] = []

    def __init__(self, config: Any) -> None:
        _Simulator.made.append(self)
        self.config = config
        agent_cfg = config.agents[0]
        self.pathfinder = _PathFinder()
        self._agent = _Agent(agent_cfg.sensor_specifications)
        spec = agent_cfg.sensor_specifications[0]
        self._shape = tuple(spec.resolution)
        west = types.SimpleNamespace(min=map_to_habitat_position((4.0, 3.0, 0.0)),
                                     max=map_to_habitat_position((0.0, 0.0, 2.5)))
        # Older habitat-sim boxes give a centre and sizes instead of corners.
        east = types.SimpleNamespace(center=map_to_habitat_position((6.0, 1.5, 1.25)),
                                     sizes=(3.0, 2.5, 4.0))
        self.semantic_scene = types.SimpleNamespace(
            regions=[types.SimpleNamespace(category=_named('living room'), aabb=box)
                     for box in (west, east) if self.with_regions],
            objects=[types.SimpleNamespace(semantic_id=k, category=_named(CATEGORIES[k]))
                     for k in CATEGORIES])
        self.closed = False
        self.observations = 0
        self.navmesh_settings: Any = None

    def recompute_navmesh(self, pathfinder: _PathFinder, settings: Any) -> bool:
        self.navmesh_settings = settings
        pathfinder.is_loaded = True
        return True

    def get_agent(self, index: int) -> _Agent:
        return self._agent

    def reset(self) -> None:
        self._agent.set_state(types.SimpleNamespace(
            position=map_to_habitat_position((1.0, 1.0, 0.0)), rotation=(0.0, 0.0, 0.0, 1.0)))

    def seed(self, value: int) -> None:
        self.pathfinder.seed(value)

    def get_sensor_observations(self) -> dict[str, np.ndarray]:
        self.observations += 1
        h, w = self._shape
        obs = _observation(h, w)
        return obs

    def close(self) -> None:
        self.closed = True


def _fake_habitat_modules() -> dict[str, types.ModuleType]:
    hab = types.ModuleType('habitat_sim')
    agent = types.ModuleType('habitat_sim.agent')
    utils = types.ModuleType('habitat_sim.utils')
    common = types.ModuleType('habitat_sim.utils.common')

    class Spec(types.SimpleNamespace):
        pass

    hab.SimulatorConfiguration = Spec
    hab.CameraSensorSpec = Spec
    hab.SensorType = types.SimpleNamespace(COLOR='color', DEPTH='depth', SEMANTIC='semantic')
    hab.SensorSubType = types.SimpleNamespace(PINHOLE='pinhole')
    hab.Configuration = lambda sim, agents: types.SimpleNamespace(sim=sim, agents=agents)
    hab.ShortestPath = Spec

    class NavMeshSettings(Spec):
        def set_defaults(self) -> None:
            self.agent_radius, self.agent_height = 0.1, 1.5

    hab.NavMeshSettings = NavMeshSettings
    hab.Simulator = _Simulator
    agent.AgentConfiguration = Spec
    agent.AgentState = Spec
    hab.agent = agent
    hab.utils = utils
    utils.common = common
    common.quat_from_coeffs = lambda c: np.asarray(c, float)  # stands in for np.quaternion
    common.quat_to_coeffs = lambda q: np.asarray(q, float)
    return {'habitat_sim': hab, 'habitat_sim.agent': agent, 'habitat_sim.utils': utils,
            'habitat_sim.utils.common': common}


@pytest.fixture()
def fake_habitat(monkeypatch) -> None:
    for name, module in _fake_habitat_modules().items():
        monkeypatch.setitem(sys.modules, name, module)


def _sim(**overrides: Any) -> HabitatSim:
    # The stand-in has no renderer to look at the floor or check semantics with.
    config = HabitatConfig(scene_path='flat.glb', sensor_width_px=8, sensor_height_px=6,
                           look_around_views=4, max_places_per_room=2,
                           sensor_height_above='navmesh', semantic_check='off')
    return HabitatSim(config, **overrides)


@pytest.mark.parametrize('room_source', ['regions', 'navmesh'])
def test_habitat_rooms_and_places_from_regions_or_the_navmesh(fake_habitat, room_source):
    with _sim(room_source=room_source) as sim:
        graph = sim.scene_graph()
    assert len(graph.rooms) == 2
    west, east = sorted(graph.rooms, key=lambda r: graph.get_room(r).centroid_m[0])
    assert graph.get_room(west).centroid_m[0] < 4.0 < graph.get_room(east).centroid_m[0]
    assert graph.has_edge(EdgeKind.ADJACENT, west, east)
    for room in (west, east):
        places = graph.places_in(room)
        assert places
        for place in places:
            x, y, _ = graph.get_place(place).position_m
            assert graph.get_room(room).contains_xy(x, y) and _navigable_map(x, y)
    # Every place reaches every other one.
    first = graph.places[0]
    for place in graph.places[1:]:
        graph.place_path(first, place)
    if room_source == 'regions':
        assert {graph.get_room(r).category for r in graph.rooms} == {'living_room'}
        assert sorted(graph.rooms) == ['room:living_room', 'room:living_room_2']


def test_habitat_sim_is_a_sim_backend_that_drives_through_the_door(fake_habitat):
    sim = _sim()
    assert isinstance(sim, SimBackend)
    assert sim.now_s == SIM_EPOCH_S
    graph = sim.scene_graph()
    start = sim.place_id
    here = graph.room_of(start)
    other = next(r for r in graph.rooms if r != here)
    goal = graph.places_in(other)[0]
    result = sim.go_to(goal)
    assert result.path[0] == start and result.path[-1] == goal
    gx, gy, _ = graph.get_place(goal).position_m
    sx, sy, _ = graph.get_place(start).position_m
    assert result.distance_m == pytest.approx(math.dist((sx, sy), DOOR_MAP) +
                                              math.dist(DOOR_MAP, (gx, gy)), abs=1e-3)
    assert result.duration_s >= result.distance_m / sim.config.speed_mps
    assert sim.now_s == pytest.approx(SIM_EPOCH_S + result.duration_s)
    assert len(result.frames) == int(result.distance_m / sim.config.capture_every_m + 1e-9)
    assert sim.pose.position_m[:2] == pytest.approx((gx, gy), abs=1e-5)
    assert sim.place_id == goal
    for frame in result.frames:
        x, y, z = frame.map_T_camera[:3, 3]
        assert _navigable_map(x, y) and z == pytest.approx(sim.config.sensor_height_m)
        assert sorted(label.label for label in frame.labels.values()) == \
            ['chair', 'potted_plant', 'table']
        assert set(sim.frame_truth(frame.frame_index).values()) == \
            {'habitat:2', 'habitat:3', 'habitat:7'}
    # The camera looks along the leg of the path it was taken on: start → door → goal.
    for frame in result.frames:
        x = frame.map_T_camera[0, 3]
        if abs(x - DOOR_MAP[0]) < 1e-6:
            continue
        a, b = ((sx, sy), DOOR_MAP) if x < DOOR_MAP[0] else (DOOR_MAP, (gx, gy))
        leg = np.array([b[0] - a[0], b[1] - a[1], 0.0])
        assert frame.map_T_camera[:3, 2] == pytest.approx(leg / np.linalg.norm(leg), abs=1e-6)
    with pytest.raises(UnknownNodeError):
        sim.frame_truth(10_000)
    sim.close()
    assert sim._sim.closed


def test_habitat_look_around_turns_a_full_circle_in_place(fake_habitat):
    sim = _sim(sensor_pitch_deg=20.0)
    before = sim.pose
    frames = sim.look_around(4)
    yaws = [math.atan2(f.map_T_camera[1, 2], f.map_T_camera[0, 2]) for f in frames]
    steps = [math.remainder(b - a, math.tau) for a, b in itertools.pairwise(yaws)]
    assert steps == pytest.approx([math.pi / 2] * 3)
    assert frames[0].map_T_camera[2, 2] == pytest.approx(-math.sin(math.radians(20.0)))
    assert sim.pose.position_m == pytest.approx(before.position_m)
    assert sim.now_s == pytest.approx(SIM_EPOCH_S + 3 * (math.pi / 2) / sim.config.turn_rate_rad_s)
    assert [f.frame_index for f in frames] == [0, 1, 2, 3]
    with pytest.raises(InvalidInputError, match='n_views must be ≥ 1'):
        sim.look_around(0)


def test_habitat_step_teleport_and_reset(fake_habitat, caplog):
    sim = _sim()
    sim.step(60.0)
    assert sim.now_s == SIM_EPOCH_S + 60.0
    with pytest.raises(InvalidInputError, match='dt_s must be ≥ 0'):
        sim.step(-1.0)
    sim.teleport(2.0, 2.0, math.pi / 2)
    assert sim.pose.position_m[:2] == pytest.approx((2.0, 2.0))
    assert sim.pose.yaw_rad == pytest.approx(math.pi / 2)
    with caplog.at_level(logging.WARNING):
        sim.teleport(4.1, 0.5, 0.0)  # into the wall: onto the nearest navigable point
    assert sim.pose.position_m[:2] == pytest.approx((4.2, 0.5))
    assert 'off the navmesh: moved 0.10 m' in caplog.text
    with pytest.raises(BlockedPoseError, match=r'\(20.00, 20.00\) is not on the navmesh.*'
                                               r'21.09 m away, more than teleport_snap_m'):
        sim.teleport(20.0, 20.0, 0.0)  # far outside: refused, the robot stays
    assert sim.pose.position_m[:2] == pytest.approx((4.2, 0.5))
    with pytest.raises(InvalidInputError, match='finite pose'):
        sim.teleport(math.nan, 0.0, 0.0)
    sim.reset(seed=3)
    assert sim.now_s == SIM_EPOCH_S and sim.config.seed == 3
    assert sim._sim.pathfinder.seeds[-1] == 3
    dock = sim.scene_graph().get_place(sim.place_id).position_m
    assert sim.pose.position_m[:2] == pytest.approx(dock[:2], abs=1e-5)


def test_habitat_patrol_visits_rooms_and_returns_to_the_dock(fake_habitat):
    sim = _sim(patrol_fraction=1.0, patrol_start_hours=(9.0,))
    frames = list(sim.patrol_day(0))
    assert len(frames) >= 2 * sim.config.look_around_views
    assert sim.place_id == sim._dock
    stamps = [f.stamp_s for f in frames]
    assert stamps == sorted(stamps) and stamps[0] >= SIM_EPOCH_S + 9 * 3600


def test_habitat_navmesh_is_rebuilt_for_the_agent_when_asked(fake_habitat):
    assert _sim()._sim.navmesh_settings is None  # the scene's own navmesh
    settings = _sim(recompute_navmesh=True, agent_radius_m=0.25)._sim.navmesh_settings
    assert (settings.agent_radius, settings.agent_height) == (0.25, 1.5)


def test_a_scene_without_regions_is_named_and_released(fake_habitat, monkeypatch):
    monkeypatch.setattr(_Simulator, 'with_regions', False)
    with pytest.raises(InvalidInputError, match=re.escape(
            'flat.glb: the semantic scene has no regions on the floor of the agent; use '
            'room_source: navmesh')):
        _sim(room_source='regions')
    assert _Simulator.made[-1].closed
    assert len(_sim().scene_graph().rooms) == 2  # auto: segmented from the navmesh instead


def test_unreachable_rooms_are_a_warning_and_in_the_diagnostics(fake_habitat, monkeypatch,
                                                                caplog):
    # A closed door: the navmesh has no path between the two rooms.
    finder = _PathFinder.find_path

    def closed_door(self, path):
        a, b = self._map(path.requested_start), self._map(path.requested_end)
        return (a[0] < 4.0) == (b[0] < 4.0) and finder(self, path)

    monkeypatch.setattr(_PathFinder, 'find_path', closed_door)
    with caplog.at_level(logging.WARNING), _sim() as sim:
        graph = sim.scene_graph()
    assert len(graph.rooms) == 1
    lost = sim.diagnostics['unreachable_rooms']
    assert len(lost) == 1 and lost[0] not in graph.rooms
    assert sim.diagnostics['unreachable_places']
    assert f'so rooms {lost[0]} are left out' in caplog.text


def test_habitat_go_to_an_unknown_place_is_a_named_error(fake_habitat):
    sim = _sim()
    with pytest.raises(UnknownNodeError, match="no place 'place:garage/0'"):
        sim.go_to('place:garage/0')


# ============================================================ real habitat
def test_real_habitat_scene_gives_frames_and_rooms():
    pytest.importorskip('habitat_sim', reason='habitat-sim is not installed (it is distributed '
                                              'through conda only; see docs/habitat.md)')
    scene = os.environ.get('HABITAT_TEST_SCENE')
    if not scene:
        pytest.skip('set HABITAT_TEST_SCENE to a Habitat scene (.glb) to run this test')
    with HabitatSim(HabitatConfig(scene_path=scene, sensor_width_px=160,
                                  sensor_height_px=120)) as sim:
        graph = sim.scene_graph()
        assert graph.rooms and graph.places
        frame = sim.observe()
        assert frame.rgb.shape == (120, 160, 3)
        # The camera is sensor_height_m above the floor, not above the navmesh the agent
        # stands on (habitat-sim's lies ~0.1 m higher).
        floor_z = sim.pose.position_m[2] - sim.diagnostics['navmesh_above_floor_m']
        assert frame.map_T_camera[2, 3] == pytest.approx(
            floor_z + sim.config.sensor_height_m, abs=0.01)
        goal = graph.places[-1]
        result = sim.go_to(goal, capture=False)
        assert result.path[-1] == goal and math.isfinite(result.distance_m)

"""Tests of the raycasting renderer: depth, instance segments, colours."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip('open3d', reason='open3d is needed for the raycasting renderer')

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.backend import BuiltinSim
from robot_memory.sim.renderer import CameraConfig, RenderConfig, Renderer, camera_pose
from robot_memory.sim.world import COLORS, WALL_THICKNESS_M, World


@pytest.fixture(scope='module')
def world() -> World:
    # The flat style: one catalogue box and colour per object, so albedos are known here.
    return World.generate(0, 'apartment', 'flat')


@pytest.fixture(scope='module')
def renderer(world) -> Renderer:
    r = Renderer(world)
    r.set_state(world.initial_state)
    return r


def _view_poses(world: World, camera: CameraConfig, n_yaw: int = 8) -> list[np.ndarray]:
    return [camera_pose(p.position_m[0], p.position_m[1], k * math.tau / n_yaw, camera)
            for p in world.places if p.door < 0 for k in range(n_yaw)]


@pytest.mark.parametrize('stride', [1, 4])
def test_depth_of_a_known_wall_matches_the_analytic_distance(world, renderer, stride):
    room = next(r for r in world.rooms if r.category != 'hallway')
    place = world.places_in(room.name)[0]
    x, y, _ = place.position_m
    pose = camera_pose(x, y, 0.0, renderer.camera)  # facing +x: the room's east wall
    out = renderer.render(pose, stride=stride)
    wall_x = room.x1 - WALL_THICKNESS_M
    east = [i for i, o in enumerate(renderer.owners) if o.kind == 'wall'
            and abs(renderer.box_lo[i][0] - wall_x) < 1e-6
            and room.y0 - 1e-6 <= renderer.box_lo[i][1] < room.y1]
    mask = np.isin(out.owner, east)
    assert mask.sum() > 1000
    k = renderer.intrinsics
    v, u = np.nonzero(mask)
    d_cam = np.stack([(u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u, dtype=float)])
    d_map = pose[:3, :3] @ d_cam
    analytic = (wall_x - pose[0, 3]) / d_map[0]  # z-depth, as the ray's z component is 1
    assert np.abs(out.depth_m[mask] - analytic).max() < 1e-3


def _first_hit(origin: np.ndarray, direction: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> int:
    with np.errstate(divide='ignore', invalid='ignore'):
        t1 = (lo - origin) / direction
        t2 = (hi - origin) / direction
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (t_far >= np.maximum(t_near, 0.0))
    t_near = np.where(hit, np.maximum(t_near, 0.0), np.inf)
    return int(np.argmin(t_near)) if hit.any() else -1


def test_visible_objects_segment_projects_where_their_centroid_is():
    sim = BuiltinSim(seed=3, camera=CameraConfig(width=320, height=240))
    world, r = sim.world, sim.renderer
    checked = 0
    for place in [p for p in world.places if p.door < 0][:4]:
        for k in range(8):
            sim.teleport(place.position_m[0], place.position_m[1], k * math.tau / 8)
            frame = sim.observe()
            truth = sim.last_frame_truth()
            pose, kk = frame.map_T_camera, frame.intrinsics
            for owner_id in truth.values():
                if not owner_id.startswith('obj:'):
                    continue
                centroid = np.array(sim.activity.state.placements[owner_id].position_m)
                pc = pose[:3, :3].T @ (centroid - pose[:3, 3])
                u = round(kk.fx * pc[0] / pc[2] + kk.cx)
                v = round(kk.fy * pc[1] / pc[2] + kk.cy)
                if not (0 <= u < kk.width and 0 <= v < kk.height):
                    continue
                ray = pose[:3, :3] @ np.array([(u - kk.cx) / kk.fx, (v - kk.cy) / kk.fy, 1.0])
                first = _first_hit(pose[:3, 3], ray, r.box_lo, r.box_hi)
                if r.owners[first].owner_id != owner_id:
                    continue  # occluded at the centroid's pixel
                assert truth.get(int(frame.segments[v, u])) == owner_id
                assert frame.labels[int(frame.segments[v, u])].label == owner_id[4:].rsplit(
                    '_', 1)[0]
                checked += 1
    assert checked >= 10


def test_adaptive_casting_matches_casting_every_pixel(world, renderer):
    poses = _view_poses(world, renderer.camera)[::3]
    for pose in poses:
        fast = renderer.render(pose)
        full = renderer.render(pose, stride=1)
        same = fast.owner == full.owner
        assert same.mean() > 0.999
        both = same & np.isfinite(fast.depth_m) & np.isfinite(full.depth_m)
        assert np.abs(fast.depth_m[both] - full.depth_m[both]).max() < 1e-3
        assert fast.rays_cast < full.rays_cast


def test_object_pixels_carry_their_albedo_with_face_shading(renderer, world):
    pose = _view_poses(world, renderer.camera)[0]
    out = renderer.render(pose)
    for index in np.unique(out.owner):
        owner = renderer.owners[index] if index >= 0 else None
        if owner is None or owner.kind != 'object':
            continue
        obj = world.initial_state.objects[owner.owner_id]
        albedo = np.array(COLORS[obj.color], dtype=float)
        pixels = out.rgb[out.owner == index].astype(float)
        ratio = pixels.sum(axis=1) / max(albedo.sum(), 1.0)
        assert np.all((ratio > 0.4) & (ratio < 1.01))


def test_background_and_out_of_range_depth_are_nan():
    world = World.generate(0, 'apartment')
    r = Renderer(world, CameraConfig(width=160, height=120, far_m=2.5))
    r.set_state(world.initial_state)
    place = world.places[0]
    out = r.render(camera_pose(place.position_m[0], place.position_m[1], 0.0, r.camera))
    finite = out.depth_m[np.isfinite(out.depth_m)]
    assert finite.size and finite.max() <= 2.5 and np.isnan(out.depth_m).any()
    assert out.rgb.dtype == np.uint8 and out.depth_m.dtype == np.float32


def test_noise_is_optional_and_seeded():
    world = World.generate(0, 'apartment')
    noisy = Renderer(world, CameraConfig(width=160, height=120),
                     RenderConfig(rgb_noise_std=4.0, depth_noise_std_m=0.01))
    noisy.set_state(world.initial_state)
    pose = camera_pose(*world.places[0].position_m[:2], 0.0, noisy.camera)
    a = noisy.render(pose, np.random.default_rng(0))
    b = noisy.render(pose, np.random.default_rng(0))
    clean = noisy.render(pose)
    assert np.array_equal(a.rgb, b.rgb)
    assert not np.array_equal(a.rgb, clean.rgb)


def test_in_a_home_light_dims_lit_surfaces_but_not_a_lamp_that_is_on():
    home = World.generate(0, 'apartment')
    state = home.initial_state.copy()
    lamps = [k for k, o in state.objects.items() if o.cls == 'lamp']
    assert lamps
    for lamp in lamps:
        state.set_state(lamp, 'on')
    r = Renderer(home)
    r.set_state(state)
    lit, dim = [], []
    for gains, into in (((1.0, 1.0, 1.0), lit), ((0.3, 0.25, 0.2), dim)):
        r.set_light(gains)
        for pose in _view_poses(home, r.camera, 4):
            out = r.render(pose)
            into.append(out)
    glowing = sum(int((o.rgb.max(axis=2) >= 250).sum()) for o in dim)
    assert glowing > 0, 'a lamp that is on saturates the camera even in a dim room'
    for a, b in zip(lit, dim, strict=True):
        walls = (a.owner >= 0) & (a.rgb.max(axis=2) < 250)
        assert b.rgb[walls].mean() < 0.35 * a.rgb[walls].mean()
    with pytest.raises(InvalidInputError, match='gains'):
        r.set_light((-1.0, 1.0, 1.0))

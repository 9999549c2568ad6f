"""RGB-D + instance rendering on Open3D's `RaycastingScene` (CPU).

The whole world is one triangle mesh of axis-aligned boxes (12 triangles each, two per face, in
a fixed face order), so a hit triangle maps to its box and face with a numpy lookup. Shading is
per face (albedo × a fixed directional light), so it is a table lookup too.

Casting one ray per pixel costs ~90 ns per ray on one core here regardless of the scene, which
alone is over 25 ms at 640×480. The renderer therefore casts adaptively: one ray at every
`stride`-th pixel, and every pixel of a block whose four corner rays hit different faces (or
that may hide a thin box) is cast too; the other blocks lie on a single planar face, whose
depth is computed exactly by intersecting each pixel's ray with that face's plane. `stride=1`
casts every pixel.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from robot_memory.core.types import CameraIntrinsics
from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.appearance import object_parts
from robot_memory.sim.world import COLORS, Box, World, WorldState

__all__ = [
    'CameraConfig',
    'RenderConfig',
    'RenderOutput',
    'Renderer',
    'box_mesh',
    'camera_pose',
]

# Face order of every box: -x, +x, -y, +y, -z, +z (triangles 2f and 2f + 1).
FACE_NORMALS = np.array(
    [[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]], dtype=np.float64)
_CORNERS = np.array([[i & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], dtype=np.float64)
# Vertex indices (into _CORNERS) of the two triangles of each face, in FACE_NORMALS order.
_FACE_TRIS = np.array([
    [0, 4, 6], [0, 6, 2],  # -x
    [1, 3, 7], [1, 7, 5],  # +x
    [0, 1, 5], [0, 5, 4],  # -y
    [2, 6, 7], [2, 7, 3],  # +y
    [0, 2, 3], [0, 3, 1],  # -z
    [4, 5, 7], [4, 7, 6],  # +z
], dtype=np.int64)
_STRUCTURE_RGB = {'wall': (205, 200, 190), 'floor': (150, 120, 90), 'ceiling': (240, 240, 240)}
_HOME_STRUCTURE_RGB = {'wall': (228, 225, 218), 'floor': (150, 120, 90),
                       'ceiling': (244, 244, 242)}


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """The robot's camera: image size, field of view, mounting height and pitch, range."""

    width: int = 640
    height: int = 480
    hfov_deg: float = 69.0
    height_m: float = 1.2
    pitch_deg: float = 15.0  # downwards
    near_m: float = 0.1
    far_m: float = 8.0

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """Pinhole intrinsics of the camera."""
        return CameraIntrinsics.from_fov(self.width, self.height, self.hfov_deg)


@dataclass(frozen=True, slots=True)
class RenderConfig:
    """Renderer settings: adaptive stride, noise, light, threads."""

    stride: int = 4
    rgb_noise_std: float = 0.0
    depth_noise_std_m: float = 0.0
    # Share of light that reaches every face (None: the world style's — 0.45 flat; 0.62 in a
    # home, whose walls and ceiling throw light back into the shade).
    ambient: float | None = None
    light_dir: tuple[float, float, float] = (0.3, 0.5, 1.0)  # towards the light, in map
    nthreads: int = 1

    def __post_init__(self) -> None:
        if self.stride < 1:
            raise InvalidInputError(f'stride must be ≥ 1, got {self.stride}')


class RenderOutput(NamedTuple):
    """One rendered view: RGB, z-depth (NaN = no return) and the owner index of each pixel."""

    rgb: np.ndarray  # (H, W, 3) uint8
    depth_m: np.ndarray  # (H, W) float32
    owner: np.ndarray  # (H, W) int32 index into Renderer.owners, -1 = nothing hit
    rays_cast: int


def box_mesh(lo: Sequence[float], hi: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (8, 3) and triangles (12, 3) of a box, faces in FACE_NORMALS order."""
    lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    return lo_a + _CORNERS * (hi_a - lo_a), _FACE_TRIS.copy()


def camera_pose(x: float, y: float, yaw_rad: float, camera: CameraConfig) -> np.ndarray:
    """`map_T_camera` (optical: z forward, x right, y down) of a robot at (x, y, yaw)."""
    p = math.radians(camera.pitch_deg)
    cy_, sy_ = math.cos(yaw_rad), math.sin(yaw_rad)
    z_axis = np.array([cy_ * math.cos(p), sy_ * math.cos(p), -math.sin(p)])
    x_axis = np.array([sy_, -cy_, 0.0])
    y_axis = np.cross(z_axis, x_axis)
    out = np.eye(4)
    out[:3, 0], out[:3, 1], out[:3, 2] = x_axis, y_axis, z_axis
    out[:3, 3] = (x, y, camera.height_m)
    return out


@dataclass(frozen=True, slots=True)
class Owner:
    """What a box belongs to: a structure kind ('wall', …), furniture or object id."""

    owner_id: str
    kind: str  # 'wall' | 'floor' | 'ceiling' | 'furniture' | 'object'


_Drawn = tuple[Owner, Box, tuple[int, int, int], bool]  # owner, box, albedo, emits light


class Renderer:
    """Renders a world (structure + furniture + the objects of a state) from camera poses."""

    def __init__(self, world: World, camera: CameraConfig | None = None,
                 config: RenderConfig | None = None) -> None:
        import open3d as o3d

        self._o3d = o3d
        self.world = world
        self.camera = camera or CameraConfig()
        self.config = config or RenderConfig()
        k = self.camera.intrinsics
        self.intrinsics = k
        # Camera-frame ray directions with z = 1, so a hit distance is the z-depth directly;
        # a margin past the image holds the last corner rays of partial blocks (stride ≤ 64).
        self._xs = (np.arange(k.width + 64) - k.cx) / k.fx
        self._ys = (np.arange(k.height + 64) - k.cy) / k.fy
        self._xs32, self._ys32 = self._xs.astype(np.float32), self._ys.astype(np.float32)
        light = np.asarray(self.config.light_dir, dtype=np.float64)
        home = world.style == 'home'
        ambient = self.config.ambient if self.config.ambient is not None else (
            0.62 if home else 0.45)
        self._face_shade = ambient + (1 - ambient) * np.clip(
            FACE_NORMALS @ (light / np.linalg.norm(light)), 0.0, 1.0)
        static: list[_Drawn] = []
        for kind, (lo, hi) in world.structure_boxes():
            static.append((Owner('', kind), (lo, hi),
                           (_HOME_STRUCTURE_RGB if home else _STRUCTURE_RGB)[kind], False))
        for furn in world.furniture:
            static.append((Owner(furn.furn_id, 'furniture'), furn.box_m, COLORS[furn.color],
                           False))
        self._static = static
        self._state_key: tuple[int, int] | None = None
        self._gains = (1.0, 1.0, 1.0)
        self.owners: list[Owner] = []
        self.triangles = 0
        self._scene: Any = None  # an open3d RaycastingScene (open3d is untyped)

    # ------------------------------------------------------------------ scene
    def set_state(self, state: WorldState) -> None:
        """Use the objects of a world state; rebuilds the scene only when the state changed."""
        key = (id(state), state.version)
        if key == self._state_key:
            return
        boxes = list(self._static)
        for obj_id in sorted(state.placements):
            placement = state.placements[obj_id]
            if placement.relation == 'in':  # inside closed furniture: never visible
                continue
            owner = Owner(obj_id, 'object')
            for part in object_parts(state.objects[obj_id], placement):
                boxes.append((owner, (part.lo, part.hi), part.rgb, part.emissive))
        self._build(boxes)
        self._state_key = key

    def set_light(self, gains: Sequence[float]) -> None:
        """The light of the next renders: a gain per colour channel on every lit surface
        (surfaces that emit light keep their colour)."""
        g = (float(gains[0]), float(gains[1]), float(gains[2]))
        if not all(0.0 <= v <= 4.0 for v in g):
            raise InvalidInputError(f'light gains must be in [0, 4], got {g}')
        if g != self._gains:
            self._gains = g
            if self._scene is not None:
                self._light_keys()

    def _light_keys(self) -> None:
        lit = self._key_albedo * np.asarray(self._gains)
        lit[self._key_emits] = self._key_albedo[self._key_emits] / self._key_shade[
            self._key_emits, None]
        self._key_rgb = np.vstack([lit, [[0, 0, 0]]]).clip(0, 255).astype(np.uint8)

    def _build(self, boxes: list[_Drawn]) -> None:
        o3d = self._o3d
        n = len(boxes)
        lo = np.array([b[1][0] for b in boxes], dtype=np.float64)
        hi = np.array([b[1][1] for b in boxes], dtype=np.float64)
        verts = lo[:, None, :] + _CORNERS[None] * (hi - lo)[:, None, :]
        tris = _FACE_TRIS[None] + 8 * np.arange(n)[:, None, None]
        scene = o3d.t.geometry.RaycastingScene()
        scene.add_triangles(o3d.core.Tensor(verts.reshape(-1, 3).astype(np.float32)),
                            o3d.core.Tensor(tris.reshape(-1, 3).astype(np.uint32)))
        self._scene = scene
        self.owners = [b[0] for b in boxes]  # per box: an object may be drawn as several
        self.box_lo, self.box_hi = lo, hi
        self.triangles = 12 * n
        # Plane of every (box, face) key: n · p = d.
        normals = np.tile(FACE_NORMALS, (n, 1))
        face_pt = np.where(np.tile(FACE_NORMALS.sum(1) > 0, n)[:, None],
                           np.repeat(hi, 6, axis=0), np.repeat(lo, 6, axis=0))
        # Key 6 n (one past the last face) is the background: a ray that hit nothing.
        self._bg_key = 6 * n
        self._plane_n32 = np.vstack([normals, [[0.0, 0.0, 1.0]]]).astype(np.float32)
        self._plane_d = np.append(np.einsum('ij,ij->i', normals, face_pt), 1.0).astype(np.float32)
        albedo = np.array([b[2] for b in boxes], dtype=np.float64)
        self._key_albedo = (albedo[:, None, :] * self._face_shade[None, :, None]).reshape(-1, 3)
        self._key_shade = np.tile(self._face_shade, n)
        # A surface that emits light shows its own colour on every face, whatever the light.
        self._key_emits = np.repeat(np.array([b[3] for b in boxes], dtype=bool), 6)
        self._light_keys()
        self._key_owner = np.append(np.repeat(np.arange(n, dtype=np.int32), 6), -1).astype(
            np.int32)
        kinds = [b[0].kind for b in boxes]
        movable = np.array([k in ('furniture', 'object') for k in kinds])
        self._thin_lo, self._thin_hi = lo[movable], hi[movable]
        self._thin_min = (hi - lo)[movable].min(axis=1)

    # ----------------------------------------------------------------- render
    def render(self, map_T_camera: np.ndarray, rng: np.random.Generator | None = None,
               stride: int | None = None) -> RenderOutput:
        """Render one view from a camera pose (4x4, optical frame in map)."""
        if self._scene is None:
            raise InvalidInputError('call set_state() before render()')
        s = self.config.stride if stride is None else stride
        t = np.asarray(map_T_camera, dtype=np.float64)
        rot, origin = t[:3, :3], t[:3, 3]
        h, w = self.intrinsics.height, self.intrinsics.width
        if s == 1:
            xd, yd = np.meshgrid(self._xs[:w], self._ys[:h])
            key, depth = self._cast(rot, origin, xd, yd)
            cast = h * w
        else:
            key, depth, cast = self._cast_adaptive(rot, origin, h, w, s)
        cam = self.camera
        # NaN fails both comparisons, so misses and out-of-range returns become NaN together.
        valid = (depth >= cam.near_m) & (depth <= cam.far_m) & (key != self._bg_key)
        depth = np.where(valid, depth, np.float32(np.nan)).astype(np.float32, copy=False)
        rgb = np.take(self._key_rgb, key, axis=0)
        owner = np.take(self._key_owner, key)
        if rng is not None and self.config.rgb_noise_std > 0:
            noise = rng.normal(0.0, self.config.rgb_noise_std, rgb.shape)
            rgb = np.clip(rgb + noise, 0, 255).astype(np.uint8)
        if rng is not None and self.config.depth_noise_std_m > 0:
            depth = depth * (1.0 + rng.normal(0.0, self.config.depth_noise_std_m,
                                              depth.shape)).astype(np.float32)
        return RenderOutput(rgb, depth, owner, cast)

    def _cast(self, rot: np.ndarray, origin: np.ndarray, xd: np.ndarray,
              yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cast rays with camera-frame directions (xd, yd, 1); return (key, z-depth)."""
        o3d = self._o3d
        rays = np.empty((*xd.shape, 6), dtype=np.float32)
        rays[..., 0:3] = origin
        for i in range(3):
            rays[..., 3 + i] = rot[i, 0] * xd + rot[i, 1] * yd + rot[i, 2]
        hit = self._scene.cast_rays(o3d.core.Tensor(rays), nthreads=self.config.nthreads)
        t_hit = hit['t_hit'].numpy()
        prim = hit['primitive_ids'].numpy()
        # Triangles 2f and 2f + 1 of box b are its face f, so key = 6 b + f = triangle // 2.
        key = np.where(np.isfinite(t_hit), prim // 2, self._bg_key).astype(np.int32)
        return key, t_hit

    def _cast_adaptive(self, rot: np.ndarray, origin: np.ndarray, h: int, w: int,
                       s: int) -> tuple[np.ndarray, np.ndarray, int]:
        hb, wb = -(-h // s), -(-w // s)
        # Corner rays at pixels 0, s, 2s, … (the last row/column may lie just off the image).
        gx, gy = np.meshgrid(self._xs[: wb * s + 1: s], self._ys[: hb * s + 1: s])
        ckey, _ = self._cast(rot, origin, gx, gy)
        c00 = ckey[:-1, :-1]
        pure = (c00 == ckey[:-1, 1:]) & (c00 == ckey[1:, :-1]) & (c00 == ckey[1:, 1:])
        for bi0, bi1, bj0, bj1 in self._thin_blocks(rot, origin, s, hb, wb):
            pure[bi0:bi1, bj0:bj1] = False
        # Pure blocks lie on one face: t = (d - n·o) / (n_cam · (x, y, 1)), per-block constants.
        n_world = np.take(self._plane_n32, c00, axis=0)
        n_cam = _rotate_rows(n_world, rot)
        o32 = origin.astype(np.float32)
        num = np.take(self._plane_d, c00) - (n_world[..., 0] * o32[0] + n_world[..., 1] * o32[1]
                                             + n_world[..., 2] * o32[2])
        xs = self._xs32[: wb * s].reshape(1, 1, wb, s)
        ys = self._ys32[: hb * s].reshape(hb, s, 1, 1)
        with np.errstate(divide='ignore', invalid='ignore'):
            denom = np.empty((hb, s, wb, s), dtype=np.float32)
            np.multiply(n_cam[:, None, :, None, 0], xs, out=denom)
            denom += n_cam[:, None, :, None, 1] * ys
            denom += n_cam[:, None, :, None, 2]
            depth = np.divide(num[:, None, :, None], denom).reshape(hb * s, wb * s)[:h, :w]
        key = np.broadcast_to(c00[:, None, :, None], (hb, s, wb, s)).reshape(
            hb * s, wb * s)[:h, :w]
        key = np.ascontiguousarray(key)
        depth = np.ascontiguousarray(depth)
        bi, bj = np.nonzero(~pure)
        if not bi.size:
            return key, depth, ckey.size
        offs = np.arange(s)
        rows = np.broadcast_to((bi * s)[:, None, None] + offs[None, :, None], (bi.size, s, s))
        cols = np.broadcast_to((bj * s)[:, None, None] + offs[None, None, :], (bi.size, s, s))
        inside = (rows < h) & (cols < w)
        rows, cols = rows[inside], cols[inside]
        rkey, rdepth = self._cast(rot, origin, self._xs32[cols], self._ys32[rows])
        key[rows, cols] = rkey
        depth[rows, cols] = rdepth
        return key, depth, ckey.size + int(rows.size)

    def _thin_blocks(self, rot: np.ndarray, origin: np.ndarray, s: int, hb: int,
                     wb: int) -> Iterable[tuple[int, int, int, int]]:
        """Block ranges covered by the screen bounding boxes of thin boxes in view."""
        if not len(self._thin_lo):
            return []
        lo, hi = self._thin_lo, self._thin_hi
        corners = lo[:, None, :] + _CORNERS[None] * (hi - lo)[:, None, :]
        pc = _rotate_rows(corners - origin, rot)  # camera frame
        z = pc[..., 2]
        cam, k = self.camera, self.intrinsics
        z_far = z.max(axis=1)
        # No far cull: beyond the depth range a box still shows in colour and segments.
        in_range = z_far > cam.near_m
        # A convex shape holding a disc of diameter ≥ s·√2 always covers a corner ray; a box's
        # image holds a disc of about f · (smallest side) / (farthest depth), so only boxes that
        # may look smaller than that need their blocks cast.
        small = k.fx * self._thin_min / np.maximum(z_far, 1e-3) < 1.5 * s
        in_range &= small
        out = []
        if (in_range & (z.min(axis=1) <= 1e-3)).any():
            # A small box reaching behind the camera may cover any part of the image.
            return [(0, hb, 0, wb)]
        zc = np.maximum(z, 1e-3)
        u = k.fx * pc[..., 0] / zc + k.cx
        v = k.fy * pc[..., 1] / zc + k.cy
        u0, u1 = u.min(axis=1), u.max(axis=1)
        v0, v1 = v.min(axis=1), v.max(axis=1)
        vis = in_range & (u1 >= 0) & (u0 <= k.width - 1) & (v1 >= 0) & (v0 <= k.height - 1)
        for a, b, c, d in zip(np.floor(v0[vis] / s).astype(int), np.floor(v1[vis] / s).astype(int),
                              np.floor(u0[vis] / s).astype(int), np.floor(u1[vis] / s).astype(int),
                              strict=True):
            out.append((max(a, 0), min(b + 1, hb), max(c, 0), min(d + 1, wb)))
        return out


def _rotate_rows(v: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Rows of `v` times `rot` (that is, rotᵀ v per row) without BLAS, so it stays on one core."""
    rows: np.ndarray = (v[..., 0:1] * rot[0].astype(v.dtype)
                        + v[..., 1:2] * rot[1].astype(v.dtype)
                        + v[..., 2:3] * rot[2].astype(v.dtype))
    return rows

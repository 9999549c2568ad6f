"""Habitat's Y-up frames in REP-103: positions, rotations, poses and camera poses.

Habitat's world and its agent body use x right, y up, z backwards (the agent and its cameras
look along -z). REP-103 `map` and `base_link` use x forward, y left, z up. So

    map = HABITAT_TO_MAP @ habitat:  map x = -habitat z,  map y = -habitat x,  map z = habitat y

a proper rotation: an agent facing -z in Habitat faces +x in `map`, and a turn about Habitat's
+y is the same turn about `map`'s +z. A Habitat camera (OpenGL: x right, y up, looking along
-z) becomes the optical frame (x right, y down, z forward) by flipping its y and z axes.

Pure functions of numbers: no habitat_sim needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from robot_memory.core.types import StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import quaternion_matrix

__all__ = [
    'HABITAT_TO_MAP',
    'Quat',
    'Vec2',
    'Vec3',
    'VecLike',
    'habitat_camera_to_map',
    'habitat_to_map_pose',
    'habitat_to_map_position',
    'habitat_to_map_quaternion',
    'map_to_habitat_position',
    'map_to_habitat_quaternion',
    'yaw_to_habitat_quaternion',
]

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # (x, y, z, w)
VecLike = Sequence[float] | np.ndarray  # a point or quaternion as numbers or an array

HABITAT_TO_MAP = np.array([[0.0, 0.0, -1.0],
                           [-1.0, 0.0, 0.0],
                           [0.0, 1.0, 0.0]])
_GL_TO_OPTICAL = np.diag([1.0, -1.0, -1.0])  # columns: optical axes in the OpenGL camera frame


def habitat_to_map_position(position: VecLike) -> Vec3:
    """A point in Habitat's world (x right, y up, z back) in REP-103 `map`."""
    x, y, z = (float(v) for v in position)
    return (-z, -x, y)


def map_to_habitat_position(position: VecLike) -> Vec3:
    """A point in `map` in Habitat's world frame."""
    x, y, z = (float(v) for v in position)
    return (-y, z, -x)


def habitat_to_map_quaternion(rotation_xyzw: VecLike) -> Quat:
    """The orientation of a Habitat body (agent or object) as a REP-103 body in `map`.

    Both the frames and the bodies change axes by `HABITAT_TO_MAP`, so the rotation keeps its
    angle and its axis is carried over: (v, w) → (HABITAT_TO_MAP v, w).
    """
    x, y, z, w = (float(v) for v in rotation_xyzw)
    mx, my, mz = habitat_to_map_position((x, y, z))
    return _normalized((mx, my, mz, w))


def map_to_habitat_quaternion(rotation_xyzw: VecLike) -> Quat:
    """The inverse of `habitat_to_map_quaternion`."""
    x, y, z, w = (float(v) for v in rotation_xyzw)
    hx, hy, hz = map_to_habitat_position((x, y, z))
    return _normalized((hx, hy, hz, w))


def yaw_to_habitat_quaternion(yaw_rad: float) -> Quat:
    """Habitat rotation of an agent heading `yaw_rad` in `map` (a turn about Habitat's +y)."""
    return (0.0, math.sin(yaw_rad / 2), 0.0, math.cos(yaw_rad / 2))


def _normalized(q: VecLike) -> Quat:
    norm = math.sqrt(sum(v * v for v in q))
    if not (math.isfinite(norm) and norm > 1e-9):
        raise InvalidInputError(f'rotation must be a non-zero quaternion (x, y, z, w), got {q}')
    x, y, z, w = (v / norm for v in q)
    return (x, y, z, w)


def habitat_to_map_pose(stamp_s: float, position: VecLike,
                        rotation_xyzw: VecLike, frame_id: str = 'map') -> StampedPose:
    """The agent's Habitat state as the robot base pose in `map`."""
    return StampedPose(stamp_s, habitat_to_map_position(position),
                       habitat_to_map_quaternion(rotation_xyzw), frame_id)


def habitat_camera_to_map(position: VecLike,
                          rotation_xyzw: VecLike) -> np.ndarray:
    """`map_T_camera` of the optical frame (z forward, x right, y down) from a sensor state."""
    out = np.eye(4)
    out[:3, :3] = HABITAT_TO_MAP @ quaternion_matrix(rotation_xyzw) @ _GL_TO_OPTICAL
    out[:3, 3] = habitat_to_map_position(position)
    return out



def _map_box(lo_hab: np.ndarray, hi_hab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned Habitat box as the same box in `map` (min corner, max corner)."""
    a, b = HABITAT_TO_MAP @ lo_hab, HABITAT_TO_MAP @ hi_hab
    return np.minimum(a, b), np.maximum(a, b)


def _vec(value: Any) -> np.ndarray:
    return np.array([float(value[0]), float(value[1]), float(value[2])])


def _aabb_corners(aabb: Any) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of a Habitat box: magnum Range3D, or the older center / sizes box."""
    if hasattr(aabb, 'min'):
        return _vec(aabb.min), _vec(aabb.max)
    center, sizes = _vec(aabb.center), _vec(aabb.sizes)
    return center - sizes / 2, center + sizes / 2

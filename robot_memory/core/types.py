"""Value types shared by every layer: poses, camera intrinsics, frames, observations.

Frames follow REP-103 (x forward, y left, z up) and REP-105 (`map` is the fixed world frame).
Stamps are seconds since the Unix epoch (`stamp_s`); positions are metres in `map`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import quaternion_matrix

__all__ = [
    'CameraIntrinsics',
    'Frame',
    'ObjectObservation',
    'SegmentLabel',
    'StampedPose',
    'freeze_attributes',
]

Vec3 = tuple[float, float, float]


def _vec3(value: Any, name: str) -> Vec3:
    try:
        x, y, z = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f'{name} must be three numbers, got {value!r}') from exc
    if not all(math.isfinite(v) for v in (x, y, z)):
        raise InvalidInputError(f'{name} must be finite, got {(x, y, z)!r}')
    return (x, y, z)


def freeze_attributes(attributes: Mapping[str, Any] | None) -> Mapping[str, str]:
    """Return a read-only, sorted copy of an attribute mapping with string values."""
    if not attributes:
        return MappingProxyType({})
    return MappingProxyType({str(k): str(v) for k, v in sorted(attributes.items())})


@dataclass(frozen=True, slots=True)
class StampedPose:
    """A pose `frame_id_T_child` at `stamp_s`: position in metres, quaternion (x, y, z, w)."""

    stamp_s: float
    position_m: Vec3
    orientation_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    frame_id: str = 'map'

    def __post_init__(self) -> None:
        object.__setattr__(self, 'position_m', _vec3(self.position_m, 'position_m'))
        q = tuple(float(v) for v in self.orientation_xyzw)
        norm = math.sqrt(sum(v * v for v in q))
        if len(q) != 4 or not math.isfinite(norm) or norm < 1e-9:
            raise InvalidInputError(f'orientation_xyzw must be a non-zero quaternion, got {q!r}')
        object.__setattr__(self, 'orientation_xyzw', tuple(v / norm for v in q))
        if not math.isfinite(float(self.stamp_s)):
            raise InvalidInputError(f'stamp_s must be finite, got {self.stamp_s!r}')

    def matrix(self) -> np.ndarray:
        """Return the 4x4 homogeneous transform."""
        out = np.eye(4)
        out[:3, :3] = quaternion_matrix(self.orientation_xyzw)
        out[:3, 3] = self.position_m
        return out

    @classmethod
    def from_matrix(cls, stamp_s: float, matrix: np.ndarray, frame_id: str = 'map') -> StampedPose:
        """Build a pose from a 4x4 homogeneous transform."""
        m = np.asarray(matrix, dtype=float)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise InvalidInputError(f'matrix must be a finite 4x4 array, got shape {m.shape}')
        r = m[:3, :3]
        trace = float(np.trace(r))
        if trace > 0:
            s = 2.0 * math.sqrt(trace + 1.0)
            q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
        elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
            s = 2.0 * math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
            q = (s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s)
        elif r[1, 1] > r[2, 2]:
            s = 2.0 * math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
            q = ((r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s)
        else:
            s = 2.0 * math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
            q = ((r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s)
        return cls(stamp_s, tuple(m[:3, 3]), q, frame_id)

    @property
    def yaw_rad(self) -> float:
        """Heading about +z."""
        x, y, z, w = self.orientation_xyzw
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


@dataclass(frozen=True, slots=True)
class CameraIntrinsics:
    """Pinhole intrinsics compatible with sensor_msgs/CameraInfo (plumb_bob, no distortion)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise InvalidInputError(f'image size must be positive, got {self.width}x{self.height}')
        if not (self.fx > 0 and self.fy > 0):
            raise InvalidInputError(f'focal lengths must be positive, got {self.fx}, {self.fy}')

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float) -> CameraIntrinsics:
        """Square pixels, principal point at the centre, horizontal field of view in degrees."""
        f = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(width, height, f, f, (width - 1) / 2.0, (height - 1) / 2.0)

    @property
    def k(self) -> tuple[float, ...]:
        """Row-major 3x3 camera matrix, as CameraInfo.k."""
        return (self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0)

    @property
    def hfov_rad(self) -> float:
        """Horizontal field of view."""
        return 2.0 * math.atan2(self.width / 2.0, self.fx)

    def to_camera_info(self) -> dict[str, Any]:
        """Fields of sensor_msgs/CameraInfo (without the header)."""
        p = (self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0)
        return {
            'width': self.width,
            'height': self.height,
            'distortion_model': 'plumb_bob',
            'd': [0.0] * 5,
            'k': list(self.k),
            'r': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            'p': list(p),
        }


@dataclass(frozen=True, slots=True)
class SegmentLabel:
    """What a detector says about one segment of a frame: class and attributes."""

    label: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    confidence: float = 1.0

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # Immutable (attributes are a read-only mapping): copies may share it.
        return self

    def __post_init__(self) -> None:
        object.__setattr__(self, 'attributes', freeze_attributes(self.attributes))


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One synchronised RGB-D + instance-segment frame with its camera pose in `map`.

    `segments` holds per-frame segment ids (0 = background); `labels` maps each id to what the
    detector says about it. Segment ids are not stable across frames.
    """

    stamp_s: float
    rgb: np.ndarray  # (H, W, 3) uint8
    depth_m: np.ndarray  # (H, W) float32 metres; NaN / 0 = invalid
    segments: np.ndarray  # (H, W) int32
    labels: Mapping[int, SegmentLabel]
    map_T_camera: np.ndarray  # (4, 4), camera optical frame (z forward, x right, y down)
    intrinsics: CameraIntrinsics
    frame_index: int = 0


@dataclass(frozen=True, slots=True)
class ObjectObservation:
    """One object seen in one frame: class, attributes and geometry in `map`."""

    obs_id: int
    stamp_s: float
    label: str
    centroid_m: Vec3
    extent_m: Vec3 = (0.1, 0.1, 0.1)
    attributes: Mapping[str, str] = field(default_factory=dict)
    confidence: float = 1.0
    frame_id: str = 'map'
    source_frame: int = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # Immutable (attributes are a read-only mapping): copies may share it.
        return self

    def __post_init__(self) -> None:
        object.__setattr__(self, 'centroid_m', _vec3(self.centroid_m, 'centroid_m'))
        object.__setattr__(self, 'extent_m', _vec3(self.extent_m, 'extent_m'))
        object.__setattr__(self, 'attributes', freeze_attributes(self.attributes))
        if not self.label:
            raise InvalidInputError('label must be a non-empty class name')
        if not math.isfinite(float(self.stamp_s)):
            raise InvalidInputError(f'stamp_s must be finite, got {self.stamp_s!r}')
        if not 0.0 <= float(self.confidence) <= 1.0:
            raise InvalidInputError(f'confidence must be in [0, 1], got {self.confidence!r}')

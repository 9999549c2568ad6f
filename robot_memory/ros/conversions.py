"""Messages ↔ core types with numpy: images, camera info, poses, label maps, stamps.

Readers are duck-typed on the message fields, so they take rclpy messages and the messages
`mcap_ros2.reader` decodes from a bag alike: live and offline ingestion share every step.
Writers build the standard rclpy message types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from robot_memory.bounded import check_number, loads
from robot_memory.core.types import CameraIntrinsics, SegmentLabel, StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.class_segments import LabelSpace
from robot_memory.perception.frames import (
    FrameRejected,
    decode_color,
    decode_depth,
    decode_segments,
    parse_label_map,
)
from robot_memory.ros.wire import CAMERA_FRAME_ID, image_fields, stamp_fields

__all__ = [
    'CAMERA_FRAME_ID',
    'LABELS_MAX_BYTES',
    'MAP_MAX_CELLS',
    'MAP_MIN_RESOLUTION_M',
    'POSITION_LIMIT_M',
    'camera_info_msg',
    'color_from_msg',
    'depth_from_msg',
    'diagnostic_status',
    'diagnostic_values',
    'image_msg',
    'intrinsics_from_msg',
    'label_info_type',
    'label_space_from_label_info',
    'labels_from_msg',
    'labels_msg',
    'occupancy_from_msg',
    'odometry_msg',
    'pose_from_msg',
    'pose_from_transform',
    'pose_msg',
    'segments_from_msg',
    'stamp_msg',
    'stamp_s',
]


LABELS_MAX_BYTES = 1024 * 1024
"""A label map of 1000 segments with attributes is ~100 kB; ten times that is refused."""
LABELS_MAX_DEPTH = 8
"""Label maps nest 4 levels (payload, labels, segment, attributes)."""
POSITION_LIMIT_M = 1e6
"""A camera, goal or map origin farther than this from the map origin (1000 km) is refused:
depth back-projected there loses every centimetre to float rounding."""
MAP_MAX_CELLS = 64_000_000
"""An occupancy grid larger than 8000 x 8000 cells (400 m square at 5 cm) is refused: room
segmentation on it would hold the executor for minutes."""
MAP_MIN_RESOLUTION_M = 1e-3
"""Finer cells are no robot map; at 1e-27 m room segmentation's distance levels overflowed
numpy (found by the fuzz test in tests/test_ros_robustness.py)."""


# ------------------------------------------------------------------ stamps
def stamp_s(stamp: Any) -> float:
    """builtin_interfaces/Time → seconds; raises `FrameRejected` ('bad_stamp') unless the
    seconds are a number in `check_number`'s range and the nanoseconds in [0, 1e9)."""
    try:
        sec = check_number(stamp.sec, 'stamp sec')
        nanosec = check_number(stamp.nanosec, 'stamp nanosec', low=0.0, high=999_999_999.0)
    except InvalidInputError as exc:
        raise FrameRejected('bad_stamp', str(exc)) from None
    return sec + nanosec * 1e-9


def stamp_msg(seconds: float) -> Time:
    """Seconds → builtin_interfaces/Time (rounded as the simulator's recorder does: `wire`)."""
    if not math.isfinite(seconds):
        raise InvalidInputError(f'stamp must be finite, got {seconds!r}')
    sec, nanosec = stamp_fields(seconds)
    return Time(sec=sec, nanosec=nanosec)


def _header(seconds: float, frame_id: str) -> Header:
    return Header(stamp=stamp_msg(seconds), frame_id=frame_id)


# ------------------------------------------------------------------ images
def image_msg(array: np.ndarray, encoding: str, seconds: float,
              frame_id: str = CAMERA_FRAME_ID) -> Image:
    """A (H, W[, C]) array → sensor_msgs/Image, little-endian, rows packed."""
    fields = image_fields(array, encoding)
    msg = Image(header=_header(seconds, frame_id), height=fields.height, width=fields.width,
                encoding=fields.encoding, is_bigendian=fields.is_bigendian, step=fields.step)
    msg.data = fields.data
    return msg


def _image_fields(msg: Any) -> tuple[Any, str, int, int, int]:
    try:
        return msg.data, str(msg.encoding), int(msg.height), int(msg.width), int(msg.step)
    except (AttributeError, TypeError, ValueError) as exc:
        raise FrameRejected('bad_message', f'not an image message ({exc})') from None


def color_from_msg(msg: Any) -> np.ndarray:
    """sensor_msgs/Image rgb8, bgr8, rgba8 or bgra8 → (H, W, 3) uint8 RGB; raises
    `FrameRejected`."""
    data, encoding, height, width, step = _image_fields(msg)
    return decode_color(data, encoding, height, width, step)


def depth_from_msg(msg: Any) -> np.ndarray:
    """sensor_msgs/Image 32FC1 (m) or 16UC1 (mm) → (H, W) float32 metres, NaN invalid."""
    data, encoding, height, width, step = _image_fields(msg)
    return decode_depth(data, encoding, height, width, step, bool(msg.is_bigendian))


def segments_from_msg(msg: Any) -> np.ndarray:
    """sensor_msgs/Image of instance ids (32SC1, 16UC1, 8UC1) → (H, W) int32."""
    data, encoding, height, width, step = _image_fields(msg)
    return decode_segments(data, encoding, height, width, step, bool(msg.is_bigendian))


# ------------------------------------------------------------- camera info
def camera_info_msg(intrinsics: CameraIntrinsics, seconds: float,
                    frame_id: str = CAMERA_FRAME_ID) -> CameraInfo:
    """Intrinsics → sensor_msgs/CameraInfo (plumb_bob, no distortion)."""
    fields = intrinsics.to_camera_info()
    return CameraInfo(header=_header(seconds, frame_id), height=fields['height'],
                      width=fields['width'], distortion_model=fields['distortion_model'],
                      d=fields['d'], k=fields['k'], r=fields['r'], p=fields['p'])


def intrinsics_from_msg(msg: Any) -> CameraIntrinsics:
    """sensor_msgs/CameraInfo → intrinsics; raises `FrameRejected` when unusable."""
    try:
        k = [check_number(v, 'camera matrix entry', low=-1e9, high=1e9) for v in msg.k]
        intrinsics = CameraIntrinsics(int(msg.width), int(msg.height), k[0], k[4], k[2], k[5])
    except (AttributeError, IndexError, TypeError, ValueError, OverflowError,
            InvalidInputError) as exc:
        raise FrameRejected('bad_camera_info', str(exc)) from None
    if not all(math.isfinite(v) for v in (intrinsics.fx, intrinsics.fy, intrinsics.cx,
                                         intrinsics.cy)):
        raise FrameRejected('bad_camera_info', f'non-finite camera matrix {k}')
    return intrinsics


# ------------------------------------------------------------------ poses
def _stamped_pose(stamp: Any, p: Any, q: Any, frame_id: str) -> StampedPose:
    try:
        x, y, z = (check_number(v, 'position', low=-POSITION_LIMIT_M, high=POSITION_LIMIT_M)
                   for v in (p.x, p.y, p.z))
        # A quaternion is normalised by StampedPose; one huge enough to overflow the norm is
        # no orientation.
        qx, qy, qz, qw = (check_number(v, 'orientation', low=-1e6, high=1e6)
                          for v in (q.x, q.y, q.z, q.w))
        return StampedPose(stamp_s(stamp), (x, y, z), (qx, qy, qz, qw), frame_id)
    except FrameRejected:
        raise
    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
        raise FrameRejected('bad_pose', str(exc)) from None


def pose_from_msg(msg: Any) -> StampedPose:
    """geometry_msgs/PoseStamped → `StampedPose`; raises `FrameRejected` on NaN, huge numbers
    (beyond `POSITION_LIMIT_M`), a zero quaternion or a bad stamp."""
    try:
        p, q, header = msg.pose.position, msg.pose.orientation, msg.header
        frame_id = str(header.frame_id) or 'map'
    except AttributeError as exc:
        raise FrameRejected('bad_pose', str(exc)) from None
    return _stamped_pose(header.stamp, p, q, frame_id)


def pose_from_transform(msg: Any, map_frame: str) -> StampedPose:
    """geometry_msgs/TransformStamped (map → camera) → `StampedPose` of the camera in `map`."""
    try:
        t, q, header = msg.transform.translation, msg.transform.rotation, msg.header
        frame_id = str(header.frame_id) or map_frame
    except AttributeError as exc:
        raise FrameRejected('bad_pose', str(exc)) from None
    return _stamped_pose(header.stamp, t, q, frame_id)


def occupancy_from_msg(msg: Any) -> tuple[np.ndarray, float, tuple[float, float]]:
    """nav_msgs/OccupancyGrid → (int8 grid rows along +y, resolution, origin x, y).

    A rotated map origin is refused: room polygons are built axis-aligned with `map`; so is a
    grid of more than `MAP_MAX_CELLS` cells, an origin beyond `POSITION_LIMIT_M` and a
    resolution outside [`MAP_MIN_RESOLUTION_M`, 100] m.
    """
    try:
        info = msg.info
        w, h = int(info.width), int(info.height)
        if w <= 0 or h <= 0 or w * h > MAP_MAX_CELLS or len(msg.data) != w * h:
            raise FrameRejected('bad_map', f'{w}x{h} map with {len(msg.data)} cells (at most '
                                f'{MAP_MAX_CELLS})')
        data = np.asarray(msg.data, dtype=np.int8)
        q = info.origin.orientation
        if not all(abs(check_number(v, 'origin orientation')) <= 1e-6
                   for v in (q.x, q.y, q.z)):
            raise FrameRejected('bad_map', 'rotated map origins are not supported')
        resolution = check_number(info.resolution, 'resolution', low=MAP_MIN_RESOLUTION_M,
                                  high=100.0)
        origin = tuple(check_number(v, 'origin', low=-POSITION_LIMIT_M, high=POSITION_LIMIT_M)
                       for v in (info.origin.position.x, info.origin.position.y))
    except FrameRejected:
        raise
    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
        raise FrameRejected('bad_map', str(exc)) from None
    return data.reshape(h, w), resolution, (origin[0], origin[1])


def _pose(pose: StampedPose) -> Pose:
    x, y, z = pose.position_m
    qx, qy, qz, qw = pose.orientation_xyzw
    return Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw))


def pose_msg(pose: StampedPose) -> PoseStamped:
    """`StampedPose` → geometry_msgs/PoseStamped."""
    return PoseStamped(header=_header(pose.stamp_s, pose.frame_id), pose=_pose(pose))


def odometry_msg(pose: StampedPose, child_frame_id: str = 'base_link',
                 linear_mps: float = 0.0, angular_rad_s: float = 0.0) -> Odometry:
    """A base pose and body-frame speeds → nav_msgs/Odometry."""
    msg = Odometry(header=_header(pose.stamp_s, pose.frame_id), child_frame_id=child_frame_id)
    msg.pose.pose = _pose(pose)
    msg.twist.twist.linear.x = float(linear_mps)
    msg.twist.twist.angular.z = float(angular_rad_s)
    return msg


# ------------------------------------------------------------- label maps
def labels_msg(labels: Mapping[int, SegmentLabel], seconds: float | None,
               frame_index: int | None = None) -> String:
    """Segment labels → std_msgs/String JSON; the stamp inside pairs it with its frame."""
    payload: dict[str, Any] = {}
    if seconds is not None:
        payload['stamp'] = {'sec': (t := stamp_msg(seconds)).sec, 'nanosec': t.nanosec}
    if frame_index is not None:
        payload['frame_index'] = int(frame_index)
    payload['labels'] = {str(seg): {'label': lab.label, **dict(lab.attributes),
                                    'confidence': lab.confidence}
                         for seg, lab in sorted(labels.items())}
    return String(data=json.dumps(payload, sort_keys=False))


def label_info_type() -> type:
    """vision_msgs/LabelInfo, imported only when asked for (not every install has it)."""
    try:
        from vision_msgs.msg import LabelInfo
    except ImportError:
        raise InvalidInputError('label_info_topic needs vision_msgs (vision_msgs/LabelInfo), '
                                'which is not installed; give the label space as '
                                'label_space_file instead') from None
    return LabelInfo


def label_space_from_label_info(msg: Any) -> LabelSpace:
    """vision_msgs/LabelInfo (class_map of VisionClass id + name) → a label space."""
    names = {int(c.class_id): str(c.class_name) for c in msg.class_map}
    if not names:
        raise InvalidInputError('LabelInfo has an empty class_map')
    return LabelSpace(names)


def labels_from_msg(msg: Any) -> tuple[float | None, dict[int, SegmentLabel]]:
    """std_msgs/String JSON → (stamp or None for a fixed map, {segment id: label}).

    Accepts the flat form this package publishes, the simulator recorder's form with nested
    `attributes`, and a bare `{"3": "mug"}` map. Anything else (no text, more than
    `LABELS_MAX_BYTES`, nested deeper than `LABELS_MAX_DEPTH`, a stamp no number in range)
    raises `FrameRejected` ('bad_labels').
    """
    try:
        payload = loads(msg.data, 'label map', max_bytes=LABELS_MAX_BYTES,
                        max_depth=LABELS_MAX_DEPTH)
    except AttributeError as exc:
        raise FrameRejected('bad_labels', f'not a String message ({exc})') from None
    except InvalidInputError as exc:
        raise FrameRejected('bad_labels', str(exc)) from None
    if not isinstance(payload, dict):
        raise FrameRejected('bad_labels', f'label map must be an object, got '
                            f'{str(payload)[:80]!r}')
    stamp = None
    if isinstance(payload.get('stamp'), Mapping):
        try:
            stamp = (check_number(payload['stamp']['sec'], 'stamp sec')
                     + check_number(payload['stamp']['nanosec'], 'stamp nanosec', low=0.0,
                                    high=999_999_999.0) * 1e-9)
        except (KeyError, InvalidInputError) as exc:
            raise FrameRejected('bad_labels', f'bad stamp {str(payload["stamp"])[:80]}: '
                                f'{exc}') from None
    labels = payload.get('labels', payload if 'stamp' not in payload else {})
    if isinstance(labels, Mapping):
        labels = {key: _flatten(value) for key, value in labels.items()}
    return stamp, parse_label_map({'labels': labels} if isinstance(labels, Mapping) else labels)


def _flatten(value: Any) -> Any:
    """Lift a nested `attributes` object to the top level, as `parse_label_map` expects."""
    if isinstance(value, Mapping) and isinstance(value.get('attributes'), Mapping):
        flat = {k: v for k, v in value.items() if k != 'attributes'}
        for k, v in value['attributes'].items():
            flat.setdefault(str(k), v)
        return flat
    return value


# ------------------------------------------------------------- diagnostics
def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in sorted(value.items(), key=lambda kv: str(kv[0])):
            _flat(f'{prefix}.{k}' if prefix else str(k), v, out)
    elif isinstance(value, float):
        out[prefix] = str(round(value, 6))
    else:
        out[prefix] = str(value)


def diagnostic_status(name: str, values: Mapping[str, Any], level: bytes = DiagnosticStatus.OK,
                      message: str = 'ok', hardware_id: str = 'robot_memory'
                      ) -> DiagnosticStatus:
    """A diagnostic_msgs/DiagnosticStatus; nested counters become `outer.inner` keys."""
    flat: dict[str, str] = {}
    _flat('', values, flat)
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=v) for k, v in flat.items()])


def diagnostic_values(status: Any) -> dict[str, str]:
    """DiagnosticStatus → {key: value}."""
    return {kv.key: kv.value for kv in status.values}

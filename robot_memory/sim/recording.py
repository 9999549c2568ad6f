"""Record frames to MCAP in standard ROS 2 message types, without rclpy.

The recording plays on a real ROS 2 install (`ros2 bag play`), and reads back here with
`mcap_ros2.reader`. Topics follow the package's conventions (DESIGN.md, "ROS 2 interface").
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from robot_memory.core.types import Frame, StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.wire import CAMERA_FRAME_ID, image_fields, stamp_fields

__all__ = ['CAMERA_FRAME_ID', 'TOPICS', 'McapRecorder']

TOPICS = {
    'color': ('/camera/color/image_raw', 'sensor_msgs/msg/Image'),
    'depth': ('/camera/depth/image_rect', 'sensor_msgs/msg/Image'),
    'semantic': ('/camera/semantic/image_raw', 'sensor_msgs/msg/Image'),
    'labels': ('/camera/semantic/labels', 'std_msgs/msg/String'),
    'camera_info': ('/camera/color/camera_info', 'sensor_msgs/msg/CameraInfo'),
    'pose': ('/camera/pose', 'geometry_msgs/msg/PoseStamped'),
}

_SEP = '=' * 80
_TIME = 'int32 sec\nuint32 nanosec\n'
_HEADER = 'builtin_interfaces/Time stamp\nstring frame_id\n'


def _msgdef(main: str, *deps: tuple[str, str]) -> str:
    """A ROS 2 concatenated message definition: the main text, then each dependency."""
    parts = [main]
    for name, text in deps:
        parts.append(f'{_SEP}\nMSG: {name}\n{text}')
    return '\n'.join(parts)


_HEADER_DEPS = (('std_msgs/Header', _HEADER), ('builtin_interfaces/Time', _TIME))
MSGDEFS = {
    'sensor_msgs/msg/Image': _msgdef(
        'std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\n'
        'uint8 is_bigendian\nuint32 step\nuint8[] data\n', *_HEADER_DEPS),
    'sensor_msgs/msg/CameraInfo': _msgdef(
        'std_msgs/Header header\nuint32 height\nuint32 width\nstring distortion_model\n'
        'float64[] d\nfloat64[9] k\nfloat64[9] r\nfloat64[12] p\nuint32 binning_x\n'
        'uint32 binning_y\nsensor_msgs/RegionOfInterest roi\n', *_HEADER_DEPS,
        ('sensor_msgs/RegionOfInterest',
         'uint32 x_offset\nuint32 y_offset\nuint32 height\nuint32 width\nbool do_rectify\n')),
    'geometry_msgs/msg/PoseStamped': _msgdef(
        'std_msgs/Header header\ngeometry_msgs/Pose pose\n', *_HEADER_DEPS,
        ('geometry_msgs/Pose',
         'geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n'),
        ('geometry_msgs/Point', 'float64 x\nfloat64 y\nfloat64 z\n'),
        ('geometry_msgs/Quaternion', 'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n')),
    'std_msgs/msg/String': 'string data\n',
}


def _header(stamp_s: float, frame_id: str) -> dict[str, Any]:
    sec, nanosec = stamp_fields(stamp_s)
    return {'stamp': {'sec': sec, 'nanosec': nanosec}, 'frame_id': frame_id}


def _image(stamp_s: float, array: np.ndarray, encoding: str) -> dict[str, Any]:
    return {'header': _header(stamp_s, CAMERA_FRAME_ID),
            **image_fields(array, encoding)._asdict()}


class McapRecorder:
    """Writes frames (image, depth, segments, labels, camera info, pose) to one MCAP file."""

    def __init__(self, path: str | Path) -> None:
        from mcap_ros2.writer import Writer

        self.path = Path(path)
        self._fh = open(self.path, 'wb')  # noqa: SIM115 - closed in close()
        self._writer = Writer(self._fh)
        self._schemas = {name: self._writer.register_msgdef(name, text)
                         for name, text in MSGDEFS.items()}
        self.frames_written = 0
        self._closed = False

    def _write(self, key: str, message: dict[str, Any], stamp_s: float) -> None:
        topic, type_name = TOPICS[key]
        ns = round(stamp_s * 1e9)
        self._writer.write_message(topic, self._schemas[type_name], message, log_time=ns,
                                   publish_time=ns, sequence=self.frames_written)

    def write_frame(self, frame: Frame) -> None:
        """Write one frame on all six topics, stamped with the frame's time."""
        if self._closed:
            raise InvalidInputError(f'recorder for {self.path} is closed')
        t = frame.stamp_s
        self._write('color', _image(t, frame.rgb.astype(np.uint8), 'rgb8'), t)
        self._write('depth', _image(t, frame.depth_m.astype('<f4'), '32FC1'), t)
        self._write('semantic', _image(t, frame.segments.astype('<i4'), '32SC1'), t)
        labels = {str(seg): {'label': lab.label, 'attributes': dict(lab.attributes),
                             'confidence': lab.confidence}
                  for seg, lab in sorted(frame.labels.items())}
        self._write('labels', {'data': json.dumps({'frame_index': frame.frame_index,
                                                   'labels': labels})}, t)
        info = frame.intrinsics.to_camera_info()
        info.update({'header': _header(t, CAMERA_FRAME_ID), 'binning_x': 0, 'binning_y': 0,
                     'roi': {'x_offset': 0, 'y_offset': 0, 'height': 0, 'width': 0,
                             'do_rectify': False}})
        self._write('camera_info', info, t)
        pose = StampedPose.from_matrix(t, frame.map_T_camera)
        x, y, z = pose.position_m
        qx, qy, qz, qw = pose.orientation_xyzw
        self._write('pose', {'header': _header(t, 'map'),
                             'pose': {'position': {'x': x, 'y': y, 'z': z},
                                      'orientation': {'x': qx, 'y': qy, 'z': qz, 'w': qw}}}, t)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the MCAP summary and close the file."""
        if not self._closed:
            self._writer.finish()  # type: ignore[no-untyped-call]  # mcap_ros2: no annotations
            self._fh.close()
            self._closed = True

    def __enter__(self) -> McapRecorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

"""ROS 2 message fields without message types: stamps as (sec, nanosec), images as packed rows.

The rclpy writers (`conversions.py`) and the MCAP recorder (`sim/recording.py`, which writes
the same messages as plain dicts where ROS 2 is not installed) both use these, so a stamp is
rounded and an image packed alike live and in a recording. No rclpy, no message packages.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from robot_memory.exceptions import InvalidInputError

__all__ = ['BYTES_PER_PIXEL', 'CAMERA_FRAME_ID', 'ImageFields', 'image_fields', 'stamp_fields']

CAMERA_FRAME_ID = 'camera_color_optical_frame'
BYTES_PER_PIXEL = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, '32FC1': 4, '16UC1': 2,
                   '32SC1': 4, '8UC1': 1, 'mono8': 1, 'mono16': 2}


def stamp_fields(seconds: float) -> tuple[int, int]:
    """Seconds → (sec, nanosec) of a builtin_interfaces/Time, to the nearest nanosecond.

    The nanoseconds stay below 10^9 (a stamp a hair before a whole second is not rounded up
    into the next one). The caller checks that `seconds` is finite.
    """
    sec = math.floor(seconds)
    nanosec = min(round((seconds - sec) * 1e9), 999_999_999)
    return int(sec), nanosec


class ImageFields(NamedTuple):
    """The fields of a sensor_msgs/Image after its header."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


def image_fields(array: np.ndarray, encoding: str) -> ImageFields:
    """A (H, W[, C]) array → sensor_msgs/Image fields: little-endian, rows packed."""
    if encoding not in BYTES_PER_PIXEL:
        raise InvalidInputError(f'encoding {encoding!r}; valid: {", ".join(BYTES_PER_PIXEL)}')
    data = np.ascontiguousarray(array)
    if data.dtype.byteorder == '>':
        data = data.astype(data.dtype.newbyteorder('<'))
    height, width = data.shape[:2]
    return ImageFields(int(height), int(width), encoding, 0,
                       int(width * BYTES_PER_PIXEL[encoding]), data.tobytes())

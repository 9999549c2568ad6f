"""Sensor input → validated `Frame`s: depth encodings, colour encodings, size checks.

Real cameras send depth as 32FC1 metres or 16UC1 millimetres and colour as rgb8 or bgr8, at
any resolution. Everything that does not fit is reported as a `FrameRejected` reason instead
of raising out of the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from robot_memory.bounded import loads
from robot_memory.core.types import CameraIntrinsics, Frame, SegmentLabel
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'COLOR_ENCODINGS',
    'DEPTH_ENCODINGS',
    'FrameRejected',
    'decode_color',
    'decode_depth',
    'decode_segments',
    'make_frame',
    'parse_label_map',
    'validate_frame',
]

DEPTH_ENCODINGS = ('32FC1', '16UC1')
# Channels and the order of red, green, blue in them (alpha, where there is one, is dropped:
# Azure Kinect and ZED drivers publish bgra8).
_COLOR_LAYOUTS = {'rgb8': (3, [0, 1, 2]), 'bgr8': (3, [2, 1, 0]), 'rgba8': (4, [0, 1, 2]),
                  'bgra8': (4, [2, 1, 0])}
COLOR_ENCODINGS = tuple(_COLOR_LAYOUTS)
LABEL_MAP_MAX_BYTES = 1024 * 1024
"""A label map of 1000 segments with attributes is ~100 kB; ten times that is refused."""
LABEL_MAP_MAX_DEPTH = 8
"""Label maps nest 4 levels (payload, labels, segment, attributes)."""


class FrameRejected(InvalidInputError):
    """A frame that cannot be used; `reason` is a short key for counting."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f'{reason}: {detail}')
        self.reason = reason


def _buffer(data: Any, dtype: np.dtype, height: int, width: int, channels: int,
            step: int | None, what: str) -> np.ndarray:
    raw = np.frombuffer(bytes(data) if not isinstance(data, bytes | bytearray | memoryview)
                        else data, dtype=np.uint8)
    itemsize = np.dtype(dtype).itemsize
    row = width * channels * itemsize
    step = row if not step else int(step)
    if height <= 0 or width <= 0:
        raise FrameRejected('bad_size', f'{what} is {width}x{height}')
    if step < row or raw.size < step * height:
        raise FrameRejected('bad_size', f'{what} has {raw.size} bytes, expected '
                            f'{step * height} for {width}x{height} with step {step}')
    rows = raw[:step * height].reshape(height, step)[:, :row]
    out = np.ascontiguousarray(rows).view(dtype)
    return out.reshape(height, width, channels) if channels > 1 else out.reshape(height, width)


def decode_depth(data: Any, encoding: str, height: int, width: int, step: int | None = None,
                 big_endian: bool = False) -> np.ndarray:
    """Depth image bytes → float32 metres (NaN where invalid)."""
    if encoding not in DEPTH_ENCODINGS:
        raise FrameRejected('bad_encoding', f'depth encoding {encoding!r}; '
                            f'supported: {", ".join(DEPTH_ENCODINGS)}')
    if encoding == '32FC1':
        metres = np.dtype('>f4' if big_endian else '<f4')
        depth = _buffer(data, metres, height, width, 1, step, 'depth').astype(np.float32)
    else:
        millimetres = np.dtype('>u2' if big_endian else '<u2')
        mm = _buffer(data, millimetres, height, width, 1, step, 'depth')
        depth = mm.astype(np.float32) / 1000.0
        depth[mm == 0] = np.nan
    depth[~np.isfinite(depth) | (depth <= 0)] = np.nan
    return depth


def decode_color(data: Any, encoding: str, height: int, width: int,
                 step: int | None = None) -> np.ndarray:
    """Colour image bytes (rgb8, bgr8, rgba8, bgra8) → (H, W, 3) uint8 RGB."""
    if encoding not in _COLOR_LAYOUTS:
        raise FrameRejected('bad_encoding', f'colour encoding {encoding!r}; '
                            f'supported: {", ".join(COLOR_ENCODINGS)}')
    channels, order = _COLOR_LAYOUTS[encoding]
    img = _buffer(data, np.dtype(np.uint8), height, width, channels, step, 'colour')
    return img[:, :, order] if order != [0, 1, 2] or channels != 3 else img.copy()


def decode_segments(data: Any, encoding: str, height: int, width: int,
                    step: int | None = None, big_endian: bool = False) -> np.ndarray:
    """Instance image bytes (32SC1, 16UC1 or 8UC1) → (H, W) int32 segment ids."""
    dtypes = {'32SC1': 'i4', '16UC1': 'u2', '8UC1': 'u1', 'mono8': 'u1', 'mono16': 'u2'}
    if encoding not in dtypes:
        raise FrameRejected('bad_encoding', f'segment encoding {encoding!r}; '
                            f'supported: {", ".join(dtypes)}')
    dtype = np.dtype(dtypes[encoding]).newbyteorder('>' if big_endian else '<')
    return _buffer(data, dtype, height, width, 1, step, 'segments').astype(np.int32)


def parse_label_map(payload: str | Mapping[str, Any]) -> dict[int, SegmentLabel]:
    """Label map JSON → {segment id: SegmentLabel}.

    Accepted: `{"3": "mug"}` or `{"3": {"label": "mug", "color": "red", "state": "open",
    "confidence": 0.9}}`, optionally wrapped as `{"labels": {...}}`. Segment ids are int32
    (what a 32SC1 image holds); text is parsed with size and depth limits (`bounded.loads`).
    """
    if isinstance(payload, str):
        try:
            payload = loads(payload, 'label map', max_bytes=LABEL_MAP_MAX_BYTES,
                            max_depth=LABEL_MAP_MAX_DEPTH)
        except InvalidInputError as exc:
            raise FrameRejected('bad_labels', str(exc)) from None
    if not isinstance(payload, Mapping):
        raise FrameRejected('bad_labels', f'label map must be an object, got '
                            f'{str(payload)[:80]!r}')
    if 'labels' in payload and isinstance(payload['labels'], Mapping):
        payload = payload['labels']
    out: dict[int, SegmentLabel] = {}
    for key, value in payload.items():
        try:
            seg = int(key)
        except (TypeError, ValueError):
            raise FrameRejected('bad_labels', f'segment id {str(key)[:40]!r} is not an '
                                'integer') from None
        if not -2**31 <= seg < 2**31:
            raise FrameRejected('bad_labels', f'segment id {str(key)[:40]} is no int32')
        if isinstance(value, str):
            out[seg] = SegmentLabel(value)
        elif isinstance(value, Mapping) and isinstance(value.get('label'), str):
            # Numbers become text, as SegmentLabel keeps them.
            attrs = {k: str(v) for k, v in value.items()
                     if k not in ('label', 'confidence') and isinstance(v, str | int | float)}
            nested = value.get('attributes')
            if isinstance(nested, Mapping):  # {"label": …, "attributes": {"color": …}}
                attrs.update({k: str(v) for k, v in nested.items()
                              if isinstance(v, str | int | float)})
            try:
                confidence = float(value.get('confidence', 1.0))
            except (TypeError, ValueError, OverflowError):
                confidence = 1.0
            if not math.isfinite(confidence):
                confidence = 1.0
            out[seg] = SegmentLabel(value['label'], attrs, min(max(confidence, 0.0), 1.0))
        else:
            raise FrameRejected('bad_labels', f'segment {key}: expected a class name or an '
                                f'object with "label", got {str(value)[:80]!r}')
    return out


def validate_frame(frame: Frame) -> None:
    """Raise `FrameRejected` unless shapes, dtypes and the pose are usable."""
    h, w = frame.intrinsics.height, frame.intrinsics.width
    if frame.depth_m.shape != (h, w):
        raise FrameRejected('size_mismatch', f'depth is {frame.depth_m.shape[::-1]}, camera '
                            f'info says {w}x{h}')
    if frame.segments.shape != (h, w):
        raise FrameRejected('size_mismatch', f'segments are {frame.segments.shape[::-1]}, '
                            f'camera info says {w}x{h}')
    if frame.rgb is not None and frame.rgb.size and frame.rgb.shape[:2] != (h, w):
        raise FrameRejected('size_mismatch', f'colour is {frame.rgb.shape[1::-1]}, camera '
                            f'info says {w}x{h}')
    pose = np.asarray(frame.map_T_camera)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise FrameRejected('bad_pose', 'camera pose is not a finite 4x4 transform')
    rot = pose[:3, :3]
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-3):
        raise FrameRejected('bad_pose', 'camera rotation is not orthonormal')
    if not np.isfinite(frame.stamp_s):
        raise FrameRejected('bad_stamp', f'stamp {frame.stamp_s!r}')


def make_frame(stamp_s: float, rgb: np.ndarray | None, depth_m: np.ndarray,
               segments: np.ndarray, labels: Mapping[int, SegmentLabel],
               map_T_camera: np.ndarray, intrinsics: CameraIntrinsics,
               frame_index: int = 0) -> Frame:
    """Build and validate a frame (an empty colour image when there is none)."""
    frame = Frame(stamp_s, rgb if rgb is not None else np.zeros((0, 0, 3), np.uint8),
                  np.asarray(depth_m, np.float32), np.asarray(segments, np.int32),
                  dict(labels), np.asarray(map_T_camera, float), intrinsics, frame_index)
    validate_frame(frame)
    return frame

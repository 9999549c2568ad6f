"""Tests of the message fields shared by the rclpy writers and the MCAP recorder (no rclpy)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.wire import image_fields, stamp_fields


@pytest.mark.parametrize(('seconds', 'expected'), [
    (0.0, (0, 0)),
    (12.5, (12, 500_000_000)),
    (-0.25, (-1, 750_000_000)),
    (3.9999999999, (3, 999_999_999)),  # never rounded up into the next second
])
def test_stamps_split_into_seconds_and_nanoseconds(seconds: float,
                                                   expected: tuple[int, int]) -> None:
    assert stamp_fields(seconds) == expected


def test_images_are_packed_little_endian_row_after_row() -> None:
    depth = np.arange(6, dtype='>f4').reshape(2, 3)[:, ::-1]  # big-endian, not contiguous
    fields = image_fields(depth, '32FC1')
    assert (fields.height, fields.width, fields.step, fields.is_bigendian) == (2, 3, 12, 0)
    assert fields.data == np.ascontiguousarray(depth).astype('<f4').tobytes()


def test_an_unknown_encoding_is_named_with_the_valid_ones() -> None:
    with pytest.raises(InvalidInputError, match=re.escape("encoding 'rgb16'; valid: rgb8, ")):
        image_fields(np.zeros((2, 2), np.uint8), 'rgb16')


def test_the_recorder_writes_the_fields_the_live_writer_does() -> None:
    from robot_memory.sim import recording

    colour = np.zeros((2, 3, 3), np.uint8)
    written = recording._image(7.25, colour, 'rgb8')
    assert written['header'] == {'stamp': {'sec': 7, 'nanosec': 250_000_000},
                                 'frame_id': recording.CAMERA_FRAME_ID}
    assert {k: v for k, v in written.items() if k != 'header'} == \
        image_fields(colour, 'rgb8')._asdict()

"""Tests of message conversions and frame assembly (messages only; no node is spun)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip('sensor_msgs.msg', reason='ROS 2 message packages are not installed')

from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from robot_memory.core.types import CameraIntrinsics, SegmentLabel, StampedPose
from robot_memory.perception.frames import FrameRejected
from robot_memory.ros.assembler import FrameAssembler
from robot_memory.ros.conversions import (
    camera_info_msg,
    color_from_msg,
    depth_from_msg,
    diagnostic_status,
    diagnostic_values,
    image_msg,
    intrinsics_from_msg,
    labels_from_msg,
    labels_msg,
    odometry_msg,
    pose_from_msg,
    pose_msg,
    segments_from_msg,
    stamp_msg,
    stamp_s,
)
from tests.conftest import MONDAY_S

INTRINSICS = CameraIntrinsics.from_fov(8, 6, 69.0)


@pytest.mark.parametrize('seconds', [0.0, 1.5, MONDAY_S + 0.123456789, 1e9 - 1e-10])
def test_stamps_round_trip_to_the_nanosecond(seconds: float) -> None:
    stamp = stamp_msg(seconds)
    assert 0 <= stamp.nanosec < 1_000_000_000
    assert stamp_s(stamp) == pytest.approx(seconds, abs=1e-6)


def test_colour_round_trips_and_bgr_is_swapped() -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    assert np.array_equal(color_from_msg(image_msg(rgb, 'rgb8', 1.0)), rgb)
    assert np.array_equal(color_from_msg(image_msg(rgb[:, :, ::-1], 'bgr8', 1.0)), rgb)


def test_four_channel_colour_drops_alpha_in_either_channel_order() -> None:
    rgb = np.random.default_rng(1).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    alpha = np.full((6, 8, 1), 255, np.uint8)
    assert np.array_equal(color_from_msg(image_msg(np.dstack([rgb, alpha]), 'rgba8', 1.0)),
                          rgb)
    bgra = np.dstack([rgb[:, :, ::-1], alpha])  # Azure Kinect, ZED
    assert np.array_equal(color_from_msg(image_msg(bgra, 'bgra8', 1.0)), rgb)


@pytest.mark.parametrize(('encoding', 'dtype', 'decode'), [
    ('32FC1', '>f4', 'depth'), ('16UC1', '>u2', 'depth'), ('32SC1', '>i4', 'segments'),
    ('16UC1', '>u2', 'segments')])
def test_big_endian_images_are_read_by_their_flag(encoding: str, dtype: str,
                                                  decode: str) -> None:
    values = np.arange(1, 49).reshape(6, 8) * (7 if decode == 'segments' else 13)
    msg = image_msg(values.astype(dtype.replace('>', '<')), encoding, 1.0)
    msg.data = values.astype(dtype).tobytes()  # as a big-endian machine sends it
    msg.is_bigendian = 1
    if decode == 'segments':
        assert np.array_equal(segments_from_msg(msg), values)
    else:
        scale = 1.0 if encoding == '32FC1' else 1000.0
        assert np.allclose(depth_from_msg(msg), values / scale)


def test_depth_in_metres_or_millimetres_gives_metres_with_nan_for_no_return() -> None:
    metres = np.full((6, 8), 2.5, np.float32)
    metres[0, 0] = 0.0
    assert depth_from_msg(image_msg(metres, '32FC1', 1.0))[1, 1] == 2.5
    assert math.isnan(depth_from_msg(image_msg(metres, '32FC1', 1.0))[0, 0])
    millimetres = (metres * 1000).astype(np.uint16)
    out = depth_from_msg(image_msg(millimetres, '16UC1', 1.0))
    assert out[1, 1] == pytest.approx(2.5) and math.isnan(out[0, 0])


def test_padded_rows_are_read_with_their_step() -> None:
    depth = np.arange(1, 49, dtype=np.float32).reshape(6, 8)
    msg = image_msg(depth, '32FC1', 1.0)
    padded = np.zeros((6, 40), np.uint8)
    padded[:, :32] = np.frombuffer(bytes(msg.data), np.uint8).reshape(6, 32)
    msg.step = 40
    msg.data = padded.tobytes()
    assert np.array_equal(depth_from_msg(msg), depth)


def test_segments_round_trip_as_int32() -> None:
    ids = np.arange(48, dtype=np.int32).reshape(6, 8) - 3
    assert np.array_equal(segments_from_msg(image_msg(ids, '32SC1', 1.0)), ids)


@pytest.mark.parametrize(('encoding', 'height', 'data', 'reason'), [
    ('mono8', 6, bytes(6 * 8 * 3), 'bad_encoding'),
    ('rgb8', 6, bytes(10), 'bad_size'),
    ('rgb8', 0, b'', 'bad_size'),
])
def test_malformed_colour_is_rejected_with_a_reason(encoding: str, height: int, data: bytes,
                                                    reason: str) -> None:
    msg = Image(height=height, width=8, encoding=encoding, step=24)
    msg.data = data
    with pytest.raises(FrameRejected) as info:
        color_from_msg(msg)
    assert info.value.reason == reason


def test_camera_info_round_trips() -> None:
    assert intrinsics_from_msg(camera_info_msg(INTRINSICS, 1.0)) == INTRINSICS
    with pytest.raises(FrameRejected, match='bad_camera_info'):
        intrinsics_from_msg(CameraInfo())


def test_pose_round_trips_and_nan_is_rejected() -> None:
    pose = StampedPose(MONDAY_S, (1.0, 2.0, 1.2), (0.0, 0.0, 0.6, 0.8))
    back = pose_from_msg(pose_msg(pose))
    assert back.position_m == pose.position_m and back.frame_id == 'map'
    assert np.allclose(back.orientation_xyzw, pose.orientation_xyzw)
    msg = pose_msg(pose)
    msg.pose.position.x = float('nan')
    with pytest.raises(FrameRejected, match='bad_pose'):
        pose_from_msg(msg)
    msg = PoseStamped()
    msg.pose.orientation.w = 0.0
    with pytest.raises(FrameRejected, match='bad_pose'):
        pose_from_msg(msg)


def test_odometry_carries_pose_and_twist() -> None:
    odom = odometry_msg(StampedPose(5.0, (1.0, 2.0, 0.0), frame_id='odom'), 'base_link',
                        0.5, -0.25)
    assert odom.header.frame_id == 'odom' and odom.child_frame_id == 'base_link'
    assert odom.pose.pose.position.y == 2.0
    assert (odom.twist.twist.linear.x, odom.twist.twist.angular.z) == (0.5, -0.25)


def test_label_maps_round_trip_with_their_stamp() -> None:
    labels = {3: SegmentLabel('mug', {'color': 'red'}, 0.9), 7: SegmentLabel('desk')}
    stamp, back = labels_from_msg(labels_msg(labels, MONDAY_S + 0.5, 12))
    assert stamp == pytest.approx(MONDAY_S + 0.5)
    assert back == labels


@pytest.mark.parametrize(('payload', 'stamp', 'expected'), [
    ({'3': 'mug'}, None, {3: SegmentLabel('mug')}),
    ({'labels': {'3': {'label': 'mug', 'color': 'red'}}}, None,
     {3: SegmentLabel('mug', {'color': 'red'})}),
    # the simulator recorder's form: nested attributes, frame index, no stamp
    ({'frame_index': 4, 'labels': {'3': {'label': 'mug', 'attributes': {'color': 'red'},
                                         'confidence': 1.0}}}, None,
     {3: SegmentLabel('mug', {'color': 'red'})}),
    ({'stamp': {'sec': 10, 'nanosec': 500000000}, 'labels': {}}, 10.5, {}),
])
def test_label_map_forms_are_accepted(payload: dict, stamp: float | None,
                                      expected: dict) -> None:
    got_stamp, labels = labels_from_msg(String(data=json.dumps(payload)))
    assert got_stamp == stamp and labels == expected


@pytest.mark.parametrize('data', ['not json', '[1, 2]', '{"labels": {"x": "mug"}}',
                                  '{"stamp": {"sec": "a"}, "labels": {}}'])
def test_malformed_label_maps_are_rejected(data: str) -> None:
    with pytest.raises(FrameRejected, match='bad_labels'):
        labels_from_msg(String(data=data))


def test_diagnostic_status_flattens_nested_counters() -> None:
    status = diagnostic_status('x', {'frames': {'received': 3}, 'rate_hz': 1.23456789,
                                     'dropped': {}})
    assert diagnostic_values(status) == {'frames.received': '3', 'rate_hz': '1.234568'}


# ------------------------------------------------------------------ assembler
def _frame_messages(t: float, size: tuple[int, int] = (6, 8)) -> dict[str, object]:
    h, w = size
    intrinsics = CameraIntrinsics.from_fov(w, h, 69.0)
    pose = StampedPose(t, (1.0, 2.0, 1.2))
    return {
        'labels': labels_msg({1: SegmentLabel('mug')}, t),
        'info': camera_info_msg(intrinsics, t),
        'pose': pose_msg(pose),
        'color': image_msg(np.zeros((h, w, 3), np.uint8), 'rgb8', t),
        'semantic': image_msg(np.ones((h, w), np.int32), '32SC1', t),
        'depth': image_msg(np.full((h, w), 2.0, np.float32), '32FC1', t),
    }


def test_assembler_builds_one_frame_per_complete_set() -> None:
    assembler = FrameAssembler()
    frames = []
    for t in (MONDAY_S, MONDAY_S + 0.1):
        for stream, msg in _frame_messages(t).items():
            frames += assembler.add(stream, msg)
    assert [f.stamp_s for f in frames] == pytest.approx([MONDAY_S, MONDAY_S + 0.1])
    assert frames[0].labels == {1: SegmentLabel('mug')}
    assert frames[1].frame_index == 1
    assert np.allclose(frames[0].map_T_camera[:3, 3], (1.0, 2.0, 1.2))


def test_assembler_counts_malformed_and_mismatched_input() -> None:
    assembler = FrameAssembler()
    bad = Image(height=6, width=8, encoding='32FC1', step=32)
    bad.data = bytes(5)
    assert assembler.add('depth', bad) == []
    assert assembler.add('labels', String(data='{')) == []
    messages = _frame_messages(1.0)
    messages['depth'] = image_msg(np.ones((3, 4), np.float32), '32FC1', 1.0)  # wrong size
    for stream, msg in messages.items():
        assert assembler.add(stream, msg) == []
    odd = _frame_messages(2.0)
    odd['pose'].header.frame_id = 'odom'
    for stream, msg in odd.items():
        assembler.add(stream, msg)
    stats = assembler.stats()
    assert stats['malformed'] == {'depth:bad_size': 1, 'labels:bad_labels': 1,
                                  'pose:wrong_frame': 1}
    assert stats['rejected'] == {'size_mismatch': 1}


def test_assembler_without_colour_ignores_colour() -> None:
    assembler = FrameAssembler(require_color=False)
    messages = _frame_messages(1.0)
    frames = [f for stream, msg in messages.items() for f in assembler.add(stream, msg)]
    assert len(frames) == 1 and frames[0].rgb.size == 0
    assert 'color' not in assembler.stats()['received']


def test_a_tf_transform_becomes_the_camera_pose_in_map() -> None:
    from geometry_msgs.msg import TransformStamped

    from robot_memory.ros.conversions import pose_from_transform

    msg = TransformStamped()
    msg.header.frame_id = 'map'
    msg.header.stamp.sec = 12
    msg.transform.translation.x = 1.5
    msg.transform.rotation.w = 1.0
    pose = pose_from_transform(msg, 'map')
    assert pose.position_m == (1.5, 0.0, 0.0) and pose.stamp_s == 12.0


def test_an_occupancy_grid_becomes_rooms() -> None:
    import numpy as np
    from nav_msgs.msg import OccupancyGrid

    from robot_memory.perception.rooms import rooms_from_occupancy
    from robot_memory.ros.conversions import occupancy_from_msg

    grid = np.full((60, 120), 100, dtype=np.int8)
    grid[5:55, 5:58] = 0  # two 2.65 m rooms …
    grid[5:55, 62:115] = 0
    grid[25:35, 58:62] = 0  # … joined by a 0.5 m doorway
    msg = OccupancyGrid()
    msg.info.width, msg.info.height, msg.info.resolution = 120, 60, 0.05
    msg.info.origin.orientation.w = 1.0
    msg.data = grid.ravel().tolist()
    cells, resolution, origin = occupancy_from_msg(msg)
    assert cells.shape == (60, 120) and resolution == pytest.approx(0.05) and origin == (0, 0)
    assert len(rooms_from_occupancy(cells, resolution, origin).rooms) == 2
    msg.info.origin.orientation.z = 0.7
    with pytest.raises(FrameRejected, match='rotated map origins are not supported'):
        occupancy_from_msg(msg)


def test_a_real_label_info_message_gives_the_label_space_it_lists() -> None:
    """vision_msgs/LabelInfo (installed from shared/wheels/ros2-interfaces by the setup)."""
    vision = pytest.importorskip('vision_msgs.msg', reason='vision_msgs is not installed')
    from robot_memory.exceptions import InvalidInputError
    from robot_memory.ros.conversions import label_info_type, label_space_from_label_info

    assert label_info_type() is vision.LabelInfo
    msg = vision.LabelInfo(class_map=[vision.VisionClass(class_id=0, class_name='floor'),
                                      vision.VisionClass(class_id=7, class_name='mug')])
    assert label_space_from_label_info(msg).names == {0: 'floor', 7: 'mug'}
    with pytest.raises(InvalidInputError, match='LabelInfo has an empty class_map'):
        label_space_from_label_info(vision.LabelInfo())

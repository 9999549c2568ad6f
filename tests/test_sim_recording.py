"""Tests of MCAP recording and the CLI-facing commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip('open3d', reason='open3d is needed for the raycasting renderer')
pytest.importorskip('mcap_ros2', reason='mcap-ros2-support is needed for recordings')

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from robot_memory.sim.backend import BuiltinSim
from robot_memory.sim.commands import bench_sim, run_sim
from robot_memory.sim.recording import TOPICS, McapRecorder
from robot_memory.sim.renderer import CameraConfig


def read_ros2_messages(path: str):
    """Decoded messages of a ROS 2 MCAP file (the non-deprecated mcap_ros2 route)."""
    with open(path, 'rb') as fh:
        reader = make_reader(fh, decoder_factories=[DecoderFactory()])
        yield from reader.iter_decoded_messages()


def test_mcap_reads_back_with_the_right_topics_types_and_counts(tmp_path):
    sim = BuiltinSim(seed=0, camera=CameraConfig(width=64, height=48))
    frames = sim.look_around(3)
    path = tmp_path / 'rec.mcap'
    with McapRecorder(path) as rec:
        for frame in frames:
            rec.write_frame(frame)
    by_topic: dict[str, list] = {}
    types = {}
    for msg in read_ros2_messages(str(path)):
        by_topic.setdefault(msg.channel.topic, []).append(msg.decoded_message)
        types[msg.channel.topic] = msg.schema.name
    assert types == {topic: type_name for topic, type_name in TOPICS.values()}
    assert {topic: len(v) for topic, v in by_topic.items()} == {t: 3 for t, _ in TOPICS.values()}
    color = by_topic['/camera/color/image_raw'][0]
    assert (color.encoding, color.height, color.width, color.step) == ('rgb8', 48, 64, 192)
    assert np.array_equal(np.frombuffer(bytes(color.data), np.uint8).reshape(48, 64, 3),
                          frames[0].rgb)
    depth = by_topic['/camera/depth/image_rect'][1]
    assert depth.encoding == '32FC1'
    np.testing.assert_array_equal(np.frombuffer(bytes(depth.data), '<f4').reshape(48, 64),
                                  frames[1].depth_m)
    seg = by_topic['/camera/semantic/image_raw'][2]
    assert seg.encoding == '32SC1'
    assert np.array_equal(np.frombuffer(bytes(seg.data), '<i4').reshape(48, 64),
                          frames[2].segments)
    labels = json.loads(by_topic['/camera/semantic/labels'][2].data)['labels']
    assert {int(k): v['label'] for k, v in labels.items()} == {
        k: v.label for k, v in frames[2].labels.items()}
    info = by_topic['/camera/color/camera_info'][0]
    assert list(info.k) == pytest.approx(list(frames[0].intrinsics.k))
    pose = by_topic['/camera/pose'][0]
    assert pose.header.frame_id == 'map'
    assert [pose.pose.position.x, pose.pose.position.y, pose.pose.position.z] == pytest.approx(
        frames[0].map_T_camera[:3, 3])
    assert pose.header.stamp.sec == int(frames[0].stamp_s)


def test_run_sim_writes_truth_map_and_recording(tmp_path):
    summary = run_sim(seed=7, days=1, out_dir=tmp_path, progress=False)
    assert summary['frames'] > 0
    truth = json.loads((tmp_path / 'truth.json').read_text())
    assert truth['hash'] == summary['truth_hash']
    assert truth['world']['rooms'] and truth['objects']
    assert (tmp_path / 'map.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    n = sum(1 for m in read_ros2_messages(str(tmp_path / 'recording.mcap'))
            if m.channel.topic == '/camera/color/image_raw')
    assert n == summary['frames']


def test_bench_sim_reports_the_agreed_keys():
    result = bench_sim(frames=5, width=160, height=120)
    assert {'fps', 'width', 'height', 'frames', 'objects', 'triangles', 'ms_per_frame_p50',
            'ms_per_frame_p95'} <= set(result)
    assert result['fps'] > 0 and (result['width'], result['height']) == (160, 120)

"""Tests of offline ingestion of MCAP recordings (no DDS; the live comparison is in
test_ros_nodes.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip('sensor_msgs.msg', reason='ROS 2 message packages are not installed')
pytest.importorskip('mcap_ros2.decoder', reason='mcap-ros2-support is not installed')
pytest.importorskip('open3d', reason='the built-in simulator needs open3d')

from robot_memory.core import MemoryStore
from robot_memory.ros.assembler import FrameAssembler
from robot_memory.ros.bag import ingest_bag
from robot_memory.service import MemoryService, MemoryServiceParams
from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig
from robot_memory.sim.recording import McapRecorder

SMALL = CameraConfig(width=160, height=120)


@pytest.fixture(scope='module')
def recording(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Day 0 of the default apartment at 160×120, as frames and as an MCAP file."""
    folder = tmp_path_factory.mktemp('bag')
    sim = BuiltinSim(SimConfig(camera=SMALL))
    layout = {'stamp': {'sec': int(sim.now_s), 'nanosec': 0},
              'layout': sim.scene_graph().to_dict()}
    frames = []
    with McapRecorder(folder / 'day0.mcap') as recorder:
        for frame in sim.patrol_day(0):
            recorder.write_frame(frame)
            frames.append(frame)
    (folder / 'layout.json').write_text(json.dumps(layout))
    return {'folder': folder, 'bag': folder / 'day0.mcap', 'frames': frames,
            'layout': folder / 'layout.json', 'graph': sim.scene_graph(),
            'start_s': float(layout['stamp']['sec'])}


def test_recording_decodes_to_the_frames_that_were_recorded(
        recording: dict[str, Any]) -> None:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    from robot_memory.ros.bag import _stream_of

    assembler = FrameAssembler()
    decoded = []
    with open(recording['bag'], 'rb') as fh:
        reader = make_reader(fh, decoder_factories=[DecoderFactory()])
        for _, channel, message, msg in reader.iter_decoded_messages(log_time_order=True):
            decoded += assembler.add(_stream_of(channel.topic), msg, message.log_time * 1e-9)
    original = recording['frames']
    assert len(decoded) == len(original) > 50
    for got, want in zip(decoded, original, strict=True):
        assert got.stamp_s == pytest.approx(want.stamp_s, abs=1e-6)
        assert np.array_equal(got.rgb, want.rgb)
        assert np.array_equal(got.segments, want.segments)
        assert np.array_equal(got.depth_m, want.depth_m, equal_nan=True)
        assert dict(got.labels) == dict(want.labels)
        assert np.allclose(got.map_T_camera, want.map_T_camera, atol=1e-9)
        assert got.intrinsics == want.intrinsics


def test_bag_ingestion_builds_the_memory_direct_ingestion_builds(
        recording: dict[str, Any], tmp_path: Path) -> None:
    summary = ingest_bag(recording['bag'], tmp_path / 'bag.db',
                         (recording['start_s'], recording['graph']))
    direct = MemoryService(MemoryServiceParams(db_path=str(tmp_path / 'direct.db'),
                                               use_embeddings=False))
    direct.set_layout(recording['graph'], recording['start_s'])
    for frame in recording['frames']:
        direct.ingest(frame)
    expected = direct.diagnostics()
    direct.close()
    assert summary['frames'] == len(recording['frames'])
    assert summary['objects_in_memory'] == expected['objects_in_memory'] > 10
    assert summary['sync']['dropped'] == {} and summary['sync']['malformed'] == {}
    with MemoryStore(tmp_path / 'bag.db', create=False) as a, \
            MemoryStore(tmp_path / 'direct.db', create=False) as b:
        bag_memory, direct_memory = a.load(), b.load()
    t = bag_memory.now_s
    assert t == pytest.approx(direct_memory.now_s)
    bag_view, direct_view = bag_memory.at(t), direct_memory.at(t)
    assert sorted(bag_view.objects) == sorted(direct_view.objects)
    for object_id, state in bag_view.objects.items():
        other = direct_view.objects[object_id]
        assert (state.label, state.room_id, state.state) == (other.label, other.room_id,
                                                             other.state)
        assert np.allclose(state.position_m, other.position_m, atol=1e-6)


@pytest.mark.parametrize('layout_args', [('--layout', 'LAYOUT'), ('--world', 'apartment')])
def test_ingest_command_prints_a_summary(recording: dict[str, Any], tmp_path: Path,
                                         layout_args: tuple[str, str]) -> None:
    option, value = layout_args
    value = str(recording['layout']) if value == 'LAYOUT' else value
    result = subprocess.run(
        [sys.executable, '-m', 'robot_memory.cli', 'ingest', '--bag', str(recording['bag']),
         '--db', str(tmp_path / 'cli.db'), option, value, '--json'],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary['frames'] == len(recording['frames'])
    assert summary['objects_in_memory'] > 10
    with MemoryStore(tmp_path / 'cli.db', create=False) as store:
        assert len(store.load().layout_at(float('inf')).rooms) == 6


def test_missing_bag_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'robot_memory.cli', 'ingest', '--bag',
         str(tmp_path / 'none.mcap'), '--db', str(tmp_path / 'x.db')],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert 'no recording at' in result.stderr

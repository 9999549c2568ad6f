"""Tests of the layout readers (robot_memory/ros/layouts.py), which need no rclpy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.layouts import load_layout, parse_layout_msg

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ROOT / 'sim' / 'regions_example.yaml'


def _no_rclpy_after(code: str) -> subprocess.CompletedProcess[str]:
    check = f'{code}\nimport sys\nassert "rclpy" not in sys.modules, "rclpy was imported"'
    return subprocess.run([sys.executable, '-c', check], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize('module', ['robot_memory.ros.layouts', 'robot_memory.ros.bag'])
def test_importing_the_module_does_not_import_rclpy(module: str) -> None:
    result = _no_rclpy_after(f'import {module}')
    assert result.returncode == 0, result.stderr


def test_bag_ingestion_with_a_layout_message_does_not_import_rclpy(tmp_path: Path) -> None:
    pytest.importorskip('mcap_ros2.writer', reason='mcap-ros2-support is not installed')
    layout = load_layout(str(REGIONS))
    bag = tmp_path / 'layout.mcap'
    message = json.dumps({'stamp': {'sec': 100, 'nanosec': 0}, 'layout': layout.to_dict()})
    code = f"""
from mcap_ros2.writer import Writer
with open({str(bag)!r}, 'wb') as fh:
    writer = Writer(fh)
    schema = writer.register_msgdef('std_msgs/msg/String', 'string data\\n')
    writer.write_message('/robot1/map/layout', schema, {{'data': {message!r}}},
                         log_time=100_000_000_000, publish_time=100_000_000_000)
    writer.finish()
from robot_memory.ros.bag import ingest_bag
summary = ingest_bag({str(bag)!r}, {str(tmp_path / 'm.db')!r})
assert summary['messages'] == 1 and summary['frames'] == 0, summary
"""
    result = _no_rclpy_after(code)
    assert result.returncode == 0, result.stderr
    from robot_memory.core import MemoryStore

    with MemoryStore(tmp_path / 'm.db', create=False) as store:
        assert store.load().layout_at(float('inf')) == layout


def test_a_regions_file_and_a_scene_graph_file_give_the_same_layout(tmp_path: Path) -> None:
    layout = load_layout(str(REGIONS))
    assert 'room:kitchen' in layout.rooms and layout.places
    as_json = tmp_path / 'layout.json'
    as_json.write_text(json.dumps({'layout': layout.to_dict()}))
    assert load_layout(str(as_json)) == layout


@pytest.mark.parametrize(('name', 'text', 'message'), [
    ('broken.json', '{', 'cannot read the layout file'),
    ('list.json', '[1, 2]', 'a layout is a mapping'),
    ('missing.json', None, 'cannot read the layout file'),
])
def test_a_bad_layout_file_is_a_clear_error(tmp_path: Path, name: str, text: str | None,
                                            message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        load_layout(str(path))


def test_a_layout_message_carries_its_stamp_when_it_has_one() -> None:
    layout = load_layout(str(REGIONS))
    stamped = json.dumps({'stamp': {'sec': 12, 'nanosec': 500_000_000},
                          'layout': layout.to_dict()})
    assert parse_layout_msg(stamped) == (12.5, layout)
    assert parse_layout_msg(json.dumps(layout.to_dict())) == (None, layout)

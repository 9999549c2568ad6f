"""The ROS commands of `robot-memory`: bringup (one process) and the transport benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip('rclpy', reason='rclpy is not installed')
pytest.importorskip('open3d', reason='the built-in simulator needs open3d')

pytestmark = pytest.mark.ros


def _robot_memory(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    return subprocess.run([sys.executable, '-m', 'robot_memory.cli', *args], env=env,
                          capture_output=True, text=True, timeout=timeout_s, check=False)


def _domain_id(offset: int) -> str:
    return str(1 + (os.getpid() * 7 + 100 + offset) % 200)


def test_ros_commands_are_listed() -> None:
    result = _robot_memory('--help', timeout_s=60)
    assert result.returncode == 0
    assert all(name in result.stdout for name in ('bringup', 'ingest'))
    assert 'ros' in _robot_memory('bench', '--help', timeout_s=60).stdout


@pytest.mark.timeout(150)
def test_bringup_patrols_then_answers_in_one_process(tmp_path: Path) -> None:
    question = json.dumps({'id': 'b1', 'query': {'type': 'WhereIs',
                                                 'target': {'label': 'mug'}}})
    result = _robot_memory('bringup', '--days', '1', '--question', question, '--width', '160',
                           '--height', '120', '--rate-hz', '40', '--db',
                           str(tmp_path / 'bringup.db'), '--domain-id', _domain_id(0),
                           '--json', timeout_s=140)
    assert result.returncode == 0, result.stderr[-3000:]
    reply = json.loads(result.stdout.strip().splitlines()[-1])['reply']
    assert reply['id'] == 'b1' and reply['ok'] is True
    assert reply['value']['label'] == 'mug' and reply['evidence']
    assert 'frames' in result.stderr and "'ingested': " in result.stderr
    assert (tmp_path / 'bringup.db').is_file()


@pytest.mark.timeout(120)
def test_bench_ros_prints_the_figures_for_both_profiles() -> None:
    result = _robot_memory('bench', 'ros', '--json', '--width', '160', '--height', '120',
                           '--rate-hz', '20', '--duration-s', '2', '--warmup-s', '1',
                           timeout_s=110)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    for block in (figures, figures['default_profile']):
        assert {'fps', 'latency_ms_p50', 'latency_ms_p95', 'dropped'} <= block.keys()
        # Figures, not thresholds: how fast is for `bench`, not for a test on a busy machine.
        assert block['fps'] > 0 and block['latency_ms_p95'] >= block['latency_ms_p50'] > 0
    assert figures['profile'] == 'shm'

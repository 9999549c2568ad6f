"""Tests of the `robot-memory` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, FactKey, MemoryStore
from tests.conftest import MONDAY_S


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, '-m', 'robot_memory.cli', *args], text=True,
                          capture_output=True, timeout=120, check=False)


def test_help_lists_the_commands() -> None:
    result = _run('--help')
    assert result.returncode == 0
    assert 'bench' in result.stdout and 'inspect' in result.stdout


def test_bench_store_prints_one_json_object() -> None:
    result = _run('bench', 'store', '--json', '--days', '1', '--objects', '50')
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert {'events_per_s', 'reopen_s', 'bytes_per_event'} <= figures.keys()
    assert figures['equal_after_reopen'] is True
    assert figures['events'] > 0


def test_inspect_summarises_a_memory_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    memory = EpisodicMemory()
    memory.create_object('object:mug', MONDAY_S + 9 * 3600, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen'})
    with MemoryStore(tmp_path / 'robot.db') as store:
        store.sync(memory)
    main(['inspect', str(tmp_path / 'robot.db'), '--json'])
    summary = json.loads(capsys.readouterr().out)
    assert summary['objects_present'] == 1
    assert summary['episodes'][0]['label'] == 'Monday morning'


def test_a_corrupt_file_is_one_clear_error_line(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.db'
    bad.write_bytes(b'this is not a database' * 100)
    result = _run('inspect', str(bad))
    assert result.returncode == 2
    assert f'{bad}: not a readable SQLite database' in ' '.join(result.stderr.split())
    assert 'Traceback' not in result.stderr

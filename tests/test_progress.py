"""Tests of progress reporting: a bar on a terminal, timed lines on stderr elsewhere."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot_memory.progress import StageBar, Working, format_duration, progress_line


@pytest.mark.parametrize(('seconds', 'text'), [
    (0.4, '0 s'), (45, '45 s'), (65, '1 min 05 s'), (3599, '59 min 59 s'),
    (3720, '1 h 02 min'), (-3, '0 s'),
])
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(('args', 'line'), [
    (('answering', '', 40, 160, 60.0),
     'answering 40/160 (25 %), 1 min 00 s elapsed, about 3 min 00 s left'),
    (('patrolling', 'day 1/3', 1, 3, 20.0),
     'patrolling 1/3 (33 %; day 1/3), 20 s elapsed, about 40 s left'),
    (('patrolling', '', 0, 3, 2.0),
     'patrolling 0/3 (0 %), 2 s elapsed, time left known after the first step'),
    (('patrolling', 'day 3/3', 3, 3, 61.0), 'patrolling 3/3 (100 %; day 3/3), done in 1 min 01 s'),
    (('measuring the server', 'slow clients', 0, 0, 12.0),
     'measuring the server: slow clients, 12 s elapsed'),
])
def test_a_progress_line_gives_done_total_and_the_time_left(args: tuple, line: str) -> None:
    assert progress_line(*args) == line


def test_off_a_terminal_the_bar_writes_a_line_per_stage_and_at_its_end() -> None:
    stream = io.StringIO()
    with StageBar(True, stream=stream, every_s=60.0) as bar:
        bar.stage('patrolling', 2)
        bar.advance('day 1/2')
        bar.advance('day 2/2')
        bar.stage('answering', 3)
    lines = stream.getvalue().splitlines()
    assert [line.split(',')[0] for line in lines] == [
        'patrolling 0/2 (0 %)', 'patrolling 2/2 (100 %; day 2/2)', 'answering 0/3 (0 %)']


def test_off_a_terminal_a_long_step_still_gets_a_line_every_few_seconds() -> None:
    stream = io.StringIO()
    with StageBar(True, stream=stream, every_s=0.1) as bar:
        bar.stage('patrolling', 3)
        time.sleep(0.55)  # one patrol day: no step is counted meanwhile
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 4, lines
    assert all(line.startswith('patrolling 0/3 (0 %), ') for line in lines)


def test_a_disabled_bar_writes_nothing() -> None:
    stream = io.StringIO()
    with StageBar(False, stream=stream, every_s=0.0) as bar:
        bar.stage('patrolling', 2)
        bar.advance()
    assert stream.getvalue() == ''


def test_off_a_terminal_a_task_without_a_count_says_its_start_latest_note_and_end() -> None:
    stream = io.StringIO()
    with Working('patrolling 3 simulated days…', stream=stream, every_s=0.2) as status:
        for frames in range(0, 700, 100):  # notes come faster than lines
            status.update(f'{frames} frames ingested')
            time.sleep(0.05)
        time.sleep(0.3)
    lines = stream.getvalue().splitlines()
    assert lines[0] == 'patrolling 3 simulated days, 0 s elapsed'
    assert 2 <= len(lines) <= 5, lines
    assert lines[-1].startswith('patrolling 3 simulated days: 600 frames ingested, done in ')


def test_a_command_in_a_pipe_prints_progress_on_stderr_and_json_on_stdout(
        tmp_path: Path) -> None:
    env = {**os.environ, 'ROBOT_MEMORY_PROGRESS_EVERY_S': '60'}
    done = subprocess.run([sys.executable, '-m', 'robot_memory.cli', 'sim', '--days', '1',
                           '--out', str(tmp_path), '--json'], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)['days'] == 1
    assert done.stderr.splitlines()[0] == ('simulating 0/1 (0 %), 0 s elapsed, time left known '
                                           'after the first step')
    assert done.stderr.splitlines()[-1].startswith('simulating 1/1 (100 %; day 1/1: ')

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


def test_eval_mapping_help_says_what_absent_confirm_views_0_does() -> None:
    result = _run('eval', 'mapping', '--help')
    assert result.returncode == 0
    text = ' '.join(result.stdout.replace('│', ' ').split())
    assert '(0: as many as the miss rate learned per class calls for: 1 for a detector that ' \
           'never misses, 2 at 10 % misses, 3 at 25 %)' in text
    assert '(0: 2)' not in text


def test_a_result_table_shows_whole_names_and_no_raw_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from robot_memory import _console

    buffer = io.StringIO()
    monkeypatch.setattr(_console, 'out', Console(file=buffer, width=80))
    _console.emit({'identity_switches_far_same_class_after_repair': 0,
                   'frames_skipped': {}, 'position_error_m': 0.0412345,
                   'changes_by_kind': {'moved': {'true': 3, 'reported': 4}},
                   'worlds': ['apartment', 'house'], 'series': [{'day': 1}, {'day': 2}]},
                  False, 'eval mapping')
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert '…' not in text and '{' not in text and '[' not in text.replace('series[', '')
    rows = {cells[0]: cells[1] for line in text.splitlines()
            if len(cells := [c.strip() for c in line.strip('│').split('│')]) == 2}
    assert rows == {'identity_switches_far_same_class_after_repair': '0',
                    'frames_skipped': 'none', 'position_error_m': '0.04123',
                    'changes_by_kind.moved.true': '3', 'changes_by_kind.moved.reported': '4',
                    'worlds': 'apartment, house', 'series[0].day': '1', 'series[1].day': '2'}


def test_view_without_out_writes_beside_the_memory_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    memory = EpisodicMemory()
    memory.create_object('object:mug', MONDAY_S + 9 * 3600, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen'})
    (tmp_path / 'robot').mkdir()
    with MemoryStore(tmp_path / 'robot' / 'memory.db') as store:
        store.sync(memory)
    (tmp_path / 'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path / 'elsewhere')
    main(['view', '--db', str(tmp_path / 'robot' / 'memory.db')])
    assert (tmp_path / 'robot' / 'memory.html').stat().st_size > 1000
    assert list((tmp_path / 'elsewhere').iterdir()) == []


@pytest.fixture
def mug_db(tmp_path: Path) -> Path:
    memory = EpisodicMemory()
    memory.create_object('object:mug', MONDAY_S + 9 * 3600, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen'})
    with MemoryStore(tmp_path / 'robot.db') as store:
        store.sync(memory)
    return tmp_path / 'robot.db'


@pytest.mark.parametrize(('question', 'code'), [
    ('where is the mug?', 0),
    ('colourless green ideas sleep furiously', 3),  # EXIT_NOT_UNDERSTOOD
    ('how many mugs are in the garage?', 3),  # no such room: not understood either
])
def test_ask_exits_with_the_documented_code(mug_db: Path, question: str, code: int,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    try:
        main(['ask', question, '--db', str(mug_db), '--no-embeddings', '--json'])
        got = 0
    except SystemExit as exc:
        got = int(exc.code or 0)
    assert got == code
    answer = json.loads(capsys.readouterr().out)
    assert (answer['query'] is None) == (code == 3)


def test_ask_exit_codes_are_those_the_readme_lists() -> None:
    from robot_memory.cli_options import EXIT_ERROR, EXIT_NOT_ANSWERED, EXIT_NOT_UNDERSTOOD

    readme = (Path(__file__).resolve().parents[1] / 'README.md').read_text()
    assert (f'`ask` exits 0 with an answer, {EXIT_NOT_ANSWERED} when it understood the question '
            f'but memory cannot answer it, {EXIT_ERROR} on a bad command line or file, and '
            f'{EXIT_NOT_UNDERSTOOD} when it could not understand the question') \
        in ' '.join(readme.split())


@pytest.mark.slow
def test_the_first_question_says_the_language_model_is_loading(mug_db: Path) -> None:
    result = _run('ask', 'colourless green ideas sleep furiously', '--db', str(mug_db),
                  '--json')
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines()[0] == ('loading the language model (all-MiniLM-L6-v2) '
                                             'for the first question…')
    assert result.stderr.splitlines()[1].startswith('language model loaded in ')
    assert json.loads(result.stdout)['query'] is None

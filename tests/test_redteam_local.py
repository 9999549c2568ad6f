"""The red-team findings on local files and the CLI (issue #29, rows 5, 9, 10, 11, 12, 15).

Each test reproduces a finding that failed on the code before the fix: read-only media, CLI
tracebacks, YAML bombs, a full disk during a snapshot, a half-created file, a deleted event
row, a NaN stamp.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from robot_memory.cli import main
from robot_memory.config import MAX_YAML_DEPTH, MAX_YAML_NODES, parse_yaml
from robot_memory.core import EpisodicMemory, FactKey, MemoryStore
from robot_memory.core.events import event_from_record
from robot_memory.exceptions import CorruptStoreError, InvalidInputError, StoreError

START_S = 1793577600.0


def _memory(n: int = 5) -> EpisodicMemory:
    memory = EpisodicMemory()
    for i in range(n):
        memory.create_object(f'object:{i}', START_S + 60.0 * i, 'mug',
                             {FactKey.POSITION: (float(i), 0.0, 0.0),
                              FactKey.ROOM: 'room:kitchen'})
    return memory


def _write(path: Path, n: int = 5) -> int:
    with MemoryStore(path) as store:
        store.sync(_memory(n))
        return store.last_seq


def _mount_tmpfs(where: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip('mounting a tmpfs needs root')
    result = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(where)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here: {result.stderr.strip()}')


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of its own at tmp_path/disk (remountable read-only or smaller)."""
    where = tmp_path / 'disk'
    where.mkdir()
    _mount_tmpfs(where, '4m')
    try:
        yield where
    finally:
        subprocess.run(['umount', '-l', str(where)], capture_output=True)


def _cli(capsys: pytest.CaptureFixture[str], line: str) -> tuple[int, str]:
    """Run `robot-memory <line>` in this process: (exit code, stdout + stderr)."""
    try:
        main(shlex.split(line))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# ------------------------------------------------------------------ row 5: read-only media
def test_a_memory_file_on_read_only_media_is_read(
        disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = disk / 'memory.db'
    written = _write(db)
    subprocess.run(['mount', '-o', 'remount,ro', str(disk)], check=True)
    with pytest.raises(OSError):
        (disk / 'probe').write_text('x')  # the medium really is read-only
    with MemoryStore(db, read_only=True) as store:
        memory = store.load()
        assert store.loaded_seq == written
    assert memory.num_objects() == 5
    code, text = _cli(capsys, f'inspect {db} --json')
    assert code == 0, text
    assert json.loads(text.strip().splitlines()[-1])['objects_known'] == 5
    code, text = _cli(capsys, f"ask 'where is the mug' --db {db} --no-embeddings")
    assert code == 0 and 'kitchen' in text, text
    code, text = _cli(capsys, f'view --db {db} --out {tmp_path / "page.html"}')
    assert code == 0 and (tmp_path / 'page.html').stat().st_size > 1000, text
    assert sorted(p.name for p in disk.iterdir()) == ['memory.db']  # nothing written there


# ------------------------------------------------------------------ row 9: one-line CLI errors
@pytest.fixture(scope='module')
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of bad and good inputs for the CLI."""
    root = tmp_path_factory.mktemp('cli')
    _write(root / 'good.db')
    (root / 'random.db').write_bytes(bytes(range(256)) * 16)
    (root / 'adir').mkdir()
    (root / 'bin.txt').write_bytes(b'\xff\xfe\x00' * 100)
    (root / 'deep.yaml').write_text('[' * 5000 + ']' * 5000)
    (root / 'not.mcap').write_text('hello')
    (root / 'nan.yaml').write_text('miss_rate: .nan\n')
    return root


BAD_CLI = [
    ("parse 'where was my mug on 9999-12-31' --no-embeddings",
     '9999-12-31 is beyond the dates memory can hold (0001-01-02 to 9999-12-30)'),
    ("parse 'where was my mug on 0001-01-01' --no-embeddings", '0001-01-01 is beyond'),
    ("parse '   ' --no-embeddings", 'the question is empty'),
    ("parse 'where is it' --now nan --no-embeddings", '--now nan is outside the calendar'),
    ('parse --file bin.txt --no-embeddings', 'cannot read bin.txt'),
    ("ask 'where is the mug' --db good.db --now 1e18 --no-embeddings",
     '--now 1e+18 is outside the calendar (stamps from -62135510400 to 253402128000 s'),
    ("ask 'where is the mug' --db good.db --now nan --no-embeddings", '--now nan is outside'),
    ("ask 'where is the mug' --db good.db --now inf --no-embeddings", '--now inf is outside'),
    ("ask 'where is the mug' --db good.db --now -1e12 --no-embeddings",
     '--now -1000000000000.0 is outside'),
    ("ask 'where was the mug on 9999-12-31' --db good.db --no-embeddings", 'beyond the dates'),
    ("ask 'where is the mug' --db adir --no-embeddings", 'adir: a folder, not a memory file'),
    ("ask 'where is the mug' --db random.db --no-embeddings", 'not a readable SQLite database'),
    ('inspect good.db --at 1e300', '--at 1e+300 is outside the calendar'),
    ('view --db good.db --out adir', 'cannot write adir: Is a directory'),
    ('view --db good.db --out o.html --step-s nan', 'step_s must be > 0'),
    ('ingest --bag not.mcap --db i.db', 'not.mcap is not an MCAP recording'),
    ('ingest --bag adir --db i.db', 'no recording at adir'),
    ('sim --world deep.yaml --out s', 'nested 5000 levels deep (at most 64)'),
    ('sim --detector nan.yaml --out s', 'miss_rate must be in [0, 1], got nan'),
    ('eval mapping --seeds 1 --days -1', '--days must be at least 1, got -1'),
    ('demo --days 0 --out d', '--days must be at least 1, got 0'),
    ('inspect --no-such-option good.db', 'No such option: --no-such-option'),
]


@pytest.mark.parametrize(('line', 'message'), BAD_CLI, ids=[c[0][:48] for c in BAD_CLI])
def test_a_bad_cli_input_is_one_line_and_a_nonzero_exit(
        files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        line: str, message: str) -> None:
    monkeypatch.chdir(files)
    code, text = _cli(capsys, line)
    assert code == 2, text
    assert 'Traceback' not in text
    assert message in text
    errors = [row for row in text.splitlines() if row.startswith(('error:', 'Error:'))]
    assert len(errors) == 1, text


def _recording(folder: Path, frames: int) -> Path:
    from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig
    from robot_memory.sim.recording import McapRecorder

    sim = BuiltinSim(SimConfig(camera=CameraConfig(width=160, height=120)))
    bag = folder / 'day0.mcap'
    with McapRecorder(bag) as recorder:
        for frame in itertools.islice(sim.patrol_day(0), frames):
            recorder.write_frame(frame)
    return bag


def test_a_recording_cut_short_is_read_up_to_its_cut(tmp_path: Path) -> None:
    pytest.importorskip('mcap_ros2.decoder', reason='mcap-ros2-support is not installed')
    from robot_memory.ros.bag import ingest_bag

    bag = _recording(tmp_path, 60)
    whole = ingest_bag(bag, tmp_path / 'whole.db')
    cut = tmp_path / 'cut.mcap'
    cut.write_bytes(bag.read_bytes()[:bag.stat().st_size * 3 // 4])  # the recorder was killed
    part = ingest_bag(cut, tmp_path / 'cut.db')
    assert not whole['truncated'] and part['truncated']
    assert 0 < part['frames_accepted'] < whole['frames_accepted']
    assert part['objects_in_memory'] > 0


# ------------------------------------------------------------------ row 10: YAML limits
ALIAS_BOMB = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + ''.join(
    f'{new}: &{new} [{", ".join(["*" + old] * 9)}]\n'
    for old, new in zip('abcdefgh', 'bcdefghi', strict=True))
BAD_YAML = {
    'deep_flow': ('[' * 100_000, f'nested 100000 levels deep (at most {MAX_YAML_DEPTH})'),
    'deep_block': (''.join('  ' * i + f'k{i}:\n' for i in range(400)),
                   f'nested deeper than {MAX_YAML_DEPTH} levels'),
    'alias_bomb': (ALIAS_BOMB, f'aliases expand to more than {MAX_YAML_NODES} nodes'),
    'self_alias': ('&a [*a]', 'an alias refers to the node that contains it'),
}


@pytest.mark.parametrize('name', sorted(BAD_YAML))
def test_a_hostile_yaml_document_is_refused_before_it_is_built(name: str) -> None:
    text, message = BAD_YAML[name]
    with pytest.raises(InvalidInputError, match=r'^cannot read the taxonomy t\.yaml: ') as info:
        parse_yaml(text, 't.yaml', 'taxonomy')
    assert message in str(info.value)


def test_yaml_within_the_limits_reads_as_before() -> None:
    shallow = '[' * MAX_YAML_DEPTH + ']' * MAX_YAML_DEPTH
    assert parse_yaml(shallow, 't.yaml', 'x') is not None
    text = 'base: &b {shade: red, size_m: 0.1}\nmug: *b\nnote: "[[[ # not a comment"\n'
    assert parse_yaml(text, 't.yaml', 'x') == {
        'base': {'shade': 'red', 'size_m': 0.1}, 'mug': {'shade': 'red', 'size_m': 0.1},
        'note': '[[[ # not a comment'}


def _loaders() -> dict[str, Callable[[Path], object]]:
    from robot_memory.core.taxonomy import Taxonomy, load_affordances
    from robot_memory.eval.questions import load_questions
    from robot_memory.language.phrasings import load_phrasings
    from robot_memory.perception.class_segments import load_label_space
    from robot_memory.perception.regions import read_regions
    from robot_memory.ros.layouts import load_layout
    from robot_memory.ros.rviz_config import rviz_topics
    from robot_memory.sim.backend import load_scenario
    from robot_memory.sim.detector import load_detector
    from robot_memory.sim.generate import load_spec
    from robot_memory.sim.habitat.config import HabitatConfig

    return {'taxonomy': Taxonomy.from_yaml, 'affordances': load_affordances,
            'questions': load_questions, 'phrasings': load_phrasings,
            'label_space': load_label_space, 'regions': read_regions,
            'layout': lambda p: load_layout(str(p)), 'rviz': rviz_topics,
            'scenario': load_scenario, 'detector': lambda p: load_detector(str(p)),
            'world_spec': load_spec, 'habitat': HabitatConfig.from_yaml}


@pytest.mark.parametrize('loader', sorted(_loaders()))
@pytest.mark.parametrize('name', ['deep_block', 'alias_bomb'])
def test_every_yaml_loader_refuses_a_hostile_file_with_one_error(
        tmp_path: Path, loader: str, name: str) -> None:
    path = tmp_path / 'hostile.yaml'
    path.write_text(BAD_YAML[name][0])
    with pytest.raises(InvalidInputError, match=r'hostile\.yaml'):
        _loaders()[loader](path)


# ------------------------------------------------------------------ row 11: full disk, snapshot
def test_a_full_disk_during_a_snapshot_is_a_store_error_like_a_commit(disk: Path) -> None:
    import numpy as np

    from robot_memory.service import MemoryService, MemoryServiceParams

    service = MemoryService(MemoryServiceParams(db_path=str(disk / 'memory.db'),
                                                use_embeddings=False, commit_interval_s=0.0))
    rng = np.random.default_rng(0)
    for i in range(400):  # a memory whose snapshot needs far more than the room left below
        service.memory.create_object(
            f'object:{i}', START_S + i, 'mug',
            {FactKey.POSITION: tuple(float(v) for v in rng.uniform(-9, 9, 3)),
             FactKey.ROOM: f'room:{i}'})
    service.flush()
    stat = os.statvfs(disk)
    with (disk / 'filler').open('wb') as fh:  # the disk fills up, all but two pages
        fh.write(b'\0' * (stat.f_bavail * stat.f_frsize - 8192))
    with pytest.raises(StoreError, match=r'snapshot failed \(database or disk is full\)'):
        service.store.snapshot(service.memory)
    (disk / 'filler').unlink()  # space is back: the memory file is whole
    service.close()
    with MemoryStore(disk / 'memory.db', read_only=True) as store:
        assert store.load().num_objects() == 400


# ------------------------------------------------------------------ row 12: half-created file
def test_a_file_killed_while_being_created_is_created_on_next_open(tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    conn = sqlite3.connect(path)
    conn.execute('PRAGMA journal_mode=WAL')  # what creation did first, then the kill
    conn.close()
    with pytest.raises(StoreError, match='creation was cut off'):
        MemoryStore(path, read_only=True)
    with MemoryStore(path) as store:
        store.sync(_memory())
    with MemoryStore(path, read_only=True) as store:
        assert store.load().num_objects() == 5


def test_a_foreign_empty_looking_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / 'notes.db'
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE notes (text TEXT)')
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(CorruptStoreError, match='not a robot_memory file'):
        MemoryStore(path)
    assert path.read_bytes() == before


# ------------------------------------------------------------------ row 15: gaps, NaN stamps
def test_a_deleted_event_row_is_detected_and_named(tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    _write(path)
    conn = sqlite3.connect(path)
    with conn:
        # A fact row whose loss replay alone would never notice.
        conn.execute('DELETE FROM events WHERE seq IN (3, 4)')
    conn.close()
    with MemoryStore(path, read_only=True) as store:
        assert store.missing_events() == [(3, 4)]
        with pytest.raises(CorruptStoreError, match='events 3-4 are missing from the log'):
            store.load()


def test_a_gap_already_held_by_a_snapshot_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / 'memory.db'
    memory = _memory()
    with MemoryStore(path) as store:
        store.snapshot(memory)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute('DELETE FROM events WHERE seq = 2')
    conn.close()
    with MemoryStore(path, read_only=True) as store:
        assert store.missing_events() == [(2, 2)]
        assert store.load().num_objects() == 5


@pytest.mark.parametrize('stamp', ['NaN', 'Infinity', '-Infinity', 'true', '"soon"'])
def test_an_event_stamp_that_is_no_time_is_refused_on_replay(tmp_path: Path,
                                                             stamp: str) -> None:
    path = tmp_path / 'memory.db'
    _write(path)
    conn = sqlite3.connect(path)
    body = conn.execute('SELECT body FROM events WHERE seq = 2').fetchone()[0]
    record = json.loads(body)
    with conn:
        conn.execute('UPDATE events SET body = ? WHERE seq = 2',
                     (body.replace(json.dumps(record['stamp_s']), stamp, 1),))
    conn.close()
    with pytest.raises(CorruptStoreError, match='event 2 is malformed'):
        MemoryStore(path, read_only=True).load()


def test_a_huge_malformed_record_is_named_briefly() -> None:
    with pytest.raises(InvalidInputError) as info:
        event_from_record({'kind': 'garbage', 'pad': 'x' * 1_000_000})
    assert len(str(info.value)) < 1000

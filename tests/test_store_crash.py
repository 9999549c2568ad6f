"""Crash safety and damaged files: a SIGKILLed writer loses nothing it reported committed, and
a file that is not a healthy memory is refused with a `StoreError` naming it.
"""

from __future__ import annotations

import itertools
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from robot_memory.core import EpisodicMemory, FactKey, MemoryStore
from robot_memory.exceptions import CorruptStoreError, StoreError

TIMEOUT_S = 60.0

# Streams observations of objects that keep hopping between two places, so every frame brings
# new events, and prints the sequence number of each committed batch. It stops by itself after
# TIMEOUT_S in case the parent never kills it.
CHILD_CODE = textwrap.dedent(f"""
    import sys
    import time

    from robot_memory.core import Consolidator, MemoryStore, ObservedFacts
    from robot_memory.core.types import ObjectObservation


    def report(seq):
        print(seq, flush=True)


    store = MemoryStore(sys.argv[1], commit_interval_s=0.05, snapshot_every=400,
                        on_commit=report)
    memory = store.new_memory()
    consolidator = Consolidator(memory)
    stop_s = time.monotonic() + {TIMEOUT_S}
    frame = 0
    while time.monotonic() < stop_s:
        stamp_s = 1793577600.0 + 0.5 * frame
        for i in range(20):
            x = float(i) + (0.0 if (frame // 4 + i) % 2 else 2.0)
            obs = ObjectObservation(20 * frame + i, stamp_s, 'cup', (x, 0.0, 0.8))
            consolidator.observe(f'object:{{i}}', obs, ObservedFacts(room_id='room:kitchen'))
        store.sync(memory)
        frame += 1
""")


def start_writer(db_path: Path, stderr_path: Path) -> subprocess.Popen[str]:
    with stderr_path.open('w') as stderr:
        return subprocess.Popen([sys.executable, '-c', CHILD_CODE, str(db_path)],
                                stdout=subprocess.PIPE, stderr=stderr, text=True)


def pump_lines(child: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """Read the child's stdout on a thread; None marks the end of the stream."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def committed_seq(line: str) -> int | None:
    """The sequence number on a complete line (a kill can cut the last line short)."""
    return int(line) if line.endswith('\n') else None


@pytest.mark.timeout(3 * TIMEOUT_S)
@pytest.mark.parametrize('commits_before_kill', [3, 12])
def test_a_killed_writer_loses_no_event_it_reported_committed(
        tmp_path: Path, commits_before_kill: int) -> None:
    db_path, stderr_path = tmp_path / 'memory.db', tmp_path / 'writer.stderr'
    child = start_writer(db_path, stderr_path)
    reported: list[int] = []
    try:
        lines = pump_lines(child)
        deadline = time.monotonic() + TIMEOUT_S
        while len(reported) < commits_before_kill:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                pytest.fail(f'writer reported {len(reported)} commits in {TIMEOUT_S} s')
            if line is None:
                pytest.fail(f'writer exited early:\n{stderr_path.read_text()}')
            reported.append(int(line))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=TIMEOUT_S)
        # Commits reported between the last line read and the kill count as well.
        while (line := lines.get(timeout=TIMEOUT_S)) is not None:
            if (seq := committed_seq(line)) is not None:
                reported.append(seq)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=TIMEOUT_S)
    assert child.returncode == -signal.SIGKILL
    assert reported == sorted(set(reported)), 'commits are reported in increasing order'

    with MemoryStore(db_path, create=False) as store:
        memory = store.load()
        seqs = [seq for seq, _ in store.iter_events()]
        assert all(seq <= store.last_seq for seq in reported)
        assert len(seqs) >= reported[-1]
        assert seqs == list(range(1, store.last_seq + 1))
        assert memory.num_events == store.last_seq
        assert memory.num_objects() == 20


# ------------------------------------------------------------------ damaged and foreign files
def real_store_bytes(tmp_path: Path) -> bytes:
    """The bytes of a closed, healthy memory file with a snapshot and later events."""
    rng = np.random.default_rng(0)
    memory = EpisodicMemory()
    path = tmp_path / 'real.db'
    with MemoryStore(path) as store:
        for i in range(40):
            position = tuple(float(v) for v in rng.uniform(-5.0, 5.0, size=3))
            memory.create_object(f'object:{i}', 1793577600.0 + i, 'cup',
                                 {FactKey.POSITION: position, FactKey.ROOM: 'room:kitchen'})
            if i == 20:
                store.snapshot(memory)
        store.sync(memory)
    return path.read_bytes()


def random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(8192))


def truncated_store(path: Path) -> None:
    data = real_store_bytes(path.parent)
    path.write_bytes(data[:len(data) // 2])


def foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)')
        conn.execute("INSERT INTO notes (text) VALUES ('buy milk')")
    conn.close()


def event_log_with_a_hole(path: Path) -> None:
    path.write_bytes(real_store_bytes(path.parent))
    conn = sqlite3.connect(path)
    with conn:
        # The creation of object:30, which the facts after the snapshot refer to.
        conn.execute("DELETE FROM events WHERE kind = 'created' AND object_id = 'object:30'")
    conn.close()


SQLITE_PROBLEM = r'(not a readable SQLite database|damaged database|integrity check failed)'


@pytest.mark.parametrize(('make', 'problem'), [
    pytest.param(random_bytes, re.escape('not a readable SQLite database (file is not a '
                                         'database)'), id='random_bytes'),
    pytest.param(truncated_store, SQLITE_PROBLEM, id='truncated_store'),
    pytest.param(foreign_database, re.escape('not a robot_memory file (application_id 0x0, '
                                             'expected 0x524d454d)'), id='foreign_database'),
    pytest.param(event_log_with_a_hole, r'event \d+ is missing from the log \(deleted\?\)',
                 id='event_log_hole'),
])
def test_a_damaged_or_foreign_file_is_refused_with_its_name_and_problem(
        tmp_path: Path, make: Callable[[Path], None], problem: str) -> None:
    path = tmp_path / 'memory.db'
    make(path)
    with (pytest.raises(CorruptStoreError, match=f'^{re.escape(str(path))}: {problem}'),
          MemoryStore(path) as store):
        store.load()


def one_byte_file(path: Path) -> None:
    path.write_bytes(b'x')


@pytest.mark.parametrize('make', [foreign_database, one_byte_file],
                         ids=['foreign_database', 'one_byte_file'])
def test_a_refused_file_is_left_as_it_was(tmp_path: Path, make: Callable[[Path], None]) -> None:
    path = tmp_path / 'memory.db'
    make(path)
    before = path.read_bytes()
    with pytest.raises(CorruptStoreError):
        MemoryStore(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['memory.db']


def test_opening_a_missing_file_without_create_names_it(tmp_path: Path) -> None:
    path = tmp_path / 'robot' / 'memory.db'
    with pytest.raises(StoreError, match=f'^{re.escape(str(path))}: no such memory file$'):
        MemoryStore(path, create=False)
    assert not path.exists()
    assert not path.parent.exists()


# A reader beside the writer: opens the file read-only again and again for READ_S, loads it,
# and prints the sequence number each load reached and how long the load took.
READER_CODE = textwrap.dedent("""
    import sys
    import time

    from robot_memory.core import MemoryStore

    stop_s = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < stop_s:
        start = time.monotonic()
        with MemoryStore(sys.argv[1], read_only=True) as store:
            memory = store.load()
            print(store.loaded_seq, len(memory.at(memory.now_s).objects),
                  round(time.monotonic() - start, 3), flush=True)
""")
READ_S = 30.0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_readers_beside_the_writer_see_whole_batches_and_never_block_it(tmp_path: Path
                                                                       ) -> None:
    db, stderr = tmp_path / 'memory.db', tmp_path / 'writer.stderr'
    writer = start_writer(db, stderr)
    lines = pump_lines(writer)
    committed: list[tuple[float, int]] = []
    while len(committed) < 3:  # the file exists with a first batch
        line = lines.get(timeout=TIMEOUT_S)
        assert line is not None, stderr.read_text()
        if (seq := committed_seq(line)) is not None:
            committed.append((time.monotonic(), seq))
    readers = [subprocess.Popen([sys.executable, '-c', READER_CODE, str(db), str(READ_S)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(5)]
    try:
        while any(r.poll() is None for r in readers):
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is not None and (seq := committed_seq(line)) is not None:
                committed.append((time.monotonic(), seq))
        outputs = [r.communicate(timeout=30) for r in readers]
    finally:
        writer.kill()
        writer.wait(timeout=10)
        for r in readers:
            r.kill()
    batches = {seq for _, seq in committed}
    loads = 0
    for out, err in outputs:
        assert 'Traceback' not in err and 'Error' not in err, err
        seen = [line.split() for line in out.splitlines()]
        loads += len(seen)
        assert seen, err
        for seq, objects, _ in seen:
            assert int(seq) in batches, f'a reader saw {seq}, not a committed batch'
            assert int(objects) == 20
    # The writer went on committing all along: no gap much longer than its commit interval.
    stamps = [t for t, _ in committed]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    slowest_load = max(float(row.split()[2]) for out, _ in outputs for row in out.splitlines())
    print(f'{loads} loads by 5 readers in {READ_S:.0f} s, {len(committed)} batches committed; '
          f'longest writer gap {max(gaps):.3f} s, slowest load {slowest_load:.3f} s')
    assert loads >= 5 * 3 and max(gaps) < 1.0, (loads, max(gaps))

"""SQLite store: one file per robot, an append-only event log plus periodic snapshots.

WAL mode, batched commits (at most `commit_interval_s` of events are uncommitted, so a crash
loses at most that much), plain JSON records. A batch is committed by the first write after
the interval, or by `commit()`: a writer that goes idle commits what waits (memory_node
flushes on its diagnostics timer), or readers beside it do not see its last events.
Reopening replays the latest snapshot and the events after it into an `EpisodicMemory` equal
to the one that was written. A damaged or foreign file raises `CorruptStoreError` naming the
file and the problem.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import Event, event_from_record, event_to_record
from robot_memory.exceptions import (
    CorruptStoreError,
    InvalidInputError,
    RobotMemoryError,
    StoreError,
    WorldMismatchError,
)

__all__ = ['APPLICATION_ID', 'SCHEMA_VERSION', 'MemoryStore']

log = logging.getLogger(__name__)

APPLICATION_ID = 0x524D454D  # 'RMEM' in the SQLite header marks our files
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    stamp_s REAL NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_object ON events (object_id, stamp_s);
CREATE TABLE IF NOT EXISTS snapshots (
    seq INTEGER PRIMARY KEY,
    taken_s REAL NOT NULL,
    body BLOB NOT NULL
);
"""


class _HalfCreatedError(StoreError):
    """A file cut off while being created (`MemoryStore._empty_sqlite_file`)."""


class MemoryStore:
    """Persists an `EpisodicMemory` to one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = True,
                 commit_interval_s: float = 1.0, snapshot_every: int = 20000,
                 clock: MemoryClock | None = None, seen_resolution_s: float = 30.0,
                 session_gap_s: float = 1800.0,
                 on_commit: Callable[[int], None] | None = None,
                 read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if commit_interval_s < 0 or snapshot_every < 1:
            raise InvalidInputError('commit_interval_s must be >= 0 and snapshot_every >= 1')
        self.commit_interval_s = commit_interval_s
        self.snapshot_every = snapshot_every
        self.on_commit = on_commit
        if self.path.is_dir():
            raise StoreError(f'{self.path}: a folder, not a memory file')
        existed = self.path.exists() and self.path.stat().st_size > 0
        if not existed and (read_only or not create):
            raise StoreError(f'{self.path}: no such memory file')
        self._created_now = not existed
        self._conn = self._connect(existed)
        self._closed = False
        if not self._created_now:
            self._settings = self._read_settings()
        else:
            clock = clock or MemoryClock()
            self._settings = {'timezone': clock.timezone,
                              'seen_resolution_s': seen_resolution_s,
                              'session_gap_s': session_gap_s}
            self._init_file()
        self._pending: list[tuple[float, str, str | None, str]] = []
        self.loaded_seq = 0  # the last event the latest `load` replayed
        self._last_commit = time.monotonic()
        self._last_seq: int = self._query_one('SELECT COALESCE(MAX(seq), 0) FROM events')
        self._since_snapshot: int = self._last_seq - self._query_one(
            'SELECT COALESCE(MAX(seq), 0) FROM snapshots')

    # ------------------------------------------------------------- opening
    def _fail(self, problem: str, exc: BaseException | None = None) -> CorruptStoreError:
        err = CorruptStoreError(f'{self.path}: {problem}')
        if exc is not None:
            err.__cause__ = exc
        return err

    def _connect(self, existed: bool) -> sqlite3.Connection:
        if self.read_only:
            return self._connect_reader()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if existed:
                # Read-only until the file is known to be ours: a refused file stays as it was.
                probe = sqlite3.connect(f'file:{self.path}?mode=ro', uri=True)
                half_created = False
                try:
                    probe.execute('PRAGMA schema_version').fetchone()
                    self._conn = probe
                    self._check_file()
                except _HalfCreatedError:
                    half_created = True
                finally:
                    probe.close()
                if half_created:
                    log.warning('%s: a memory file whose creation was cut off (no schema '
                                'yet); creating it now', self.path)
                    self._created_now = True
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute('PRAGMA journal_mode=WAL')
            conn.execute('PRAGMA synchronous=NORMAL')
            return conn
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'not a readable SQLite database ({exc})', exc) from None
        except OSError as exc:
            raise StoreError(f'{self.path}: cannot open ({exc.strerror or exc})') from exc

    def _connect_reader(self) -> sqlite3.Connection:
        """A reader beside a writing process: read-only, never a checkpoint, no WAL change.

        In WAL mode readers and the writer do not wait for each other; `load` reads in one
        transaction, so it sees whole committed batches only.
        """
        mode = 'ro'
        if not os.access(self.path.parent, os.W_OK) and not Path(f'{self.path}-shm').exists():
            # Read-only media: a WAL reader cannot create its shared-memory file there
            # ("unable to open database file"). Nothing can be writing beside us, so the file
            # is read as immutable; a WAL left behind by a writer that died would be ignored.
            mode = 'ro&immutable=1'
            if Path(f'{self.path}-wal').exists() and Path(f'{self.path}-wal').stat().st_size:
                log.warning('%s: on read-only media with a write-ahead log left beside it; '
                            'events only in that log are not read', self.path)
        try:
            self._conn = sqlite3.connect(f'file:{self.path}?mode={mode}', uri=True,
                                         isolation_level=None, check_same_thread=False)
            self._conn.execute('PRAGMA schema_version').fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'not a readable SQLite database ({exc})', exc) from None
        try:
            self._check_file()
        except _HalfCreatedError:
            raise StoreError(f'{self.path}: a memory file whose creation was cut off (no '
                             'schema yet); opening it for writing finishes creating it') from None
        return self._conn

    def _empty_sqlite_file(self) -> bool:
        """True for a file killed while being created: SQLite's, with no tables (the caller has
        seen application id and user version 0).

        Creation writes the journal mode first and everything else in one transaction
        (`_init_file`), so a file cut off in between has no tables and no application id; one
        with anything in it is somebody else's and stays refused.
        """
        try:
            with self.path.open('rb') as f:
                if not f.read(100).startswith(b'SQLite format 3\x00'):
                    return False  # bytes SQLite reads as an empty database are not its file
        except OSError:
            return False
        try:
            return bool(self._query_one('SELECT COUNT(*) FROM sqlite_master') == 0)
        except StoreError:
            return False

    def _check_file(self) -> None:
        try:
            app_id = self._query_one('PRAGMA application_id')
            version = self._query_one('PRAGMA user_version')
            status = self._query_one('PRAGMA quick_check')
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'damaged database ({exc})', exc) from None
        if app_id != APPLICATION_ID:
            if app_id == 0 and version == 0 and self._empty_sqlite_file():
                raise _HalfCreatedError(str(self.path))
            raise self._fail(f'not a robot_memory file (application_id {app_id:#x}, '
                             f'expected {APPLICATION_ID:#x})')
        if version != SCHEMA_VERSION:
            raise self._fail(f'schema version {version} is not supported (this build reads '
                             f'version {SCHEMA_VERSION})')
        if status != 'ok':
            raise self._fail(f'integrity check failed: {status}')

    def _init_file(self) -> None:
        """Schema, marks and settings in one transaction: a kill leaves all or none."""
        rows = [(k, json.dumps(v)) for k, v in self._settings.items()]
        rows.append(('created_unix_s', json.dumps(time.time())))
        rows.append(('file_id', json.dumps(uuid.uuid4().hex)))
        try:
            with self._transaction():
                for statement in _SCHEMA.split(';'):
                    if statement.strip():
                        self._conn.execute(statement)
                self._conn.execute(f'PRAGMA application_id = {APPLICATION_ID}')
                self._conn.execute(f'PRAGMA user_version = {SCHEMA_VERSION}')
                self._conn.executemany('INSERT OR REPLACE INTO meta VALUES (?, ?)', rows)
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'cannot create schema ({exc})', exc) from None

    def _read_settings(self) -> dict[str, Any]:
        try:
            rows = dict(self._conn.execute('SELECT key, value FROM meta').fetchall())
            return {k: json.loads(rows[k])
                    for k in ('timezone', 'seen_resolution_s', 'session_gap_s')}
        except (sqlite3.DatabaseError, KeyError, ValueError) as exc:
            raise self._fail(f'missing or malformed settings ({exc!r})', exc) from None

    def _query_one(self, sql: str) -> Any:
        try:
            cursor = self._conn.execute(sql)
            try:
                return cursor.fetchone()[0]
            finally:
                # Reset now: a statement left stepping holds its read snapshot, and a reader
                # beside a writer would then see the file as it was, for as long as it lives.
                cursor.close()
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'damaged database ({exc})', exc) from None

    class _Txn:
        def __init__(self, store: MemoryStore) -> None:
            self.store = store

        def __enter__(self) -> None:
            if not self.store._conn.in_transaction:
                self.store._conn.execute('BEGIN')

        def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
            if exc_type is None:
                self.store._conn.execute('COMMIT')
            elif self.store._conn.in_transaction:  # SQLite may have rolled back already
                self.store._conn.execute('ROLLBACK')

    def _transaction(self) -> MemoryStore._Txn:
        return MemoryStore._Txn(self)

    # ------------------------------------------------------------- reading
    @property
    def settings(self) -> dict[str, Any]:
        """Memory settings stored in the file (timezone, resolutions)."""
        return dict(self._settings)

    def _meta(self, key: str) -> Any:
        """A value of the meta table (None when absent)."""
        try:
            row = self._conn.execute('SELECT value FROM meta WHERE key = ?', (key,)).fetchone()
            return None if row is None else json.loads(row[0])
        except (sqlite3.DatabaseError, ValueError) as exc:
            raise self._fail(f'cannot read {key} ({exc})', exc) from None

    def _set_meta(self, key: str, value: Any) -> None:
        try:
            with self._transaction():
                self._conn.execute('INSERT OR REPLACE INTO meta VALUES (?, ?)',
                                   (key, json.dumps(value)))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f'{self.path}: cannot record {key} ({exc})') from exc

    @property
    def file_id(self) -> str:
        """This file's identity, drawn at creation: a new file for the same robot differs.

        Files made before identities existed get one the first time a writer opens them; a
        reader of such a file sees one derived from its creation time (stable across opens).
        """
        value = self._meta('file_id')
        if value is None and not self.read_only:
            value = uuid.uuid4().hex
            self._set_meta('file_id', value)
        return str(value) if value is not None else f'created-{self._meta("created_unix_s")}'

    @property
    def world_id(self) -> str:
        """The world this memory was built in ('' when none was named)."""
        return str(self._meta('world_id') or '')

    def claim_world(self, world_id: str) -> None:
        """Record `world_id` as this memory's world, or refuse a file built in another one.

        A file that names no world yet (new, or made before worlds were recorded) takes it;
        '' checks nothing. Raises `WorldMismatchError` naming both worlds.
        """
        if not world_id:
            return
        current = self.world_id
        if current == world_id:
            return
        if current:
            raise WorldMismatchError(f'{self.path} holds the memory of world {current!r}, '
                                     f'not of {world_id!r}')
        if not self.read_only:
            self._set_meta('world_id', world_id)

    def new_memory(self) -> EpisodicMemory:
        """An empty memory with this file's settings."""
        return EpisodicMemory(MemoryClock(self._settings['timezone']),
                              float(self._settings['seen_resolution_s']),
                              float(self._settings['session_gap_s']))

    def load(self) -> EpisodicMemory:
        """Rebuild the memory: latest readable snapshot, then the events after it."""
        self.commit()
        if self.read_only:  # one read transaction: a writer's later batches stay out
            self._conn.execute('BEGIN')
            try:
                return self._load()
            finally:
                self._conn.execute('ROLLBACK')
        return self._load()

    def _load(self) -> EpisodicMemory:
        memory = self.new_memory()
        start = 0
        try:
            snaps = self._conn.execute(
                'SELECT seq, body FROM snapshots ORDER BY seq DESC').fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'damaged snapshot table ({exc})', exc) from None
        for seq, body in snaps:
            try:
                memory.load_dict(json.loads(zlib.decompress(body)))
                start = seq
                break
            except (zlib.error, ValueError, InvalidInputError) as exc:
                log.warning('%s: snapshot at seq %d unreadable (%s); trying an older one',
                            self.path, seq, exc)
                memory = self.new_memory()
        self.loaded_seq = start
        for first, last in self.missing_events():
            which = f'event {first} is' if first == last else f'events {first}-{last} are'
            if last > start:
                raise self._fail(f'{which} missing from the log (deleted?); the memory after '
                                 'them cannot be rebuilt')
            log.warning('%s: %s missing from the log; the snapshot at seq %d holds their '
                        'effect', self.path, which, start)
        for seq, event in self.iter_events(after_seq=start):
            try:
                memory.apply(event)
            except RobotMemoryError as exc:
                raise self._fail(f'event {seq} cannot be replayed: {exc}', exc) from None
            self.loaded_seq = seq
        memory.drain()
        return memory

    def missing_events(self) -> list[tuple[int, int]]:
        """Runs of sequence numbers absent from the committed log, as (first, last).

        Commits number events 1, 2, 3, … with no gaps, so a run missing below the last one
        is a row somebody deleted.
        """
        try:
            count, top = self._conn.execute(
                'SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events').fetchone()
            if count == top:
                return []
            present = [0] + [row[0] for row in self._conn.execute(
                'SELECT seq FROM events e WHERE NOT EXISTS '
                '(SELECT 1 FROM events WHERE seq = e.seq - 1) ORDER BY seq')]
            ends = [0] + [row[0] for row in self._conn.execute(
                'SELECT seq FROM events e WHERE NOT EXISTS '
                '(SELECT 1 FROM events WHERE seq = e.seq + 1) ORDER BY seq')]
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'damaged event log ({exc})', exc) from None
        # Run k of present events starts at present[k] and ends at ends[k]; the gap before
        # it runs from the previous run's end + 1 to its start - 1.
        return [(ends[k - 1] + 1, present[k] - 1) for k in range(1, len(present))
                if present[k] - 1 >= ends[k - 1] + 1]

    def iter_rows(self, after_seq: int = 0, limit: int | None = None
                  ) -> Iterator[tuple[int, float, str, str | None, str]]:
        """Committed and pending event rows after `after_seq`, in order, as stored:
        (seq, stamp_s, kind, object_id, JSON body) — for shipping them elsewhere unparsed."""
        self.commit()
        try:
            yield from self._conn.execute(
                'SELECT seq, stamp_s, kind, object_id, body FROM events WHERE seq > ? '
                'ORDER BY seq LIMIT ?', (after_seq, -1 if limit is None else limit))
        except sqlite3.DatabaseError as exc:
            raise self._fail(f'damaged event log ({exc})', exc) from None

    def iter_events(self, after_seq: int = 0) -> Iterator[tuple[int, Event]]:
        """Committed and pending events after `after_seq`, in order."""
        for seq, _, _, _, body in self.iter_rows(after_seq):
            try:
                yield seq, event_from_record(json.loads(body))
            except (ValueError, InvalidInputError) as exc:
                raise self._fail(f'event {seq} is malformed ({exc})', exc) from None

    @property
    def pending(self) -> int:
        """Events written but not committed yet (waiting for the interval, or for space)."""
        return len(self._pending)

    @property
    def last_commit_age_s(self) -> float:
        """Seconds since the last commit succeeded (or the file was opened)."""
        return time.monotonic() - self._last_commit

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event written (committed or pending); read-only: the
        last one the writer has committed so far."""
        if self.read_only:
            return int(self._query_one('SELECT COALESCE(MAX(seq), 0) FROM events'))
        return self._last_seq

    def num_events(self) -> int:
        """Events in the log, pending included."""
        return self._last_seq

    def file_bytes(self) -> int:
        """Size of the database file and its WAL on disk."""
        total = 0
        for suffix in ('', '-wal'):
            p = Path(f'{self.path}{suffix}')
            if p.exists():
                total += p.stat().st_size
        return total

    # ------------------------------------------------------------- writing
    def write(self, events: Iterable[Event]) -> int:
        """Queue events; commits when `commit_interval_s` has passed. Returns how many."""
        if self.read_only:
            raise StoreError(f'{self.path}: opened read-only (a reader beside the writer)')
        n = 0
        for event in events:
            record = event_to_record(event)
            object_id = record.get('object_id') or record.get('keep_id')
            self._pending.append((event.stamp_s, record['kind'], object_id,
                                  json.dumps(record, separators=(',', ':'))))
            n += 1
        self._last_seq += n
        self._since_snapshot += n
        if time.monotonic() - self._last_commit >= self.commit_interval_s:
            self.commit()
        return n

    def sync(self, memory: EpisodicMemory) -> int:
        """Write the events the memory applied since its last drain."""
        n = self.write(memory.drain())
        if self._since_snapshot >= self.snapshot_every:
            self.snapshot(memory)
        return n

    def commit(self) -> int:
        """Commit the pending batch; returns the last committed sequence number."""
        if self._pending:
            rows, self._pending = self._pending, []
            try:
                with self._transaction():
                    first = self._query_one('SELECT COALESCE(MAX(seq), 0) FROM events') + 1
                    self._conn.executemany(
                        'INSERT INTO events (seq, stamp_s, kind, object_id, body) '
                        'VALUES (?, ?, ?, ?, ?)',
                        [(first + i, *row) for i, row in enumerate(rows)])
            except sqlite3.DatabaseError as exc:
                self._pending = rows + self._pending
                raise StoreError(f'{self.path}: commit failed ({exc})') from exc
            if self.on_commit is not None:
                self.on_commit(self._last_seq)
        self._last_commit = time.monotonic()
        return self._last_seq

    def snapshot(self, memory: EpisodicMemory) -> int:
        """Write a snapshot of `memory` (synced first); returns its sequence number."""
        self.write(memory.drain())
        seq = self.commit()
        body = zlib.compress(json.dumps(memory.to_dict(), separators=(',', ':')).encode(), 6)
        # Due or not, the next one waits `snapshot_every` events: a snapshot only shortens
        # replay (the event log is the memory), and retrying one every frame on a full disk
        # would serialise the whole memory every frame.
        self._since_snapshot = 0
        try:
            with self._transaction():
                self._conn.execute('INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)',
                                   (seq, time.time(), body))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f'{self.path}: snapshot failed ({exc})') from exc
        return seq

    def close(self) -> None:
        """Commit what is pending and close the file."""
        if self._closed:
            return
        try:
            self.commit()
            if not self.read_only:
                self._conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        finally:
            self._conn.close()
            self._closed = True
            # A closed store has no connection: any later use fails at once.
            self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f'MemoryStore({str(self.path)!r}, events={self._last_seq})'

"""Ship a robot's local event log to the fleet server: batched, idempotent, resumable.

The robot never waits on the network: it keeps writing its SQLite event log as always, and
the replicator reads that file (read-only, beside the writer) and ships what the server lacks
in batches, one transaction each, keyed by (robot id, sequence number). What the server
acknowledged is the server's own answer (`max(seq)` of the robot's rows, asked at every
connection): a batch whose acknowledgement was lost is sent again and inserts nothing twice,
and a restart, a crash or an outage resumes where the server is. Nothing is kept beside the
memory file: until the first connection the backlog counts every local event. While idle,
the acknowledgement is asked again every `ack_check_s`: a server that crashed loses the
batches its WAL had not written yet (`synchronous_commit = off`), and a robot with nothing
new to ship would otherwise go on reporting them acknowledged (red-team issue #29, row 13).

The log shipped is one memory file's: at every connection the replicator claims the robot's
log on the server for the file's id (`MemoryStore.file_id`). A new file for a robot id that
already shipped another file's events is refused with a `FleetError` (its sequence numbers
restart at 1: shipped, they would mix with the old log; until they passed the old maximum
they were silently not shipped at all, red-team row 4). A row the server would refuse (not
an event, too large: `schema.check_row`) is not shipped: it is counted in `refused`, named in
the log, and leaves a gap in the robot's sequence that the fleet view reports.

After each shipment the replicator asks the server to bring its fleet objects table up to
date (`robot_memory_index`, schema 3; at most `index_budget` events, at most every
`index_period_s`, and nothing when another robot's call is at work): the fleet's objects
follow the events as they arrive, with no daemon beside the server. What a partition
dropped by retention held counts as acknowledged (`robots.pruned_seq`).

A server that is down is retried after `retry_s` (doubling to `max_retry_s`); a refused role
(wrong password, revoked — `revoke_robot` also ends the session open —, writing another
robot's id, another file's log) is a `FleetError` that the caller logs, counting it, while
the robot goes on locally.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robot_memory.core.store import MemoryStore
from robot_memory.exceptions import InvalidInputError, StoreError
from robot_memory.fleet.schema import (
    FleetError,
    FleetRefusedError,
    check_row,
    connect,
    error_text,
    role_of,
)

__all__ = ['Replicator', 'ReplicatorStats']

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO events (robot_id, seq, stamp_s, kind, object_id, body)
SELECT %s, s, t, k, o, b::jsonb
FROM unnest(%s::bigint[], %s::float8[], %s::text[], %s::text[], %s::text[]) AS x(s, t, k, o, b)
ON CONFLICT DO NOTHING
"""


@dataclass(slots=True)
class ReplicatorStats:
    """What the replicator did (diagnostics)."""

    acked_seq: int = 0
    local_seq: int = 0
    shipped: int = 0
    batches: int = 0
    failures: int = 0
    refused: int = 0
    last_error: str = ''
    connected: bool = False
    ack_times: list[tuple[int, float]] = field(default_factory=list)

    @property
    def backlog(self) -> int:
        """Events written locally that the server has not acknowledged."""
        return max(self.local_seq - self.acked_seq, 0)


class Replicator:
    """Replicates one memory file to the fleet server as robot `robot_id`."""

    def __init__(self, db: str | Path, dsn: str, robot_id: str, batch_events: int = 5000,
                 retry_s: float = 1.0, max_retry_s: float = 30.0,
                 ack_check_s: float = 5.0, index_events: bool = True,
                 index_budget: int = 5000, index_period_s: float = 2.0) -> None:
        role_of(robot_id)  # validates the id
        if batch_events < 1 or retry_s <= 0 or ack_check_s <= 0:
            raise InvalidInputError(f'batch_events must be >= 1, retry_s and ack_check_s > 0 '
                                    f'(got {batch_events}, {retry_s}, {ack_check_s})')
        self.db = Path(db)
        self.dsn = dsn
        self.robot_id = robot_id
        self.batch_events = batch_events
        self.retry_s, self.max_retry_s = retry_s, max_retry_s
        self.ack_check_s = ack_check_s
        self.index_events, self.index_budget = index_events, index_budget
        self.index_period_s = index_period_s
        self._indexed_at = -float('inf')
        #: Whether the server keeps the fleet objects table (schema 3), known once connected.
        self.fleet_objects = False
        self._acked_at = 0.0  # when the server last said what it holds (monotonic)
        self._refused_seqs: set[int] = set()
        self.stats = ReplicatorStats()
        self._conn: Any = None
        self._store: MemoryStore | None = None
        self._next_try = 0.0
        self._backoff = retry_s

    # ------------------------------------------------------------- local side
    def _local(self) -> MemoryStore:
        # The memory file read-only beside its writer; opened (and checked to be a memory
        # file) on first use, and again after a failure: a file being created is retried.
        if self._store is None:
            self._store = MemoryStore(self.db, read_only=True)
        return self._store

    def local_seq(self) -> int:
        """The last event the local log has committed."""
        return self._local().last_seq

    # ------------------------------------------------------------ server side
    def _connect(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.dsn, autocommit=False)
            # A batch is acknowledged before the server's WAL reaches its disk (half the
            # cost of a batch here): safe, because the robot keeps its log and learns what
            # the server holds from the server at every connection, so batches a server
            # crash lost are shipped again.
            self._conn.execute('SET synchronous_commit = off')
            # Schema 3 and later: the fleet objects table, and rows retention dropped.
            self.fleet_objects = self._conn.execute(
                "SELECT to_regproc('robot_memory_index') IS NOT NULL").fetchone()[0]
            self._claim_log(self._conn)
            self._read_ack(self._conn)
            self.stats.connected = True
        return self._conn

    def _claim_log(self, conn: Any) -> None:
        import psycopg

        file_id = self._local().file_id
        try:
            claimed = conn.execute('SELECT robot_memory_claim_log(%s, %s)',
                                   (self.robot_id, file_id)).fetchone()[0]
        except psycopg.errors.UndefinedFunction:
            conn.close()
            raise FleetRefusedError("the fleet server's schema is older than this robot's "
                                    'robot_memory: its administrator runs robot-memory fleet '
                                    'init') from None
        conn.commit()
        if claimed is not None and claimed != file_id:
            conn.close()
            raise FleetRefusedError(
                f'robot {self.robot_id!r} on the fleet server holds the log of another memory '
                f'file (file id {claimed}; {self.db} is {file_id}): a new memory file is a '
                'new robot to the fleet: add it under a new robot id (robot-memory fleet '
                "add-robot), or have the administrator delete the robot's rows first")

    def _read_ack(self, conn: Any) -> None:
        pruned = '(SELECT pruned_seq FROM robots WHERE robot_id = %(r)s)' \
            if self.fleet_objects else '0'
        row = conn.execute(f'SELECT greatest(COALESCE(max(seq), 0), {pruned}) FROM events '
                           'WHERE robot_id = %(r)s', {'r': self.robot_id}).fetchone()
        conn.commit()
        acked = int(row[0])
        while acked + 1 in self._refused_seqs:  # rows not shipped on purpose count as done
            acked += 1
        self.stats.acked_seq = acked
        self._acked_at = time.monotonic()

    def connect(self) -> None:
        """Connect now (else the first `sync` does); raises `FleetError` when it cannot."""
        import psycopg

        try:
            self._connect()
        except psycopg.Error as exc:
            raise FleetError(f'cannot prepare the fleet connection: {error_text(exc)}') \
                from None

    def _drop(self, error: str) -> None:
        self.stats.failures += 1
        self.stats.connected = False
        if error != self.stats.last_error:
            log.warning('fleet replication of %s paused: %s', self.robot_id, error)
        self.stats.last_error = error
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the connection is gone either way
                self._conn.close()
        self._conn = None
        self._next_try = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.max_retry_s)

    def sync(self, max_batches: int | None = None) -> int:
        """Ship what the server lacks (at most `max_batches` batches); returns events shipped.

        Never raises for a server that is down (it is retried later); raises `FleetError`
        when the server refuses this robot (wrong role or password, revoked, not its id,
        another memory file's log).
        """
        import psycopg

        if time.monotonic() < self._next_try:
            return 0
        shipped = 0
        try:
            self.stats.local_seq = self.local_seq()  # the backlog is known offline too
        except StoreError as exc:
            self.stats.last_error = str(exc)
            return 0
        try:
            conn = self._connect()
            if self.stats.acked_seq >= self.stats.local_seq and \
                    time.monotonic() - self._acked_at >= self.ack_check_s:
                self._read_ack(conn)  # idle: is what the server acknowledged still there?
            batches = 0
            while self.stats.acked_seq < self.stats.local_seq and \
                    (max_batches is None or batches < max_batches):
                rows = list(self._local().iter_rows(self.stats.acked_seq,
                                                    self.batch_events))
                if not rows:
                    break
                good = [row for row in rows if self._shippable(row, parse=False)]
                try:
                    self._insert(conn, good)
                except (psycopg.IntegrityError, psycopg.DataError):
                    # A row of a damaged file: find it by parsing every body, ship the rest.
                    good = [row for row in good if self._shippable(row, parse=True)]
                    self._insert(conn, good)
                self.stats.acked_seq = rows[-1][0]
                self.stats.ack_times.append((self.stats.acked_seq, time.time()))
                shipped += len(good)
                batches += 1
            conn.commit()
            if shipped and self.index_events and self.fleet_objects and \
                    time.monotonic() - self._indexed_at >= self.index_period_s:
                # The server's fleet objects follow as events arrive; one indexer at a time,
                # the others return at once (-1). At most every `index_period_s` a robot:
                # 50 robots shipping every 0.05 s and each asking after every batch kept
                # the server busy starting indexer calls.
                conn.execute('SELECT robot_memory_index(%s)', (self.index_budget,))
                conn.commit()
                self._indexed_at = time.monotonic()
        except psycopg.errors.InsufficientPrivilege as exc:
            self._drop(error_text(exc))
            raise FleetRefusedError(f'the fleet server refused robot {self.robot_id!r}: '
                                    f'{error_text(exc)}') from None
        except (psycopg.IntegrityError, psycopg.DataError) as exc:
            # Rows `check_row` passed, parsed, and the server refused: other rules than ours.
            self._drop(error_text(exc))
            raise FleetRefusedError(f'the fleet server refused events of robot '
                                    f'{self.robot_id!r} after {self.stats.acked_seq}: '
                                    f'{error_text(exc)}') from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop(error_text(exc))
            return shipped
        except StoreError as exc:  # the local file: reopened at the next sync
            self.stats.last_error = str(exc)
            if self._store is not None:
                self._store.close()
                self._store = None
            return shipped
        except FleetRefusedError as exc:
            self._drop(str(exc))
            raise
        except psycopg.Error as exc:  # nothing retrying mends: say it in one line
            self._drop(error_text(exc))
            raise FleetError(f'fleet replication of robot {self.robot_id!r} failed: '
                             f'{error_text(exc)}') from None
        except FleetError as exc:
            self._drop(str(exc))
            if 'password authentication failed' in str(exc) or 'not permitted to log in' in \
                    str(exc) or 'does not exist' in str(exc):
                raise FleetRefusedError(str(exc)) from None
            return shipped
        self._backoff = self.retry_s
        self.stats.shipped += shipped
        self.stats.batches += batches
        self.stats.last_error = ''
        return shipped

    def _insert(self, conn: Any, rows: list[tuple[int, float, str, str | None, str]]) -> None:
        if rows:
            columns = list(zip(*rows, strict=True))
            with conn.transaction():
                conn.execute(_INSERT, (self.robot_id, *map(list, columns)))

    def _shippable(self, row: tuple[int, float, str, str | None, str], parse: bool) -> bool:
        seq, stamp_s, kind, object_id, body = row
        why = check_row(stamp_s, kind, object_id, body, parse=parse)
        if not why:
            return True
        if seq not in self._refused_seqs:
            self._refused_seqs.add(seq)
            self.stats.refused += 1
            log.error('event %d of %s is not shipped (the fleet server would refuse it): %s',
                      seq, self.db, why)
        return False

    def close(self) -> None:
        """Close both connections."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Replicator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

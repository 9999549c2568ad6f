"""The fleet view: every robot's memory from the server, merged, answering questions.

`refresh()` pulls the events each robot added since the last pull (an index range scan on
the (robot id, seq) key per robot) and applies them to a `FleetMemory`; this robot's own
events, when a local memory file is given, come straight from that file, so what it has just
seen counts before it is replicated. Events that arrive late by more than `rebuild_after_s`
(a robot back from an outage) rebuild the fleet memory from all events, in stamp order (at
most once a `rebuild_after_s`; late batches in between apply as they come).

Nothing on the server is trusted: each row is checked on its own (`parse_row`: JSON within
limits, a known event kind of the right shape, finite stamps). A row that fails is
quarantined — counted, kept by robot and seq with the reason (`quarantine`), logged once —
and the pull goes on: one robot's bad row never costs the others their answers (red-team
issue #29, row 2). A robot's sequence numbers must follow each other; a missing one (a row
deleted on the server, or one its robot could not ship) is a gap, reported by robot and
range (`gaps`).

Answers come from the same `MemoryService` query path as one robot's, over the merged
memory; each piece of evidence also names the robot that saw it (`robot`) and every robot
that saw that object (`robots`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from robot_memory.bounded import check_number, loads
from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import Event, event_from_record
from robot_memory.core.store import MemoryStore
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.fleet.merge import FleetMemory
from robot_memory.fleet.schema import (
    MAX_ROW_BYTES,
    FleetError,
    connect,
    error_text,
    password_changed,
)

__all__ = ['FleetView', 'Quarantined', 'fleet_status', 'parse_row']

log = logging.getLogger(__name__)

_PULL = """
SELECT k.robot_id, e.seq, e.body::text
FROM unnest(%s::text[], %s::bigint[]) AS k(robot_id, seq)
CROSS JOIN LATERAL (
    SELECT seq, body FROM events
    WHERE events.robot_id = k.robot_id AND events.seq > k.seq
    ORDER BY seq
) e
ORDER BY k.robot_id, e.seq
"""

_KEPT = 100  # quarantined rows kept with their reason (all are counted)


class Quarantined(NamedTuple):
    """A server row the view refused."""

    robot_id: str
    seq: int
    reason: str


def parse_row(robot_id: str, seq: int, body: str) -> Event:
    """One server row → its event; `InvalidInputError` naming robot and seq for anything else."""
    what = f'robot {robot_id!r} event {seq}'
    record = loads(body, what, max_bytes=MAX_ROW_BYTES)
    if not isinstance(record, dict):
        raise InvalidInputError(f'{what}: a JSON {type(record).__name__}, not an event record')
    try:
        event = event_from_record(record)
    except RobotMemoryError as exc:
        raise InvalidInputError(f'{what}: {str(exc)[:300]}') from None
    except (TypeError, ValueError, AttributeError) as exc:  # a shape no kind has
        raise InvalidInputError(f'{what}: not an event record ({exc})') from None
    # event_from_record takes float('nan') from the string "NaN": a stamp must be a JSON
    # number, and a time (one NaN stamp would disorder every robot's merge).
    check_number(record['stamp_s'], f'{what}: stamp_s')
    if 'since_s' in record:
        check_number(record['since_s'], f'{what}: since_s')
    return event


class FleetView:
    """All robots' memories as one, kept current by `refresh()`."""

    def __init__(self, dsn: str, robot_id: str = '', local_db: str | Path | None = None,
                 gate_m: float = 0.5, rebuild_after_s: float = 120.0,
                 timezone: str = 'UTC', use_embeddings: bool = True) -> None:
        if local_db is not None and not robot_id:
            raise InvalidInputError('a local memory file needs the robot id it is shipped as')
        self.dsn = dsn
        self.robot_id = robot_id
        self.local_db = Path(local_db) if local_db is not None else None
        self.gate_m = gate_m
        self.rebuild_after_s = rebuild_after_s
        self.timezone = timezone
        self.use_embeddings = use_embeddings
        self.lock = threading.RLock()
        self._events: dict[str, list[Event]] = {}
        self._last_seq: dict[str, int] = {}
        self._conn: Any = None
        self._local: MemoryStore | None = None
        self.rebuilds = 0
        self._rebuilt_at = -float('inf')
        self.pulls = 0
        self.pull_errors = 0
        self.last_error = ''
        #: Rows refused by the pull (the first `_KEPT`); `quarantined` counts them all.
        self.quarantine: list[Quarantined] = []
        self.quarantined: dict[str, int] = {}
        #: Robot → missing sequence ranges (first, last) seen by the pull.
        self.gaps: dict[str, list[tuple[int, int]]] = {}
        self._build()

    def _build(self) -> None:
        self.fleet = FleetMemory(EpisodicMemory(MemoryClock(self.timezone)), self.gate_m)
        self._service: Any = None

    @property
    def memory(self) -> EpisodicMemory:
        """The merged memory."""
        return self.fleet.memory

    @property
    def service(self) -> Any:
        """A `MemoryService` over the merged memory (parser and query engine)."""
        if self._service is None:
            from robot_memory.service import MemoryService, MemoryServiceParams

            self._service = MemoryService(
                MemoryServiceParams(use_embeddings=self.use_embeddings, timezone=self.timezone),
                memory=self.memory)
        return self._service

    @property
    def robots(self) -> list[str]:
        """Robots whose events the view holds."""
        return sorted(r for r, events in self._events.items() if events)

    # ----------------------------------------------------------------- pulling
    def _pull_server(self) -> dict[str, list[tuple[int, Event]]]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = connect(self.dsn, autocommit=True)
        try:
            # Schema 3: rows retention dropped are neither to pull nor gaps.
            pruned = 'pruned_seq' if self._conn.execute(
                "SELECT to_regproc('robot_memory_index') IS NOT NULL").fetchone()[0] else '0'
            robots = []
            for r, first in self._conn.execute(f'SELECT robot_id, {pruned} FROM robots'):
                if r != self.robot_id:
                    robots.append(r)
                    self._last_seq[r] = max(self._last_seq.get(r, 0), int(first))
            robots.sort()
            # Per robot an index range scan on the primary key: (robot_id, seq > last).
            rows = self._conn.execute(_PULL, (robots, [self._last_seq.get(r, 0)
                                                       for r in robots])).fetchall()
        except psycopg.Error as exc:
            self._conn.close()
            self._conn = None
            raise FleetError(f'fleet pull failed: {error_text(exc)}') from None
        out: dict[str, list[tuple[int, Event]]] = {}
        pulled: dict[str, int] = {}
        for robot, seq, body in rows:
            expected = pulled.get(robot, self._last_seq.get(robot, 0)) + 1
            if seq < expected:  # schema 3 keys rows by (robot, seq, stamp): a second row
                self._quarantine(robot, seq, f'robot {robot!r} event {seq}: a second row '
                                 'with this seq (another stamp)')
                continue
            if seq != expected:
                gaps = self.gaps.setdefault(robot, [])
                gaps.append((expected, seq - 1))
                if len(gaps) == 1:  # once a robot, as quarantine: `gaps` has them all
                    log.warning('fleet view: robot %r has no events %d..%d on the server',
                                robot, expected, seq - 1)
            pulled[robot] = seq
            try:
                out.setdefault(robot, []).append((seq, parse_row(robot, seq, body)))
            except InvalidInputError as exc:
                self._quarantine(robot, seq, str(exc))
        # Quarantined rows are pulled once: the next pull starts after them.
        for robot, seq in pulled.items():
            self._last_seq[robot] = seq
        return {robot: rows for robot, rows in out.items() if rows}

    def _quarantine(self, robot: str, seq: int, reason: str) -> None:
        self.quarantined[robot] = self.quarantined.get(robot, 0) + 1
        if len(self.quarantine) < _KEPT:
            self.quarantine.append(Quarantined(robot, seq, reason))
        if self.quarantined[robot] == 1:  # once a robot: it may send many
            log.error('fleet view: quarantined %s', reason)

    def _pull_local(self) -> list[tuple[int, Event]]:
        if self.local_db is None or not self.local_db.exists():
            return []
        if self._local is None:
            self._local = MemoryStore(self.local_db, read_only=True)
        return list(self._local.iter_events(self._last_seq.get(self.robot_id, 0)))

    def refresh(self) -> int:
        """Pull and apply what is new; returns how many events. Raises `FleetError` only
        when neither the server nor a local file could be read."""
        new: dict[str, list[tuple[int, Event]]] = {}
        server_ok = True
        try:
            new.update(self._pull_server())
            self.pulls += 1
        except (FleetError, RobotMemoryError) as exc:
            server_ok = False
            self.pull_errors += 1
            if str(exc) != self.last_error and self.local_db is not None:  # else it raises
                log.warning('fleet view: %s', exc)
            self.last_error = str(exc)
        if not server_ok and self.local_db is None:
            raise FleetError(self.last_error)
        with self.lock:  # own events are pulled from two threads: one at a time
            local = self._pull_local() if self.robot_id else []
            if local:
                new[self.robot_id] = local
            return self._apply_new(new)

    def refresh_local(self) -> int:
        """Bring in this robot's own newest events only (no network)."""
        with self.lock:
            local = self._pull_local() if self.robot_id else []
            return self._apply_new({self.robot_id: local} if local else {})

    def _apply_new(self, new: dict[str, list[tuple[int, Event]]]) -> int:
        count = sum(len(v) for v in new.values())
        if not count:
            return 0
        with self.lock:
            oldest = min(e.stamp_s for rows in new.values() for _, e in rows)
            for robot, rows in new.items():
                self._events.setdefault(robot, []).extend(e for _, e in rows)
                self._last_seq[robot] = max(self._last_seq.get(robot, 0), rows[-1][0])
            late = self.memory.num_events and oldest < self.fleet.now_s - self.rebuild_after_s
            # A robot catching up after an outage sends its backlog in many batches: rebuild
            # at most once a `rebuild_after_s`, applying late batches in between as they come.
            if late and time.monotonic() - self._rebuilt_at >= self.rebuild_after_s:
                self._build()
                self.fleet.apply_all(self._events)
                self.rebuilds += 1
                self._rebuilt_at = time.monotonic()
            else:
                self.fleet.apply_all({r: [e for _, e in rows] for r, rows in new.items()})
        return count

    # ---------------------------------------------------------------- asking
    def annotate(self, reply: dict[str, Any]) -> dict[str, Any]:
        """Name the robots behind each piece of evidence of an answer dict."""
        for evidence in reply.get('evidence') or ():
            oid = evidence.get('object_id', '')
            evidence['robot'] = self.fleet.robot_at(oid, float(evidence.get('stamp_s', 0.0)))
            evidence['robots'] = self.fleet.robots_of(oid)
        reply['robots'] = self.robots
        return reply

    def ask(self, question: str, now_s: float | None = None) -> dict[str, Any]:
        """Answer an English question from the fleet; an answer dict with robots named."""
        with self.lock:
            answer = self.service.ask(question, now_s)
            return self.annotate(answer.to_dict() | {'ok': answer.ok})

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Serve a `memory/query` request from the fleet memory (as `MemoryService.handle`)."""
        with self.lock:
            reply = self.service.handle(request)
            reply['scope'] = 'fleet'
            return self.annotate(reply)

    def stats(self) -> dict[str, Any]:
        """Counters for diagnostics."""
        s = self.fleet.stats
        return {'robots': len(self.robots), 'events': s.events, 'objects': s.objects,
                'associated': s.associated, 'clamped': s.clamped, 'skipped': s.skipped,
                'rebuilds': self.rebuilds, 'pulls': self.pulls, 'pull_errors': self.pull_errors,
                'quarantined': sum(self.quarantined.values()),
                'gaps': sum(len(g) for g in self.gaps.values()),
                'last_error': self.last_error, 'at': time.time()}

    def close(self) -> None:
        """Close the connections."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._local is not None:
            self._local.close()
            self._local = None


def fleet_status(dsn: str) -> dict[str, Any]:
    """What the fleet server holds, robot by robot, checked as a fleet view reads it.

    Every row is pulled and checked: per robot its events, last seq, gaps in its sequence,
    rows quarantined, whether it may log in, the memory file its log comes from and — asked
    as the administrator — whether its password changed since `add-robot` set it.
    """
    import psycopg

    view = FleetView(dsn, use_embeddings=False)
    try:
        view.refresh()
        with connect(dsn, autocommit=True) as conn:
            try:
                robots = conn.execute(
                    'SELECT r.robot_id, r.role, r.log_id, COALESCE(p.rolcanlogin, false) '
                    'FROM robots r LEFT JOIN pg_roles p ON p.rolname = r.role '
                    'ORDER BY r.robot_id').fetchall()
                changed = set(password_changed(conn))
                server = _server_report(conn)
            except psycopg.Error as exc:
                raise FleetError(f'fleet status: {error_text(exc)}') from None
    finally:
        view.close()
    rows = []
    for robot_id, role, log_id, can_login in robots:
        rows.append({'robot_id': robot_id, 'events': len(view._events.get(robot_id, ())),
                     'last_seq': view._last_seq.get(robot_id, 0),
                     'gaps': [list(g) for g in view.gaps.get(robot_id, [])],
                     'quarantined': view.quarantined.get(robot_id, 0),
                     'can_login': bool(can_login), 'log_id': log_id,
                     'password_changed': role in changed})
    return {'robots': rows, 'quarantined': sum(view.quarantined.values()),
            'gaps': sum(len(g) for g in view.gaps.values()),
            'quarantine': [q._asdict() for q in view.quarantine],
            'password_changed': sorted(changed), 'server': server}


def _server_report(conn: Any) -> dict[str, Any]:
    """Schema 3's fleet objects table: how many objects, rows not applied yet, rows the
    server set aside (the last two as the administrator only)."""
    if not conn.execute("SELECT to_regclass('fleet_objects') IS NOT NULL").fetchone()[0]:
        return {'fleet_objects': None}
    report: dict[str, Any] = {'fleet_objects': conn.execute(
        'SELECT count(*) FROM fleet_objects WHERE merged_into IS NULL').fetchone()[0]}
    if conn.execute("SELECT has_table_privilege('events_quarantined', 'SELECT')").fetchone()[0]:
        report['quarantined'] = conn.execute('SELECT count(*) FROM events_quarantined'
                                             ).fetchone()[0]
        report['unindexed'] = conn.execute(
            'SELECT count(*) FROM events e JOIN robots r USING (robot_id) '
            'LEFT JOIN fleet_cursor c USING (robot_id) '
            'WHERE e.seq > greatest(COALESCE(c.seq, 0), r.pruned_seq)').fetchone()[0]
    return report

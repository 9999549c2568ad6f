"""Fleet questions answered from the server's fleet objects table (schema 3, issue #31).

A robot asks the server for what it does not hold: the question is parsed against the
fleet's vocabulary (its classes and colours, the layout's rooms), only the fleet objects it
is about are fetched (by class, else by room — both indexed), and they are answered by the
same query engine as one robot's memory, over a small memory built from their current state
(position, room, facts, first and last seen, present or lost). A robot thus holds its own
memory plus what it asked, instead of every robot's events (`FleetView`, which stays for
servers of schema 2 and for questions about the past of the whole fleet).

Each piece of evidence names the robot that last saw the object at or before its stamp
(`robot`) and every robot that saw it (`robots`), from the per-object, per-robot summaries
(`fleet_evidence`), which outlive the raw sightings that retention drops. Before answering,
the indexer is given one call to catch up (`catch_up`): what robots shipped is answered.

Which time an answer is "now": the latest sighting in the whole fleet (as `FleetView`), or
the request's `now_s`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import (
    Event,
    FactChanged,
    FactKey,
    LayoutSet,
    ObjectCreated,
    ObjectLost,
    ObjectSeen,
    normalise_fact,
)
from robot_memory.core.protocol import decode_request, parse_request
from robot_memory.core.queries import Answer, Query, Target, query_to_dict
from robot_memory.exceptions import RobotMemoryError
from robot_memory.fleet.migration_v3 import INDEX_LOCK
from robot_memory.fleet.schema import FleetError, connect, error_text

__all__ = ['FleetQuestions', 'FleetRow', 'fleet_index', 'fleet_reindex']

_COLUMNS = ('fleet_id, label, color, present, x, y, z, room_id, facts, first_seen_s, '
            'last_seen_s, changed_s, last_robot')
# One round trip for what every question needs: the fleet's "now", its robots, the layout's
# stamp (the vocabulary is rebuilt when it changes).
_STATE = ('SELECT (SELECT COALESCE(max(last_seen_s), 0) FROM fleet_objects), '
          '(SELECT array_agg(robot_id ORDER BY robot_id) FROM fleet_cursor WHERE indexed > 0), '
          '(SELECT stamp_s FROM fleet_layout)')
_MAX_OBJECTS = 20000  # a question about no class and no room: the newest this many
_VOCABULARY_S = 10.0  # how long the fleet's class and colour names are kept before asked again


@dataclasses.dataclass(frozen=True, slots=True)
class FleetRow:
    """One fleet object as the server holds it."""

    fleet_id: str
    label: str
    color: str
    present: bool
    position_m: tuple[float, float, float] | None
    room_id: str
    facts: dict[str, Any]
    first_seen_s: float
    last_seen_s: float
    changed_s: float
    last_robot: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> FleetRow:
        """From a `SELECT` of `_COLUMNS`."""
        fid, label, color, present, x, y, z, room, facts, first, last, changed, robot = row
        position = (float(x), float(y), float(z)) if x is not None else None
        return cls(fid, label, color, bool(present), position, room, dict(facts or {}),
                   float(first), float(last), float(changed), robot)

    def events(self) -> list[Event]:
        """Events that rebuild this object's current state in a memory."""
        fid = self.fleet_id
        out: list[Event] = [ObjectCreated(self.first_seen_s, fid, self.label, self.color)]
        since = max(self.changed_s, self.first_seen_s) if self.position_m else self.first_seen_s
        if self.position_m is not None:
            out.append(FactChanged(since, fid, FactKey.POSITION, self.position_m))
        if self.room_id:
            out.append(FactChanged(since, fid, FactKey.ROOM, self.room_id))
        for key in (FactKey.SUPPORT, FactKey.STATE):
            if key.value in self.facts:
                try:
                    value = normalise_fact(key, self.facts[key.value])
                except (RobotMemoryError, TypeError, ValueError):
                    continue  # a fact the server holds in another shape: left out
                out.append(FactChanged(since, fid, key, value))
        if self.last_seen_s > since:
            out.append(ObjectSeen(self.last_seen_s, fid))
        if not self.present:
            out.append(ObjectLost(max(self.last_seen_s, self.changed_s), fid))
        return out


def fleet_index(conn: Any, budget: int = 5000, rounds: int | None = None) -> int:
    """Run the server's indexer until it has caught up (or `rounds` calls); events applied.

    Returns at once when another indexer holds the lock (it applies these rows)."""
    done = 0
    while rounds is None or rounds > 0:
        n = int(conn.execute('SELECT robot_memory_index(%s)', (budget,)).fetchone()[0])
        if not conn.autocommit:
            conn.commit()
        if n <= 0:  # caught up (a call may apply fewer than `budget` and leave more)
            break
        done += n
        rounds = None if rounds is None else rounds - 1
    return done


def fleet_reindex(conn: Any, budget: int = 5000) -> int:
    """Rebuild the fleet objects from every event, in stamp order (the administrator).

    The indexer associates in the order events arrive: a robot's week shipped at once is
    matched against the fleet as it stands at the end of the others' weeks (what moved is
    then not matched). This is the server's counterpart of `FleetView`'s rebuild. Refused
    once retention dropped events (they could not be replayed)."""
    if conn.execute('SELECT count(*) FROM robots WHERE pruned_seq > 0').fetchone()[0]:
        raise FleetError('the fleet objects cannot be rebuilt: retention dropped events '
                         '(robots.pruned_seq)')
    with conn.transaction():
        conn.execute(f'SELECT pg_advisory_xact_lock({INDEX_LOCK})')
        conn.execute('TRUNCATE fleet_objects, fleet_members, fleet_evidence, fleet_cursor, '
                     'fleet_layout')
    return fleet_index(conn, budget)


class FleetQuestions:
    """Answers fleet questions from the server's fleet objects table."""

    def __init__(self, dsn: str, timezone: str = 'UTC', use_embeddings: bool = False,
                 catch_up: bool = True, catch_up_s: float = 1.0) -> None:
        self.dsn = dsn
        self.timezone = timezone
        self.use_embeddings = use_embeddings
        self.catch_up = catch_up
        self.catch_up_s = catch_up_s
        self._caught_up_at = -float('inf')
        self._robots: list[str] = []
        self._conn: Any = None
        self._vocabulary: tuple[float, float, Any, Any] | None = None
        self.asked = 0

    # ------------------------------------------------------------------ server
    def _execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = connect(self.dsn, autocommit=True)
            if not self._conn.execute("SELECT to_regclass('fleet_objects') IS NOT NULL"
                                      ).fetchone()[0]:
                self.close()
                raise FleetError('the fleet server has no fleet objects table (schema older '
                                 'than 3): its administrator runs robot-memory fleet init')
        try:
            return list(self._conn.execute(sql, params).fetchall())
        except psycopg.Error as exc:
            self.close()
            raise FleetError(f'fleet question failed: {error_text(exc)}') from None

    def index(self, budget: int = 5000) -> int:
        """Give the server's indexer one call; events applied (-1: another is at work)."""
        return int(self._execute('SELECT robot_memory_index(%s)', (budget,))[0][0])

    def robots(self) -> list[str]:
        """Robots whose events the fleet objects table holds."""
        return [r for (r,) in self._execute(
            'SELECT robot_id FROM fleet_cursor WHERE indexed > 0 ORDER BY robot_id')]

    def summary(self) -> dict[str, int]:
        """Robots, fleet objects and cross-robot associations on the server (diagnostics)."""
        robots, associated, objects = self._execute(
            'SELECT count(*) FILTER (WHERE indexed > 0), COALESCE(sum(associated), 0), '
            '(SELECT count(*) FROM fleet_objects WHERE merged_into IS NULL) '
            'FROM fleet_cursor')[0]
        return {'robots': int(robots), 'objects': int(objects), 'associated': int(associated)}

    def now_s(self) -> float:
        """The latest sighting in the fleet."""
        return float(self._execute('SELECT COALESCE(max(last_seen_s), 0) FROM fleet_objects'
                                   )[0][0])

    def objects(self, label: str = '', color: str = '', room_id: str = '',
                present_only: bool = False, limit: int = _MAX_OBJECTS) -> list[FleetRow]:
        """Fleet objects of a class (and colour), or in a room, newest sighting first."""
        where = ['merged_into IS NULL']
        params: list[Any] = []
        for column, value in (('label', label), ('color', color), ('room_id', room_id)):
            if value:
                where.append(f'{column} = %s')
                params.append(value)
        if present_only:
            where.append('present')
        rows = self._execute(f'SELECT {_COLUMNS} FROM fleet_objects WHERE '
                             f'{" AND ".join(where)} ORDER BY last_seen_s DESC LIMIT %s',
                             (*params, limit))
        return [FleetRow.from_row(row) for row in rows]

    def where_is(self, label: str, color: str = '') -> list[FleetRow]:
        """Where the fleet's objects of a class are now (present ones, newest first)."""
        return self.objects(label, color, present_only=True)

    def last_seen(self, label: str, color: str = '') -> FleetRow | None:
        """The object of a class seen last by any robot."""
        rows = self.objects(label, color, limit=1)
        return rows[0] if rows else None

    def count(self, label: str, room_id: str = '') -> int:
        """How many objects of a class are present (in a room)."""
        return int(self._execute(
            'SELECT count(*) FROM fleet_objects WHERE merged_into IS NULL AND present AND '
            "label = %s AND (%s = '' OR room_id = %s)", (label, room_id, room_id))[0][0])

    def history(self, fleet_id: str, limit: int = 1000) -> dict[str, Any]:
        """One object's history: per robot its sightings summary, and the events still
        held (retention drops old partitions; the summaries stay)."""
        summary = [{'robot': r, 'first_s': f, 'last_s': last, 'sightings': int(n)}
                   for r, f, last, n in self._execute(
                       'SELECT robot_id, first_s, last_s, sightings FROM fleet_evidence '
                       'WHERE fleet_id = %s ORDER BY first_s, robot_id', (fleet_id,))]
        events = [{'robot': r, 'seq': int(s), 'stamp_s': t, 'kind': k, 'event': b}
                  for r, s, t, k, b in self._execute(
                      'SELECT e.robot_id, e.seq, e.stamp_s, e.kind, e.body '
                      'FROM fleet_members m JOIN events e ON e.robot_id = m.robot_id '
                      'AND e.object_id = m.object_id WHERE m.fleet_id = %s '
                      'ORDER BY e.stamp_s, e.robot_id, e.seq LIMIT %s', (fleet_id, limit))]
        return {'fleet_id': fleet_id, 'robots': summary, 'events': events}

    # ---------------------------------------------------------------- asking
    def _base(self) -> tuple[Any, Any]:
        """The parser (fleet vocabulary) and the layout (`LayoutSet` or None)."""
        from robot_memory.language.parser import QuestionParser
        from robot_memory.language.vocabulary import Vocabulary

        now, robots, stamp = self._execute(_STATE)[0]
        self._now_s, self._robots = float(now), list(robots or [])
        stamp = -1.0 if stamp is None else float(stamp)
        cached = self._vocabulary
        if cached is not None and cached[0] == stamp and \
                time.monotonic() - cached[1] < _VOCABULARY_S:
            return cached[2], cached[3]
        layout = self._execute('SELECT stamp_s, body FROM fleet_layout')
        memory = EpisodicMemory(MemoryClock(self.timezone))
        layout_set = LayoutSet(stamp, layout[0][1]) if layout else None
        if layout_set is not None:
            memory.apply(layout_set)
        names = Vocabulary.from_scene_graph(memory.at(memory.now_s).scene_graph())
        labels, colors = set(names.labels), set(names.colors)
        for label, color in self._execute('SELECT DISTINCT label, color FROM fleet_objects '
                                          'WHERE merged_into IS NULL'):
            labels.add(label)
            colors.update([color] if color else [])
        vocabulary = Vocabulary(tuple(sorted(labels)), tuple(sorted(colors)), names.rooms,
                                names.states)
        embedder = None
        if self.use_embeddings:
            from robot_memory.language.embeddings import default_embedder

            embedder = default_embedder()
        parser = QuestionParser(vocabulary, memory.clock, embedder)
        self._vocabulary = (stamp, time.monotonic(), parser, layout_set)
        return parser, layout_set

    def _rows_for(self, query: Query) -> list[FleetRow]:
        targets = [v for f in dataclasses.fields(query)
                   if isinstance(v := getattr(query, f.name), Target)]
        rows: dict[str, FleetRow] = {}
        for target in targets:
            for row in self.objects(target.label, target.color):
                rows[row.fleet_id] = row
        if not targets:  # what is in a room, what changed: by room, else the newest objects
            room = getattr(query, 'room', '') or ''
            rows = {r.fleet_id: r for r in self.objects(room_id=room if isinstance(room, str)
                                                        else '')}
        return list(rows.values())

    def _memory_for(self, rows: list[FleetRow], layout: LayoutSet | None) -> EpisodicMemory:
        memory = EpisodicMemory(MemoryClock(self.timezone))
        if layout is not None:
            memory.apply(layout)
        events = sorted((e for row in rows for e in row.events()), key=lambda e: e.stamp_s)
        for event in events:
            memory.apply(event)
        return memory

    def _prepare(self, question: str | None, query: Query | None,
                 now_s: float | None
                 ) -> tuple[Query | None, str, EpisodicMemory, float, list[FleetRow]]:
        """The query, why it could not be parsed, the memory that answers it, now, and the
        fleet objects in that memory."""
        # Robots run the indexer as they ship; a question gives it one call at most every
        # `catch_up_s` for rows shipped by a robot whose call found it busy.
        if self.catch_up and time.monotonic() - self._caught_up_at >= self.catch_up_s:
            self.index()
            self._caught_up_at = time.monotonic()
        parser, layout = self._base()
        now = self._now_s if now_s is None else now_s
        if query is None:
            parsed = parser.parse(question or '', now)
            if parsed.query is None:
                return None, parsed.error, self._memory_for([], layout), now, []
            query = parsed.query
        rows = self._rows_for(query)
        return query, '', self._memory_for(rows, layout), now, rows

    def _service(self, memory: EpisodicMemory) -> Any:
        from robot_memory.service import MemoryService, MemoryServiceParams

        return MemoryService(MemoryServiceParams(use_embeddings=self.use_embeddings,
                                                 timezone=self.timezone), memory=memory)

    def ask(self, question: str, now_s: float | None = None) -> dict[str, Any]:
        """Answer an English question; an answer dict as `FleetView.ask`'s."""
        self.asked += 1
        query, error, memory, now, _ = self._prepare(question, None, now_s)
        if query is None:
            answer = Answer(None, None, f'I could not understand the question: {error}', 0.0,
                            error=error)
        else:
            answer = self._service(memory).engine.answer(query, now)
        return self.annotate(answer.to_dict() | {'ok': answer.ok})

    def handle(self, request: str | Mapping[str, Any]) -> dict[str, Any]:
        """Serve a `memory/query` request (as `FleetView.handle`); never raises for a bad
        request (the reply says why), raises `FleetError` when the server cannot answer."""
        try:
            data = dict(decode_request(request))
            parsed = parse_request(data)
        except RobotMemoryError as exc:
            return {'id': None, 'ok': False, 'error': str(exc), 'scope': 'fleet'}
        query, error, memory, _, _ = self._prepare(parsed.question, parsed.query,
                                                   parsed.now_s)
        if query is None and parsed.mode != 'layout':
            return {'id': parsed.request_id, 'ok': False, 'query': None, 'scope': 'fleet',
                    'answer': f'I could not understand the question: {error}',
                    'error': error}
        data.pop('question', None)
        if query is not None:
            data['query'] = query_to_dict(query)
        reply = dict(self._service(memory).handle(data))
        reply['scope'] = 'fleet'
        return self.annotate(reply)

    def annotate(self, reply: dict[str, Any]) -> dict[str, Any]:
        """Name the robots behind each piece of evidence (`robot`, `robots`): one look-up
        for the few objects an answer shows (not for every object it weighed: with 50
        robots, their summaries were most of a question's time)."""
        evidence = reply.get('evidence') or []
        seen: dict[str, list[tuple[str, float, float]]] = {}
        ids = sorted({e.get('object_id', '') for e in evidence})
        if ids:
            for fid, robot, first, last in self._execute(
                    'SELECT fleet_id, robot_id, first_s, last_s FROM fleet_evidence '
                    'WHERE fleet_id = ANY(%s) ORDER BY first_s, robot_id', (ids,)):
                seen.setdefault(fid, []).append((robot, float(first), float(last)))
        for e in evidence:
            spans = seen.get(e.get('object_id', ''), [])
            stamp = float(e.get('stamp_s', 0.0)) + 1e-6
            before = [(min(last, stamp), robot) for robot, first, last in spans
                      if first <= stamp]
            e['robot'] = max(before)[1] if before else (spans[0][0] if spans else '')
            e['robots'] = [robot for robot, _, _ in spans]
        reply['robots'] = list(self._robots)
        return reply

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

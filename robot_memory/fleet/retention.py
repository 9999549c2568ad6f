"""The events table's monthly partitions: made ahead, dropped past a retention horizon.

Dropping a month is the bounded way to forget (no row-by-row DELETE, no table bloat). What
the dropped rows said stays summarised: every fleet object's current state is in
`fleet_objects`, and per object and robot the first and last sighting and how many
(`fleet_evidence`), which the indexer kept up to date as the rows arrived. A partition holding
a row the indexer has not applied yet is never dropped (the indexer is run to the end first;
a robot whose rows it cannot reach keeps its partition, named in `kept`). Each robot's last
dropped seq goes to `robots.pruned_seq`: its replicator counts the dropped prefix as
acknowledged and fleet views do not report it as a gap. The default partition's rows older
than the horizon are deleted on the same terms.
"""

from __future__ import annotations

import time
from typing import Any

from robot_memory.exceptions import InvalidInputError
from robot_memory.fleet.questions import fleet_index
from robot_memory.fleet.schema import FleetError, connect, error_text

__all__ = ['add_partitions', 'drop_before', 'maintain', 'partitions']

_DAY_S = 86400.0

_PARTITIONS = """
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass ORDER BY c.relname
"""

_UNINDEXED = """
SELECT count(*) FROM {part} p JOIN robots r USING (robot_id)
LEFT JOIN fleet_cursor c USING (robot_id)
WHERE p.seq > greatest(COALESCE(c.seq, 0), r.pruned_seq) {extra}
"""

_PRUNE = """
UPDATE robots r SET pruned_seq = greatest(r.pruned_seq, m.seq)
FROM (SELECT robot_id, max(seq) AS seq FROM {part} WHERE true {extra} GROUP BY robot_id) m
WHERE r.robot_id = m.robot_id
"""


def partitions(conn: Any) -> list[tuple[str, float | None, float | None]]:
    """The events partitions: name, lower and upper stamp bound (None: the default)."""
    out: list[tuple[str, float | None, float | None]] = []
    for name, bound in conn.execute(_PARTITIONS).fetchall():
        if bound == 'DEFAULT':
            out.append((name, None, None))
            continue
        # "FOR VALUES FROM ('1796083200') TO ('1798761600')"
        lo, hi = (float(part.split("'")[1]) for part in bound.split(' TO '))
        out.append((name, lo, hi))
    return out


def add_partitions(dsn: str, from_s: float, to_s: float) -> int:
    """Make the monthly partitions covering [from_s, to_s); returns how many were new."""
    if not from_s <= to_s:
        raise InvalidInputError(f'partitions from {from_s} to {to_s}: the start is later')
    import psycopg

    with connect(dsn) as conn:
        try:
            return int(conn.execute('SELECT robot_memory_add_partitions(%s, %s)',
                                    (from_s, to_s)).fetchone()[0])
        except psycopg.Error as exc:
            raise FleetError(f'adding partitions failed: {error_text(exc)}') from None


def drop_before(dsn: str, before_s: float) -> dict[str, Any]:
    """Drop the months wholly older than `before_s` (and older default rows), once indexed."""
    import psycopg
    from psycopg import sql

    dropped: list[str] = []
    kept: list[str] = []
    rows = 0
    try:
        with connect(dsn, autocommit=True) as conn:
            indexed = fleet_index(conn)
            for name, lo, hi in partitions(conn):
                default = lo is None
                if not default and (hi is None or hi > before_s):
                    continue
                part = sql.Identifier(name)
                extra = sql.SQL('AND stamp_s < {}').format(sql.Literal(before_s)) \
                    if default else sql.SQL('')
                with conn.transaction():
                    if conn.execute(sql.SQL(_UNINDEXED).format(part=part, extra=extra)
                                    ).fetchone()[0]:
                        kept.append(name)
                        continue
                    conn.execute(sql.SQL(_PRUNE).format(part=part, extra=extra))
                    if default:
                        rows += conn.execute(sql.SQL('DELETE FROM {} WHERE stamp_s < {}').format(
                            part, sql.Literal(before_s))).rowcount
                        continue
                    rows += conn.execute(sql.SQL('SELECT count(*) FROM {}').format(part)
                                         ).fetchone()[0]
                    conn.execute(sql.SQL('ALTER TABLE events DETACH PARTITION {}').format(part))
                    conn.execute(sql.SQL('DROP TABLE {}').format(part))
                    dropped.append(name)
    except psycopg.Error as exc:
        raise FleetError(f'retention failed: {error_text(exc)}') from None
    return {'before_s': before_s, 'indexed': indexed, 'dropped': dropped, 'kept': kept,
            'rows_dropped': rows}


def maintain(dsn: str, retain_days: float | None, months_ahead: int = 3,
             now_s: float | None = None) -> dict[str, Any]:
    """The periodic job: partitions for this month and `months_ahead` more; with
    `retain_days`, drop what is older (after indexing it)."""
    if retain_days is not None and retain_days <= 0:
        raise InvalidInputError(f'retain_days must be > 0 (got {retain_days})')
    import psycopg

    now = time.time() if now_s is None else now_s
    try:
        with connect(dsn) as conn:  # as `init_server`: this month and the next ones
            added = conn.execute(
                'SELECT robot_memory_add_partitions(%(t)s, extract(epoch FROM '
                'to_timestamp(%(t)s) + make_interval(months => %(m)s)))',
                {'t': now, 'm': months_ahead}).fetchone()[0]
    except psycopg.Error as exc:
        raise FleetError(f'adding partitions failed: {error_text(exc)}') from None
    report: dict[str, Any] = {'partitions_added': int(added)}
    if retain_days is not None:
        report |= drop_before(dsn, now - retain_days * _DAY_S)
    return report

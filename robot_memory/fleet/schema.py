"""The fleet's server schema: versioned migrations, robots and their roles.

One table of events, keyed by (robot id, the robot's own event sequence number): a retried
batch inserts nothing twice (`ON CONFLICT DO NOTHING`), and each robot's events on the server
are a gap-free prefix of its local log (it ships them in order, one transaction per batch).
Row-level security: a robot's role may insert only rows of its own robot id and read all
rows (the fleet view); the table's owner (the administrator who ran `fleet init`) manages
robots. Every statement is parameterized; role names, which SQL cannot take as parameters,
are built only from validated robot ids and quoted by psycopg's `sql.Identifier`.

Nothing a robot inserts is trusted by the others (red-team issue #29): the server refuses a
row whose kind is unknown, whose body is not an event of that kind, whose stamp is not a
finite time, or which is larger than `MAX_ROW_BYTES` (`events_are_events`); readers still
check every row (`fleet.view`). Each robot's log carries the identity of the memory file it
comes from (`robots.log_id`, claimed by the first file that ships): a new file for an old
robot id is refused, never mixed into the old log — register it under a new robot id, or
have the administrator delete the robot's rows first (a robot with no rows may be claimed
again). PostgreSQL lets every role change its own password and no privilege stops it, so
`add_robot` keeps a hash of the password it set (`robot_passwords`, administrator only) and
`fleet status` names a robot whose password changed since; `revoke_robot` ends the robot's
open sessions as well as its logins.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.fleet.migration_v3 import MIGRATION_V3

__all__ = ['EVENT_KINDS', 'MAX_ROW_BYTES', 'MIGRATIONS', 'ROBOT_GROUP', 'FleetError',
           'FleetRefusedError', 'add_robot', 'check_row', 'connect', 'error_text',
           'init_server', 'password_changed', 'revoke_robot', 'role_of', 'schema_version']

ROBOT_GROUP = 'robot_memory_robot'
_ROBOT_ID = re.compile(r'[a-z][a-z0-9_]{0,40}')

MAX_ROW_BYTES = 1024 * 1024
"""The largest event body the server takes: five times a house-sized layout (~200 kB, the
largest event a robot writes); the red team's 50 MB rows are refused."""
MAX_ID_CHARS = 200
"""The longest object id the server takes (ours are `object:<n>`)."""
STAMP_LIMIT_S = 1e15
"""Stamps are finite and within ±this (as `bounded.check_number`): NaN is not a time."""
EVENT_KINDS = ('created', 'fact', 'seen', 'lost', 'merged', 'layout', 'place', 'refined',
               'repaired', 'split')
# The fields each kind must carry, with their JSON types (core/events.py's dataclasses).
_SHAPES: dict[str, tuple[tuple[str, str], ...]] = {
    'created': (('object_id', 'string'), ('label', 'string')),
    'fact': (('object_id', 'string'), ('key', 'string')),
    'seen': (('object_id', 'string'),),
    'lost': (('object_id', 'string'),),
    'merged': (('keep_id', 'string'), ('drop_id', 'string')),
    'layout': (('graph', 'object'),),
    'place': (('place_id', 'string'),),
    'refined': (('object_id', 'string'), ('value', 'array')),
    'repaired': (('keep_id', 'string'), ('drop_id', 'string'), ('since_s', 'number')),
    'split': (('object_id', 'string'), ('new_id', 'string'), ('since_s', 'number')),
}
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    'string': str, 'object': dict, 'array': list, 'number': (int, float)}


def _shape_sql() -> str:
    cases = ' '.join(
        f"WHEN '{kind}' THEN " + ' AND '.join(
            f"jsonb_typeof(body -> '{name}') = '{json_type}'" for name, json_type in shape)
        for kind, shape in _SHAPES.items())
    return f'CASE kind {cases} ELSE false END'

# Each entry moves the schema from version i to i + 1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE robots (
        robot_id text PRIMARY KEY,
        role name UNIQUE NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE events (
        robot_id text NOT NULL,  -- a robot's own (RLS); no foreign key: it cost 5 % of inserts
        seq bigint NOT NULL,
        stamp_s double precision NOT NULL,
        kind text NOT NULL,
        object_id text,
        body jsonb NOT NULL,
        PRIMARY KEY (robot_id, seq)
    );
    CREATE INDEX events_by_stamp ON events (stamp_s);
    ALTER TABLE events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY fleet_reads_all ON events FOR SELECT USING (true);
    CREATE POLICY robot_inserts_own ON events FOR INSERT
        WITH CHECK (robot_id = (SELECT r.robot_id FROM robots r WHERE r.role = current_user));
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROBOT_GROUP}') THEN
            CREATE ROLE {ROBOT_GROUP} NOLOGIN;
        END IF;
    END $$;
    GRANT SELECT ON robots TO {ROBOT_GROUP};
    GRANT SELECT, INSERT ON events TO {ROBOT_GROUP};
    """,
    # 2: rows checked on insert (red-team issue #29, rows 2 and 15), log identities (row 4),
    # password hashes (row 15). NOT VALID: rows already there stay; readers check them.
    f"""
    CREATE FUNCTION robot_memory_event_ok(kind text, stamp_s double precision,
                                          object_id text, body jsonb)
        RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
        -- COALESCE: a missing field makes NULL, and a CHECK takes NULL as passing.
        RETURN COALESCE(jsonb_typeof(body) = 'object'
            AND kind = ANY (ARRAY{list(EVENT_KINDS)!r}::text[])
            AND body ->> 'kind' = kind
            AND jsonb_typeof(body -> 'stamp_s') = 'number'
            AND stamp_s > -{STAMP_LIMIT_S:.0f} AND stamp_s < {STAMP_LIMIT_S:.0f}
            AND COALESCE(length(object_id), 0) <= {MAX_ID_CHARS}
            AND octet_length(body::text) <= {MAX_ROW_BYTES}
            AND {_shape_sql()}, false);
    ALTER TABLE events ADD CONSTRAINT events_are_events
        CHECK (seq > 0 AND robot_memory_event_ok(kind, stamp_s, object_id, body)) NOT VALID;
    ALTER TABLE robots ADD COLUMN log_id text;
    -- A robot claims its log for its memory file; robots may not write this table, so the
    -- claim goes through this function, for the calling role's own robot only.
    CREATE FUNCTION robot_memory_claim_log(p_robot_id text, p_log_id text)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
    DECLARE
        claimed text;
    BEGIN
        SELECT r.log_id INTO claimed FROM robots r
            WHERE r.robot_id = p_robot_id AND r.role = session_user FOR UPDATE;
        IF NOT FOUND THEN
            RETURN NULL;  -- not this role's robot: the insert policy refuses its rows
        END IF;
        -- Files from before identities have none until a writer opens them (their readers
        -- see 'created-…'): such a claim is handed on once. A robot with no rows starts over.
        IF claimed IS NULL OR claimed LIKE 'created-%' OR NOT EXISTS (
                SELECT 1 FROM events e WHERE e.robot_id = p_robot_id) THEN
            UPDATE robots SET log_id = p_log_id WHERE robot_id = p_robot_id;
            RETURN p_log_id;
        END IF;
        RETURN claimed;
    END $$;
    REVOKE ALL ON FUNCTION robot_memory_claim_log(text, text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION robot_memory_claim_log(text, text) TO {ROBOT_GROUP};
    CREATE TABLE robot_passwords (
        role name PRIMARY KEY,
        hash bytea NOT NULL,
        set_at timestamptz NOT NULL DEFAULT now()
    );
    REVOKE ALL ON robot_passwords FROM PUBLIC;
    """,
    # 3: events partitioned by time, the fleet objects table and its indexer (issue #31).
    MIGRATION_V3,
)


class FleetError(RobotMemoryError):
    """The fleet server refused or could not be reached."""


class FleetRefusedError(FleetError):
    """The fleet server refuses this robot or its log: trying again will not mend it."""


def connect(dsn: str, **kwargs: Any) -> Any:
    """A psycopg connection; a clear `FleetError` when the server or role is not there."""
    try:
        import psycopg
    except ImportError as exc:
        raise FleetError(f'psycopg is not installed ({exc}): pip install "psycopg[binary]"') \
            from None
    if not dsn:
        raise InvalidInputError('no fleet DSN: set fleet_dsn or ROBOT_MEMORY_FLEET_DSN')
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise FleetError(f'cannot connect to the fleet server: {error_text(exc)}') from None
    except psycopg.Error as exc:  # libpq could not parse the DSN (ProgrammingError)
        raise InvalidInputError(f'the fleet DSN is not a libpq connection string '
                                f'("key=value …" or postgresql://…): {error_text(exc)}') \
            from None


def error_text(exc: BaseException) -> str:
    """A driver error on one line (libpq spreads its messages over several)."""
    text = ' '.join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


@contextlib.contextmanager
def _administering(dsn: str) -> Iterator[Any]:
    """A connection for one administrator's transaction; the server's refusal is one line."""
    import psycopg

    conn = connect(dsn)
    try:
        with conn:
            yield conn
    except psycopg.Error as exc:
        raise FleetError(f'the fleet server refused: {error_text(exc)}') from None


def role_of(robot_id: str) -> str:
    """The database role of a robot; raises `InvalidInputError` on a bad id."""
    if not _ROBOT_ID.fullmatch(robot_id):
        raise InvalidInputError(f'robot id {robot_id!r} must be lower-case letters, digits and '
                                '_ (starting with a letter, at most 41 characters)')
    if f'robot_{robot_id}' == ROBOT_GROUP:
        raise InvalidInputError(f'robot id {robot_id!r} is reserved: its role would be the '
                                f'group role {ROBOT_GROUP} that every robot belongs to')
    return f'robot_{robot_id}'


def _not_json(name: str) -> Any:
    raise ValueError(f'{name} is not a JSON number')


def check_row(stamp_s: Any, kind: Any, object_id: Any, body: str, *,
              parse: bool = True) -> str:
    """Why the server would refuse an event row ('' if it takes it): `events_are_events`.

    `parse=False` skips parsing the body unless it holds NaN or Infinity: for rows our own
    writer made (json.dumps of an event record), whose shape only a damaged file breaks —
    parsing costs 10-16 us a row here, a fifth of shipping it.
    """
    if kind not in EVENT_KINDS:
        return f'kind {str(kind)[:40]!r} is not an event kind ({", ".join(EVENT_KINDS)})'
    if isinstance(stamp_s, bool) or not isinstance(stamp_s, int | float) or \
            not -STAMP_LIMIT_S < stamp_s < STAMP_LIMIT_S:
        return f'stamp {str(stamp_s)[:40]} is not a time (finite, within ±{STAMP_LIMIT_S:g} s)'
    if object_id is not None and len(object_id) > MAX_ID_CHARS:
        return f'an object id of {len(object_id)} characters (at most {MAX_ID_CHARS})'
    size = len(body.encode('utf-8', 'replace'))
    if size > MAX_ROW_BYTES:
        return f'a body of {size} bytes (at most {MAX_ROW_BYTES})'
    if not parse and 'NaN' not in body and 'Infinity' not in body:
        return ''
    try:  # json.dumps writes NaN and Infinity, which jsonb refuses
        record = json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        return f'the body is not JSON ({str(exc)[:120]})'
    if not isinstance(record, dict) or record.get('kind') != kind:
        return f'the body is not a {kind!r} event'
    for name, json_type in (('stamp_s', 'number'), *_SHAPES[kind]):
        if not isinstance(record.get(name), _JSON_TYPES[json_type]) or \
                isinstance(record.get(name), bool):
            return f'a {kind!r} event needs {name} as a JSON {json_type}'
    return ''


def schema_version(conn: Any) -> int:
    """The server's schema version (0: not initialised)."""
    row = conn.execute("SELECT to_regclass('robot_memory_schema')").fetchone()
    if row[0] is None:
        return 0
    return int(conn.execute('SELECT max(version) FROM robot_memory_schema').fetchone()[0] or 0)


def init_server(dsn: str) -> dict[str, int]:
    """Create or upgrade the schema (as an administrator); returns versions before and after."""
    with _administering(dsn) as conn:
        conn.execute('CREATE TABLE IF NOT EXISTS robot_memory_schema ('
                     'version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
        conn.execute('LOCK TABLE robot_memory_schema')  # one migrator at a time
        before = schema_version(conn)
        if before > len(MIGRATIONS):
            raise FleetError(f'the server schema is version {before}, newer than this '
                             f'robot_memory knows ({len(MIGRATIONS)}): upgrade robot_memory')
        for version in range(before, len(MIGRATIONS)):
            conn.execute(MIGRATIONS[version])
            conn.execute('INSERT INTO robot_memory_schema (version) VALUES (%s)',
                         (version + 1,))
        # This month's partition and the next three; later ones come with `fleet maintain`
        # (until then their rows wait in the default partition, never refused).
        if conn.execute("SELECT to_regproc('robot_memory_add_partitions')").fetchone()[0]:
            conn.execute("SELECT robot_memory_add_partitions(extract(epoch FROM now()), "
                         "extract(epoch FROM now() + interval '3 months'))")
    return {'before': before, 'after': len(MIGRATIONS)}


def _password_hash(conn: Any, role: str) -> bytes | None:
    # pg_authid is the superuser's; an administrator with CREATEROLE only keeps no hash.
    if not conn.execute('SELECT rolsuper FROM pg_roles WHERE rolname = current_user'
                        ).fetchone()[0]:
        return None
    row = conn.execute('SELECT sha256(rolpassword::bytea) FROM pg_authid WHERE rolname = %s',
                       (role,)).fetchone()
    return bytes(row[0]) if row and row[0] is not None else None


def add_robot(dsn: str, robot_id: str, password: str) -> str:
    """Create (or re-enable) a robot's role with its password; returns the role name."""
    from psycopg import sql

    role = role_of(robot_id)
    if len(password) < 12:
        raise InvalidInputError('a robot password needs at least 12 characters')
    with _administering(dsn) as conn:
        if schema_version(conn) < len(MIGRATIONS):
            raise FleetError('the fleet schema is missing or old: run robot-memory fleet init')
        exists = conn.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', (role,)).fetchone()
        if exists and not conn.execute(
                'SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid '
                'JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = %s AND r.rolname = %s',
                (ROBOT_GROUP, role)).fetchone():
            # Roles are the server's, not one database's: never take over someone else's.
            raise FleetError(f"role {role} exists and is not a fleet robot's (not in "
                             f'{ROBOT_GROUP}): choose another robot id than {robot_id!r}')
        verb = 'ALTER' if exists else 'CREATE'
        conn.execute(sql.SQL('{} ROLE {} LOGIN PASSWORD {}').format(
            sql.SQL(verb), sql.Identifier(role), sql.Literal(password)))
        conn.execute(sql.SQL('GRANT {} TO {}').format(sql.Identifier(ROBOT_GROUP),
                                                      sql.Identifier(role)))
        conn.execute('INSERT INTO robots (robot_id, role) VALUES (%s, %s) '
                     'ON CONFLICT (robot_id) DO UPDATE SET role = EXCLUDED.role',
                     (robot_id, role))
        digest = _password_hash(conn, role)
        if digest is not None:
            conn.execute('INSERT INTO robot_passwords (role, hash) VALUES (%s, %s) '
                         'ON CONFLICT (role) DO UPDATE SET hash = EXCLUDED.hash, set_at = now()',
                         (role, digest))
    return role


def revoke_robot(dsn: str, robot_id: str) -> int:
    """Stop a robot's role from logging in and end its open sessions (its rows stay);
    returns how many sessions were ended."""
    from psycopg import sql

    role = role_of(robot_id)
    with _administering(dsn) as conn:
        if not conn.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', (role,)).fetchone():
            raise FleetError(f'robot {robot_id!r} has no role ({role}) on this server')
        conn.execute(sql.SQL('ALTER ROLE {} NOLOGIN').format(sql.Identifier(role)))
    # After the commit: a session that logs in from now on is refused, those open are ended
    # (an open session outlives NOLOGIN: red-team issue #29, row 3).
    with _administering(dsn) as conn:
        conn.autocommit = True
        ended = conn.execute(
            'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) '
            'FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()',
            (role,)).fetchone()[0]
    return int(ended)


def password_changed(conn: Any) -> list[str]:
    """Robot roles whose password is not the one `add_robot` set (administrator only)."""
    if not conn.execute('SELECT rolsuper FROM pg_roles WHERE rolname = current_user'
                        ).fetchone()[0]:
        return []
    return [role for (role,) in conn.execute(
        'SELECT p.role FROM robot_passwords p JOIN pg_authid a ON a.rolname = p.role '
        'WHERE sha256(a.rolpassword::bytea) IS DISTINCT FROM p.hash ORDER BY p.role')]

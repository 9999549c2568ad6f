"""The fleet's server schema: versioned migrations, robots and their roles.

One table of events, keyed by (robot id, the robot's own event sequence number): a retried
batch inserts nothing twice (`ON CONFLICT DO NOTHING`), and each robot's events on the server
are a gap-free prefix of its local log (it ships them in order, one transaction per batch).
Row-level security: a robot's role may insert only rows of its own robot id and read all
rows (the fleet view); the table's owner (the administrator who ran `fleet init`) manages
robots. Every statement is parameterized; role names, which SQL cannot take as parameters,
are built only from validated robot ids and quoted by psycopg's `sql.Identifier`.
"""

from __future__ import annotations

import re
from typing import Any

from robot_memory.exceptions import InvalidInputError, RobotMemoryError

__all__ = ['MIGRATIONS', 'ROBOT_GROUP', 'FleetError', 'add_robot', 'connect', 'error_text',
           'init_server', 'revoke_robot', 'role_of', 'schema_version']

ROBOT_GROUP = 'robot_memory_robot'
_ROBOT_ID = re.compile(r'[a-z][a-z0-9_]{0,40}')

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
)


class FleetError(RobotMemoryError):
    """The fleet server refused or could not be reached."""


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


def error_text(exc: BaseException) -> str:
    """A driver error on one line (libpq spreads its messages over several)."""
    text = ' '.join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def role_of(robot_id: str) -> str:
    """The database role of a robot; raises `InvalidInputError` on a bad id."""
    if not _ROBOT_ID.fullmatch(robot_id):
        raise InvalidInputError(f'robot id {robot_id!r} must be lower-case letters, digits and '
                                '_ (starting with a letter, at most 41 characters)')
    return f'robot_{robot_id}'


def schema_version(conn: Any) -> int:
    """The server's schema version (0: not initialised)."""
    row = conn.execute("SELECT to_regclass('robot_memory_schema')").fetchone()
    if row[0] is None:
        return 0
    return int(conn.execute('SELECT max(version) FROM robot_memory_schema').fetchone()[0] or 0)


def init_server(dsn: str) -> dict[str, int]:
    """Create or upgrade the schema (as an administrator); returns versions before and after."""
    with connect(dsn) as conn:
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
    return {'before': before, 'after': len(MIGRATIONS)}


def add_robot(dsn: str, robot_id: str, password: str) -> str:
    """Create (or re-enable) a robot's role with its password; returns the role name."""
    from psycopg import sql

    role = role_of(robot_id)
    if len(password) < 12:
        raise InvalidInputError('a robot password needs at least 12 characters')
    with connect(dsn) as conn:
        if schema_version(conn) < len(MIGRATIONS):
            raise FleetError('the fleet schema is missing or old: run robot-memory fleet init')
        exists = conn.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', (role,)).fetchone()
        verb = 'ALTER' if exists else 'CREATE'
        conn.execute(sql.SQL('{} ROLE {} LOGIN PASSWORD {}').format(
            sql.SQL(verb), sql.Identifier(role), sql.Literal(password)))
        conn.execute(sql.SQL('GRANT {} TO {}').format(sql.Identifier(ROBOT_GROUP),
                                                      sql.Identifier(role)))
        conn.execute('INSERT INTO robots (robot_id, role) VALUES (%s, %s) '
                     'ON CONFLICT (robot_id) DO UPDATE SET role = EXCLUDED.role',
                     (robot_id, role))
    return role


def revoke_robot(dsn: str, robot_id: str) -> None:
    """Stop a robot's role from logging in (its rows stay)."""
    from psycopg import sql

    with connect(dsn) as conn:
        conn.execute(sql.SQL('ALTER ROLE {} NOLOGIN').format(sql.Identifier(role_of(robot_id))))

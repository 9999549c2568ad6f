"""A throw-away PostgreSQL cluster in a temporary directory (tests, benchmarks, trying it out).

`initdb` and `pg_ctl` from the PostgreSQL install (Debian: /usr/lib/postgresql/<v>/bin), run as
the `postgres` user when started as root (PostgreSQL refuses to run as root), listening on a
unix socket in the cluster's directory only (no TCP). Passwords are required
(scram-sha-256), as on a real server: the superuser's is generated here and lives only in the
DSN this object hands out.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from robot_memory.exceptions import RobotMemoryError

__all__ = ['LocalPostgres', 'PostgresUnavailableError', 'find_pg_bin']


class PostgresUnavailableError(RobotMemoryError):
    """No PostgreSQL server programs on this machine (or they would not start)."""


def find_pg_bin() -> Path:
    """The folder holding `initdb` and `pg_ctl` (`PG_BIN` overrides the search)."""
    candidates = [os.environ.get('PG_BIN', '')]
    candidates += sorted(glob.glob('/usr/lib/postgresql/*/bin'), reverse=True)
    which = shutil.which('pg_ctl')
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / 'initdb').exists() and (Path(folder) / 'pg_ctl').exists():
            return Path(folder)
    raise PostgresUnavailableError(
        "PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql "
        '(sudo apt-get install -y postgresql) or set PG_BIN to their folder')


class LocalPostgres:
    """Start with `start()` (or `with`), stop with `stop()`; `dsn` connects as superuser."""

    def __init__(self, root: str | Path | None = None, port: int = 5432,
                 settings: dict[str, str] | None = None) -> None:
        self.bin = find_pg_bin()
        self._tmp = None if root is not None else tempfile.mkdtemp(prefix='robot_memory-pg-')
        self.root = Path(root if root is not None else self._tmp)
        self.data = self.root / 'data'
        self.port = port
        self.password = secrets.token_urlsafe(18)
        self.settings = {'max_connections': '200', 'shared_buffers': '128MB',
                         **(settings or {})}
        self._user = 'postgres' if os.geteuid() == 0 else None

    @property
    def dsn(self) -> str:
        """The superuser's connection string (database `fleet`)."""
        return self.dsn_for('postgres', self.password)

    def dsn_for(self, user: str, password: str, dbname: str = 'fleet') -> str:
        """A connection string for another role."""
        return (f'host={self.root} port={self.port} dbname={dbname} user={user} '
                f'password={password} connect_timeout=3')

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._user is not None:
            cmd = ['runuser', '-u', self._user, '--', *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise PostgresUnavailableError(f'{args[0]} failed: {result.stderr.strip()[-800:]}')
        return result

    def start(self) -> LocalPostgres:
        """Create the cluster (first time) and start the server; returns self."""
        if not self.data.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            pwfile = self.root / 'pw'
            pwfile.write_text(self.password + '\n')
            if self._user is not None:
                entry = pwd.getpwnam(self._user)
                for path in (self.root, pwfile):
                    os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(pwfile, 0o600)
            try:
                self._run('initdb', '-D', str(self.data), '-U', 'postgres', '--pwfile',
                          str(pwfile), '--auth=scram-sha-256', '--encoding=UTF8',
                          '--no-instructions')
            finally:
                pwfile.unlink(missing_ok=True)
        options = ' '.join(["-c listen_addresses=''", f'-k {self.root}', f'-p {self.port}',
                            *(f'-c {k}={v}' for k, v in self.settings.items())])
        self._run('pg_ctl', '-D', str(self.data), '-o', options, '-l',
                  str(self.root / 'server.log'), '-w', '-t', '60', 'start')
        self.create_database('fleet')
        return self

    def create_database(self, name: str) -> str:
        """Create database `name` unless it exists; returns the superuser's DSN for it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn_for('postgres', self.password, 'postgres'),
                             autocommit=True) as conn:
            if conn.execute('SELECT 1 FROM pg_database WHERE datname = %s',
                            (name,)).fetchone() is None:
                conn.execute(sql.SQL('CREATE DATABASE {}').format(sql.Identifier(name)))
        return self.dsn_for('postgres', self.password, name)

    def stop(self, mode: str = 'fast') -> None:
        """Stop the server (the cluster stays, `start()` brings it back)."""
        if (self.data / 'postmaster.pid').exists():
            self._run('pg_ctl', '-D', str(self.data), '-m', mode, '-w', 'stop', check=False)

    def log(self) -> str:
        """The server's log."""
        path = self.root / 'server.log'
        return path.read_text(errors='replace') if path.exists() else ''

    def close(self) -> None:
        """Stop the server and remove the cluster if this object made its directory."""
        self.stop('immediate')
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

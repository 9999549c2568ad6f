"""The fleet against the red team's findings (issue #29): one robot cannot break the others.

Each test reproduces a finding on a real PostgreSQL server (a database of its own) and shows
it mended: rows that are not events are refused by the server and, when one is there anyway
(from before the server checked), quarantined by the reader while every other row answers;
a revoked robot's open session is ended; a new memory file for an old robot id is refused;
an idle replicator notices what the server lost; gaps and changed passwords are reported;
bad input on the command line is one line of error, not a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, FactKey, MemoryStore, SceneGraph
from robot_memory.core.events import ObjectCreated, ObjectSeen
from robot_memory.eval.bench_store import replay_week, synthetic_week
from robot_memory.fleet.replicator import Replicator
from robot_memory.fleet.schema import FleetError, add_robot, connect, revoke_robot
from robot_memory.fleet.view import FleetView
from tests.conftest import MONDAY_S, cli_exit_code, fresh_postgres

pytest.importorskip('psycopg', reason='psycopg is not installed')
H = 3600.0


def _robot(fleet: Any, robot_id: str) -> str:
    """Register a robot on the test's fleet; its DSN."""
    password = f'{robot_id}-secret-pw'
    add_robot(fleet.dsn, robot_id, password)
    return fleet.dsn_for(f'robot_{robot_id}', password)


def _week_db(path: Path, objects: int = 10, days: int = 1, seed: int = 0) -> Path:
    _, per_frame = replay_week(synthetic_week(objects, days, seed))
    with MemoryStore(path) as store:
        for events in per_frame:
            store.write(events)
    return path


def _server_seqs(fleet: Any, robot_id: str) -> list[int]:
    with connect(fleet.dsn) as conn:
        return [seq for (seq,) in conn.execute(
            'SELECT seq FROM events WHERE robot_id = %s ORDER BY seq', (robot_id,))]


def _insert_unchecked(fleet: Any, robot_id: str, seq: int, stamp_s: float, kind: str,
                      body: str) -> None:
    """A row as a server without the insert check held it (made before, or the check
    dropped): what the reader must survive."""
    with connect(fleet.dsn) as conn:
        conn.execute('ALTER TABLE events DROP CONSTRAINT IF EXISTS events_are_events')
        conn.execute('INSERT INTO events (robot_id, seq, stamp_s, kind, object_id, body) '
                     'VALUES (%s, %s, %s, %s, NULL, %s::jsonb)',
                     (robot_id, seq, stamp_s, kind, body))


def _until(condition: Any, timeout_s: float, step_s: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; whether it held."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return bool(condition())


def _fleet_of_two(fleet: Any, tmp_path: Path, graph: SceneGraph, ids: tuple[str, str]
                  ) -> dict[str, str]:
    """Two robots that shipped one object each: a kettle in the kitchen, a stapler in the
    study; their DSNs."""
    dsns = {}
    for robot, label, xy, room in ((ids[0], 'kettle', (1.0, 1.0), 'room:kitchen'),
                                   (ids[1], 'stapler', (6.0, 1.0), 'room:study')):
        memory = EpisodicMemory()
        memory.set_layout(graph, MONDAY_S)
        memory.create_object('object:1', MONDAY_S + 9 * H, label,
                             {FactKey.POSITION: (*xy, 0.9), FactKey.ROOM: room})
        with MemoryStore(tmp_path / f'{robot}.db') as store:
            store.sync(memory)
        dsns[robot] = _robot(fleet, robot)
        with Replicator(tmp_path / f'{robot}.db', dsns[robot], robot) as replicator:
            replicator.sync()
    return dsns


# ------------------------------------------------------------------ row 2: garbage rows
def test_one_robots_garbage_row_leaves_the_others_answers_and_is_quarantined(
        fleet_database: Any, tmp_path: Path, two_room_graph: SceneGraph,
        capsys: pytest.CaptureFixture[str]) -> None:
    import psycopg

    dsns = _fleet_of_two(fleet_database, tmp_path, two_room_graph, ('gar_alpha', 'gar_beta'))
    seq = len(_server_seqs(fleet_database, 'gar_alpha')) + 1
    try:  # as the red team did: alpha's own role inserts a row that is no event
        with connect(dsns['gar_alpha']) as conn:
            conn.execute('INSERT INTO events (robot_id, seq, stamp_s, kind, object_id, body) '
                         "VALUES ('gar_alpha', %s, 0, 'garbage', NULL, "
                         '\'{"kind":"garbage"}\'::jsonb)', (seq,))
    except psycopg.errors.CheckViolation:  # refused now: put it there as an old server had
        _insert_unchecked(fleet_database, 'gar_alpha', seq, 0.0, 'garbage',
                          '{"kind":"garbage"}')
    capsys.readouterr()
    main(['ask', 'Where is the kettle?', '--fleet', dsns['gar_beta'], '--json',
          '--no-embeddings'])
    captured = capsys.readouterr()
    reply = json.loads(captured.out)
    assert reply['answer'].startswith('The kettle is in the kitchen')
    assert reply['evidence'][0]['robot'] == 'gar_alpha'
    assert f'robot gar_alpha seq {seq}' in captured.err
    view = FleetView(dsns['gar_beta'], use_embeddings=False)
    view.refresh()
    assert [(q.robot_id, q.seq) for q in view.quarantine] == [('gar_alpha', seq)]
    assert f"robot 'gar_alpha' event {seq}: malformed event record" in \
        view.quarantine[0].reason
    assert view.quarantined == {'gar_alpha': 1} and view.stats()['quarantined'] == 1
    assert view.refresh() == 0 and view.quarantined == {'gar_alpha': 1}  # pulled once
    view.close()
    assert cli_exit_code(['fleet', 'status', '--dsn', fleet_database.dsn, '--json']) == 0
    status = json.loads(capsys.readouterr().out)
    alpha = next(r for r in status['robots'] if r['robot_id'] == 'gar_alpha')
    assert alpha['quarantined'] == 1 and status['quarantine'][0]['seq'] == seq


_PAD = '{"kind": "seen", "stamp_s": 1.0, "object_id": "o", "pad": "%s"}'


@pytest.mark.parametrize(('kind', 'stamp_s', 'body'), [
    pytest.param('garbage', 1.0, '{"kind": "garbage", "stamp_s": 1.0}', id='unknown kind'),
    pytest.param('seen', 1.0, '{"kind": "seen", "stamp_s": 1.0}', id='no object id'),
    pytest.param('seen', 1.0, '{"kind": "lost", "stamp_s": 1.0, "object_id": "o"}',
                 id='kinds differ'),
    pytest.param('seen', float('nan'), '{"kind": "seen", "stamp_s": 1.0, "object_id": "o"}',
                 id='NaN stamp'),
    pytest.param('seen', 1.0, '{"kind": "seen", "stamp_s": "NaN", "object_id": "o"}',
                 id='stamp a string'),
    pytest.param('seen', float('inf'), '{"kind": "seen", "stamp_s": 1.0, "object_id": "o"}',
                 id='infinite stamp'),
    pytest.param('seen', 1.0, '[1, 2]', id='not an object'),
    pytest.param('seen', 1.0, _PAD % ('x' * (1024 * 1024)), id='1 MB row'),
    pytest.param('seen', 1.0, 50, id='50 MB row'),
])
def test_the_server_refuses_a_robots_row_that_is_not_an_event(
        fleet_database: Any, kind: str, stamp_s: float, body: str | int) -> None:
    import psycopg

    if isinstance(body, int):  # built here, not at collection
        body = _PAD % ('x' * (body * 1024 * 1024))
    dsn = _robot(fleet_database, 'refuser')
    with connect(dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute('INSERT INTO events (robot_id, seq, stamp_s, kind, object_id, body) '
                     "VALUES ('refuser', 1, %s, %s, 'o', %s::jsonb)", (stamp_s, kind, body))
    assert _server_seqs(fleet_database, 'refuser') == []


def test_a_row_the_server_would_refuse_is_not_shipped_and_leaves_a_reported_gap(
        fleet_database: Any, tmp_path: Path) -> None:
    """The robot's own log is ours, but not trusted more: a row over the limit (a layout of
    2 MB) or damaged in the file (a sighting of no object) is kept back, counted, and the
    rows after it still ship."""
    import sqlite3

    from robot_memory.core.events import LayoutSet

    dsn = _robot(fleet_database, 'bigmap')
    db = tmp_path / 'bigmap.db'
    with MemoryStore(db) as store:
        store.write([ObjectCreated(MONDAY_S, 'object:1', 'mug'),
                     LayoutSet(MONDAY_S + 1, {'nodes': ['x' * 2_000_000]}),
                     ObjectSeen(MONDAY_S + 2, 'object:1'), ObjectSeen(MONDAY_S + 3, 'object:1'),
                     ObjectSeen(MONDAY_S + 4, 'object:1')])
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute('UPDATE events SET body = ? WHERE seq = 4',
                     (json.dumps({'kind': 'seen', 'stamp_s': MONDAY_S + 3}),))
    with Replicator(db, dsn, 'bigmap') as replicator:
        assert replicator.sync() == 3
        assert replicator.stats.refused == 2 and replicator.stats.backlog == 0
        replicator.stats.acked_seq = 0
        replicator._acked_at = 0.0
        replicator._conn.close()  # a new connection: kept-back rows are not counted twice
        assert replicator.sync() == 0 and replicator.stats.refused == 2
    assert _server_seqs(fleet_database, 'bigmap') == [1, 3, 5]
    view = FleetView(dsn, use_embeddings=False)
    view.refresh()
    assert view.gaps == {'bigmap': [(2, 2), (4, 4)]}
    view.close()


# ----------------------------------------------------- row 3: revoke ends open sessions
def _keep_writing(db: Path, stop: threading.Event) -> None:
    """A robot mapping: a sighting every few milliseconds, committed every 0.05 s."""
    with MemoryStore(db, commit_interval_s=0.05) as store:
        store.write([ObjectCreated(MONDAY_S, 'object:1', 'mug')])
        t = MONDAY_S
        while not stop.is_set():
            t += 1.0
            store.write([ObjectSeen(t, 'object:1')])
            time.sleep(0.002)


@pytest.mark.timeout(120)
def test_revoking_a_robot_ends_its_running_sync_follow_with_one_clear_line(
        fleet_database: Any, tmp_path: Path) -> None:
    dsn = _robot(fleet_database, 'revokee')
    db = tmp_path / 'revokee.db'
    stop = threading.Event()
    writer = threading.Thread(target=_keep_writing, args=(db, stop))
    writer.start()
    try:
        assert _until(db.exists, 30)
        process = subprocess.Popen(
            [sys.executable, '-m', 'robot_memory.cli', 'fleet', 'sync', '--db', str(db),
             '--robot-id', 'revokee', '--follow', '--period-s', '0.05'],
            env={**os.environ, 'ROBOT_MEMORY_FLEET_DSN': dsn},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert _until(lambda: len(_server_seqs(fleet_database, 'revokee')) > 100, 60)
            start = time.monotonic()
            ended = revoke_robot(fleet_database.dsn, 'revokee')
            cut = len(_server_seqs(fleet_database, 'revokee'))
            assert _until(lambda: process.poll() is not None, 30), 'the follower went on'
            seconds = time.monotonic() - start
        finally:
            if process.poll() is None:
                process.kill()
            _, stderr = process.communicate(timeout=30)
    finally:
        stop.set()
        writer.join(30)
    assert ended == 1
    assert len(_server_seqs(fleet_database, 'revokee')) == cut  # nothing after the revoke
    # The log's warning that the connection went, then the error: no traceback.
    assert process.returncode == 2 and 'Traceback' not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith('error: ')
    assert 'not permitted to log in' in stderr.strip().splitlines()[-1], stderr
    print(f'revoke → follower exit: {seconds:.2f} s; rows at revoke {cut}')


# --------------------------------------------------- row 4: a replaced memory file
def test_a_new_memory_file_for_an_old_robot_id_is_refused_not_mixed(
        fleet_database: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dsn = _robot(fleet_database, 'reborn')
    old = _week_db(tmp_path / 'old.db', objects=5, seed=1)
    with Replicator(old, dsn, 'reborn') as replicator:
        shipped = replicator.sync()
    new = _week_db(tmp_path / 'new.db', objects=20, seed=2)  # more events than the old log
    with MemoryStore(new, read_only=True) as store:
        assert store.last_seq > shipped
    with Replicator(new, dsn, 'reborn') as replicator, \
            pytest.raises(FleetError, match=r"robot 'reborn' on the fleet server holds the "
                                            r'log of another memory file'):
        replicator.sync()
    assert _server_seqs(fleet_database, 'reborn') == list(range(1, shipped + 1))
    capsys.readouterr()
    assert cli_exit_code(['fleet', 'sync', '--db', str(new), '--dsn', dsn, '--robot-id',
                       'reborn']) == 2
    assert 'add it under a new robot id' in capsys.readouterr().err
    with Replicator(old, dsn, 'reborn') as replicator:  # the old file still ships
        assert replicator.sync() == 0 and replicator.stats.backlog == 0


def test_a_server_whose_schema_knows_no_log_identities_is_a_clear_refusal(
        fleet_database: Any, tmp_path: Path) -> None:
    dsn = _robot(fleet_database, 'ahead')
    with connect(fleet_database.dsn) as conn:  # as a server still on schema version 1
        conn.execute('DROP FUNCTION robot_memory_claim_log(text, text)')
    with Replicator(_week_db(tmp_path / 'ahead.db', objects=2), dsn, 'ahead') as replicator, \
            pytest.raises(FleetError, match="the fleet server's schema is older than this "
                                            "robot's robot_memory"):
        replicator.sync()


# ------------------------------------------- row 13: what the server lost, seen while idle
@pytest.mark.timeout(60)
def test_an_idle_replicator_learns_that_the_server_lost_rows_and_ships_them_again(
        fleet_database: Any, tmp_path: Path) -> None:
    """A server crash loses the batches its WAL had not written (synchronous_commit off):
    to the robot that is rows gone from the server while it has nothing new to ship."""
    dsn = _robot(fleet_database, 'idler')
    db = _week_db(tmp_path / 'idler.db', objects=10)
    with Replicator(db, dsn, 'idler') as replicator:
        total = replicator.sync()
        kept = total // 2
        with connect(fleet_database.dsn) as conn:
            conn.execute("DELETE FROM events WHERE robot_id = 'idler' AND seq > %s", (kept,))
        assert replicator.sync() == 0 and replicator.stats.acked_seq == total  # not yet asked
        assert _until(lambda: replicator.sync() >= 0 and
                      len(_server_seqs(fleet_database, 'idler')) == total, 30, 0.1)
        assert replicator.stats.acked_seq == total
        assert replicator.stats.shipped == 2 * total - kept


@pytest.mark.timeout(120)
def test_an_idle_replicator_notices_a_server_crash_and_ships_what_it_lost(
        tmp_path: Path) -> None:
    """The red team's kill -9 of PostgreSQL under an idle `sync --follow`, on a server of
    this test's own (the others share one)."""
    with fresh_postgres() as server:
        dsn = _robot(server, 'crashy')
        db = _week_db(tmp_path / 'crashy.db', objects=10)
        with Replicator(db, dsn, 'crashy', retry_s=0.2, max_retry_s=0.5) as replicator:
            total = replicator.sync()
            server.stop('immediate')  # no shutdown checkpoint: as a crash
            assert _until(lambda: replicator.sync() >= 0 and not replicator.stats.connected,
                          30, 0.1), replicator.stats
            server.start()
            with connect(server.dsn) as conn:  # the batches whose WAL the crash lost
                conn.execute("DELETE FROM events WHERE robot_id = 'crashy' AND seq > %s",
                             (total // 2,))
            assert _until(lambda: replicator.sync() >= 0 and replicator.stats.connected and
                          len(_server_seqs(server, 'crashy')) == total, 30, 0.1)
            assert replicator.stats.acked_seq == total


# --------------------------------------------- row 15: gaps, NaN stamps, own passwords
def test_a_deleted_row_is_a_gap_that_fleet_status_reports(
        fleet_database: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dsn = _robot(fleet_database, 'holey')
    with Replicator(_week_db(tmp_path / 'holey.db'), dsn, 'holey') as replicator:
        total = replicator.sync()
    with connect(fleet_database.dsn) as conn:
        conn.execute("DELETE FROM events WHERE robot_id = 'holey' AND seq IN (10, 11, 20)")
    capsys.readouterr()
    assert cli_exit_code(['fleet', 'status', '--dsn', dsn, '--json']) == 0
    robot = json.loads(capsys.readouterr().out)['robots'][0]
    assert robot['gaps'] == [[10, 11], [20, 20]]
    assert robot['events'] == total - 3 and robot['last_seq'] == total
    assert cli_exit_code(['fleet', 'status', '--dsn', dsn]) == 0
    assert 'gaps 10..11, 20..20' in capsys.readouterr().out


@pytest.mark.parametrize('stamp', ['"NaN"', '"Infinity"', '1e20', 'true', 'null'])
def test_a_row_whose_stamp_is_not_a_time_is_quarantined_not_replayed(
        fleet_database: Any, tmp_path: Path, two_room_graph: SceneGraph, stamp: str) -> None:
    dsns = _fleet_of_two(fleet_database, tmp_path, two_room_graph, ('nan_alpha', 'nan_beta'))
    seq = len(_server_seqs(fleet_database, 'nan_alpha')) + 1
    _insert_unchecked(fleet_database, 'nan_alpha', seq, 0.0, 'seen',
                      f'{{"kind": "seen", "stamp_s": {stamp}, "object_id": "object:1"}}')
    view = FleetView(dsns['nan_beta'], use_embeddings=False)
    view.refresh()
    assert view.memory.now_s == MONDAY_S + 9 * H  # the clock stayed a time
    assert view.ask('Where is the kettle?')['answer'].startswith('The kettle is in the kitchen')
    assert [(q.robot_id, q.seq) for q in view.quarantine] == [('nan_alpha', seq)]
    assert 'stamp_s' in view.quarantine[0].reason
    view.close()


def test_a_robot_changing_its_own_password_is_named_by_fleet_status(
        fleet_database: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL lets every role change its own password and no privilege stops it; the
    administrator learns of it (and revokes, or sets a new one with add-robot)."""
    dsn = _robot(fleet_database, 'rekeyed')
    _robot(fleet_database, 'steady')
    with connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER ROLE robot_rekeyed PASSWORD 'mine-now-not-yours'")
    capsys.readouterr()
    assert cli_exit_code(['fleet', 'status', '--dsn', fleet_database.dsn, '--json']) == 0
    status = json.loads(capsys.readouterr().out)
    assert status['password_changed'] == ['robot_rekeyed']
    assert [r['robot_id'] for r in status['robots'] if r['password_changed']] == ['rekeyed']
    add_robot(fleet_database.dsn, 'rekeyed', 'rekeyed-secret-pw')  # the administrator's again
    assert cli_exit_code(['fleet', 'status', '--dsn', fleet_database.dsn, '--json']) == 0
    assert json.loads(capsys.readouterr().out)['password_changed'] == []


# --------------------------------------------------- row 9: one line, not a traceback
@pytest.mark.parametrize(('argv', 'message'), [
    (['fleet', 'sync', '--dsn', "'''", '--db', 'x.db', '--robot-id', 'r'],
     'the fleet DSN is not a libpq connection string'),
    (['fleet', 'add-robot', 'memory_robot', '--password', 'a-long-password'],
     "robot id 'memory_robot' is reserved"),
    (['fleet', 'status', '--dsn', "'''"], 'the fleet DSN is not a libpq connection string'),
    (['ask', 'Where is the mug?', '--fleet', "'''"], 'the fleet DSN is not a libpq'),
])
def test_bad_fleet_input_is_one_line_of_error(fleet_database: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              argv: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('ROBOT_MEMORY_FLEET_DSN', fleet_database.dsn)
    if '--db' in argv:
        _week_db(tmp_path / 'x.db', objects=2)
    capsys.readouterr()
    assert cli_exit_code(argv) != 0
    err = capsys.readouterr().err
    text = ' '.join(err.split())  # rich wraps the one line at the console's width
    assert text.startswith('error: ') and text.count('error:') == 1, err
    assert message in text and 'Traceback' not in err, err


def test_add_robot_never_takes_over_a_role_that_is_not_a_robots(fleet_database: Any) -> None:
    with connect(fleet_database.dsn, autocommit=True) as conn:
        conn.execute('DROP ROLE IF EXISTS robot_dba')
        conn.execute("CREATE ROLE robot_dba LOGIN PASSWORD 'the-dbas-own-pw'")
    with pytest.raises(FleetError, match='role robot_dba exists and is not a fleet robot'):
        add_robot(fleet_database.dsn, 'dba', 'a-long-password')
    with connect(fleet_database.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM robots WHERE robot_id = 'dba'"
                            ).fetchone()[0] == 0

"""Schema 3 (issue #31): partitioned events, the server's fleet objects table, its questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from robot_memory.fleet import schema
from robot_memory.fleet.questions import FleetQuestions, fleet_index, fleet_reindex
from robot_memory.fleet.replicator import Replicator
from robot_memory.fleet.retention import add_partitions, drop_before, partitions
from robot_memory.fleet.schema import FleetError, add_robot, connect, init_server
from robot_memory.fleet.view import FleetView, fleet_status
from tests.conftest import MONDAY_S, FleetDatabase, cli_exit_code
from tests.test_fleet import _week_db

pytest.importorskip('psycopg', reason='psycopg is not installed')

QUESTIONS = ('Where is the mug?', 'How many books are there?', 'When did you last see the '
             'phone?', 'Is there a remote in the kitchen?', 'What is in the kitchen?',
             'Where is the blue mug?')


def _robot(fleet: FleetDatabase, robot_id: str) -> str:
    password = f'{robot_id}-secret-pw'
    add_robot(fleet.dsn, robot_id, password)
    return fleet.dsn_for(f'robot_{robot_id}', password)


def _ship(fleet: FleetDatabase, tmp_path: Path, robots: dict[str, int], objects: int = 30,
          days: int = 2) -> dict[str, Path]:
    """Each robot ships a week (its seed) without indexing; their files."""
    dbs = {}
    for robot, seed in robots.items():
        dbs[robot] = _week_db(tmp_path / f'{robot}.db', objects, days, seed)
        with Replicator(dbs[robot], _robot(fleet, robot), robot, index_events=False) as r:
            assert r.sync() > 0
    return dbs


def _table(dsn: str) -> list[tuple[Any, ...]]:
    with connect(dsn) as conn:
        return conn.execute('SELECT fleet_id, label, color, present, x, y, room_id, '
                            'last_seen_s, last_robot, merged_into FROM fleet_objects '
                            'ORDER BY fleet_id').fetchall() + conn.execute(
            'SELECT * FROM fleet_evidence ORDER BY fleet_id, robot_id').fetchall()


def test_a_v2_database_upgrades_to_v3_keeping_its_rows_and_setting_a_bad_one_aside(
        postgres: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = postgres.create_database('fleet_v2_upgrade')
    migrations = schema.MIGRATIONS
    with monkeypatch.context() as old:  # the robot_memory that made version 2 databases
        old.setattr(schema, 'MIGRATIONS', migrations[:1])
        init_server(dsn)
        with connect(dsn) as conn:  # a v1 server took a row v2's CHECK refuses
            conn.execute("INSERT INTO events VALUES ('ghost', 900, 1, 'seen', 'x', "
                         "'{\"kind\": \"seen\", \"stamp_s\": 1}')")
        old.setattr(schema, 'MIGRATIONS', migrations[:2])
        assert init_server(dsn) == {'before': 1, 'after': 2}
        add_robot(dsn, 'oldbot', 'oldbot-secret-pw')
        db = _week_db(tmp_path / 'old.db', objects=10)
        robot_dsn = postgres.dsn_for('robot_oldbot', 'oldbot-secret-pw', 'fleet_v2_upgrade')
        with Replicator(db, robot_dsn, 'oldbot') as replicator:
            shipped = replicator.sync()
            assert shipped > 0 and not replicator.fleet_objects
    assert init_server(dsn) == {'before': 2, 'after': 3}
    with connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE robot_id = 'oldbot'"
                            ).fetchone()[0] == shipped
        assert conn.execute('SELECT seq, reason FROM events_quarantined').fetchall() == [
            (900, 'refused by events_are_events')]
        assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'events'"
                            ).fetchone()[0] == 'p'
    with Replicator(db, robot_dsn, 'oldbot') as replicator:  # resumes: nothing sent twice
        assert replicator.sync() == 0 and replicator.fleet_objects
        assert replicator.stats.acked_seq == shipped
    questions = FleetQuestions(dsn)
    assert questions.ask('Where is the mug?')['answer'].startswith('The mug is in the')
    questions.close()


def test_server_answers_are_the_fleet_views_answers(fleet_database: FleetDatabase,
                                                     tmp_path: Path) -> None:
    _ship(fleet_database, tmp_path, {'alpha': 0, 'beta': 1, 'gamma': 0})
    view = FleetView(fleet_database.dsn, use_embeddings=False)
    view.refresh()
    questions = FleetQuestions(fleet_database.dsn)  # catches the indexer up first
    for question in QUESTIONS:
        server, merged = questions.ask(question), view.ask(question)
        assert server['answer'] == merged['answer'], question
        assert [e['object_id'] for e in server['evidence']] == \
            [e['object_id'] for e in merged['evidence']], question
        assert [e['robots'] for e in server['evidence']] == \
            [e['robots'] for e in merged['evidence']], question
    assert questions.robots() == view.robots == ['alpha', 'beta', 'gamma']
    reply = questions.handle({'id': 7, 'question': 'Where is the mug?'})
    assert reply['id'] == 7 and reply['ok'] and reply['scope'] == 'fleet'
    assert reply['query']['type'] == 'WhereIs'
    mug = reply['evidence'][0]['object_id']
    history = questions.history(mug)
    assert {r['robot'] for r in history['robots']} == set(reply['evidence'][0]['robots'])
    assert sum(r['sightings'] for r in history['robots']) > 0 and history['events']
    assert questions.count('mug') == len(questions.where_is('mug')) > 0
    view.close()
    questions.close()


def test_the_indexer_is_idempotent_resumable_and_one_at_a_time(postgres: Any,
                                                               tmp_path: Path) -> None:
    tables = []
    for name, budget in (('fleet_index_all', 100000), ('fleet_index_steps', 130)):
        fleet = FleetDatabase(postgres, name)
        _ship(fleet, tmp_path / name, {'alpha': 0, 'beta': 1}, objects=20, days=1)
        with connect(fleet.dsn, autocommit=True) as conn:
            applied = fleet_index(conn, budget)
            assert applied > 0 and fleet_index(conn) == 0  # nothing is applied twice
            before = _table(fleet.dsn)
            assert fleet_reindex(conn) == applied and _table(fleet.dsn) == before
            with connect(fleet.dsn) as holder:  # another indexer at work
                holder.execute('SELECT pg_advisory_xact_lock(3100031)')
                assert conn.execute('SELECT robot_memory_index(10)').fetchone()[0] == -1
        tables.append(_table(fleet.dsn))
    assert tables[0] == tables[1] and len(tables[0]) > 20


def test_a_row_the_indexer_cannot_apply_is_set_aside_and_the_others_go_on(
        fleet_database: FleetDatabase, tmp_path: Path) -> None:
    dsn = _robot(fleet_database, 'badbot')
    with connect(dsn) as conn:  # rows the server's CHECK takes: a fact's value is free
        for seq, body in enumerate(({'kind': 'created', 'object_id': 'o', 'label': 'mug'},
                                    {'kind': 'fact', 'object_id': 'o', 'key': 'position',
                                     'value': ['here', 1, 2]},
                                    {'kind': 'fact', 'object_id': 'o', 'key': 'position',
                                     'value': [1e400, 1, 2]}), start=1):
            conn.execute('INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s)',
                         ('badbot', seq, MONDAY_S, body['kind'], 'o',
                          json.dumps({**body, 'stamp_s': MONDAY_S}).replace('Infinity',
                                                                             '1e400')))
    _ship(fleet_database, tmp_path, {'goodbot': 0}, objects=10, days=1)
    questions = FleetQuestions(fleet_database.dsn)
    assert questions.ask('Where is the mug?')['evidence'][0]['robots'] == ['goodbot']
    with connect(fleet_database.dsn) as conn:
        reasons = [r for (r,) in conn.execute(
            'SELECT reason FROM events_quarantined ORDER BY seq')]
    assert reasons == ['indexer: a position that is not three numbers within ±1e15: '
                       + value for value in ('["here", 1, 2]', '[1' + '0' * 78)]
    report = fleet_status(fleet_database.dsn)
    assert report['server']['quarantined'] == 2 and report['server']['unindexed'] == 0
    questions.close()


def test_events_land_in_monthly_partitions_and_retention_drops_old_months(
        fleet_database: FleetDatabase, tmp_path: Path) -> None:
    dbs = _ship(fleet_database, tmp_path, {'alpha': 0, 'beta': 1}, objects=10, days=2)
    dsn = fleet_database.dsn
    with connect(dsn) as conn:  # November 2026 has no partition yet: the default holds it
        assert conn.execute('SELECT count(*) FROM events_default').fetchone()[0] > 0
        before = conn.execute('SELECT count(*) FROM events').fetchone()[0]
    assert add_partitions(dsn, MONDAY_S, MONDAY_S + 1) == 1  # its rows move in
    with connect(dsn) as conn:
        assert conn.execute('SELECT count(*) FROM events_default').fetchone()[0] == 0
        assert conn.execute('SELECT count(*) FROM events_2026_11').fetchone()[0] == before
        assert ('events_2026_11', 1793491200.0, 1796083200.0) in partitions(conn)
    report = drop_before(dsn, 1796083200.0)  # the 1st of December: November goes
    assert report['dropped'] == ['events_2026_11'] and report['rows_dropped'] == before
    assert report['kept'] == [] and report['indexed'] == before
    with connect(dsn, autocommit=True) as conn, pytest.raises(FleetError, match='retention'):
        fleet_reindex(conn)
    with connect(dsn) as conn:
        assert conn.execute('SELECT count(*) FROM events').fetchone()[0] == 0
        pruned = dict(conn.execute('SELECT robot_id, pruned_seq FROM robots').fetchall())
        assert conn.execute('SELECT sum(sightings) FROM fleet_evidence').fetchone()[0] > 0
    questions = FleetQuestions(dsn)  # what they said stays summarised per object
    assert questions.ask('Where is the mug?')['answer'].startswith('The mug is in the')
    questions.close()
    for robot, db in dbs.items():  # the dropped prefix counts as shipped, not as a gap
        with Replicator(db, fleet_database.dsn_for(f'robot_{robot}', f'{robot}-secret-pw'),
                        robot) as replicator:
            assert replicator.sync() == 0 and replicator.stats.acked_seq == pruned[robot]
    status = fleet_status(dsn)
    assert status['gaps'] == 0 and status['quarantined'] == 0


def test_fleet_commands_of_schema_3_and_their_errors(
        fleet_database: FleetDatabase, postgres: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _ship(fleet_database, tmp_path, {'alpha': 0}, objects=10, days=1)
    dsn = fleet_database.dsn
    assert cli_exit_code(['fleet', 'index', '--dsn', dsn, '--json']) == 0
    assert json.loads(capsys.readouterr().out)['applied'] > 0
    assert cli_exit_code(['fleet', 'ask', 'Where is the mug?', '--dsn', dsn, '--json']) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply['robots'] == ['alpha'] and reply['evidence'][0]['robot'] == 'alpha'
    assert cli_exit_code(['fleet', 'history', reply['evidence'][0]['object_id'], '--dsn',
                       dsn]) == 0
    assert json.loads(capsys.readouterr().out)['robots'][0]['robot'] == 'alpha'
    assert cli_exit_code(['fleet', 'ask', 'Colourless green ideas sleep furiously?', '--dsn',
                       dsn]) == 3
    capsys.readouterr()
    assert cli_exit_code(['fleet', 'maintain', '--dsn', dsn, '--json']) == 0
    assert json.loads(capsys.readouterr().out)['partitions_added'] == 0  # init made them
    capsys.readouterr()
    for argv, message in (
            (['fleet', 'maintain', '--dsn', dsn, '--retain-days', '0'],
             'retain_days must be > 0 (got 0.0)'),
            (['fleet', 'history', 'nobody/object:1', '--dsn', dsn],
             "no fleet object 'nobody/object:1' on the server"),
            (['fleet', 'ask', 'Where is the mug?', '--dsn',
              postgres.dsn_for('postgres', 'x', 'fleet_nowhere')], 'cannot connect')):
        assert cli_exit_code(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count('\n') == 1, err
    with pytest.raises(FleetError, match='schema older than 3'):
        v2 = postgres.create_database('fleet_plain')
        FleetQuestions(v2).ask('Where is the mug?')

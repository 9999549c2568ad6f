"""Fleet memory on a real PostgreSQL server: replication, faults, roles, the merged view."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from robot_memory.cli import main
from robot_memory.core import EpisodicMemory, FactKey, MemoryStore, SceneGraph
from robot_memory.core.events import event_from_record
from robot_memory.eval.bench_store import replay_week, synthetic_week
from robot_memory.exceptions import InvalidInputError
from robot_memory.fleet.merge import FleetMemory
from robot_memory.fleet.replicator import Replicator
from robot_memory.fleet.schema import FleetError, add_robot, connect, init_server, revoke_robot
from robot_memory.fleet.view import FleetView
from tests.conftest import MONDAY_S

H = 3600.0
pytest.importorskip('psycopg', reason='psycopg is not installed')


def _robot(postgres: Any, robot_id: str) -> str:
    """Register a robot; its DSN."""
    password = f'{robot_id}-secret-pw'
    add_robot(postgres.dsn, robot_id, password)
    return postgres.dsn_for(f'robot_{robot_id}', password)


def _server_rows(postgres: Any, robot_id: str) -> list[tuple[int, Any]]:
    with connect(postgres.dsn) as conn:
        return [(seq, body) for seq, body in conn.execute(
            'SELECT seq, body FROM events WHERE robot_id = %s ORDER BY seq', (robot_id,))]


def _local_rows(db: Path) -> list[tuple[int, Any]]:
    with MemoryStore(db, read_only=True) as store:
        return [(seq, json.loads(body)) for seq, body in store._conn.execute(
            'SELECT seq, body FROM events ORDER BY seq')]


def _replayed(rows: list[tuple[int, Any]]) -> EpisodicMemory:
    memory = EpisodicMemory()
    for _, body in rows:
        memory.apply(event_from_record(body))
    memory.drain()
    return memory


def _week_db(path: Path, objects: int = 30, days: int = 1, seed: int = 0) -> Path:
    _, per_frame = replay_week(synthetic_week(objects, days, seed))
    with MemoryStore(path) as store:
        for events in per_frame:
            store.write(events)
    return path


# ----------------------------------------------------------------- the merge, no server
def _mug(memory: EpisodicMemory, object_id: str, t: float, xy: tuple[float, float],
         color: str = 'red', room: str = 'room:kitchen') -> None:
    memory.create_object(object_id, t, 'mug', {FactKey.POSITION: (*xy, 0.9),
                                                FactKey.ROOM: room}, color=color)


def _streams(*memories: tuple[str, EpisodicMemory]) -> dict[str, list[Any]]:
    return {robot: memory.drain() for robot, memory in memories}


def test_one_object_seen_by_two_robots_is_one_fleet_object(two_room_graph: SceneGraph) -> None:
    a, b = EpisodicMemory(), EpisodicMemory()
    a.set_layout(two_room_graph, MONDAY_S)
    _mug(a, 'object:1', MONDAY_S + 9 * H, (1.0, 1.0))
    _mug(b, 'object:7', MONDAY_S + 10 * H, (1.2, 1.1))  # the same red mug, 0.22 m off
    _mug(b, 'object:8', MONDAY_S + 10 * H, (1.1, 1.0), color='blue')  # another colour
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a), ('beta', b)))
    present = fleet.memory.at(fleet.now_s).objects
    assert sorted(present) == ['alpha/object:1', 'beta/object:8']
    assert fleet.robots_of('alpha/object:1') == ['alpha', 'beta']
    assert fleet.robot_at('alpha/object:1', MONDAY_S + 9.5 * H) == 'alpha'
    assert fleet.robot_at('alpha/object:1', fleet.now_s) == 'beta'
    assert fleet.stats.associated == 1


@pytest.mark.parametrize(('alpha_color', 'beta_color', 'fleet_objects'), [
    ('red', 'blue', ['alpha/object:1', 'beta/object:1']),
    ('red', 'red', ['alpha/object:1']),
    ('red', '', ['alpha/object:1']),  # a colour beta did not see matches any
])
def test_two_robots_mugs_at_one_place_are_one_fleet_object_only_if_their_colours_agree(
        alpha_color: str, beta_color: str, fleet_objects: list[str]) -> None:
    a, b = EpisodicMemory(), EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S, (1.0, 1.0), color=alpha_color)
    _mug(b, 'object:1', MONDAY_S + H, (1.05, 1.0), color=beta_color)  # 5 cm off: in the gate
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a), ('beta', b)))
    assert sorted(fleet.memory.at(fleet.now_s).objects) == fleet_objects
    assert fleet.stats.associated == 2 - len(fleet_objects)


def test_one_robots_two_look_alikes_stay_two() -> None:
    a = EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S, (1.0, 1.0))
    _mug(a, 'object:2', MONDAY_S, (1.3, 1.0))
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a)))
    assert len(fleet.memory.at(fleet.now_s).objects) == 2


def test_the_latest_robot_wins_and_staleness_counts_from_any_look() -> None:
    a, b = EpisodicMemory(), EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S + 9 * H, (1.0, 1.0))
    _mug(b, 'object:5', MONDAY_S + 9.5 * H, (1.1, 1.0))
    a.lose('object:1', MONDAY_S + 10 * H)  # alpha sees the spot empty…
    b.set_fact('object:5', MONDAY_S + 11 * H, FactKey.POSITION, (6.0, 2.0, 0.9))  # …beta finds
    b.set_fact('object:5', MONDAY_S + 11 * H, FactKey.ROOM, 'room:study')  # it in the study
    b.seen('object:5', MONDAY_S + 15 * H)
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a), ('beta', b)))
    state = fleet.memory.at(fleet.now_s).objects['alpha/object:1']
    assert state.room_id == 'room:study' and state.last_seen_s == MONDAY_S + 15 * H
    assert fleet.memory.at(MONDAY_S + 10.5 * H).missing.keys() == {'alpha/object:1'}


def test_a_robot_seeing_again_what_another_lost_puts_it_back() -> None:
    a, b = EpisodicMemory(), EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S + 9 * H, (1.0, 1.0))
    _mug(b, 'object:5', MONDAY_S + 9.5 * H, (1.1, 1.0))
    a.lose('object:1', MONDAY_S + 10 * H)
    b.seen('object:5', MONDAY_S + 12 * H)
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a), ('beta', b)))
    assert 'alpha/object:1' in fleet.memory.at(fleet.now_s).objects


def test_a_robots_own_merge_merges_the_fleet_objects() -> None:
    a, b = EpisodicMemory(), EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S, (1.0, 1.0))
    _mug(b, 'object:5', MONDAY_S + 1, (3.0, 1.0))  # too far: a second fleet object
    _mug(b, 'object:6', MONDAY_S + 2, (1.0, 1.1))  # beta's own duplicate of alpha's mug
    b.merge('object:6', 'object:5', MONDAY_S + 3)
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a), ('beta', b)))
    assert list(fleet.memory.at(fleet.now_s).objects) == ['alpha/object:1']



def test_a_robots_history_repair_folds_the_fleet_objects_and_a_split_is_counted() -> None:
    """The fleet takes a robot's repair as a fold at the time it was made (other robots may
    have seen either object since: the fleet's past is not rewritten); a robot's undone guess
    is counted, not replayed."""
    a = EpisodicMemory()
    _mug(a, 'object:1', MONDAY_S, (1.0, 1.0))
    _mug(a, 'object:2', MONDAY_S + 30 * H, (6.0, 2.0), room='room:study')
    a.lose('object:1', MONDAY_S + 31 * H)
    a.repair_identity('object:1', 'object:2', MONDAY_S + 31 * H)
    a.split_identity('object:1', 'object:3', MONDAY_S + 30 * H, MONDAY_S + 40 * H)
    fleet = FleetMemory()
    fleet.apply_all(_streams(('alpha', a)))
    assert list(fleet.memory.at(fleet.now_s).objects) == ['alpha/object:1']
    assert fleet.stats.skipped == 1 and not fleet.stats.errors

# ------------------------------------------------------------------ schema and roles
def test_the_schema_is_versioned_and_init_is_idempotent(postgres: Any) -> None:
    assert init_server(postgres.dsn) == {'before': 3, 'after': 3}
    with connect(postgres.dsn) as conn:
        assert conn.execute('SELECT max(version) FROM robot_memory_schema').fetchone()[0] == 3


def test_a_robot_cannot_write_another_robots_events(postgres: Any, tmp_path: Path) -> None:
    _robot(postgres, 'owner')
    intruder = _robot(postgres, 'intruder')
    db = _week_db(tmp_path / 'x.db', objects=5)
    with pytest.raises(FleetError, match=r"refused robot 'owner'.*row-level security"):
        Replicator(db, intruder, 'owner').sync()
    assert _server_rows(postgres, 'owner') == []


def test_a_wrong_or_revoked_role_is_a_clear_error(postgres: Any, tmp_path: Path) -> None:
    dsn = _robot(postgres, 'revoked')
    db = _week_db(tmp_path / 'r.db', objects=5)
    wrong = dsn.replace('revoked-secret-pw', 'not-the-password')
    with pytest.raises(FleetError, match='password authentication failed'):
        Replicator(db, wrong, 'revoked').sync()
    revoke_robot(postgres.dsn, 'revoked')
    with pytest.raises(FleetError, match='not permitted to log in'):
        Replicator(db, dsn, 'revoked').sync()
    with pytest.raises(InvalidInputError, match="robot id 'Bad-Id' must be lower-case"):
        add_robot(postgres.dsn, 'Bad-Id', 'x' * 12)


# ------------------------------------------------------------------------ replication
def test_replication_is_idempotent_and_replays_into_the_same_memory(
        postgres: Any, tmp_path: Path) -> None:
    dsn = _robot(postgres, 'idem')
    db = _week_db(tmp_path / 'idem.db', objects=40, days=2)
    local = _local_rows(db)
    with Replicator(db, dsn, 'idem', batch_events=300) as replicator:
        assert replicator.sync() == len(local)
        replicator.stats.acked_seq = 0  # an acknowledgement lost: everything is sent again…
        replicator._conn.close()
        assert replicator.sync() == 0  # …the server says what it has; nothing is sent twice
    server = _server_rows(postgres, 'idem')
    assert [seq for seq, _ in server] == [seq for seq, _ in local]
    with MemoryStore(db, read_only=True) as store:
        assert _replayed(server) == store.load()


def test_two_shippers_of_one_memory_file_send_rows_twice_and_the_server_keeps_each_once(
        postgres: Any, tmp_path: Path) -> None:
    """A node's link and a `fleet sync --follow` may ship one robot's file side by side: each
    trusts the acknowledgement it read when it connected, so each sends again rows the other
    stored, in batches that overlap part of the other's."""
    dsn = _robot(postgres, 'twice')
    db = _week_db(tmp_path / 'twice.db', objects=40, days=2)
    local = _local_rows(db)
    with Replicator(db, dsn, 'twice', batch_events=60) as node, \
            Replicator(db, dsn, 'twice', batch_events=50) as follower:
        node.connect()
        follower.connect()  # both claim the log for the same file, and both read ack 0
        assert node.sync(max_batches=2) == 120
        assert follower.sync() == len(local)  # from seq 1: 120 of them are there
        assert node.stats.acked_seq == 120
        assert node.sync() == len(local) - 120  # all there by now, and sent again
    server = _server_rows(postgres, 'twice')
    assert [seq for seq, _ in server] == [seq for seq, _ in local]
    assert [body for _, body in server] == [body for _, body in local]


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` until it holds (True) or `timeout_s` has passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class _Pause(NamedTuple):
    """A writer's stop before one frame: it says it is there, then waits to be let go on."""

    reached: threading.Event
    go: threading.Event


def _writer(db: Path, frames: list[Any], pauses: dict[int, _Pause],
            done: threading.Event) -> None:
    """Consolidate a week frame by frame into a store, as a robot maps (commits every 0.1 s)."""
    from robot_memory.core import Consolidator

    memory = EpisodicMemory()
    consolidator = Consolidator(memory)
    with MemoryStore(db, commit_interval_s=0.1) as store:
        for i, (_, batch) in enumerate(frames):
            if i in pauses:
                # A node commits what waits while it idles (MemoryService.flush on its timer);
                # a store commits only at its next write once commit_interval_s has passed.
                store.commit()
                pauses[i].reached.set()
                pauses[i].go.wait(120)
            for object_id, obs, facts in batch:
                consolidator.observe(object_id, obs, facts)
            store.sync(memory)
            time.sleep(0.002)
    done.set()


def _committed(db: Path) -> int:
    """The last event a memory file has committed, read apart from its replicator's reader."""
    with MemoryStore(db, read_only=True) as store:
        return store.last_seq


@pytest.mark.timeout(240)
def test_robots_keep_mapping_through_an_outage_and_the_server_ends_with_every_event(
        postgres: Any, tmp_path: Path) -> None:
    """The server is down while each robot maps the middle third of its week, and for as long
    as it takes each replicator to fail 4 times (its retry backs off to `max_retry_s`)."""
    robots = {}
    for robot, seed in (('north', 1), ('south', 2)):
        week = synthetic_week(40, 2, seed)
        third = len(week.frames) // 3
        robots[robot] = {'db': tmp_path / f'{robot}.db', 'dsn': _robot(postgres, robot),
                         'frames': week.frames, 'done': threading.Event(),
                         'down': _Pause(threading.Event(), threading.Event()),
                         'up': _Pause(threading.Event(), threading.Event()), 'third': third}
    stop = threading.Event()
    replicators = {r: Replicator(v['db'], v['dsn'], r, batch_events=200, retry_s=0.5,
                                 max_retry_s=2.0) for r, v in robots.items()}

    def ship(replicator: Replicator) -> None:
        while not stop.is_set():
            if replicator.db.exists():
                replicator.sync()
            time.sleep(0.1)

    def caught_up() -> bool:
        return all(rep.stats.connected and rep.stats.acked_seq == _committed(rep.db)
                   for rep in replicators.values())

    threads = [threading.Thread(target=_writer, args=(
        v['db'], v['frames'], {v['third']: v['down'], 2 * v['third']: v['up']}, v['done']))
        for v in robots.values()]
    threads += [threading.Thread(target=ship, args=(r,)) for r in replicators.values()]
    for t in threads:
        t.start()
    try:
        assert _wait_for(lambda: all(v['down'].reached.is_set() for v in robots.values())
                         and caught_up(), 60)
        shipped_before = {r: rep.stats.acked_seq for r, rep in replicators.items()}
        failed_before = {r: rep.stats.failures for r, rep in replicators.items()}
        postgres.stop('immediate')
        for v in robots.values():
            v['down'].go.set()  # the robots go on mapping while the server is down
        assert _wait_for(lambda: all(
            v['up'].reached.is_set() and replicators[r].stats.failures >= failed_before[r] + 4
            and replicators[r].stats.local_seq == _committed(v['db'])
            for r, v in robots.items()), 60)
        for robot, rep in replicators.items():
            assert not rep.stats.connected and rep.stats.acked_seq == shipped_before[robot]
            assert rep.stats.backlog == _committed(rep.db) - shipped_before[robot] > 0
        postgres.start()
        for v in robots.values():
            v['up'].go.set()
        for v in robots.values():
            assert v['done'].wait(120)
        assert _wait_for(caught_up, 60)
    finally:
        stop.set()
        for v in robots.values():  # a failed wait above leaves no writer waiting
            v['down'].go.set()
            v['up'].go.set()
        for t in threads:
            t.join(60)
    for robot, v in robots.items():
        local, server = _local_rows(v['db']), _server_rows(postgres, robot)
        assert 0 < shipped_before[robot] < len(local)
        assert [s for s, _ in server] == [s for s, _ in local]  # 0 lost, 0 duplicated
        assert [b for _, b in server] == [b for _, b in local]
        with MemoryStore(v['db'], read_only=True) as store:
            assert _replayed(server) == store.load()
        replicators[robot].close()


_HOLD_KEY = 3300  # the advisory lock that holds a batch on the server


@contextlib.contextmanager
def _batches_held_after(postgres: Any, role: str, robot_id: str, events: int
                        ) -> Iterator[None]:
    """Once the server holds `events` of `robot_id`'s events, the next insert statement of
    `role` waits inside its batch's transaction until the block ends: a process shipping
    batches can then be killed mid-batch, at a known event."""
    with connect(postgres.dsn) as conn:
        conn.execute(f"""CREATE FUNCTION test_hold_batch() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF current_user = '{role}' AND (SELECT count(*) FROM events
                                              WHERE robot_id = '{robot_id}') >= {events} THEN
                PERFORM pg_advisory_xact_lock({_HOLD_KEY});
              END IF;
              RETURN NULL;
            END $$""")
        conn.execute('CREATE TRIGGER test_hold_batch BEFORE INSERT ON events '
                     'FOR EACH STATEMENT EXECUTE FUNCTION test_hold_batch()')
    holder = connect(postgres.dsn, autocommit=True)
    try:
        holder.execute('SELECT pg_advisory_lock(%s)', (_HOLD_KEY,))
        yield
    finally:
        holder.close()  # lets a held batch go: its killed client ends it (rolled back)
        with connect(postgres.dsn) as conn:
            conn.execute('DROP TRIGGER test_hold_batch ON events')
            conn.execute('DROP FUNCTION test_hold_batch()')


def _held_batches(postgres: Any, role: str) -> int:
    """How many of `role`'s sessions wait in a held batch."""
    with connect(postgres.dsn) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND "
                            "wait_event_type = 'Lock' AND wait_event = 'advisory'",
                            (role,)).fetchone()[0]


@pytest.mark.timeout(180)
def test_a_sync_killed_mid_batch_resumes_without_loss_or_duplicates(
        postgres: Any, tmp_path: Path) -> None:
    dsn = _robot(postgres, 'killed')
    db = _week_db(tmp_path / 'k.db', objects=120, days=3)
    total = len(_local_rows(db))
    command = [sys.executable, '-m', 'robot_memory.cli', 'fleet', 'sync', '--db', str(db),
               '--robot-id', 'killed', '--batch-events', '200', '--json']
    env = {**os.environ, 'ROBOT_MEMORY_FLEET_DSN': dsn}
    with _batches_held_after(postgres, 'robot_killed', 'killed', 400):
        process = subprocess.Popen([*command, '--follow', '--period-s', '0.05'], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # Two batches are in, the third is sent and held on the server: kill it there.
            held = _wait_for(lambda: _held_batches(postgres, 'robot_killed') == 1, 60)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(30)
        assert held, process.stderr.read()
        assert [s for s, _ in _server_rows(postgres, 'killed')] == list(range(1, 401))
    assert total > 600
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)['acked_seq'] == total
    server = _server_rows(postgres, 'killed')
    assert [s for s, _ in server] == list(range(1, total + 1))


# ------------------------------------------------------------------------ fleet view
def test_ask_fleet_answers_from_the_robot_that_saw_it(postgres: Any, tmp_path: Path,
                                                      two_room_graph: SceneGraph,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    dsns = {}
    for robot, label, xy, room in (('kitchenbot', 'kettle', (1.0, 1.0), 'room:kitchen'),
                                   ('studybot', 'stapler', (6.0, 1.0), 'room:study')):
        memory = EpisodicMemory()
        memory.set_layout(two_room_graph, MONDAY_S)
        memory.create_object('object:1', MONDAY_S + 9 * H, label,
                             {FactKey.POSITION: (*xy, 0.9), FactKey.ROOM: room})
        with MemoryStore(tmp_path / f'{robot}.db') as store:
            store.sync(memory)
        dsns[robot] = _robot(postgres, robot)
        main(['fleet', 'sync', '--db', str(tmp_path / f'{robot}.db'), '--dsn', dsns[robot],
              '--robot-id', robot, '--json'])
    capsys.readouterr()
    main(['ask', 'Where is the stapler?', '--fleet', dsns['kitchenbot'], '--json',
          '--no-embeddings'])
    reply = json.loads(capsys.readouterr().out)
    assert reply['answer'].startswith('The stapler is in the study')
    assert reply['evidence'][0]['robot'] == 'studybot'
    assert {'kitchenbot', 'studybot'} <= set(reply['robots'])
    view = FleetView(dsns['studybot'], 'studybot', tmp_path / 'studybot.db',
                     use_embeddings=False)
    view.refresh()
    assert view.ask('Where is the kettle?')['evidence'][0]['robot'] == 'kitchenbot'
    view.close()


def test_fleet_commands_take_the_dsn_from_the_environment(postgres: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    monkeypatch.setenv('ROBOT_MEMORY_FLEET_DSN', postgres.dsn)
    monkeypatch.setenv('ROBOT_MEMORY_ROBOT_PASSWORD', 'envrobot-secret-pw')
    main(['fleet', 'init'])
    main(['fleet', 'add-robot', 'envrobot'])
    assert 'robot envrobot: role robot_envrobot' in capsys.readouterr().out
    monkeypatch.setenv('ROBOT_MEMORY_FLEET_DSN',
                       postgres.dsn_for('robot_envrobot', 'envrobot-secret-pw'))
    db = _week_db(tmp_path / 'env.db', objects=5)
    main(['fleet', 'sync', '--db', str(db), '--robot-id', 'envrobot', '--json'])
    result = json.loads(capsys.readouterr().out)
    assert result['acked_seq'] == result['local_seq'] > 0 and result['backlog'] == 0


def test_a_refused_robot_keeps_its_own_memory_and_says_why(postgres: Any,
                                                           tmp_path: Path) -> None:
    from robot_memory.fleet.link import FleetLink

    dsn = _robot(postgres, 'refused')
    db = _week_db(tmp_path / 'refused.db', objects=5)
    link = FleetLink(db, dsn.replace('refused-secret-pw', 'a-wrong-password'), 'refused')
    link.step()  # no exception: the node that holds the link goes on mapping
    stats = link.stats()
    assert link.refusals == 1 and 'password authentication failed' in stats['error']
    assert stats['connected'] is False and stats['backlog'] > 0
    reply = link.handle({'id': 'q', 'question': 'Where is the mug?'})
    assert reply['scope'] == 'fleet' and reply['robots'] == ['refused']  # its own events
    link.close()

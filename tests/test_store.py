"""Tests of the SQLite store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from robot_memory.core import EpisodicMemory, FactKey, MemoryClock, MemoryStore, SceneGraph
from robot_memory.core.store import APPLICATION_ID, SCHEMA_VERSION
from robot_memory.exceptions import CorruptStoreError, StoreError
from tests.conftest import MONDAY_S


def _memory(graph: SceneGraph | None = None) -> EpisodicMemory:
    memory = EpisodicMemory()
    if graph is not None:
        memory.set_layout(graph, MONDAY_S)
    memory.create_object('object:mug', MONDAY_S + 100, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen'}, (1, 2), 'red')
    memory.set_fact('object:mug', MONDAY_S + 5000, FactKey.POSITION, (6.0, 1.0, 0.8), (9,))
    memory.seen('object:mug', MONDAY_S + 6000, (10,))
    return memory


def test_reopening_gives_the_same_memory(tmp_path: Path, two_room_graph: SceneGraph) -> None:
    memory = _memory(two_room_graph)
    with MemoryStore(tmp_path / 'robot.db') as store:
        store.sync(memory)
    with MemoryStore(tmp_path / 'robot.db') as store:
        again = store.load()
    assert again == memory
    assert again.layout_at(MONDAY_S).rooms == ['room:kitchen', 'room:study']


def test_a_snapshot_plus_later_events_replays_the_same(tmp_path: Path) -> None:
    memory = _memory()
    with MemoryStore(tmp_path / 'robot.db') as store:
        store.snapshot(memory)
        memory.set_fact('object:mug', MONDAY_S + 9000, FactKey.STATE, 'dirty')
        store.sync(memory)
    with MemoryStore(tmp_path / 'robot.db') as store:
        assert store.load() == memory


def test_settings_travel_with_the_file(tmp_path: Path) -> None:
    with MemoryStore(tmp_path / 'robot.db', clock=MemoryClock('Europe/Berlin'),
                     seen_resolution_s=10.0):
        pass
    with MemoryStore(tmp_path / 'robot.db') as store:
        memory = store.load()
    assert memory.clock.timezone == 'Europe/Berlin'
    assert memory.seen_resolution_s == 10.0


def test_the_file_is_marked_as_ours(tmp_path: Path) -> None:
    MemoryStore(tmp_path / 'robot.db').close()
    conn = sqlite3.connect(tmp_path / 'robot.db')
    assert conn.execute('PRAGMA application_id').fetchone()[0] == APPLICATION_ID
    assert conn.execute('PRAGMA user_version').fetchone()[0] == SCHEMA_VERSION
    assert conn.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'


def test_events_are_batched_until_the_commit_interval(tmp_path: Path) -> None:
    commits: list[int] = []
    store = MemoryStore(tmp_path / 'robot.db', commit_interval_s=3600.0,
                        on_commit=commits.append)
    memory = _memory()
    store.sync(memory)
    assert commits == []
    other = sqlite3.connect(tmp_path / 'robot.db')
    assert other.execute('SELECT COUNT(*) FROM events').fetchone()[0] == 0
    store.commit()
    assert commits == [store.last_seq]
    assert other.execute('SELECT COUNT(*) FROM events').fetchone()[0] == store.last_seq
    store.close()


def test_a_newer_schema_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / 'robot.db'
    MemoryStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute('PRAGMA user_version = 99')
    conn.close()
    with pytest.raises(CorruptStoreError, match=f'{path}: schema version 99 is not supported'):
        MemoryStore(path)


def test_a_malformed_event_row_is_reported_by_sequence(tmp_path: Path) -> None:
    path = tmp_path / 'robot.db'
    with MemoryStore(path) as store:
        store.sync(_memory())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE events SET body = '{\"kind\": \"teleport\"}' WHERE seq = 2")
    conn.commit()
    conn.close()
    with pytest.raises(CorruptStoreError, match=f'{path}: event 2 is malformed'):
        MemoryStore(path).load()


def test_a_missing_file_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match='no such memory file'):
        MemoryStore(tmp_path / 'nope.db', create=False)
    assert not (tmp_path / 'nope.db').exists()

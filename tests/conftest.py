"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from robot_memory.core import PlaceAttributes, RoomAttributes, SceneGraph

# Keep every DDS test on loopback; each multi-process test also picks its own domain id.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

MONDAY_S = 1793577600.0  # 2026-11-02T00:00:00Z


@pytest.fixture
def two_room_graph() -> SceneGraph:
    """A kitchen and a study side by side, one place each, joined by a door."""
    graph = SceneGraph('flat')
    graph.add_room('room:kitchen', RoomAttributes(
        'kitchen', 'kitchen', ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0))))
    graph.add_room('room:study', RoomAttributes(
        'study', 'study', ((4.0, 0.0), (8.0, 0.0), (8.0, 4.0), (4.0, 4.0))))
    graph.add_place('place:kitchen/0', PlaceAttributes('room:kitchen', (2.0, 2.0, 0.0)))
    graph.add_place('place:study/0', PlaceAttributes('room:study', (6.0, 2.0, 0.0)))
    graph.add_edge('adjacent', 'room:kitchen', 'room:study')
    graph.connect_places('place:kitchen/0', 'place:study/0')
    return graph


def cli_exit_code(argv: list[str]) -> int:
    """The command's exit status (`main` returns when a command succeeds)."""
    from robot_memory.cli import main

    try:
        main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)
    return 0


@contextmanager
def fresh_postgres() -> Iterator[Any]:
    """A throw-away PostgreSQL cluster with the fleet schema (skips without PostgreSQL)."""
    from robot_memory.fleet.local_server import LocalPostgres, PostgresUnavailableError
    from robot_memory.fleet.schema import init_server

    try:
        server = LocalPostgres().start()
    except PostgresUnavailableError as exc:
        pytest.skip(f'no PostgreSQL server programs: {exc}')
    try:
        init_server(server.dsn)
        yield server
    finally:
        server.close()


@pytest.fixture(scope='session')
def postgres() -> Iterator[Any]:
    """The cluster the fleet tests share."""
    with fresh_postgres() as server:
        yield server


class FleetDatabase:
    """A database of its own on the test server, with the fleet schema."""

    def __init__(self, server: Any, name: str) -> None:
        from robot_memory.fleet.schema import init_server

        self.server, self.name = server, name
        self.dsn = server.create_database(name)
        init_server(self.dsn)

    def dsn_for(self, user: str, password: str) -> str:
        """A role's DSN on this database."""
        return self.server.dsn_for(user, password, self.name)


_databases = iter(range(1, 10**6))


@pytest.fixture
def fleet_database(postgres: Any) -> FleetDatabase:
    """An empty fleet of its own (roles are shared by the server's databases)."""
    return FleetDatabase(postgres, f'fleet_test_{next(_databases)}')

"""A robot's link to the fleet (no rclpy): replication and the fleet view, off its own thread.

`memory_node` holds one when `fleet_dsn` is set. Every `period_s` the link ships the memory
file's new events (`Replicator`); nothing the node does waits for it. A server with the fleet
objects table (schema 3) answers fleet questions itself (`FleetQuestions`): the robot holds
only its own memory, and its own newest events count once shipped (within `period_s`). An
older server is read as before: the link pulls the other robots' events into a `FleetView`.
A server that is down is retried; a refused role is logged once
and counted, and retried only every `refused_retry_s` (a revoked robot goes on locally).
Questions with `"scope": "fleet"` are answered by the server, or from the fleet view with
this robot's newest committed events read from its own file first.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from robot_memory.exceptions import RobotMemoryError
from robot_memory.fleet.questions import FleetQuestions
from robot_memory.fleet.replicator import Replicator
from robot_memory.fleet.schema import FleetError
from robot_memory.fleet.view import FleetView

__all__ = ['DSN_ENV', 'FleetLink', 'fleet_dsn']

log = logging.getLogger(__name__)

DSN_ENV = 'ROBOT_MEMORY_FLEET_DSN'


def fleet_dsn(parameter: str) -> str:
    """The DSN from a parameter, else from the environment (never from a file of ours)."""
    return parameter or os.environ.get(DSN_ENV, '')


class FleetLink:
    """Replicates `db` as `robot_id` and keeps a fleet view, on a background thread."""

    def __init__(self, db: str | Path, dsn: str, robot_id: str, period_s: float = 1.0,
                 refused_retry_s: float = 60.0, use_embeddings: bool = True,
                 timezone: str = 'UTC') -> None:
        self.replicator = Replicator(db, dsn, robot_id)
        self.view = FleetView(dsn, robot_id, db, use_embeddings=use_embeddings,
                              timezone=timezone)
        self.questions = FleetQuestions(dsn, timezone, use_embeddings)
        self._server: dict[str, int] = {}
        self.period_s = period_s
        self.refused_retry_s = refused_retry_s
        self.refused = ''
        self.refusals = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='fleet_link', daemon=True)

    def start(self) -> FleetLink:
        """Start the background thread."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.refused_retry_s if self.refused else self.period_s)

    def step(self) -> None:
        """One round: ship, then pull."""
        try:
            self.replicator.sync()
            self.refused = ''
        except FleetError as exc:
            self.refusals += 1
            if str(exc) != self.refused:
                log.error('%s; this robot goes on with its own memory', exc)
            self.refused = str(exc)
        except RobotMemoryError as exc:
            self.errors += 1
            log.warning('fleet replication: %s', exc)
        if self.replicator.fleet_objects:  # the server answers: nothing to pull
            try:
                self._server = self.questions.summary()
            except RobotMemoryError as exc:
                self.errors += 1
                log.debug('fleet summary: %s', exc)
            return
        try:
            self.view.refresh()
        except RobotMemoryError as exc:
            self.errors += 1
            log.debug('fleet view: %s', exc)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer a request on the server, or from the fleet view (this robot's own events
        first brought in); a server that cannot answer is an error reply, never a raise."""
        if self.replicator.fleet_objects:
            try:
                return self.questions.handle(request)
            except RobotMemoryError as exc:
                self.errors += 1
                return {'id': request.get('id'), 'ok': False, 'scope': 'fleet',
                        'error': f'the fleet server could not answer: {exc}'}
        self.view.refresh_local()
        return self.view.handle(request)

    def stats(self) -> dict[str, Any]:
        """Replication and fleet view counters for diagnostics."""
        r = self.replicator.stats
        view = self.view.stats()
        if self.replicator.fleet_objects:  # the server's counts, as of the last round
            view |= self._server
        return {'connected': r.connected, 'acked_seq': r.acked_seq, 'backlog': r.backlog,
                'shipped': r.shipped, 'failures': r.failures, 'refusals': self.refusals,
                'error': self.refused or r.last_error, 'robots': view['robots'],
                'objects': view['objects'], 'refused_rows': r.refused,
                'quarantined': view['quarantined'], 'gaps': view['gaps'],
                'associated': view['associated'], 'view_rebuilds': view['rebuilds'],
                'server_questions': self.replicator.fleet_objects,
                'server_asked': self.questions.asked}

    def close(self) -> None:
        """Stop the thread; one last round ships what is left if the server is there."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30.0)
        try:
            self.replicator.sync()
        except RobotMemoryError as exc:
            log.debug('last fleet sync: %s', exc)
        self.replicator.close()
        self.view.close()
        self.questions.close()

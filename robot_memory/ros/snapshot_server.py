"""memory_node's snapshot services: `memory/get_objects` and `memory/get_changes`.

robot_memory_interfaces/srv/GetObjects and GetChanges (`ros/interfaces.py` imports them and
fills their responses; `MemoryService.objects_at` / `changes_between` decide what they hold).
A call is answered on memory_node's worker, which owns the memory: the async service callback
queues it with the node's `WorkScheduler` and awaits a future the worker completes; a guard
condition then wakes the executor to send the response at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.node import Node
from rclpy.task import Future

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.interfaces import (
    GET_CHANGES_SERVICE,
    GET_OBJECTS_SERVICE,
    MemoryInterfaces,
    changes_response,
    objects_response,
    time_s,
)
from robot_memory.ros.runtime import CallbackGuard
from robot_memory.ros.scheduler import WorkScheduler
from robot_memory.service import MemoryService

__all__ = ['SnapshotServer']


class SnapshotServer:
    """Serve GetObjects and GetChanges from `service`, on the worker `scheduler` runs.

    A refused request (`InvalidInputError`) is answered with success false and its reason, and
    counted by `guard` (`malformed.get_objects:<reason>`); any other error likewise, counted as
    `callback_errors.<service>:<type>`.
    """

    def __init__(self, node: Node, types: MemoryInterfaces, service: MemoryService,
                 scheduler: WorkScheduler, guard: CallbackGuard) -> None:
        self._types = types
        self._service = service
        self._scheduler = scheduler
        self._guard = guard
        self._wake = node.create_guard_condition(lambda: None)
        node.create_service(types.get_objects, GET_OBJECTS_SERVICE, self._on_get_objects)
        node.create_service(types.get_changes, GET_CHANGES_SERVICE, self._on_get_changes)

    async def _on_get_objects(self, request: Any, response: Any) -> Any:
        def fill() -> None:
            at_s, records = self._service.objects_at(time_s(request.at), request.room,
                                                     request.class_name)
            objects_response(response, self._types.object_state, at_s, records)

        return await self._on_worker('get_objects', fill, response)

    async def _on_get_changes(self, request: Any, response: Any) -> Any:
        def fill() -> None:
            records = self._service.changes_between(time_s(request.since),
                                                    time_s(request.until), request.room)
            changes_response(response, self._types.object_change, records)

        return await self._on_worker('get_changes', fill, response)

    async def _on_worker(self, name: str, fill: Callable[[], None], response: Any) -> Any:
        """Have the worker `fill` the response; an error is answered with success false."""
        done = Future()

        def call() -> None:
            def run(_: Any) -> None:
                try:
                    fill()
                except Exception as exc:
                    response.success = False
                    response.message = f'{exc}'[:500] if isinstance(exc, InvalidInputError) \
                        else f'{type(exc).__name__}: {exc}'[:500]
                    raise

            try:
                self._guard.call(name, run, None, None)
            finally:
                done.set_result(response)
                self._wake.trigger()

        self._scheduler.add_call(call)
        return await done

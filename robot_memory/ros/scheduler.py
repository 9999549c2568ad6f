"""The memory node's worker scheduler, without rclpy: what the executor hands over, in what
order the one worker thread takes it, and requests that wait for frames.

The executor threads only receive (see `memory_node`): they put paired frames, requests,
layouts and timer tasks into a `WorkScheduler`. The worker thread owns the memory and runs
`WorkScheduler.run`, which takes everything that arrived in one go and turns it into `Step`s,
in this order: every layout, every request, every service call (a snapshot), one frame, the
requests waiting for frames, then markers and diagnostics if their timers asked. Frames beyond
`max_frames` drop the oldest (counted as `ingest_queue_full`); frames wait while `may_ingest`
says no (no rooms yet). A step that raises is counted as `worker_errors` and the worker goes on
with the next one. On `stop()` the worker ends after the step in hand, then ingests the frames
still queued, so nothing already received is lost.

`DeferredRequests` holds a request with `wait_for_stamp_s` until memory has ingested a frame
that recent (within the pairing tolerance), or until its wait is over.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, NamedTuple

from robot_memory.bounded import loads
from robot_memory.core.protocol import REQUEST_MAX_BYTES, REQUEST_MAX_DEPTH
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import Frame
from robot_memory.exceptions import InvalidInputError

__all__ = ['TASKS', 'DeferredRequests', 'Step', 'WorkScheduler', 'caught_up', 'read_request']

# What a step can ask the worker to do, in the order a round does it.
TASKS = ('apply_layout', 'take_request', 'serve_call', 'ingest', 'serve_deferred',
         'publish_markers', 'publish_diagnostics')
TIMER_TASKS = ('markers', 'diagnostics')
DEFERRED_POLL_S = 0.05  # how often waiting requests are looked at while nothing arrives


class Step(NamedTuple):
    """One piece of work for the worker: a task of `TASKS` and its arguments."""

    task: str
    args: tuple[Any, ...] = ()


def caught_up(stamp: Any, last_frame_s: float | None, tolerance_s: float) -> bool:
    """Whether memory has a frame as recent as `stamp` (a stamp that is no number: yes)."""
    try:
        wanted = float(stamp)
    except (TypeError, ValueError, OverflowError):
        return True
    return last_frame_s is not None and last_frame_s >= wanted - tolerance_s


def read_request(data: str) -> Any:
    """A `memory/query` request: its JSON value, or the text itself when it is no JSON (the
    service answers that with a clear error).

    Parsed with `REQUEST_MAX_BYTES` and `REQUEST_MAX_DEPTH`; the executor refuses longer
    text before it is queued (`memory_node`), so what is too deep comes back as text here
    and the service's own bounded parse explains why.
    """
    try:
        return loads(data, 'request', max_bytes=REQUEST_MAX_BYTES, max_depth=REQUEST_MAX_DEPTH)
    except InvalidInputError:
        return data


class DeferredRequests:
    """Requests with `wait_for_stamp_s`, held until memory has caught up or they waited enough.

    Worker-owned: not thread-safe.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[float, dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self._waiting)

    def hold(self, request: Any, last_frame_s: float | None, tolerance_s: float,
             now_s: float, wait_max_s: float) -> bool:
        """Hold `request` if it waits for a frame memory has not got (until `now_s +
        wait_max_s` at most); whether it was held (if not: answer it now)."""
        if isinstance(request, dict) and request.get('wait_for_stamp_s') is not None \
                and not caught_up(request['wait_for_stamp_s'], last_frame_s, tolerance_s):
            self._waiting.append((now_s + wait_max_s, request))
            return True
        return False

    def serve(self, last_frame_s: float | None, tolerance_s: float, now_s: float,
              answer: Callable[[dict[str, Any], bool], None]) -> None:
        """Call `answer(request, late)` for each held request that memory has caught up with
        (late: False) or whose wait is over (late: True), in arrival order; keep the rest."""
        if not self._waiting:
            return
        waiting = []
        for deadline_s, request in self._waiting:
            if caught_up(request['wait_for_stamp_s'], last_frame_s, tolerance_s):
                answer(request, False)
            elif now_s >= deadline_s:
                answer(request, True)
            else:
                waiting.append((deadline_s, request))
        self._waiting = waiting


class WorkScheduler:
    """What the executor hands the worker, and the worker's loop over it.

    `cond` guards the queues and `counts`; it is reentrant, so a receiver may hold it around
    its own bookkeeping and the `add_*` calls. `deferred` belongs to the worker.
    """

    def __init__(self, max_frames: int) -> None:
        self.cond = threading.Condition()
        self.counts: Counter[str] = Counter()
        self.deferred = DeferredRequests()
        self._max_frames = max_frames
        self._frames: deque[Frame] = deque()
        self._requests: deque[str] = deque()
        self._calls: deque[Callable[[], None]] = deque()
        self._layouts: deque[tuple[float | None, SceneGraph, str]] = deque()
        self._due: set[str] = set()
        self._stopping = False

    # --------------------------------------------------------- executor side
    def count(self, key: str) -> None:
        """Count one `key` (an error, a malformed message)."""
        with self.cond:
            self.counts[key] += 1

    def queued(self) -> int:
        """Frames waiting for ingestion."""
        with self.cond:
            return len(self._frames)

    def add_frames(self, frames: list[Frame]) -> None:
        """Queue frames for ingestion, dropping the oldest beyond `max_frames`."""
        with self.cond:
            for frame in frames:
                if len(self._frames) >= self._max_frames:
                    self._frames.popleft()
                    self.counts['ingest_queue_full'] += 1
                self._frames.append(frame)
            if frames:
                self.cond.notify()

    def add_request(self, data: str) -> None:
        """Queue a `memory/query` request (JSON text)."""
        with self.cond:
            self._requests.append(data)
            self.cond.notify()

    def add_call(self, call: Callable[[], None]) -> None:
        """Queue a service call to run on the worker (it owns the memory)."""
        with self.cond:
            self._calls.append(call)
            self.cond.notify()

    def add_layout(self, stamp_s: float | None, layout: SceneGraph, world_id: str = '') -> None:
        """Queue a layout (rooms and places), its stamp and its world, where they are known."""
        with self.cond:
            self._layouts.append((stamp_s, layout, world_id))
            self.cond.notify()

    def request_task(self, task: str) -> None:
        """Ask for markers or diagnostics (`TIMER_TASKS`) in the next round."""
        with self.cond:
            self._due.add(task)
            self.cond.notify()

    def stop(self) -> None:
        """Make the worker end after the step in hand, then drain the frames queued."""
        with self.cond:
            self._stopping = True
            self.cond.notify()

    # ----------------------------------------------------------- worker side
    def next_steps(self, may_ingest: Callable[[], bool]) -> list[Step] | None:
        """Wait for work, then the steps of one round; None once stopped.

        While requests are held, a round comes at least every `DEFERRED_POLL_S`, to answer
        those whose wait is over.
        """
        poll_s = DEFERRED_POLL_S if self.deferred else None
        with self.cond:
            while not (self._stopping or self._layouts or self._requests or self._calls
                       or self._due or (self._frames and may_ingest())):
                self.cond.wait(timeout=poll_s)
                if poll_s is not None:
                    break
            if self._stopping:
                return None
            layouts = list(self._layouts)
            self._layouts.clear()
            requests = list(self._requests)
            self._requests.clear()
            calls = list(self._calls)
            self._calls.clear()
            due, self._due = self._due, set()
            frame = self._frames.popleft() if self._frames and may_ingest() else None
        steps = [*(Step('apply_layout', (layout, stamp_s, world_id))
                   for stamp_s, layout, world_id in layouts),
                 *(Step('take_request', (request,)) for request in requests),
                 *(Step('serve_call', (call,)) for call in calls)]
        if frame is not None:
            steps.append(Step('ingest', (frame,)))
        steps.append(Step('serve_deferred'))
        steps += [Step(f'publish_{task}') for task in TIMER_TASKS if task in due]
        return steps

    def drain(self, may_ingest: Callable[[], bool]) -> list[Frame]:
        """Empty the frame queue: the frames to ingest (none while `may_ingest` says no)."""
        with self.cond:
            frames = list(self._frames) if may_ingest() else []
            self._frames.clear()
        return frames

    def run(self, may_ingest: Callable[[], bool], execute: Callable[[Step], None],
            on_error: Callable[[Step, Exception], bool]) -> None:
        """The worker thread: execute rounds of steps until `stop()`, then the drained frames.

        A step that raises is handed to `on_error`, and counted under `worker_errors` when
        that returns True (False: an error to ignore, e.g. while shutting down); the round
        goes on with the next step.
        """
        while (steps := self.next_steps(may_ingest)) is not None:
            for step in steps:
                try:
                    execute(step)
                except Exception as exc:  # the worker must outlive any single bad input
                    if on_error(step, exc):
                        self.count('worker_errors')
        for frame in self.drain(may_ingest):
            execute(Step('ingest', (frame,)))

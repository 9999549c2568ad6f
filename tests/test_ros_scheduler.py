"""Tests of memory_node's worker scheduler (pure Python: no rclpy, no messages)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.ros.scheduler import (
    DeferredRequests,
    Step,
    WorkScheduler,
    caught_up,
    read_request,
)


def _yes() -> bool:
    return True


def _no() -> bool:
    return False


def _tasks(steps: list[Step] | None) -> list[str]:
    assert steps is not None
    return [step.task for step in steps]


def test_module_does_not_import_rclpy() -> None:
    code = ('import sys; import robot_memory.ros.scheduler; '
            'sys.exit(1 if "rclpy" in sys.modules else 0)')
    assert subprocess.run([sys.executable, '-c', code], check=False).returncode == 0


def test_a_round_takes_layouts_then_requests_then_one_frame_then_timer_tasks() -> None:
    scheduler = WorkScheduler(max_frames=10)
    first, second = SceneGraph(), SceneGraph()
    scheduler.add_frames(['f1', 'f2'])  # type: ignore[list-item]
    scheduler.request_task('diagnostics')
    scheduler.add_request('{"id": 1}')
    scheduler.request_task('markers')
    scheduler.add_layout(5.0, first)
    scheduler.add_request('{"id": 2}')
    scheduler.add_layout(None, second, 'builtin:house:3')
    steps = scheduler.next_steps(_yes)
    assert steps == [Step('apply_layout', (first, 5.0, '')),
                     Step('apply_layout', (second, None, 'builtin:house:3')),
                     Step('take_request', ('{"id": 1}',)), Step('take_request', ('{"id": 2}',)),
                     Step('ingest', ('f1',)), Step('serve_deferred'), Step('publish_markers'),
                     Step('publish_diagnostics')]
    # the next round: the next frame only; timer tasks come again when their timers ask
    assert scheduler.next_steps(_yes) == [Step('ingest', ('f2',)), Step('serve_deferred')]
    assert scheduler.queued() == 0


def test_a_full_frame_queue_drops_the_oldest_and_counts_it() -> None:
    scheduler = WorkScheduler(max_frames=2)
    scheduler.add_frames(['a', 'b', 'c'])  # type: ignore[list-item]
    scheduler.add_frames(['d'])  # type: ignore[list-item]
    assert scheduler.counts['ingest_queue_full'] == 2
    assert scheduler.drain(_yes) == ['c', 'd']


def test_frames_wait_while_ingestion_may_not_start() -> None:
    scheduler = WorkScheduler(max_frames=10)
    scheduler.add_frames(['f'])  # type: ignore[list-item]
    scheduler.add_request('{}')
    assert _tasks(scheduler.next_steps(_no)) == ['take_request', 'serve_deferred']
    assert scheduler.queued() == 1
    assert _tasks(scheduler.next_steps(_yes)) == ['ingest', 'serve_deferred']


def _in_thread(scheduler: WorkScheduler, may_ingest: Any = _yes) -> tuple[threading.Thread,
                                                                           list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(scheduler.next_steps(may_ingest)),
                              daemon=True)
    thread.start()
    return thread, got


def test_the_worker_sleeps_until_work_arrives() -> None:
    scheduler = WorkScheduler(max_frames=10)
    scheduler.add_frames(['f'])  # type: ignore[list-item]
    thread, got = _in_thread(scheduler, _no)  # a frame it may not ingest is no work
    thread.join(timeout=0.2)
    assert thread.is_alive() and not got
    scheduler.add_request('{}')
    thread.join(timeout=5.0)
    assert _tasks(got[0]) == ['take_request', 'serve_deferred']


def test_held_requests_wake_the_worker_to_look_at_them_again() -> None:
    scheduler = WorkScheduler(max_frames=10)
    assert scheduler.deferred.hold({'wait_for_stamp_s': 10.0}, None, 0.02, 0.0, 5.0)
    # Nothing else will ever arrive: the worker wakes for the held request on its own (a
    # worker that only waited for new work would block here until the test's timeout).
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(scheduler.next_steps(_yes)),
                              daemon=True)
    thread.start()
    thread.join(timeout=60.0)
    assert got == [[Step('serve_deferred')]]


def test_stop_ends_the_rounds_and_the_queued_frames_are_drained() -> None:
    scheduler = WorkScheduler(max_frames=10)
    scheduler.add_frames(['a', 'b'])  # type: ignore[list-item]
    scheduler.add_request('{}')
    scheduler.stop()
    assert scheduler.next_steps(_yes) is None
    assert scheduler.drain(_no) == []  # frames that may not be ingested are let go
    assert scheduler.queued() == 0


def test_run_executes_every_round_and_then_the_drained_frames() -> None:
    scheduler = WorkScheduler(max_frames=10)
    executed: list[Step] = []

    def execute(step: Step) -> None:
        executed.append(step)
        if step.task == 'take_request':
            scheduler.add_frames(['late1', 'late2'])  # type: ignore[list-item]
            scheduler.stop()

    scheduler.add_frames(['f'])  # type: ignore[list-item]
    scheduler.add_request('{}')
    worker = threading.Thread(target=scheduler.run, args=(_yes, execute, lambda s, e: True))
    worker.start()
    worker.join(timeout=10.0)
    assert not worker.is_alive()
    assert executed == [Step('take_request', ('{}',)), Step('ingest', ('f',)),
                        Step('serve_deferred'), Step('ingest', ('late1',)),
                        Step('ingest', ('late2',))]


def test_a_failing_step_is_counted_and_the_round_goes_on() -> None:
    scheduler = WorkScheduler(max_frames=10)
    executed: list[str] = []
    errors: list[tuple[str, str]] = []

    def execute(step: Step) -> None:
        executed.append(step.task)
        if step.task in ('apply_layout', 'publish_markers'):
            raise ValueError(step.task)
        if step.task == 'publish_diagnostics':
            scheduler.stop()

    def on_error(step: Step, exc: Exception) -> bool:
        errors.append((step.task, str(exc)))
        return step.task != 'publish_markers'  # an error to ignore is not counted

    scheduler.add_layout(None, SceneGraph())
    scheduler.add_frames(['f'])  # type: ignore[list-item]
    scheduler.request_task('markers')
    scheduler.request_task('diagnostics')
    scheduler.run(_yes, execute, on_error)
    assert executed == ['apply_layout', 'ingest', 'serve_deferred', 'publish_markers',
                        'publish_diagnostics']
    assert errors == [('apply_layout', 'apply_layout'), ('publish_markers', 'publish_markers')]
    assert scheduler.counts['worker_errors'] == 1


@pytest.mark.parametrize(('stamp', 'last_frame_s', 'expected'), [
    (10.0, None, False),        # nothing ingested yet
    (10.0, 9.97, False),        # older than the stamp by more than the tolerance
    (10.0, 9.98, True),         # within the tolerance
    (10.0, 11.0, True),
    ('10.0', 10.0, True),       # a number as text
    ('soon', None, True),       # no number: nothing to wait for
    ([10.0], None, True),
])
def test_caught_up_compares_the_last_frame_with_the_stamp(stamp: Any, last_frame_s: Any,
                                                          expected: bool) -> None:
    assert caught_up(stamp, last_frame_s, 0.02) is expected


@pytest.mark.parametrize(('data', 'expected'), [
    ('{"id": 3, "question": "mug?"}', {'id': 3, 'question': 'mug?'}),
    ('where is the mug', 'where is the mug'),  # no JSON: the service says so
    ('null', None),
    ('[1, 2]', [1, 2]),
])
def test_parse_request_gives_the_json_value_or_the_text(data: str, expected: Any) -> None:
    assert read_request(data) == expected


def test_only_requests_waiting_for_a_newer_frame_are_held() -> None:
    deferred = DeferredRequests()
    for request in ({'id': 1}, {'id': 2, 'wait_for_stamp_s': None}, 'text', None, [1],
                    {'id': 3, 'wait_for_stamp_s': 9.0}):
        assert not deferred.hold(request, 9.0, 0.02, 0.0, 5.0), request
    assert deferred.hold({'id': 4, 'wait_for_stamp_s': 10.0}, 9.0, 0.02, 0.0, 5.0)
    assert len(deferred) == 1


def test_held_requests_are_answered_when_caught_up_or_late_in_arrival_order() -> None:
    deferred = DeferredRequests()
    for i, (stamp_s, now_s) in enumerate([(12.0, 0.0), (10.0, 1.0), (30.0, 2.0),
                                          (11.0, 3.0)]):
        assert deferred.hold({'id': i, 'wait_for_stamp_s': stamp_s}, None, 0.02, now_s, 5.0)
    answered: list[tuple[int, bool]] = []

    def answer(request: dict[str, Any], late: bool) -> None:
        answered.append((request['id'], late))

    deferred.serve(None, 0.02, 4.9, answer)
    assert answered == [] and len(deferred) == 4
    deferred.serve(11.0, 0.02, 5.0, answer)  # id 0 waited 5 s; ids 1, 3 are caught up
    assert answered == [(0, True), (1, False), (3, False)]
    deferred.serve(11.0, 0.02, 7.0, answer)
    assert answered[3:] == [(2, True)] and len(deferred) == 0
    deferred.serve(11.0, 0.02, 8.0, answer)
    assert len(answered) == 4


def test_a_request_held_with_a_live_tolerance_uses_the_tolerance_of_the_moment() -> None:
    deferred = DeferredRequests()
    request = {'id': 'r', 'wait_for_stamp_s': 10.0}
    assert deferred.hold(json.loads(json.dumps(request)), 9.9, 0.02, 0.0, 5.0)
    answered: list[bool] = []
    deferred.serve(9.9, 0.2, 1.0, lambda req, late: answered.append(late))
    assert answered == [False]

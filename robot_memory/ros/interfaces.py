"""robot_memory_interfaces on both sides: planner_node's `Ask` action, memory_node's services.

The package is the project's own (`interfaces/robot_memory_interfaces`, built by
`scripts/build_interfaces.sh` or colcon) and imported only here and only when asked for
(`ask_action_type`, `memory_service_types`): where it is not built, the nodes log one line and
keep to the JSON topics. What a goal may hold, what feedback and results say and what the
snapshots hold is decided in `robot_memory.core.ask` and `robot_memory.core.snapshots`; this
module moves messages.

As with `ros/nav2.py`, rclpy runs an action's goal, cancel and execute callbacks outside the
node's callback group, so none of them changes node state: a checked goal is queued, and
planner_node's timer takes it (`AskServer.take`), sends feedback and ends it (`AskJob.end`),
which completes the future the execute task awaits.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple

from builtin_interfaces.msg import Time
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.node import Node
from rclpy.task import Future

from robot_memory.core.ask import AskFeedback, AskGoal, AskResult, ask_goal
from robot_memory.core.snapshots import ChangeRecord, ObjectRecord
from robot_memory.ros.runtime import CallbackGuard

__all__ = ['ASK_ACTION', 'GET_CHANGES_SERVICE', 'GET_OBJECTS_SERVICE', 'MISSING', 'AskJob',
           'AskServer', 'MemoryInterfaces',
           'ask_action_type', 'changes_response', 'memory_service_types', 'objects_response',
           'time_msg', 'time_s']

ASK_ACTION = 'ask'
GET_OBJECTS_SERVICE = 'memory/get_objects'
GET_CHANGES_SERVICE = 'memory/get_changes'
MISSING = ('robot_memory_interfaces is not built (bash scripts/build_interfaces.sh, or colcon '
           'build)')


def ask_action_type() -> type | None:
    """robot_memory_interfaces/action/Ask, or None where the package is not built."""
    try:
        from robot_memory_interfaces.action import Ask
    except ImportError:
        return None
    return Ask


class MemoryInterfaces(NamedTuple):
    """The Memory service family and the messages its responses hold."""

    get_objects: Any
    get_changes: Any
    object_state: Any
    object_change: Any


def memory_service_types() -> MemoryInterfaces | None:
    """GetObjects, GetChanges and their messages, or None where the package is not built."""
    try:
        from robot_memory_interfaces.msg import ObjectChange, ObjectState
        from robot_memory_interfaces.srv import GetChanges, GetObjects
    except ImportError:
        return None
    return MemoryInterfaces(GetObjects, GetChanges, ObjectState, ObjectChange)


def time_s(msg: Any) -> float:
    """builtin_interfaces/Time → seconds."""
    return float(msg.sec) + float(msg.nanosec) * 1e-9


def time_msg(seconds: float) -> Time:
    """Seconds (≥ 0, finite) → builtin_interfaces/Time (int32 seconds, clamped)."""
    seconds = min(max(seconds, 0.0), 2.0**31 - 1)
    sec = int(seconds)
    return Time(sec=sec, nanosec=min(int((seconds - sec) * 1e9), 999_999_999))


def _point(msg: Any, xyz: Sequence[float]) -> Any:
    msg.x, msg.y, msg.z = (float(v) for v in xyz)
    return msg


def objects_response(response: Any, object_type: Any, at_s: float,
                     records: Sequence[ObjectRecord]) -> Any:
    """Fill a GetObjects response with the snapshot at `at_s`."""
    response.success = True
    response.at = time_msg(at_s)
    out = []
    for r in records:
        m = object_type(id=r.object_id, class_name=r.class_name, room=r.room,
                        support=r.support, state=r.state, color=r.color,
                        since=time_msg(r.since_s), last_seen=time_msg(r.last_seen_s),
                        p_still_there=r.p_still_there, evidence_ids=list(r.evidence_ids))
        _point(m.position, r.position_m)
        out.append(m)
    response.objects = out
    return response


def changes_response(response: Any, change_type: Any, records: Sequence[ChangeRecord]) -> Any:
    """Fill a GetChanges response."""
    response.success = True
    out = []
    for r in records:
        m = change_type(kind=r.kind.code, object_id=r.object_id, class_name=r.class_name,
                        room_before=r.room_before, room_after=r.room_after,
                        state_before=r.state_before, state_after=r.state_after)
        _point(m.position_before, r.position_before_m)
        _point(m.position_after, r.position_after_m)
        out.append(m)
    response.changes = out
    return response


def goal_of(msg: Any) -> AskGoal:
    """An Ask goal message → the checked goal (raises `InvalidInputError`)."""
    return ask_goal(msg.question, time_s(msg.at), msg.scope, int(msg.max_looks),
                    float(msg.max_distance_m))


class AskJob:
    """One accepted Ask goal; ends exactly once."""

    def __init__(self, handle: Any, action_type: Any) -> None:
        self.handle = handle
        self.done = Future()
        self._type = action_type
        self.question_id = ''

    @property
    def goal(self) -> AskGoal:
        """The goal, checked (it was checked before it was accepted)."""
        return goal_of(self.handle.request)

    @property
    def cancel_requested(self) -> bool:
        """Whether the client asked to cancel it."""
        return bool(self.handle.is_cancel_requested)

    def feedback(self, fb: AskFeedback) -> None:
        """Publish where the question stands."""
        msg = self._type.Feedback(phase=fb.phase, places_looked=list(fb.places_looked),
                                  belief=fb.belief, confidence=fb.confidence,
                                  next_place=fb.next_place)
        with contextlib.suppress(RuntimeError):  # the server is going with its node
            self.handle.publish_feedback(msg)

    def end(self, result: AskResult) -> None:
        """Succeed (answered), cancel (canceled) or abort (no answer) with `result`."""
        if self.done.done():
            return
        how = 'canceled' if result.canceled and self.cancel_requested else \
            'succeed' if result.ok else 'abort'
        with contextlib.suppress(RuntimeError):
            getattr(self.handle, how)()
        self.done.set_result(self._type.Result(
            answer=result.answer, value_json=result.value_json, confidence=result.confidence,
            evidence_ids=list(result.evidence_ids),
            evidence_object_ids=list(result.evidence_object_ids),
            stop_reason=result.stop_reason, places_looked=list(result.places_looked),
            needs_verification=result.needs_verification))


class AskServer:
    """planner_node's side: goals checked (`goal_of`; a bad one rejected and counted by the
    guard as `malformed.ask:<reason>`) and queued; every cancel request is accepted."""

    def __init__(self, node: Node, action_type: Any, guard: CallbackGuard) -> None:
        self._type = action_type
        self._guard = guard
        self._inbox: deque[AskJob] = deque()
        self._server = ActionServer(node, action_type, ASK_ACTION,
                                    execute_callback=self._execute,
                                    goal_callback=self._on_goal_request,
                                    cancel_callback=self._on_cancel_request)

    def take(self) -> AskJob | None:
        """The oldest accepted goal not yet taken by the node."""
        return self._inbox.popleft() if self._inbox else None

    def _on_goal_request(self, goal: Any) -> GoalResponse:
        checked: list[AskGoal] = []
        self._guard.call(ASK_ACTION, lambda msg: checked.append(goal_of(msg)), None, goal)
        return GoalResponse.ACCEPT if checked else GoalResponse.REJECT

    def _on_cancel_request(self, handle: Any) -> CancelResponse:
        return CancelResponse.ACCEPT

    async def _execute(self, handle: Any) -> Any:
        job = AskJob(handle, self._type)
        self._inbox.append(job)
        return await job.done

    def destroy(self) -> None:
        """Destroy the action server."""
        self._server.destroy()

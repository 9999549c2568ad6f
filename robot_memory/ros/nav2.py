"""Nav2's `NavigateToPose` action on both sides: planner_node's client, the bridge's server.

nav2_msgs is imported only here and only when asked for (`navigate_to_pose_type`): without it
both nodes log one line and keep to `goal_pose`. What an answer means is decided in
`robot_memory.core.drive`; this module moves messages.

rclpy runs an action's goal, cancel and execute callbacks, and every future's done-callbacks,
as executor tasks outside the node's callback group, so in bringup's multi-threaded executor
they would race the node's own callbacks. Neither side changes node state there: the client's
futures are polled from planner_node's timer (`NavClient.poll`), and the server only checks a
goal and queues it; the bridge's frame timer takes it (`NavServer.take`) and completes the
future the execute task awaits. (An execute task awaiting a future does not busy-spin the
executor: measured here, 111 spins in 4 s at a 10 Hz timer, 0.08 s of CPU.)
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import Counter, deque
from typing import Any

from action_msgs.msg import GoalStatus
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.node import Node
from rclpy.task import Future

from robot_memory.core.drive import (
    DriveEnd,
    DriveProgress,
    DriveStatus,
    drive_end,
    drive_progress,
)
from robot_memory.ros.conversions import stamp_s
from robot_memory.ros.runtime import CallbackGuard

__all__ = ['NAV_ACTION', 'NavClient', 'NavGoal', 'NavServer', 'duration_msg', 'duration_s',
           'navigate_to_pose_type', 'status_of']

NAV_ACTION = 'navigate_to_pose'
"""The action name Nav2's bt_navigator serves (relative: namespaces and remapping apply)."""

_STATUSES = {GoalStatus.STATUS_SUCCEEDED: DriveStatus.SUCCEEDED,
             GoalStatus.STATUS_ABORTED: DriveStatus.ABORTED,
             GoalStatus.STATUS_CANCELED: DriveStatus.CANCELED}


def navigate_to_pose_type() -> type | None:
    """nav2_msgs/action/NavigateToPose, or None where nav2_msgs is not installed."""
    try:
        from nav2_msgs.action import NavigateToPose
    except ImportError:
        return None
    return NavigateToPose


def status_of(code: int) -> DriveStatus:
    """action_msgs/GoalStatus code of a finished goal → its name."""
    return _STATUSES.get(int(code), DriveStatus.UNKNOWN)


def duration_s(msg: Any) -> float:
    """builtin_interfaces/Duration → seconds."""
    return float(msg.sec) + float(msg.nanosec) * 1e-9


def duration_msg(seconds: float) -> Duration:
    """Seconds (≥ 0; NaN as 0) → builtin_interfaces/Duration."""
    seconds = max(seconds, 0.0) if math.isfinite(seconds) else 0.0
    sec = min(int(seconds), 2**31 - 1)
    return Duration(sec=sec, nanosec=min(int((seconds - sec) * 1e9), 999_999_999))


class NavClient:
    """planner_node's side: one drive at a time; its answers are read by `poll`.

    `go` sends a goal at once when a server is ready, else holds it until one is (a goal sent
    before discovery matched would wait for nothing). `cancel` gives the drive up: the server
    is asked to cancel, and a goal still unanswered is canceled once it is accepted.
    Counts (into the node's counter): `nav.sent`, `nav.held_for_a_server`, `nav.accepted`,
    `nav.feedback`, `nav.cancel_sent`; the end of a drive is counted by the caller.
    """

    def __init__(self, node: Node, action_type: Any, guard: CallbackGuard,
                 counts: Counter[str]) -> None:
        self._type = action_type
        self._client = ActionClient(node, action_type, NAV_ACTION)
        self._guard = guard
        self._counts = counts
        self._drive = 0  # id of the drive in flight; feedback of others is stale
        self._held: PoseStamped | None = None
        self._sending: Future | None = None
        self._handle: Any = None
        self._result: Future | None = None
        self._orphans: list[Future] = []  # goals given up before the server answered
        self.progress: DriveProgress | None = None
        self.progress_stamp_s: float | None = None  # stamp of the latest feedback's pose

    @property
    def busy(self) -> bool:
        """Whether a drive is held, sent or under way."""
        return any(x is not None for x in (self._held, self._sending, self._result))

    def go(self, pose: PoseStamped) -> bool:
        """Start a drive to `pose` (the previous one must be over or canceled); sent now?"""
        self._clear()
        self._drive += 1
        self._held = pose
        if self._send_held():
            return True
        self._counts['nav.held_for_a_server'] += 1
        return False

    def cancel(self) -> None:
        """Give the drive up: the server is asked to cancel it; its answers are ignored."""
        if self._handle is not None and self._result is not None and not self._result.done():
            self._handle.cancel_goal_async()
            self._counts['nav.cancel_sent'] += 1
        if self._sending is not None:
            self._orphans.append(self._sending)
        self._clear()

    def poll(self) -> DriveEnd | None:
        """Send a held goal once a server is there, read answers; the drive's end, if over."""
        for future in [f for f in self._orphans if f.done()]:
            self._orphans.remove(future)
            handle = future.result() if future.exception() is None else None
            if handle is not None and handle.accepted:
                handle.cancel_goal_async()
                self._counts['nav.cancel_sent'] += 1
        self._send_held()
        if self._sending is not None and self._sending.done():
            future, self._sending = self._sending, None
            error = future.exception()
            handle = future.result() if error is None else None
            if handle is None or not handle.accepted:
                self._clear()
                return drive_end(DriveStatus.REJECTED, 0, str(error or ''))
            self._counts['nav.accepted'] += 1
            self._handle = handle
            self._result = handle.get_result_async()
        if self._result is not None and self._result.done():
            future = self._result
            self._clear()
            error = future.exception()
            if error is not None:
                return drive_end(DriveStatus.UNKNOWN, 0, str(error))
            response = future.result()
            return drive_end(status_of(response.status), response.result.error_code,
                             response.result.error_msg)
        return None

    def _send_held(self) -> bool:
        if self._held is None or not self._client.server_is_ready():
            return False
        goal = self._type.Goal()
        goal.pose, self._held = self._held, None
        feedback = self._guard.wrap('navigate_to_pose',
                                    functools.partial(self._on_feedback, self._drive))
        self._sending = self._client.send_goal_async(goal, feedback_callback=feedback)
        self._counts['nav.sent'] += 1
        return True

    def _on_feedback(self, drive: int, msg: Any) -> None:
        if drive != self._drive or (self._sending is None and self._result is None):
            return  # a drive given up or over
        fb = msg.feedback
        progress = drive_progress(fb.distance_remaining, duration_s(fb.navigation_time),
                                  fb.number_of_recoveries)
        self.progress_stamp_s = stamp_s(fb.current_pose.header.stamp)
        self.progress = progress
        self._counts['nav.feedback'] += 1

    def _clear(self) -> None:
        self._held = self._sending = self._handle = self._result = None
        self.progress = self.progress_stamp_s = None


class NavGoal:
    """One accepted NavigateToPose goal as the bridge drives it; ends exactly once."""

    def __init__(self, handle: Any, action_type: Any) -> None:
        self.handle = handle
        self.done = Future()
        self._type = action_type
        self.place: str | None = None
        self.start_s = 0.0
        self.trip_end_s = 0.0
        self.waypoints: list[tuple[float, float]] = []

    @property
    def pose(self) -> PoseStamped:
        """The goal pose asked for."""
        return self.handle.request.pose

    @property
    def cancel_requested(self) -> bool:
        """Whether the client asked to cancel it."""
        return bool(self.handle.is_cancel_requested)

    def feedback(self, current: PoseStamped, distance_m: float, navigation_time_s: float,
                 remaining_s: float) -> None:
        """Publish where the robot is and what is left."""
        fb = self._type.Feedback()
        fb.current_pose = current
        fb.distance_remaining = float(distance_m)
        fb.navigation_time = duration_msg(navigation_time_s)
        fb.estimated_time_remaining = duration_msg(remaining_s)
        self.handle.publish_feedback(fb)

    def succeed(self) -> None:
        """The robot is there (and has looked around)."""
        self._end('succeed', 0, '')

    def abort(self, error_code: int, error_msg: str) -> None:
        """The robot cannot get there."""
        self._end('abort', error_code, error_msg)

    def canceled(self) -> None:
        """Stopped at the client's request."""
        self._end('canceled', 0, 'canceled by the client')

    def _end(self, how: str, error_code: int, error_msg: str) -> None:
        if self.done.done():
            return
        # rclpy's RCLError (a RuntimeError): the server is being destroyed with the node.
        with contextlib.suppress(RuntimeError):
            getattr(self.handle, how)()
        self.done.set_result(self._type.Result(error_code=int(error_code),
                                               error_msg=error_msg[:500]))


class NavServer:
    """sim_bridge_node's side: goals checked by `check` (raises to reject) and queued.

    A goal `check` refuses (NaN, another frame) is rejected and counted by the guard as
    `malformed.navigate_to_pose:<reason>`; every cancel request is accepted.
    """

    def __init__(self, node: Node, action_type: Any, guard: CallbackGuard,
                 check: Any) -> None:
        self._type = action_type
        self._guard = guard
        self._check = check
        self._inbox: deque[NavGoal] = deque()
        self._server = ActionServer(node, action_type, NAV_ACTION,
                                    execute_callback=self._execute,
                                    goal_callback=self._on_goal_request,
                                    cancel_callback=self._on_cancel_request)

    def take(self) -> NavGoal | None:
        """The oldest accepted goal not yet taken by the node."""
        return self._inbox.popleft() if self._inbox else None

    def _on_goal_request(self, goal: Any) -> GoalResponse:
        checked: list[bool] = []

        def check(msg: Any) -> None:
            self._check(msg.pose)
            checked.append(True)

        self._guard.call('navigate_to_pose', check, None, goal)
        return GoalResponse.ACCEPT if checked else GoalResponse.REJECT

    def _on_cancel_request(self, handle: Any) -> CancelResponse:
        return CancelResponse.ACCEPT

    async def _execute(self, handle: Any) -> Any:
        goal = NavGoal(handle, self._type)
        self._inbox.append(goal)
        return await goal.done

    def destroy(self) -> None:
        """Destroy the action server."""
        self._server.destroy()

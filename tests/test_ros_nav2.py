"""Nav2's NavigateToPose over real DDS: sim_bridge_node serves it, planner_node drives by it.

Each graph runs in processes of its own on a ROS_DOMAIN_ID of its own (from the pid and a
counter), stopped with SIGINT; every wait is for an event, with a hard timeout. The test
process is a third party on the graph: it sends goals of its own (an operator's, as from
RViz) and watches the action's status and feedback topics.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('rclpy', reason='rclpy is not installed')
pytest.importorskip('open3d', reason='the built-in simulator needs open3d')

import rclpy
from action_msgs.msg import GoalStatus, GoalStatusArray
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.action import ActionServer
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import String

from robot_memory.core.drive import GOAL_OUTSIDE_MAP, DriveStatus
from robot_memory.exceptions import InvalidInputError
from robot_memory.ros import qos
from robot_memory.ros.nav2 import (
    NAV_ACTION,
    NavClient,
    duration_msg,
    duration_s,
    navigate_to_pose_type,
)
from robot_memory.ros.planner_node import CancelQuestion, parse_question
from robot_memory.ros.runtime import CallbackGuard
from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig
from tests.ros_graph import RosGraph

NavigateToPose = navigate_to_pose_type()
pytestmark = pytest.mark.ros
needs_nav2 = pytest.mark.skipif(
    NavigateToPose is None, reason='nav2_msgs is not installed (scripts/setup_env.sh installs '
                                   'it from ../shared/wheels/ros2-interfaces on Python 3.11)')

WIDTH, HEIGHT = 160, 120
_domains = itertools.count()


def _domain_id() -> int:
    """A domain of its own per graph (≤ 232, Fast DDS's limit): from the pid and a counter."""
    return 1 + (os.getpid() * 11 + next(_domains)) % 200


class Graph(RosGraph):
    """The graph with a NavigateToPose client and what goes by on the action's topics."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(_domain_id(), tmp, 'nav2_probe')
        self.client = self.action_client(NavigateToPose, NAV_ACTION)
        # What any client of the action sees go by (the planner's goals included).
        self.statuses: dict[bytes, int] = {}
        self.probe.subscribe(GoalStatusArray, f'{NAV_ACTION}/_action/status', qos.latched(),
                             self._on_status)
        self.feedback = self.probe.subscribe(NavigateToPose.Impl.FeedbackMessage,
                                             f'{NAV_ACTION}/_action/feedback', qos.reliable())
        self.odom = self.probe.subscribe(Odometry, 'odom', qos.reliable())
        self.answers = self.probe.subscribe(String, 'answer', qos.reliable(50))
        self.question_pub = self.probe.publisher(String, 'question', qos.reliable(50))

    def _on_status(self, msg: GoalStatusArray) -> None:
        for status in msg.status_list:
            self.statuses[bytes(status.goal_info.goal_id.uuid)] = status.status

    def answer(self, question_id: str, timeout_s: float) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            found[:] = [r for r in (json.loads(m.data) for m in self.answers)
                        if r.get('id') == question_id]
            return bool(found)

        self.wait(arrived, timeout_s, f'the answer to {question_id}')
        return found[0]

    def ask(self, question_id: str, label: str) -> None:
        self.wait(lambda: self.question_pub.get_subscription_count() > 0, 30.0,
                  'the planner to subscribe to questions')
        self.question_pub.publish(String(data=json.dumps(
            {'id': question_id, 'query': {'type': 'WhereIs', 'target': {'label': label}}})))


def _goal(x: float, y: float, frame_id: str = 'map') -> Any:
    goal = NavigateToPose.Goal()
    goal.pose = PoseStamped()
    goal.pose.header.frame_id = frame_id
    goal.pose.pose.position.x, goal.pose.pose.position.y = x, y
    goal.pose.pose.orientation.w = 1.0
    return goal


def _far_place() -> tuple[tuple[float, float], tuple[float, float]]:
    """The dock and the place farthest from it (x, y): a trip with frames on the way."""
    sim = BuiltinSim(SimConfig(camera=CameraConfig(width=WIDTH, height=HEIGHT)))
    layout = sim.scene_graph()
    dock = sim.pose.position_m[:2]
    far = max((layout.get_place(p).position_m[:2] for p in layout.places),
              key=lambda xy: math.dist(xy, dock))
    return (float(dock[0]), float(dock[1])), (float(far[0]), float(far[1]))


@pytest.mark.parametrize(('text', 'expected'), [
    ('{"cancel": "q-7"}', ('q-7', CancelQuestion('q-7'))),
    ('{"cancel": 12}', ('12', CancelQuestion('12'))),
])
def test_a_cancel_on_the_question_topic_names_the_question(
        text: str, expected: tuple[str, CancelQuestion]) -> None:
    assert parse_question(text) == expected


@pytest.mark.parametrize('text', ['{"cancel": ""}', '{"cancel": null}', '{"cancel": true}',
                                  '{"cancel": ["q"]}'])
def test_a_cancel_without_a_question_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match='"cancel" must name a question id'):
        parse_question(text)


@pytest.fixture
def private_graph() -> Iterator[tuple[Node, SingleThreadedExecutor]]:
    """A node with its executor in a private context: real actions within one process."""
    context = Context()
    rclpy.init(context=context, domain_id=_domain_id())
    node = Node('nav2_client_test', context=context, start_parameter_services=False)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        yield node, executor
    finally:
        executor.shutdown(timeout_sec=5.0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)


@needs_nav2
@pytest.mark.timeout(60)
def test_hostile_feedback_is_counted_and_the_drive_still_ends(
        private_graph: tuple[Node, SingleThreadedExecutor]) -> None:
    """A server sending NaN, negative and absurdly stamped feedback: each one counted as
    malformed by the planner's client, none raised; good feedback is progress, and the
    drive's result still ends it."""
    node, executor = private_graph
    release = Future()

    async def execute(handle: Any) -> Any:
        for distance, seconds, stamp_nanosec in ((math.nan, 1, 0), (1.0, -5, 0),
                                                 (1.0, 1, 4_000_000_000), (2.0, 3, 0)):
            fb = NavigateToPose.Feedback(distance_remaining=distance)
            fb.navigation_time.sec = seconds
            fb.current_pose.header.stamp.sec = 100
            fb.current_pose.header.stamp.nanosec = stamp_nanosec
            handle.publish_feedback(fb)
        await release
        handle.succeed()
        return NavigateToPose.Result()

    server = ActionServer(node, NavigateToPose, NAV_ACTION, execute)
    counts: Counter[str] = Counter()
    guard = CallbackGuard(node.get_logger(), lambda kind, key: counts.update([f'{kind}.{key}']))
    client = NavClient(node, NavigateToPose, guard, counts)
    ends: list[Any] = []

    def spin_until(predicate: Any, what: str) -> None:
        deadline = time.monotonic() + 30.0
        while not predicate():
            assert time.monotonic() < deadline, f'timed out waiting for {what}: {counts}'
            end = client.poll()
            if end is not None:
                ends.append(end)
            executor.spin_once(timeout_sec=0.05)

    client.go(PoseStamped())
    refused = lambda: sum(n for k, n in counts.items()  # noqa: E731
                          if k.startswith('malformed.navigate_to_pose'))
    spin_until(lambda: refused() + counts['nav.feedback'] == 4, 'four feedback messages')
    assert refused() == 3 and counts['nav.feedback'] == 1 and counts['callback_errors'] == 0
    assert client.progress is not None and client.progress.distance_remaining_m == 2.0
    assert client.progress.navigation_time_s == 3.0 and client.progress_stamp_s == 100.0
    release.set_result(True)
    spin_until(lambda: bool(ends), 'the result')
    assert ends[0].status is DriveStatus.SUCCEEDED and ends[0].arrived
    assert counts['nav.sent'] == 1 and counts['nav.accepted'] == 1
    assert not client.busy and client.progress is None
    server.destroy()


@pytest.mark.parametrize(('module', 'navigation'), [
    ('planner_node', 'nav2'), ('sim_bridge_node', 'nav2'),
    ('planner_node', 'goal_pose'), ('sim_bridge_node', 'goal_pose')])
def test_without_nav2_msgs_both_nodes_keep_to_goal_pose_and_say_so_once(
        module: str, navigation: str, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    from rclpy.parameter import Parameter

    from robot_memory.ros.planner_node import PlannerNode
    from robot_memory.ros.sim_bridge_node import SimBridgeNode

    monkeypatch.setattr(f'robot_memory.ros.{module}.navigate_to_pose_type', lambda: None)
    context = Context()
    rclpy.init(context=context, domain_id=_domain_id())
    kwargs: dict[str, Any] = {
        'context': context, 'start_parameter_services': False,
        'parameter_overrides': [Parameter('navigation', value=navigation)]}
    try:
        node = (PlannerNode(**kwargs) if module == 'planner_node' else SimBridgeNode(
            backend=BuiltinSim(SimConfig(camera=CameraConfig(width=32, height=24))), **kwargs))
        try:
            assert node.navigation == 'goal_pose'
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    said = capfd.readouterr().err.count("navigation 'nav2' needs nav2_msgs")
    assert said == (1 if navigation == 'nav2' else 0)


def test_durations_are_clamped_to_what_the_message_holds() -> None:
    assert (duration_msg(1.25).sec, duration_msg(1.25).nanosec) == (1, 250_000_000)
    assert (duration_msg(-3.0).sec, duration_msg(math.nan).sec) == (0, 0)
    assert duration_msg(1e30).sec == 2**31 - 1
    assert duration_s(duration_msg(2.5)) == pytest.approx(2.5)


@needs_nav2
@pytest.mark.timeout(150)
def test_the_bridge_serves_navigate_to_pose_as_nav2_does(tmp_path: Path) -> None:
    """Accepted, feedback along the way, succeeded at the goal; off the map aborted (204);
    a NaN goal rejected and counted; a cancel stops the robot short of its goal."""
    graph = Graph(tmp_path)
    dock, far = _far_place()
    try:
        graph.start('sim_bridge_node', width_px=WIDTH, height_px=HEIGHT, frame_rate_hz=10.0,
                    look_around_views=2)
        graph.wait(graph.client.server_is_ready, 60.0, 'the navigate_to_pose server')
        feedback: list[Any] = []
        handle = graph.result(graph.client.send_goal_async(
            _goal(*far), feedback_callback=lambda m: feedback.append(m.feedback)), 'acceptance')
        assert handle.accepted
        done = graph.result(handle.get_result_async(), 'the drive to end')
        assert done.status == GoalStatus.STATUS_SUCCEEDED, done
        assert done.result.error_code == 0
        assert len(feedback) >= 3
        distances = [f.distance_remaining for f in feedback]
        assert distances[0] > distances[-1] and distances[-1] < 0.3, distances
        assert distances[0] > 0.5 * math.dist(dock, far)
        times = [duration_s(f.navigation_time) for f in feedback]
        assert times == sorted(times) and times[-1] > 0
        last = feedback[-1].current_pose
        assert last.header.frame_id == 'map'
        assert math.dist((last.pose.position.x, last.pose.position.y), far) < 0.3
        graph.wait(lambda: graph.odom and math.dist(
            (graph.odom[-1].pose.pose.position.x, graph.odom[-1].pose.pose.position.y),
            far) < 0.3, 10.0, 'odometry at the goal')

        outside = graph.result(graph.client.send_goal_async(_goal(far[0] + 100.0, far[1])),
                               'acceptance of a goal off the map')
        assert outside.accepted  # as Nav2: accepted, then aborted by its planner
        aborted = graph.result(outside.get_result_async(), 'the abort')
        assert aborted.status == GoalStatus.STATUS_ABORTED
        assert aborted.result.error_code == GOAL_OUTSIDE_MAP
        assert 'outside the map' in aborted.result.error_msg

        nan = graph.result(graph.client.send_goal_async(_goal(float('nan'), 0.0)),
                           'the answer to a NaN goal')
        wrong_frame = graph.result(graph.client.send_goal_async(_goal(*dock, 'odom')),
                                   'the answer to a goal in another frame')
        assert not nan.accepted and not wrong_frame.accepted

        moving: list[Any] = []
        back = graph.result(graph.client.send_goal_async(
            _goal(*dock), feedback_callback=lambda m: moving.append(m.feedback)),
            'acceptance of the way back')
        graph.wait(lambda: len(moving) >= 1, 30.0, 'the robot to set off')
        graph.result(back.cancel_goal_async(), 'the cancel response')
        canceled = graph.result(back.get_result_async(), 'the drive to stop')
        assert canceled.status == GoalStatus.STATUS_CANCELED
        graph.wait(lambda: graph.value('sim_bridge_node', 'nav_goals_canceled') >= 1
                   and graph.value('sim_bridge_node', 'nav_goals_rejected') >= 2
                   and graph.diagnostics['sim_bridge_node']['busy'] == 'False', 10.0,
                   'the bridge to count the refusals and the cancel')
        stopped = graph.odom[-1].pose.pose.position
        assert math.dist((stopped.x, stopped.y), dock) > 0.3  # stopped short of the dock
        assert graph.value('sim_bridge_node', 'nav_goals_succeeded') == 1
        assert graph.value('sim_bridge_node', 'nav_goals_aborted') == 1
        assert graph.processes['sim_bridge_node'].alive()
    finally:
        codes = graph.close()
    assert codes == {'sim_bridge_node': 0}, graph.failed_logs


@needs_nav2
@pytest.mark.timeout(240)
def test_the_planner_drives_its_looks_through_the_bridges_navigate_to_pose(
        tmp_path: Path) -> None:
    """A question's looks go through the action (accepted, feedback, succeeded: no goal_pose);
    an operator's goal pre-empting a look aborts it, and the planner looks elsewhere; a
    canceled question cancels its drive."""
    graph = Graph(tmp_path)
    try:
        # 8 views at 5 Hz: every look lasts ≥ 1.6 s, time for the test to step in.
        graph.start('sim_bridge_node', width_px=WIDTH, height_px=HEIGHT, frame_rate_hz=5.0,
                    look_around_views=8)
        graph.start('memory_node', db_path=str(tmp_path / 'nav.db'), use_embeddings=False,
                    sensor_qos_reliable=True, diagnostics_period_s=0.3)
        graph.start('planner_node', max_steps=2, memory_timeout_s=30.0, goal_timeout_s=100.0)
        graph.wait(lambda: 'layout: 6 rooms' in graph.processes['memory_node'].log(), 60.0,
                   'memory to take the layout')

        graph.ask('look', 'keys')
        answer = graph.answer('look', 120.0)
        assert answer['path'] and not answer['failed_goals'], answer
        graph.wait(lambda: graph.value('planner_node', 'nav.succeeded') >= len(answer['path']),
                   10.0, 'the planner to count the drives')
        assert graph.value('planner_node', 'nav.accepted') >= len(answer['path'])
        assert graph.value('planner_node', 'nav.feedback') >= 1
        assert graph.value('planner_node', 'goals_sent') == 0  # nothing on goal_pose
        assert GoalStatus.STATUS_SUCCEEDED in graph.statuses.values()
        assert graph.feedback  # the planner's drives, seen on the action's feedback topic

        # An operator's goal pre-empts the planner's look (aborted): the planner looks
        # elsewhere, which pre-empts the operator's goal in turn.
        seen = len(graph.feedback)
        graph.ask('preempted', 'umbrella')
        graph.wait(lambda: len(graph.feedback) > seen, 60.0, "the planner's drive")
        dock, _ = _far_place()
        operator = graph.result(graph.client.send_goal_async(_goal(*dock)), 'acceptance')
        assert operator.accepted
        replanned = graph.answer('preempted', 120.0)
        assert replanned['failed_goals'], replanned
        assert replanned['path'] and replanned['path'][0] not in replanned['failed_goals']
        graph.wait(lambda: graph.value('planner_node', 'nav.aborted') >= 1, 10.0,
                   'the planner to count the aborted drive')

        # A question canceled while its robot drives: the drive is canceled too.
        seen = len(graph.feedback)
        canceled_before = graph.value('sim_bridge_node', 'nav_goals_canceled')
        graph.ask('canceled', 'wallet')
        graph.wait(lambda: len(graph.feedback) > seen, 60.0, "the planner's drive")
        graph.question_pub.publish(String(data=json.dumps({'cancel': 'canceled'})))
        gave_up = graph.answer('canceled', 30.0)
        assert gave_up['ok'] is False and gave_up['stop_reason'] == 'canceled', gave_up
        graph.wait(lambda: graph.value('sim_bridge_node', 'nav_goals_canceled') >
                   canceled_before, 30.0, 'the bridge to cancel the drive')
        assert GoalStatus.STATUS_CANCELED in graph.statuses.values()
        assert all(p.alive() for p in graph.processes.values())
    finally:
        codes = graph.close()
    assert set(codes.values()) == {0}, graph.failed_logs

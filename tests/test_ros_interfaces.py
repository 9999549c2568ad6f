"""robot_memory_interfaces over real DDS: planner_node's Ask action, memory_node's services.

The nodes run in processes of their own on a ROS_DOMAIN_ID of their own (from the pid and a
counter), stopped with SIGINT; the test process is the client. Every wait is for an event, with
a hard timeout. The package is the project's own (scripts/build_interfaces.sh builds it): these
tests skip only where it is not built, and then say so.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('rclpy', reason='rclpy is not installed')

import rclpy
from action_msgs.msg import GoalStatus
from rclpy.context import Context
from rclpy.parameter import Parameter

from robot_memory.core import FactKey
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.ros.interfaces import (
    ASK_ACTION,
    GET_CHANGES_SERVICE,
    GET_OBJECTS_SERVICE,
    ask_action_type,
    memory_service_types,
    time_msg,
    time_s,
)
from robot_memory.service import MemoryService, MemoryServiceParams
from tests.conftest import MONDAY_S
from tests.ros_graph import RosGraph

Ask = ask_action_type()
SERVICES = memory_service_types()
pytestmark = pytest.mark.ros
needs_interfaces = pytest.mark.skipif(
    Ask is None or SERVICES is None,
    reason='robot_memory_interfaces is not built (scripts/setup_env.sh builds it with '
           'scripts/build_interfaces.sh; it needs cmake, g++ and Python 3.11)')

HOUR = 3600.0
T0 = MONDAY_S + 9 * HOUR
_domains = itertools.count()


def _domain_id() -> int:
    """A domain of its own per graph (≤ 232, Fast DDS's limit): from the pid and a counter."""
    return 1 + (os.getpid() * 13 + next(_domains)) % 200


def _seed_memory(path: Path, layout: SceneGraph) -> None:
    """A memory file: a mug that moved from the kitchen to the study, a laptop opened."""
    service = MemoryService(MemoryServiceParams(db_path=str(path), use_embeddings=False))
    service.set_layout(layout, T0 - 60.0)
    memory = service.memory
    memory.create_object('object:mug', T0, 'mug', {
        FactKey.POSITION: (1.0, 1.0, 0.8), FactKey.ROOM: 'room:kitchen',
        FactKey.SUPPORT: None, FactKey.STATE: ''}, (1,), color='red')
    memory.create_object('object:laptop', T0, 'laptop', {
        FactKey.POSITION: (6.0, 1.0, 0.7), FactKey.ROOM: 'room:study',
        FactKey.SUPPORT: None, FactKey.STATE: 'closed'}, (2,))
    memory.set_fact('object:mug', T0 + 3 * HOUR, FactKey.POSITION, (6.5, 2.0, 0.8), (7,))
    memory.set_fact('object:mug', T0 + 3 * HOUR, FactKey.ROOM, 'room:study', (7,))
    memory.set_fact('object:laptop', T0 + 4 * HOUR, FactKey.STATE, 'open', (8,))
    service.close()


class Graph(RosGraph):
    """The graph with a probe holding the Ask client and the snapshot service clients."""

    def __init__(self, tmp: Path) -> None:
        assert Ask is not None and SERVICES is not None
        super().__init__(_domain_id(), tmp, 'ask_probe')
        self.ask = self.action_client(Ask, ASK_ACTION)
        self.get_objects = self.probe.node.create_client(SERVICES.get_objects,
                                                         GET_OBJECTS_SERVICE)
        self.get_changes = self.probe.node.create_client(SERVICES.get_changes,
                                                         GET_CHANGES_SERVICE)

    def send(self, feedback: list[Any], **fields: Any) -> Any:
        """Send an Ask goal; its feedback goes into `feedback`; the goal handle."""
        assert Ask is not None
        goal = Ask.Goal(**fields)
        future = self.ask.send_goal_async(goal, feedback_callback=lambda m: feedback.append(
            m.feedback))
        return self.result(future, f'the answer to goal {fields}')


@pytest.mark.parametrize('module', ['planner_node', 'memory_node'])
def test_without_the_package_each_node_says_so_once_and_keeps_to_json(
        module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    from robot_memory.ros.memory_node import MemoryNode
    from robot_memory.ros.planner_node import PlannerNode

    monkeypatch.setattr('robot_memory.ros.planner_node.ask_action_type', lambda: None)
    monkeypatch.setattr('robot_memory.ros.memory_node.memory_service_types', lambda: None)
    context = Context()
    rclpy.init(context=context, domain_id=_domain_id())
    kwargs: dict[str, Any] = {'context': context, 'start_parameter_services': False}
    try:
        if module == 'planner_node':
            node: Any = PlannerNode(**kwargs)
        else:
            node = MemoryNode(parameter_overrides=[
                Parameter('db_path', value=str(tmp_path / 'm.db')),
                Parameter('use_embeddings', value=False)], **kwargs)
        try:
            names = {name for name, _ in node.get_service_names_and_types_by_node(
                node.get_name(), node.get_namespace())}
            assert not any(name.startswith('/ask/') or 'get_objects' in name for name in names)
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    assert capfd.readouterr().err.count('robot_memory_interfaces is not built') == 1


def test_times_are_clamped_to_what_the_message_holds() -> None:
    assert (time_msg(1.25).sec, time_msg(1.25).nanosec) == (1, 250_000_000)
    assert (time_msg(-3.0).sec, time_msg(1e30).sec) == (0, 2**31 - 1)
    assert time_s(time_msg(T0 + 0.5)) == pytest.approx(T0 + 0.5)


@needs_interfaces
@pytest.mark.timeout(300)
def test_ask_goal_feedback_result_cancel_and_the_snapshot_services(
        tmp_path: Path, two_room_graph: SceneGraph) -> None:
    db = tmp_path / 'memory.db'
    _seed_memory(db, two_room_graph)
    graph = Graph(tmp_path)
    try:
        # The planner first, alone: a question waits for the memory node, and is canceled.
        graph.start('planner_node', navigation='goal_pose', memory_timeout_s=60.0)
        graph.wait(graph.ask.server_is_ready, 60.0, 'the ask action server')

        hostile = graph.send([], question='Where is my mug?', max_distance_m=math.nan)
        assert not hostile.accepted
        huge = graph.send([], question='x' * 100_000)
        assert not huge.accepted

        waiting: list[Any] = []
        handle = graph.send(waiting, question='Where is my mug?')
        assert handle.accepted
        graph.wait(lambda: any(f.phase == 'layout' for f in waiting), 30.0,
                   'feedback: asking memory for the layout')
        cancel = graph.result(handle.cancel_goal_async(), 'the cancel response')
        assert len(cancel.goals_canceling) == 1
        canceled = graph.result(handle.get_result_async(), 'the canceled result')
        assert canceled.status == GoalStatus.STATUS_CANCELED
        assert canceled.result.stop_reason == 'canceled'
        assert [f.phase for f in waiting][:2] == ['queued', 'layout']

        # Now the memory, from the seeded file: a question answered, with feedback.
        graph.start('memory_node', db_path=str(db), use_embeddings=False,
                    require_layout=False, diagnostics_period_s=0.3)
        feedback: list[Any] = []
        handle = graph.send(feedback, question='Where is my mug?', max_looks=0)
        assert handle.accepted
        done = graph.result(handle.get_result_async(), 'the answer', timeout_s=120.0)
        assert done.status == GoalStatus.STATUS_SUCCEEDED, done.result
        result = done.result
        assert json.loads(result.value_json)['room'] == 'room:study'
        assert 'study' in result.answer
        assert result.evidence_object_ids == ['object:mug']
        assert '7' in result.evidence_ids
        assert result.places_looked == [] and result.stop_reason
        assert 0.0 <= result.confidence <= 1.0
        phases = [f.phase for f in feedback]
        assert phases[0] == 'queued' and 'belief' in phases, phases

        # The snapshot services: the world at a time, and what changed since.
        assert SERVICES is not None
        graph.wait(graph.get_objects.service_is_ready, 30.0, 'the get_objects service')
        graph.wait(graph.get_changes.service_is_ready, 30.0, 'the get_changes service')
        before = graph.result(graph.get_objects.call_async(SERVICES.get_objects.Request(
            at=time_msg(T0 + HOUR))), 'objects at 10:00')
        assert before.success, before.message
        assert {(o.id, o.room) for o in before.objects} == {
            ('object:mug', 'room:kitchen'), ('object:laptop', 'room:study')}
        mug = next(o for o in before.objects if o.id == 'object:mug')
        assert (mug.class_name, mug.color, mug.position.x) == ('mug', 'red', 1.0)
        kitchen_now = graph.result(graph.get_objects.call_async(
            SERVICES.get_objects.Request(room='kitchen')), 'objects in the kitchen now')
        assert kitchen_now.success and kitchen_now.objects == []
        changes = graph.result(graph.get_changes.call_async(SERVICES.get_changes.Request(
            since=time_msg(T0 + HOUR))), 'changes since 10:00')
        assert changes.success, changes.message
        change = SERVICES.object_change
        assert {(c.object_id, c.kind) for c in changes.changes} == {
            ('object:mug', change.MOVED), ('object:laptop', change.STATE_CHANGED)}
        backwards = graph.result(graph.get_changes.call_async(SERVICES.get_changes.Request(
            since=time_msg(T0 + HOUR), until=time_msg(T0))), 'a request refused')
        assert not backwards.success
        assert backwards.message == f'until ({T0} s) is before since ({T0 + HOUR} s)'
        huge = graph.result(graph.get_objects.call_async(SERVICES.get_objects.Request(
            room='r' * 100_000)), 'another request refused')
        assert not huge.success and huge.message == 'room: not a name (100000 characters)'

        graph.wait(lambda: graph.value('planner_node', 'ask.succeeded') >= 1 and
                   graph.value('memory_node', 'malformed.get_objects:invalid') >= 1, 30.0,
                   'the counts in diagnostics')
        planner = graph.diagnostics['planner_node']
        assert float(planner['malformed.ask:invalid']) == 2
        assert float(planner['ask.canceled']) == 1 and float(planner['ask.goals']) == 2
        assert all(p.alive() for p in graph.processes.values())
    finally:
        codes = graph.close()
    assert codes == {'planner_node': 0, 'memory_node': 0}, graph.failed_logs

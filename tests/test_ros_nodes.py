"""The nodes over real DDS, each in its own process (stopped with SIGINT, hard timeouts).

Every graph runs on its own ROS_DOMAIN_ID (derived from the pid) on loopback. One graph —
bridge + memory + planner at 160×120 — patrols day 0 once and serves the tests that need a
filled memory; the malformed-input test has a memory node of its own.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip('rclpy', reason='rclpy is not installed')
pytest.importorskip('open3d', reason='the built-in simulator needs open3d')

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from visualization_msgs.msg import Marker, MarkerArray

from robot_memory.core import MemoryStore
from robot_memory.core.types import SegmentLabel, StampedPose
from robot_memory.ros import qos
from robot_memory.ros.bag import ingest_bag
from robot_memory.ros.conversions import (
    camera_info_msg,
    image_msg,
    labels_msg,
    pose_msg,
)
from robot_memory.ros.markers import MEMORY_NAMESPACES, PLANNER_NAMESPACES
from robot_memory.ros.rviz_config import graph_problems, rviz_topics
from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig
from robot_memory.sim.recording import McapRecorder
from tests.ros_graph import RosGraph

pytestmark = pytest.mark.ros

WIDTH, HEIGHT, RATE_HZ = 160, 120, 40.0
_domains = itertools.count()


def _domain_id() -> int:
    """A domain of its own per graph: from the pid (parallel runs) and a counter."""
    return 1 + (os.getpid() * 7 + next(_domains)) % 200


def _parser_available() -> bool:
    """Whether the question parser the memory service uses is written yet."""
    import importlib

    for module, name in (('robot_memory.language.parser', 'QuestionParser'),
                         ('robot_memory.language', 'make_parser')):
        try:
            if hasattr(importlib.import_module(module), name):
                return True
        except ImportError:
            continue
    return False


class Graph(RosGraph):
    """The graph with the memory's and the planner's markers, queries and answers."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(_domain_id(), tmp, 'test_probe')
        self.markers = self.probe.subscribe(MarkerArray, 'memory/markers', qos.latched())
        self.planner_markers = self.probe.subscribe(MarkerArray, 'planner/markers',
                                                    qos.latched(10))
        self.replies = self.probe.subscribe(String, 'memory/answer', qos.reliable(50))
        self.answers = self.probe.subscribe(String, 'answer', qos.reliable(50))
        self.query_pub = self.probe.publisher(String, 'memory/query', qos.reliable(50))
        self.question_pub = self.probe.publisher(String, 'question', qos.reliable(50))

    def request(self, payload: dict[str, Any], topic: str = 'memory', timeout_s: float = 30.0
                ) -> dict[str, Any]:
        """Publish a request and wait for the reply with its id."""
        store = self.replies if topic == 'memory' else self.answers
        publisher = self.query_pub if topic == 'memory' else self.question_pub
        self.wait(lambda: publisher.get_subscription_count() > 0, 20.0, f'a {topic} listener')
        publisher.publish(String(data=json.dumps(payload)))
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            found[:] = [r for r in map(lambda m: json.loads(m.data), store)
                        if r.get('id') == payload['id']]
            return bool(found)

        self.wait(arrived, timeout_s, f'the reply to {payload["id"]}')
        return found[0]


@pytest.fixture(scope='module')
def patrolled(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Bridge + memory + planner after the day-0 patrol, with the same stream as an MCAP."""
    tmp = tmp_path_factory.mktemp('graph')
    graph = Graph(tmp)
    try:
        graph.start('memory_node', db_path=str(tmp / 'live.db'), use_embeddings=False,
                    sensor_qos_reliable=True, diagnostics_period_s=0.3,
                    markers_period_s=0.5)
        graph.start('planner_node', max_steps=3, memory_timeout_s=20.0, goal_timeout_s=40.0)
        graph.start('sim_bridge_node', mode='patrol', patrol_days=1, width_px=WIDTH,
                    height_px=HEIGHT, frame_rate_hz=RATE_HZ, start_after_subscribers=1,
                    start_delay_s=1.0)
        # The same stream, recorded here while the nodes start.
        sim = BuiltinSim(SimConfig(camera=CameraConfig(width=WIDTH, height=HEIGHT)))
        layout = (sim.now_s, sim.scene_graph())
        with McapRecorder(tmp / 'day0.mcap') as recorder:
            for frame in sim.patrol_day(0):
                recorder.write_frame(frame)
        frames = recorder.frames_written
        graph.wait(lambda: graph.value('memory_node', 'frames.ingested') >= frames
                   and graph.diagnostics.get('sim_bridge_node', {}).get('busy') == 'False',
                   90.0, f'{frames} frames in memory')
        with MemoryStore(tmp / 'live.db', create=False) as store:
            live = store.load()
        yield {'graph': graph, 'frames': frames, 'bag': tmp / 'day0.mcap', 'layout': layout,
               'live_memory': live, 'tmp': tmp}
    finally:
        codes = graph.close()
    assert codes == {'memory_node': 0, 'planner_node': 0, 'sim_bridge_node': 0}, \
        graph.failed_logs


@pytest.mark.timeout(150)
def test_patrol_fills_memory_and_draws_well_formed_markers(patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    assert graph.value('sim_bridge_node', 'frames_published') == patrolled['frames']
    assert graph.value('memory_node', 'frames.accepted') == patrolled['frames']
    assert graph.value('memory_node', 'memory.objects_in_memory') > 10
    assert not any(k.startswith(('dropped.', 'malformed.', 'rejected.'))
                   for k in graph.diagnostics['memory_node'])
    # what a month on the robot is watched by: store, disk, commits, memory, queues
    diag = graph.diagnostics['memory_node']
    assert float(diag['store.bytes']) > 0 and float(diag['store.disk_free_mb']) > 0
    assert float(diag['store.last_commit_age_s']) < 10 and diag['store.failures'] == '0'
    assert 50 < float(diag['rss_mb']) < 4000 and 'frames.queued' in diag
    live = patrolled['live_memory']
    present = len(live.at(live.now_s).objects)

    def latest_objects() -> int:
        return sum(m.ns == 'objects' for m in graph.markers[-1].markers) if graph.markers else 0

    graph.wait(lambda: latest_objects() == present, 10.0, f'{present} object markers')
    markers = list(graph.markers[-1].markers)
    assert markers[0].action == Marker.DELETEALL
    assert all(m.header.frame_id == 'map' for m in markers)
    keys = [(m.ns, m.id) for m in markers[1:]]
    assert len(keys) == len(set(keys))
    assert {m.ns for m in markers[1:]} == set(MEMORY_NAMESPACES) - {'relations'} or \
        {m.ns for m in markers[1:]} == set(MEMORY_NAMESPACES)
    labels = [m for m in markers if m.ns == 'object_labels']
    assert len(labels) == present
    assert all(m.text.endswith('%') for m in labels)


@pytest.mark.timeout(60)
def test_typed_query_is_answered_with_evidence(patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    reply = graph.request({'id': 'typed-1', 'query': {'type': 'WhereIs',
                                                      'target': {'label': 'mug'}}})
    assert reply['ok'] is True, reply
    assert reply['value']['label'] == 'mug'
    assert reply['value']['room'].startswith('room:')
    assert reply['evidence'] and reply['evidence'][0]['obs_ids']
    layout = graph.request({'id': 'layout-1', 'mode': 'layout'})
    assert len(layout['layout']['nodes']) > 20
    bad = graph.request({'id': 'bad-1', 'query': {'type': 'Nope'}})
    assert bad['ok'] is False and 'malformed query' in bad['error']


@pytest.mark.timeout(90)
def test_question_on_the_question_topic_is_answered_with_evidence(
        patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    answer = graph.request({'id': 'q-mug', 'query': {'type': 'WhereIs',
                                                     'target': {'label': 'mug'}}},
                           topic='question', timeout_s=60.0)
    assert answer['ok'] is True, answer
    assert answer['evidence'] and answer['value']['label'] == 'mug'
    assert isinstance(answer['path'], list) and 'rooms_visited' in answer
    assert 0.0 <= answer['confidence'] <= 1.0


@pytest.mark.timeout(120)
def test_unknown_object_sends_the_robot_looking_before_answering(
        patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    published = graph.value('sim_bridge_node', 'frames_published')
    answer = graph.request({'id': 'q-keys', 'query': {'type': 'WhereIs',
                                                      'target': {'label': 'keys'}}},
                           topic='question', timeout_s=100.0)
    assert answer['path'], answer
    assert answer['num_rooms_visited'] >= 1
    assert all(p.startswith('place:') for p in answer['path'])
    graph.wait(lambda: graph.value('sim_bridge_node', 'goals_reached') >= len(answer['path']),
               5.0, 'the bridge to report the goals')  # its diagnostics come once a second
    # The goal count is cumulative (earlier tests' goals count too), so the diagnostics read
    # above can predate this question's looks: the frames they published are waited for.
    graph.wait(lambda: graph.value('sim_bridge_node', 'frames_published') > published, 5.0,
               'the bridge to report the frames of its looks')
    assert graph.value('sim_bridge_node', 'frames_published') > published
    drawn = [m for array in graph.planner_markers for m in array.markers]
    assert {'candidate_goals', 'candidate_labels', 'goal'} <= {m.ns for m in drawn}
    assert all(m.header.frame_id == 'map' for m in drawn)


@pytest.mark.timeout(150)
@pytest.mark.timeout(60)
def test_rviz_config_matches_the_running_graph_and_its_markers_are_valid(
        patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    node = graph.probe.node
    topics = rviz_topics(Path(__file__).parents[1] / 'rviz' / 'robot_memory.rviz')
    assert {t.topic for t in topics} >= {'/memory/markers', '/planner/markers', '/goal_pose'}
    if not graph.planner_markers:  # the planner draws its candidates once asked something
        graph.request({'id': 'rviz-1', 'query': {'type': 'WhereIs', 'target': {'label': 'mug'}}},
                      topic='question', timeout_s=60.0)
    graph.wait(lambda: graph.planner_markers, 10.0, 'planner markers')
    types = {name: kinds for name, kinds in node.get_topic_names_and_types()}
    publishers = {t.topic: [(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE,
                             p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL)
                            for p in node.get_publishers_info_by_topic(t.topic)
                            if p.node_name != node.get_name()] for t in topics}
    subscribers = {t.topic: node.count_subscribers(t.topic) for t in topics}
    assert graph_problems(topics, types, publishers, subscribers) == []
    # The namespaces each marker display lists are the ones its topic carries.
    listed = {t.topic: set(t.namespaces) for t in topics}
    assert listed['/memory/markers'] == set(MEMORY_NAMESPACES)
    assert listed['/planner/markers'] == set(PLANNER_NAMESPACES)
    # Every marker RViz would draw: frame map, finite pose, unit quaternion, unique id per ns.
    for topic, arrays in (('/memory/markers', graph.markers),
                          ('/planner/markers', graph.planner_markers)):
        markers = list(arrays[-1].markers)
        assert {m.ns for m in markers[1:]} <= listed[topic]
        assert markers[0].action == Marker.DELETEALL  # objects that went leave with the array
        keys = [(m.ns, m.id) for m in markers[1:]]
        assert len(keys) == len(set(keys))
        for m in markers[1:]:
            p, q = m.pose.position, m.pose.orientation
            assert m.header.frame_id == 'map' and m.action == Marker.ADD
            assert all(math.isfinite(v) for v in (p.x, p.y, p.z, m.scale.x, m.scale.y))
            assert abs(math.hypot(q.x, q.y, q.z, q.w) - 1.0) < 1e-6, (m.ns, m.id)
            assert all(math.isfinite(c) for pt in m.points for c in (pt.x, pt.y, pt.z))
            assert m.lifetime.sec == 0 and m.lifetime.nanosec == 0  # kept until replaced


@pytest.mark.skipif(not _parser_available(), reason='the question parser '
                                                    '(robot_memory.language) is not written yet')
def test_text_question_is_answered(patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    answer = graph.request({'id': 'q-text', 'question': 'Where is the mug?'},
                           topic='question', timeout_s=80.0)
    assert answer['ok'] is True, answer
    assert answer['evidence']
    room = answer['value']['room_name']
    still = graph.request({'id': 'q-still', 'question': f'Is the mug still in the {room}?'},
                          topic='question', timeout_s=80.0)
    assert still['ok'] is True, still
    assert still['query']['type'] == 'IsAt' and still['query']['category'] == 'past_present'
    assert still['query']['room'] == answer['value']['room']
    assert isinstance(still['value']['yes'], bool) and still['evidence']
    # A question about what is on a piece of furniture (every kitchen has a counter) goes
    # through the planner node unchanged, and the belief it sends is over that counter.
    contents = graph.request({'id': 'q-counter', 'question': 'What is on the counter?'},
                             topic='question', timeout_s=80.0)
    assert contents['ok'] is True, contents
    assert contents['query']['type'] == 'Contents'
    assert contents['query']['support_or_container'] == 'counter'
    assert contents['value']['pieces'] and contents['evidence']
    assert all(p['label'] == 'counter' for p in contents['value']['pieces'])


@pytest.mark.timeout(60)
def test_bad_goals_commands_and_questions_are_counted_not_obeyed(
        patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    goals = graph.probe.publisher(PoseStamped, 'goal_pose', qos.reliable())
    commands = graph.probe.publisher(Twist, 'cmd_vel', qos.reliable())
    graph.wait(lambda: goals.get_subscription_count() > 0 and
               commands.get_subscription_count() > 0, 20.0, 'the bridge to subscribe')
    nan_goal = PoseStamped()
    nan_goal.header.frame_id = 'map'
    nan_goal.pose.position.x = float('nan')
    odom_goal = PoseStamped()
    odom_goal.header.frame_id = 'odom'
    bad_twist = Twist()
    bad_twist.angular.z = float('inf')
    before = {k: graph.value(n, k) for n, k in (('sim_bridge_node', 'goals_rejected'),
                                                ('sim_bridge_node', 'cmd_vel_rejected'),
                                                ('planner_node', 'malformed_questions'))}
    goals.publish(nan_goal)
    goals.publish(odom_goal)
    commands.publish(bad_twist)
    for text in ('   ', '{"neither": 1}'):
        graph.question_pub.publish(String(data=text))
    graph.wait(lambda: graph.value('sim_bridge_node', 'goals_rejected') >=
               before['goals_rejected'] + 2
               and graph.value('sim_bridge_node', 'cmd_vel_rejected') >=
               before['cmd_vel_rejected'] + 1
               and graph.value('planner_node', 'malformed_questions') >=
               before['malformed_questions'] + 2, 10.0, 'the rejections to be counted')
    assert all(p.alive() for p in graph.processes.values())


@pytest.mark.timeout(60)
def test_cmd_vel_drives_the_simulated_robot(patrolled: dict[str, Any]) -> None:
    graph: Graph = patrolled['graph']
    odom = graph.probe.subscribe(Odometry, 'odom', qos.reliable())
    commands = graph.probe.publisher(Twist, 'cmd_vel', qos.reliable())
    graph.wait(lambda: bool(odom), 10.0, 'odometry')
    start = odom[-1].pose.pose.position
    twist = Twist()
    twist.linear.x = 0.4
    for _ in range(10):
        commands.publish(twist)
        graph.probe.spin_for(0.1)
    # The command times out and the robot stops (the bridge's stop comes on its idle tick:
    # under load, later than the timeout itself).
    graph.wait(lambda: odom[-1].twist.twist.linear.x == 0.0, 10.0,
               'the robot to stop once the command timed out')
    end = odom[-1]
    moved = math.hypot(end.pose.pose.position.x - start.x, end.pose.pose.position.y - start.y)
    assert 0.1 < moved < 1.0


@pytest.mark.timeout(90)
def test_live_ingestion_matches_bag_ingestion(patrolled: dict[str, Any]) -> None:
    stamp_s, layout = patrolled['layout']
    db = patrolled['tmp'] / 'bag.db'
    summary = ingest_bag(patrolled['bag'], db, (stamp_s, layout))
    assert summary['frames'] == patrolled['frames']
    with MemoryStore(db, create=False) as store:
        offline = store.load()
    live = patrolled['live_memory']
    assert offline.num_objects() == live.num_objects() > 10
    assert offline == live


# -------------------------------------------------------------- bad input
@pytest.fixture
def lone_memory_node(tmp_path: Path) -> Any:
    graph = Graph(tmp_path)
    try:
        graph.start('memory_node', db_path=str(tmp_path / 'm.db'), use_embeddings=False,
                    sensor_qos_reliable=True, require_layout=False,
                    diagnostics_period_s=0.3)
        yield graph
    finally:
        codes = graph.close()
    assert codes == {'memory_node': 0}, graph.failed_logs


def _bad_messages(t: float) -> list[tuple[str, Any]]:
    """(stream, message) pairs that are each malformed in a different way."""
    wrong_encoding = image_msg(np.zeros((4, 4), np.uint8), 'mono8', t)
    short = image_msg(np.zeros((4, 4), np.float32), '32FC1', t)
    short.data = bytes(7)
    huge = Image(height=100000, width=100000, encoding='rgb8', step=300000)
    nan_pose = pose_msg(StampedPose(t, (0.0, 0.0, 0.0)))
    nan_pose.pose.position.y = float('nan')
    return [('depth', wrong_encoding), ('depth', short), ('color', huge),
            ('semantic', short), ('labels', String(data='{not json')),
            ('labels', String(data='["a list"]')), ('pose', nan_pose),
            ('info', CameraInfo())]


@pytest.mark.timeout(90)
def test_burst_of_malformed_messages_is_counted_and_survived(lone_memory_node: Graph) -> None:
    graph = lone_memory_node
    topics = {'depth': (Image, 'camera/depth/image_rect'),
              'color': (Image, 'camera/color/image_raw'),
              'semantic': (Image, 'camera/semantic/image_raw'),
              'labels': (String, 'camera/semantic/labels'),
              'pose': (PoseStamped, 'camera/pose'),
              'info': (CameraInfo, 'camera/color/camera_info')}
    pubs = {s: graph.probe.publisher(t, n, qos.latched(50) if s == 'labels' else
                                     qos.reliable(50)) for s, (t, n) in topics.items()}
    graph.wait(lambda: all(p.get_subscription_count() > 0 for p in pubs.values()), 30.0,
               'the memory node to subscribe')
    graph.probe.spin_for(1.0)
    rounds = 5
    for k in range(rounds):
        for stream, msg in _bad_messages(100.0 + k):
            pubs[stream].publish(msg)
        graph.probe.spin_for(0.05)
    # a well-formed frame whose depth disagrees with its camera info in size
    t = 200.0
    pubs['labels'].publish(labels_msg({1: SegmentLabel('mug')}, t))
    pubs['info'].publish(camera_info_msg(CameraConfig(width=8, height=6).intrinsics, t))
    pubs['pose'].publish(pose_msg(StampedPose(t, (0.0, 0.0, 1.0))))
    pubs['color'].publish(image_msg(np.zeros((6, 8, 3), np.uint8), 'rgb8', t))
    pubs['semantic'].publish(image_msg(np.ones((6, 8), np.int32), '32SC1', t))
    pubs['depth'].publish(image_msg(np.ones((3, 4), np.float32), '32FC1', t))
    expected = {'malformed.depth:bad_encoding': rounds, 'malformed.depth:bad_size': rounds,
                'malformed.color:bad_size': rounds, 'malformed.semantic:bad_encoding': rounds,
                'malformed.labels:bad_labels': 2 * rounds, 'malformed.pose:bad_pose': rounds,
                'malformed.info:bad_camera_info': rounds, 'rejected.size_mismatch': 1}
    graph.wait(lambda: all(graph.value('memory_node', k) >= n for k, n in expected.items()),
               30.0, f'diagnostics counting {expected}')
    assert graph.processes['memory_node'].alive()
    garbage = graph.request({'id': 'after-burst', 'mode': 'teleport'})
    assert garbage['ok'] is False and 'unknown mode' in garbage['error']
    errors = graph.value('memory_node', 'request_errors')
    graph.query_pub.publish(String(data='definitely not json'))
    # Requests are served in order: the one after the bad text is answered only once the
    # bad text has been, and counted.
    after = graph.request({'id': 'after-text', 'mode': 'layout'})
    assert after['ok'] is True
    graph.wait(lambda: graph.value('memory_node', 'request_errors') >= errors + 1, 30.0,
               'the bad text counted as a request error')
    assert graph.processes['memory_node'].alive()


# ------------------------------------------------------------ the bridge alone
@pytest.mark.timeout(60)
def test_bridge_on_sim_time_publishes_clock_layout_and_odometry(tmp_path: Path) -> None:
    from rosgraph_msgs.msg import Clock

    from robot_memory.sim.clock import SIM_EPOCH_S

    graph = Graph(tmp_path)
    try:
        clock = graph.probe.subscribe(Clock, '/clock', qos.reliable(1))
        layout = graph.probe.subscribe(String, 'map/layout', qos.latched())
        odom = graph.probe.subscribe(Odometry, 'odom', qos.reliable())
        graph.start('sim_bridge_node', use_sim_time=True, width_px=WIDTH, height_px=HEIGHT)
        graph.wait(lambda: clock and layout and odom, 40.0, '/clock, map/layout and odom')
        # the world waits while the robot idles (idle_time_scale 0)
        assert clock[-1].clock.sec == int(SIM_EPOCH_S)
        payload = json.loads(layout[0].data)
        assert payload['frame_id'] == 'map'
        rooms = [n for n in payload['layout']['nodes'] if n['id'].startswith('room:')]
        assert len(rooms) == 6
        assert odom[-1].header.frame_id == 'odom' and odom[-1].child_frame_id == 'base_link'
    finally:
        codes = graph.close()
    assert codes == {'sim_bridge_node': 0}, graph.failed_logs



@pytest.mark.timeout(150)
def test_a_goal_waits_for_a_base_that_has_not_started_yet(tmp_path: Path) -> None:
    """A goal published before any goal_pose reader matched would be lost on a volatile
    topic: the planner holds it until the bridge (the base) is there, then it goes out. (The
    goal_pose fallback of a planner without nav2_msgs; test_ros_nav2 drives by the action.)"""
    graph = Graph(tmp_path)
    sim = BuiltinSim(SimConfig(camera=CameraConfig(width=WIDTH, height=HEIGHT)))
    layout_pub = graph.probe.publisher(String, 'map/layout', qos.latched())
    layout_pub.publish(String(data=json.dumps(
        {'stamp': {'sec': int(sim.now_s), 'nanosec': 0}, 'frame_id': 'map',
         'layout': sim.scene_graph().to_dict(), 'diagnostics': {}})))
    try:
        graph.start('memory_node', db_path=str(tmp_path / 'held.db'), use_embeddings=False,
                    sensor_qos_reliable=True, diagnostics_period_s=0.3)
        graph.start('planner_node', max_steps=1, memory_timeout_s=20.0, goal_timeout_s=100.0,
                    navigation='goal_pose')
        graph.wait(lambda: 'layout: 6 rooms' in graph.processes['memory_node'].log(), 40.0,
                   'memory to take the layout')
        graph.wait(lambda: graph.question_pub.get_subscription_count() > 0, 20.0,
                   'the planner to subscribe to questions')
        graph.question_pub.publish(String(data=json.dumps(
            {'id': 'held', 'query': {'type': 'WhereIs', 'target': {'label': 'mug'}}})))
        graph.wait(lambda: graph.value('planner_node', 'goals_held_for_a_reader') >= 1, 40.0,
                   'the planner to hold its goal')
        assert graph.value('planner_node', 'goals_sent') == 0
        graph.start('sim_bridge_node', mode='idle', width_px=WIDTH, height_px=HEIGHT)
        found: list[dict[str, Any]] = []

        def answered() -> bool:
            found[:] = [r for r in (json.loads(m.data) for m in graph.answers)
                        if r.get('id') == 'held']
            return bool(found)

        graph.wait(answered, 90.0, 'the answer after the base came up')
        assert found[0]['ok'] and found[0]['path'], found[0]
        graph.wait(lambda: graph.value('planner_node', 'goals_sent') >= 1, 5.0,
                   'the held goal counted as sent')
    finally:
        codes = graph.close()
    assert set(codes.values()) == {0}, graph.failed_logs

@pytest.mark.timeout(60)
def test_bridge_with_an_unusable_backend_exits_with_a_clear_message(tmp_path: Path) -> None:
    graph = Graph(tmp_path)
    try:
        process = graph.start('sim_bridge_node', backend='habitat')
        process.process.wait(timeout=50)
        assert process.process.returncode == 2
        assert 'habitat_config' in process.log()
    finally:
        graph.close()


@pytest.mark.timeout(150)
def test_class_images_with_a_label_space_file_become_objects_and_markers(
        tmp_path: Path, patrolled: dict[str, Any]) -> None:
    """The bridge publishes class ids (mono16) as a segmentation network would; memory_node
    splits them with config/label_space_sim.yaml: objects in memory, markers out."""
    space_file = Path(__file__).resolve().parents[1] / 'config' / 'label_space_sim.yaml'
    graph = Graph(tmp_path)
    semantic = graph.probe.subscribe(Image, 'camera/semantic/image_raw', qos.sensor(10, False))
    try:
        graph.start('memory_node', db_path=str(tmp_path / 'class.db'), use_embeddings=False,
                    sensor_qos_reliable=True, diagnostics_period_s=0.3, markers_period_s=0.5,
                    segmentation='class', label_space_file=str(space_file))
        graph.start('sim_bridge_node', mode='patrol', patrol_days=1, width_px=WIDTH,
                    height_px=HEIGHT, frame_rate_hz=RATE_HZ, start_after_subscribers=1,
                    start_delay_s=1.0, segmentation='class')
        frames = patrolled['frames']  # the same patrol as the instance-image graph
        graph.wait(lambda: graph.value('memory_node', 'frames.ingested') >= frames
                   and graph.diagnostics.get('sim_bridge_node', {}).get('busy') == 'False',
                   100.0, f'{frames} class-image frames in memory')
        assert semantic and semantic[-1].encoding == 'mono16'
        assert not any(k.startswith(('dropped.', 'malformed.', 'rejected.'))
                       for k in graph.diagnostics['memory_node'])
        objects = graph.value('memory_node', 'memory.objects_in_memory')
        live = patrolled['live_memory']
        instance_objects = len(live.at(live.now_s).objects)
        assert objects >= 0.8 * instance_objects, (objects, instance_objects)
        graph.wait(lambda: graph.markers and sum(m.ns == 'objects'
                                                 for m in graph.markers[-1].markers) > 10,
                   10.0, 'object markers')
    finally:
        codes = graph.close()
    assert codes == {'memory_node': 0, 'sim_bridge_node': 0}, graph.failed_logs
    with MemoryStore(tmp_path / 'class.db', create=False) as store:
        memory = store.load()
    classes = {state.label for state in memory.at(memory.now_s).objects.values()}
    assert classes <= set(yaml.safe_load(space_file.read_text()).values())
    assert {'mug', 'sofa'} & classes

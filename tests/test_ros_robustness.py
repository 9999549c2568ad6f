"""Every message callback of every node survives any payload (issue #29, rows 1 and 10).

Three layers: the parsers a callback uses raise only `InvalidInputError` on crafted input
(table); every subscription callback of the three nodes, called in-process as the executor
would call it, returns normally on random payloads and counts exactly the ones its parser
refuses (hypothesis, 500 examples a topic); and over real DDS, a memory node started while
poisoned transient-local messages are latched keeps running across restarts, and one fed
10 000 malformed messages among good frames keeps mapping and counts every bad one.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('rclpy', reason='rclpy is not installed')

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nav_msgs.msg import OccupancyGrid, Odometry
from rclpy.context import Context
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from robot_memory.core.types import StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.frames import FrameRejected, parse_label_map
from robot_memory.ros import qos
from robot_memory.ros.conversions import (
    camera_info_msg,
    color_from_msg,
    depth_from_msg,
    diagnostic_values,
    image_msg,
    intrinsics_from_msg,
    labels_from_msg,
    labels_msg,
    occupancy_from_msg,
    pose_from_msg,
    pose_msg,
    segments_from_msg,
    stamp_s,
)
from robot_memory.ros.layouts import parse_layout_msg
from robot_memory.ros.params import MemoryNodeParams, PlannerNodeParams, declare_params
from robot_memory.ros.planner_node import parse_question
from robot_memory.ros.probe import NodeProcess, Probe, ros_env

ROOT = Path(__file__).resolve().parents[1]
_domains = itertools.count()


def _domain_id() -> int:
    """A domain of its own per graph, away from test_ros_nodes' (1-200)."""
    return 201 + (os.getpid() * 5 + next(_domains)) % 30


# ------------------------------------------------------------ the parsers
DEEP = '[' * 100_000
LONG_STAMP = '{"stamp": {"sec": ' + '9' * 400 + ', "nanosec": 0}, "labels": {"1": "mug"}}'
CRAFTED = [
    DEEP, '{' * 50_000, '{"a":' * 20_000 + '1' + '}' * 20_000, LONG_STAMP,
    '{"stamp": {"sec": 1e308, "nanosec": 1e308}, "labels": {}}',
    '{"stamp": {"sec": 1e400, "nanosec": 0}, "labels": {}}',
    '{"stamp": {"sec": NaN, "nanosec": 0}, "labels": {}}',
    '{"stamp": {"sec": "1", "nanosec": -1}, "labels": {}}',
    '{"stamp": {"sec": 1, "nanosec": 5000000000}, "labels": {}}',
    '{"stamp": [1, 2]}', '[]', '"text"', '7', 'null', '\ud800', '\x00' * 10,
    '{"labels": {"' + '1' * 5000 + '": "mug"}}', '{"labels": {"99999999999": "mug"}}',
    '{"layout": {"nodes": ' + '[' * 60 + ']' * 60 + '}}', '{"layout": 5}',
    '{"layout": {"nodes": [{"id": 5}], "edges": "x"}}', '',
]


@pytest.mark.parametrize('data', CRAFTED, ids=range(len(CRAFTED)))
def test_crafted_layouts_and_label_maps_raise_only_invalid_input(data: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_layout_msg(data)
    try:
        labels_from_msg(String(data=data))
    except FrameRejected as exc:
        assert exc.reason == 'bad_labels'
    try:
        parse_label_map(data)
    except FrameRejected as exc:
        assert exc.reason == 'bad_labels'


def test_a_400_digit_stamp_names_the_limit() -> None:
    with pytest.raises(FrameRejected, match=r'an integer of 400 digits \(at most 40\)'):
        labels_from_msg(String(data=LONG_STAMP))
    with pytest.raises(InvalidInputError, match=r'map/layout: nested 100000 levels deep'):
        parse_layout_msg(DEEP)


@pytest.mark.parametrize(('field', 'value', 'reason'), [
    ('x', float('nan'), 'bad_pose'), ('x', 1e300, 'bad_pose'), ('z', -1e7, 'bad_pose'),
    ('qw', 1e308, 'bad_pose'), ('nanosec', 2_000_000_000, 'bad_stamp'),
])
def test_poses_with_nan_huge_numbers_or_absurd_stamps_are_rejected(
        field: str, value: float, reason: str) -> None:
    msg = pose_msg(StampedPose(5.0, (1.0, 2.0, 0.0)))
    if field == 'nanosec':
        msg.header.stamp.nanosec = int(value)
    elif field == 'qw':
        msg.pose.orientation.w = value
    else:
        setattr(msg.pose.position, field, value)
    with pytest.raises(FrameRejected) as info:
        pose_from_msg(msg)
    assert info.value.reason == reason


@pytest.mark.parametrize(('width', 'height', 'cells', 'resolution'), [
    (10, 10, 99, 0.05), (0, 10, 0, 0.05), (100_000, 100_000, 4, 0.05),
    (2, 2, 4, float('nan')), (2, 2, 4, 1e300), (2, 2, 4, -1.0)])
def test_occupancy_grids_of_the_wrong_size_or_resolution_are_rejected(
        width: int, height: int, cells: int, resolution: float) -> None:
    grid = OccupancyGrid()
    grid.info.width, grid.info.height, grid.info.resolution = width, height, resolution
    grid.data = [0] * cells
    with pytest.raises(FrameRejected, match='bad_map'):
        occupancy_from_msg(grid)


# ------------------------------------------- every callback, in-process (fuzz)
EXAMPLES = 500


@pytest.fixture(scope='module')
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The three nodes in one private context, never spun: callbacks are called directly."""
    from robot_memory.ros.memory_node import MemoryNode
    from robot_memory.ros.planner_node import PlannerNode
    from robot_memory.ros.sim_bridge_node import SimBridgeNode
    from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig

    tmp = tmp_path_factory.mktemp('fuzz')
    context = Context()
    rclpy.init(context=context, domain_id=_domain_id())
    made = []
    try:
        made.append(MemoryNode(context=context, start_parameter_services=False,
                               parameter_overrides=[
                                   Parameter('db_path', value=str(tmp / 'fuzz.db')),
                                   Parameter('use_embeddings', value=False),
                                   Parameter('map_topic', value='map'),
                                   Parameter('require_layout', value=False)]))
        made.append(PlannerNode(context=context, start_parameter_services=False))
        sim = BuiltinSim(SimConfig(camera=CameraConfig(width=32, height=24)))
        made.append(SimBridgeNode(backend=sim, context=context,
                                  start_parameter_services=False))
        yield {'memory': made[0], 'planner': made[1], 'bridge': made[2]}
    finally:
        for node in reversed(made):
            node.destroy_node()
        rclpy.try_shutdown(context=context)


def _deliver(node: Any, topic: str, msg: Any) -> None:
    """Call a subscription's callback as rclpy's executor does (MessageInfo if it takes it)."""
    import inspect

    sub = next(s for s in node.subscriptions if s.topic_name == f'/{topic}')
    if len(inspect.signature(sub.callback).parameters) == 2:
        sub.callback(msg, {'source_timestamp': 0, 'received_timestamp': 0,
                           'publication_sequence_number': 0})
    else:
        sub.callback(msg)


def _refusals(node: Any) -> int:
    """Every message a memory node counted as malformed or as a callback error."""
    stats = node.stats()
    return sum(stats['malformed'].values()) + sum(stats['callback_errors'].values())


def _refused_by(parse: Callable[[], Any]) -> bool:
    try:
        parse()
    except InvalidInputError:
        return True
    return False


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**60), 10**60)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
# Text a JSON topic may carry: random text, random JSON, crafted nesting and numbers, and
# valid payloads with one part swapped for a random value.
stamps = st.fixed_dictionaries({'sec': json_values, 'nanosec': json_values})


def _layout_dict() -> dict[str, Any]:
    from robot_memory.core import PlaceAttributes, RoomAttributes, SceneGraph

    graph = SceneGraph('flat')
    graph.add_room('room:a', RoomAttributes('a', 'kitchen', ((0.0, 0.0), (4.0, 0.0),
                                                               (4.0, 4.0), (0.0, 4.0))))
    graph.add_place('place:a/0', PlaceAttributes('room:a', (2.0, 2.0, 0.0)))
    return graph.to_dict()


@st.composite
def mutated_layouts(draw: Any) -> str:
    """A valid `map/layout` payload with one value somewhere replaced by a random one."""
    payload: Any = {'stamp': {'sec': 10, 'nanosec': 0}, 'layout': _layout_dict()}
    spot, keys = payload, []
    while isinstance(spot, dict | list) and spot and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(spot) if isinstance(spot, dict)
                                   else range(len(spot))))
        keys.append(key)
        spot = spot[key]
    if keys:
        parent = payload
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = draw(json_values)
    return json.dumps(payload)


payloads = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.integers(1, 3000).map(lambda n: '[' * n),
    st.integers(1, 600).map(lambda n: '{"stamp": {"sec": ' + '7' * n + ', "nanosec": 1}}'),
    st.fixed_dictionaries({'stamp': stamps, 'labels': st.dictionaries(
        st.text(max_size=6), json_values, max_size=4)}).map(json.dumps),
    st.fixed_dictionaries({'stamp': stamps, 'layout': json_values}).map(json.dumps),
    mutated_layouts(),
    st.fixed_dictionaries({'id': json_values, 'query': json_values,
                           'now_s': json_values}).map(json.dumps),
    st.fixed_dictionaries({'question': json_values}).map(json.dumps),
)
reals = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, 1.0, -1.0, 1e300, -1e300, 1e6, 2e6])
stamp_fields = st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 2**32 - 1))
encodings = st.sampled_from(['rgb8', 'bgr8', 'rgba8', '32FC1', '16UC1', '32SC1', 'mono8',
                             'mono16', '8UC1', '', 'jpeg']) | st.text(max_size=10)


@st.composite
def images(draw: Any) -> Image:
    msg = Image(height=draw(st.integers(0, 2**32 - 1) | st.integers(0, 8)),
                width=draw(st.integers(0, 2**32 - 1) | st.integers(0, 8)),
                encoding=draw(encodings), is_bigendian=draw(st.integers(0, 1)),
                step=draw(st.integers(0, 2**32 - 1) | st.integers(0, 32)))
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamp_fields)
    msg.data = draw(st.binary(max_size=300))
    return msg


@st.composite
def camera_infos(draw: Any) -> CameraInfo:
    msg = CameraInfo(height=draw(st.integers(0, 2**32 - 1)), width=draw(st.integers(0, 2**32 - 1)))
    msg.k = [draw(reals) for _ in range(9)]
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamp_fields)
    return msg


@st.composite
def poses(draw: Any) -> PoseStamped:
    msg = PoseStamped()
    msg.header.frame_id = draw(st.sampled_from(['map', '', 'odom']) | st.text(max_size=8))
    msg.header.stamp.sec, msg.header.stamp.nanosec = draw(stamp_fields)
    p, q = msg.pose.position, msg.pose.orientation
    p.x, p.y, p.z, q.x, q.y, q.z, q.w = (draw(reals) for _ in range(7))
    return msg


@st.composite
def grids(draw: Any) -> OccupancyGrid:
    """A valid small grid with at most one field made random, or a random grid."""
    msg = OccupancyGrid()
    w, h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    msg.info.width, msg.info.height, msg.info.resolution = w, h, 0.05
    msg.data = draw(st.lists(st.sampled_from([-1, 0, 100]), min_size=w * h, max_size=w * h))
    field = draw(st.sampled_from(['none', 'size', 'data', 'resolution', 'origin', 'rotation']))
    if field == 'size':
        msg.info.width, msg.info.height = draw(st.integers(0, 2**32 - 1)), \
            draw(st.integers(0, 2**32 - 1))
    elif field == 'data':
        msg.data = draw(st.lists(st.integers(-128, 127), max_size=150))
    elif field == 'resolution':
        msg.info.resolution = draw(st.floats(width=32))
    elif field == 'origin':
        msg.info.origin.position.x = draw(reals)
    elif field == 'rotation':
        msg.info.origin.orientation.z = draw(reals)
    return msg


def _stamped(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An image decoder that also reads the stamp, as the assembler does."""
    return lambda msg: (stamp_s(msg.header.stamp), decode(msg))


SENSORS = {
    'depth': ('camera/depth/image_rect', images(), _stamped(depth_from_msg)),
    'color': ('camera/color/image_raw', images(), _stamped(color_from_msg)),
    'semantic': ('camera/semantic/image_raw', images(), _stamped(segments_from_msg)),
    'info': ('camera/color/camera_info', camera_infos(), intrinsics_from_msg),
    'pose': ('camera/pose', poses(), None),
    'labels': ('camera/semantic/labels', payloads.map(lambda d: String(data=d)),
               labels_from_msg),
}


def _pose_refused(msg: PoseStamped) -> bool:
    return _refused_by(lambda: pose_from_msg(msg)) or \
        (msg.header.frame_id or 'map') != 'map'


@pytest.mark.ros
@pytest.mark.parametrize('stream', SENSORS)
def test_sensor_callbacks_return_and_count_exactly_what_their_decoder_refuses(
        nodes: dict[str, Any], stream: str) -> None:
    node = nodes['memory']
    topic, messages, decode = SENSORS[stream]

    @FUZZ
    @given(msg=messages)
    def check(msg: Any) -> None:
        refused = _pose_refused(msg) if decode is None else _refused_by(lambda: decode(msg))
        before = _refusals(node)
        _deliver(node, topic, msg)
        assert _refusals(node) - before == int(refused)

    check()
    assert node._worker.is_alive()


@pytest.mark.ros
@pytest.mark.parametrize(('topic', 'messages', 'parse'), [
    ('map/layout', payloads, lambda msg: parse_layout_msg(msg.data)),
    ('memory/query', payloads | st.just('{' * (1024 * 1024 + 1)), None),
    ('map', grids(), occupancy_from_msg),
], ids=['layout', 'query', 'map'])
def test_layout_query_and_map_callbacks_return_and_count_what_they_refuse(
        nodes: dict[str, Any], topic: str, messages: Any, parse: Any) -> None:
    node = nodes['memory']

    @FUZZ
    @given(payload=messages)
    def check(payload: Any) -> None:
        msg = String(data=payload) if isinstance(payload, str) else payload
        refused = (len(payload) > 1024 * 1024 if parse is None
                   else _refused_by(lambda: parse(msg)))
        before = _refusals(node)
        _deliver(node, topic, msg)
        after = _refusals(node)
        # A grid that parses may still not segment into rooms: then it counts too.
        assert after - before == int(refused) or (topic == 'map' and after - before == 1)

    check()
    assert node._worker.is_alive()
    assert not node.stats()['callback_errors']


def _planner_counts(node: Any) -> int:
    return sum(n for k, n in node.counts.items()
               if k.startswith(('malformed', 'callback_errors')))


@pytest.mark.ros
def test_planner_question_callback_counts_every_question_it_cannot_read(
        nodes: dict[str, Any]) -> None:
    node = nodes['planner']

    @FUZZ
    @given(data=payloads | st.just('x' * 70_000) | st.just('   '))
    def check(data: str) -> None:
        refused = _refused_by(lambda: parse_question(data))
        before = _planner_counts(node)
        _deliver(node, 'question', String(data=data))
        assert _planner_counts(node) - before >= int(refused)

    check()


@pytest.mark.ros
def test_planner_survives_any_memory_reply_and_any_odometry(nodes: dict[str, Any]) -> None:
    node = nodes['planner']

    @FUZZ
    @given(body=json_values | payloads, use_id=st.booleans())
    def replies(body: Any, use_id: bool) -> None:
        if node._session is None or node._session.pending is None:
            node._session = None
            node._questions.clear()
            _deliver(node, 'question', String(data=json.dumps(
                {'id': 'fuzz', 'query': {'type': 'WhereIs', 'target': {'label': 'mug'}}})))
        session = node._session
        if use_id and session is not None and session.pending is not None and \
                isinstance(body, dict):
            body = {**body, 'id': session.pending.request_id}
        data = body if isinstance(body, str) else json.dumps(body)
        _deliver(node, 'memory/answer', String(data=data))

    @FUZZ
    @given(x=reals, y=reals, speed=reals, stamp=stamp_fields)
    def odometry(x: float, y: float, speed: float, stamp: tuple[int, int]) -> None:
        msg = Odometry()
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
        msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
        msg.twist.twist.linear.x = speed
        bad = not all(np.isfinite([x, y, speed])) or stamp[1] >= 10**9
        before = _planner_counts(node)
        _deliver(node, 'odom', msg)
        assert _planner_counts(node) - before == int(bad)

    replies()
    odometry()
    assert not any(k.startswith('callback_errors') for k in node.counts), node.counts


@pytest.mark.ros
def test_bridge_rejects_and_counts_goals_and_commands_it_cannot_obey(
        nodes: dict[str, Any]) -> None:
    node = nodes['bridge']

    @FUZZ
    @given(x=reals, y=reals, frame=st.sampled_from(['map', '', 'odom']))
    def goals(x: float, y: float, frame: str) -> None:
        msg = PoseStamped()
        msg.header.frame_id = frame
        msg.pose.position.x, msg.pose.position.y = x, y
        bad = frame == 'odom' or not (np.isfinite(x) and np.isfinite(y)) or \
            max(abs(x), abs(y)) > 1e6
        before = node.counts['goals_rejected']
        _deliver(node, 'goal_pose', msg)
        assert node.counts['goals_rejected'] - before == int(bad)

    @FUZZ
    @given(v=reals, w=reals)
    def commands(v: float, w: float) -> None:
        msg = Twist()
        msg.linear.x, msg.angular.z = v, w
        bad = not (np.isfinite(v) and np.isfinite(w) and abs(v) <= 100 and abs(w) <= 100)
        before = node.counts['cmd_vel_rejected']
        _deliver(node, 'cmd_vel', msg)
        assert node.counts['cmd_vel_rejected'] - before == int(bad)

    goals()
    commands()
    assert not any(k.startswith('callback_errors') for k in node.counts), node.counts


@pytest.mark.ros
def test_an_unforeseen_exception_is_counted_and_logged_not_raised(
        nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    node = nodes['memory']
    before = node.stats()['callback_errors'].get('layout:ZeroDivisionError', 0)

    def broken(data: str) -> Any:
        raise ZeroDivisionError('a bug nobody foresaw')

    monkeypatch.setattr('robot_memory.ros.memory_node.parse_layout_message', broken)
    for k in range(3):
        _deliver(node, 'map/layout', String(data=f'{{"k": {k}}}'))
    assert node.stats()['callback_errors']['layout:ZeroDivisionError'] == before + 3


@pytest.mark.ros
def test_a_refused_payload_replayed_is_counted_again_without_being_parsed(
        nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    node = nodes['memory']
    poison = '{"stamp": {"sec": ' + '8' * 401 + '}, "layout": {}}'
    before = node.stats()['malformed'].get('layout:invalid', 0)
    _deliver(node, 'map/layout', String(data=poison))
    parsed = []
    monkeypatch.setattr('robot_memory.ros.memory_node.parse_layout_message',
                        lambda data: parsed.append(data))
    for _ in range(5):  # what every new transient-local match replays
        _deliver(node, 'map/layout', String(data=poison))
    assert node.stats()['malformed']['layout:invalid'] == before + 6
    assert parsed == []


# ------------------------------------------------------ over real DDS
class Graph:
    """Node processes on one domain and a probe that collects their diagnostics."""

    def __init__(self, tmp: Path) -> None:
        self.domain_id = _domain_id()
        self.tmp = tmp
        self.env = ros_env(self.domain_id)
        self.processes: dict[str, NodeProcess] = {}
        self.probe = Probe(self.domain_id, 'robustness_probe')
        self.diagnostics: dict[str, str] = {}
        self.probe.subscribe(DiagnosticArray, 'diagnostics', 50, self._on_diagnostics)
        self.replies = self.probe.subscribe(String, 'memory/answer', qos.reliable(50))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.startswith('memory_node'):
                self.diagnostics = diagnostic_values(status)

    def start(self, name: str, **params: Any) -> NodeProcess:
        process = NodeProcess('memory_node', params, self.env, self.tmp / f'{name}.log')
        self.processes[name] = process
        return process

    def total(self, prefix: str) -> int:
        return sum(int(v) for k, v in self.diagnostics.items() if k.startswith(prefix))

    def value(self, key: str) -> float:
        return float(self.diagnostics.get(key, 0) or 0)

    def wait(self, predicate: Callable[[], Any], timeout_s: float, what: str) -> None:
        if not self.probe.spin_until(predicate, timeout_s):
            logs = '\n'.join(f'--- {n}\n{p.log()[-3000:]}' for n, p in self.processes.items())
            raise AssertionError(f'timed out waiting for {what}\n{self.diagnostics}\n{logs}')

    def close(self) -> dict[str, int]:
        codes = {name: process.stop() for name, process in self.processes.items()}
        self.logs = {name: process.log()[-3000:] for name, process in self.processes.items()}
        self.probe.close()
        return codes


POISON = [('map/layout', DEEP), ('camera/semantic/labels', LONG_STAMP),
          ('camera/semantic/labels', DEEP)]


@pytest.mark.ros
@pytest.mark.timeout(180)
def test_poisoned_latched_messages_are_counted_and_survived_across_restarts(
        tmp_path: Path) -> None:
    """Red-team row 1: `map/layout` = '[' * 100000 and label maps with a 400-digit stamp or
    '[' * 100000, latched (transient-local) before the node starts, so every (re)start of
    memory_node is handed them first. It counts them, keeps running and still maps."""
    graph = Graph(tmp_path)
    pubs = {topic: graph.probe.publisher(String, topic, qos.latched(10)) for topic, _ in POISON}
    for topic, data in POISON:
        pubs[topic].publish(String(data=data))
    try:
        for run in range(3):
            node = graph.start(f'memory_{run}', db_path=str(tmp_path / 'm.db'),
                               use_embeddings=False, diagnostics_period_s=0.3)
            graph.diagnostics = {}
            graph.wait(lambda node=node: not node.alive() or (
                graph.total('malformed.layout') >= 1
                and graph.total('malformed.labels') >= 2), 60.0,
                f'restart {run} to count the latched poison')
            assert node.alive(), f'memory_node died on restart {run}:\n{node.log()[-3000:]}'
            assert graph.value('malformed.layout:invalid') == 1
            assert graph.value('malformed.labels:bad_labels') == 2
            assert graph.total('callback_errors') == 0
            # Each distinct payload is logged once, and the node still serves requests.
            log = node.log()
            assert log.count('ignoring a malformed layout message') == 1
            assert log.count('ignoring a malformed labels message') == 2
            query = graph.probe.publisher(String, 'memory/query', qos.reliable(50))
            graph.wait(lambda query=query: query.get_subscription_count() > 0, 20.0,
                       'a query listener')
            query.publish(String(data=json.dumps({'id': f'alive-{run}', 'mode': 'layout'})))
            graph.wait(lambda run=run: any(json.loads(m.data).get('id') == f'alive-{run}'
                                           for m in graph.replies), 20.0, 'the reply')
            assert node.stop() == 0, node.log()[-3000:]
    finally:
        graph.close()


# The good frames of the soak and the malformed messages between them (seeded).
SOAK_BAD = 10_000
SOAK_FRAMES = 40


def _bad_message(rng: np.random.Generator, k: int) -> tuple[str, Any]:
    """One malformed message of a random sensor stream, malformed in a random way."""
    t = 50.0 + k * 1e-3  # far from the frames' stamps: nothing pairs with them anyway
    kind = int(rng.integers(12))
    if kind == 0:
        return 'depth', image_msg(np.zeros((4, 4), np.uint8), 'mono8', t)
    if kind == 1:
        msg = image_msg(np.zeros((4, 4), np.float32), '32FC1', t)
        msg.data = bytes(int(rng.integers(0, 60)))
        return 'depth', msg
    if kind == 2:
        return 'color', Image(height=int(rng.integers(1, 2**31)), width=100_000,
                              encoding='rgb8', step=300_000)
    if kind == 3:
        return 'semantic', image_msg(np.zeros((3, 3), np.float32), '32FC1', t)
    if kind == 4:
        return 'labels', String(data='[' * int(rng.integers(65, 5000)))
    if kind == 5:
        digits = '9' * int(rng.integers(41, 500))
        return 'labels', String(data='{"stamp": {"sec": ' + digits + ', "nanosec": 0}}')
    if kind == 6:
        junk = rng.integers(32, 127, int(rng.integers(1, 80))).astype(np.uint8).tobytes()
        return 'labels', String(data='{' + junk.decode() + '[')
    if kind == 7:
        return 'labels', String(data=json.dumps({'stamp': {'sec': 1, 'nanosec': 0},
                                                 'labels': {'x': 'mug'}}))
    if kind == 8:
        msg = pose_msg(StampedPose(t, (0.0, 0.0, 0.0)))
        msg.pose.position.x = [float('nan'), float('inf'), 1e300][k % 3]
        return 'pose', msg
    if kind == 9:
        msg = pose_msg(StampedPose(t, (0.0, 0.0, 0.0)))
        msg.header.stamp.nanosec = 1_000_000_000 + int(rng.integers(0, 10**9))
        return 'pose', msg
    if kind == 10:
        msg = CameraInfo(width=8, height=6)
        msg.k = [float('nan')] * 9
        return 'info', msg
    return 'info', CameraInfo()


SOAK_TOPICS = {'depth': (Image, 'camera/depth/image_rect'),
               'color': (Image, 'camera/color/image_raw'),
               'semantic': (Image, 'camera/semantic/image_raw'),
               'labels': (String, 'camera/semantic/labels'),
               'pose': (PoseStamped, 'camera/pose'),
               'info': (CameraInfo, 'camera/color/camera_info')}


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ten_thousand_malformed_messages_among_frames_are_counted_and_mapping_goes_on(
        tmp_path: Path) -> None:
    import time

    from robot_memory.sim import BuiltinSim, CameraConfig, SimConfig

    sim = BuiltinSim(SimConfig(camera=CameraConfig(width=80, height=60)))
    frames = list(itertools.islice(sim.patrol_day(0), SOAK_FRAMES))
    graph = Graph(tmp_path)
    layout = graph.probe.publisher(String, 'map/layout', qos.latched())
    layout.publish(String(data=json.dumps({'stamp': {'sec': int(sim.now_s) - 3600,
                                                     'nanosec': 0},
                                           'layout': sim.scene_graph().to_dict()})))
    # Deep reliable queues at both ends and a wait for the counts after every batch: every
    # message sent is delivered, so the node's counts can be compared with what was sent.
    depth = 2000
    pubs = {s: graph.probe.publisher(t, n, qos.latched(depth) if s == 'labels' else
                                     qos.reliable(depth)) for s, (t, n) in SOAK_TOPICS.items()}
    rng = np.random.default_rng(0)
    try:
        node = graph.start('memory', db_path=str(tmp_path / 'soak.db'), use_embeddings=False,
                           sensor_qos_reliable=True, sensor_queue_msgs=depth,
                           ingest_queue_frames=SOAK_FRAMES, diagnostics_period_s=0.3)
        graph.wait(lambda: all(p.get_subscription_count() > 0 for p in pubs.values())
                   and graph.value('layout.rooms') > 0, 60.0, 'the node and its layout')
        t0 = time.monotonic()
        sent = 0
        per_frame = SOAK_BAD // SOAK_FRAMES
        for i, frame in enumerate(frames):
            for _ in range(per_frame):
                stream, msg = _bad_message(rng, sent)
                pubs[stream].publish(msg)
                sent += 1
            t = frame.stamp_s
            pubs['labels'].publish(labels_msg(frame.labels, t, frame.frame_index))
            pubs['info'].publish(camera_info_msg(frame.intrinsics, t))
            pubs['pose'].publish(pose_msg(StampedPose.from_matrix(t, frame.map_T_camera)))
            pubs['color'].publish(image_msg(frame.rgb, 'rgb8', t))
            pubs['semantic'].publish(image_msg(frame.segments.astype('<i4'), '32SC1', t))
            pubs['depth'].publish(image_msg(frame.depth_m.astype('<f4'), '32FC1', t))
            if i % 5 == 4:
                graph.wait(lambda sent=sent: not node.alive()
                           or graph.total('malformed.') >= sent,
                           60.0, f'{sent} malformed messages counted')
                assert node.alive(), node.log()[-3000:]
        graph.wait(lambda: graph.total('malformed.') >= sent
                   and graph.value('frames.ingested') >= SOAK_FRAMES, 60.0,
                   'every bad message counted and every frame ingested')
        seconds = time.monotonic() - t0
        counted = graph.total('malformed.')
        print(f'soak: {sent} malformed messages sent, {counted} counted, '
              f'{graph.value("frames.ingested"):.0f} of {SOAK_FRAMES} frames ingested '
              f'({graph.value("frames.accepted"):.0f} accepted, '
              f'{graph.value("memory.objects_in_memory"):.0f} objects) in {seconds:.1f} s')
        assert counted == sent == SOAK_BAD
        # Skipping a replayed refusal still reads its sequence number: nothing counts as lost.
        assert graph.total('dropped.') == 0 and graph.total('callback_errors') == 0
        assert graph.value('frames.accepted') == SOAK_FRAMES
        assert graph.value('memory.objects_in_memory') > 0
    finally:
        codes = graph.close()
    assert codes == {'memory': 0}, graph.logs


# ---------------------------------------------------------------- params
@pytest.fixture
def context() -> Iterator[Context]:
    context = Context()
    rclpy.init(context=context, domain_id=_domain_id())
    yield context
    rclpy.try_shutdown(context=context)


@pytest.mark.parametrize(('cls', 'name', 'value', 'message'), [
    (MemoryNodeParams, 'rss_warn_mb', float('nan'),
     'parameter rss_warn_mb: Parameter rss_warn_mb out of range'),  # a ranged float
    (MemoryNodeParams, 'commit_interval_s', float('nan'),
     'parameter commit_interval_s must be a finite number, got nan'),
    (MemoryNodeParams, 'markers_period_s', float('inf'),
     'parameter markers_period_s must be a finite number, got inf'),
    (PlannerNodeParams, 'memory_timeout_s', float('-inf'),
     'parameter memory_timeout_s: Parameter memory_timeout_s out of range'),
])
def test_a_nan_or_infinite_start_value_is_refused_with_its_name(
        context: Context, cls: type, name: str, value: float, message: str) -> None:
    from rclpy.node import Node

    node = Node('params_nan', context=context, start_parameter_services=False,
                parameter_overrides=[Parameter(name, value=value)])
    try:
        with pytest.raises(InvalidInputError) as info:
            declare_params(node, cls)
        assert str(info.value).startswith(message)
    finally:
        node.destroy_node()


def test_a_nan_live_value_is_refused_with_the_reason(context: Context) -> None:
    from rclpy.node import Node

    node = Node('params_live_nan', context=context, start_parameter_services=False)
    try:
        node.params = before = declare_params(node, MemoryNodeParams)
        result = node.set_parameters_atomically([Parameter('query_wait_max_s',
                                                           value=float('nan'))])
        assert not result.successful and 'query_wait_max_s' in result.reason
        assert node.params == before
    finally:
        node.destroy_node()


PARAMS_FILES = {
    'nan_ranged': ('memory_node', 'memory_node:\n  ros__parameters:\n    rss_warn_mb: .nan\n',
                   'cannot start: parameter rss_warn_mb: Parameter rss_warn_mb out of range'),
    'inf_ranged': ('planner_node', 'planner_node:\n  ros__parameters:\n'
                   '    goal_timeout_s: .inf\n',
                   'cannot start: parameter goal_timeout_s: Parameter goal_timeout_s out of'),
    'nan_plain': ('memory_node', 'memory_node:\n  ros__parameters:\n'
                  '    commit_interval_s: .nan\n',
                  'cannot start: parameter commit_interval_s must be a finite number, got nan'),
    'broken_yaml': ('memory_node', 'memory_node:\n  ros__parameters:\n    rss_warn_mb: [1, 2\n',
                    "cannot start: failed to initialize rcl: Couldn't parse params file"),
    'not_a_mapping': ('planner_node', '- just\n- a list\n',
                      "cannot start: failed to initialize rcl: Couldn't parse params file"),
}


@pytest.mark.ros
@pytest.mark.timeout(90)
@pytest.mark.parametrize('case', PARAMS_FILES)
def test_a_node_given_a_bad_params_file_exits_2_with_one_line(
        tmp_path: Path, case: str) -> None:
    node, text, line = PARAMS_FILES[case]
    path = tmp_path / 'params.yaml'
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, '-m', f'robot_memory.ros.{node}', '--ros-args', '--params-file',
         str(path)], env=ros_env(_domain_id()), capture_output=True, text=True, timeout=80,
        check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert line in output, output
    assert 'Traceback' not in output, output

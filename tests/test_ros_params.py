"""Tests of the node parameter dataclasses, their YAML mirrors and their declaration."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.params import (
    MemoryNodeParams,
    PlannerNodeParams,
    SimBridgeParams,
    declare_params,
    describe,
)

ROOT = Path(__file__).resolve().parents[1]
CLASSES = {'memory_node': MemoryNodeParams, 'planner_node': PlannerNodeParams,
           'sim_bridge_node': SimBridgeParams}
UNITS = ('_s', '_m', '_hz', '_px', '_deg', '_mps', '_per_m', '_mb')
COUNTS = ('_frames', '_msgs', '_points', '_px', '_days', '_day', '_views', '_steps',
          '_retries', '_subscribers')
UNITLESS = {'detection_prob', 'confidence_stop', 'idle_time_scale', 'seed', 'min_confidence'}


@pytest.mark.parametrize('cls', CLASSES.values(), ids=CLASSES.keys())
def test_every_parameter_is_described_and_names_its_unit(cls: type) -> None:
    for f in fields(cls):
        description = f.metadata.get('description', '')
        assert description.endswith('.') and len(description) > 10, f.name
        if f.type in ('float', 'int') and f.name not in UNITLESS:
            assert f.name.endswith(UNITS if f.type == 'float' else COUNTS), f.name


@pytest.mark.parametrize(('path', 'node'), [
    ('config/robot_memory.yaml', 'memory_node'), ('config/robot_memory.yaml', 'planner_node'),
    ('config/robot_example.yaml', 'memory_node'),
    ('config/robot_example.yaml', 'planner_node'), ('config/sim.yaml', 'sim_bridge_node')])
def test_config_files_mirror_the_dataclasses(path: str, node: str) -> None:
    values = yaml.safe_load((ROOT / path).read_text())[node]['ros__parameters']
    assert 'use_sim_time' in values
    values.pop('use_sim_time')
    assert set(values) == set(describe(CLASSES[node]))
    assert CLASSES[node](**values)  # valid as written


@pytest.mark.parametrize('path', ['config/sim.yaml', 'config/fleet_example.yaml'])
def test_override_files_name_only_real_parameters(path: str) -> None:
    config = yaml.safe_load((ROOT / path).read_text())
    for node, section in config.items():
        assert set(section['ros__parameters']) - {'use_sim_time'} <= set(describe(CLASSES[node]))


@pytest.mark.parametrize(('cls', 'kwargs', 'message'), [
    (SimBridgeParams, {'backend': 'gazebo'}, "backend 'gazebo'; valid: builtin, habitat"),
    (SimBridgeParams, {'mode': 'run'}, "mode 'run'; valid: idle, patrol, stream"),
    (SimBridgeParams, {'frame_rate_hz': 0.0}, 'frame_rate_hz must be a positive number, '
                                              'got 0.0'),
    (MemoryNodeParams, {'sync_tolerance_s': -1.0}, 'sync_tolerance_s must be a number ≥ 0, '
                                                   'got -1.0'),
    (PlannerNodeParams, {'detection_prob': 1.5}, 'detection_prob and confidence_stop must '
                                                 'be in (0, 1], got 1.5, 0.97'),
    (PlannerNodeParams, {'navigation': 'nav1'}, "navigation 'nav1'; valid: nav2, goal_pose"),
    (SimBridgeParams, {'navigation': ''}, "navigation ''; valid: nav2, goal_pose"),
    (SimBridgeParams, {'goal_tolerance_m': 0.0}, 'goal_tolerance_m must be a positive number, '
                                                 'got 0.0'),
])
def test_bad_values_raise_with_the_name_and_the_valid_ones(cls: type, kwargs: dict,
                                                           message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        cls(**kwargs)
    assert str(info.value) == message


@pytest.fixture
def node_factory():
    """Real rclpy nodes in a private context, with parameter overrides."""
    rclpy = pytest.importorskip('rclpy')
    from rclpy.context import Context
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    context = Context()
    rclpy.init(context=context, domain_id=0)
    nodes = []

    def make(overrides: dict[str, object]) -> Node:
        node = Node(f'params_test_{len(nodes)}', context=context, start_parameter_services=False,
                    parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.destroy_node()
    rclpy.try_shutdown(context=context)


def test_declaration_coerces_yaml_integers_and_keeps_descriptions(node_factory) -> None:
    node = node_factory({'frame_rate_hz': 30, 'width_px': 160})
    params = declare_params(node, SimBridgeParams)
    assert params.frame_rate_hz == 30.0 and isinstance(params.frame_rate_hz, float)
    assert params.width_px == 160
    assert node.describe_parameter('frame_rate_hz').description.startswith('Frames published')
    with pytest.raises(InvalidInputError, match='parameter width_px must be an integer'):
        declare_params(node_factory({'width_px': 'wide'}), SimBridgeParams)


def test_declaration_on_a_real_node_reads_overrides(node_factory) -> None:
    node = node_factory({'max_steps': 3, 'cost_per_m': 1})
    params = declare_params(node, PlannerNodeParams)
    assert params.max_steps == 3 and params.cost_per_m == 1.0
    described = node.describe_parameter('arrival_tolerance_m')
    assert 'arrived' in described.description


def _set(node, **values) -> object:
    from rclpy.parameter import Parameter

    return node.set_parameters_atomically([Parameter(k, value=v) for k, v in values.items()])


def test_a_live_parameter_is_applied_and_the_node_is_told(node_factory) -> None:
    node = node_factory({})
    seen = []
    node.params = declare_params(node, MemoryNodeParams, lambda old, new: seen.append(
        (old.sync_tolerance_s, new.sync_tolerance_s)))
    result = _set(node, sync_tolerance_s=0.05)
    assert result.successful, result.reason
    assert node.params.sync_tolerance_s == 0.05 and seen == [(0.02, 0.05)]
    assert isinstance(node.params, MemoryNodeParams)


def test_a_read_only_parameter_cannot_be_set_and_says_why(node_factory) -> None:
    node = node_factory({})
    node.params = declare_params(node, MemoryNodeParams)
    result = _set(node, db_path='other.db')
    assert not result.successful and 'read-only' in result.reason
    assert node.params.db_path == 'robot_memory.db'
    assert node.describe_parameter('db_path').read_only
    assert node.describe_parameter('db_path').description.endswith('Read-only: set it at start.')


@pytest.mark.parametrize(('values', 'reason'), [
    ({'sync_tolerance_s': 5.0}, 'sync_tolerance_s out of range'),  # rclpy's range check
    ({'sync_tolerance_s': 5}, 'sync_tolerance_s must be in [0.0, 1.0], got 5.0'),  # ours
    ({'detection_prob': 'high'}, 'parameter detection_prob must be a number'),
    ({'detection_prob': 0.0}, 'detection_prob and confidence_stop must be in (0, 1]'),
])
def test_an_invalid_live_value_is_refused_with_the_reason(node_factory, values, reason) -> None:
    cls = MemoryNodeParams if 'sync_tolerance_s' in values else PlannerNodeParams
    node = node_factory({})
    node.params = before = declare_params(node, cls)
    result = _set(node, **values)
    assert not result.successful
    assert reason in result.reason
    assert node.params == before


def test_ranges_and_read_only_flags_are_described(node_factory) -> None:
    node = node_factory({})
    node.params = declare_params(node, PlannerNodeParams)
    described = node.describe_parameter('max_steps')
    assert not described.read_only
    assert (described.integer_range[0].from_value, described.integer_range[0].to_value) == (0, 100)
    prob = node.describe_parameter('detection_prob').floating_point_range[0]
    assert (prob.from_value, prob.to_value) == (0.0, 1.0)


def test_habitat_backend_needs_its_config_file() -> None:
    from robot_memory.ros.sim_bridge_node import make_backend

    with pytest.raises(InvalidInputError, match='backend habitat needs habitat_config'):
        make_backend(SimBridgeParams(backend='habitat'))


def test_habitat_config_file_is_a_valid_habitat_config() -> None:
    from robot_memory.sim.habitat_backend import HabitatConfig

    config = HabitatConfig.from_yaml(ROOT / 'config' / 'habitat.yaml')
    assert config.sensor_width_px == 640 and config.scene_path.endswith('.glb')


def test_a_regions_file_is_a_layout_for_the_memory_node() -> None:
    from pathlib import Path

    from robot_memory.ros.memory_node import load_layout

    example = Path(__file__).resolve().parents[1] / 'sim' / 'regions_example.yaml'
    layout = load_layout(str(example))
    assert 'room:kitchen' in layout.rooms
    assert layout.places


@pytest.mark.timeout(60)
def test_without_tf2_a_tf_pose_source_falls_back_to_the_pose_topic(tmp_path: Path) -> None:
    import importlib.util

    import rclpy
    from rclpy.parameter import Parameter

    from robot_memory.ros.memory_node import MemoryNode

    if importlib.util.find_spec('tf2_ros') is not None:
        pytest.skip('tf2_ros is installed here: the fallback is not exercised')
    rclpy.init(domain_id=180 + os.getpid() % 40)
    try:
        node = MemoryNode(parameter_overrides=[
            Parameter('pose_source', value='tf'),
            Parameter('db_path', value=str(tmp_path / 'm.db')),
            Parameter('map_topic', value='map')])
        topics = {s.topic_name for s in node.subscriptions}
        assert node._tf_buffer is None
        assert any(t.endswith('camera/pose') for t in topics)
        assert any(t.endswith('/map') for t in topics)
        node.destroy_node()
    finally:
        rclpy.try_shutdown()


def test_the_robot_example_builds_valid_parameters() -> None:
    values = yaml.safe_load((ROOT / 'config' / 'robot_example.yaml').read_text())
    memory = values['memory_node']['ros__parameters']
    memory.pop('use_sim_time')
    params = MemoryNodeParams(**memory)
    assert params.pose_source == 'tf' and params.map_topic == 'map'


def test_the_bridge_builds_a_simulator_whose_detector_errs_as_asked() -> None:
    pytest.importorskip('rclpy')
    pytest.importorskip('open3d', reason='the built-in simulator needs open3d')
    from robot_memory.ros.sim_bridge_node import make_backend
    from robot_memory.sim.detector import DETECTOR_PRESETS

    small = {'width_px': 160, 'height_px': 120}
    assert make_backend(SimBridgeParams(**small)).config.detector.perfect
    noisy = make_backend(SimBridgeParams(detector='poor', **small))
    assert noisy.config.detector == DETECTOR_PRESETS['poor']
    with pytest.raises(InvalidInputError, match='neither a preset'):
        make_backend(SimBridgeParams(detector='noisy', **small))

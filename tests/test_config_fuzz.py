"""Random YAML at every file loader: a clear project error or a result, never anything else."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robot_memory.core import SceneGraph
from robot_memory.core.taxonomy import Taxonomy, load_affordances
from robot_memory.eval.questions import load_questions
from robot_memory.exceptions import RobotMemoryError
from robot_memory.language.phrasings import load_phrasings
from robot_memory.perception.class_segments import LabelSpace, load_label_space
from robot_memory.perception.rooms import load_regions
from robot_memory.ros.rviz_config import rviz_topics
from robot_memory.sim.backend import SimConfig, load_scenario
from robot_memory.sim.detector import DetectorConfig, load_detector
from robot_memory.sim.habitat_backend import HabitatConfig
from robot_memory.sim.world import World, load_spec

KEYS = ['rooms', 'regions', 'camera', 'render', 'activity', 'detector', 'speed_mps', 'seed',
        'width', 'wdth', 'scene', 'labels', 'where_now', 'polygon', 'name', 'Visualization '
        'Manager', 'Displays', 'Topic', 'Value', 'Class', 'frame_id', 'places', 'layout',
        'patrol_start_hours', 'patrol_rooms', 'miss_rate', 'kind', 'nodes', 'edges']
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(KEYS))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=20)
texts = st.one_of(values.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
                  st.text(max_size=80), st.binary(max_size=60).map(
                      lambda b: b.decode('latin-1')))


def _layout(path: Path) -> Any:
    from robot_memory.ros.memory_node import load_layout

    return load_layout(str(path))


RESULT_TYPES: dict[str, type | tuple[type, ...]] = {
    'world spec': World, 'scenario': SimConfig, 'detector': DetectorConfig,
    'habitat config': HabitatConfig, 'regions': (list, tuple, dict), 'layout': SceneGraph,
    'label space': LabelSpace, 'taxonomy': Taxonomy, 'affordances': dict, 'phrasings': dict,
    'rviz config': list, 'question file': list,
}
LOADERS: dict[str, Callable[[Path], Any]] = {
    'world spec': lambda p: World.named(str(load_spec(p) and p), 0),
    'scenario': load_scenario,
    'detector': lambda p: load_detector(str(p)),
    'habitat config': HabitatConfig.from_yaml,
    'regions': load_regions,
    'layout': _layout,
    'label space': load_label_space,
    'taxonomy': Taxonomy.from_yaml,
    'affordances': load_affordances,
    'phrasings': load_phrasings,
    'rviz config': rviz_topics,
    'question file': load_questions,
}


@pytest.mark.parametrize('name', sorted(LOADERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_random_yaml_gives_a_clear_error_or_a_result(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'input.yaml'
        path.write_text(text, encoding='utf-8')
        try:
            result = LOADERS[name](path)
        except RobotMemoryError as exc:
            message = str(exc)
            assert str(path) in message  # the error says which file
            assert 'Traceback' not in message and len(message) < 4000
        else:
            assert isinstance(result, RESULT_TYPES[name])


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
def test_random_scenario_mappings_give_a_clear_error_or_a_config(data: dict[str, Any]) -> None:
    try:
        config = load_scenario(data)
    except RobotMemoryError as exc:
        # The error names a section or key it was given (or the scenario as a whole).
        assert any(str(key) in str(exc) for key in [*data, 'scenario']), str(exc)
    else:
        assert isinstance(config, SimConfig)
        assert config.camera.width > 0 and config.speed_mps > 0


@pytest.mark.parametrize(('data', 'message'), [
    ({'camera': {'wdth': 3}}, "camera: unknown key 'wdth'"),
    ({'speed_mps': 'fast'}, "speed_mps must be a number, got 'fast'"),
    ({'patrol_start_hours': 'nine'}, "patrol_start_hours must be a list, got 'nine'"),
])
def test_scenario_errors_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RobotMemoryError, match=message):
        load_scenario(data)

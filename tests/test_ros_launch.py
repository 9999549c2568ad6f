"""Static tests of the launch files, the RViz configuration and the installed files.

The launch files are checked by parsing them (no launch system needed), and, where `launch_ros`
is importable, by building their launch description with it. `test_ros_launch_real.py` runs
them under the real `ros2 launch`.
"""

from __future__ import annotations

import ast
import glob
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
NODE_MODULES = ('sim_bridge_node', 'memory_node', 'planner_node')


def _console_scripts() -> dict[str, str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == 'console_scripts':
                    entries = ast.literal_eval(value)
                    return {e.split('=')[0].strip(): e.split('=')[1].strip() for e in entries}
    raise AssertionError('setup.py declares no console_scripts')


def _installed_globs() -> list[str]:
    """data_files source patterns of setup.py (`glob('config/*')` …)."""
    tree = ast.parse((ROOT / 'setup.py').read_text())
    return [ast.literal_eval(n.args[0]) for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'glob']


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, 'id', None) == name or getattr(n.func, 'attr', None) == name)]


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_there_are_the_two_launch_files() -> None:
    assert [p.name for p in LAUNCH_FILES] == ['robot_memory.launch.py', 'sim.launch.py']


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_parses_and_defines_its_entry_point(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in names


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_executable_is_a_console_script_of_the_package(path: Path) -> None:
    scripts = _console_scripts()
    tree = ast.parse(path.read_text())
    nodes = _calls(tree, 'Node')
    assert nodes
    ours = set()
    for call in nodes:
        package = ast.literal_eval(_kwarg(call, 'package'))
        executable = ast.literal_eval(_kwarg(call, 'executable'))
        if package == 'robot_memory':
            assert executable in scripts, executable
            module, func = scripts[executable].split(':')
            source = ROOT / (module.replace('.', '/') + '.py')
            assert f'def {func}(' in source.read_text(), scripts[executable]
            ours.add(executable)
        else:
            assert (package, executable) == ('rviz2', 'rviz2')
    # RViz is not in the description itself: preflight adds it where it can run
    preflight = [c for c in _calls(tree, 'OpaqueFunction')
                 if getattr(_kwarg(c, 'function'), 'id', None) == 'preflight']
    if path.name == 'sim.launch.py':
        # the check, memory_node and planner_node come from robot_memory.launch.py
        assert not preflight and _includes(tree) == ['robot_memory.launch.py']
        assert ours == {'sim_bridge_node'}
        return
    assert len(preflight) == 1
    assert [a.id for a in _kwarg(preflight[0], 'args').elts] == ['rviz']
    assert ours == {'memory_node', 'planner_node'}


def _includes(tree: ast.AST) -> list[str]:
    """The launch files a launch file includes (the last part of each included path)."""
    return [ast.literal_eval(source.args[0].args[0].elts[-1])
            for source in _calls(tree, 'PythonLaunchDescriptionSource')]


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_file_named_exists_and_is_installed(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assigned = {n.targets[0].id: n.value for n in ast.walk(tree)
                if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}
    named = []
    for call in _calls(tree, 'PathJoinSubstitution'):
        parts = call.args[0]
        assert isinstance(parts, ast.List)
        share = parts.elts[0]
        if isinstance(share, ast.Name):  # share = FindPackageShare('robot_memory')
            share = assigned[share.id]
        assert isinstance(share, ast.Call) and share.func.id == 'FindPackageShare'
        assert ast.literal_eval(share.args[0]) == 'robot_memory'
        named.append(Path(*(ast.literal_eval(e) for e in parts.elts[1:])))
    assert named
    patterns = _installed_globs()
    for relative in named:
        assert (ROOT / relative).is_file(), relative
        assert any(relative in {Path(p) for p in glob.glob(pattern, root_dir=ROOT)}
                   for pattern in patterns), f'{relative} is not installed by setup.py'


def _declared(path: Path) -> dict[str, str]:
    """{argument: description} of the arguments a launch file declares."""
    tree = ast.parse(path.read_text())
    declared: dict[str, str] = {}
    table = next((n.value for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], 'id', '') == 'TOPIC_ARGUMENTS'), None)
    if table is not None:  # arguments declared in a loop over a literal table
        declared.update({name: description
                         for name, _, _, description in ast.literal_eval(table)})
    for call in _calls(tree, 'DeclareLaunchArgument'):
        if isinstance(call.args[0], ast.Constant):
            description = _kwarg(call, 'description')
            assert description is not None, call.args[0].value
            declared[call.args[0].value] = ast.literal_eval(description)
    return declared


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_every_argument_is_declared_with_a_description(path: Path) -> None:
    tree = ast.parse(path.read_text())
    declared = _declared(path)
    assert all(len(d) > 10 for d in declared.values()), declared
    included = set().union(*(_declared(ROOT / 'launch' / name) for name in _includes(tree)))
    assert {'params_file', 'use_sim_time', 'rviz'} <= set(declared) | included
    used = {ast.literal_eval(c.args[0]) for c in _calls(tree, 'LaunchConfiguration')
            if isinstance(c.args[0], ast.Constant)}
    assert used <= set(declared), used - set(declared)
    for call in _calls(tree, 'IncludeLaunchDescription'):  # it passes only what is declared
        given = _kwarg(call, 'launch_arguments').func.value  # {…}.items()
        assert {ast.literal_eval(k) for k in given.keys} <= included


# ------------------------------------------------------- the real launch classes
def _visited(path: Path, **arguments: str) -> tuple[list[Any], Any]:
    """The actions of a launch file in the order `ros2 launch` visits them, and the context.

    Included files are read from this checkout and the functions that build nodes are run;
    the preflight check is not (it needs an install). Arguments not given take their
    defaults; a default naming the installed share (not installed here) becomes '<name>'.
    """
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
    from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions

    context = LaunchContext()
    context.launch_configurations.update(arguments)
    visited: list[Any] = []

    def value(substitutions: Any, name: str) -> str:
        try:
            return perform_substitutions(context,
                                         normalize_to_list_of_substitutions(substitutions))
        except Exception:  # FindPackageShare('robot_memory'): the package is not installed
            return f'<{name}>'

    def visit(launch_file: Path) -> None:
        includes = iter(_includes(ast.parse(launch_file.read_text())))
        description = runpy.run_path(str(launch_file))['generate_launch_description']()
        for entity in description.entities:
            visited.append(entity)
            if isinstance(entity, DeclareLaunchArgument):
                context.launch_configurations.setdefault(
                    entity.name, value(entity.default_value, entity.name))
            elif isinstance(entity, IncludeLaunchDescription):
                for name, given in entity.launch_arguments:
                    name = value(name, 'argument')
                    context.launch_configurations[name] = value(given, name)
                visit(ROOT / 'launch' / next(includes))
            elif (isinstance(entity, OpaqueFunction)
                  and entity._OpaqueFunction__function.__name__ != 'preflight'):
                visited.extend(entity.execute(context))

    visit(path)
    return visited, context


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_description_builds_with_the_launch_system(path: Path) -> None:
    pytest.importorskip('launch_ros', reason='no launch system (test_ros_launch_real.py)')
    from launch.actions import OpaqueFunction, SetEnvironmentVariable
    from launch.utilities import perform_substitutions
    from launch_ros.actions import Node

    actions, context = _visited(path)
    nodes = [a for a in actions if isinstance(a, Node)]
    assert [n._Node__node_name for n in nodes] == ['memory_node', 'planner_node'] + (
        ['sim_bridge_node'] if path.name == 'sim.launch.py' else [])
    assert any(isinstance(a, SetEnvironmentVariable) for a in actions)
    # the check that may refuse to launch comes before every node
    first_node = actions.index(nodes[0])
    assert any(isinstance(a, OpaqueFunction)
               and a._OpaqueFunction__function.__name__ == 'preflight'
               for a in actions[:first_node])
    for node in nodes:
        assert node.node_package == 'robot_memory'
        assert node.node_executable == node._Node__node_name
    remaps = {(perform_substitutions(context, topic), perform_substitutions(context, to))
              for node in nodes for topic, to in node._Node__remappings or []}
    assert {topic for topic, _ in remaps} <= _subscribed_or_published_topics()
    assert {topic for topic, _ in remaps} == {t for _, t, _, _ in _topic_arguments()}
    assert all(topic == to for topic, to in remaps)  # by default, the nodes' own names


def _topic_arguments() -> tuple[tuple[str, str, str, str], ...]:
    return runpy.run_path(str(ROOT / 'launch' / 'robot_memory.launch.py'))['TOPIC_ARGUMENTS']


def _text(substitutions: Any, context: Any) -> str:
    from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions

    return perform_substitutions(context, normalize_to_list_of_substitutions(substitutions))


def _parameter_sources(node: Any, context: Any) -> list[Any]:
    """A node's parameters as given: file names, and the names set by each dictionary."""
    return [{_text(k, context) for k in entry} if isinstance(entry, dict)
            else _text(entry.param_file, context) for entry in node._Node__parameters]


def test_sim_launch_gives_the_included_nodes_its_namespace_files_and_segmentation() -> None:
    pytest.importorskip('launch_ros', reason='no launch system (test_ros_launch_real.py)')
    from launch_ros.actions import Node

    actions, context = _visited(ROOT / 'launch' / 'sim.launch.py', namespace='robot1',
                                segmentation='class', sim_params_file='sim.yaml',
                                params_file='robot.yaml')
    nodes = {a._Node__node_name: a for a in actions if isinstance(a, Node)}
    assert {_text(n._Node__node_namespace, context) for n in nodes.values()} == {'robot1'}
    assert _parameter_sources(nodes['memory_node'], context) == [
        'robot.yaml', 'sim.yaml',
        {'use_sim_time', 'segmentation', 'label_space_file', 'world_id'}]
    assert context.launch_configurations['segmentation'] == 'class'
    assert context.launch_configurations['world_id'] == 'builtin:apartment:0'
    assert _parameter_sources(nodes['planner_node'], context) == [
        'robot.yaml', 'sim.yaml', {'use_sim_time'}]
    # on a robot, nothing over the parameter file but the clock
    actions, context = _visited(ROOT / 'launch' / 'robot_memory.launch.py',
                                params_file='robot.yaml')
    memory = next(a for a in actions if isinstance(a, Node))
    assert _parameter_sources(memory, context) == ['robot.yaml', {'use_sim_time'}]


# ------------------------------------------------------------------------ RViz
def _topics_of(module: str, method: str) -> set[str]:
    tree = ast.parse((ROOT / 'robot_memory' / 'ros' / f'{module}.py').read_text())
    topics = set()
    for call in _calls(tree, method):
        if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant):
            topics.add(call.args[1].value.lstrip('/'))
    return topics


def _published_topics() -> set[str]:
    return set().union(*(_topics_of(m, 'create_publisher') for m in NODE_MODULES))


def _subscribed_or_published_topics() -> set[str]:
    from robot_memory.ros.memory_node import SENSOR_TOPICS

    subscribed = set().union(*(_topics_of(m, 'create_subscription') for m in NODE_MODULES))
    return subscribed | _published_topics() | {t for _, t in SENSOR_TOPICS.values()}


def _display_topics(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = []
        if 'Class' in node and isinstance(node.get('Topic'), dict):
            found.append(node['Topic']['Value'])
        for value in node.values():
            found += _display_topics(value)
        return found
    if isinstance(node, list):
        return [t for item in node for t in _display_topics(item)]
    return []


def test_rviz_displays_only_topics_the_nodes_publish() -> None:
    config = yaml.safe_load((ROOT / 'rviz' / 'robot_memory.rviz').read_text())
    displays = config['Visualization Manager']['Displays']
    topics = _display_topics(displays)
    assert {'/memory/markers', '/planner/markers'} <= set(topics)
    published = _published_topics()
    assert {'memory/markers', 'planner/markers', 'camera/color/image_raw'} <= published
    for topic in topics:
        assert topic.lstrip('/') in published, topic
    assert config['Visualization Manager']['Global Options']['Fixed Frame'] == 'map'


def test_rviz_enables_every_marker_namespace() -> None:
    pytest.importorskip('visualization_msgs.msg')
    from robot_memory.ros.markers import MEMORY_NAMESPACES, PLANNER_NAMESPACES

    config = yaml.safe_load((ROOT / 'rviz' / 'robot_memory.rviz').read_text())
    namespaces = {}
    for display in config['Visualization Manager']['Displays']:
        namespaces.update(display.get('Namespaces', {}))
    assert set(namespaces) == set(MEMORY_NAMESPACES) | set(PLANNER_NAMESPACES)
    assert all(namespaces.values())


def test_fastdds_profile_has_a_16_mb_shared_memory_segment() -> None:
    import xml.etree.ElementTree as ET

    ns = {'d': 'http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles'}
    root = ET.parse(ROOT / 'config' / 'fastdds_shm.xml').getroot()
    shm = [t for t in root.iterfind('.//d:transport_descriptor', ns)
           if t.findtext('d:type', namespaces=ns) == 'SHM']
    assert len(shm) == 1
    assert int(shm[0].findtext('d:segment_size', namespaces=ns)) == 16 * 1024 * 1024
    participant = root.find('.//d:participant', ns)
    assert participant.get('is_default_profile') == 'true'
    assert participant.findtext('.//d:useBuiltinTransports', namespaces=ns) == 'false'

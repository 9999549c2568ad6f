"""The launch files under the real `ros2 launch`, over real DDS, from a colcon build.

The package is built with colcon into a temporary workspace once per run; each test starts
`ros2 launch` as a terminal would (its own session), talks to the graph with a probe node,
stops it with SIGINT and checks that every process it started has gone. The tests skip where
neither a ROS 2 install nor the launch wheels (scripts/setup_env.sh installs them from
shared/wheels/ros2-launch) give `launch_ros`, `ros2` and `colcon`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.ros, pytest.mark.slow]

STOP_TIMEOUT_S = 75.0  # SIGINT → every process gone (memory_node may take MEMORY_CLOSE_S twice)


def _tool(name: str) -> str | None:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name)


def _launch_missing() -> str | None:
    try:
        import launch_ros  # noqa: F401
    except ImportError:
        return 'launch_ros is not importable'
    for tool in ('ros2', 'colcon'):
        if _tool(tool) is None:
            return f'no {tool} command'
    return None


_MISSING = _launch_missing()
if _MISSING:
    pytest.skip(f'no ROS 2 launch system ({_MISSING}): source a ROS 2 install, or run '
                'scripts/setup_env.sh where shared/wheels/ros2-launch exists',
                allow_module_level=True)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A colcon workspace with robot_memory built and installed (merged install)."""
    ws = tmp_path_factory.mktemp('colcon_ws')
    (ws / 'src').mkdir()
    (ws / 'src' / 'robot_memory').symlink_to(ROOT)
    result = subprocess.run(
        [_tool('colcon'), 'build', '--merge-install', '--event-handlers', 'console_direct-'],
        cwd=ws, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (ws / 'install' / 'lib' / 'robot_memory' / 'memory_node').exists()
    return ws / 'install'


# 15 domains per run, below Fast DDS's largest (232); runs side by side differ by pid.
_domains = itertools.count(140 + (os.getpid() % 6) * 15)


def _env(prefix: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    ament = [str(prefix), *filter(None, env.get('AMENT_PREFIX_PATH', '').split(os.pathsep))]
    if sys.prefix not in ament:
        ament.append(sys.prefix)  # the message and launch wheels of this venv
    env.update(AMENT_PREFIX_PATH=os.pathsep.join(ament), ROS_HOME=str(home),
               ROS_DOMAIN_ID=str(next(_domains)), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
               PATH=f'{BIN}{os.pathsep}{env.get("PATH", "")}', PYTHONUNBUFFERED='1')
    return env


def _sigint_default() -> None:
    # A test run started in the background by a shell inherits SIGINT ignored, and `ros2
    # launch` then never hears Ctrl-C: give it the default, as a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Launch:
    """`ros2 launch robot_memory FILE ARGS…` in its own session, output to a file."""

    def __init__(self, env: dict[str, str], log: Path, launch_file: str, *args: str) -> None:
        self.env, self.log_path = env, log
        self.domain_id = int(env['ROS_DOMAIN_ID'])
        self._log = log.open('w')
        self.proc = subprocess.Popen(
            [_tool('ros2'), 'launch', 'robot_memory', launch_file, *args], env=env,
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_sigint_default)

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors='replace')

    def pids(self) -> dict[str, int]:
        """Processes the launch started: {name: pid}."""
        return {m[0]: int(m[1]) for m in re.findall(
            r'\[INFO\] \[([\w-]+)\]: process started with pid \[(\d+)\]', self.output)}

    def wait_for(self, pattern: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if re.search(pattern, self.output):
                return True
            if self.proc.poll() is not None:
                return bool(re.search(pattern, self.output))
            time.sleep(0.2)
        return False

    def interrupt(self) -> tuple[int | None, float]:
        """SIGINT to the launch (as Ctrl-C); its exit code and how long it took."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S), time.monotonic() - start
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - start

    def kill(self) -> None:
        """Whatever is left of the session, gone."""
        for pid in [self.proc.pid, *self.pids().values()]:
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not read its status yet.
    stat = Path(f'/proc/{pid}/stat')
    return stat.exists() and stat.read_text().split()[2] != 'Z'


@pytest.fixture
def launch(workspace: Path, tmp_path: Path) -> Iterator:
    started: list[Launch] = []

    def start(launch_file: str, *args: str, prefix: Path | None = None) -> Launch:
        env = _env(prefix or workspace, tmp_path / 'ros_home')
        started.append(Launch(env, tmp_path / f'launch_{len(started)}.log', launch_file, *args))
        return started[-1]

    yield start
    for item in started:
        item.kill()


def _ask(domain_id: int, question: str, timeout_s: float) -> dict | None:
    from std_msgs.msg import String

    from robot_memory.ros import qos
    from robot_memory.ros.probe import Probe

    with Probe(domain_id=domain_id, name='launch_test_asker') as probe:
        answers = probe.subscribe(String, 'answer', qos.reliable(50))
        publisher = probe.publisher(String, 'question', qos.reliable(50))
        assert probe.spin_until(lambda: publisher.get_subscription_count() > 0, 30.0), \
            'planner_node never subscribed to /question'
        publisher.publish(String(data=question))
        probe.spin_until(lambda: bool(answers), timeout_s)
        return json.loads(answers[0].data) if answers else None


def _memory_answers(domain_id: int, timeout_s: float) -> bool:
    """Whether memory_node answers a layout request over DDS within `timeout_s` (asked anew
    every 2 s: a node just started may not have discovered the asker yet)."""
    from std_msgs.msg import String

    from robot_memory.ros import qos
    from robot_memory.ros.probe import Probe

    with Probe(domain_id=domain_id, name='launch_test_memory_check') as probe:
        replies = probe.subscribe(String, 'memory/answer', qos.reliable(50))
        publisher = probe.publisher(String, 'memory/query', qos.reliable(50))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            publisher.publish(String(data=json.dumps({'id': 'launch_test', 'mode': 'layout'})))
            if probe.spin_until(lambda: any(json.loads(m.data).get('id') == 'launch_test'
                                            for m in replies), 2.0):
                return True
        return False


def _stop_and_check(run: Launch, nodes: set[str]) -> float:
    """SIGINT; every node finished cleanly (exit 0), nothing left; the stop time (s)."""
    pids = run.pids()
    assert nodes <= set(pids), run.output[-3000:]
    rc, took_s = run.interrupt()
    output = run.output
    assert rc == 0, f'ros2 launch exit {rc} after {took_s:.1f} s\n{output[-3000:]}'
    for name in nodes:
        assert re.search(rf'\[{name}\]: process has finished cleanly', output), output[-3000:]
    assert 'process has died' not in output, output[-3000:]
    assert 'Failed to publish log message to rosout' not in output
    assert not [name for name, pid in pids.items() if _alive(pid)]
    return took_s


SIM_NODES = {'memory_node-1', 'planner_node-2', 'sim_bridge_node-3'}


def test_sim_launch_answers_a_question_by_looking_and_stops_on_sigint(launch) -> None:
    run = launch('sim.launch.py', 'mode:=idle')  # rviz: auto, and rviz2 is not here
    assert run.wait_for(r'layout: \d+ rooms', 60.0), run.output[-3000:]
    answer = _ask(run.domain_id, 'Where is the mug?', 120.0)
    assert answer is not None, run.output[-3000:]
    assert answer['ok'] and answer['path'], answer  # it went to look: memory was empty
    assert 'mug' in answer['answer']
    assert 'rviz2 is not installed: starting without RViz' in run.output or \
        'rviz2-' in ''.join(run.pids())
    _stop_and_check(run, SIM_NODES)
    assert re.search(r'\[memory_node\]: closing .*robot_memory\.db', run.output)


def test_stream_mode_still_takes_goals_and_answers(launch) -> None:
    run = launch('sim.launch.py', 'mode:=stream', 'rviz:=false')
    # memory has the rooms (a question before them is answered from an empty map)
    assert run.wait_for(r'mode stream', 60.0), run.output[-3000:]
    assert run.wait_for(r'layout: \d+ rooms', 60.0), run.output[-3000:]
    answer = _ask(run.domain_id, 'Where is the mug?', 120.0)
    assert answer is not None, run.output[-3000:]
    assert answer['ok'] and answer['path'], (answer, run.output[-3000:])
    _stop_and_check(run, SIM_NODES)


def _ros2(env: dict[str, str], *args: str) -> str:
    """A `ros2` CLI command's output; again while discovery has not found the node yet
    (under load, 5 s of spinning sometimes is not enough)."""
    for _ in range(3):
        result = subprocess.run([_tool('ros2'), *args, '--no-daemon', '--spin-time', '5'],
                                env=env, capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        if 'Node not found' not in output:
            break
    return output


def test_parameters_are_live_or_read_only_over_the_ros2_cli(launch) -> None:
    run = launch('sim.launch.py', 'mode:=idle', 'rviz:=false')
    assert run.wait_for(r'layout: \d+ rooms', 60.0), run.output[-3000:]

    def ros2(*args: str) -> str:
        return _ros2(run.env, *args)

    assert 'Set parameter successful' in ros2('param', 'set', '/memory_node',
                                              'sync_tolerance_s', '0.05')
    assert re.search(r'parameters set: sync_tolerance_s=0\.05', run.output) or \
        run.wait_for(r'parameters set: sync_tolerance_s=0\.05', 10.0)
    refused = ros2('param', 'set', '/memory_node', 'db_path', 'other.db')
    assert 'Setting parameter failed' in refused and 'read-only' in refused, refused
    refused = ros2('param', 'set', '/planner_node', 'detection_prob', '1.5')
    assert 'Setting parameter failed' in refused, refused
    described = ros2('param', 'describe', '/planner_node', 'max_steps')
    assert 'Min value: 0' in described and 'Max value: 100' in described, described
    _stop_and_check(run, SIM_NODES)


ROBOT_REMAPS = {'color_topic': '/camera/camera/color/image_raw',
                'depth_topic': '/camera/camera/aligned_depth_to_color/image_raw',
                'camera_info_topic': '/camera/camera/color/camera_info',
                'odom_topic': '/odometry/map', 'goal_topic': '/goal_pose'}


@pytest.mark.parametrize(('example', 'remaps'), [
    ('robot_example.yaml', {**ROBOT_REMAPS, 'semantic_topic': '/segmentation/instances',
                            'labels_topic': '/segmentation/labels'}),
    ('robot_class_example.yaml', {**ROBOT_REMAPS,
                                  'semantic_topic': '/segmentation/class_image'}),
])
def test_robot_launch_with_an_example_config_and_its_remappings(
        launch, workspace: Path, example: str, remaps: dict[str, str]) -> None:
    share = workspace / 'share' / 'robot_memory' / 'config'
    run = launch('robot_memory.launch.py', f'params_file:={share / example}',
                 *(f'{k}:={v}' for k, v in remaps.items()))
    assert run.wait_for(r'\[memory_node\]: memory in ', 60.0), run.output[-3000:]
    # db_path 'robot.db' lies under $ROS_HOME, not in a root-owned folder
    assert re.search(r'memory in .*ros_home/robot_memory/robot\.db', run.output)

    from robot_memory.ros.probe import Probe

    with Probe(domain_id=run.domain_id, name='launch_test_graph') as probe:
        def subscribed() -> bool:
            return all(probe.node.count_subscribers(topic) >= 1 for topic in
                       (v for k, v in remaps.items() if k != 'goal_topic'))

        assert probe.spin_until(subscribed, 30.0), {
            t: probe.node.count_subscribers(t) for t in remaps.values()}
        assert probe.spin_until(lambda: probe.node.count_publishers('/goal_pose') >= 1, 30.0)
    _stop_and_check(run, {'memory_node-1', 'planner_node-2'})


def test_rviz_true_without_rviz2_is_a_clear_error_and_starts_nothing(launch) -> None:
    run = launch('sim.launch.py', 'rviz:=true')
    assert run.proc.wait(timeout=60) != 0
    output = run.output
    assert "rviz:=true but the package 'rviz2' is not installed" in output, output
    assert not run.pids(), output


def test_a_plain_pip_install_says_to_build_with_colcon(launch, tmp_path: Path) -> None:
    prefix = tmp_path / 'pip_prefix'
    # --ignore-installed: pip would otherwise uninstall this venv's own robot_memory first
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps',
         '--no-build-isolation', '--ignore-installed', '--prefix', str(prefix), str(ROOT)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (prefix / 'share' / 'robot_memory' / 'launch' / 'sim.launch.py').exists()
    run = launch('sim.launch.py', 'rviz:=false', prefix=prefix)
    assert run.proc.wait(timeout=60) != 0
    assert 'ros2 launch needs robot_memory built with colcon' in run.output, run.output
    assert not run.pids()


def test_memory_node_killed_mid_patrol_comes_back_with_its_memory(launch, tmp_path: Path
                                                                  ) -> None:
    from robot_memory.core import MemoryStore

    run = launch('sim.launch.py', 'mode:=patrol', 'respawn:=true', 'rviz:=false')
    db = tmp_path / 'ros_home' / 'robot_memory' / 'robot_memory.db'

    def committed() -> tuple[int, set[str]]:
        try:
            with MemoryStore(db, read_only=True) as store:
                view = store.load().at(float('inf'))
                return store.loaded_seq, {s.label for s in view.objects.values()}
        except Exception:  # not there yet
            return 0, set()

    deadline = time.monotonic() + 90.0
    seq, labels = committed()
    while (seq < 50 or len(labels) < 5) and time.monotonic() < deadline:
        time.sleep(1.0)
        seq, labels = committed()
    assert seq >= 50 and len(labels) >= 5, run.output[-3000:]
    first_pid = run.pids()['memory_node-1']
    os.kill(first_pid, signal.SIGKILL)  # mid-patrol, nothing flushed on the way out
    assert run.wait_for(r'\[memory_node-1\]: process has died', 20.0), run.output[-3000:]
    # launch starts it again; it reopens the same file with every committed batch
    assert run.wait_for(r'memory in .*robot_memory\.db: (?!0 objects)\d+ objects', 60.0), \
        run.output[-3000:]
    reopened = re.findall(r'\[memory_node-1\]: process started with pid \[(\d+)\]', run.output)
    assert len(reopened) == 2 and int(reopened[1]) != first_pid
    after, _ = committed()
    assert after >= seq  # nothing committed before the kill was lost
    # the new process is reachable over DDS before a question goes through the planner
    assert _memory_answers(run.domain_id, 60.0), run.output[-3000:]
    label = sorted(labels)[0]
    answer = _ask(run.domain_id, f'Where is the {label}?', 120.0)
    assert answer is not None and answer['ok'], (answer, run.output[-3000:])
    assert label.replace('_', ' ') in answer['answer'], answer
    # Every process, the respawned memory node too, stops cleanly on SIGINT.
    rc, _ = run.interrupt()
    assert rc == 0, run.output[-3000:]
    assert not [pid for pid in (*map(int, reopened), *run.pids().values()) if _alive(pid)]


def test_the_planner_outlives_a_dead_memory_node_and_says_so(launch) -> None:
    run = launch('sim.launch.py', 'mode:=idle', 'respawn:=false', 'rviz:=false')
    assert run.wait_for(r'layout: \d+ rooms', 60.0), run.output[-3000:]
    os.kill(run.pids()['memory_node-1'], signal.SIGKILL)
    assert run.wait_for(r'\[memory_node-1\]: process has died', 20.0), run.output[-3000:]
    for name, value in (('memory_timeout_s', '2.0'), ('memory_retries', '1')):  # live
        result = _ros2(run.env, 'param', 'set', '/planner_node', name, value)
        assert 'Set parameter successful' in result, result
    answer = _ask(run.domain_id, 'Where is the mug?', 30.0)
    assert answer is not None, run.output[-3000:]
    assert answer['ok'] is False and 'memory node did not answer' in json.dumps(answer), answer
    assert 'memory node did not answer; asking again' in run.output
    rc, _ = run.interrupt()  # the graph without its memory still stops cleanly
    assert rc == 0 and not [p for p in run.pids().values() if _alive(p)], run.output[-3000:]

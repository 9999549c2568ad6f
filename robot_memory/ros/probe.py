"""Drive a node graph from outside: start nodes as processes, publish, collect, wait.

Used by `robot-memory bench ros`, `robot-memory bringup` and the DDS tests. A `Probe` is a
participant in its own rclpy context (so it can live beside other contexts in one process);
`NodeProcess` runs one console-script node with a parameter file and stops it with SIGINT,
which rclpy handles cleanly (SIGTERM left `spin()` hung now and then, ENVIRONMENT.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile

from robot_memory.ros.runtime import shutdown

__all__ = ['NODE_MODULES', 'PROFILE_VARIABLES', 'NodeProcess', 'Probe', 'ros_env']

# Fast DDS 2.x (ROS 2 Jazzy) reads FASTRTPS_…; Fast DDS 3.x (Kilted on) reads FASTDDS_….
PROFILE_VARIABLES = ('FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE')
NODE_MODULES = {
    'sim_bridge_node': 'robot_memory.ros.sim_bridge_node',
    'memory_node': 'robot_memory.ros.memory_node',
    'planner_node': 'robot_memory.ros.planner_node',
}


def ros_env(domain_id: int, fastdds_profile: str | Path | None = None,
            base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for nodes on one domain, loopback only, with an optional DDS profile."""
    env = dict(os.environ if base is None else base)
    env['ROS_DOMAIN_ID'] = str(int(domain_id))
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    for name in PROFILE_VARIABLES:
        env.pop(name, None)
        if fastdds_profile is not None:
            env[name] = str(fastdds_profile)
    env.setdefault('PYTHONUNBUFFERED', '1')
    return env


class NodeProcess:
    """One node in its own process, parameters from a generated YAML file."""

    def __init__(self, node: str, params: Mapping[str, Any], env: Mapping[str, str],
                 log_path: str | Path | None = None,
                 remaps: Mapping[str, str] | None = None) -> None:
        import yaml

        if node not in NODE_MODULES:
            raise ValueError(f'unknown node {node!r}; valid: {", ".join(NODE_MODULES)}')
        self.node = node
        fd, name = tempfile.mkstemp(prefix=f'{node}_', suffix='.yaml')
        with os.fdopen(fd, 'w', encoding='utf-8') as fh:
            yaml.safe_dump({node: {'ros__parameters': dict(params)}}, fh)
        self.params_file = Path(name)
        args = [sys.executable, '-m', NODE_MODULES[node], '--ros-args', '--params-file', name]
        for source, target in (remaps or {}).items():
            args += ['-r', f'{source}:={target}']
        self.log_path = Path(log_path) if log_path else self.params_file.with_suffix('.log')
        self._log = open(self.log_path, 'wb')  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, env=dict(env), stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.process.poll() is None

    def stop(self, timeout_s: float = 20.0) -> int:
        """Send SIGINT and wait (SIGKILL only past the timeout); return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10.0)
        self._log.close()
        self.params_file.unlink(missing_ok=True)
        return int(self.process.returncode)

    def log(self) -> str:
        """Return what the node wrote so far (also after `stop`)."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors='replace')


class Probe:
    """A participant for publishing, collecting and waiting, in its own rclpy context."""

    def __init__(self, domain_id: int | None = None, name: str = 'probe') -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.messages: dict[str, list[Any]] = defaultdict(list)

    def subscribe(self, msg_type: type, topic: str, qos: QoSProfile | int = 10,
                  callback: Callable[[Any], None] | None = None) -> list[Any]:
        """Collect every message of a topic into the returned list."""
        store = self.messages[topic]

        def on_message(msg: Any) -> None:
            store.append(msg)
            if callback is not None:
                callback(msg)

        self.node.create_subscription(msg_type, topic, on_message, qos)
        return store

    def publisher(self, msg_type: type, topic: str, qos: QoSProfile | int = 10) -> Any:
        """Create a publisher on the probe's node."""
        return self.node.create_publisher(msg_type, topic, qos)

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for a while."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=min(0.05, max(deadline - time.monotonic(), 0)))

    def spin_until(self, predicate: Callable[[], bool], timeout_s: float,
                   poll_s: float = 0.05) -> bool:
        """Process callbacks until `predicate()` holds (True) or the time is up (False)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            self.executor.spin_once(timeout_sec=poll_s)

    def close(self) -> None:
        """Destroy the node and shut the context down."""
        self.executor.shutdown(timeout_sec=5.0)
        self.node.destroy_node()
        shutdown(context=self.context)

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

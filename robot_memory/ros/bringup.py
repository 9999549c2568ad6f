"""The launch graph in one process, for machines without `ros2 launch` (`robot-memory bringup`).

sim_bridge_node (optional), memory_node and planner_node share one `MultiThreadedExecutor`,
read the same parameter file as the launch files (`--params-file` applies each node's
section), and talk over real DDS like separate processes would. With `patrol_days` and
questions, it patrols, waits until memory has every frame, asks, collects the answers and
stops; without questions it spins until SIGINT.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions
from std_msgs.msg import String

from robot_memory.exceptions import InvalidInputError
from robot_memory.ros import qos
from robot_memory.ros.memory_node import GIL_SWITCH_INTERVAL_S, MemoryNode
from robot_memory.ros.planner_node import PlannerNode
from robot_memory.ros.runtime import shutdown, spin_nodes, stop_on_signals
from robot_memory.ros.sim_bridge_node import SimBridgeNode

__all__ = ['SIMULATORS', 'Bringup']

log = logging.getLogger(__name__)
SIMULATORS = ('builtin', 'none')


def _overrides(values: Mapping[str, Any] | None) -> list[Parameter]:
    return [Parameter(name, value=value) for name, value in (values or {}).items()]


class Bringup:
    """Start the graph; optionally patrol, ask questions and stop."""

    def __init__(self, sim: str = 'builtin', params_files: Sequence[str | Path] = (),
                 overrides: Mapping[str, Mapping[str, Any]] | None = None,
                 domain_id: int | None = None, quiet: bool = False) -> None:
        if sim not in SIMULATORS:
            raise InvalidInputError(f'sim {sim!r}; valid: {", ".join(SIMULATORS)}')
        args = ['--ros-args']
        for path in params_files:
            if not Path(path).is_file():
                raise InvalidInputError(f'no parameter file {path}')
            args += ['--params-file', str(path)]  # later files override earlier ones
        overrides = overrides or {}
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)  # as memory_node does, for its receiving
        rclpy.init(args=args, domain_id=domain_id,
                   signal_handler_options=SignalHandlerOptions.NO)
        self.nodes: list[Node] = []
        try:
            self.bridge = (SimBridgeNode(parameter_overrides=_overrides(
                overrides.get('sim_bridge_node'))) if sim == 'builtin' else None)
            memory = dict(overrides.get('memory_node') or {})
            if self.bridge is not None:  # one memory per simulated world
                memory.setdefault('world_id', self.bridge.world_id)
            self.memory = MemoryNode(parameter_overrides=_overrides(memory))
            self.planner = PlannerNode(parameter_overrides=_overrides(
                overrides.get('planner_node')))
        except Exception:
            shutdown()
            raise
        self.nodes = [n for n in (self.bridge, self.memory, self.planner) if n is not None]
        if quiet:
            # A tool showing its own progress: the nodes only speak up for problems.
            for node in self.nodes:
                node.get_logger().set_level(rclpy.logging.LoggingSeverity.WARN)
        self.answers: list[dict[str, Any]] = []
        self._asker = rclpy.create_node('bringup_asker')
        self._question_pub = self._asker.create_publisher(String, 'question', qos.reliable(50))
        self._asker.create_subscription(String, 'answer', self._on_answer, qos.reliable(50))
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _on_answer(self, msg: String) -> None:
        try:
            self.answers.append(json.loads(msg.data))
        except ValueError:
            log.warning('answer is not JSON: %r', msg.data)

    def start(self) -> None:
        """Spin every node in a background thread."""
        self._thread = threading.Thread(
            target=spin_nodes, args=([*self.nodes, self._asker],),
            kwargs={'multi_threaded': True, 'stop': self._stop},
            name='bringup_executor', daemon=True)
        self._thread.start()

    def spin_forever(self) -> None:
        """Spin in this thread until SIGINT."""
        try:
            with stop_on_signals() as stop:
                spin_nodes([*self.nodes, self._asker], multi_threaded=True, stop=stop)
        finally:
            shutdown()

    def wait_for_patrol(self, timeout_s: float, progress: Callable[[str], None] | None = None
                        ) -> bool:
        """Wait until the bridge is idle and memory ingested every frame it published."""
        deadline = time.monotonic() + timeout_s
        last_note, last_change = '', time.monotonic()
        while time.monotonic() < deadline:
            published = self.bridge.frames_published if self.bridge is not None else 0
            frames = self.memory.stats()['frames']
            note = f'{published} frames published, {frames["ingested"]} ingested'
            if note != last_note:
                last_note, last_change = note, time.monotonic()
                if progress is not None:
                    progress(note)
            settled = frames['queued'] == 0 and frames['ingested'] >= frames['built'] and (
                frames['received'] >= published or time.monotonic() - last_change > 3.0)
            if not (self.bridge is not None and self.bridge.busy) and settled:
                return True
            time.sleep(0.2)
        return False

    def ask(self, question: str, timeout_s: float) -> dict[str, Any] | None:
        """Publish one question on `question` and wait for its answer."""
        before = len(self.answers)
        deadline = time.monotonic() + timeout_s
        # The planner may not have matched the asker's publisher yet; resend until it has.
        while self._question_pub.get_subscription_count() == 0 and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self._question_pub.publish(String(data=question))
        while time.monotonic() < deadline:
            if len(self.answers) > before:
                return self.answers[before]
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        """Stop spinning; the executor thread destroys the nodes (memory commits its file)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60.0)
        shutdown()

    def run(self, questions: Sequence[str], patrol_timeout_s: float = 600.0,
            answer_timeout_s: float = 300.0,
            progress: Callable[[str], None] | None = None) -> list[dict[str, Any] | None]:
        """Patrol (if the bridge patrols), then ask each question in turn; stop."""
        self.start()
        try:
            if self.bridge is not None and not self.wait_for_patrol(patrol_timeout_s,
                                                                    progress):
                raise InvalidInputError(f'the patrol did not finish in {patrol_timeout_s} s')
            return [self.ask(q, answer_timeout_s) for q in questions]
        finally:
            self.stop()

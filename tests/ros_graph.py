"""The graph the tests over real DDS share: node processes on one domain and a probe on it.

A test module imports this after its own `pytest.importorskip('rclpy', ...)`, picks the domain
id (each module has its own scheme, so parallel modules keep apart) and adds the topics and
clients it talks through.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.action import ActionClient

from robot_memory.ros.conversions import diagnostic_values
from robot_memory.ros.probe import NodeProcess, Probe, ros_env


class RosGraph:
    """Node processes on one domain, a probe on it, and each node's latest diagnostics."""

    def __init__(self, domain_id: int, tmp: Path, probe_name: str) -> None:
        self.domain_id = domain_id
        self.env = ros_env(domain_id)
        self.tmp = tmp
        self.processes: dict[str, NodeProcess] = {}
        self.probe = Probe(domain_id, probe_name)
        self.diagnostics: dict[str, dict[str, str]] = {}
        self.failed_logs: dict[str, str] = {}
        self._action_clients: list[ActionClient] = []
        self.probe.subscribe(DiagnosticArray, 'diagnostics', 50, self._on_diagnostics)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.diagnostics[status.name.split(':')[0]] = diagnostic_values(status)

    def action_client(self, action_type: Any, name: str) -> ActionClient:
        """An action client on the probe, destroyed by `close` before the probe is."""
        client = ActionClient(self.probe.node, action_type, name)
        self._action_clients.append(client)
        return client

    def start(self, node: str, **params: Any) -> NodeProcess:
        process = NodeProcess(node, params, self.env, self.tmp / f'{node}.log')
        self.processes[node] = process
        return process

    def value(self, node: str, key: str) -> float:
        return float(self.diagnostics.get(node, {}).get(key, 0) or 0)

    def wait(self, predicate: Callable[[], Any], timeout_s: float, what: str) -> None:
        if not self.probe.spin_until(predicate, timeout_s):
            logs = '\n'.join(f'--- {n}\n{p.log()[-3000:]}' for n, p in self.processes.items())
            raise AssertionError(f'timed out waiting for {what}\n{self.diagnostics}\n{logs}')

    def result(self, future: Any, what: str, timeout_s: float = 60.0) -> Any:
        self.wait(future.done, timeout_s, what)
        return future.result()

    def close(self) -> dict[str, int]:
        """Stop every node; keep the log tail of any that did not exit 0."""
        codes = {name: process.stop() for name, process in self.processes.items()}
        self.failed_logs = {name: self.processes[name].log()[-3000:]
                            for name, code in codes.items() if code != 0}
        for client in self._action_clients:
            client.destroy()
        self.probe.close()
        return codes

"""Spinning nodes until SIGINT, with a clean stop."""

from __future__ import annotations

from collections.abc import Sequence

from rclpy.executors import (
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.node import Node

__all__ = ['spin_nodes']


def spin_nodes(nodes: Sequence[Node], multi_threaded: bool = False) -> None:
    """Spin `nodes` until shutdown, then stop the executor and destroy them (in reverse).

    One node per process spins single-threaded: rclpy's multi-threaded executor costs so much
    per callback that it lost camera messages at rates the single-threaded one keeps up with
    (measured here: ~960 small messages/s). The nodes keep slow work off the executor
    themselves. Several nodes in one process (bringup) need the multi-threaded executor so a
    simulator step does not hold up the memory node's receiving.
    """
    executor: Executor = (MultiThreadedExecutor(num_threads=2 * len(nodes)) if multi_threaded
                          else SingleThreadedExecutor())
    for node in nodes:
        executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=10.0)
        for node in reversed(nodes):
            try:
                node.destroy_node()
            except Exception as exc:  # keep destroying the others
                node.get_logger().error(f'destroying {node.get_name()} failed: {exc!r}')

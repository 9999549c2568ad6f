"""Spinning nodes until SIGINT, with a clean stop."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import rclpy
from rclpy.context import Context
from rclpy.executors import (
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.node import Node

from robot_memory.exceptions import RobotMemoryError

__all__ = ['run_node', 'shutdown', 'spin_nodes']


def shutdown(context: Context | None = None) -> None:
    """Shut rclpy down unless it already is.

    rclpy's SIGINT handler shuts the context down from its own thread, so a shutdown racing it
    finds the context already gone (`RCLError`, a `RuntimeError`): that is the stop we wanted.
    """
    try:
        rclpy.try_shutdown(context=context)
    except RuntimeError:
        if context is not None and context.ok():
            raise
        if context is None and rclpy.ok():
            raise


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


def run_node(name: str, factory: Callable[[], Node], args: list[str] | None = None) -> int:
    """The body of a node's `main`: init, build, spin until SIGINT, shut down; an exit code.

    A node that cannot start (bad parameters, an unreadable memory file) logs why and
    returns 2; SIGINT at any point is a clean stop.
    """
    rclpy.init(args=args)
    try:
        node = factory()
    except (RobotMemoryError, OSError) as exc:
        rclpy.logging.get_logger(name).fatal(f'cannot start: {exc}')
        shutdown()
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        shutdown()
        return 0
    try:
        spin_nodes([node])
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        shutdown()
    return 0

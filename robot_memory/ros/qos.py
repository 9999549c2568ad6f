"""QoS per topic, chosen once for every node (see config/README.md for the reasons).

- Camera images, camera info, camera pose: KEEP_LAST(n), VOLATILE; RELIABLE from the bridge
  (no loss in simulation), BEST_EFFORT or RELIABLE in the memory node by parameter, because a
  reliable subscriber does not match the best-effort publishers many camera drivers use.
- Label maps: RELIABLE + TRANSIENT_LOCAL, so a fixed map published once still reaches a node
  that starts later (DESIGN.md).
- `map/layout`, `memory/markers`: RELIABLE + TRANSIENT_LOCAL depth 1: the latest state is
  what a late joiner (RViz, a restarted memory node) needs.
- `memory/query`, `memory/answer`, `question`, `answer`, `goal_pose`: RELIABLE, VOLATILE,
  a deep queue: requests and answers must not be lost, old ones are not replayed.
- `odom`, `cmd_vel`: RELIABLE KEEP_LAST(10) (the rclpy default); `/clock`: RELIABLE depth 1,
  which also matches the best-effort `/clock` subscription of rclpy's time source.
- `diagnostics`: RELIABLE KEEP_LAST(10), as diagnostic_aggregator expects.
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

__all__ = ['latched', 'reliable', 'sensor']


def sensor(depth: int, reliable_delivery: bool) -> QoSProfile:
    """Profile camera streams: volatile, the last `depth` messages."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE if reliable_delivery
                      else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.VOLATILE)


def latched(depth: int = 1) -> QoSProfile:
    """Profile the latest state for late joiners: reliable, transient-local."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def reliable(depth: int = 10) -> QoSProfile:
    """Profile requests, answers and commands: reliable, volatile."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)

"""Compatibility: the Habitat backend moved to the package `robot_memory.sim.habitat`.

Every name this module held is importable from here as before (tests, docs and the Habitat
side scripts import `robot_memory.sim.habitat_backend`).
"""

from robot_memory.sim import habitat as _habitat
from robot_memory.sim.habitat import *  # noqa: F403 (the package's public names, as before)
from robot_memory.sim.habitat.config import SEMANTIC_CHECKS
from robot_memory.sim.habitat.simulator import VIEW_NOISE_MODEL

__all__ = [*_habitat.__all__, 'SEMANTIC_CHECKS', 'VIEW_NOISE_MODEL']

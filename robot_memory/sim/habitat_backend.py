"""Compatibility: the Habitat backend moved to the package `robot_memory.sim.habitat`.

Every name this module held is importable from here as before (tests, docs and the Habitat
side scripts import `robot_memory.sim.habitat_backend`).
"""

from robot_memory.sim.habitat import (
    BACKGROUND_CATEGORIES,
    COLOR_SENSOR,
    DEPTH_SENSOR,
    HABITAT_TO_MAP,
    ROOM_SOURCES,
    SEMANTIC_SENSOR,
    HabitatConfig,
    HabitatFrame,
    HabitatSim,
    category_table,
    frame_from_observation,
    habitat_camera_to_map,
    habitat_to_map_pose,
    habitat_to_map_position,
    habitat_to_map_quaternion,
    map_to_habitat_position,
    map_to_habitat_quaternion,
    normalize_category,
    place_edges,
    places_along,
    region_polygon,
    room_category,
    spread_points,
    topdown_to_occupancy,
    yaw_to_habitat_quaternion,
)
from robot_memory.sim.habitat.config import SEMANTIC_CHECKS
from robot_memory.sim.habitat.simulator import VIEW_NOISE_MODEL

__all__ = [
    'BACKGROUND_CATEGORIES',
    'COLOR_SENSOR',
    'DEPTH_SENSOR',
    'HABITAT_TO_MAP',
    'ROOM_SOURCES',
    'SEMANTIC_CHECKS',
    'SEMANTIC_SENSOR',
    'VIEW_NOISE_MODEL',
    'HabitatConfig',
    'HabitatFrame',
    'HabitatSim',
    'category_table',
    'frame_from_observation',
    'habitat_camera_to_map',
    'habitat_to_map_pose',
    'habitat_to_map_position',
    'habitat_to_map_quaternion',
    'map_to_habitat_position',
    'map_to_habitat_quaternion',
    'normalize_category',
    'place_edges',
    'places_along',
    'region_polygon',
    'room_category',
    'spread_points',
    'topdown_to_occupancy',
    'yaw_to_habitat_quaternion',
]

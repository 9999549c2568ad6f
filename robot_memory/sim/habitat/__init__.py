"""The Habitat backend: `HabitatSim`, a `SimBackend` on habitat-sim, and its pure helpers.

- `config` — `HabitatConfig` (`config/habitat.yaml`).
- `transforms` — Habitat's Y-up frames in REP-103 (positions, rotations, camera poses).
- `observations` — the sensor dict → `Frame`; dataset categories → class and room names.
- `layout` — rooms, view places and traversable edges of a scene.
- `simulator` — `HabitatSim` itself; `habitat_sim` is imported only when one is built.

`robot_memory.sim.habitat_backend` re-exports these names for older imports.
"""

from robot_memory.sim.habitat.config import ROOM_SOURCES, HabitatConfig
from robot_memory.sim.habitat.layout import (
    place_edges,
    places_along,
    region_polygon,
    spread_points,
    topdown_to_occupancy,
)
from robot_memory.sim.habitat.observations import (
    BACKGROUND_CATEGORIES,
    COLOR_SENSOR,
    DEPTH_SENSOR,
    SEMANTIC_SENSOR,
    HabitatFrame,
    category_table,
    frame_from_observation,
    normalize_category,
    room_category,
)
from robot_memory.sim.habitat.simulator import HabitatSim
from robot_memory.sim.habitat.transforms import (
    HABITAT_TO_MAP,
    habitat_camera_to_map,
    habitat_to_map_pose,
    habitat_to_map_position,
    habitat_to_map_quaternion,
    map_to_habitat_position,
    map_to_habitat_quaternion,
    yaw_to_habitat_quaternion,
)

__all__ = [
    'BACKGROUND_CATEGORIES',
    'COLOR_SENSOR',
    'DEPTH_SENSOR',
    'HABITAT_TO_MAP',
    'ROOM_SOURCES',
    'SEMANTIC_SENSOR',
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

"""Rooms on a real robot: named regions drawn over the map, or segmented from an occupancy grid.

Two ways to give the memory its room layer (`room:<name>` nodes with a floor polygon in `map`,
`place:<name>/<k>` viewpoints, `adjacent` and `traversable` edges):

- `load_regions(path)` reads a YAML of named polygons drawn over the robot's map (format in
  `sim/regions_example.yaml`). Places are taken from the file or generated inside each polygon;
  regions that share a stretch of boundary are adjacent unless the file lists the pairs.
- `rooms_from_occupancy(grid, resolution_m, origin_xy)` segments a `nav_msgs/OccupancyGrid`
  morphologically into rooms with doorways. Measured against the built-in simulator's true
  rooms: `docs/rooms.md`.

This module gathers the public names of the three that do the work: `room_layout.py` (regions
and places → scene graph), `regions.py` (region files) and `room_segmentation.py` (occupancy
grids); polygon geometry is in `robot_memory/geometry.py`.
"""

from __future__ import annotations

from robot_memory.geometry import pole_of_inaccessibility, shared_boundary_m
from robot_memory.perception.regions import (
    RegionFile,
    load_regions,
    read_regions,
    save_regions,
)
from robot_memory.perception.room_layout import (
    MIN_SHARED_BOUNDARY_M,
    PlaceParams,
    Region,
    graph_from_regions,
)
from robot_memory.perception.room_segmentation import (
    Agreement,
    SegmentationParams,
    label_rooms,
    rooms_from_occupancy,
    segment_rooms,
    segmentation_agreement,
)

__all__ = [
    'MIN_SHARED_BOUNDARY_M',
    'Agreement',
    'PlaceParams',
    'Region',
    'RegionFile',
    'SegmentationParams',
    'graph_from_regions',
    'label_rooms',
    'load_regions',
    'pole_of_inaccessibility',
    'read_regions',
    'rooms_from_occupancy',
    'save_regions',
    'segment_rooms',
    'segmentation_agreement',
    'shared_boundary_m',
]

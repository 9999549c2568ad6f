"""The built-in simulator's world as a 2D occupancy grid, with the true room of every cell.

The grid uses the values of `nav_msgs/OccupancyGrid` (-1 unknown, 0 free, 100 occupied), row
`r` and column `c` covering `origin_xy + ((c, r) + 0.5) * resolution_m` in `map`, as a map
server would give it. What counts as an obstacle is what a robot's 2D costmap would see: boxes
that reach into a height band above the floor (walls and furniture; not the lintels over doors
nor boards hung high on a wall). The true room per cell lets room segmentation be scored on the
simulator's own map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.world import World

__all__ = ['FREE', 'OCCUPIED', 'UNKNOWN', 'OccupancyMap', 'rasterize_world']

UNKNOWN = -1
FREE = 0
OCCUPIED = 100
_EDGE_EPS = 1e-6  # a box edge exactly on a cell edge does not claim the next cell


@dataclass(frozen=True, slots=True, eq=False)
class OccupancyMap:
    """An OccupancyGrid-like array with its geometry and, per cell, the index of its true room.

    `room_index[r, c]` indexes `room_ids` (-1: outside every room).
    """

    grid: np.ndarray  # (H, W) int8: -1 unknown, 0 free, 100 occupied
    resolution_m: float
    origin_xy: tuple[float, float]  # map position of the outer corner of cell (0, 0)
    room_index: np.ndarray  # (H, W) int16
    room_ids: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid."""
        return (int(self.grid.shape[0]), int(self.grid.shape[1]))

    def cell_center(self, row: int, col: int) -> tuple[float, float]:
        """Map position of a cell's centre."""
        return (self.origin_xy[0] + (col + 0.5) * self.resolution_m,
                self.origin_xy[1] + (row + 0.5) * self.resolution_m)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, column) of the cell holding a map point; may lie outside the grid."""
        return (math.floor((y - self.origin_xy[1]) / self.resolution_m),
                math.floor((x - self.origin_xy[0]) / self.resolution_m))


def rasterize_world(world: World, resolution_m: float = 0.05, margin_m: float = 0.5,
                    obstacle_band_m: tuple[float, float] = (0.05, 1.5)) -> OccupancyMap:
    """Rasterise walls and furniture (occupied), room floors (free) and the rest (unknown).

    `obstacle_band_m` is the (low, high) height range in metres a box must reach into to be
    an obstacle; `margin_m` of unknown surrounds the building.
    """
    if not resolution_m > 0:
        raise InvalidInputError(f'resolution_m must be positive, got {resolution_m}')
    low, high = obstacle_band_m
    if not low < high:
        raise InvalidInputError(f'obstacle_band_m must be (low, high) with low < high, '
                                f'got {obstacle_band_m}')
    x0, y0, x1, y1 = world.bounds_m
    origin = (x0 - margin_m, y0 - margin_m)
    cols = math.ceil((x1 - x0 + 2 * margin_m) / resolution_m)
    rows = math.ceil((y1 - y0 + 2 * margin_m) / resolution_m)
    grid = np.full((rows, cols), UNKNOWN, dtype=np.int8)
    room_index = np.full((rows, cols), -1, dtype=np.int16)

    def cells(bx0: float, by0: float, bx1: float, by1: float) -> tuple[slice, slice]:
        # Every cell the rectangle overlaps, so that 5 cm walls stay closed at any resolution.
        c0 = math.floor((bx0 - origin[0]) / resolution_m + _EDGE_EPS)
        c1 = math.ceil((bx1 - origin[0]) / resolution_m - _EDGE_EPS)
        r0 = math.floor((by0 - origin[1]) / resolution_m + _EDGE_EPS)
        r1 = math.ceil((by1 - origin[1]) / resolution_m - _EDGE_EPS)
        return slice(max(r0, 0), max(r1, 0)), slice(max(c0, 0), max(c1, 0))

    xs = origin[0] + (np.arange(cols) + 0.5) * resolution_m
    ys = origin[1] + (np.arange(rows) + 0.5) * resolution_m
    for index, room in enumerate(world.rooms):
        grid[cells(room.x0, room.y0, room.x1, room.y1)] = FREE
        # Truth by cell centre: rooms share their edges, so overlap would count cells twice.
        inside_x = (xs >= room.x0) & (xs < room.x1)
        inside_y = (ys >= room.y0) & (ys < room.y1)
        room_index[np.ix_(inside_y, inside_x)] = index
    boxes = [box for kind, box in world.structure_boxes() if kind == 'wall']
    boxes += [f.box_m for f in world.furniture]
    for (bx0, by0, bz0), (bx1, by1, bz1) in boxes:
        if bz1 > low and bz0 < high:
            grid[cells(bx0, by0, bx1, by1)] = OCCUPIED
    return OccupancyMap(grid, float(resolution_m), origin, room_index,
                        tuple(room.room_id for room in world.rooms))

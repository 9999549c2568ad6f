"""Rooms segmented from an occupancy grid (a `nav_msgs/OccupancyGrid` as an array).

Free space is eroded until doorways close (a distance-transform threshold of half the door
width), the pieces left are room seeds, the seeds grow back over free space by falling
clearance (a watershed on the distance map), pieces joined by an opening wider than a door or
smaller than a room are merged, and each room's outline becomes a polygon in `map`. Each room
gets view places and a place beside each of its doorways; `rooms_from_occupancy` builds the
scene graph's room layer from them. Measured against the built-in simulator's true rooms
(`segmentation_agreement`): `docs/rooms.md`.

OpenCV (`opencv-python-headless`) is imported inside the functions that need it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from robot_memory.core.scene_graph import EdgeKind, PlaceAttributes, RoomAttributes, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import Vec2, counter_clockwise, farthest_points
from robot_memory.perception.room_layout import PlaceParams, Region, join_places

__all__ = [
    'Agreement',
    'SegmentationParams',
    'label_rooms',
    'rooms_from_occupancy',
    'segment_rooms',
    'segmentation_agreement',
]

log = logging.getLogger(__name__)

_UNKNOWN = -1


@dataclass(frozen=True, slots=True)
class SegmentationParams:
    """Room segmentation of an occupancy grid.

    `door_width_m`: the widest doorway in metres. Free space narrower than this separates rooms;
    an opening wider than this joins them into one (open-plan rooms stay whole). Corridors
    narrower than this are not rooms of their own: the rooms beside them share them out.
    `min_room_area_m2`: rooms with less free floor than this (m²) are merged into the neighbour
    they share the longest opening with, or dropped when they have none.
    `min_seed_area_m2`: room seeds smaller than this (m²) are ignored, so that a bulge of free
    space between two pieces of furniture does not start a room of its own.
    `free_threshold`: cells with a value in [0, free_threshold] are free (occupancy percent,
    as nav2's map_server `free_thresh` 0.25); -1 is unknown, the rest occupied.
    """

    door_width_m: float = 1.0
    min_room_area_m2: float = 2.0
    min_seed_area_m2: float = 0.1
    free_threshold: int = 25
    places: PlaceParams = field(default_factory=PlaceParams)

    def __post_init__(self) -> None:
        if not self.door_width_m > 0:
            raise InvalidInputError(f'door_width_m must be positive, got {self.door_width_m}')
        if self.min_room_area_m2 < 0 or self.min_seed_area_m2 < 0:
            raise InvalidInputError(
                f'min_room_area_m2 and min_seed_area_m2 must be ≥ 0, got '
                f'{self.min_room_area_m2}, {self.min_seed_area_m2}')
        if not 0 <= self.free_threshold < 100:
            raise InvalidInputError(
                f'free_threshold must be in [0, 100), got {self.free_threshold}')


class Agreement(NamedTuple):
    """How well a segmentation matches the true rooms (segments matched one-to-one)."""

    accuracy: float  # fraction of scored cells whose segment is matched to their true room
    rooms_found: int
    rooms_true: int


class _Segmentation(NamedTuple):
    free_labels: np.ndarray  # (H, W) int32 on free cells only
    labels: np.ndarray  # (H, W) int32 grown over every known cell
    clearance_m: np.ndarray  # (H, W) float32 distance to the nearest non-free cell
    free: np.ndarray  # (H, W) bool


def _check_grid(grid: Any, resolution_m: float) -> np.ndarray:
    arr = np.asarray(grid)
    if arr.ndim != 2 or arr.size == 0:
        raise InvalidInputError(f'grid must be a non-empty 2D array (rows along y), '
                                f'got shape {arr.shape}')
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidInputError(f'grid must hold integer OccupancyGrid values, got {arr.dtype}')
    if arr.min() < -1 or arr.max() > 100:
        raise InvalidInputError(f'grid values must be -1 (unknown) or 0..100 (occupancy %), '
                                f'got {int(arr.min())}..{int(arr.max())}')
    if not (math.isfinite(resolution_m) and resolution_m > 0):
        raise InvalidInputError(f'resolution_m must be positive, got {resolution_m}')
    return arr


def _grow(labels: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Spread labels into unlabelled allowed cells, one ring per step (geodesic nearest)."""
    import cv2

    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    square = np.ones((3, 3), np.uint8)
    out = labels.astype(np.float32)  # dilate has no int32; float32 is exact to 2**24
    step = 0
    while True:
        todo = allowed & (out == 0)
        # Alternating 4- and 8-neighbour rings grows octagons, close to Euclidean circles.
        grown = cv2.dilate(out, cross if step % 2 == 0 else square)
        new = todo & (grown > 0)
        if not new.any():
            return out.astype(np.int32)
        out[new] = grown[new]
        step += 1


def _boundaries(labels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """(a, b) with a < b → midpoints (x=col, y=row) of the cell edges where a meets b."""
    keys, xs, ys = [], [], []
    n = int(labels.max()) + 1
    for a, b, dx, dy in ((labels[:, :-1], labels[:, 1:], 0.5, 0.0),
                         (labels[:-1, :], labels[1:, :], 0.0, 0.5)):
        m = (a > 0) & (b > 0) & (a != b)
        rows, cols = np.nonzero(m)
        lo, hi = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
        keys.append(lo.astype(np.int64) * n + hi)
        xs.append(cols + dx)
        ys.append(rows + dy)
    key = np.concatenate(keys)
    if key.size == 0:
        return {}
    pts = np.stack([np.concatenate(xs), np.concatenate(ys)], axis=1).astype(np.float32)
    order = np.argsort(key, kind='stable')
    key, pts = key[order], pts[order]
    uniq, starts = np.unique(key, return_index=True)
    groups = np.split(pts, starts[1:])
    return {(int(k // n), int(k % n)): g for k, g in zip(uniq, groups, strict=True)}


def _length_cells(points: np.ndarray) -> float:
    import cv2

    if len(points) < 2:
        return float(len(points))
    (_, (w, h), _) = cv2.minAreaRect(points)
    return float(max(w, h)) + 1.0


def _merge(labels: np.ndarray, resolution_m: float, params: SegmentationParams) -> np.ndarray:
    """Merge segments joined wider than a door, then segments smaller than a room."""
    labels = labels.copy()
    cell_m2 = resolution_m * resolution_m
    while True:
        bounds = {k: _length_cells(p) * resolution_m for k, p in _boundaries(labels).items()}
        area = np.bincount(labels.ravel()) * cell_m2
        wide = [k for k, length in bounds.items() if length > params.door_width_m]
        if wide:
            a, b = wide[0]
        else:
            small = [k for k in range(1, len(area))
                     if 0 < area[k] < params.min_room_area_m2
                     and any(k in pair for pair in bounds)]
            if not small:
                break
            k = min(small, key=lambda s: (area[s], s))
            a, b = max((pair for pair in bounds if k in pair), key=lambda p: (bounds[p], p))
        keep, drop = (a, b) if area[a] >= area[b] else (b, a)
        labels[labels == drop] = keep
    # Isolated pockets too small for a room join whatever room surrounds them later.
    area = np.bincount(labels.ravel()) * cell_m2
    tiny = np.flatnonzero((area > 0) & (area < params.min_room_area_m2))
    labels[np.isin(labels, tiny[tiny > 0])] = 0
    return labels


def _relabel(labels: np.ndarray) -> np.ndarray:
    present = np.unique(labels[labels > 0])
    lut = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lut[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    out: np.ndarray = lut[labels]
    return out


def _segment(grid: Any, resolution_m: float, params: SegmentationParams) -> _Segmentation:
    import cv2
    from scipy import ndimage

    arr = _check_grid(grid, resolution_m)
    known = arr != _UNKNOWN
    free = known & (arr <= params.free_threshold)
    # Padding with obstacle keeps the map's edge from counting as open space.
    padded = np.pad(free, 1).astype(np.uint8)
    clearance = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    clearance = (clearance * resolution_m).astype(np.float32)
    # An opening n cells wide measures (n + 1) / 2 cells at its middle (cell centres to the
    # obstacle cell's centre): the half cell keeps a doorway exactly door_width_m wide closed.
    core_level = (params.door_width_m + resolution_m) / 2
    core = (clearance > core_level).astype(np.uint8)
    _, seeds, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=4)
    small = stats[:, cv2.CC_STAT_AREA] * resolution_m ** 2 < params.min_seed_area_m2
    small[0] = False
    seeds[small[seeds]] = 0
    # Flood by falling clearance, one cell at a time (a watershed on the distance map): every
    # room fills its open floor before any front squeezes through a doorway, so borders fall
    # in the doorways even where a room's core lies far from its door.
    labels = seeds.astype(np.int32)
    for level in np.arange(float(core_level), -resolution_m / 2, -resolution_m):
        labels = _grow(labels, free & (clearance >= level))
    # Free space no seed reached (rooms narrower than a door everywhere) is a room of its own.
    rest = (free & (labels == 0)).astype(np.uint8)
    n_rest, rest_labels = cv2.connectedComponents(rest, connectivity=4)
    if n_rest > 1:
        offset = int(labels.max())
        labels = np.where(rest_labels > 0, rest_labels + offset, labels)
    free_labels = _relabel(_merge(labels, resolution_m, params))
    grown = free_labels
    if free_labels.max() > 0:
        # Walls, furniture and pockets take the nearest room, so polygons cover the whole floor.
        idx = ndimage.distance_transform_edt(free_labels == 0, return_distances=False,
                                             return_indices=True)
        grown = free_labels[idx[0], idx[1]]
        grown[~known] = 0
    return _Segmentation(free_labels, grown.astype(np.int32), clearance, free)


def label_rooms(grid: Any, resolution_m: float,
                params: SegmentationParams | None = None) -> np.ndarray:
    """Room label per cell (int32; 0 = unknown space, k = the k-th room of `segment_rooms`)."""
    return _segment(grid, resolution_m, params or SegmentationParams()).labels


def _polygon_of(mask: np.ndarray, resolution_m: float,
                origin_xy: Vec2) -> tuple[Vec2, ...]:
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    contour = cv2.approxPolyDP(contour, 0.5, True).reshape(-1, 2)
    # Contours run through cell centres; cell (r, c) is centred at origin + (c, r) + ½.
    pts = [(round(origin_xy[0] + (c + 0.5) * resolution_m, 3),
            round(origin_xy[1] + (r + 0.5) * resolution_m, 3)) for c, r in contour]
    return counter_clockwise(pts)


def _cell_xy(rc: np.ndarray, resolution_m: float, origin_xy: Vec2) -> np.ndarray:
    return np.stack([origin_xy[0] + (rc[:, 1] + 0.5) * resolution_m,
                     origin_xy[1] + (rc[:, 0] + 0.5) * resolution_m], axis=1)


class _Door(NamedTuple):
    a: int
    b: int
    center_xy: Vec2


def _segment_regions(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                     params: SegmentationParams) -> tuple[_Segmentation, list[Region],
                                                          list[_Door], dict[tuple[int, int], int]]:
    """Regions with view and door places, the doors, and (door, label) → door place index."""
    seg = _segment(grid, resolution_m, params)
    origin = (float(origin_xy[0]), float(origin_xy[1]))
    doors = []
    for (a, b), pts in sorted(_boundaries(seg.free_labels).items()):
        mid = pts.mean(axis=0)
        doors.append(_Door(a, b, (origin[0] + (mid[0] + 0.5) * resolution_m,
                                  origin[1] + (mid[1] + 0.5) * resolution_m)))
    regions: list[Region] = []
    door_places: dict[tuple[int, int], int] = {}
    pp = params.places
    for k in range(1, int(seg.free_labels.max()) + 1):
        cells = np.argwhere(seg.free_labels == k)
        clear = seg.clearance_m[cells[:, 0], cells[:, 1]]
        xy = _cell_xy(cells, resolution_m, origin)
        pole = xy[int(np.argmax(clear))]
        # Cells farther from obstacles than half a door are the room proper, never a doorway
        # or a gap behind furniture; rooms too narrow to have any fall back to clearance_m.
        roomy = xy[clear > max(pp.clearance_m, (params.door_width_m + resolution_m) / 2)]
        if len(roomy) == 0:
            roomy = xy[clear >= pp.clearance_m]
        views = farthest_points(roomy, pole, pp.spacing_m, pp.max_per_room)
        places: list[Vec2] = [(float(round(x, 3)), float(round(y, 3))) for x, y in views]
        for d, door in enumerate(doors):
            if k not in (door.a, door.b):
                continue
            # In from the doorway, where the robot stands clear of the frame.
            centre = np.asarray(door.center_xy)
            dist = np.hypot(*(roomy - centre).T) if len(roomy) else np.zeros(0)
            ok = dist >= 0.5
            if not ok.any():
                continue
            best = roomy[ok][int(np.argmin(dist[ok]))]
            places.append((round(float(best[0]), 3), round(float(best[1]), 3)))
            door_places[(d, k)] = len(places) - 1
        polygon = _polygon_of(seg.labels == k, resolution_m, origin)
        regions.append(Region(f'region_{k - 1}', 'unknown', polygon, tuple(places)))
    return seg, regions, doors, door_places


def segment_rooms(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                  params: SegmentationParams | None = None) -> list[Region]:
    """Rooms of an OccupancyGrid array (rows along +y from `origin_xy`), as named regions.

    Region k (named `region_<k>`, category `unknown`) is label k + 1 of `label_rooms`; its
    places are view places followed by one place beside each doorway it has.
    """
    return _segment_regions(grid, resolution_m, origin_xy, params or SegmentationParams())[1]


def rooms_from_occupancy(grid: Any, resolution_m: float, origin_xy: Sequence[float],
                         params: SegmentationParams | None = None,
                         building: str = 'building') -> SceneGraph:
    """A scene graph of segmented rooms: adjacency through doorways, places joined by free lines.
    """
    params = params or SegmentationParams()
    seg, regions, doors, door_places = _segment_regions(grid, resolution_m, origin_xy, params)
    origin = (float(origin_xy[0]), float(origin_xy[1]))
    graph = SceneGraph(building)

    def line_free(a: Vec2, b: Vec2) -> bool:
        n = max(2, int(math.dist(a, b) / (resolution_m / 2)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        pts = np.asarray(a) + t * (np.asarray(b) - np.asarray(a))
        cols = np.floor((pts[:, 0] - origin[0]) / resolution_m).astype(int)
        rows = np.floor((pts[:, 1] - origin[1]) / resolution_m).astype(int)
        inside = (rows >= 0) & (rows < seg.free.shape[0]) & (cols >= 0) & \
            (cols < seg.free.shape[1])
        return bool(inside.all() and seg.free[rows, cols].all())

    for region in regions:
        graph.add_room(region.room_id, RoomAttributes(region.name, region.category,
                                                      region.polygon_m))
        ids = []
        for k, (x, y) in enumerate(region.places_m):
            place_id = f'place:{region.name}/{k}'
            graph.add_place(place_id, PlaceAttributes(region.room_id, (x, y, 0.0)))
            ids.append((place_id, (x, y)))
        join_places(graph, ids, line_free)
    for d, door in enumerate(doors):
        ra, rb = regions[door.a - 1], regions[door.b - 1]
        graph.add_edge(EdgeKind.ADJACENT, ra.room_id, rb.room_id)
        ka, kb = door_places.get((d, door.a)), door_places.get((d, door.b))
        if ka is None or kb is None:
            continue
        pa, pb = ra.places_m[ka], rb.places_m[kb]
        length = math.dist(pa, door.center_xy) + math.dist(door.center_xy, pb)
        graph.add_edge(EdgeKind.TRAVERSABLE, f'place:{ra.name}/{ka}', f'place:{rb.name}/{kb}',
                       length_m=length)
    log.info('segmented %d rooms with %d doorways', len(regions), len(doors))
    return graph


def segmentation_agreement(labels: np.ndarray, truth: np.ndarray,
                           mask: np.ndarray | None = None) -> Agreement:
    """Per-cell agreement after matching segments to true rooms one-to-one (Hungarian method).

    `labels`: segment per cell (0 = none); `truth`: true room index per cell (-1 = none);
    cells scored: `mask` (default all) where a true room exists. Unmatched segments and
    unlabelled cells count as wrong.
    """
    from scipy.optimize import linear_sum_assignment

    labels, truth = np.asarray(labels), np.asarray(truth)
    if labels.shape != truth.shape:
        raise InvalidInputError(f'labels {labels.shape} and truth {truth.shape} differ in shape')
    scored = truth >= 0
    if mask is not None:
        scored &= np.asarray(mask, dtype=bool)
    pred, true = labels[scored].astype(np.int64), truth[scored].astype(np.int64)
    if pred.size == 0:
        raise InvalidInputError('no cells to score: truth has no room in the mask')
    found = np.unique(labels[labels > 0])
    true_ids = np.unique(true)
    table = np.zeros((len(found) + 1, int(true.max()) + 1))
    index = np.zeros(int(max(labels.max(), 0)) + 1, dtype=np.int64)
    index[found] = np.arange(1, len(found) + 1)
    np.add.at(table, (index[np.maximum(pred, 0)], true), 1.0)
    table[0] = 0.0  # unlabelled cells match nothing
    rows, cols = linear_sum_assignment(table, maximize=True)
    return Agreement(float(table[rows, cols].sum() / pred.size), len(found), len(true_ids))

"""Tests of rooms on a real robot: region files, and room segmentation of occupancy grids.

Segmentation is scored on the built-in simulator's own occupancy grid against its true rooms:
per-cell agreement after matching segments to rooms one-to-one (Hungarian method), and the
number of rooms found against the true number.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from robot_memory.core.scene_graph import EdgeKind
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.rooms import (
    PlaceParams,
    Region,
    SegmentationParams,
    graph_from_regions,
    label_rooms,
    load_regions,
    pole_of_inaccessibility,
    read_regions,
    rooms_from_occupancy,
    save_regions,
    segment_rooms,
    segmentation_agreement,
    shared_boundary_m,
)
from robot_memory.sim.occupancy import FREE, OCCUPIED, UNKNOWN, OccupancyMap, rasterize_world
from robot_memory.sim.world import World

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / 'sim' / 'regions_example.yaml'
SQUARE = [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0], [0.0, 3.0]]


@functools.cache
def _world(kind: str, seed: int) -> World:
    return World.generate(seed, kind)


@functools.cache
def _occupancy(kind: str, seed: int) -> OccupancyMap:
    return rasterize_world(_world(kind, seed))


def _edge_set(graph, kind):
    return {tuple(sorted((u, v))) for u, v, _ in graph.edges(kind)}


# ============================================================ region files
def test_the_example_regions_describe_the_builtin_apartment():
    graph = load_regions(EXAMPLE)
    world = World.from_yaml(ROOT / 'sim' / 'worlds' / 'apartment.yaml')
    truth = world.scene_graph()
    assert graph.rooms == truth.rooms
    for room in world.rooms:
        ours = graph.get_room(room.room_id)
        assert ours.category == room.category
        assert np.allclose(ours.polygon_m, room.polygon_m)
    assert _edge_set(graph, EdgeKind.ADJACENT) == _edge_set(truth, EdgeKind.ADJACENT)
    for place in world.places:  # every true viewpoint lies in the region of its room
        x, y, _ = place.position_m
        assert graph.find_room_at(x, y) == f'room:{place.room}'
    # Places listed in the file keep their order; the others are generated inside.
    assert graph.get_place('place:hallway/2').position_m == (5.3, 1.1, 0.0)
    assert graph.get_place('place:bathroom/0').position_m == (8.2, -1.5, 0.0)  # the pole


def test_every_place_reaches_every_other_through_the_doors():
    graph = load_regions(EXAMPLE)
    for place in graph.places[1:]:
        path, length = graph.place_path(graph.places[0], place)
        assert path[-1] == place and length > 0


def test_regions_round_trip_through_a_file(tmp_path):
    graph = load_regions(EXAMPLE)
    saved = save_regions(graph, tmp_path / 'regions.yaml')
    again = load_regions(saved)
    assert again == graph
    assert read_regions(saved).building == 'apartment'


def test_without_an_adjacent_list_rooms_sharing_a_wall_are_adjacent():
    spec = read_regions(EXAMPLE)
    graph = graph_from_regions(spec.regions, spec.building)
    pairs = _edge_set(graph, EdgeKind.ADJACENT)
    assert ('room:bedroom', 'room:study') in pairs  # a wall, no door: geometry cannot tell
    assert ('room:kitchen', 'room:study') not in pairs


def test_generated_places_stay_inside_with_clearance_and_spacing():
    l_shape = ((0.0, 0.0), (8.0, 0.0), (8.0, 2.0), (2.0, 2.0), (2.0, 8.0), (0.0, 8.0))
    params = PlaceParams(spacing_m=2.5, clearance_m=0.5, max_per_room=5)
    graph = graph_from_regions([Region('lobby', 'hallway', l_shape)], params=params)
    places = [graph.get_place(p).position_m[:2] for p in graph.places]
    assert 2 <= len(places) <= 5
    room = graph.get_room('room:lobby')
    for x, y in places:
        assert room.contains_xy(x, y)
    assert min(math.dist(a, b) for i, a in enumerate(places) for b in places[i + 1:]) >= 2.5
    # The L's arms are 2 m wide: a straight line between their ends would leave the floor,
    # so the places are chained through the corner instead.
    for p in graph.places[1:]:
        graph.place_path(graph.places[0], p)


@pytest.mark.parametrize(('polygon', 'pole'), [
    (((0, 0), (10, 0), (10, 10), (0, 10)), (5.0, 5.0)),
    (((0, 0), (4, 0), (4, 2), (0, 2)), (2.0, 1.0)),
    (((0, 0), (6, 0), (6, 6), (4, 6), (4, 2), (2, 2), (2, 6), (0, 6)),
     (4 - 2 * math.sqrt(2), 4 - 2 * math.sqrt(2))),  # a U: where x = y = √2 (2 - x)
])
def test_pole_of_inaccessibility(polygon, pole):
    x, y = pole_of_inaccessibility(polygon)
    if polygon[1] == (6, 0):  # the U is symmetric: either bottom corner
        x = min(x, 6 - x)
    assert (x, y) == pytest.approx(pole, abs=2e-3)


@pytest.mark.parametrize(('b', 'shared'), [
    (((4, 0), (8, 0), (8, 3), (4, 3)), 3.0),        # a whole wall
    (((4, 1), (8, 1), (8, 5), (4, 5)), 2.0),        # part of it
    (((4.03, 0), (8, 0), (8, 3), (4.03, 3)), 3.0),  # a 3 cm gap is drawing noise
    (((4.2, 0), (8, 0), (8, 3), (4.2, 3)), 0.0),    # 20 cm apart
    (((4, 3), (8, 3), (8, 6), (4, 6)), 0.0),        # only a corner
])
def test_shared_boundary(b, shared):
    assert shared_boundary_m(SQUARE, b) == pytest.approx(shared)


def _file(*regions, **extra):
    return {'regions': list(regions), **extra}


def _region(name='kitchen', polygon=None, **extra):
    return {'name': name, 'category': 'kitchen', 'polygon': polygon or SQUARE, **extra}


@pytest.mark.parametrize(('data', 'message'), [
    ({'rooms': []}, '<regions>: a regions file is a mapping with a "regions" list'),
    (_file(), '<regions>: the regions list is empty'),
    (_file(_region(), map='x'),
     "<regions>: unknown keys ['map']; valid: frame_id, building, regions, adjacent, "
     'place_generation'),
    (_file(_region(), frame_id='odom'),
     '<regions>: frame_id must be "map" (polygons are drawn over the map), got \'odom\''),
    (_file(['kitchen']),
     "<regions>: region 0 must be a mapping with name, category and polygon, got ['kitchen']"),
    (_file({'category': 'kitchen', 'polygon': SQUARE}),
     '<regions>: region 0: name must be a non-empty string of letters, digits, "_" or "-"'),
    (_file(_region('living room')),
     "<regions>: region 0 ('living room'): name must be a non-empty string of letters, "
     'digits, "_" or "-"'),
    (_file({'name': 'kitchen', 'polygon': SQUARE}),
     "<regions>: region 0 ('kitchen'): category must be a non-empty string, got None"),
    (_file({'name': 'kitchen', 'category': 'kitchen'}),
     "<regions>: region 0 ('kitchen'): polygon is missing"),
    (_file(_region(polygon_m=SQUARE)),
     "<regions>: region 0 ('kitchen'): unknown keys ['polygon_m']; valid: name, category, "
     'polygon, places'),
    (_file(_region(polygon=[[0, 0], [1, 0]])),
     "<regions>: region 0 ('kitchen'): polygon needs at least 3 points, got 2"),
    (_file(_region(polygon=[[0, 0], [1], [1, 1]])),
     "<regions>: region 0 ('kitchen'): polygon point 1 must be [x, y] in metres, got [1]"),
    (_file(_region(polygon=[[0, 0], [1, float('nan')], [1, 1]])),
     "<regions>: region 0 ('kitchen'): polygon point 1 must be finite, got [1, nan]"),
    (_file(_region(polygon=[[0, 0], [1, 1], [2, 2]])),
     "<regions>: region 0 ('kitchen'): polygon has zero area"),
    (_file(_region(polygon=[[0, 0], [2, 2], [2, 0], [0, 2]])),
     "<regions>: region 0 ('kitchen'): polygon crosses itself (edges 0 and 2)"),
    (_file(_region(places=[[2, 1], [5, 1]])),
     "<regions>: region 0 ('kitchen'): place 1 [5.0, 1.0] lies outside the polygon"),
    (_file(_region(), _region()),
     "<regions>: region 1 ('kitchen'): the name is already used by region 0"),
    (_file(_region(), _region('pantry', [[3, 1], [6, 1], [6, 2], [3, 2]])),
     "<regions>: regions 'kitchen' and 'pantry' overlap; regions may share edges but not "
     'floor'),
    (_file(_region(), _region('hall', [[1, 1], [2, 1], [2, 2], [1, 2]])),
     "<regions>: regions 'kitchen' and 'hall' overlap; regions may share edges but not floor"),
    (_file(_region(), adjacent=[['kitchen', 'garage']]),
     "<regions>: adjacent entry 0 names unknown region 'garage'; valid: kitchen"),
    (_file(_region(), adjacent=[['kitchen', 'kitchen']]),
     "<regions>: adjacent entry 0 joins 'kitchen' to itself"),
    (_file(_region(), adjacent=[['kitchen']]),
     "<regions>: adjacent entry 0 must be a pair of region names, got ['kitchen']"),
    (_file(_region(), place_generation={'spacing': 1}),
     "<regions>: unknown place_generation keys ['spacing']; valid: spacing_m, clearance_m, "
     'max_per_room'),
])
def test_bad_region_files_name_the_region_and_the_problem(data, message):
    with pytest.raises(InvalidInputError, match=f'^{re.escape(message)}$'):
        load_regions(data)


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match='cannot read the regions file'):
        load_regions(tmp_path / 'absent.yaml')
    broken = tmp_path / 'broken.yaml'
    broken.write_text('regions: [\n', encoding='utf-8')
    with pytest.raises(InvalidInputError, match=f'^cannot read the regions file '
                                                f'{re.escape(str(broken))}: not valid YAML'):
        load_regions(broken)


def test_regions_may_touch_and_a_closing_point_is_dropped():
    spec = read_regions(_file(
        _region(polygon=[*SQUARE, SQUARE[0]]),
        _region('hall', [[4, 0], [6, 0], [6, 3], [4, 3]])))
    assert len(spec.regions[0].polygon_m) == 4
    graph = graph_from_regions(spec.regions)
    assert graph.has_edge(EdgeKind.ADJACENT, 'room:kitchen', 'room:hall')


# ============================================================ occupancy grid
def test_the_world_rasterises_to_walls_doors_floor_and_unknown():
    world = _world('apartment', 0)
    occ = _occupancy('apartment', 0)
    grid = occ.grid
    assert grid.dtype == np.int8 and set(np.unique(grid)) == {UNKNOWN, FREE, OCCUPIED}
    assert grid[0, 0] == UNKNOWN and grid[-1, -1] == UNKNOWN
    for door in world.doors:  # the doorway is open: the lintel is above the robot
        row, col = occ.cell_of(*door.center_m)
        assert grid[row, col] == FREE
    for room in world.rooms:  # the room's edge is wall where there is no door
        row, col = occ.cell_of(room.x0 + 0.01, room.y0 + 0.3)
        doors_here = [d for d in world.doors if d.axis == 'y' and abs(d.center_m[0] - room.x0)
                      < 1e-6 and abs(d.center_m[1] - room.y0 - 0.3) < 0.6]
        if not doors_here:
            assert grid[row, col] == OCCUPIED
        row, col = occ.cell_of(*room.center_m)
        assert occ.room_ids[occ.room_index[row, col]] == room.room_id
    for furn in world.furniture:
        (x0, y0, z0), (x1, y1, _) = furn.box_m
        row, col = occ.cell_of((x0 + x1) / 2, (y0 + y1) / 2)
        assert grid[row, col] == (OCCUPIED if z0 < 1.5 else FREE)
    row, col = 7, 11
    assert occ.cell_of(*occ.cell_center(row, col)) == (row, col)


def test_rasterising_needs_a_positive_resolution():
    with pytest.raises(InvalidInputError, match='resolution_m must be positive, got 0'):
        rasterize_world(_world('apartment', 0), resolution_m=0)


# ============================================================ segmentation
WORLD_FLOORS = {'apartment': 0.95, 'house': 0.93, 'office': 0.95}


def test_segmentation_agrees_with_the_simulators_true_rooms(capsys):
    rows = []
    for kind, floor in WORLD_FLOORS.items():
        for seed in (0, 1, 2):
            occ = _occupancy(kind, seed)
            labels = label_rooms(occ.grid, occ.resolution_m)
            score = segmentation_agreement(labels, occ.room_index, occ.grid == FREE)
            rows.append((kind, seed, score))
            assert score.accuracy >= floor, (kind, seed, score)
            assert abs(score.rooms_found - score.rooms_true) <= 1, (kind, seed, score)
            assert (labels[occ.grid == UNKNOWN] == 0).all()
    with capsys.disabled():
        print('\nroom segmentation vs the simulator (cell agreement, rooms found / true)')
        for kind, seed, score in rows:
            print(f'  {kind:9s} seed {seed}: {score.accuracy:.3f}  '
                  f'{score.rooms_found}/{score.rooms_true}')
    assert np.mean([s.accuracy for _, _, s in rows]) >= 0.97


def test_segmented_rooms_match_true_rooms_doors_and_places():
    world, occ = _world('apartment', 0), _occupancy('apartment', 0)
    graph = rooms_from_occupancy(occ.grid, occ.resolution_m, occ.origin_xy, building='flat')
    assert len(graph.rooms) == len(world.rooms)
    # Each true room's viewpoints fall in one segmented room, a different one per true room.
    found = {}
    for place in world.places:
        x, y, _ = place.position_m
        found.setdefault(place.room, set()).add(graph.find_room_at(x, y))
    assert all(len(rooms) == 1 and None not in rooms for rooms in found.values())
    match = {f'room:{true}': rooms.pop() for true, rooms in found.items()}
    assert len(set(match.values())) == len(world.rooms)
    # Doorways make the adjacency: the same pairs as the simulator's doors.
    truth = {tuple(sorted((match[u], match[v])))
             for u, v in _edge_set(world.scene_graph(), EdgeKind.ADJACENT)}
    assert _edge_set(graph, EdgeKind.ADJACENT) == truth
    # Places stand on free floor inside their room, and all of them are connected.
    for place in graph.places:
        x, y, _ = graph.get_place(place).position_m
        row, col = occ.cell_of(x, y)
        assert occ.grid[row, col] == FREE
        assert graph.get_room(graph.room_of(place)).contains_xy(x, y)
        graph.place_path(graph.places[0], place)
    # Polygons cover their true rooms closely.
    for true, ours in match.items():
        room = world.room(true.partition(':')[2])
        region = Region('r', 'unknown', graph.get_room(ours).polygon_m)
        assert region.area_m2 == pytest.approx(room.area_m2, rel=0.15)


def test_a_segmented_map_saves_as_an_editable_region_file(tmp_path):
    occ = _occupancy('office', 1)
    graph = rooms_from_occupancy(occ.grid, occ.resolution_m, occ.origin_xy)
    again = load_regions(save_regions(graph, tmp_path / 'office.yaml'))
    assert again.rooms == graph.rooms and again.places == graph.places
    assert _edge_set(again, EdgeKind.ADJACENT) == _edge_set(graph, EdgeKind.ADJACENT)


def _two_rooms(door_m: float, res: float = 0.05) -> np.ndarray:
    """Two 3 m x 3 m rooms side by side, a 10 cm wall between with an opening of door_m."""
    w, h = int(6.3 / res), int(3.2 / res)
    grid = np.full((h, w), OCCUPIED, np.int8)
    grid[2:-2, 2:-2] = FREE
    wall = slice(int(3.1 / res), int(3.2 / res))
    grid[:, wall] = OCCUPIED
    lo, hi = int((1.6 - door_m / 2) / res), int((1.6 + door_m / 2) / res)
    grid[lo:hi, wall] = FREE
    return grid


def test_a_doorway_splits_free_space_into_two_adjacent_rooms():
    grid = _two_rooms(0.9)
    regions = segment_rooms(grid, 0.05, (10.0, -5.0))
    assert [r.name for r in regions] == ['region_0', 'region_1']
    west, east = sorted(regions, key=lambda r: min(x for x, _ in r.polygon_m))
    assert max(x for x, _ in west.polygon_m) <= 10.0 + 3.2
    assert min(x for x, _ in east.polygon_m) >= 10.0 + 3.1
    assert all(r.area_m2 == pytest.approx(9.0, rel=0.1) for r in regions)
    graph = rooms_from_occupancy(grid, 0.05, (10.0, -5.0))
    assert graph.has_edge(EdgeKind.ADJACENT, 'room:region_0', 'room:region_1')
    for place in graph.places:  # map coordinates: the origin is applied
        x, y, _ = graph.get_place(place).position_m
        assert 10.0 < x < 16.3 and -5.0 < y < -1.8


def test_an_opening_wider_than_a_door_joins_the_rooms():
    assert len(segment_rooms(_two_rooms(1.6), 0.05, (0.0, 0.0))) == 1
    wide_doors = SegmentationParams(door_width_m=1.8)
    assert len(segment_rooms(_two_rooms(1.6), 0.05, (0.0, 0.0), wide_doors)) == 2


def test_a_closet_smaller_than_a_room_joins_its_neighbour():
    grid = _two_rooms(0.8)
    closet = grid[:, :62].copy()  # the west room shrinks to a 1.2 m x 1.4 m closet
    closet[:] = OCCUPIED
    closet[18:46, 38:62] = FREE
    grid[:, :62] = closet
    assert len(segment_rooms(grid, 0.05, (0.0, 0.0))) == 1
    assert len(segment_rooms(grid, 0.05, (0.0, 0.0),
                             SegmentationParams(min_room_area_m2=1.0))) == 2


def test_segmentation_works_at_a_coarser_resolution():
    occ = rasterize_world(_world('apartment', 0), resolution_m=0.1)
    labels = label_rooms(occ.grid, occ.resolution_m)
    score = segmentation_agreement(labels, occ.room_index, occ.grid == FREE)
    assert score.accuracy >= 0.95 and score.rooms_found == score.rooms_true


@pytest.mark.parametrize(('grid', 'resolution', 'message'), [
    (np.zeros((3, 3, 3), np.int8), 0.05, 'grid must be a non-empty 2D array'),
    (np.zeros((3, 3), np.float32), 0.05, 'grid must hold integer OccupancyGrid values'),
    (np.full((3, 3), 101, np.int16), 0.05, 'grid values must be -1 (unknown) or 0..100'),
    (np.zeros((3, 3), np.int8), 0.0, 'resolution_m must be positive, got 0.0'),
])
def test_bad_grids_are_named(grid, resolution, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        label_rooms(grid, resolution)


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'door_width_m': 0}, 'door_width_m must be positive, got 0'),
    ({'free_threshold': 100}, 'free_threshold must be in [0, 100), got 100'),
    ({'min_room_area_m2': -1}, 'min_room_area_m2 and min_seed_area_m2 must be ≥ 0'),
])
def test_bad_segmentation_parameters_are_named(kwargs, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        SegmentationParams(**kwargs)


def test_agreement_matches_segments_to_rooms_one_to_one():
    truth = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])
    assert segmentation_agreement(np.array([[5, 5, 2, 2], [5, 5, 2, 2]]), truth) == (1.0, 2, 2)
    split = segmentation_agreement(np.array([[1, 1, 2, 3], [1, 1, 2, 3]]), truth)
    assert split == (0.75, 3, 2)
    merged = segmentation_agreement(np.array([[1, 1, 1, 1], [1, 1, 1, 1]]), truth)
    assert merged == (0.5, 1, 2)
    unlabelled = segmentation_agreement(np.array([[0, 1, 2, 2], [0, 1, 2, 2]]), truth)
    assert unlabelled == (0.75, 2, 2)
    with pytest.raises(InvalidInputError, match=r'labels \(1, 4\) and truth \(2, 4\)'):
        segmentation_agreement(np.zeros((1, 4), int), truth)

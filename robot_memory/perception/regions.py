"""Region files: named floor polygons drawn over the robot's map, read, checked and written.

The format is in `sim/regions_example.yaml`. `read_regions` checks a file (or its dict) and
says which region is wrong and why; `load_regions` turns it into the room layer of a scene
graph (`perception/room_layout.py`); `save_regions` writes a graph's rooms back as a file that
loads back equal.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np

from robot_memory.config import read_yaml
from robot_memory.core.scene_graph import BuildingAttributes, EdgeKind, Layer, SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.geometry import (
    Vec2,
    counter_clockwise,
    polygons_overlap,
    self_intersection,
    signed_area,
    signed_depth,
)
from robot_memory.perception.room_layout import PlaceParams, Region, graph_from_regions

__all__ = ['RegionFile', 'load_regions', 'read_regions', 'save_regions']

log = logging.getLogger(__name__)

_NAME = re.compile(r'^[A-Za-z0-9_-]+$')
_REGION_KEYS = ('name', 'category', 'polygon', 'places')
_FILE_KEYS = ('frame_id', 'building', 'regions', 'adjacent', 'place_generation')
_PLACE_KEYS = ('spacing_m', 'clearance_m', 'max_per_room')


class RegionFile(NamedTuple):
    """The content of a regions YAML: building name, regions, adjacency (None: from geometry)."""

    building: str
    regions: list[Region]
    adjacent: list[tuple[str, str]] | None
    place_params: PlaceParams


def _fail(source: str, message: str) -> InvalidInputError:
    return InvalidInputError(f'{source}: {message}')


def _points(value: Any, what: str, source: str) -> tuple[Vec2, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(source, f'{what} must be a list of [x, y] points, got {value!r}')
    out = []
    for k, p in enumerate(value):
        try:
            x, y = (float(v) for v in p)
        except (TypeError, ValueError):
            raise _fail(source, f'{what} point {k} must be [x, y] in metres, '
                                f'got {p!r}') from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise _fail(source, f'{what} point {k} must be finite, got {p!r}')
        out.append((x, y))
    return tuple(out)


def _place_params(value: Any, source: str) -> PlaceParams:
    if value is None:
        return PlaceParams()
    if not isinstance(value, Mapping):
        raise _fail(source, f'place_generation must be a mapping, got {value!r}')
    unknown = sorted(set(value) - set(_PLACE_KEYS))
    if unknown:
        raise _fail(source, f'unknown place_generation keys {unknown}; '
                            f'valid: {", ".join(_PLACE_KEYS)}')
    defaults = PlaceParams()
    try:
        # Converted in the file's order: the first bad value is the one reported.
        numbers = {k: (int(v) if k == 'max_per_room' else float(v)) for k, v in value.items()}
        return PlaceParams(float(numbers.get('spacing_m', defaults.spacing_m)),
                           float(numbers.get('clearance_m', defaults.clearance_m)),
                           int(numbers.get('max_per_room', defaults.max_per_room)))
    except (TypeError, ValueError) as exc:
        raise _fail(source, f'place_generation: {exc}') from None


def _parse_region(index: int, entry: Any, source: str, tolerance_m: float) -> Region:
    if not isinstance(entry, Mapping):
        raise _fail(source, f'region {index} must be a mapping with name, category and '
                            f'polygon, got {entry!r}')
    name = entry.get('name')
    label = f'region {index} ({name!r})' if name is not None else f'region {index}'
    unknown = sorted(set(entry) - set(_REGION_KEYS))
    if unknown:
        raise _fail(source, f'{label}: unknown keys {unknown}; valid: {", ".join(_REGION_KEYS)}')
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(source, f'{label}: name must be a non-empty string of letters, digits, '
                            f'"_" or "-"')
    category = entry.get('category')
    if not isinstance(category, str) or not category.strip():
        raise _fail(source, f'{label}: category must be a non-empty string, got {category!r}')
    if 'polygon' not in entry:
        raise _fail(source, f'{label}: polygon is missing')
    polygon = _points(entry['polygon'], f'{label}: polygon', source)
    if len(polygon) >= 2 and polygon[0] == polygon[-1]:
        polygon = polygon[:-1]  # a closed ring repeats its first point
    if len(polygon) < 3:
        raise _fail(source, f'{label}: polygon needs at least 3 points, got {len(polygon)}')
    crossing = self_intersection(polygon)
    if crossing is not None:
        raise _fail(source, f'{label}: polygon crosses itself (edges {crossing[0]} and '
                            f'{crossing[1]})')
    if abs(signed_area(polygon)) < 1e-6:
        raise _fail(source, f'{label}: polygon has zero area')
    places = _points(entry.get('places') or [], f'{label}: places', source)
    polygon = counter_clockwise(polygon)
    for k, p in enumerate(places):
        if signed_depth(np.array([p]), polygon)[0] < -tolerance_m:
            raise _fail(source, f'{label}: place {k} {list(p)} lies outside the polygon')
    return Region(name, category.strip(), polygon, places)


def _adjacent(value: Any, names: Mapping[str, int], where: str) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise _fail(where, f'adjacent must be a list of [a, b] name pairs, got {value!r}')
    adjacent = []
    for k, pair in enumerate(value):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise _fail(where, f'adjacent entry {k} must be a pair of region names, '
                               f'got {pair!r}')
        for name in pair:
            if name not in names:
                raise _fail(where, f'adjacent entry {k} names unknown region {name!r}; '
                                   f'valid: {", ".join(names)}')
        if pair[0] == pair[1]:
            raise _fail(where, f'adjacent entry {k} joins {pair[0]!r} to itself')
        adjacent.append((str(pair[0]), str(pair[1])))
    return adjacent


def read_regions(source: str | Path | Mapping[str, Any],
                 tolerance_m: float = 0.05) -> RegionFile:
    """Read and check a regions YAML (or its dict); errors name the region and the problem."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = '<regions>'
    else:
        where = str(source)
        data = read_yaml(source, 'regions file')
    if not isinstance(data, Mapping) or not isinstance(data.get('regions'), list):
        raise _fail(where, 'a regions file is a mapping with a "regions" list')
    unknown = sorted(set(data) - set(_FILE_KEYS))
    if unknown:
        raise _fail(where, f'unknown keys {unknown}; valid: {", ".join(_FILE_KEYS)}')
    frame_id = data.get('frame_id', 'map')
    if frame_id != 'map':
        raise _fail(where, f'frame_id must be "map" (polygons are drawn over the map), '
                           f'got {frame_id!r}')
    building = str(data.get('building') or 'building')
    if not data['regions']:
        raise _fail(where, 'the regions list is empty')
    regions = [_parse_region(i, entry, where, tolerance_m)
               for i, entry in enumerate(data['regions'])]
    seen: dict[str, int] = {}
    for i, region in enumerate(regions):
        if region.name in seen:
            raise _fail(where, f'region {i} ({region.name!r}): the name is already used by '
                               f'region {seen[region.name]}')
        seen[region.name] = i
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            if polygons_overlap(a.polygon_m, b.polygon_m, tolerance_m):
                raise _fail(where, f'regions {a.name!r} and {b.name!r} overlap; regions may '
                                   f'share edges but not floor')
    adjacent = None
    if data.get('adjacent') is not None:
        adjacent = _adjacent(data['adjacent'], seen, where)
    return RegionFile(building, regions, adjacent,
                      _place_params(data.get('place_generation'), where))


def load_regions(source: str | Path | Mapping[str, Any], params: PlaceParams | None = None,
                 tolerance_m: float = 0.05) -> SceneGraph:
    """Rooms and places from a regions YAML drawn over the robot's map."""
    spec = read_regions(source, tolerance_m)
    log.info('%d regions from %s', len(spec.regions),
             source if not isinstance(source, Mapping) else 'a mapping')
    return graph_from_regions(spec.regions, spec.building, spec.adjacent,
                              params or spec.place_params, tolerance_m)


def save_regions(graph: SceneGraph, path: str | Path) -> Path:
    """Write a graph's rooms, places and adjacency as a regions YAML that loads back equal."""
    import yaml

    regions = []
    for room_id in graph.rooms:
        attrs = graph.get_room(room_id)
        places = sorted(graph.places_in(room_id), key=lambda p: int(p.rpartition('/')[2]))
        regions.append({
            'name': room_id.partition(':')[2],
            'category': attrs.category,
            'polygon': [[float(x), float(y)] for x, y in attrs.polygon_m],
            'places': [[float(v) for v in graph.get_place(p).position_m[:2]] for p in places],
        })
    adjacent = sorted([u.partition(':')[2], v.partition(':')[2]]
                      for u, v, _ in graph.edges(EdgeKind.ADJACENT) if u < v)
    # A scene graph's root node always holds BuildingAttributes (SceneGraph.__init__).
    building = cast(BuildingAttributes, graph.get_node(Layer.BUILDING.value))
    data = {'frame_id': 'map', 'building': building.name,
            'regions': regions, 'adjacent': adjacent}
    path = Path(path)
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('# robot_memory regions (format: sim/regions_example.yaml)\n')
        yaml.safe_dump(data, fh, sort_keys=False, default_flow_style=None, width=99)
    return path

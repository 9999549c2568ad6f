"""Rooms and places read from a layout file or a `map/layout` message, without rclpy.

`memory_node` (the `layout_file` parameter, the `map/layout` topic), bag ingestion and
`robot-memory ingest --layout` all read layouts through these two functions.
"""

from __future__ import annotations

import json
from pathlib import Path

from robot_memory.config import read_yaml
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError

__all__ = ['load_layout', 'parse_layout_msg']


def load_layout(path: str) -> SceneGraph:
    """Read rooms and places: a regions YAML (`regions:`, see sim/regions_example.yaml) or a
    SceneGraph JSON / YAML (optionally under `layout`)."""
    if path.endswith(('.yaml', '.yml')):
        data = read_yaml(path, 'layout file')
    else:
        try:
            data = json.loads(Path(path).read_text(encoding='utf-8'))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(f'cannot read the layout file {path}: {exc}') from None
    if isinstance(data, dict) and 'regions' in data:
        from robot_memory.perception.rooms import load_regions

        return load_regions(data)
    if not isinstance(data, dict):
        raise InvalidInputError(f'{path}: a layout is a mapping (regions, or a scene graph)')
    try:
        return SceneGraph.from_dict(data.get('layout', data))
    except InvalidInputError as exc:
        raise InvalidInputError(f'{path}: {exc}') from None


def parse_layout_msg(data: str) -> tuple[float | None, SceneGraph]:
    """`map/layout` JSON → (stamp or None, layout)."""
    payload = json.loads(data)
    stamp = payload.get('stamp')
    stamp_s = None
    if isinstance(stamp, dict):
        stamp_s = float(stamp.get('sec', 0)) + float(stamp.get('nanosec', 0)) * 1e-9
    return stamp_s, SceneGraph.from_dict(payload.get('layout', payload))

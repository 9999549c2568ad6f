"""Rooms and places read from a layout file or a `map/layout` message, without rclpy.

`memory_node` (the `layout_file` parameter, the `map/layout` topic), bag ingestion and
`robot-memory ingest --layout` all read layouts through these two functions.
"""

from __future__ import annotations

from pathlib import Path

from robot_memory.bounded import check_number, loads
from robot_memory.config import errors_name, read_yaml
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError

__all__ = ['LAYOUT_MAX_BYTES', 'LAYOUT_MAX_DEPTH', 'load_layout', 'parse_layout_message',
           'parse_layout_msg']

LAYOUT_MAX_BYTES = 8 * 1024 * 1024
"""A house of 40 rooms is ~200 kB of layout JSON; forty times that is refused."""
LAYOUT_MAX_DEPTH = 16
"""A layout message nests 6 levels (payload, layout, nodes, node, polygon, point)."""
WORLD_ID_MAX_CHARS = 400


def load_layout(path: str) -> SceneGraph:
    """Read rooms and places: a regions YAML (`regions:`, see sim/regions_example.yaml) or a
    SceneGraph JSON / YAML (optionally under `layout`)."""
    if path.endswith(('.yaml', '.yml')):
        data = read_yaml(path, 'layout file')
    else:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidInputError(f'cannot read the layout file {path}: {exc}') from None
        data = loads(text, f'cannot read the layout file {path}', max_bytes=LAYOUT_MAX_BYTES,
                     max_depth=LAYOUT_MAX_DEPTH)
    if isinstance(data, dict) and 'regions' in data:
        from robot_memory.perception.rooms import load_regions

        with errors_name(path):
            return load_regions(data)
    if not isinstance(data, dict):
        raise InvalidInputError(f'{path}: a layout is a mapping (regions, or a scene graph)')
    try:
        return SceneGraph.from_dict(data.get('layout', data))
    except InvalidInputError as exc:
        raise InvalidInputError(f'{path}: {exc}') from None


def parse_layout_msg(data: str) -> tuple[float | None, SceneGraph]:
    """`map/layout` JSON → (stamp or None, layout); raises only `InvalidInputError`."""
    stamp_s, layout, _ = parse_layout_message(data)
    return stamp_s, layout


def parse_layout_message(data: str) -> tuple[float | None, SceneGraph, str]:
    """`map/layout` JSON → (stamp or None, layout, world id or ''); only `InvalidInputError`.

    `world_id` names the world the layout is of (a simulator bridge sends it; memory_node
    refuses to map one world into another world's memory file).

    The text is parsed with size and depth limits (`LAYOUT_MAX_BYTES`, `LAYOUT_MAX_DEPTH`);
    the stamp must be numbers in `check_number`'s range. The message is transient-local, so
    one that raised anything else would be replayed into every restart of the node.
    """
    payload = loads(data, 'map/layout', max_bytes=LAYOUT_MAX_BYTES,
                    max_depth=LAYOUT_MAX_DEPTH)
    if not isinstance(payload, dict):
        raise InvalidInputError(f'map/layout must be a JSON object, got '
                                f'{type(payload).__name__}')
    stamp = payload.get('stamp')
    stamp_s = None
    if isinstance(stamp, dict):
        stamp_s = (check_number(stamp.get('sec', 0), 'map/layout stamp sec')
                   + check_number(stamp.get('nanosec', 0), 'map/layout stamp nanosec',
                                  low=0.0, high=999_999_999.0) * 1e-9)
    world_id = payload.get('world_id', '')
    if not isinstance(world_id, str) or len(world_id) > WORLD_ID_MAX_CHARS:
        raise InvalidInputError(f'map/layout world_id must be text of at most '
                                f'{WORLD_ID_MAX_CHARS} characters')
    try:
        return stamp_s, SceneGraph.from_dict(payload.get('layout', payload)), world_id
    except InvalidInputError:
        raise
    except (AttributeError, IndexError, KeyError, TypeError, ValueError,
            OverflowError) as exc:
        raise InvalidInputError(f'map/layout is no scene graph ({type(exc).__name__}: '
                                f'{str(exc)[:200]})') from None

"""Habitat observations as frames: the sensor dict → `Frame`, and dataset categories → classes.

`frame_from_observation` turns the RGB, depth and semantic sensors' images into a `Frame` with
shuffled per-frame segment ids, as a detector would number them; the category helpers turn
HM3D / MP3D / Replica names into the class and room names memory uses. No habitat_sim needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np

from robot_memory.core.types import CameraIntrinsics, Frame, SegmentLabel
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'BACKGROUND_CATEGORIES',
    'COLOR_SENSOR',
    'DEPTH_SENSOR',
    'SEMANTIC_SENSOR',
    'HabitatFrame',
    'category_table',
    'frame_from_observation',
    'normalize_category',
    'room_category',
]

COLOR_SENSOR, DEPTH_SENSOR, SEMANTIC_SENSOR = 'color_sensor', 'depth_sensor', 'semantic_sensor'
# Structure and unlabelled stuff in HM3D / MP3D / Replica annotations: not objects to remember.
BACKGROUND_CATEGORIES = frozenset({
    '', 'unknown', 'unlabeled', 'unlabelled', 'no_label', 'void', 'misc', 'objects', 'wall',
    'floor', 'ceiling', 'beam', 'column', 'railing', 'stairs', 'roof',
})


def normalize_category(name: str) -> str:
    """A dataset category as a class name: lower case, words joined by '_'."""
    words = str(name).strip().lower().replace('-', ' ').replace('_', ' ').split()
    return '_'.join(words)


def room_category(name: str) -> str:
    """A region category (MP3D `living room`, `familyroom/lounge`) as a room category."""
    first = normalize_category(str(name).split('/')[0])
    return 'room' if first in ('', 'no_label', 'junk', 'unknown', 'other_room') else first


def _category_name(category: Any) -> str:
    if category is None:
        return ''
    name = getattr(category, 'name', '')
    return str(name() if callable(name) else name)


def category_table(objects: Sequence[Any]) -> dict[int, str]:
    """Semantic instance id → class name from a semantic scene's objects."""
    table: dict[int, str] = {}
    for obj in objects:
        if obj is None:
            continue
        name = normalize_category(_category_name(getattr(obj, 'category', None)))
        if name:
            table[int(obj.semantic_id)] = name
    return table


class HabitatFrame(NamedTuple):
    """A converted observation: the frame, and each segment's Habitat instance id."""

    frame: Frame
    instance_of: dict[int, int]


# Instance ids below this are relabelled through a table indexed by id (bincount + take:
# ~1 ms at 640x480); larger ones through np.unique (a sort: ~40 ms at 640x480).
_DIRECT_ID_LIMIT = 1 << 22


def _instances(semantic: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The instance ids in an id image, sorted, and a function that paints a value per id.

    `paint(values)` returns the image with every pixel of `instances[k]` set to `values[k]`.
    """
    if semantic.size and semantic.dtype.kind in 'ui' and \
            (semantic.dtype.kind == 'u' or int(semantic.min()) >= 0) and \
            int(semantic.max()) < _DIRECT_ID_LIMIT:
        instances = np.flatnonzero(np.bincount(semantic.ravel()))

        def paint(values: np.ndarray) -> np.ndarray:
            table = np.zeros(int(instances[-1]) + 1, dtype=values.dtype)
            table[instances] = values
            return np.take(table, semantic)

        return instances, paint
    instances, inverse = np.unique(semantic, return_inverse=True)
    return instances, lambda values: values[inverse.reshape(semantic.shape)]


def frame_from_observation(observation: Mapping[str, np.ndarray], *, stamp_s: float,
                           map_T_camera: np.ndarray, intrinsics: CameraIntrinsics,
                           categories: Mapping[int, str], rng: np.random.Generator,
                           frame_index: int = 0,
                           background: frozenset[str] = BACKGROUND_CATEGORIES,
                           attributes: Mapping[int, Mapping[str, str]] | None = None
                           ) -> HabitatFrame:
    """Turn Habitat's sensor dict into a `Frame`, with shuffled per-frame segment ids.

    `observation` holds `color_sensor` (H, W, 4) uint8 RGBA, `depth_sensor` (H, W) float32
    metres (0 = no return) and `semantic_sensor` (H, W) instance ids. Instances whose class is
    unknown or in `background` become segment 0; the others are numbered 1..n in a random
    order, as a detector would, with their class from `categories` as the label and what
    `attributes` holds for the instance (colour, state) as its attributes.
    """
    for key in (COLOR_SENSOR, DEPTH_SENSOR, SEMANTIC_SENSOR):
        if key not in observation:
            raise InvalidInputError(f'observation has no {key!r}; got {sorted(observation)}')
    color = np.asarray(observation[COLOR_SENSOR])
    depth = np.asarray(observation[DEPTH_SENSOR])
    semantic = np.asarray(observation[SEMANTIC_SENSOR])
    size = (intrinsics.height, intrinsics.width)
    if color.ndim != 3 or color.shape[:2] != size or color.shape[2] not in (3, 4):
        raise InvalidInputError(f'{COLOR_SENSOR} must be {size[0]}x{size[1]}x4 (RGBA), '
                                f'got {color.shape}')
    for key, image in ((DEPTH_SENSOR, depth), (SEMANTIC_SENSOR, semantic)):
        if image.shape[:2] != size or (image.ndim == 3 and image.shape[2] != 1) or \
                image.ndim not in (2, 3):
            raise InvalidInputError(f'{key} must be {size[0]}x{size[1]}, got {image.shape}')
    # Copies throughout: the arrays may be views of Habitat's sensor buffers.
    depth = depth.reshape(size).astype(np.float32)
    depth[~((depth > 0) & (depth < np.inf))] = np.nan  # 0: no return
    semantic = np.ascontiguousarray(semantic.reshape(size))  # read several times below
    rgb = cv2.cvtColor(color, cv2.COLOR_RGBA2RGB) if color.shape[2] == 4 and \
        color.dtype == np.uint8 else np.ascontiguousarray(color[..., :3], dtype=np.uint8)

    instances, paint = _instances(semantic)
    keep = [i for i, inst in enumerate(instances.tolist())
            if categories.get(int(inst), '') not in background]
    ids = rng.permutation(len(keep)).astype(np.int32) + 1
    lut = np.zeros(len(instances), dtype=np.int32)
    labels: dict[int, SegmentLabel] = {}
    instance_of: dict[int, int] = {}
    for i, seg in zip(keep, ids.tolist(), strict=True):
        inst = int(instances[i])
        lut[i] = seg
        labels[seg] = SegmentLabel(categories[inst], (attributes or {}).get(inst, {}))
        instance_of[seg] = inst
    segments = paint(lut)
    frame = Frame(float(stamp_s), rgb, depth, segments.astype(np.int32, copy=False), labels,
                  np.asarray(map_T_camera, dtype=float), intrinsics, int(frame_index))
    return HabitatFrame(frame, instance_of)


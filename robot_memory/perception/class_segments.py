"""Class-id images (semantic segmentation) → per-object segments, as memory takes them.

Many segmentation networks publish one class id per pixel (a `sensor_msgs/Image`, mono8 /
mono16 / 32SC1) and describe the ids in a label space (`vision_msgs/LabelInfo`, or a file).
Memory wants one segment per object. `instances_from_classes` splits each class into objects by
depth-aware connected components: pixels of one class are joined when they touch in the image
and their depths differ by less than a jump that grows with distance, and pieces smaller than
`min_pixels` are dropped. Pieces of one class that an object in front of them cuts apart (a
cushion on a sofa, a kettle before a counter) are joined again through that object's pixels.
Two chairs apart in the image, or one in front of the other, become two segments; two touching
at the same depth stay one (a limit of class images).

A label space file is YAML (`{0: background, 1: chair, …}`, or a list whose index is the id)
or CSV (`id,name` rows, an optional header). Names are class names as memory uses them;
`background` (and the names in `BACKGROUND_NAMES`) mark ids that are not objects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from robot_memory.config import errors_name, parse_yaml
from robot_memory.core.types import SegmentLabel
from robot_memory.exceptions import InvalidInputError

__all__ = ['BACKGROUND_NAMES', 'SEGMENTATIONS', 'ClassSplitParams', 'LabelSpace', 'class_image',
           'instances_from_classes', 'load_label_space', 'segment_overlap']

# What a segmentation input carries: instance ids with a label map, or class ids.
SEGMENTATIONS = ('instance', 'class')

BACKGROUND_NAMES = frozenset({'', 'background', 'unlabeled', 'unlabelled', 'void', 'unknown',
                              'wall', 'floor', 'ceiling'})


@dataclass(frozen=True, slots=True)
class LabelSpace:
    """Class id → class name of a segmentation network; ids named as background are skipped."""

    names: Mapping[int, str]
    ids: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        clean = {}
        for key, name in self.names.items():
            if isinstance(key, bool) or not isinstance(key, int | np.integer) or key < 0:
                raise InvalidInputError(f'label space: class ids are integers ≥ 0, got {key!r}')
            if not isinstance(name, str):
                raise InvalidInputError(f'label space: class {key} needs a name, got {name!r}')
            clean[int(key)] = name.strip().lower().replace(' ', '_')
        object.__setattr__(self, 'names', clean)
        object.__setattr__(self, 'ids', {n: i for i, n in sorted(clean.items(), reverse=True)})

    @classmethod
    def from_classes(cls, classes: Iterable[str]) -> LabelSpace:
        """Background as 0, then the classes in sorted order from 1."""
        return cls({0: 'background', **{i: c for i, c in enumerate(sorted(set(classes)), 1)}})

    def is_object(self, class_id: int) -> bool:
        """Whether pixels of this id belong to objects memory keeps."""
        return self.names.get(class_id, '') not in BACKGROUND_NAMES

    def to_dict(self) -> dict[int, str]:
        """{id: name}, as a YAML label space file holds it."""
        return dict(sorted(self.names.items()))


def load_label_space(path: str | Path) -> LabelSpace:
    """Read a YAML or CSV label space file; a clear error when it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f'{path}: cannot read the label space ({exc})') from None
    if path.suffix.lower() == '.csv':
        rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith('#')]
        if rows and not rows[0][0].strip().lstrip('-').isdigit():
            rows = rows[1:]  # a header
        try:
            names = {int(r[0]): r[1] for r in rows}
        except (IndexError, ValueError):
            raise InvalidInputError(f'{path}: a CSV label space has rows "id,name"') from None
    else:
        data = parse_yaml(text, path, 'label space')
        if isinstance(data, Mapping) and 'labels' in data:
            data = data['labels']
        if isinstance(data, list):
            names = dict(enumerate(data))
        elif isinstance(data, Mapping):
            names = dict(data)
        else:
            raise InvalidInputError(f'{path}: a label space is a mapping id: name or a list '
                                    'of names')
    if not names:
        raise InvalidInputError(f'{path}: the label space names no class')
    with errors_name(path):
        return LabelSpace(names)


@dataclass(frozen=True, slots=True)
class ClassSplitParams:
    """How a class image is split into objects."""

    depth_jump_m: float = 0.05  # neighbours further apart in depth than this + …
    depth_jump_per_m: float = 0.05  # … this × their depth are not one surface
    min_pixels: int = 40  # smaller pieces are dropped (at 640×480; scaled by image area)
    bridge_px: int = 12  # an object in front this close (px at 640 wide) joins two pieces

    def __post_init__(self) -> None:
        if not (self.depth_jump_m >= 0 and self.depth_jump_per_m >= 0 and self.min_pixels >= 1):
            raise InvalidInputError(f'bad class split parameters {self}')


def _depth_cuts(depth_m: np.ndarray, params: ClassSplitParams) -> np.ndarray:
    """Pixels on the far side of a depth jump to a neighbour (True: not joined across)."""
    cut: np.ndarray = ~np.isfinite(depth_m)
    z = np.where(cut, np.inf, depth_m)
    for axis in (0, 1):
        a = z[:-1, :] if axis == 0 else z[:, :-1]
        b = z[1:, :] if axis == 0 else z[:, 1:]
        with np.errstate(invalid='ignore'):
            jump = np.abs(a - b) > params.depth_jump_m + params.depth_jump_per_m * np.minimum(a, b)
        far_a, far_b = jump & (a > b), jump & (b >= a)
        if axis == 0:
            cut[:-1, :] |= far_a
            cut[1:, :] |= far_b
        else:
            cut[:, :-1] |= far_a
            cut[:, 1:] |= far_b
    return cut


def instances_from_classes(classes: np.ndarray, depth_m: np.ndarray, space: LabelSpace,
                           params: ClassSplitParams | None = None
                           ) -> tuple[np.ndarray, dict[int, SegmentLabel], set[int]]:
    """Split a class-id image into object segments.

    Returns (segments: (H, W) int32, 0 = none; labels: segment id → class; class ids in the
    image that the label space does not name). Segment ids count from 1 in class order.
    """
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.shape != np.shape(depth_m):
        raise InvalidInputError(f'class image {classes.shape} and depth {np.shape(depth_m)} '
                                'must be the same (H, W)')
    if classes.dtype.kind not in 'ui':
        raise InvalidInputError(f'class ids must be integers, got {classes.dtype}')
    if classes.size and (classes.dtype.kind == 'u' or classes.min() >= 0):
        present = np.flatnonzero(np.bincount(classes.ravel())).tolist()
    else:
        present = np.unique(classes).tolist()
    unknown = {int(c) for c in present if int(c) not in space.names}
    wanted = [int(c) for c in present if int(c) in space.names and space.is_object(int(c))]
    segments = np.zeros(classes.shape, np.int32)
    labels: dict[int, SegmentLabel] = {}
    if not wanted:
        return segments, labels, unknown
    params = params or ClassSplitParams()
    cut = _depth_cuts(np.asarray(depth_m, dtype=np.float32), params)
    min_pixels = max(1, round(params.min_pixels * classes.size / (640 * 480)))
    boxes = ndimage.find_objects(classes.astype(np.int64, copy=False), max_label=max(wanted))
    next_id = 1
    is_object = np.isin(classes, wanted)
    bridge_px = max(3, round(params.bridge_px * classes.shape[1] / 640))
    for class_id in wanted:
        box = boxes[class_id - 1] if class_id > 0 else (slice(None), slice(None))
        mine = (classes[box] == class_id) & ~cut[box]
        # Pixels of other objects standing in front of this class join its pieces: a mug on a
        # sofa leaves one sofa, not two halves.
        z = np.nan_to_num(np.asarray(depth_m, np.float32)[box], nan=0.0)
        behind = ndimage.maximum_filter(np.where(classes[box] == class_id, z, 0.0),
                                        size=2 * bridge_px + 1)
        bridge = is_object[box] & (classes[box] != class_id) & (z > 0) & \
            (z < behind - params.depth_jump_m - params.depth_jump_per_m * z)
        # … with this class's own pixels on the far side of that object's edge
        bridge |= ndimage.binary_dilation(bridge) & (classes[box] == class_id)
        parts, n = ndimage.label(mine | bridge)
        parts[~mine] = 0
        if not n:
            continue
        sizes = np.bincount(parts.ravel(), minlength=n + 1)
        keep = np.flatnonzero(sizes >= min_pixels)
        keep = keep[keep > 0]
        if not len(keep):
            continue
        relabel = np.zeros(n + 1, np.int32)
        relabel[keep] = np.arange(next_id, next_id + len(keep), dtype=np.int32)
        mask = parts > 0  # classes do not overlap: no segment is overwritten
        segments[box][mask] = relabel[parts[mask]]
        for seg in range(next_id, next_id + len(keep)):
            labels[seg] = SegmentLabel(space.names[class_id])
        next_id += len(keep)
    return segments, labels, unknown


def class_image(segments: np.ndarray, labels: Mapping[int, SegmentLabel], space: LabelSpace,
                dtype: type = np.uint16) -> np.ndarray:
    """What a class-id segmentation network would output for an instance-segmented frame.

    Segments whose class the label space does not name become 0 (background).
    """
    lut: np.ndarray = np.zeros(int(segments.max(initial=0)) + 1, dtype=dtype)
    for seg, label in labels.items():
        if 0 < seg < len(lut):
            lut[seg] = space.ids.get(label.label, 0)
    out: np.ndarray = lut[np.clip(segments, 0, None)]
    return out


def segment_overlap(new: np.ndarray, old: np.ndarray) -> dict[int, int]:
    """For each segment of `new`, the segment of `old` under most of its pixels (0 excluded)."""
    both = (new > 0) & (old > 0)
    if not both.any():
        return {}
    a, b = new[both].astype(np.int64), old[both].astype(np.int64)
    width = int(b.max()) + 1
    counts = np.bincount(a * width + b)
    pairs = np.flatnonzero(counts)
    out: dict[int, tuple[int, int]] = {}
    for code in pairs.tolist():
        n, o = divmod(code, width)
        if counts[code] > out.get(n, (0, 0))[1]:
            out[n] = (o, int(counts[code]))
    return {n: o for n, (o, _) in out.items()}

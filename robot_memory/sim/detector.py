"""A simulated detector's mistakes: missed segments, wrong classes, imperfect masks.

The renderer knows every pixel's owner; a real segmentation network does not. `DetectorNoise`
turns the renderer's perfect segments into a detector's: per segment and frame it may drop the
segment (its pixels become background) or report another object class, with a confidence that
is lower, on average, when the class is wrong; and its masks err the way real networks' do
(`PERCEPTION_FACTS` in the project's notes: Panoptic FPN SQ 80.9 / RQ 57.5 on COCO things,
Boundary AP 30.6 against mask AP 43.7 for Mask2Former R50, SAM's nested whole/part masks):

- bleed: every mask reaches `bleed_px` pixels past the object's edge, onto what lies behind
  or beside it (so its border pixels carry another surface's depth); where masks meet, the
  smaller instance is on top;
- split: a segment is cut in two along its longer side, both halves with its class;
- merge: a segment that touches another object's is reported as one segment with it;
- spurious: segments of a random object class on the wall or floor, a share of the output.

Segments carry a class only (`attributes: pixels`); `attributes: labels` also hands over each
object's true colour and state, wrong at `color_flip_rate` / `state_flip_rate` (the comparison
mode of earlier releases). Noise is drawn from its own random stream, so the same seed gives
the same world, activity and patrol with or without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.types import SegmentLabel
from robot_memory.exceptions import InvalidInputError

__all__ = ['ATTRIBUTE_SOURCES', 'DETECTOR_PRESETS', 'DetectorConfig', 'DetectorNoise',
           'load_detector']

_OPPOSITE = {'open': 'closed', 'closed': 'open', 'on': 'off', 'off': 'on'}


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Error rates per segment and frame; all zero is the perfect detector (the default)."""

    miss_rate: float = 0.0  # a visible segment is not reported at all
    confusion_rate: float = 0.0  # a small object is reported as another object class
    color_flip_rate: float = 0.0  # (attributes: labels) the colour named is another colour
    state_flip_rate: float = 0.0  # (attributes: labels) open/closed, on/off the other way
    bleed_px: int = 0  # every mask reaches this far past the object's edge
    split_rate: float = 0.0  # a segment is reported as two
    merge_rate: float = 0.0  # a segment touching another object's is reported as one with it
    spurious_rate: float = 0.0  # share of the reported segments that show no object
    # 'pixels': segments carry a class only; 'labels': also the true colour and state.
    attributes: str = 'pixels'
    confidence_right: tuple[float, float] = (0.6, 1.0)  # uniform range for a right class
    confidence_wrong: tuple[float, float] = (0.3, 0.8)  # uniform range for a wrong class

    def __post_init__(self) -> None:
        if self.attributes not in ATTRIBUTE_SOURCES:
            raise InvalidInputError(f'detector attributes must be one of '
                                    f'{", ".join(ATTRIBUTE_SOURCES)}, got {self.attributes!r}')
        if not 0 <= self.bleed_px <= 8:
            raise InvalidInputError(f'detector bleed_px must be in [0, 8], got {self.bleed_px!r}')
        if not 0.0 <= self.spurious_rate < 0.9:
            raise InvalidInputError(f'detector spurious_rate must be in [0, 0.9), got '
                                    f'{self.spurious_rate!r}')
        for name in ('miss_rate', 'confusion_rate', 'color_flip_rate', 'state_flip_rate',
                     'split_rate', 'merge_rate'):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInputError(f'detector {name} must be in [0, 1], got {value!r}')
        for name in ('confidence_right', 'confidence_wrong'):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                raise InvalidInputError(f'detector {name} must be [lo, hi] within [0, 1], got '
                                        f'{getattr(self, name)!r}')

    @property
    def perfect(self) -> bool:
        """Whether no label is ever wrong or missing and every mask is exact."""
        return not (self.miss_rate or self.confusion_rate or self.color_flip_rate
                    or self.state_flip_rate or self.bleed_px or self.split_rate
                    or self.merge_rate or self.spurious_rate)

    def with_attributes(self, source: str) -> DetectorConfig:
        """The same detector, with colour and state from `source` (pixels or labels)."""
        return replace(self, attributes=source)

    @classmethod
    def from_value(cls, value: str | Mapping[str, Any] | DetectorConfig | None
                   ) -> DetectorConfig:
        """A preset name (`DETECTOR_PRESETS`), a mapping of the fields, or a config."""
        if value is None:
            return cls()
        if isinstance(value, DetectorConfig):
            return value
        if isinstance(value, str):
            try:
                return DETECTOR_PRESETS[value]
            except KeyError:
                raise InvalidInputError(f'unknown detector preset {value!r}; valid: '
                                        f'{", ".join(DETECTOR_PRESETS)}') from None
        if not isinstance(value, Mapping):
            raise InvalidInputError(f'detector must be a preset name or a mapping, got '
                                    f'{value!r}')
        from robot_memory.config import build

        return build(cls, value, 'detector')


ATTRIBUTE_SOURCES = ('pixels', 'labels')
DETECTOR_PRESETS: dict[str, DetectorConfig] = {
    'perfect': DetectorConfig(),
    # Roughly an open-vocabulary detector + tracker on household objects: one segment in ten
    # missed, a few per cent of classes wrong (TIDE: class errors ≈ 0.4 × misses); masks
    # bleed 2 px (Boundary IoU 69 % against mask IoU 89 % for Mask R-CNN), 3 % split and 3 %
    # merged (Panoptic FPN RQ 57.5 counts misses, spurious, splits and merges together), and
    # a tenth of the output shows nothing (TIDE: background FP ≈ ½ the miss error). Colour
    # and state flips apply only to `attributes: labels`.
    'realistic': DetectorConfig(miss_rate=0.1, confusion_rate=0.03, color_flip_rate=0.05,
                                state_flip_rate=0.03, bleed_px=2, split_rate=0.03,
                                merge_rate=0.03, spurious_rate=0.1),
    # A weak open-vocabulary model on rare classes (Grounding DINO-T LVIS APr 10.1, YOLO-World-S
    # 12.6): a quarter missed, 8 % wrong classes, 4 px bleed, a tenth split or merged, a
    # quarter of the output spurious.
    'poor': DetectorConfig(miss_rate=0.25, confusion_rate=0.08, color_flip_rate=0.12,
                           state_flip_rate=0.08, bleed_px=4, split_rate=0.1, merge_rate=0.1,
                           spurious_rate=0.25),
}


def load_detector(value: str) -> DetectorConfig:
    """A preset name (perfect, realistic, poor) or a YAML file of `DetectorConfig` fields."""
    if value in DETECTOR_PRESETS:
        return DETECTOR_PRESETS[value]
    path = Path(value)
    if not path.is_file():
        raise InvalidInputError(f'detector {value!r} is neither a preset '
                                f'({", ".join(DETECTOR_PRESETS)}) nor a YAML file')
    from robot_memory.config import errors_name, read_yaml

    data = read_yaml(path, 'detector file')
    with errors_name(path):
        return DetectorConfig.from_value(data if data is not None else {})


class DetectorNoise:
    """Applies a `DetectorConfig` to one frame's labels and segment image."""

    def __init__(self, config: DetectorConfig, classes: Sequence[str], colors: Sequence[str],
                 seed: int) -> None:
        self.config = config
        self.classes = tuple(sorted(set(classes)))
        self.colors = tuple(sorted(set(colors)))
        self._rng = np.random.default_rng([int(seed), 29])
        # Of the last frame: new segment id → the segment it was split off; spurious ids.
        self.split_from: dict[int, int] = {}
        self.spurious: set[int] = set()

    def _other(self, options: Sequence[str], value: str) -> str:
        rest = [o for o in options if o != value]
        return rest[int(self._rng.integers(len(rest)))] if rest else value

    def apply(self, labels: dict[int, SegmentLabel], segments: np.ndarray,
              small: set[int], depth_m: np.ndarray | None = None
              ) -> tuple[dict[int, SegmentLabel], np.ndarray]:
        """Noisy labels and segments; `small` are the segment ids of small objects.

        Furniture is only ever missed, never given another class. `depth_m`, when given,
        keeps spurious segments on surfaces the camera has a depth for.
        """
        c = self.config
        self.split_from, self.spurious = {}, set()
        if c.perfect:
            return labels, segments
        out: dict[int, SegmentLabel] = {}
        dropped = []
        for seg, label in labels.items():
            if self._rng.random() < c.miss_rate:
                dropped.append(seg)
                continue
            cls, attrs, wrong = label.label, dict(label.attributes), False
            if seg in small and self._rng.random() < c.confusion_rate:
                cls, wrong = self._other(self.classes, cls), True
            if attrs.get('color') and self._rng.random() < c.color_flip_rate:
                attrs['color'] = self._other(self.colors, str(attrs['color']))
            state = str(attrs.get('state', ''))
            if state in _OPPOSITE and self._rng.random() < c.state_flip_rate:
                attrs['state'] = _OPPOSITE[state]
            out[seg] = SegmentLabel(cls, attrs, self._confidence(wrong))
        if dropped:
            segments = np.where(np.isin(segments, dropped), 0, segments).astype(np.int32)
        if c.merge_rate:
            segments = self._merge(out, segments, small)
        if c.split_rate:
            segments = self._split(out, segments)
        if c.bleed_px:
            segments = self._bleed(segments, c.bleed_px)
        if c.spurious_rate:
            segments = self._spurious(out, segments, depth_m)
        return out, segments

    def _confidence(self, wrong: bool) -> float:
        lo, hi = self.config.confidence_wrong if wrong else self.config.confidence_right
        return float(self._rng.uniform(lo, hi))

    def _merge(self, labels: dict[int, SegmentLabel], segments: np.ndarray,
               small: set[int]) -> np.ndarray:
        """Touching objects reported as one segment, with the larger one's class."""
        pairs = _touching(segments)
        merged: set[int] = set()
        counts = np.bincount(segments.ravel())
        for a, b in pairs:
            if a in merged or b in merged or a not in labels or b not in labels:
                continue
            if not (a in small and b in small) or self._rng.random() >= self.config.merge_rate:
                continue
            keep, gone = (a, b) if counts[a] >= counts[b] else (b, a)
            segments = np.where(segments == gone, keep, segments).astype(np.int32)
            del labels[gone]
            merged |= {a, b}
        return segments

    def _split(self, labels: dict[int, SegmentLabel], segments: np.ndarray) -> np.ndarray:
        """A segment cut in two across its longer side; the second half gets a new id."""
        next_id = int(segments.max()) + 1
        for seg in sorted(labels):
            if self._rng.random() >= self.config.split_rate:
                continue
            rows, cols = np.nonzero(segments == seg)
            if rows.size < 40:
                continue
            axis = cols if np.ptp(cols) >= np.ptp(rows) else rows
            cut = np.quantile(axis, float(self._rng.uniform(0.3, 0.7)))
            part = axis > cut
            if not part.any() or part.all():
                continue
            segments = segments.copy()
            segments[rows[part], cols[part]] = next_id
            labels[next_id] = SegmentLabel(labels[seg].label, labels[seg].attributes,
                                           labels[seg].confidence)
            self.split_from[next_id] = seg
            next_id += 1
        return segments

    @staticmethod
    def _bleed(segments: np.ndarray, px: int) -> np.ndarray:
        """Every mask grown by `px` pixels over what lies around it (background and larger
        segments): an instance network's masks overlap, and where they do the smaller
        instance is drawn on top, so a mug's mask reaches onto the table, not the other way."""
        from scipy.ndimage import binary_dilation, find_objects

        counts = np.bincount(segments.ravel())
        counts[0] = 0
        ids = np.flatnonzero(counts)
        if not ids.size:
            return segments
        boxes = find_objects(segments)
        out: np.ndarray = segments.copy()
        h, w = segments.shape
        structure = np.ones((2 * px + 1, 2 * px + 1), dtype=bool)
        for seg in ids[np.argsort(-counts[ids], kind='stable')].tolist():  # largest first
            rows, cols = boxes[seg - 1]
            r0, r1 = max(rows.start - px, 0), min(rows.stop + px, h)
            c0, c1 = max(cols.start - px, 0), min(cols.stop + px, w)
            grown = binary_dilation(segments[r0:r1, c0:c1] == seg, structure)
            out[r0:r1, c0:c1][grown] = seg
        return out

    def _spurious(self, labels: dict[int, SegmentLabel], segments: np.ndarray,
                  depth_m: np.ndarray | None) -> np.ndarray:
        """Blobs of a random object class on the background (wall, floor)."""
        rate = self.config.spurious_rate
        n = int(self._rng.poisson(rate / (1 - rate) * max(len(labels), 1)))
        if not n:
            return segments
        h, w = segments.shape
        if h < 24 or w < 24:
            return segments
        free = segments == 0
        if depth_m is not None:
            free &= np.isfinite(depth_m)
        next_id = int(segments.max()) + 1
        segments = segments.copy()
        for _ in range(n):
            bh, bw = (int(v) for v in self._rng.integers(12, min(48, h // 2, w // 2), 2))
            r0, c0 = int(self._rng.integers(0, h - bh)), int(self._rng.integers(0, w - bw))
            block = free[r0:r0 + bh, c0:c0 + bw]
            if block.mean() < 0.8:
                continue  # not on a plain surface: the blob would be mostly an object
            segments[r0:r0 + bh, c0:c0 + bw][block] = next_id
            labels[next_id] = SegmentLabel(self.classes[int(self._rng.integers(
                len(self.classes)))], {}, self._confidence(True))
            self.spurious.add(next_id)
            next_id += 1
        return segments


def _touching(segments: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of segment ids that share an edge between pixels (right or down neighbours)."""
    pairs: set[tuple[int, int]] = set()
    for a, b in ((segments[:, :-1], segments[:, 1:]), (segments[:-1, :], segments[1:, :])):
        edge = (a != b) & (a > 0) & (b > 0)
        lo, hi = np.minimum(a[edge], b[edge]), np.maximum(a[edge], b[edge])
        pairs |= set(zip(lo.tolist(), hi.tolist(), strict=True))
    return sorted(pairs)

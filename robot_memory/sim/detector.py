"""A simulated detector's mistakes: missed segments, wrong classes, colours and states.

The renderer knows every pixel's owner; a real segmentation network does not. `DetectorNoise`
turns the renderer's perfect labels into a detector's: per segment and frame it may drop the
segment (its pixels become background), report another object class, another colour or the
opposite state, each with a confidence that is lower, on average, when the label is wrong.
Noise is drawn from its own random stream, so the same seed gives the same world, activity
and patrol with or without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.types import SegmentLabel
from robot_memory.exceptions import InvalidInputError

__all__ = ['DETECTOR_PRESETS', 'DetectorConfig', 'DetectorNoise', 'load_detector']

_OPPOSITE = {'open': 'closed', 'closed': 'open', 'on': 'off', 'off': 'on'}


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Error rates per segment and frame; all zero is the perfect detector (the default)."""

    miss_rate: float = 0.0  # a visible segment is not reported at all
    confusion_rate: float = 0.0  # a small object is reported as another object class
    color_flip_rate: float = 0.0  # the colour is reported as another colour
    state_flip_rate: float = 0.0  # open/closed, on/off reported the other way
    confidence_right: tuple[float, float] = (0.6, 1.0)  # uniform range for a right class
    confidence_wrong: tuple[float, float] = (0.3, 0.8)  # uniform range for a wrong class

    def __post_init__(self) -> None:
        for name in ('miss_rate', 'confusion_rate', 'color_flip_rate', 'state_flip_rate'):
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
        """Whether no label is ever wrong or missing."""
        return not (self.miss_rate or self.confusion_rate or self.color_flip_rate
                    or self.state_flip_rate)

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


DETECTOR_PRESETS: dict[str, DetectorConfig] = {
    'perfect': DetectorConfig(),
    # Roughly an open-vocabulary detector + tracker on household objects: one segment in ten
    # missed, a few per cent of classes, colours and states wrong.
    'realistic': DetectorConfig(miss_rate=0.1, confusion_rate=0.03, color_flip_rate=0.05,
                                state_flip_rate=0.03),
    'poor': DetectorConfig(miss_rate=0.25, confusion_rate=0.08, color_flip_rate=0.12,
                           state_flip_rate=0.08),
}


def load_detector(value: str) -> DetectorConfig:
    """A preset name (perfect, realistic, poor) or a YAML file of `DetectorConfig` fields."""
    if value in DETECTOR_PRESETS:
        return DETECTOR_PRESETS[value]
    path = Path(value)
    if not path.is_file():
        raise InvalidInputError(f'detector {value!r} is neither a preset '
                                f'({", ".join(DETECTOR_PRESETS)}) nor a YAML file')
    from robot_memory.config import read_yaml

    data = read_yaml(path, 'detector file')
    return DetectorConfig.from_value(data if data is not None else {})


class DetectorNoise:
    """Applies a `DetectorConfig` to one frame's labels and segment image."""

    def __init__(self, config: DetectorConfig, classes: Sequence[str], colors: Sequence[str],
                 seed: int) -> None:
        self.config = config
        self.classes = tuple(sorted(set(classes)))
        self.colors = tuple(sorted(set(colors)))
        self._rng = np.random.default_rng([int(seed), 29])

    def _other(self, options: Sequence[str], value: str) -> str:
        rest = [o for o in options if o != value]
        return rest[int(self._rng.integers(len(rest)))] if rest else value

    def apply(self, labels: dict[int, SegmentLabel], segments: np.ndarray,
              small: set[int]) -> tuple[dict[int, SegmentLabel], np.ndarray]:
        """Noisy labels and segments; `small` are the segment ids of small objects.

        Furniture is only ever missed, never given another class.
        """
        c = self.config
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
            lo, hi = c.confidence_wrong if wrong else c.confidence_right
            out[seg] = SegmentLabel(cls, attrs, float(self._rng.uniform(lo, hi)))
        if dropped:
            segments = np.where(np.isin(segments, dropped), 0, segments).astype(np.int32)
        return out, segments

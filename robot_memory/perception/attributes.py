"""What memory reads from a segment's pixels: colour name, appearance, size and state.

A segmentation network gives a class and a mask; everything else is measured here, per
segment and frame, from the RGB-D pixels:

- **light**: the frame's illuminant by the white-patch rule on the background (walls, floor,
  ceiling: the pixels no object segment claims): the brightest background pixels are taken
  for white, so a warm evening lamp or a dim room is divided out (von Kries gains);
- **colour name**: the segment's pixels, white-balanced, are grouped by chromaticity in
  CIELAB; the largest group is the object's body (a band or lid of another colour is a
  smaller one) and its brightest face, the face the light falls on, is named by the nearest
  colour-name prototype (lightness weighted less than hue, since a face in shade is darker);
- **appearance**: a descriptor of the white-balanced pixels — a histogram over the colour
  names (shading-tolerant) and the share of pixels outside the body colour (a pattern);
- **state**: from an `AttributeModel` — the built-in `PixelStateModel` (light a device emits
  saturates the camera whatever the room's light; an open lid or flaps make a thing taller
  for its footprint) or `ZeroShotStateModel` (a CLIP-family image-text model from a local
  directory, `attribute_models.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np

__all__ = [
    'COLOUR_NAMES',
    'STATE_CUES',
    'AttributeModel',
    'ColourReading',
    'Illuminant',
    'PixelStateModel',
    'SegmentPixels',
    'StateCue',
    'appearance_distance',
    'describe',
    'estimate_illuminant',
    'name_colour',
    'read_colour',
    'srgb_to_lab',
]

# Prototype sRGB of each colour name as a white-balanced camera shows it (typical paint and
# product colours; white and navy as they look when the brightest surface in view is taken
# for white: a white thing is rarely the brightest, a navy one reads darker than its paint).
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    'red': (196, 36, 42), 'green': (46, 150, 64), 'blue': (38, 84, 196),
    'yellow': (232, 206, 56), 'orange': (236, 132, 36), 'purple': (124, 58, 164),
    'pink': (236, 136, 178), 'brown': (116, 78, 42), 'black': (28, 28, 30),
    'white': (214, 214, 212), 'grey': (128, 128, 128), 'beige': (212, 192, 150),
    'teal': (34, 136, 136), 'navy': (22, 30, 84),
}
_NAMES = tuple(COLOUR_NAMES)
_SATURATED = 250  # a channel this high: the sensor is saturated (a light source, a highlight)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (…, 3) in 0–255 → CIELAB (D65)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab: np.ndarray = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                                200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab


_MAX_PIXELS = 600  # a segment's colour is read from at most this many of its pixels


def _name_features(rgb: np.ndarray) -> np.ndarray:
    """Features a colour is named by: chromaticity (each channel's share of the sum, which
    shade does not change) and log brightness (which it does, a little: weighted less)."""
    c = np.maximum(np.asarray(rgb, dtype=np.float64), 1.0)
    total = c.sum(axis=-1, keepdims=True)
    out: np.ndarray = np.concatenate([c / total, _BRIGHTNESS_WEIGHT * np.log(total / 3.0)],
                                     axis=-1)
    return out


_BRIGHTNESS_WEIGHT = 0.16  # a face in shade (×0.62) moves a colour as far as 0.08 of chroma
_PROTO_FEATURES = _name_features(np.array(list(COLOUR_NAMES.values()), dtype=np.float64))


def _nearest_exact(rgb: np.ndarray) -> np.ndarray:
    d = _name_features(rgb)[:, None, :] - _PROTO_FEATURES[None, :, :]
    return np.asarray(np.argmin((d * d).sum(axis=2), axis=1))


# Lab and colour name of every colour at 6 bits a channel, looked up instead of computed
# (converting and naming each pixel cost more than the rest of a frame's perception).
_BITS = 6
_GRID = (np.arange(1 << _BITS) + 0.5) * (256 >> _BITS)
_LUT_RGB = np.stack(np.meshgrid(_GRID, _GRID, _GRID, indexing='ij'), axis=-1).reshape(-1, 3)
_LUT_LAB = srgb_to_lab(_LUT_RGB).astype(np.float32)
_LUT_NAME = _nearest_exact(_LUT_RGB).astype(np.int8)


def _lut_index(rgb: np.ndarray) -> np.ndarray:
    q = np.clip(rgb, 0, 255).astype(np.int64) >> (8 - _BITS)
    return np.asarray((q[:, 0] << (2 * _BITS)) | (q[:, 1] << _BITS) | q[:, 2])


def _sample(pix: np.ndarray) -> np.ndarray:
    """At most `_MAX_PIXELS` of a segment's pixels, evenly spread."""
    if len(pix) <= _MAX_PIXELS:
        return pix
    return pix[:: -(-len(pix) // _MAX_PIXELS)]


class Illuminant(NamedTuple):
    """Per-channel gains that turn the frame's white into (238, 238, 236)-ish white."""

    gains: tuple[float, float, float]

    def correct(self, rgb: np.ndarray) -> np.ndarray:
        """White-balanced, exposure-normalised colours (float, clipped to 0–255)."""
        out: np.ndarray = np.clip(np.asarray(rgb, dtype=np.float64) * np.asarray(self.gains),
                                  0.0, 255.0)
        return out


NEUTRAL = Illuminant((1.0, 1.0, 1.0))


def estimate_illuminant(rgb: np.ndarray, segments: np.ndarray,
                        valid: np.ndarray | None = None, percentile: float = 97.0,
                        white: float = 236.0, max_gain: float = 6.0) -> Illuminant:
    """The white-patch illuminant of a frame from its background pixels (segment 0).

    The brightest background pixels (by their sum) are taken for a white surface in this
    light; too few background pixels (under 1 %) and the whole image is used.
    """
    if rgb is None or rgb.size == 0:
        return NEUTRAL
    step = 8  # an eighth of the rows and columns is plenty for a percentile
    img = rgb[::step, ::step].reshape(-1, 3).astype(np.float64)
    keep = np.ones(len(img), dtype=bool)
    if valid is not None:
        keep &= valid[::step, ::step].ravel()
    pix = img[keep]
    pix = pix[pix.max(axis=1) < _SATURATED]  # a lamp is not a white wall
    if len(pix) < 16:
        return NEUTRAL
    ref = np.maximum(np.percentile(pix, percentile, axis=0), 1.0)
    gains = np.minimum(white / ref, max_gain)
    return Illuminant((float(gains[0]), float(gains[1]), float(gains[2])))


def _lab_and_names(pix: np.ndarray, light: Illuminant) -> tuple[np.ndarray, np.ndarray]:
    """Lab and colour-name index of white-balanced pixels (looked up)."""
    index = _lut_index(light.correct(pix))
    return _LUT_LAB[index], _LUT_NAME[index].astype(np.int64)


class ColourReading(NamedTuple):
    """What one segment's pixels say: colour name, the share of lit pixels that agree, and
    the appearance descriptor (`describe`)."""

    name: str
    agree: float
    look: np.ndarray


def read_colour(pixels: np.ndarray, light: Illuminant = NEUTRAL) -> ColourReading:
    """`name_colour` and `describe` of a segment in one pass over its pixels."""
    pix = _sample(np.asarray(pixels, dtype=np.float64).reshape(-1, 3))
    pix = pix[pix.max(axis=1) < _SATURATED]
    if len(pix) == 0:
        return ColourReading('', 0.0, np.zeros(len(_NAMES) + 2, dtype=np.float32))
    lab, names = _lab_and_names(pix, light)
    name, agree = _name(lab, names)
    return ColourReading(name, agree, _descriptor(lab, names))


def name_colour(pixels: np.ndarray, light: Illuminant = NEUTRAL) -> tuple[str, float]:
    """The colour name of a segment's body and the share of its lit pixels that agree.

    `pixels`: (N, 3) sRGB of the segment (edges already left out). Saturated pixels (a lamp's
    light) are left out; an empty segment has no name ('').
    """
    reading = read_colour(pixels, light)
    return reading.name, reading.agree


def _name(lab: np.ndarray, names: np.ndarray) -> tuple[str, float]:
    body = _body(lab)
    # The faces the light falls on: the brighter half of the body's pixels, each named; the
    # name most of them get is the object's.
    lit = lab[body, 0] >= np.median(lab[body, 0])
    votes = np.bincount(names[body][lit], minlength=len(_NAMES))
    name = int(np.argmax(votes))
    return _NAMES[name], float(votes[name] / max(votes.sum(), 1))


def _body(lab: np.ndarray) -> np.ndarray:
    """Mask of the pixels of the object's body colour (a band or foot of another colour is
    left out).

    Chromatic pixels, when they are a third or more: those within 30° of hue of the main hue.
    Otherwise the achromatic pixels, and if their lightness falls in two groups far apart
    (white with a black band), the larger group. Shading moves lightness by less than that.
    """
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    chromatic: np.ndarray = chroma > 14.0 + 0.1 * lab[:, 0]
    if not len(lab):
        return chromatic
    if chromatic.mean() >= 1 / 3:
        hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0
        hist = np.bincount((hue[chromatic] // 10).astype(int) % 36, minlength=36)
        smooth = hist + np.roll(hist, 1) + np.roll(hist, -1)
        peak = (int(np.argmax(smooth)) + 0.5) * 10.0
        off = np.abs((hue - peak + 180.0) % 360.0 - 180.0)
        mask: np.ndarray = chromatic & (off <= 30.0)
        return mask
    grey: np.ndarray = ~chromatic
    lightness = lab[grey, 0]
    lo, hi = float(np.percentile(lightness, 10)), float(np.percentile(lightness, 90))
    if hi - lo > 30.0:
        for _ in range(8):  # two means in one dimension
            split = (lo + hi) / 2
            low, high = lightness < split, lightness >= split
            if not low.any() or not high.any():
                break
            lo, hi = float(lightness[low].mean()), float(lightness[high].mean())
        if hi - lo > 30.0:
            split = (lo + hi) / 2
            larger_high = np.count_nonzero(lightness >= split) >= lightness.size / 2
            out: np.ndarray = grey.copy()
            out[grey] = (lightness >= split) if larger_high else (lightness < split)
            return out
    return grey


def describe(pixels: np.ndarray, light: Illuminant = NEUTRAL) -> np.ndarray:
    """Appearance descriptor: the share of pixels named each colour (shading-tolerant), and
    two figures of the pattern — the share outside the main colour, and its lightness spread
    (float32, `len(COLOUR_NAMES) + 2`)."""
    return read_colour(pixels, light).look


def _descriptor(lab: np.ndarray, names: np.ndarray) -> np.ndarray:
    out = np.zeros(len(_NAMES) + 2, dtype=np.float32)
    hist = np.bincount(names, minlength=len(_NAMES)).astype(np.float64) / len(names)
    out[:len(_NAMES)] = hist
    out[-2] = 1.0 - hist.max()
    out[-1] = float(np.std(lab[:, 0]) / 50.0)
    return out


def appearance_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """How differently two descriptors look: 0 identical, 1 nothing in common (L1 / 2 of the
    colour histograms, the pattern figures added); unknown (None) is 0."""
    if a is None or b is None or not len(a) or not len(b):
        return 0.0
    k = len(_NAMES)
    hist = 0.5 * float(np.abs(a[:k] - b[:k]).sum())
    return min(1.0, hist + 0.5 * float(abs(a[-2] - b[-2])) + 0.5 * float(abs(a[-1] - b[-1])))


# --------------------------------------------------------------------------- states
@dataclass(frozen=True, slots=True)
class SegmentPixels:
    """What an attribute model gets of one segment: class, its pixels, crop and 3D extent."""

    label: str
    rgb: np.ndarray  # (N, 3) uint8, the segment's pixels (edges left out)
    extent_m: tuple[float, float, float]
    light: Illuminant = NEUTRAL
    crop: np.ndarray | None = None  # (h, w, 3) uint8 box around the segment, for image models
    # How much of it may be out of view: cut by the image border; the share of its outline
    # that runs along something nearer (hidden in part behind it).
    truncated: bool = False
    occluded: float = 0.0


class AttributeModel(Protocol):
    """Reads the state of segments from their pixels; '' where it cannot say.

    `read_error`: how often a state it does read is wrong (memory asks for more agreeing reads
    of a change the less it trusts one). `guesses`: a state for segments it will not vouch for
    ('' where it has none either): it only fills in a state memory does not know.
    """

    @property
    def read_error(self) -> float: ...

    def states(self, segments: Sequence[SegmentPixels]) -> list[str]: ...

    def guesses(self, segments: Sequence[SegmentPixels]) -> list[str]: ...

    def knows(self, label: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class StateCue:
    """How the built-in model reads one class's state.

    `light`: the `on` state emits light (saturated pixels make up at least `threshold` of the
    segment). `shape`: the `open` state stands taller for its footprint (height / largest
    horizontal extent above `threshold`: a lid or flaps up).
    """

    states: tuple[str, str]  # (the resting state, the other)
    cue: str  # 'light' | 'shape'
    threshold: float


# What the built-in model knows about the classes that have states (the household catalogue
# of the project's worlds and what the demos ask about).
STATE_CUES: dict[str, StateCue] = {
    'lamp': StateCue(('off', 'on'), 'light', 0.04),
    'kettle': StateCue(('off', 'on'), 'light', 0.04),
    'toaster': StateCue(('off', 'on'), 'light', 0.04),
    'speaker': StateCue(('off', 'on'), 'light', 0.04),
    'tv': StateCue(('off', 'on'), 'light', 0.04),
    'monitor': StateCue(('off', 'on'), 'light', 0.04),
    'laptop': StateCue(('closed', 'open'), 'shape', 0.35),
    'box': StateCue(('closed', 'open'), 'shape', 0.85),
}


@dataclass(frozen=True, slots=True)
class PixelStateModel:
    """The built-in state reader: pixels and points only, nothing to download."""

    cues: Mapping[str, StateCue] = field(default_factory=lambda: dict(STATE_CUES))
    margin: float = 1.1  # shape proportions within this factor of the threshold: no reading
    # A whole view: not cut by the image border, at most this share of its outline along
    # something nearer. Shapes are read from whole views of at least `min_pixels` only;
    # no light seen says "off" of a whole view or of one this large (a sliver may show no
    # part of what lights up).
    max_occluded: float = 0.3
    min_pixels: int = 100
    # Measured on patrols of seeds 1-3 x apartment/house/office (home world, perfect masks,
    # 1 163 sightings): shapes 0 wrong of 340 read (46 % of sightings give no reading), light
    # 3 wrong of 770 (9 % none); with every view read, shapes were 7 % wrong. 1 %: about the
    # upper 95 % bound of 3 in 1 110.
    read_error: float = 0.01

    def knows(self, label: str) -> bool:
        """Whether the model has a state for this class."""
        return label in self.cues

    def states(self, segments: Sequence[SegmentPixels]) -> list[str]:
        """One state per segment ('' for classes without states)."""
        return [self._state(s) for s in segments]

    def guesses(self, segments: Sequence[SegmentPixels]) -> list[str]:
        """The state each segment's pixels suggest, also from views `states` says nothing of
        (a part of the object, a sliver: measured 6-8 % wrong for shapes): good enough to fill
        in a state memory does not know, never to change one it does."""
        return [self._state(s, strict=False) for s in segments]

    def _whole(self, seg: SegmentPixels) -> bool:
        return not seg.truncated and seg.occluded <= self.max_occluded

    def _state(self, seg: SegmentPixels, strict: bool = True) -> str:
        cue = self.cues.get(seg.label)
        if cue is None or not len(seg.rgb):
            return ''
        shows_all = not strict or self._whole(seg)
        large = not strict or len(seg.rgb) >= self.min_pixels
        if cue.cue == 'light':
            # Light seen is on from any view; no light seen says off only of the whole object
            # or a large part of it (the lit part may be out of view or behind something).
            value = float(np.mean(np.asarray(seg.rgb).max(axis=1) >= _SATURATED))
            if value >= cue.threshold:
                return cue.states[1]
            return cue.states[0] if value < cue.threshold / 2 and (shows_all or large) else ''
        if not (shows_all and large):
            return ''  # a part of the object, or a sliver: its proportions say nothing
        ex, ey, ez = seg.extent_m
        value = ez / max(ex, ey, 1e-3)
        # Too close to the line to tell (a face seen edge-on, depth noise): no reading.
        if cue.threshold / self.margin < value < cue.threshold * self.margin:
            return ''
        return cue.states[1] if value >= cue.threshold else cue.states[0]

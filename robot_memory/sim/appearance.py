"""How the built-in world looks: per-instance variation, matched sets, visible states, light.

Two styles. `flat` is the world of earlier releases: every object of a class is one catalogue
box in one catalogue colour, states are invisible and the light never changes (kept so that
old figures reproduce). `home` (the default) draws what a real home shows a camera:

- each instance its own size (a common scale of ±18 % and ±5 % per axis), its own shade of its
  colour (hue, saturation and value jittered within the colour's name) and a pattern (plain,
  a band of a second colour round its middle, or a foot of one);
- a share of objects come from true matched sets: same class, colour, size and pattern as an
  earlier object of the household, recorded in the truth as one `look_group`;
- states that show: lamps, kettles, toasters and speakers that are on have a part that emits
  light (it saturates the camera, whatever the room's light), an open laptop's lid stands up,
  an open box's flaps stand up;
- light by time of day and room: neutral daylight by day, warm and dimmer lamp light in the
  evening, some rooms darker than others.

Appearance is drawn from a stream of its own per object (seeded by the world seed and the
object id), so a `home` world has the same rooms, objects, placements and activity as the
`flat` world of the same seed.
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.catalog import COLORS
from robot_memory.sim.parts import ObjectInstance, Placement, Vec3

__all__ = [
    'DEFAULT_STYLE',
    'MATCHED_SET_SHARE',
    'WORLD_STYLES',
    'ObjectPart',
    'dress',
    'illuminant',
    'object_parts',
    'validate_style',
]

WORLD_STYLES = ('home', 'flat')
DEFAULT_STYLE = 'home'
MATCHED_SET_SHARE = 0.35  # of objects whose class and colour an earlier object already has
RGB = tuple[int, int, int]
# What an object that is on shows: the light of a lamp's shade, the glow of a device's band.
_GLOW: dict[str, RGB] = {'lamp': (255, 244, 214), 'kettle': (255, 120, 40),
                         'toaster': (255, 96, 32), 'speaker': (90, 170, 255)}
_GLOW_OFF: RGB = (38, 38, 40)


@dataclass(frozen=True, slots=True)
class ObjectPart:
    """One box of an object as drawn: corners in `map`, albedo, and whether it emits light."""

    lo: Vec3
    hi: Vec3
    rgb: RGB
    emissive: bool = False


def validate_style(style: str) -> str:
    """The style, or an error naming the valid ones."""
    if style not in WORLD_STYLES:
        raise InvalidInputError(f'unknown world style {style!r}; valid: {", ".join(WORLD_STYLES)}')
    return style


def _rng(seed: int, obj_id: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), 47, zlib.crc32(obj_id.encode())])


def _shade(colour: str, rng: np.random.Generator) -> RGB:
    """The colour's own shade for one instance: jittered within its name."""
    r, g, b = (c / 255 for c in COLORS[colour])
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    # Achromatic colours keep (nearly) no saturation; chromatic ones keep their hue family.
    h = (h + rng.uniform(-0.022, 0.022)) % 1.0
    s = min(max(s * rng.uniform(0.85, 1.1) if s > 0.15 else s + rng.uniform(0.0, 0.04), 0), 1)
    v = min(max(v * rng.uniform(0.88, 1.08), 0.0), 1.0)
    out = colorsys.hsv_to_rgb(h, s, v)
    return round(out[0] * 255), round(out[1] * 255), round(out[2] * 255)


def _accent(rgb: RGB, rng: np.random.Generator) -> RGB:
    """A second colour for a band or lid: a much lighter or darker version, or white/black."""
    pick = int(rng.integers(4))
    if pick == 0:
        return (232, 230, 226)
    if pick == 1:
        return (34, 34, 36)
    if pick == 2:
        return (int(rgb[0] * 0.45), int(rgb[1] * 0.45), int(rgb[2] * 0.45))
    return _lighter(_lighter(rgb))


def dress(obj: ObjectInstance, style: str, seed: int,
          others: Mapping[str, ObjectInstance] = {}) -> ObjectInstance:
    """The instance as this world style draws it (`flat`: unchanged).

    `others` are the objects already in the household: an object whose class and colour one
    of them has comes from the same matched set with probability `MATCHED_SET_SHARE`.
    """
    if validate_style(style) == 'flat':
        return obj
    rng = _rng(seed, obj.obj_id)
    mates = sorted((o for o in others.values()
                    if o.cls == obj.cls and o.color == obj.color and o.obj_id != obj.obj_id
                    and o.rgb), key=lambda o: o.obj_id)
    if mates and rng.random() < MATCHED_SET_SHARE:
        mate = mates[int(rng.integers(len(mates)))]
        return replace(obj, size_m=mate.size_m, rgb=mate.rgb, accent_rgb=mate.accent_rgb,
                       pattern=mate.pattern, look_group=mate.look_group or mate.obj_id)
    scale = rng.uniform(0.82, 1.18)
    sx, sy, sz = (round(float(d * scale * rng.uniform(0.95, 1.05)), 4) for d in obj.size_m)
    size = (sx, sy, sz)
    rgb = _shade(obj.color, rng)
    pattern = ('plain', 'band', 'foot')[int(rng.choice(3, p=(0.4, 0.3, 0.3)))]
    accent = _accent(rgb, rng) if pattern != 'plain' else rgb
    return replace(obj, size_m=size, rgb=rgb, accent_rgb=accent,
                   pattern=pattern, look_group=obj.obj_id)


def object_parts(obj: ObjectInstance, placement: Placement) -> list[ObjectPart]:
    """The boxes an object is drawn as, in its placement and state."""
    c = np.asarray(placement.position_m, dtype=float)
    size = np.asarray(obj.size_m, dtype=float)
    lo, hi = c - size / 2, c + size / 2
    if not obj.rgb:  # the flat world: one box of the catalogue colour
        return [ObjectPart(_v(lo), _v(hi), COLORS[obj.color])]
    rgb, accent = _rgb(obj.rgb), _rgb(obj.accent_rgb or obj.rgb)
    state = placement.state
    if obj.cls == 'laptop':
        return _laptop(lo, hi, rgb, accent, state == 'open')
    if obj.cls == 'box':
        return _box(lo, hi, rgb, accent, state == 'open')
    parts = _body(lo, hi, rgb, accent, obj.pattern)
    if obj.cls in _GLOW:
        on = state == 'on'
        glow = _GLOW[obj.cls] if on else _GLOW_OFF
        if obj.cls == 'lamp':  # the shade: the upper 40 %, lit from inside when on
            z = lo[2] + 0.6 * size[2]
            shade: RGB = glow if on else _lighter(rgb)
            parts = _body(lo, _with(hi, 2, z), rgb, accent, obj.pattern)
            parts.append(ObjectPart(_v(_with(lo, 2, z)), _v(hi), shade, on))
        else:  # a band just proud of the body, a fifth of its height
            pad = np.array([0.004, 0.004, 0.0])
            z0, z1 = lo[2] + 0.45 * size[2], lo[2] + 0.65 * size[2]
            parts.append(ObjectPart(_v(_with(lo - pad, 2, z0)), _v(_with(hi + pad, 2, z1)),
                                    glow, on))
    return parts


def _rgb(values: tuple[int, ...]) -> RGB:
    return int(values[0]), int(values[1]), int(values[2])


def _v(a: np.ndarray) -> Vec3:
    return float(a[0]), float(a[1]), float(a[2])


def _with(a: np.ndarray, axis: int, value: float) -> np.ndarray:
    out = np.array(a, dtype=float)
    out[axis] = value
    return out


def _lighter(rgb: RGB) -> RGB:
    return (min(255, int(rgb[0] * 0.85 + 30)), min(255, int(rgb[1] * 0.85 + 30)),
            min(255, int(rgb[2] * 0.85 + 30)))


def _body(lo: np.ndarray, hi: np.ndarray, rgb: RGB, accent: RGB,
          pattern: str) -> list[ObjectPart]:
    """The body in its colour; a band round its middle or a foot of the second colour (the
    second colour never covers most of what a camera sees of it)."""
    h = hi[2] - lo[2]
    if pattern == 'band':
        z0, z1 = lo[2] + 0.4 * h, lo[2] + 0.6 * h
        return [ObjectPart(_v(lo), _v(_with(hi, 2, z0)), rgb),
                ObjectPart(_v(_with(lo, 2, z0)), _v(_with(hi, 2, z1)), accent),
                ObjectPart(_v(_with(lo, 2, z1)), _v(hi), rgb)]
    if pattern == 'foot':
        z = lo[2] + 0.18 * h
        return [ObjectPart(_v(lo), _v(_with(hi, 2, z)), accent),
                ObjectPart(_v(_with(lo, 2, z)), _v(hi), rgb)]
    return [ObjectPart(_v(lo), _v(hi), rgb)]


def _laptop(lo: np.ndarray, hi: np.ndarray, rgb: RGB, accent: RGB,
            open_: bool) -> list[ObjectPart]:
    """Closed: a flat slab. Open: the base, and the lid standing up at its back edge."""
    if not open_:
        return [ObjectPart(_v(lo), _v(hi), rgb)]
    size = hi - lo
    top = lo[2] + 0.5 * size[2]
    lid_lo = np.array([lo[0], hi[1] - 0.012, top])
    lid_hi = np.array([hi[0], hi[1], top + 0.85 * size[1]])
    return [ObjectPart(_v(lo), _v(_with(hi, 2, top)), rgb),
            ObjectPart(_v(lid_lo), _v(lid_hi), accent)]


def _box(lo: np.ndarray, hi: np.ndarray, rgb: RGB, accent: RGB,
         open_: bool) -> list[ObjectPart]:
    """Closed: a closed carton. Open: four walls round a dark inside, their flaps standing up."""
    if not open_:
        return [ObjectPart(_v(lo), _v(hi), rgb)]
    t = 0.012
    size = hi - lo
    inside = (int(rgb[0] * 0.35), int(rgb[1] * 0.35), int(rgb[2] * 0.35))
    parts = [ObjectPart(_v(lo), _v(_with(hi, 2, lo[2] + 0.03)), inside)]
    parts += [ObjectPart(_v(lo), _v(_with(hi, 0, lo[0] + t)), rgb),
              ObjectPart(_v(_with(lo, 0, hi[0] - t)), _v(hi), rgb),
              ObjectPart(_v(lo), _v(_with(hi, 1, lo[1] + t)), rgb),
              ObjectPart(_v(_with(lo, 1, hi[1] - t)), _v(hi), rgb)]
    flap = 0.45 * min(size[0], size[1])
    top = hi[2] + flap
    parts += [ObjectPart(_v(_with(lo, 2, hi[2])), (lo[0] + t, hi[1], top), rgb),
              ObjectPart((hi[0] - t, lo[1], hi[2]), (hi[0], hi[1], top), rgb),
              ObjectPart(_v(_with(lo, 2, hi[2])), (hi[0], lo[1] + t, top), rgb),
              ObjectPart((lo[0], hi[1] - t, hi[2]), (hi[0], hi[1], top), rgb)]
    return parts


def illuminant(hour: float, room: str, seed: int, style: str) -> tuple[float, float, float]:
    """Per-channel gain of the light in a room at an hour (`flat`: always 1).

    Daylight from 7 to 17 h is near neutral; before and after, the rooms are lit by warm
    lamps, dimmer. Each room has a brightness of its own (window, lamps): some are dim.
    """
    if validate_style(style) == 'flat':
        return (1.0, 1.0, 1.0)
    room_rng = np.random.default_rng([int(seed), 53, zlib.crc32(room.encode())])
    brightness = float(room_rng.uniform(0.55, 1.0))
    if 7.0 <= hour < 17.0:
        tint = (1.0, 0.99, 0.96)
        level = 1.0
    else:
        tint = (1.0, 0.8, 0.58)  # about 2 700 K, a tungsten lamp
        level = 0.72
    g = level * brightness
    return tint[0] * g, tint[1] * g, tint[2] * g

"""Back-project the segments of one frame into object observations in `map`.

Vectorised over all valid pixels at once: points are computed with the intrinsics, moved to
`map` with the camera pose, then grouped by segment id (sort + reduceat) for robust centroid,
extent, mean colour and visible fraction. Invalid depth (NaN, inf, 0, beyond range) is ignored.

A real network's masks bleed past an object's edge onto what lies behind it, and cut one
object in two now and then. So a mask's border pixels are left out when enough of it remains,
points beyond a step in depth from the segment's own are dropped, and two segments of one
class that meet along a border where the depth runs on without a step are one object.
Colour, appearance and state come from the pixels (`attributes.py`) where the detector's
label does not give them (`attributes='pixels'`: always; `'labels'`: never).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from robot_memory.core.types import Frame, ObjectObservation, SegmentLabel
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.attributes import (
    AttributeModel,
    PixelStateModel,
    SegmentPixels,
    estimate_illuminant,
    read_colour,
)

__all__ = ['ATTRIBUTE_SOURCES', 'ExtractionParams', 'SegmentObservation', 'extract_observations']

ATTRIBUTE_SOURCES = ('auto', 'pixels', 'labels')
_DEFAULT_MODEL = PixelStateModel()

_obs_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ExtractionParams:
    """How pixels become points."""

    min_range_m: float = 0.1
    max_range_m: float = 6.0
    stride_px: int = 2
    min_points: int = 12
    border_px: int = 2
    min_confidence: float = 0.0  # the detector's score below which a segment is ignored
    # Colour and state: 'auto' measured here unless the detector's label gives them (most
    # segmentation networks give a class only); 'pixels' always measured (what a label says
    # is replaced); 'labels' only as the labels give them (nothing measured).
    attributes: str = 'auto'

    def __post_init__(self) -> None:
        if self.attributes not in ATTRIBUTE_SOURCES:
            raise InvalidInputError(f'attributes must be one of {", ".join(ATTRIBUTE_SOURCES)}'
                                    f', got {self.attributes!r}')


@dataclass(frozen=True, slots=True)
class SegmentObservation:
    """An observation plus what the extractor knows about how well it was seen."""

    observation: ObjectObservation
    segment_id: int
    num_points: int
    visible_fraction: float
    truncated: bool
    mean_rgb: tuple[int, int, int]
    bottom_z_m: float
    range_m: float
    look: np.ndarray | None = None  # appearance descriptor (`attributes.describe`)
    # The state was read from the pixels by a model that errs this often a read (None: the
    # detector's label gave it, or none was read).
    state_error: float | None = None
    # What the pixels suggest where the model would not vouch for a state (`guesses`): fills
    # in a state memory does not know, never changes one.
    state_guess: str = ''


def extract_observations(frame: Frame, params: ExtractionParams | None = None,
                         skip: dict[str, int] | None = None,
                         obs_ids: Iterator[int] | None = None,
                         model: AttributeModel | None = None) -> list[SegmentObservation]:
    """Observations of every labelled segment with enough valid depth.

    `skip`, when given, counts segments left out by reason ('unknown_label', 'few_points',
    'low_confidence');
    `obs_ids` numbers the observations (a process-wide counter by default); `model` reads
    states from pixels (the built-in `PixelStateModel` by default).
    """
    p = params or ExtractionParams()
    ids_source = obs_ids if obs_ids is not None else _obs_ids
    cam = frame.intrinsics
    s = max(int(p.stride_px), 1)
    labels: dict[int, SegmentLabel] = dict(frame.labels)
    depth = frame.depth_m[::s, ::s]
    seg = frame.segments[::s, ::s]
    valid_depth = np.isfinite(depth) & (depth > p.min_range_m) & (depth < p.max_range_m)
    labelled = seg > 0
    counts_all = np.bincount(seg[labelled].ravel()) if labelled.any() else np.zeros(1, int)
    mask = valid_depth & labelled
    if skip is not None:
        unknown = set(np.unique(seg[labelled]).tolist()) - set(labels)
        if unknown:
            skip['unknown_label'] = skip.get('unknown_label', 0) + len(unknown)
    vs, us = np.nonzero(mask)
    if vs.size == 0:
        return []
    edge = _edges(seg)[vs, us]
    ids = seg[vs, us]
    z = depth[vs, us].astype(np.float64)
    u = us * s
    v = vs * s
    x = (u - cam.cx) * z / cam.fx
    y = (v - cam.cy) * z / cam.fy
    pts_cam = np.column_stack([x, y, z])
    pose = np.asarray(frame.map_T_camera, dtype=np.float64)
    pts = pts_cam @ pose[:3, :3].T + pose[:3, 3]
    has_rgb = frame.rgb is not None and frame.rgb.shape[:2] == frame.segments.shape
    rgb = frame.rgb[v, u] if has_rgb else None
    measure = has_rgb and p.attributes != 'labels'
    overrule = p.attributes == 'pixels'
    reader = model or _DEFAULT_MODEL
    light = estimate_illuminant(frame.rgb, frame.segments, np.isfinite(frame.depth_m)) \
        if measure else None

    order = np.argsort(ids, kind='stable')
    ids, pts, z, edge = ids[order], pts[order], z[order], edge[order]
    u, v = u[order], v[order]
    if rgb is not None:
        rgb = rgb[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], ids.size]
    out: list[SegmentObservation] = []
    pixels: list[SegmentPixels] = []
    h, w = frame.segments.shape
    for a, b in zip(starts, ends, strict=True):
        seg_id = int(ids[a])
        label = labels.get(seg_id)
        if label is None:
            continue
        if label.confidence < p.min_confidence:
            if skip is not None:
                skip['low_confidence'] = skip.get('low_confidence', 0) + 1
            continue
        if b - a < p.min_points:
            if skip is not None:
                skip['few_points'] = skip.get('few_points', 0) + 1
            continue
        keep = _inliers(z[a:b], edge[a:b], p.min_points)
        chunk = pts[a:b][keep]
        n = len(chunk)
        lo = np.percentile(chunk, 5, axis=0)
        hi = np.percentile(chunk, 95, axis=0)
        # The centre of the robust box, not the mean: a camera sees one side of an object.
        centroid = (lo + hi) / 2.0
        # The border band left out was the object's too (mostly): its width back on the box.
        band = 2.0 * s * float(np.median(z[a:b][keep])) / cam.fx if n < b - a else 0.0
        extent = np.maximum(hi - lo + band, 0.02)
        truncated = bool(u[a:b].min() < p.border_px or u[a:b].max() >= w - 1 - p.border_px
                         or v[a:b].min() < p.border_px or v[a:b].max() >= h - 1 - p.border_px)
        mean_rgb = (0, 0, 0)
        attributes = dict(label.attributes)
        look = None
        if rgb is not None:
            seg_rgb = rgb[a:b][keep]
            mean = seg_rgb.mean(axis=0)
            mean_rgb = (int(mean[0]), int(mean[1]), int(mean[2]))
            if light is not None:
                if overrule:
                    attributes.pop('state', None)
                reading = read_colour(seg_rgb, light)
                if (overrule or not attributes.get('color')) and reading.name:
                    attributes['color'] = reading.name
                look = reading.look
                crop = None
                if reader.knows(label.label):  # image models read the box round the segment
                    crop = frame.rgb[int(v[a:b].min()):int(v[a:b].max()) + 1,
                                     int(u[a:b].min()):int(u[a:b].max()) + 1]
                occluded = _occluded_share(seg, depth, seg_id, u[a:b] // s, v[a:b] // s) \
                    if reader.knows(label.label) else 0.0
                pixels.append(SegmentPixels(label.label, seg_rgb,
                                            (float(extent[0]), float(extent[1]),
                                             float(extent[2])), light, crop, truncated,
                                            occluded))
        total = int(counts_all[seg_id]) if seg_id < counts_all.size else n
        obs = ObjectObservation(
            obs_id=next(ids_source), stamp_s=frame.stamp_s, label=label.label,
            centroid_m=tuple(centroid), extent_m=tuple(extent),
            attributes=attributes, confidence=label.confidence,
            source_frame=frame.frame_index)
        out.append(SegmentObservation(obs, seg_id, int(n), n / max(total, 1), truncated,
                                      mean_rgb, float(lo[2]), float(np.median(z[a:b])), look))
    if light is not None and pixels:
        out = _with_states(out, pixels, reader)
    return out


def _with_states(out: list[SegmentObservation], pixels: list[SegmentPixels],
                 model: AttributeModel) -> list[SegmentObservation]:
    """The observations with the state the model reads from each one's pixels."""
    states = model.states(pixels)
    unread = [i for i, (seen, state) in enumerate(zip(out, states, strict=True))
              if not state and not seen.observation.attributes.get('state')]
    guesses = [''] * len(states)
    for i, guessed in zip(unread, model.guesses([pixels[i] for i in unread]) if unread else (),
                          strict=True):
        guesses[i] = guessed
    result = []
    for seen, state, guessed in zip(out, states, guesses, strict=True):
        if seen.observation.attributes.get('state'):
            pass  # the detector's label said it
        elif state:
            obs = seen.observation
            attrs = {**obs.attributes, 'state': state}
            seen = replace(seen, observation=replace(obs, attributes=attrs),
                           state_error=float(model.read_error))
        elif guessed:
            seen = replace(seen, state_guess=str(guessed))
        result.append(seen)
    return result


def _edges(seg: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another segment (where masks bleed)."""
    edge = np.zeros(seg.shape, dtype=bool)
    diff_h = seg[:, 1:] != seg[:, :-1]
    diff_v = seg[1:, :] != seg[:-1, :]
    edge[:, 1:] |= diff_h
    edge[:, :-1] |= diff_h
    edge[1:, :] |= diff_v
    edge[:-1, :] |= diff_v
    return edge


def _occluded_share(seg: np.ndarray, depth: np.ndarray, seg_id: int, cols: np.ndarray,
                    rows: np.ndarray, margin_m: float = 0.05) -> float:
    """Share of a segment's outline (in the strided image) whose neighbour outside it is
    nearer to the camera by over `margin_m` (+3 % of the range): something in front of it."""
    h, w = seg.shape
    r0, r1 = max(int(rows.min()) - 1, 0), min(int(rows.max()) + 2, h)
    c0, c1 = max(int(cols.min()) - 1, 0), min(int(cols.max()) + 2, w)
    inside = seg[r0:r1, c0:c1] == seg_id
    d = depth[r0:r1, c0:c1].astype(np.float64)
    valid = np.isfinite(d) & (d > 0)
    outline = occluded = 0
    for a, b in ((np.s_[:-1, :], np.s_[1:, :]), (np.s_[1:, :], np.s_[:-1, :]),
                 (np.s_[:, :-1], np.s_[:, 1:]), (np.s_[:, 1:], np.s_[:, :-1])):
        edge = inside[a] & ~inside[b] & valid[a]  # no depth on its side: nothing to compare
        outline += int(np.count_nonzero(edge))
        with np.errstate(invalid='ignore'):
            nearer = valid[b] & (d[b] < d[a] - (margin_m + 0.03 * d[a]))
        occluded += int(np.count_nonzero(edge & nearer))
    return occluded / outline if outline else 0.0


def _inliers(z: np.ndarray, edge: np.ndarray, min_points: int) -> np.ndarray:
    """Points of a segment to keep: off its border (when enough remain), and on the side of
    any gap in depth (a step of over 10 cm, or a tenth of the range) that the median is on:
    pixels that bled onto a wall behind the object, or onto something in front of it, lie
    beyond such a step; a table top seen at a grazing angle runs on without one."""
    keep = ~edge if np.count_nonzero(~edge) >= min_points else np.ones(len(z), dtype=bool)
    zk = np.sort(z[keep])
    med = float(zk[len(zk) // 2])
    gap = max(0.1, 0.1 * med)
    steps = np.flatnonzero(np.diff(zk) > gap)
    below = steps[zk[steps] < med]
    above = steps[zk[steps] >= med]
    lo = zk[below[-1] + 1] if below.size else -np.inf
    hi = zk[above[0]] if above.size else np.inf
    both = keep & (z >= lo) & (z <= hi)
    return both if np.count_nonzero(both) >= min_points else keep

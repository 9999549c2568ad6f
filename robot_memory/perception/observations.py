"""Back-project the segments of one frame into object observations in `map`.

Vectorised over all valid pixels at once: points are computed with the intrinsics, moved to
`map` with the camera pose, then grouped by segment id (sort + reduceat) for robust centroid,
extent, mean colour and visible fraction. Invalid depth (NaN, inf, 0, beyond range) is ignored.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from robot_memory.core.types import Frame, ObjectObservation

__all__ = ['ExtractionParams', 'SegmentObservation', 'extract_observations']

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


def extract_observations(frame: Frame, params: ExtractionParams | None = None,
                         skip: dict[str, int] | None = None,
                         obs_ids: Iterator[int] | None = None) -> list[SegmentObservation]:
    """Observations of every labelled segment with enough valid depth.

    `skip`, when given, counts segments left out by reason ('unknown_label', 'few_points',
    'low_confidence');
    `obs_ids` numbers the observations (a process-wide counter by default).
    """
    p = params or ExtractionParams()
    ids_source = obs_ids if obs_ids is not None else _obs_ids
    cam = frame.intrinsics
    s = max(int(p.stride_px), 1)
    seg = frame.segments[::s, ::s]
    depth = frame.depth_m[::s, ::s]
    valid_depth = np.isfinite(depth) & (depth > p.min_range_m) & (depth < p.max_range_m)
    labelled = seg > 0
    counts_all = np.bincount(seg[labelled].ravel()) if labelled.any() else np.zeros(1, int)
    mask = valid_depth & labelled
    if skip is not None:
        unknown = set(np.unique(seg[labelled]).tolist()) - set(frame.labels)
        if unknown:
            skip['unknown_label'] = skip.get('unknown_label', 0) + len(unknown)
    vs, us = np.nonzero(mask)
    if vs.size == 0:
        return []
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
    rgb = frame.rgb[v, u].astype(np.float64) if has_rgb else None

    order = np.argsort(ids, kind='stable')
    ids, pts, z = ids[order], pts[order], z[order]
    u, v = u[order], v[order]
    if rgb is not None:
        rgb = rgb[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], ids.size]
    out: list[SegmentObservation] = []
    h, w = frame.segments.shape
    for a, b in zip(starts, ends, strict=True):
        seg_id = int(ids[a])
        label = frame.labels.get(seg_id)
        if label is None:
            continue
        if label.confidence < p.min_confidence:
            if skip is not None:
                skip['low_confidence'] = skip.get('low_confidence', 0) + 1
            continue
        n = b - a
        if n < p.min_points:
            if skip is not None:
                skip['few_points'] = skip.get('few_points', 0) + 1
            continue
        chunk = pts[a:b]
        lo = np.percentile(chunk, 5, axis=0)
        hi = np.percentile(chunk, 95, axis=0)
        # The centre of the robust box, not the mean: a camera sees one side of an object.
        centroid = (lo + hi) / 2.0
        extent = np.maximum(hi - lo, 0.02)
        truncated = bool(u[a:b].min() < p.border_px or u[a:b].max() >= w - 1 - p.border_px
                         or v[a:b].min() < p.border_px or v[a:b].max() >= h - 1 - p.border_px)
        mean_rgb = (0, 0, 0)
        if rgb is not None:
            mean = rgb[a:b].mean(axis=0)
            mean_rgb = (int(mean[0]), int(mean[1]), int(mean[2]))
        total = int(counts_all[seg_id]) if seg_id < counts_all.size else n
        obs = ObjectObservation(
            obs_id=next(ids_source), stamp_s=frame.stamp_s, label=label.label,
            centroid_m=tuple(centroid), extent_m=tuple(extent),
            attributes=label.attributes, confidence=label.confidence,
            source_frame=frame.frame_index)
        out.append(SegmentObservation(obs, seg_id, int(n), n / max(total, 1), truncated,
                                      mean_rgb, float(lo[2]), float(np.median(z[a:b]))))
    return out

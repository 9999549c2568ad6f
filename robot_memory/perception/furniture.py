"""Furniture seen in parts: boxes grown over partial views, and what a small object stands on.

A camera rarely sees a whole bed or counter at once. A furniture track's axis-aligned box in
`map` grows over every view of it (never past `max_furniture_m`, beyond which two neighbours
of one class are being taken for one piece); the box, not one view's centre, is what small
objects are placed on or in (`support_of`) and what duplicate tracks are compared by.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from robot_memory.core.types import ObjectObservation, Vec3
from robot_memory.perception.association import Box, Track
from robot_memory.perception.classes import mobility_of
from robot_memory.perception.observations import SegmentObservation

__all__ = ['absorb_box', 'boxes_overlap', 'grow_box', 'support_of']


def _lower(a: Vec3, b: Vec3) -> Vec3:
    return (min(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]))


def _upper(a: Vec3, b: Vec3) -> Vec3:
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))


def _centre(lo: Vec3, hi: Vec3) -> Vec3:
    return ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2)


def _size(lo: Vec3, hi: Vec3) -> Vec3:
    return (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])


def grow_box(track: Track, obs: ObjectObservation, max_furniture_m: float) -> ObjectObservation:
    """Grow a furniture track's box by one view of it; the observation of the box's centre."""
    (cx, cy, cz), (ex, ey, ez) = obs.centroid_m, obs.extent_m
    lo = (cx - ex / 2, cy - ey / 2, cz - ez / 2)
    hi = (cx + ex / 2, cy + ey / 2, cz + ez / 2)
    if track.box_m is not None:
        grown_lo, grown_hi = _lower(lo, track.box_m[0]), _upper(hi, track.box_m[1])
        if max(_size(grown_lo, grown_hi)) <= max_furniture_m:
            lo, hi = grown_lo, grown_hi
        else:
            # Larger than any piece of furniture: two neighbours of one class, not one.
            lo, hi = track.box_m
    track.box_m = (lo, hi)
    return replace(obs, centroid_m=_centre(lo, hi), extent_m=_size(lo, hi))


def absorb_box(keep: Track, drop: Track, max_furniture_m: float) -> None:
    """A furniture track keeps the parts its duplicate saw, so that they match it next time."""
    if drop.box_m is None:
        return
    lo, hi = drop.box_m
    if keep.box_m is not None:
        lo, hi = _lower(lo, keep.box_m[0]), _upper(hi, keep.box_m[1])
        if max(_size(lo, hi)) > max_furniture_m:
            return  # larger than any piece of furniture: keep what was its own
    keep.box_m = (lo, hi)
    keep.position_m = _centre(lo, hi)
    keep.extent_m = _size(lo, hi)


def boxes_overlap(a: Box, b: Box) -> bool:
    """Whether two axis-aligned boxes intersect by more than half the smaller one's volume."""
    inter = 1.0
    vol_a = vol_b = 1.0
    for i in range(3):
        overlap = min(a[1][i], b[1][i]) - max(a[0][i], b[0][i])
        if overlap <= 0:
            return False
        inter *= overlap
        vol_a *= a[1][i] - a[0][i]
        vol_b *= b[1][i] - b[0][i]
    return inter > 0.5 * min(vol_a, vol_b)


def support_of(segment: SegmentObservation, tracks: Iterable[Track], reach_m: float,
               gap_m: float) -> tuple[str, str] | None:
    """('in' | 'on', furniture id) a movable object rests in or on, or None.

    `tracks` are the furniture candidates (others are skipped). Past the box seen so far, a
    surface counts up to `reach_m` away if it is at exactly the box's height; an object's
    bottom may be up to `gap_m` above or below the surface.
    """
    obs = segment.observation
    if mobility_of(obs.label, dict(obs.attributes)) != 'movable':
        return None
    x, y, z = obs.centroid_m
    best, best_gap = None, math.inf
    for track in tracks:
        if track.mobility == 'movable' or not track.confirmed or not track.present:
            continue
        if track.box_m is not None:
            # The box grown over every partial view: its own footprint, wherever the
            # track's anchor was first put.
            (lx, ly, lz), (hx, hy, hz) = track.box_m
            fx, fy, fz = (lx + hx) / 2, (ly + hy) / 2, (lz + hz) / 2
            ex, ey, ez = hx - lx, hy - ly, hz - lz
        else:
            fx, fy, fz = track.anchor_m or track.position_m
            ex, ey, ez = track.extent_m
        out_x, out_y = abs(x - fx) - ex / 2, abs(y - fy) - ey / 2
        if max(out_x, out_y) > reach_m:
            continue
        top = fz + ez / 2
        gap = abs(segment.bottom_z_m - top)
        if max(out_x, out_y) > 0.1 and gap > 0.05:
            # Beyond the box seen so far only a surface at exactly its height counts: the
            # far side of a bed is often not seen, but the top goes on at the same height.
            continue
        if fz - ez / 2 - 0.05 <= z <= top - 0.05:
            return ('in', track.object_id)
        # Nearer the box wins over a better height match just beside it.
        gap += max(out_x, out_y, 0.0)
        if gap <= gap_m + reach_m and gap < best_gap and \
                abs(segment.bottom_z_m - top) <= gap_m:
            best, best_gap = track.object_id, gap
    return ('on', best) if best else None

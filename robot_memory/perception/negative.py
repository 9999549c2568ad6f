"""Negative evidence: which remembered objects a frame shows in clear view, where they should be.

An object not detected where memory has it is evidence that it left only if the camera could
have seen it there: its remembered spot projects into the image (away from the border), it
would look big enough (its width, or its silhouette for a tall thin thing), the depth there is
valid, and nothing stands in front of it.
`clear_views` finds those objects; the pipeline then asks whether the detector named them
(`perception/pipeline.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np

from robot_memory.core.types import Frame
from robot_memory.perception.association import Track

__all__ = ['ClearView', 'apparent_size_m', 'clear_views', 'shows_label', 'width_m']


class ClearView(NamedTuple):
    """A remembered object whose spot the frame shows unoccluded."""

    track: Track
    depth_m: float  # median depth of the image window around the spot
    range_m: float  # depth of the remembered spot itself (camera z)
    rows: slice  # the image window
    cols: slice
    surface_m: tuple[float, float, float]  # where the ray through the spot meets a surface
    from_above: bool  # the camera looks down on the object's top


def width_m(extent_m: tuple[float, float, float]) -> float:
    """An object's width: the larger of its two horizontal extents (m)."""
    return max(extent_m[0], extent_m[1])


def apparent_size_m(extent_m: tuple[float, float, float]) -> float:
    """How big an object looks from the side (m): its width, or for a tall thin thing (a
    toothbrush, a bottle) the side of a square of its silhouette's area."""
    width = width_m(extent_m)
    return max(width, math.sqrt(width * extent_m[2]))


def clear_views(frame: Frame, tracks: Mapping[str, Track], *, max_range_m: float,
                margin_px: int, min_size_px: float, occlusion_margin_m: float,
                occlusion_tolerance_m: float) -> Iterator[ClearView]:
    """Confirmed, present, movable objects of `tracks` that `frame` shows in clear view.

    Lazy, over a snapshot of `tracks`: each object is checked when reached, so that what the
    caller did about the ones before (an object folded into another, or moved) counts.
    A spot is in view between 0.3 m and `max_range_m` ahead, `margin_px` inside the image,
    when the object would span at least `min_size_px`. It is occluded when the depth there is
    nearer than the object's own near face (its half width plus `occlusion_margin_m`, at most
    `occlusion_tolerance_m`).
    """
    cam = frame.intrinsics
    pose = np.asarray(frame.map_T_camera, dtype=float)
    rot, trans = pose[:3, :3], pose[:3, 3]
    h, w = frame.depth_m.shape
    for track in list(tracks.values()):
        if track.object_id not in tracks:
            continue  # folded into another track a moment ago
        if not (track.confirmed and track.present):
            continue
        if track.mobility != 'movable':
            # Furniture is seen in parts, and its remembered centre may lie behind what
            # the camera sees of it: an empty-looking centre is no evidence it left.
            continue
        where = np.asarray(track.anchor_m or track.position_m, dtype=float)
        x, y, z = rot.T @ (where - trans)
        if not 0.3 < z < max_range_m:
            continue
        u = cam.fx * x / z + cam.cx
        v = cam.fy * y / z + cam.cy
        if not (margin_px <= u < w - margin_px and margin_px <= v < h - margin_px):
            continue
        size_px = cam.fx * apparent_size_m(track.extent_m) / z
        if size_px < min_size_px:
            continue
        ui, vi = int(u), int(v)
        rows = slice(max(vi - 2, 0), vi + 3)
        cols = slice(max(ui - 2, 0), ui + 3)
        window = frame.depth_m[rows, cols]
        valid = window[np.isfinite(window) & (window > 0)]
        if valid.size == 0:
            continue
        near_face = min(width_m(track.extent_m) / 2 + occlusion_margin_m,
                        occlusion_tolerance_m)
        depth_m = float(np.median(valid))
        if depth_m < z - near_face:
            continue  # something in front: occluded, no evidence either way
        surface = trans + rot @ (np.array([x / z, y / z, 1.0]) * depth_m)
        top_m = float(where[2]) + track.extent_m[2] / 2
        yield ClearView(track, depth_m, float(z), rows, cols,
                        (float(surface[0]), float(surface[1]), float(surface[2])),
                        bool(trans[2] > top_m))


def shows_label(frame: Frame, rows: slice, cols: slice, label: str) -> bool:
    """Whether any segment in this image window carries `label`."""
    for seg in np.unique(frame.segments[rows, cols]):
        seg_label = frame.labels.get(int(seg))
        if seg_label is not None and seg_label.label == label:
            return True
    return False

"""Where the robot has looked: a compact history of past views.

Each accepted frame leaves its camera pose and a coarse depth image (float16, 8× smaller per
side). To ask "was this point in clear view before?", project it into every remembered view:
inside the image, within detection range, and not behind a nearer surface means the camera
would have seen an object standing there. An object later seen at such a point *appeared*;
one first seen where no earlier view reached was only *discovered* — which keeps the robot's
first look at a shelf or a corner from being reported as a flood of changes.

Views are kept per camera pose (cells of `pose_cell_m` and `pose_cell_deg`): at each pose the
newest view of this session and the newest one from before it. A patrol that comes back to
the same spot and looks the same way replaces its older view there, so the history grows with
the places looked from, not with the days; `max_views` bounds it in any case (oldest poses
go first). "Seen before" asks whether earlier views had the point in clear view and empty,
in as many frames as the caller needs; the newest earlier view at a pose answers for the
pose, with the number of frames its patrol took from there.
"""

from __future__ import annotations

import math

import numpy as np

from robot_memory.core.types import Frame

__all__ = ['ViewHistory']


class ViewHistory:
    """Remembered views, split into 'before this session' and 'this session'."""

    def __init__(self, max_views: int = 4000, downsample: int = 8, max_range_m: float = 3.0,
                 occlusion_tolerance_m: float = 0.15, margin_px: int = 1,
                 min_size_px: float = 8.0, pose_cell_m: float = 0.25,
                 pose_cell_deg: float = 15.0) -> None:
        self.downsample = downsample
        self.max_range_m = max_range_m
        self.occlusion_tolerance_m = occlusion_tolerance_m
        self.margin_px = margin_px
        # An object narrower than this in the image (full-resolution pixels) would not have
        # been made out (extraction needs 12 points at a 2-pixel stride, about 7 × 7 pixels):
        # a view from that far is no evidence the spot was empty.
        self.min_size_px = min_size_px
        self.max_views = max_views
        self.pose_cell_m = pose_cell_m
        self.pose_cell_rad = math.radians(pose_cell_deg)
        # Pose cell → [newest earlier-session view, newest view of this session], each with
        # how many frames its session took from that pose; cells in the order they were last
        # looked from.
        self._views: dict[tuple[int, ...], list[tuple[int, np.ndarray, np.ndarray, np.ndarray,
                                                      tuple[float, ...], int]]] = {}
        self._count = 0
        self._classes: dict[str, int] = {}
        self._session = 0

    def new_session(self) -> None:
        """Views taken so far now count as taken before."""
        self._session += 1

    def update(self, frame: Frame) -> None:
        """Remember this frame's view: pose, coarse depth and the classes shown where."""
        d = self.downsample
        small = frame.depth_m[d // 2::d, d // 2::d].astype(np.float16)
        segments = frame.segments[d // 2::d, d // 2::d]
        lut = {seg: self._classes.setdefault(label.label, len(self._classes) + 1)
               for seg, label in frame.labels.items()}
        classes = np.zeros(segments.shape, dtype=np.int16)
        for seg in np.unique(segments):
            if int(seg) in lut:
                classes[segments == seg] = lut[int(seg)]
        cam = frame.intrinsics
        # Intrinsics of the downsampled image: pixel centres at d//2 + k*d.
        k = (cam.fx / d, cam.fy / d, (cam.cx - d // 2) / d, (cam.cy - d // 2) / d)
        map_T_camera = np.asarray(frame.map_T_camera, dtype=np.float64)
        camera_T_map = np.linalg.inv(map_T_camera)
        key = self._pose_cell(map_T_camera)
        old = self._views.pop(key, [])
        kept = [v for v in old if v[0] < self._session][-1:]
        frames = sum(v[5] for v in old if v[0] == self._session) + 1
        self._views[key] = [*kept, (self._session, camera_T_map, small, classes, k, frames)]
        self._count += len(self._views[key]) - len(old)
        while self._count > self.max_views:
            self._count -= len(self._views.pop(next(iter(self._views))))

    def _pose_cell(self, map_T_camera: np.ndarray) -> tuple[int, ...]:
        x, y, z = map_T_camera[:3, 3]
        fx, fy, fz = map_T_camera[:3, 2]  # the optical axis
        yaw, pitch = math.atan2(fy, fx), math.asin(max(-1.0, min(1.0, fz)))
        c, a = self.pose_cell_m, self.pose_cell_rad
        return (round(x / c), round(y / c), round(z / c), round(yaw / a) % round(math.tau / a),
                round(pitch / a))

    def seen_before(self, point: tuple[float, float, float], label: str = '',
                    size_m: float = 0.0, views_needed: int = 1) -> bool:
        """Whether views from earlier sessions had `point` in clear view and empty, in at
        least `views_needed` frames (a detector that misses objects now and then needs more
        than one empty-looking view before a spot counts as seen empty: the same count as
        for an object seen gone, `DetectionStats.views_to_confirm_absence`). The frames a
        session took from one pose count with that pose's newest view.

        Clear view: in the image, within range, not behind a nearer surface, and an object
        `size_m` wide there would have been large enough to make out. Empty: no segment of
        `label` shows there (one that did was this object, seen but too little to place).
        """
        found = 0
        p = np.array([*point, 1.0])
        cls = self._classes.get(label, -1) if label else -1
        views = (view for cell in reversed(self._views.values()) for view in reversed(cell))
        for session, camera_T_map, depth, classes, (fx, fy, cx, cy), frames in views:
            if session >= self._session:
                continue
            x, y, z, _ = camera_T_map @ p
            if not 0.2 < z < self.max_range_m:
                continue
            if size_m and fx * self.downsample * size_m / z < self.min_size_px:
                continue
            u = int(np.rint(fx * x / z + cx))
            v = int(np.rint(fy * y / z + cy))
            h, w = depth.shape
            m = self.margin_px
            if not (m <= u < w - m and m <= v < h - m):
                continue
            measured = float(depth[v, u])
            if not (np.isfinite(measured) and measured >= z - self.occlusion_tolerance_m):
                continue
            if cls > 0 and classes[v, u] == cls:
                continue
            found += frames
            if found >= views_needed:
                return True
        return False

    def __len__(self) -> int:
        return self._count

"""Camera, label and pose messages → validated `Frame`s, shared by the node and bag ingestion.

No rclpy here: messages are read by their fields, so live messages and messages decoded from
an MCAP file go through exactly the same decoding, pairing and validation. Everything that
cannot be used is counted by reason instead of raised.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from robot_memory.core.types import Frame, SegmentLabel, StampedPose
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.class_segments import (
    SEGMENTATIONS,
    ClassSplitParams,
    LabelSpace,
    instances_from_classes,
)
from robot_memory.perception.frames import FrameRejected, make_frame
from robot_memory.ros.conversions import (
    color_from_msg,
    depth_from_msg,
    intrinsics_from_msg,
    labels_from_msg,
    pose_from_msg,
    segments_from_msg,
    stamp_s,
)
from robot_memory.ros.sync import StampSynchroniser

__all__ = ['STREAMS', 'FrameAssembler']

# Stream key → what it carries; the node maps these to topics.
STREAMS = ('depth', 'color', 'semantic', 'labels', 'info', 'pose')


class FrameAssembler:
    """Decode each message on arrival, pair by stamp, and build frames.

    `segmentation` says what the semantic stream carries: 'instance' (instance ids, with a
    label map on the labels stream) or 'class' (class ids of `label_space`; no label map: each
    class is split into objects by depth, `perception.class_segments`).
    """

    def __init__(self, tolerance_s: float = 0.02, queue_size: int = 30,
                 require_color: bool = True, map_frame: str = 'map',
                 segmentation: str = 'instance', label_space: LabelSpace | None = None,
                 split: ClassSplitParams | None = None) -> None:
        if segmentation not in SEGMENTATIONS:
            raise InvalidInputError(f'segmentation {segmentation!r}; valid: '
                                    f'{", ".join(SEGMENTATIONS)}')
        self.segmentation = segmentation
        self.label_space = label_space
        self.split = split or ClassSplitParams()
        others = ('semantic', *(('labels',) if segmentation == 'instance' else ()), 'info',
                  'pose', *(('color',) if require_color else ()))
        self.sync = StampSynchroniser('depth', others, tolerance_s, queue_size)
        self.require_color = require_color
        self.map_frame = map_frame
        self.malformed: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.unknown_class_ids: set[int] = set()
        self.frames_built = 0
        self.last_malformed: tuple[str, str] | None = None
        """Why the last message given to `add` was counted as malformed (reason, detail)."""

    def add(self, stream: str, msg: Any, fallback_stamp_s: float | None = None) -> list[Frame]:
        """Take one message of a stream; return the frames it completed, oldest first.

        `fallback_stamp_s` stamps a label map that carries none (a bag's log time); live
        label maps without a stamp are fixed maps that hold for every frame.
        """
        self.last_malformed = None
        if stream == 'color' and not self.require_color:
            return []
        if stream == 'labels' and self.segmentation == 'class':
            return []  # class images are labelled by the label space
        try:
            if stream == 'labels':
                stamp, labels = labels_from_msg(msg)
                stamp = stamp if stamp is not None else fallback_stamp_s
                matched = (self.sync.set_latest('labels', labels) if stamp is None
                           else self.sync.add('labels', stamp, labels))
            elif stream == 'info':
                # Camera info is taken as the latest: drivers send it at their own pace.
                matched = self.sync.set_latest('info', intrinsics_from_msg(msg))
            elif stream == 'pose':
                pose = pose_from_msg(msg)
                if pose.frame_id != self.map_frame:
                    raise FrameRejected('wrong_frame', f'pose in {pose.frame_id!r}, expected '
                                        f'{self.map_frame!r} (no tf here to transform it)')
                matched = self.sync.add('pose', pose.stamp_s, pose)
            else:
                decode = {'depth': depth_from_msg, 'color': color_from_msg,
                          'semantic': segments_from_msg}.get(stream)
                if decode is None:
                    raise FrameRejected('unknown_stream', stream)
                matched = self.sync.add(stream, stamp_s(msg.header.stamp), decode(msg))
        except FrameRejected as exc:
            self.malformed[f'{stream}:{exc.reason}'] += 1
            self.last_malformed = (exc.reason, str(exc))
            return []
        except (AttributeError, IndexError, KeyError, OverflowError, TypeError,
                ValueError) as exc:
            # Anything else that does not parse is malformed input too, never a crash.
            self.malformed[f'{stream}:{type(exc).__name__}'] += 1
            self.last_malformed = (type(exc).__name__, str(exc)[:300])
            return []
        return self._build(matched)

    def _build(self, matched: list[tuple[float, dict[str, Any]]]) -> list[Frame]:
        frames = []
        for stamp, items in matched:
            try:
                segments, labels = items['semantic'], items.get('labels', {})
                if self.segmentation == 'class':
                    segments, labels = self._split(segments, items['depth'])
                frame = make_frame(stamp, items.get('color'), items['depth'], segments, labels,
                                   items['pose'].matrix(), items['info'], self.frames_built)
            except FrameRejected as exc:
                self.rejected[exc.reason] += 1
                continue
            self.frames_built += 1
            frames.append(frame)
        return frames

    def _split(self, classes: Any, depth_m: Any) -> tuple[Any, dict[int, SegmentLabel]]:
        if self.label_space is None:
            raise FrameRejected('no_label_space', 'a class image came before any label space')
        if getattr(classes, 'shape', None) != getattr(depth_m, 'shape', None):
            raise FrameRejected('size_mismatch', 'class image and depth differ in size')
        segments, labels, unknown = instances_from_classes(classes, depth_m, self.label_space,
                                                           self.split)
        if unknown:
            self.rejected['unknown_class_pixels'] += 1  # the frame keeps its known classes
            self.unknown_class_ids |= unknown
        return segments, labels

    def add_pose(self, pose: StampedPose) -> list[Frame]:
        """Take a camera pose found another way (tf) instead of from a pose message."""
        if pose.frame_id != self.map_frame:
            self.malformed['pose:wrong_frame'] += 1
            return []
        return self._build(self.sync.add('pose', pose.stamp_s, pose))

    def stats(self) -> dict[str, Any]:
        """Return the counters for diagnostics."""
        out = {**self.sync.stats.as_dict(), 'malformed': dict(self.malformed),
               'rejected': dict(self.rejected), 'frames_built': self.frames_built}
        if self.segmentation == 'class':
            out['unknown_class_ids'] = sorted(self.unknown_class_ids)[:20]
        return out

"""Offline ingestion of an MCAP recording of the standard topics (no rclpy, no rosbag2).

The messages go through the same `FrameAssembler` as in `memory_node` — same decoding, same
pairing by stamp, same validation — and then `MemoryService.ingest`, so a recording gives the
memory a live run of the same stream gives. Topics are recognised by their names without
namespace (`…/camera/depth/image_rect`), so a namespaced robot's recording works too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError
from robot_memory.ros.assembler import FrameAssembler
from robot_memory.ros.layouts import parse_layout_msg
from robot_memory.service import MemoryService, MemoryServiceParams

__all__ = ['BAG_TOPICS', 'ingest_bag']

log = logging.getLogger(__name__)

BAG_TOPICS = {
    'camera/depth/image_rect': 'depth',
    'camera/color/image_raw': 'color',
    'camera/semantic/image_raw': 'semantic',
    'camera/semantic/labels': 'labels',
    'camera/color/camera_info': 'info',
    'camera/pose': 'pose',
    'map/layout': 'layout',
}


MCAP_MAGIC = b'\x89MCAP0\r\n'


class _Reading:
    """The decoded messages of a recording; one cut short is read up to where it stops.

    A recorder killed mid-write leaves no summary or footer: the seeking reader fails before
    the first message, so the file is read again as a stream, in file order, until its end.
    """

    def __init__(self, bag: Path) -> None:
        self.bag = bag
        self.truncated = False

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        import struct

        from mcap.exceptions import McapError
        from mcap.reader import NonSeekingReader, make_reader
        from mcap_ros2.decoder import DecoderFactory

        broken = (McapError, struct.error, EOFError, ValueError)
        yielded = 0
        try:
            with open(self.bag, 'rb') as fh:
                reader = make_reader(fh, decoder_factories=[DecoderFactory()])
                for _, channel, message, msg in reader.iter_decoded_messages(
                        log_time_order=True):
                    yielded += 1
                    yield channel, message, msg
            return
        except broken as exc:
            if yielded:  # a damaged chunk after good ones: keep what was read
                self._cut(exc, yielded)
                return
        with open(self.bag, 'rb') as fh:
            reader = NonSeekingReader(fh, decoder_factories=[DecoderFactory()])
            try:
                for _, channel, message, msg in reader.iter_decoded_messages(
                        log_time_order=False):
                    yielded += 1
                    yield channel, message, msg
            except broken as exc:
                self._cut(exc, yielded)

    def _cut(self, exc: BaseException, messages: int) -> None:
        self.truncated = True
        log.warning('%s ends early (%s): read the %d messages before the cut', self.bag,
                    type(exc).__name__ + (f': {exc}' if str(exc) else ''), messages)


def _stream_of(topic: str) -> str | None:
    name = topic.strip('/')
    for suffix, stream in BAG_TOPICS.items():
        if name == suffix or name.endswith('/' + suffix):
            return stream
    return None


def ingest_bag(bag: str | Path, db: str | Path,
               layout: tuple[float | None, SceneGraph] | None = None,
               tolerance_s: float = 0.02, require_color: bool = True,
               use_embeddings: bool = False, timezone: str = 'UTC') -> dict[str, Any]:
    """Build (or extend) the memory file `db` from `bag`; return a summary.

    `layout` is (stamp or None, rooms and places) when the recording has no `map/layout`.
    """
    bag = Path(bag)
    if not bag.is_file():
        raise InvalidInputError(f'no recording at {bag}')
    with open(bag, 'rb') as fh:
        if fh.read(len(MCAP_MAGIC)) != MCAP_MAGIC:
            raise InvalidInputError(f'{bag} is not an MCAP recording (it does not start with '
                                    "MCAP's magic bytes)")
    wall_start = time.perf_counter()
    service = MemoryService(MemoryServiceParams(db_path=str(db), timezone=timezone,
                                                use_embeddings=use_embeddings))
    assembler = FrameAssembler(tolerance_s, require_color=require_color)
    messages = 0
    accepted = 0
    malformed = 0
    try:
        if layout is not None:
            stamp_s, graph = layout
            service.set_layout(graph, stamp_s if stamp_s else service.memory.now_s)
        reading = _Reading(bag)
        for channel, message, msg in reading:
            stream = _stream_of(channel.topic)
            if stream is None:
                continue
            messages += 1
            log_time_s = message.log_time * 1e-9
            if stream == 'layout':
                try:
                    stamp_s, graph = parse_layout_msg(msg.data)
                except InvalidInputError as exc:
                    malformed += 1
                    log.warning('%s: a map/layout message skipped: %s', bag, exc)
                    continue
                if graph != service.memory.layout_at(float('inf')):
                    service.set_layout(graph, stamp_s or log_time_s)
                continue
            for frame in assembler.add(stream, msg, fallback_stamp_s=log_time_s):
                accepted += bool(service.ingest(frame).accepted)
        if not service.memory.layout_at(float('inf')).rooms:
            log.warning('%s has no map/layout and none was given: objects have no rooms', bag)
        diagnostics = service.diagnostics()
    finally:
        service.close()
    return {
        'bag': str(bag), 'db': str(db), 'messages': messages,
        'frames': assembler.frames_built, 'frames_accepted': accepted,
        'objects_in_memory': diagnostics['objects_in_memory'], 'events': diagnostics['events'],
        'sync': assembler.stats(), 'skipped': diagnostics['frames_skipped'],
        'segments_skipped': diagnostics['segments_skipped'],
        'truncated': reading.truncated, 'malformed_layouts': malformed,
        'wall_s': round(time.perf_counter() - wall_start, 3),
    }

"""Offline ingestion of an MCAP recording of the standard topics (no rclpy, no rosbag2).

The messages go through the same `FrameAssembler` as in `memory_node` — same decoding, same
pairing by stamp, same validation — and then `MemoryService.ingest`, so a recording gives the
memory a live run of the same stream gives. Topics are recognised by their names without
namespace (`…/camera/depth/image_rect`), so a namespaced robot's recording works too.
"""

from __future__ import annotations

import logging
import time
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
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    bag = Path(bag)
    if not bag.is_file():
        raise InvalidInputError(f'no recording at {bag}')
    wall_start = time.perf_counter()
    service = MemoryService(MemoryServiceParams(db_path=str(db), timezone=timezone,
                                                use_embeddings=use_embeddings))
    assembler = FrameAssembler(tolerance_s, require_color=require_color)
    messages = 0
    accepted = 0
    try:
        if layout is not None:
            stamp_s, graph = layout
            service.set_layout(graph, stamp_s if stamp_s else service.memory.now_s)
        with open(bag, 'rb') as fh:
            reader = make_reader(fh, decoder_factories=[DecoderFactory()])
            for _, channel, message, msg in reader.iter_decoded_messages(log_time_order=True):
                stream = _stream_of(channel.topic)
                if stream is None:
                    continue
                messages += 1
                log_time_s = message.log_time * 1e-9
                if stream == 'layout':
                    stamp_s, graph = parse_layout_msg(msg.data)
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
        'wall_s': round(time.perf_counter() - wall_start, 3),
    }

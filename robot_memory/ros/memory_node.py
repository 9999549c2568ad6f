"""memory_node: camera topics in → memory built and persisted; questions answered; markers out.

Subscribes (relative names, remappable): `camera/depth/image_rect`, `camera/color/image_raw`,
`camera/semantic/image_raw`, `camera/semantic/labels`, `camera/color/camera_info`,
`camera/pose`, `map/layout`, `memory/query`. Publishes `memory/answer`, `memory/markers`,
`diagnostics`. QoS per topic: `robot_memory/ros/qos.py`. Serves `memory/get_objects` and
`memory/get_changes` (robot_memory_interfaces/srv/GetObjects, GetChanges: the world at a time,
what changed between two) where that package is built (`ros/snapshot_server.py`).

Threads: the executor only receives — decodes, pairs by stamp, queues — because rclpy's
callbacks are slow enough that a busy executor loses sensor messages from its queues. One
worker thread owns the `MemoryService` (`robot_memory/service.py`, where all the work is): it
answers requests and service calls first, then ingests queued frames one at a time, and draws
markers and diagnostics when their timers ask. Frames beyond `ingest_queue_frames` drop the
oldest. The order, the queues and requests waiting for frames are
`robot_memory/ros/scheduler.py`'s; this node executes its steps.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import OccupancyGrid
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from robot_memory._system import disk_free_mb, rss_mb
from robot_memory.core.buffer import BufferParams
from robot_memory.core.protocol import REQUEST_MAX_BYTES
from robot_memory.core.scene_graph import OBJECT_RELATIONS, SceneGraph
from robot_memory.core.types import Frame
from robot_memory.exceptions import InvalidInputError, RobotMemoryError, WorldMismatchError
from robot_memory.fleet.link import FleetLink, fleet_dsn
from robot_memory.perception.association import AssociationParams
from robot_memory.perception.class_segments import ClassSplitParams, load_label_space
from robot_memory.perception.observations import ExtractionParams
from robot_memory.perception.pipeline import PipelineParams
from robot_memory.ros import qos
from robot_memory.ros.assembler import FrameAssembler
from robot_memory.ros.conversions import (
    diagnostic_status,
    label_info_type,
    label_space_from_label_info,
    occupancy_from_msg,
    pose_from_transform,
)
from robot_memory.ros.interfaces import MISSING, memory_service_types
from robot_memory.ros.layouts import load_layout as load_layout  # re-exported
from robot_memory.ros.layouts import parse_layout_message
from robot_memory.ros.layouts import parse_layout_msg as parse_layout_msg  # re-exported
from robot_memory.ros.markers import memory_markers
from robot_memory.ros.params import MemoryNodeParams, declare_params
from robot_memory.ros.paths import memory_file, package_file
from robot_memory.ros.runtime import CallbackGuard, run_node, teardown_progress
from robot_memory.ros.scheduler import Step, WorkScheduler, read_request
from robot_memory.ros.snapshot_server import SnapshotServer
from robot_memory.service import MemoryService, MemoryServiceParams

__all__ = ['GIL_SWITCH_INTERVAL_S', 'SENSOR_TOPICS', 'MemoryNode', 'load_layout', 'main',
           'parse_layout_msg']

SENSOR_TOPICS: dict[str, tuple[type, str]] = {
    'depth': (Image, 'camera/depth/image_rect'),
    'color': (Image, 'camera/color/image_raw'),
    'semantic': (Image, 'camera/semantic/image_raw'),
    'info': (CameraInfo, 'camera/color/camera_info'),
    'pose': (PoseStamped, 'camera/pose'),
    'labels': (String, 'camera/semantic/labels'),
}


def _percentile(values: Any, q: float) -> float:
    data = list(values)
    return round(float(np.percentile(data, q)), 3) if data else 0.0


class MemoryNode(Node):
    """Builds memory from the camera topics and serves `memory/query`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('memory_node', **kwargs)
        self.params = p = declare_params(self, MemoryNodeParams, self._on_params_changed)
        self.db_path = memory_file(p.db_path)
        self._wrong_world: str | None = None  # why layouts and frames are refused, if they are
        self.service = MemoryService(MemoryServiceParams(
            db_path=str(self.db_path), timezone=p.timezone, commit_interval_s=p.commit_interval_s,
            use_embeddings=p.use_embeddings, world_id=p.world_id, other_world=p.other_world,
            pipeline=PipelineParams(
                association=AssociationParams(color_gate=p.color_gate),
                extraction=ExtractionParams(min_confidence=p.min_confidence),
                buffer=BufferParams(confirm_k_removed=p.absent_confirm_views),
                infer_moves=p.infer_moves)))
        if p.layout_file:
            self._apply_layout(load_layout(p.layout_file), 0.0)
        self.assembler = FrameAssembler(
            p.sync_tolerance_s, p.sync_queue_frames, p.require_color, p.map_frame,
            p.segmentation,
            load_label_space(package_file(p.label_space_file)) if p.label_space_file else None,
            ClassSplitParams(depth_jump_m=p.class_depth_jump_m, min_pixels=p.class_min_px))
        # Shared between the executor and the worker (under scheduler.cond, with the
        # assembler and the transport statistics); everything else belongs to one of them.
        self.scheduler = WorkScheduler(p.ingest_queue_frames)
        self._seq: dict[str, int] = {}
        self._latency_ms: deque[float] = deque(maxlen=p.latency_window_frames)
        self._middleware_ms: deque[float] = deque(maxlen=p.latency_window_frames)
        # Worker-owned.
        self._ingest_ms: deque[float] = deque(maxlen=p.latency_window_frames)
        self._ingest_wall_s: deque[float] = deque(maxlen=p.latency_window_frames)
        self._path: deque[tuple[float, float, float]] = deque(maxlen=p.robot_path_max_points)
        self._last_frame_s: float | None = None
        self._ingested = 0
        self._dirty = False
        self._last_problems = 0
        self._service_stats = self.service.diagnostics()

        # Every subscription callback runs inside this guard: what a message raises is counted
        # (malformed.<stream>:<reason>, callback_errors.<stream>:<type>), never raised into
        # the executor, and a refused text payload replayed (transient-local) is skipped.
        self._guard = CallbackGuard(self.get_logger(), self._count_refused)
        guard = self._guard.wrap

        def text(msg: Any) -> Any:
            return msg.data

        self._tf_buffer: Any = None
        if p.pose_source == 'tf':
            self._tf_buffer = self._make_tf_buffer()
        sensor_qos = qos.sensor(p.sensor_queue_msgs, p.sensor_qos_reliable)
        for stream, (msg_type, topic) in SENSOR_TOPICS.items():
            if stream == 'color' and not p.require_color:
                continue
            if stream == 'pose' and self._tf_buffer is not None:
                continue
            if stream == 'labels' and p.segmentation == 'class':
                continue
            profile = qos.latched(p.sensor_queue_msgs) if stream == 'labels' else sensor_qos
            self.create_subscription(msg_type, topic,
                                     guard(stream, partial(self._on_sensor, stream)), profile)
        if p.segmentation == 'class' and p.label_info_topic:
            self.create_subscription(label_info_type(), p.label_info_topic,
                                     guard('label_info', self._on_label_info), qos.latched())
        self.create_subscription(String, 'map/layout', guard('layout', self._on_layout, text),
                                 qos.latched())
        if p.map_topic and not p.layout_file:
            self.create_subscription(OccupancyGrid, p.map_topic, guard('map', self._on_map),
                                     qos.latched())
        self.create_subscription(String, 'memory/query', guard('query', self._on_query, text),
                                 qos.reliable(50))
        self._answer_pub = self.create_publisher(String, 'memory/answer', qos.reliable(50))
        # Service calls are answered by the worker (it owns the memory).
        self._snapshots: SnapshotServer | None = None
        srv_types = memory_service_types()
        if srv_types is None:
            self.get_logger().info(f'no snapshot services: {MISSING}; memory/query serves '
                                   'the same as JSON')
        else:
            self._snapshots = SnapshotServer(self, srv_types, self.service, self.scheduler,
                                             self._guard)
        self._markers_pub = self.create_publisher(MarkerArray, 'memory/markers', qos.latched())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', qos.reliable())
        # Timers run on the steady clock: simulated time may stand still while the robot idles.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        for period_s, task in ((p.markers_period_s, 'markers'),
                               (p.diagnostics_period_s, 'diagnostics')):
            self.create_timer(period_s, partial(self.scheduler.request_task, task), clock=steady)
        self._fleet: FleetLink | None = None
        dsn = fleet_dsn(p.fleet_dsn)
        if dsn:
            if not p.robot_id:
                raise RobotMemoryError('fleet_dsn is set but robot_id is empty: the fleet '
                                       'needs the id this robot ships as')
            self.service.flush()
            self._fleet = FleetLink(self.db_path, dsn, p.robot_id, p.fleet_sync_period_s,
                                    use_embeddings=p.use_embeddings,
                                    timezone=p.timezone).start()
        self._tasks: dict[str, Callable[..., None]] = {
            'apply_layout': self._apply_layout, 'take_request': self._take_request,
            'serve_call': self._serve_call,
            'ingest': self._ingest, 'serve_deferred': self._serve_deferred,
            'publish_markers': self._publish_markers,
            'publish_diagnostics': self._publish_diagnostics}
        self._worker = threading.Thread(
            target=self.scheduler.run, args=(self._may_ingest, self._execute,
                                             self._on_worker_error),
            name='memory_worker', daemon=True)
        self._worker.start()
        self.get_logger().info(
            f'memory in {self.db_path}: {self.service.memory.num_objects()} objects, layout with '
            f'{len(self._layout().rooms)} rooms; sensor QoS '
            f'{"reliable" if p.sensor_qos_reliable else "best effort"}')

    def _make_tf_buffer(self) -> Any:
        try:
            import tf2_ros  # lazily: not every install has tf2 (the PyPI wheels do not)
        except ImportError:
            self.get_logger().error(
                "pose_source 'tf' needs tf2_ros, which is not installed; taking camera poses "
                'from camera/pose instead')
            return None
        buffer = tf2_ros.Buffer()
        self._tf_listener = tf2_ros.TransformListener(buffer, self)
        return buffer

    def _pose_from_tf(self, msg: Any) -> Any:
        """The camera pose at a depth image's stamp, from tf; None (counted) if unknown."""
        from rclpy.time import Time

        try:
            transform = self._tf_buffer.lookup_transform(
                self.params.map_frame, self.params.camera_frame, Time.from_msg(msg.header.stamp))
            return pose_from_transform(transform, self.params.map_frame)
        except Exception as exc:  # tf2's lookup, extrapolation and connectivity errors
            self.scheduler.counts['tf_unavailable'] += 1
            self.get_logger().debug(f'no camera pose from tf: {exc}')
            return None

    # ------------------------------------------------------------ receiving
    def _on_sensor(self, stream: str, msg: Any, info: dict[str, Any]) -> None:
        now_ns = time.time_ns()
        with self.scheduler.cond:
            self._track_transport(stream, info, now_ns)
            if stream == 'labels' and self._guard.skip_known('labels', msg.data):
                return  # a label map refused before, replayed (transient-local): counted
            frames = []
            if stream == 'depth' and self._tf_buffer is not None:
                pose = self._pose_from_tf(msg)
                if pose is not None:
                    frames += self.assembler.add_pose(pose)
            frames += self.assembler.add(stream, msg)
            self.scheduler.add_frames(frames)
            refused = self.assembler.last_malformed
        if refused is not None and stream == 'labels':
            # Counted by the assembler; the guard logs it once and skips it when replayed.
            self._guard.remember('labels', msg.data, *refused)

    def _count_refused(self, kind: str, key: str) -> None:
        self.scheduler.count(f'{kind}.{key}')

    def _track_transport(self, stream: str, info: dict[str, Any], now_ns: int) -> None:
        source = info.get('source_timestamp') or 0
        if stream == 'depth' and source:
            self._latency_ms.append((now_ns - source) / 1e6)
            received = info.get('received_timestamp') or 0
            if received:
                self._middleware_ms.append((received - source) / 1e6)
        seq = info.get('publication_sequence_number')
        if isinstance(seq, int) and seq > 0:
            last = self._seq.get(stream)
            # Gaps in the writer's sequence are messages lost on the way (exact with one
            # publisher per topic; a new publisher restarts the sequence).
            if last is not None and seq > last + 1:
                self.scheduler.counts[f'transport_lost.{stream}'] += seq - last - 1
            self._seq[stream] = seq

    def _on_label_info(self, msg: Any) -> None:
        try:
            space = label_space_from_label_info(msg)
        except (AttributeError, OverflowError, TypeError, ValueError) as exc:
            raise InvalidInputError(f'LabelInfo: {exc}') from None
        if space.names != getattr(self.assembler.label_space, 'names', None):
            self.get_logger().info(f'label space from {self.params.label_info_topic}: '
                                   f'{len(space.names)} classes')
        self.assembler.label_space = space

    def _on_layout(self, msg: String) -> None:
        self.scheduler.add_layout(*parse_layout_message(msg.data))

    def _on_map(self, msg: OccupancyGrid) -> None:
        """Segment rooms from the robot's map when no layout was given."""
        from robot_memory.perception.rooms import SegmentationParams, rooms_from_occupancy

        grid, resolution, origin = occupancy_from_msg(msg)
        seg = SegmentationParams(door_width_m=self.params.door_width_m)
        layout = rooms_from_occupancy(grid, resolution, origin, seg)
        self.get_logger().info(f'{len(layout.rooms)} rooms segmented from {self.params.map_topic}')
        self.scheduler.add_layout(None, layout)

    def _on_query(self, msg: String) -> None:
        data = msg.data
        if len(data) > REQUEST_MAX_BYTES:  # refused unread: too long to hold in a queue
            raise InvalidInputError(f'a memory/query of {len(data)} characters (at most '
                                    f'{REQUEST_MAX_BYTES})')
        self.scheduler.add_request(data)

    # --------------------------------------------------------------- worker
    def _execute(self, step: Step) -> None:
        self._tasks[step.task](*step.args)

    def _on_worker_error(self, step: Step, exc: Exception) -> bool:
        if not self.context.ok():
            return False  # shutting down: publishers are gone; destroy_node drains
        self.get_logger().error(f'memory worker, {self._tasks[step.task].__name__}: {exc!r}')
        return True

    def _may_ingest(self) -> bool:
        if self._wrong_world is not None:
            return False  # frames of another world never go into this world's memory
        return not self.params.require_layout or bool(self._layout().rooms)

    def _layout(self) -> SceneGraph:
        return self.service.memory.layout_at(math.inf)

    def _apply_layout(self, layout: SceneGraph, stamp_s: float | None,
                      world_id: str = '') -> None:
        if world_id and not self._same_world(world_id):
            return
        if layout != self._layout():
            self.service.set_layout(layout, stamp_s if stamp_s else self.service.memory.now_s)
            self.get_logger().info(f'layout: {len(layout.rooms)} rooms, '
                                   f'{len(layout.places)} places')

    def _same_world(self, world_id: str) -> bool:
        """Whether a layout of `world_id` may go into this memory (claimed if it names none).

        A layout of another world is refused, and so is every frame until a layout of this
        memory's world comes (diagnostics ERROR), unless `other_world` is 'continue'.
        """
        try:
            self.service.claim_world(world_id)
        except WorldMismatchError as exc:
            if self.params.other_world == 'continue':
                return True
            self.scheduler.count('world_mismatch')
            if self._wrong_world != str(exc):
                self.get_logger().error(
                    f'{exc}: its layout and frames are refused; restart with another db_path '
                    'or with world_id and other_world:=new (moves the file aside)')
            self._wrong_world = str(exc)
            return False
        self._wrong_world = None
        return True

    def _ingest(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        try:
            result = self.service.ingest(frame)
        except Exception as exc:  # a frame the pipeline chokes on is skipped, not fatal
            self.scheduler.count('ingest_error')
            self.get_logger().error(f'frame at {frame.stamp_s:.3f} failed: {exc!r}')
        else:
            if result.accepted:
                self._add_path_point(frame)
        self._ingest_ms.append((time.perf_counter() - t0) * 1e3)
        self._ingest_wall_s.append(time.monotonic())
        self._ingested += 1
        self._dirty = True
        self._last_frame_s = max(frame.stamp_s, self._last_frame_s or -math.inf)
        teardown_progress()  # while stopping, the worker drains its queue: that is progress

    def _add_path_point(self, frame: Frame) -> None:
        x, y = float(frame.map_T_camera[0, 3]), float(frame.map_T_camera[1, 3])
        if self._path and math.hypot(x - self._path[-1][0], y - self._path[-1][1]) < \
                self.params.robot_path_spacing_m:
            return
        self._path.append((x, y, 0.05))

    # ------------------------------------------------------------- requests
    def _serve_call(self, call: Callable[[], None]) -> None:
        call()

    def _take_request(self, data: str) -> None:
        request = read_request(data)
        if not self.scheduler.deferred.hold(request, self._last_frame_s,
                                            self.params.sync_tolerance_s, time.monotonic(),
                                            self.params.query_wait_max_s):
            self._answer(request)

    def _serve_deferred(self) -> None:
        self.scheduler.deferred.serve(self._last_frame_s, self.params.sync_tolerance_s,
                                      time.monotonic(), self._answer_held)

    def _answer_held(self, request: dict[str, Any], late: bool) -> None:
        if late:
            self.scheduler.count('requests_answered_before_frames')
        self._answer(request)

    def _answer(self, request: Any) -> None:
        if isinstance(request, dict) and request.get('now_s') is None:
            # Answer as of the node's clock (sim time under use_sim_time, wall time on a
            # robot): staleness grows while the robot is not looking.
            clock_s = self.get_clock().now().nanoseconds * 1e-9
            request = {**request, 'now_s': max(clock_s, self.service.memory.now_s)}
        try:
            if isinstance(request, dict) and request.get('scope') == 'fleet':
                reply = self._answer_from_fleet(request)
            else:
                reply = self.service.handle(request)
        except Exception as exc:  # e.g. the question parser is not installed
            request_id = request.get('id') if isinstance(request, dict) else None
            reply = {'id': request_id, 'ok': False, 'error': f'{type(exc).__name__}: {exc}'}
            self.scheduler.count('request_failures')
            self.get_logger().warning(f'request {request_id!r} failed: {exc!r}')
        self._answer_pub.publish(String(data=json.dumps(reply, default=str)))

    def _answer_from_fleet(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._fleet is None:
            self.scheduler.count('fleet_requests_without_fleet')
            return {'id': request.get('id'), 'ok': False,
                    'error': 'this memory node has no fleet (set fleet_dsn and robot_id)'}
        self.service.flush()  # what this robot has just seen counts before it is shipped
        return self._fleet.handle(request)

    # ------------------------------------------------------------ publishing
    def _publish_markers(self) -> None:
        memory = self.service.memory
        now = memory.now_s
        graph = memory.at(now).scene_graph()
        relations = [(a, b, str(k)) for a, b, k in graph.edges() if k in OBJECT_RELATIONS]
        self._markers_pub.publish(memory_markers(
            self._layout(), self.service.object_markers(now), relations, list(self._path),
            self.params.map_frame))

    def stats(self) -> dict[str, Any]:
        """Return everything diagnostics reports, as nested plain values."""
        with self.scheduler.cond:
            sync = self.assembler.stats()
            counts = dict(self.scheduler.counts)
            queued = self.scheduler.queued()
        latency, middleware = list(self._latency_ms), list(self._middleware_ms)
        ingest_ms, walls = list(self._ingest_ms), list(self._ingest_wall_s)
        rate = (len(walls) - 1) / (walls[-1] - walls[0]) if len(walls) > 1 and \
            walls[-1] > walls[0] else 0.0
        service = self._service_stats
        store = self.service.store
        dropped = dict(sync['dropped'])
        dropped.update({k: v for k, v in counts.items()
                        if k == 'ingest_queue_full' or k.startswith('transport_lost')})
        malformed = Counter(sync['malformed'])
        callback_errors = {}
        for key, n in counts.items():
            kind, _, what = key.partition('.')
            if kind == 'malformed':
                malformed[what] += n
            elif kind == 'callback_errors':
                callback_errors[what] = n
        return {
            'frames': {'received': sync['received'].get('depth', 0), 'paired': sync['matched'],
                       'built': sync['frames_built'], 'ingested': self._ingested,
                       'accepted': service['frames_accepted'], 'queued': queued},
            'ingest_rate_hz': round(rate, 3),
            'ingest_ms_p50': _percentile(ingest_ms, 50),
            'ingest_ms_p95': _percentile(ingest_ms, 95),
            'latency_ms_p50': _percentile(latency, 50),
            'latency_ms_p95': _percentile(latency, 95),
            'middleware_ms_p50': _percentile(middleware, 50),
            'middleware_ms_p95': _percentile(middleware, 95),
            'received': sync['received'],
            'dropped': dropped,
            'discarded': sync['discarded'],
            'malformed': dict(malformed),
            'callback_errors': callback_errors,
            'rejected': sync['rejected'],
            'skipped': service['frames_skipped'],
            'segments_skipped': service['segments_skipped'],
            'memory': {k: service[k] for k in ('objects_in_memory', 'tracks', 'events',
                                               'created', 'moved', 'lost', 'state_changed',
                                               'store_bytes')},
            'requests': service['requests'],
            'request_errors': service['request_errors'] + counts.get('request_failures', 0),
            'requests_waiting': len(self.scheduler.deferred),
            'errors': {k: v for k, v in counts.items() if k in (
                'worker_errors', 'ingest_error', 'requests_answered_before_frames',
                'world_mismatch')},
            'layout': {'rooms': len(self._layout().rooms), 'places': len(self._layout().places)},
            'last_frame_stamp_s': self._last_frame_s if self._last_frame_s is not None else 0.0,
            'store': {'bytes': service['store_bytes'],
                      'pending_events': service['store_pending_events'],
                      'failures': service['store_failures'],
                      'last_commit_age_s': round(store.last_commit_age_s, 1) if store else 0.0,
                      'disk_free_mb': round(disk_free_mb(self.db_path), 1)},
            'rss_mb': round(rss_mb(), 1),
            **({'fleet': self._fleet.stats()} if self._fleet is not None else {}),
        }

    def _publish_diagnostics(self) -> None:
        if self._dirty:
            self._dirty = False
            self.service.flush()
        self._service_stats = self.service.diagnostics()
        stats = self.stats()
        problems = sum(sum(stats[k].values()) for k in ('dropped', 'malformed', 'rejected',
                                                         'callback_errors'))
        level, message = DiagnosticStatus.OK, 'ingesting'
        store, p = stats['store'], self.params
        if self._wrong_world is not None:
            level, message = DiagnosticStatus.ERROR, f'{self._wrong_world}: frames refused'
        elif self.service.store_error:
            level = DiagnosticStatus.ERROR
            message = (f'the memory file cannot be written ({self.service.store_error}): '
                       f'mapping goes on, {store["pending_events"]} events wait and are retried')
        elif store['pending_events'] and store['last_commit_age_s'] > p.commit_age_warn_s:
            level, message = DiagnosticStatus.WARN, 'no commit for ' \
                f'{store["last_commit_age_s"]:.0f} s'
        elif store['disk_free_mb'] < p.disk_free_warn_mb:
            level = DiagnosticStatus.WARN
            message = f'{store["disk_free_mb"]:.0f} MB free on the memory file\'s disk'
        elif self._fleet is not None and self._fleet.refused:
            level, message = DiagnosticStatus.ERROR, self._fleet.refused
        elif self._fleet is not None and not stats['fleet']['connected']:
            level = DiagnosticStatus.WARN
            message = (f'fleet server not reachable ({stats["fleet"]["error"]}): '
                       f'{stats["fleet"]["backlog"]} events wait')
        elif stats['rss_mb'] > p.rss_warn_mb:
            level, message = DiagnosticStatus.WARN, f'resident memory {stats["rss_mb"]:.0f} MB'
        elif problems > self._last_problems:
            level = DiagnosticStatus.WARN
            message = f'{problems - self._last_problems} messages dropped, malformed or rejected'
        elif self.params.require_layout and not stats['layout']['rooms']:
            level, message = DiagnosticStatus.WARN, 'waiting for a layout (map/layout)'
        self._last_problems = problems
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [diagnostic_status('memory_node: ingest', stats, level, message)]
        self._diag_pub.publish(array)

    def _on_params_changed(self, old: MemoryNodeParams, new: MemoryNodeParams) -> None:
        """Apply the live parameters that a component holds a copy of."""
        self.assembler.sync.tolerance_s = new.sync_tolerance_s

    def destroy_node(self) -> None:
        """Stop the worker (it ingests what is queued), commit, close the file, destroy."""
        self.scheduler.stop()
        self._worker.join(timeout=30.0)  # each frame it still ingests is teardown progress
        teardown_progress()
        try:
            self._service_stats = self.service.diagnostics()
            stats = self.stats()
            self.get_logger().info(
                f'closing {self.db_path}: frames {stats["frames"]}, dropped '
                f'{stats["dropped"]}, malformed {stats["malformed"]}, rejected '
                f'{stats["rejected"]}, skipped {stats["skipped"]}')
            self.service.close()
            teardown_progress()
            if self._fleet is not None:
                self._fleet.close()
                teardown_progress()
        finally:
            super().destroy_node()


# The executor thread must get the GIL back quickly from the ingestion worker: with the default
# 5 ms switch interval, image callbacks waited up to that long (bench ros: p95 9.7 → 7.1 ms).
GIL_SWITCH_INTERVAL_S = 0.001


def main(args: list[str] | None = None) -> int:
    """Run memory_node until SIGINT."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    return run_node('memory_node', MemoryNode, args)


if __name__ == '__main__':
    sys.exit(main())

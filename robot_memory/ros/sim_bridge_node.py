"""sim_bridge_node: a `SimBackend` on the standard robot topics.

Publishes `camera/color/image_raw` (rgb8), `camera/depth/image_rect` (32FC1 m),
`camera/semantic/image_raw` (32SC1 instance ids), `camera/semantic/labels` (String JSON with
the frame's stamp inside, transient-local), `camera/color/camera_info`, `camera/pose`
(PoseStamped in `map`), `odom`, `map/layout` (rooms and places, String JSON, transient-local),
`diagnostics`, and `/clock` when `use_sim_time` is true. Takes `goal_pose` (PoseStamped in
`map`: drive to the nearest place, streaming frames, look around, then stop — arrival shows as
an `odom` at the goal with zero twist) and `cmd_vel`, and serves Nav2's `navigate_to_pose`
action (`navigation: nav2`, where nav2_msgs is installed) with the same drive: feedback at
every frame (current pose, distance left along the path, navigation time), succeeded after the
look-around, aborted when the goal is off the map (error 204, farther than `goal_tolerance_m`
from every place) or has no path (208), canceled at the client's request (the robot stops
where its last frame showed it); a newer NavigateToPose goal pre-empts the one under way
(aborted), a `goal_pose` waits for it.

The simulator computes a whole trip at once; its frames are then published one per tick at
`frame_rate_hz`, so subscribers see a camera stream at a steady rate. QoS: `qos.py`.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from robot_memory.bounded import check_number
from robot_memory.core.drive import GOAL_OUTSIDE_MAP, NO_VALID_PATH, goal_place, remaining_path_m
from robot_memory.core.types import Frame, StampedPose
from robot_memory.exceptions import BlockedPoseError, InvalidInputError, RobotMemoryError
from robot_memory.perception.class_segments import LabelSpace, class_image, load_label_space
from robot_memory.ros import qos
from robot_memory.ros.conversions import (
    POSITION_LIMIT_M,
    camera_info_msg,
    diagnostic_status,
    image_msg,
    labels_msg,
    odometry_msg,
    pose_msg,
    stamp_msg,
)
from robot_memory.ros.nav2 import NavGoal, NavServer, navigate_to_pose_type
from robot_memory.ros.params import SimBridgeParams, declare_params
from robot_memory.ros.runtime import CallbackGuard, run_node

if TYPE_CHECKING:
    from robot_memory.sim.base import SimBackend

__all__ = ['SPEED_LIMIT', 'SimBridgeNode', 'main', 'make_backend']

SPEED_LIMIT = 100.0
"""Largest |linear.x| (m/s) and |angular.z| (rad/s) a cmd_vel may ask for: a simulated room is
metres across, so a faster command is no command (and 1e300 would put the robot at infinity)."""


def make_backend(params: SimBridgeParams) -> SimBackend:
    """Build the simulator a bridge parameter set names."""
    if params.backend == 'habitat':
        from robot_memory.sim.habitat import HabitatConfig, HabitatSim

        if not params.habitat_config:
            raise InvalidInputError('backend habitat needs habitat_config: a HabitatConfig '
                                    'YAML such as config/habitat.yaml (docs/habitat.md)')
        try:
            return HabitatSim(HabitatConfig.from_yaml(params.habitat_config))
        except ImportError as exc:  # habitat_sim comes from conda only
            raise InvalidInputError(str(exc)) from None
    from robot_memory.sim.backend import BuiltinSim, SimConfig, load_scenario
    from robot_memory.sim.renderer import CameraConfig

    if params.scenario_file:
        config = load_scenario(params.scenario_file)
    else:
        config = SimConfig(world=params.world, seed=params.seed)
    camera = replace(config.camera if isinstance(config.camera, CameraConfig) else
                     CameraConfig(), width=params.width_px, height=params.height_px,
                     hfov_deg=params.hfov_deg)
    if params.detector:
        from robot_memory.sim.detector import load_detector

        config = replace(config, detector=load_detector(params.detector))
    rooms = tuple(r.strip() for r in params.patrol_rooms.split(',') if r.strip())
    return BuiltinSim(replace(config, camera=camera, look_around_views=params.look_around_views,
                              **({'patrol_rooms': rooms} if rooms else {})))


def _label_space(params: SimBridgeParams) -> LabelSpace:
    if params.label_space_file:
        return load_label_space(params.label_space_file)
    if params.backend != 'builtin':
        raise InvalidInputError("segmentation 'class' with another backend than builtin needs "
                                'label_space_file')
    from robot_memory.sim.world import label_space

    return label_space()


def _base_pose(frame: Frame, odom_frame: str) -> StampedPose:
    """Place the robot base under the camera, facing along the optical axis."""
    m = frame.map_T_camera
    yaw = math.atan2(float(m[1, 2]), float(m[0, 2]))
    return StampedPose(frame.stamp_s, (float(m[0, 3]), float(m[1, 3]), 0.0),
                       (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)), odom_frame)


class SimBridgeNode(Node):
    """Drives a simulator from goals and velocity commands; publishes what it senses."""

    def __init__(self, backend: Any = None, **kwargs: Any) -> None:
        super().__init__('sim_bridge_node', **kwargs)
        self.params = p = declare_params(self, SimBridgeParams)
        self.sim = backend if backend is not None else make_backend(p)
        self.layout = self.sim.scene_graph()
        self.label_space = _label_space(p) if p.segmentation == 'class' else None
        # What the simulator found about its scene (Habitat: unreachable rooms, semantics).
        self.scene_diagnostics: dict[str, Any] = dict(getattr(self.sim, 'diagnostics', {}))
        self.use_sim_time = bool(self.get_parameter('use_sim_time').value)
        self.counts: Counter[str] = Counter()
        self._work: Iterator[Frame] | None = None
        self._streaming = False  # a stream (endless) is running or paused for a goal
        self._start_pending = p.mode in ('patrol', 'stream')
        self._goal_place: str | None = None
        self._goal_pending: tuple[str, NavGoal | None] | None = None  # place, its action goal
        self._nav: NavGoal | None = None  # the action goal of the trip under way
        self._previous: tuple[float, float, float, float] | None = None
        self._cmd: tuple[float, float, float] | None = None  # v, w, monotonic time
        self._last_cmd_frame = 0.0
        self._ready_since: float | None = None

        sensor = qos.sensor(p.sensor_queue_msgs, p.sensor_qos_reliable)
        self._pubs = {
            'color': self.create_publisher(Image, 'camera/color/image_raw', sensor),
            'depth': self.create_publisher(Image, 'camera/depth/image_rect', sensor),
            'semantic': self.create_publisher(Image, 'camera/semantic/image_raw', sensor),
            'labels': self.create_publisher(String, 'camera/semantic/labels',
                                            qos.latched(p.sensor_queue_msgs)),
            'info': self.create_publisher(CameraInfo, 'camera/color/camera_info', sensor),
            'pose': self.create_publisher(PoseStamped, 'camera/pose', sensor),
        }
        self._odom_pub = self.create_publisher(Odometry, 'odom', qos.reliable())
        self._layout_pub = self.create_publisher(String, 'map/layout', qos.latched())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', qos.reliable())
        self._clock_pub = (self.create_publisher(ClockMsg, '/clock', qos.reliable(1))
                           if self.use_sim_time else None)
        group = MutuallyExclusiveCallbackGroup()
        # Every subscription callback runs inside this guard: what a message raises is counted
        # (malformed.<topic>:<reason>, callback_errors.<topic>:<type>), never raised.
        self._guard = CallbackGuard(self.get_logger(), self._count_refused)
        self.create_subscription(PoseStamped, 'goal_pose',
                                 self._guard.wrap('goal_pose', self._on_goal), qos.reliable(),
                                 callback_group=group)
        self.create_subscription(Twist, 'cmd_vel', self._guard.wrap('cmd_vel', self._on_cmd_vel),
                                 qos.reliable(), callback_group=group)
        self._nav_server: NavServer | None = None
        if p.navigation == 'nav2':
            action = navigate_to_pose_type()
            if action is None:
                self.get_logger().warning("navigation 'nav2' needs nav2_msgs, which is not "
                                          'installed: goals on goal_pose only')
            else:
                self._nav_server = NavServer(self, action, self._guard, self._check_nav_goal)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / p.frame_rate_hz, self._on_frame_tick, group, clock=steady)
        self.create_timer(p.clock_period_s, self._on_idle_tick, group, clock=steady)
        self.create_timer(1.0, self._publish_diagnostics, group, clock=steady)
        # The world memory_node's file belongs to (`MemoryNodeParams.world_id`), as bringup
        # and sim.launch.py name it; sent with the layout so memory_node can check it.
        self.world_id = (f'builtin:{self.sim.config.world}:{self.sim.config.seed}'
                         if p.backend == 'builtin' else
                         f'habitat:{self.sim.config.scene_path}:{self.sim.config.seed}')
        self._publish_layout()
        self._publish_stopped()
        k = self.sim.intrinsics
        scene = (f'{p.world}, seed {p.seed}' if p.backend == 'builtin' else
                 f'{self.sim.config.scene_path}, seed {self.sim.config.seed}')

        self.get_logger().info(
            f'{p.backend} simulator ({scene}), {k.width}x{k.height} at {p.frame_rate_hz:g} Hz, '
            f'mode {p.mode}; {len(self.layout.rooms)} rooms, {len(self.layout.places)} places')
        for problem in ('unreachable_rooms', 'unreachable_places'):
            if self.scene_diagnostics.get(problem):
                self.get_logger().warning(
                    f'{problem.replace("_", " ")}: {", ".join(self.scene_diagnostics[problem])}')

    # ------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """Whether frames of a patrol, goal or stream are still to be published."""
        return self._work is not None or self._start_pending or self._goal_pending is not None

    @property
    def navigation(self) -> str:
        """Goals taken: 'nav2' (the action and goal_pose) or 'goal_pose' (the topic only)."""
        return 'nav2' if self._nav_server is not None else 'goal_pose'

    @property
    def frames_published(self) -> int:
        """Frames published so far."""
        return self.counts['frames_published']

    # ------------------------------------------------------------ inputs
    def _count_refused(self, kind: str, key: str) -> None:
        self.counts[f'{kind}.{key}'] += 1

    def _check_goal(self, msg: PoseStamped) -> tuple[float, float]:
        """x, y of a goal; raises `InvalidInputError` unless finite, sane and in `map`."""
        x, y = msg.pose.position.x, msg.pose.position.y
        if msg.header.frame_id not in (self.params.map_frame, '') or \
                not (math.isfinite(x) and math.isfinite(y)) or \
                max(abs(x), abs(y)) > POSITION_LIMIT_M:
            raise InvalidInputError(f'goal ({x}, {y}) in {msg.header.frame_id[:80]!r} '
                                    f'rejected: needs x, y within {POSITION_LIMIT_M:g} m in '
                                    f'{self.params.map_frame!r}')
        return x, y

    def _on_goal(self, msg: PoseStamped) -> None:
        try:
            x, y = self._check_goal(msg)
        except InvalidInputError as exc:
            self.counts['goals_rejected'] += 1
            self.get_logger().warning(str(exc))
            return
        place = self.layout.nearest_place(x, y)
        if place is None:
            self.counts['goals_rejected'] += 1
            return
        self.counts['goals_received'] += 1
        self._set_pending(place, None)
        self.get_logger().info(f'goal ({x:.2f}, {y:.2f}) → {place}')

    def _check_nav_goal(self, msg: PoseStamped) -> None:
        """Refuse a NavigateToPose goal that is no pose in `map` (run outside the node's
        callback group, so it only reads parameters)."""
        try:
            self._check_goal(msg)
        except InvalidInputError:
            self.counts['nav_goals_rejected'] += 1
            raise

    def _set_pending(self, place: str, nav: NavGoal | None) -> None:
        """Drive to `place` next (for the action goal `nav`), replacing a goal not started."""
        if self._goal_pending is not None:
            self.counts['goals_replaced'] += 1
            replaced = self._goal_pending[1]
            if replaced is not None:
                self.counts['nav_goals_preempted'] += 1
                replaced.abort(0, 'preempted by a newer goal')
        self._goal_pending = (place, nav)

    def _take_nav_goals(self) -> None:
        """Start on the goals the action server accepted; a newer one pre-empts the trip."""
        server = self._nav_server
        while server is not None and (goal := server.take()) is not None:
            self.counts['nav_goals_accepted'] += 1
            if goal.cancel_requested:
                self.counts['nav_goals_canceled'] += 1
                goal.canceled()
                continue
            position = goal.pose.pose.position
            try:
                goal.place = goal_place(self.layout, position.x, position.y,
                                        self.params.goal_tolerance_m)
            except InvalidInputError as exc:
                self.counts['nav_goals_aborted'] += 1
                self.get_logger().warning(f'NavigateToPose goal aborted: {exc}')
                goal.abort(GOAL_OUTSIDE_MAP, str(exc))
                continue
            self.get_logger().info(f'NavigateToPose ({position.x:.2f}, {position.y:.2f}) → '
                                   f'{goal.place}')
            if self._nav is not None:  # Nav2 drops the goal under way for the new one
                self.counts['nav_goals_preempted'] += 1
                self._stop_trip().abort(0, 'preempted by a newer goal')
            self._set_pending(goal.place, goal)

    def _check_nav_cancel(self) -> None:
        pending = self._goal_pending
        if pending is not None and pending[1] is not None and pending[1].cancel_requested:
            self._goal_pending = None
            self.counts['nav_goals_canceled'] += 1
            pending[1].canceled()
        if self._nav is not None and self._nav.cancel_requested:
            self.counts['nav_goals_canceled'] += 1
            self._stop_trip().canceled()

    def _stop_trip(self) -> NavGoal:
        """Stop the action goal's trip where its last frame showed the robot; that goal."""
        nav, self._nav = self._nav, None
        assert nav is not None
        # The simulator computed the whole trip at once: put the robot back where it was seen.
        if self._previous is not None:
            _, x, y, yaw = self._previous
            with contextlib.suppress(BlockedPoseError):
                self.sim.teleport(x, y, yaw)
        self._finish_work()
        return nav

    def _nav_feedback(self, nav: NavGoal, frame: Frame) -> None:
        base = _base_pose(frame, self.params.map_frame)
        nav.feedback(pose_msg(base), remaining_path_m(nav.waypoints, base.position_m[:2]),
                     frame.stamp_s - nav.start_s, nav.trip_end_s - frame.stamp_s)

    def _on_cmd_vel(self, msg: Twist) -> None:
        try:
            v = check_number(msg.linear.x, 'linear.x', low=-SPEED_LIMIT, high=SPEED_LIMIT)
            w = check_number(msg.angular.z, 'angular.z', low=-SPEED_LIMIT, high=SPEED_LIMIT)
        except InvalidInputError:
            self.counts['cmd_vel_rejected'] += 1
            return
        self._cmd = (v, w, time.monotonic())

    # ------------------------------------------------------------ work
    def _subscribers_ready(self) -> bool:
        wanted = self.params.start_after_subscribers
        if wanted > 0 and self._camera_subscribers() < wanted:
            return False
        if self._ready_since is None:
            self._ready_since = time.monotonic()
        return time.monotonic() - self._ready_since >= self.params.start_delay_s

    def _camera_subscribers(self) -> int:
        """Subscribers of the least-followed camera topic this bridge publishes on."""
        return min(pub.get_subscription_count() for name, pub in self._pubs.items()
                   if not (name == 'labels' and self.label_space is not None))

    def _next_work(self) -> Iterator[Frame] | None:
        if self._start_pending:
            if not self._subscribers_ready():
                return None
            self._start_pending = False
            self._streaming = self.params.mode == 'stream'
            return self._stream() if self._streaming else self._patrol()
        if self._goal_pending is not None:
            (place, self._nav), self._goal_pending = self._goal_pending, None
            self._goal_place = place
            return self._goal(place, self._nav)
        if self._streaming:  # after a goal, the stream goes on from where the robot is
            return self._stream()
        return None

    def _patrol(self) -> Iterator[Frame]:
        first = self.params.patrol_start_day
        for day in range(first, first + self.params.patrol_days):
            self.get_logger().info(f'patrol of day {day}')
            yield from self.sim.patrol_day(day)

    def _goal(self, place: str, nav: NavGoal | None) -> Iterator[Frame]:
        start_s = self.sim.now_s
        trip = self.sim.go_to(place)
        if nav is not None:
            nav.start_s, nav.trip_end_s = start_s, start_s + trip.duration_s
            nav.waypoints = [self.layout.get_place(p).position_m[:2] for p in trip.path
                             if self.layout.has_node(p)]
        yield from trip.frames
        yield from self.sim.look_around(self.params.look_around_views)
        self.counts['goals_reached'] += 1

    def _stream(self) -> Iterator[Frame]:
        # Rendered once: the stream measures transport, not the renderer.
        views = self.sim.look_around(self.params.look_around_views)
        period = 1.0 / self.params.frame_rate_hz
        k = 0
        while True:
            self.sim.step(period)
            yield replace(views[k % len(views)], stamp_s=self.sim.now_s, frame_index=k)
            k += 1

    def _on_frame_tick(self) -> None:
        self._take_nav_goals()
        self._check_nav_cancel()
        if self._streaming and self._goal_pending is not None and self._goal_place is None:
            self._work = None  # a goal pre-empts the endless stream
        if self._work is None:
            self._work = self._next_work()
            if self._work is None:
                return
        try:
            frame = next(self._work)
        except StopIteration:
            self._finish_work()
            return
        except RobotMemoryError as exc:
            self.counts['goals_failed'] += 1
            self.get_logger().error(f'simulator refused: {exc}')
            if self._nav is not None:
                self.counts['nav_goals_aborted'] += 1
                self._stop_trip().abort(NO_VALID_PATH, str(exc))
            else:
                self._finish_work()
            return
        self.publish_frame(frame)
        if self._nav is not None:
            self._nav_feedback(self._nav, frame)

    def _finish_work(self) -> None:
        self._work = None
        self._goal_place = None
        self._publish_stopped()
        if self._nav is not None:  # its trip and look-around are done
            self.counts['nav_goals_succeeded'] += 1
            self._nav, nav = None, self._nav
            nav.succeed()

    def _on_idle_tick(self) -> None:
        if self.busy:
            return
        dt = self.params.clock_period_s
        if self._cmd is not None and time.monotonic() - self._cmd[2] <= \
                self.params.cmd_vel_timeout_s:
            self._drive(self._cmd[0], self._cmd[1], dt)
            return
        if self.params.idle_time_scale > 0:
            self.sim.step(dt * self.params.idle_time_scale)
        self._publish_stopped()

    def _drive(self, v: float, w: float, dt: float) -> None:
        """Integrate a velocity command (no collision checking in the built-in world)."""
        pose = self.sim.pose
        yaw = pose.yaw_rad + w * dt
        x, y, _ = pose.position_m
        try:
            self.sim.teleport(x + v * math.cos(yaw) * dt, y + v * math.sin(yaw) * dt, yaw)
        except BlockedPoseError:
            self.counts['cmd_vel_blocked'] += 1  # an obstacle ahead: stay
            return
        self.sim.step(dt)
        now = time.monotonic()
        if now - self._last_cmd_frame >= 1.0 / self.params.frame_rate_hz:
            self._last_cmd_frame = now
            self.publish_frame(self.sim.observe())
        else:
            self._publish_odom(self.sim.pose, v, w)

    # ------------------------------------------------------------ outputs
    def publish_frame(self, frame: Frame) -> None:
        """Publish one frame on the camera topics, with odom and /clock at its stamp."""
        t = frame.stamp_s
        p = self.params
        self._publish_clock(t)
        if self.label_space is None:
            self._pubs['labels'].publish(labels_msg(frame.labels, t, frame.frame_index))
        self._pubs['info'].publish(camera_info_msg(frame.intrinsics, t, p.camera_frame))
        self._pubs['pose'].publish(pose_msg(StampedPose.from_matrix(t, frame.map_T_camera,
                                                                    p.map_frame)))
        self._pubs['color'].publish(image_msg(frame.rgb, 'rgb8', t, p.camera_frame))
        if self.label_space is None:
            self._pubs['semantic'].publish(image_msg(frame.segments.astype('<i4'), '32SC1', t,
                                                     p.camera_frame))
        else:  # what a semantic segmentation network would publish
            classes = class_image(frame.segments, frame.labels, self.label_space)
            self._pubs['semantic'].publish(image_msg(classes.astype('<u2'), 'mono16', t,
                                                     p.camera_frame))
        # Depth last: it is the memory node's anchor stream, so its partners are already there.
        self._pubs['depth'].publish(image_msg(frame.depth_m.astype('<f4'), '32FC1', t,
                                              p.camera_frame))
        base = _base_pose(frame, p.odom_frame)
        v = w = 0.0
        if self._previous is not None:
            t0, x0, y0, yaw0 = self._previous
            dt = t - t0
            if 0 < dt < 10.0:
                x, y, _ = base.position_m
                v = math.hypot(x - x0, y - y0) / dt
                w = math.remainder(base.yaw_rad - yaw0, math.tau) / dt
        self._publish_odom(base, v, w)
        self.counts['frames_published'] += 1

    def _publish_odom(self, pose: StampedPose, v: float, w: float) -> None:
        odom = replace(pose, frame_id=self.params.odom_frame)
        self._previous = (odom.stamp_s, odom.position_m[0], odom.position_m[1], odom.yaw_rad)
        self._odom_pub.publish(odometry_msg(odom, self.params.base_frame, v, w))

    def _publish_stopped(self) -> None:
        self._publish_clock(self.sim.now_s)
        self._publish_odom(self.sim.pose, 0.0, 0.0)

    def _publish_clock(self, stamp_s: float) -> None:
        if self._clock_pub is not None:
            self._clock_pub.publish(ClockMsg(clock=stamp_msg(stamp_s)))

    def _publish_layout(self) -> None:
        payload = {'stamp': {'sec': (t := stamp_msg(self.sim.now_s)).sec,
                             'nanosec': t.nanosec},
                   'frame_id': self.params.map_frame, 'world_id': self.world_id,
                   'layout': self.layout.to_dict(),
                   'diagnostics': self.scene_diagnostics}
        self._layout_pub.publish(String(data=json.dumps(payload)))

    def _publish_diagnostics(self) -> None:
        values = {
            'mode': self.params.mode, 'navigation': self.navigation, 'busy': self.busy,
            'sim_time_s': self.sim.now_s,
            'place': getattr(self.sim, 'place_id', ''), 'goal': self._goal_place or '',
            'subscribers': self._camera_subscribers(),
            **{k: v for k, v in sorted(self.counts.items())},
        }
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [diagnostic_status('sim_bridge_node: simulator', values,
                                          message='busy' if self.busy else 'idle')]
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        """Release the simulator, then destroy the node."""
        for goal in (self._nav, self._goal_pending[1] if self._goal_pending else None):
            if goal is not None:
                goal.abort(0, 'the simulator is shutting down')
        try:
            self.sim.close()
        finally:
            super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Run sim_bridge_node until SIGINT."""
    return run_node('sim_bridge_node', SimBridgeNode, args)


if __name__ == '__main__':
    sys.exit(main())

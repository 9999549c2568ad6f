"""Node parameters: frozen dataclasses mirroring `config/*.yaml`, declared with descriptions.

Each field carries its description in `metadata`; `declare_params(node, Cls)` declares every
field once with `declare_parameter(name, default, ParameterDescriptor(description=…))` and
builds the frozen value the node keeps. Units are in the names (`_s`, `_m`, `_hz`, `_px`).
Types are checked here rather than by rclpy (`dynamic_typing`), so `rate: 10` in a YAML file
for a float parameter is accepted instead of failing on INTEGER vs DOUBLE.

Most parameters shape what a node builds at start (topics, queues, the memory file) and are
declared read-only: `ros2 param set` on them fails and says so. Parameters marked `live` are
applied while the node runs: a change is validated like a start value (the whole set is
rebuilt, so `__post_init__` checks it) and refused with the reason when invalid; the node is
then told through `on_change`. `ros2 param describe` shows each one's description, whether it
is read-only, and its range where it has one.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, TypeVar

from robot_memory.config import build, check_field
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.class_segments import SEGMENTATIONS

__all__ = [
    'BACKENDS',
    'BRIDGE_MODES',
    'NAVIGATIONS',
    'MemoryNodeParams',
    'PlannerNodeParams',
    'SimBridgeParams',
    'changed',
    'declare_params',
    'describe',
]

T = TypeVar('T')
BACKENDS = ('builtin', 'habitat')
BRIDGE_MODES = ('idle', 'patrol', 'stream')
NAVIGATIONS = ('nav2', 'goal_pose')


def _p(default: Any, description: str, *, live: bool = False,
       limits: tuple[float, float] | None = None) -> Any:
    """A parameter field: its description, whether it applies live, its allowed range."""
    return field(default=default, metadata={'description': description, 'live': live,
                                            'range': limits})


def _positive(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise InvalidInputError(f'{name} must be a positive number, got {value!r}')


def _non_negative(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InvalidInputError(f'{name} must be a number ≥ 0, got {value!r}')


def _navigation(value: str) -> None:
    if value not in NAVIGATIONS:
        raise InvalidInputError(f'navigation {value!r}; valid: {", ".join(NAVIGATIONS)}')


@dataclass(frozen=True, slots=True)
class MemoryNodeParams:
    """Parameters of `memory_node`."""

    db_path: str = _p('robot_memory.db', 'SQLite memory file (created if missing); a relative '
                                         'path lies under $ROS_HOME/robot_memory/ (~/.ros).')
    timezone: str = _p('UTC', 'IANA timezone for episode labels ("Monday morning").')
    world_id: str = _p('', "The world this memory is of (e.g. 'builtin:apartment:0', a site "
                           "name); a memory file built in another world is refused. '' checks "
                           'nothing.')
    other_world: str = _p('refuse', "A memory file of another world: 'refuse' (exit naming "
                                    "both), 'new' (move it aside, start a new memory) or "
                                    "'continue' (use it anyway).")
    commit_interval_s: float = _p(1.0, 'Longest time between store commits (s).')
    use_embeddings: bool = _p(True, 'Match object names with the text embedding model.')
    layout_file: str = _p('', 'Rooms and places: a regions YAML or SceneGraph JSON; empty: '
                              'take map/layout (or segment map_topic).')
    map_topic: str = _p('', 'nav_msgs/OccupancyGrid to segment rooms from when no layout is '
                            'given (e.g. map); empty: off.')
    door_width_m: float = _p(1.0, 'Widest doorway when segmenting rooms from the map (m).')
    pose_source: str = _p('topic', "Camera pose: 'topic' (camera/pose, PoseStamped in "
                                   "map_frame) or 'tf' (map_frame → camera_frame, needs "
                                   'tf2_ros).')
    camera_frame: str = _p('camera_color_optical_frame', 'Optical frame of the camera, for '
                                                         "pose_source 'tf'.")
    require_layout: bool = _p(True, 'Hold frames until rooms and places are known.')
    absent_confirm_views: int = _p(0, 'Views of an empty spot that confirm an object is gone '
                                      '(0: as many as the miss rate learned per class calls '
                                      'for, 1 for a detector that never misses).')
    infer_moves: bool = _p(True, 'Take a lost object for the one newcomer like it found '
                                 "since, and at a patrol's end a held newcomer for the one "
                                 'look-alike not seen all patrol (undone if it turns up at '
                                 'home); false: moves only with proof.')
    min_confidence: float = _p(0.0, 'Detector score below which a segment is ignored (0 '
                                    'keeps all; labels without a score count as 1).',
                               limits=(0.0, 1.0))
    color_gate: bool = _p(True, "A detection whose known colour differs from an object's "
                                'is never that object, while the detector names colours '
                                'reliably (learned online); false: it only weighs against.')
    map_frame: str = _p('map', 'Fixed frame of camera poses and markers (REP-105).')
    sync_tolerance_s: float = _p(0.02, 'Largest stamp difference paired into one frame (s).',
                                 limits=(0.0, 1.0), live=True)
    sync_queue_frames: int = _p(30, 'Frames waiting for their partner messages, at most.')
    require_color: bool = _p(True, 'Pair colour images into frames (false: depth + ids only).')
    segmentation: str = _p('instance', "What camera/semantic/image_raw carries: 'instance' ids "
                                       "with a label map on camera/semantic/labels, or 'class' "
                                       'ids of a label space (split into objects by depth).')
    label_space_file: str = _p('', "Class id → name (YAML or CSV) for segmentation 'class'.")
    label_info_topic: str = _p('', "vision_msgs/LabelInfo topic with the label space for "
                                   "segmentation 'class' (needs vision_msgs); '' off.")
    class_min_px: int = _p(40, 'Smallest object piece of a class image (pixels at 640x480).',
                               limits=(1, 100000))
    class_depth_jump_m: float = _p(0.05, 'Depth step (plus 5 % of the depth) that separates '
                                         'two objects of one class in a class image (m).',
                                   limits=(0.0, 5.0))
    ingest_queue_frames: int = _p(30, 'Paired frames waiting for ingestion (oldest dropped).')
    sensor_qos_reliable: bool = _p(False, 'Reliable sensor subscriptions (needs reliable '
                                          'publishers); false: best effort, matches any.')
    sensor_queue_msgs: int = _p(10, 'Depth of the sensor subscription queues (messages).')
    markers_period_s: float = _p(1.0, 'Period of memory/markers (wall clock, s).')
    diagnostics_period_s: float = _p(1.0, 'Period of diagnostics (wall clock, s).')
    robot_path_spacing_m: float = _p(0.1, 'Closest spacing of robot path points (m).',
                                     limits=(0.0, 10.0), live=True)
    robot_path_max_points: int = _p(5000, 'Robot path points kept for markers.')
    query_wait_max_s: float = _p(5.0, 'Longest a request with wait_for_stamp_s is held (s).',
                                 limits=(0.0, 60.0), live=True)
    latency_window_frames: int = _p(300, 'Frames in the latency and rate statistics.')
    disk_free_warn_mb: float = _p(500.0, "Diagnostics warn when the memory file's disk has "
                                         'less free space than this (MB).',
                                  limits=(0.0, 1e7), live=True)
    rss_warn_mb: float = _p(4000.0, "Diagnostics warn when the node's resident memory exceeds "
                                    'this (MB).', limits=(0.0, 1e7), live=True)
    commit_age_warn_s: float = _p(30.0, 'Diagnostics warn when no commit succeeded for this '
                                        'long while events wait (s).',
                                  limits=(0.0, 1e6), live=True)
    fleet_dsn: str = _p('', 'PostgreSQL DSN of the fleet server; empty: the '
                            'ROBOT_MEMORY_FLEET_DSN environment variable, else no fleet.')
    robot_id: str = _p('', "This robot's id on the fleet server (its role is robot_<id>).")
    fleet_sync_period_s: float = _p(1.0, 'Seconds between fleet rounds (ship, then pull).',
                                    limits=(0.05, 3600.0))

    def __post_init__(self) -> None:
        _positive(self, 'commit_interval_s', 'sync_queue_frames', 'ingest_queue_frames',
                  'sensor_queue_msgs', 'markers_period_s', 'diagnostics_period_s',
                  'robot_path_max_points', 'latency_window_frames')
        _non_negative(self, 'sync_tolerance_s', 'robot_path_spacing_m', 'query_wait_max_s',
                      'absent_confirm_views')
        _positive(self, 'door_width_m')
        if not self.db_path:
            raise InvalidInputError('db_path must name a file')
        if self.segmentation not in SEGMENTATIONS:
            raise InvalidInputError(f'segmentation {self.segmentation!r}; valid: '
                                    f'{", ".join(SEGMENTATIONS)}')
        if self.segmentation == 'class' and not (self.label_space_file or self.label_info_topic):
            raise InvalidInputError("segmentation 'class' needs label_space_file or "
                                    'label_info_topic: the names of the class ids')
        if self.pose_source not in ('topic', 'tf'):
            raise InvalidInputError(f'pose_source {self.pose_source!r}; valid: topic, tf')


@dataclass(frozen=True, slots=True)
class PlannerNodeParams:
    """Parameters of `planner_node`."""

    detection_prob: float = _p(0.9, 'Chance that looking at a place shows what is there.',
                               limits=(0.0, 1.0), live=True)
    cost_per_m: float = _p(0.004, 'Cost of travel in units of P(wrong answer) per metre.',
                           limits=(0.0, 1.0), live=True)
    confidence_stop: float = _p(0.97, 'Answer without looking once this confident.',
                                limits=(0.0, 1.0), live=True)
    max_steps: int = _p(8, 'Most places looked at for one question.', limits=(0, 100), live=True)
    arrival_tolerance_m: float = _p(0.5, 'Distance to the goal that counts as arrived (m).',
                                    limits=(0.0, 10.0), live=True)
    stopped_speed_mps: float = _p(0.05, 'Speed below which the robot counts as stopped (m/s, '
                                        'rad/s).', limits=(0.0, 5.0), live=True)
    goal_timeout_s: float = _p(120.0, 'Give a goal up after this long (wall clock, s).',
                               limits=(0.0, 3600.0), live=True)
    memory_timeout_s: float = _p(15.0, 'Resend a memory request after this long (wall, s).',
                                 limits=(0.0, 600.0), live=True)
    memory_retries: int = _p(2, 'Resends of a memory request before answering with an error.',
                             limits=(0, 100), live=True)
    map_frame: str = _p('map', 'Frame of goals and markers (REP-105).')
    navigation: str = _p('nav2', "How looks are driven: 'nav2' (a nav2_msgs NavigateToPose "
                                 'client of navigate_to_pose: arrival is its result; goal_pose '
                                 "where nav2_msgs is not installed) or 'goal_pose' (publish a "
                                 'PoseStamped, arrival seen on odom).')
    fleet_dsn: str = _p('', 'Answer from the whole fleet when this (or the '
                            'ROBOT_MEMORY_FLEET_DSN environment variable) is set; memory_node '
                            'holds the connection, the planner sends no DSN anywhere.')

    def __post_init__(self) -> None:
        if not 0 < self.detection_prob <= 1 or not 0 < self.confidence_stop <= 1:
            raise InvalidInputError(f'detection_prob and confidence_stop must be in (0, 1], '
                                    f'got {self.detection_prob}, {self.confidence_stop}')
        _positive(self, 'arrival_tolerance_m', 'goal_timeout_s', 'memory_timeout_s')
        _non_negative(self, 'cost_per_m', 'max_steps', 'stopped_speed_mps', 'memory_retries')
        _navigation(self.navigation)


@dataclass(frozen=True, slots=True)
class SimBridgeParams:
    """Parameters of `sim_bridge_node`."""

    backend: str = _p('builtin', f'Simulator backend: {", ".join(BACKENDS)}.')
    habitat_config: str = _p('', 'HabitatConfig YAML (config/habitat.yaml) for the habitat '
                                 'backend, which takes scene, camera and seed from it.')
    world: str = _p('apartment', 'World kind (apartment, house, office) or a YAML world spec '
                                 '(builtin backend).')
    seed: int = _p(0, 'World and activity seed (builtin backend).')
    scenario_file: str = _p('', 'Scenario YAML (sim/scenarios); overrides world and seed.')
    detector: str = _p('', 'Simulated detector errors: perfect, realistic, poor or a YAML of '
                           "rates (builtin backend; '' keeps the scenario's).")
    width_px: int = _p(640, 'Camera image width (px, builtin backend).')
    height_px: int = _p(480, 'Camera image height (px, builtin backend).')
    hfov_deg: float = _p(69.0, 'Camera horizontal field of view (deg, builtin backend).')
    mode: str = _p('idle', f'At start: {", ".join(BRIDGE_MODES)} (stream: re-send the dock '
                           'views with fresh stamps, for transport benchmarks).')
    patrol_days: int = _p(1, 'Days of daily patrols in patrol mode.')
    patrol_start_day: int = _p(0, 'First simulated day of the patrol (0 = Monday).')
    patrol_rooms: str = _p('', 'Comma-separated rooms every patrol visits (one robot of '
                               'several); empty: 60 % of the rooms, drawn each session.')
    frame_rate_hz: float = _p(10.0, 'Frames published per wall-clock second.')
    look_around_views: int = _p(8, 'Views of the look-around at each goal.',
                                limits=(1, 64), live=True)
    start_after_subscribers: int = _p(0, 'Wait until every camera topic has this many '
                                         'subscribers before patrolling or streaming.')
    start_delay_s: float = _p(1.0, 'Then wait this long (wall clock, s): a subscriber seen '
                                   'by the bridge may not have seen the bridge yet.',
                              limits=(0.0, 3600.0), live=True)
    idle_time_scale: float = _p(0.0, 'Simulated seconds per wall second while idle '
                                     '(0: the world waits for the robot).',
                                limits=(0.0, 3600.0), live=True)
    clock_period_s: float = _p(0.1, 'Period of /clock and odom while idle (wall clock, s).')
    cmd_vel_timeout_s: float = _p(0.5, 'Stop when cmd_vel is older than this (s).',
                                  limits=(0.0, 60.0), live=True)
    navigation: str = _p('nav2', "Goals taken: 'nav2' (serve nav2_msgs NavigateToPose on "
                                 'navigate_to_pose, as Nav2 does, and goal_pose) or '
                                 "'goal_pose' (the topic only).")
    goal_tolerance_m: float = _p(3.0, 'A NavigateToPose goal farther than this from every place '
                                      'is off the map and aborted (m).',
                                 limits=(0.0, 1000.0), live=True)
    sensor_qos_reliable: bool = _p(True, 'Reliable camera topics (no loss; best-effort '
                                         'subscribers still match).')
    sensor_queue_msgs: int = _p(10, 'History depth of the camera publishers (messages).')
    map_frame: str = _p('map', 'Fixed frame (REP-105).')
    odom_frame: str = _p('odom', 'Odometry frame (equal to map in simulation).')
    base_frame: str = _p('base_link', 'Robot base frame.')
    camera_frame: str = _p('camera_color_optical_frame', 'Camera optical frame.')
    segmentation: str = _p('instance', "camera/semantic/image_raw: 'instance' ids (32SC1) "
                                       "with a label map, or 'class' ids (mono16) of "
                                       'label_space_file, as a semantic segmentation network.')
    label_space_file: str = _p('', "Class ids for segmentation 'class' ('': the built-in "
                                   "simulator's classes, config/label_space_sim.yaml).")

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise InvalidInputError(f'backend {self.backend!r}; valid: {", ".join(BACKENDS)}')
        if self.segmentation not in SEGMENTATIONS:
            raise InvalidInputError(f'segmentation {self.segmentation!r}; valid: '
                                    f'{", ".join(SEGMENTATIONS)}')
        if self.mode not in BRIDGE_MODES:
            raise InvalidInputError(f'mode {self.mode!r}; valid: {", ".join(BRIDGE_MODES)}')
        _navigation(self.navigation)
        _positive(self, 'width_px', 'height_px', 'hfov_deg', 'frame_rate_hz',
                  'look_around_views', 'clock_period_s', 'cmd_vel_timeout_s',
                  'sensor_queue_msgs', 'goal_tolerance_m')
        _non_negative(self, 'patrol_days', 'patrol_start_day', 'start_after_subscribers',
                      'start_delay_s', 'idle_time_scale')


def describe(cls: type) -> dict[str, tuple[Any, str]]:
    """Return {name: (default, description)} of a parameter dataclass."""
    out = {}
    for f in fields(cls):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        out[f.name] = (default, f.metadata['description'])
    return out


def _lenient(cls: type, name: str, value: Any) -> Any:
    """`value` with the one leniency ROS needs: a launch argument gives a boolean as a string."""
    if (isinstance(value, str) and value.lower() in ('true', 'false')
            and typing.get_type_hints(cls)[name] is bool):
        return value.lower() == 'true'
    return value


def _finite(name: str, value: Any) -> Any:
    """`value`, unless it is a NaN or infinite number (YAML `.nan`, `.inf`): no parameter of
    these nodes means anything by one, and NaN slips through every `<` check."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f'parameter {name} must be a finite number, got {value!r}')
    return value


def _descriptor(name: str, default: Any, description: str, live: bool,
                limits: tuple[float, float] | None) -> Any:
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    descriptor = ParameterDescriptor(
        name=name, dynamic_typing=True, read_only=not live,
        description=description + ('' if live else ' Read-only: set it at start.'))
    if limits is not None:
        lo, hi = limits
        if isinstance(default, int) and not isinstance(default, bool):
            descriptor.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi))]
        else:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(lo), to_value=float(hi))]
    return descriptor


def changed(cls: type[T], current: T, updates: dict[str, Any]) -> T:
    """`current` with `updates` applied, validated like a start value.

    Raises InvalidInputError naming the parameter when a value has the wrong type, is out of
    range or is not `live` (cannot change while the node runs).
    """
    spec = {f.name: f for f in fields(cls)}
    values = {}
    for name, value in updates.items():
        if name not in spec:
            raise InvalidInputError(f'{cls.__name__} has no parameter {name!r}')
        if not spec[name].metadata['live']:
            raise InvalidInputError(f'parameter {name} is read-only: set it at start')
        value = check_field(cls, name, _finite(name, _lenient(cls, name, value)),
                            f'parameter {name}')
        limits = spec[name].metadata['range']
        if limits is not None and not limits[0] <= value <= limits[1]:
            raise InvalidInputError(f'parameter {name} must be in [{limits[0]}, {limits[1]}], '
                                    f'got {value!r}')
        values[name] = value
    return replace(current, **values)  # type: ignore[type-var]


def declare_params(node: Any, cls: type[T],
                   on_change: Callable[[T, T], None] | None = None) -> T:
    """Declare every field of `cls` on `node` and build the frozen value the node keeps.

    Fields marked `live` may be set while the node runs: a change is validated (refused with
    the reason otherwise), then `node.params` is replaced and `on_change(old, new)` called.
    Every other field is read-only.
    """
    from rcl_interfaces.msg import SetParametersResult

    values = {}
    spec = {f.name: f.metadata for f in fields(cls)}
    for name, (default, description) in describe(cls).items():
        descriptor = _descriptor(name, default, description, spec[name]['live'],
                                 spec[name]['range'])
        try:
            value = node.declare_parameter(name, default, descriptor).value
        except Exception as exc:  # rclpy's ParameterException family: e.g. .nan out of range
            reason = str(exc).split(' Reason: ')[-1].rsplit(f': {name}', 1)[0]
            raise InvalidInputError(f'parameter {name}: {reason}') from None
        values[name] = _finite(name, _lenient(cls, name, value))
    params = build(cls, values, 'parameter', sep=' ')
    ours = set(spec)
    pending: list[T] = []

    def validate(parameters: list[Any]) -> Any:
        updates = {p.name: p.value for p in parameters if p.name in ours}
        if not updates:
            return SetParametersResult(successful=True)
        try:
            pending[:] = [changed(cls, node.params, updates)]
        except InvalidInputError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def apply(parameters: list[Any]) -> None:
        if not pending or not any(p.name in ours for p in parameters):
            return
        old, node.params = node.params, pending.pop()
        node.get_logger().info('parameters set: ' + ', '.join(
            f'{p.name}={getattr(node.params, p.name)!r}' for p in parameters if p.name in ours))
        if on_change is not None:
            on_change(old, node.params)

    node.add_on_set_parameters_callback(validate)
    node.add_post_set_parameters_callback(apply)
    return params

"""planner_node: questions in → memory consulted, goals sent, arrivals awaited → answers out.

Subscribes `question` (String: English text, or JSON `{"question": …}` / `{"query": {typed}}`
with an optional `id`; `{"cancel": id}` gives a question up), `memory/answer` and `odom`.
Publishes `memory/query`, `answer` (String JSON: answer, confidence, evidence, path, rooms
visited, decisions), `planner/markers` (its candidate goals) and `diagnostics`. QoS: `qos.py`.

Looks are driven through Nav2's `navigate_to_pose` action (`navigation: nav2`, `ros/nav2.py`):
its result is the arrival, its feedback the progress (diagnostics `drive.*`); an aborted drive
is counted (`nav.aborted`) and the question replans without that place; a canceled question
cancels its drive. Where nav2_msgs is not installed, or with `navigation: goal_pose`, goals go
out on `goal_pose` (PoseStamped in `map`) and arrival = an `odom` within
`arrival_tolerance_m` of the goal with the robot stopped, after it was seen moving (a
simulated or Nav2 robot stops only when it is done, look-around included). Odometry must be
in the map frame for that test: on a real robot remap `odom` to a localised odometry.

The same questions come as goals of the `ask` action (robot_memory_interfaces/action/Ask,
`ros/interfaces.py`), where that package is built: a goal is checked (`core/ask.py`; a bad one
is rejected and counted as `malformed.ask:<reason>`), queued with the topic's questions, given
feedback at every step (phase, places looked, belief) and ended with the answer (succeeded),
no answer (aborted) or canceled when its client cancels it. Its answer also goes out on
`answer`.

The question logic is `robot_memory.core.active.ActiveQuestion` (what a drive's end means:
`robot_memory.core.drive`); this node sends what it returns and feeds back replies, arrivals
and timeouts.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from robot_memory.bounded import loads
from robot_memory.core.active import (
    ActiveQuestion,
    FinalAnswer,
    GoToPlace,
    MemoryRequest,
    Step,
)
from robot_memory.core.ask import AskLimits, ask_feedback, ask_result
from robot_memory.core.drive import DriveEnd
from robot_memory.core.planner import PlannerParams, VoIPlanner
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.fleet.link import fleet_dsn
from robot_memory.ros import qos
from robot_memory.ros.conversions import diagnostic_status, stamp_s
from robot_memory.ros.interfaces import MISSING, AskJob, AskServer, ask_action_type
from robot_memory.ros.markers import planner_markers
from robot_memory.ros.nav2 import NavClient, navigate_to_pose_type
from robot_memory.ros.params import PlannerNodeParams, declare_params
from robot_memory.ros.runtime import CallbackGuard, run_node

__all__ = ['QUESTION_MAX_BYTES', 'CancelQuestion', 'PlannerNode', 'main', 'parse_question']

QUESTION_MAX_BYTES = 64 * 1024
"""A question in words is < 1 kB, a typed one < 2 kB; longer text is refused unread."""
QUESTION_MAX_DEPTH = 16
"""A JSON question nests 4 levels (payload, query, target, attributes)."""


@dataclass(frozen=True, slots=True)
class CancelQuestion:
    """`{"cancel": id}` on `question`: give that question up (asked or still waiting)."""

    question_id: str


def parse_question(data: str) -> tuple[str | None, str | dict[str, Any] | CancelQuestion]:
    """`question` message text → (id or None, text or {"question"|"query": …} or a cancel).

    Raises `InvalidInputError` for an empty question, one longer than `QUESTION_MAX_BYTES`,
    and text starting with `{` that is no JSON object within the limits.
    """
    if len(data) > QUESTION_MAX_BYTES:
        raise InvalidInputError(f'a question of {len(data)} characters (at most '
                                f'{QUESTION_MAX_BYTES})')
    text = data.strip()
    if text.startswith('{'):
        payload = loads(text, 'a JSON question', max_bytes=QUESTION_MAX_BYTES,
                        max_depth=QUESTION_MAX_DEPTH)
        if not isinstance(payload, dict):
            raise InvalidInputError('a JSON question must be an object')
        if 'cancel' in payload:
            cancel = payload['cancel']
            if not isinstance(cancel, str | int) or isinstance(cancel, bool) or \
                    not str(cancel).strip():
                raise InvalidInputError(f'"cancel" must name a question id, got {cancel!r}')
            return str(cancel)[:200], CancelQuestion(str(cancel)[:200])
        if 'question' not in payload and 'query' not in payload:
            raise InvalidInputError('a JSON question needs "question" or "query"')
        request_id = payload.get('id')
        return (str(request_id)[:200] if request_id is not None else None,
                {k: payload[k] for k in ('question', 'query') if k in payload})
    if not text:
        raise InvalidInputError('empty question')
    return None, text


def _planner_params(p: PlannerNodeParams) -> PlannerParams:
    return PlannerParams(p.detection_prob, p.cost_per_m, p.confidence_stop, p.max_steps)


class PlannerNode(Node):
    """Answers questions, going to look where the value of information pays for the trip."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('planner_node', **kwargs)
        self.params = p = declare_params(self, PlannerNodeParams, self._on_params_changed)
        self.planner = VoIPlanner(_planner_params(p))
        self.counts: Counter[str] = Counter()
        self._questions: deque[tuple[str, str | dict[str, Any], AskLimits | None]] = deque()
        self._ask_jobs: dict[str, AskJob] = {}  # Ask goals taken, by question id
        self._session: ActiveQuestion | None = None
        self._memory_deadline: float | None = None
        self._goal_deadline: float | None = None
        self._moved_since_goal = False
        self._unsent_goal: PoseStamped | None = None  # held until a goal_pose reader matches
        self._odom: tuple[float, float, float, bool] | None = None  # stamp, x, y, moving
        self._asked = 0
        self._arrival_stamp_s: float | None = None  # the latest frame a drive reported

        # Every subscription callback runs inside this guard: what a message raises is counted
        # (malformed.<topic>:<reason>, callback_errors.<topic>:<type>), never raised.
        self._guard = CallbackGuard(self.get_logger(), self._count_refused)
        self.create_subscription(String, 'question',
                                 self._guard.wrap('question', self._on_question),
                                 qos.reliable(50))
        self.create_subscription(String, 'memory/answer',
                                 self._guard.wrap('memory_answer', self._on_memory_answer),
                                 qos.reliable(50))
        self.create_subscription(Odometry, 'odom', self._guard.wrap('odom', self._on_odom),
                                 qos.reliable())
        self._query_pub = self.create_publisher(String, 'memory/query', qos.reliable(50))
        self._goal_pub = self.create_publisher(PoseStamped, 'goal_pose', qos.reliable())
        self._answer_pub = self.create_publisher(String, 'answer', qos.reliable(50))
        self._markers_pub = self.create_publisher(MarkerArray, 'planner/markers',
                                                  qos.latched())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', qos.reliable())
        self._nav: NavClient | None = None
        if p.navigation == 'nav2':
            action = navigate_to_pose_type()
            if action is None:
                self.get_logger().warning("navigation 'nav2' needs nav2_msgs, which is not "
                                          'installed: looks go out on goal_pose')
            else:
                self._nav = NavClient(self, action, self._guard, self.counts)
        self._ask: AskServer | None = None
        ask = ask_action_type()
        if ask is None:
            self.get_logger().info(f'no ask action: {MISSING}; questions come on the '
                                   'question topic only')
        else:
            self._ask = AskServer(self, ask, self._guard)
        # Timeouts are wall-clock: simulated time stands still while nothing happens.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(0.1, self._on_tick, clock=steady)
        self.create_timer(1.0, self._publish_diagnostics, clock=steady)

    @property
    def navigation(self) -> str:
        """How looks are driven: 'nav2' (the action) or 'goal_pose' (asked, or no nav2_msgs)."""
        return 'nav2' if self._nav is not None else 'goal_pose'

    # ------------------------------------------------------------ inputs
    def _count_refused(self, kind: str, key: str) -> None:
        self.counts[f'{kind}.{key}'] += 1

    def _on_question(self, msg: String) -> None:
        try:
            question_id, question = parse_question(msg.data)
        except InvalidInputError as exc:
            self.counts['malformed_questions'] += 1
            self.get_logger().warning(f'ignoring question {msg.data[:200]!r}: {exc}')
            return
        if isinstance(question, CancelQuestion):
            self.cancel_question(question.question_id)
            return
        self._asked += 1
        self._questions.append((question_id or f'{self.get_name()}-{self._asked}', question,
                                None))
        self.get_logger().info(f'question {self._questions[-1][0]}: {question}')
        if self._session is None:
            self._start_next()

    def _on_memory_answer(self, msg: String) -> None:
        session = self._session
        if session is None or session.pending is None:
            return
        try:
            reply = loads(msg.data, 'memory/answer')
        except InvalidInputError:
            self.counts['malformed_replies'] += 1
            return
        if not isinstance(reply, dict) or not session.accepts(reply):
            return  # another requester's reply
        self._memory_deadline = None
        try:
            step = session.on_reply(reply, self._robot_place(session), self._odom_stamp())
        except (RobotMemoryError, AttributeError, IndexError, KeyError, OverflowError,
                TypeError, ValueError) as exc:
            # A reply with our id but the wrong shape ends the question with an error rather
            # than leaving it waiting for a reply that already came.
            step = self._failed(session, exc)
        self._do(step)

    def _on_odom(self, msg: Odometry) -> None:
        x, y = msg.pose.pose.position.x, msg.pose.pose.position.y
        twist = msg.twist.twist
        speed = max(math.hypot(twist.linear.x, twist.linear.y), abs(twist.angular.z))
        if not all(math.isfinite(v) for v in (x, y, speed)):
            self.counts['malformed_odom'] += 1
            return
        moving = speed > self.params.stopped_speed_mps
        self._odom = (stamp_s(msg.header.stamp), x, y, moving)
        session = self._session
        goal = session.goal if session is not None else None
        if goal is None or self._nav is not None:  # the action's result is the arrival
            return
        if moving:
            self._moved_since_goal = True
            return
        gx, gy, _ = goal.position_m
        if self._moved_since_goal and math.hypot(x - gx, y - gy) <= \
                self.params.arrival_tolerance_m:
            self._goal_deadline = None
            self.counts['goals_reached'] += 1
            self._do(session.on_arrived(self._odom[0]))

    def _on_tick(self) -> None:
        if self._ask is not None:
            self._guard.call('ask', self._poll_asks, None, self._ask)
        session = self._session
        if session is None:
            return
        now = time.monotonic()
        if self._unsent_goal is not None:
            self._publish_goal()
        if self._nav is not None:
            # Guarded: an answer of the action server that breaks the poll is counted.
            self._guard.call('navigate_to_pose', self._poll_drive, None, session)
            if self._session is not session:
                return
        if self._goal_deadline is not None and now > self._goal_deadline:
            self._goal_deadline = self._unsent_goal = None
            if self._nav is not None:
                self._nav.cancel()
            self.counts['goals_timed_out'] += 1
            self.get_logger().warning(f'goal {session.goal.place_id if session.goal else ""} '
                                      'not reached in time')
            self._do(session.on_goal_failed('timeout'))
        elif self._memory_deadline is not None and now > self._memory_deadline:
            self._memory_deadline = None
            self.counts['memory_timeouts'] += 1
            self.get_logger().warning('memory node did not answer; asking again')
            self._do(session.on_memory_timeout())

    def _poll_asks(self, server: AskServer) -> None:
        """Queue the Ask goals accepted since the last tick; cancel those asked to."""
        while (job := server.take()) is not None:
            self._asked += 1
            job.question_id = f'{self.get_name()}-ask-{self._asked}'
            self._ask_jobs[job.question_id] = job
            goal = job.goal
            self.counts['ask.goals'] += 1
            self._questions.append((job.question_id, goal.question, goal.limits))
            self.get_logger().info(f'question {job.question_id} (ask action): {goal.question}')
            job.feedback(ask_feedback('queued', (), None, (), None))
        for question_id, job in list(self._ask_jobs.items()):
            if job.cancel_requested:
                self.counts['ask.cancel_requested'] += 1
                self.cancel_question(question_id)
        if self._session is None:
            self._start_next()

    def _ask_feedback(self, session: ActiveQuestion) -> None:
        job = self._ask_jobs.get(session.session_id)
        if job is None:
            return
        goal = session.goal
        job.feedback(ask_feedback(session.phase, session.trace.path, session.latest_answer,
                                  [(h.value, h.prob) for h in session.belief],
                                  goal.place_id if goal is not None else None))

    def _end_ask(self, answer: dict[str, Any]) -> None:
        job = self._ask_jobs.pop(str(answer.get('id')), None)
        if job is not None:
            result = ask_result(answer)
            self.counts['ask.' + ('canceled' if result.canceled else
                                  'succeeded' if result.ok else 'aborted')] += 1
            job.end(result)

    def _poll_drive(self, session: ActiveQuestion) -> None:
        assert self._nav is not None
        if self._nav.progress_stamp_s is not None:  # read before poll() ends the drive
            self._arrival_stamp_s = self._nav.progress_stamp_s
        end = self._nav.poll()
        if end is not None:
            self._on_drive_end(session, end)

    def _on_drive_end(self, session: ActiveQuestion, end: DriveEnd) -> None:
        self.counts[end.count_key] += 1
        goal = session.goal
        if goal is None:
            return  # the question moved on (timed out, canceled) before the drive ended
        self._goal_deadline = None
        if end.arrived:
            self.counts['goals_reached'] += 1
            stamps = [s for s in (self._odom_stamp(), self._arrival_stamp_s) if s is not None]
            self._do(session.on_arrived(max(stamps) if stamps else None))
        else:
            self.get_logger().warning(f'goal {goal.place_id} not reached: {end.reason}; '
                                      'planning again without it')
            self._do(session.on_goal_failed(end.reason))

    def cancel_question(self, question_id: str) -> bool:
        """Give a question up (its drive canceled): answered 'canceled'; whether it was known."""
        session = self._session
        if session is not None and session.session_id == question_id:
            if self._nav is not None:
                self._nav.cancel()
            self._unsent_goal = None
            self.counts['questions_canceled'] += 1
            self.get_logger().info(f'question {question_id} canceled')
            self._do(session.cancel())
            return True
        for queued in list(self._questions):
            if queued[0] == question_id:
                self._questions.remove(queued)
                self.counts['questions_canceled'] += 1
                try:
                    answer = ActiveQuestion(queued[1], question_id).cancel()
                except InvalidInputError:
                    return True
                self._answer_pub.publish(String(data=json.dumps(answer.result, default=str)))
                self._end_ask(dict(answer.result))
                return True
        self.counts['cancel_unknown'] += 1
        return False

    def _publish_diagnostics(self) -> None:
        session = self._session
        goal = session.goal if session is not None else None
        progress = self._nav.progress if self._nav is not None else None
        values = {
            'phase': session.phase if session is not None else 'idle',
            'question': session.session_id if session is not None else '',
            'goal': goal.place_id if goal is not None else '',
            'questions_waiting': len(self._questions),
            'navigation': self.navigation,
            **({'drive.distance_remaining_m': round(progress.distance_remaining_m, 3),
                'drive.navigation_time_s': round(progress.navigation_time_s, 3),
                'drive.recoveries': progress.recoveries} if progress is not None else {}),
            **dict(sorted(self.counts.items())),
        }
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [diagnostic_status('planner_node: questions', values,
                                          message=str(values['phase']))]
        self._diag_pub.publish(array)

    # ------------------------------------------------------------ steps
    def _failed(self, session: ActiveQuestion, exc: Exception) -> FinalAnswer:
        self.counts['failed_questions'] += 1
        self.get_logger().error(f'question {session.session_id} failed: {exc}')
        return FinalAnswer({'id': session.session_id, 'question': session.question_text,
                            'ok': False, 'answer': None, 'confidence': 0.0, 'evidence': [],
                            'error': str(exc), 'path': list(session.trace.path),
                            'rooms_visited': [], 'num_rooms_visited': 0})

    def _robot_place(self, session: ActiveQuestion) -> str | None:
        if self._odom is None or session.layout is None:
            return None
        return session.layout.nearest_place(self._odom[1], self._odom[2])

    def _odom_stamp(self) -> float | None:
        return self._odom[0] if self._odom is not None else None

    def _start_next(self) -> None:
        while self._session is None and self._questions:
            question_id, question, limits = self._questions.popleft()
            try:
                self._session = ActiveQuestion(question, question_id, self.planner,
                                               memory_retries=self.params.memory_retries,
                                               limits=limits)
            except InvalidInputError as exc:
                self.counts['malformed_questions'] += 1
                self.get_logger().warning(f'question {question_id}: {exc}')
                self._end_ask({'id': question_id, 'ok': False, 'answer': None,
                               'error': str(exc)})
                continue
            self._do(self._session.start())

    def _do(self, step: Step) -> None:
        session = self._session
        if isinstance(step, MemoryRequest):
            self._memory_deadline = time.monotonic() + self.params.memory_timeout_s
            request = step.request
            if fleet_dsn(self.params.fleet_dsn):
                request = {**request, 'scope': 'fleet'}
            self._query_pub.publish(String(data=json.dumps(request)))
        elif isinstance(step, GoToPlace):
            self._send_goal(step, session)
        if session is not None and not isinstance(step, FinalAnswer):
            self._ask_feedback(session)
        elif isinstance(step, FinalAnswer):
            self._answer_pub.publish(String(data=json.dumps(step.result, default=str)))
            self._end_ask(dict(step.result))
            self.counts['answered'] += 1
            self.get_logger().info(f'answer {step.result["id"]}: {step.result.get("answer")} '
                                   f'(path {step.result["path"]})')
            if session is not None and session.layout is not None:
                self._markers_pub.publish(planner_markers(None, session.layout,
                                                          frame_id=self.params.map_frame))
            self._session = None
            self._memory_deadline = self._goal_deadline = None
            self._unsent_goal = None
            if self._nav is not None and self._nav.busy:
                self._nav.cancel()
            self._start_next()

    def _send_goal(self, step: GoToPlace, session: ActiveQuestion | None) -> None:
        goal = PoseStamped()
        goal.header.frame_id = self.params.map_frame
        goal.header.stamp = self.get_clock().now().to_msg()
        x, y, _ = step.position_m
        goal.pose.position.x, goal.pose.position.y = float(x), float(y)
        goal.pose.orientation.w = 1.0
        self._moved_since_goal = False
        self._arrival_stamp_s = None
        self._goal_deadline = time.monotonic() + self.params.goal_timeout_s
        self.get_logger().info(f'going to {step.place_id} ({step.decision.reason}, value '
                               f'{step.decision.value:.3f}, cost {step.decision.cost:.3f})')
        if self._nav is not None:
            if not self._nav.go(goal):
                self.get_logger().info('no navigate_to_pose server yet: holding the goal')
        else:
            self._unsent_goal = goal
            if not self._publish_goal():
                self.counts['goals_held_for_a_reader'] += 1
                self.get_logger().info('no goal_pose reader matched yet: holding the goal')
        if session is not None and session.layout is not None:
            self._markers_pub.publish(planner_markers(step.decision, session.layout,
                                                      step.place_id, self.params.map_frame))

    def _publish_goal(self) -> bool:
        """Publish the held goal once a `goal_pose` reader has matched; whether it went out.

        A reliable volatile topic drops what is published before discovery has matched the
        reader: a goal sent to a simulator or base that started a moment ago would be lost, and
        the question would wait the whole goal timeout.
        """
        if self._unsent_goal is None or self._goal_pub.get_subscription_count() == 0:
            return False
        self._goal_pub.publish(self._unsent_goal)
        self._unsent_goal = None
        self.counts['goals_sent'] += 1
        return True

    def _on_params_changed(self, old: PlannerNodeParams, new: PlannerNodeParams) -> None:
        """The planner takes new VoI parameters from the next decision on."""
        self.planner.params = _planner_params(new)


def main(args: list[str] | None = None) -> int:
    """Run planner_node until SIGINT."""
    return run_node('planner_node', PlannerNode, args)


if __name__ == '__main__':
    sys.exit(main())

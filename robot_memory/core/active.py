"""One question answered actively, as a state machine over memory replies and robot arrivals.

The planner node is a thin shell around `ActiveQuestion`: it sends the `MemoryRequest`s this
returns on `memory/query`, feeds the replies back, drives to the `GoToPlace` goals, reports
arrivals and failures, and publishes the `FinalAnswer`. Every step is a plain value, so the
whole loop is tested without ROS:

    start()                       → MemoryRequest (the layout, unless known; else the belief)
    on_reply(reply, robot_place)  → MemoryRequest | GoToPlace | FinalAnswer
    on_arrived(stamp_s)           → MemoryRequest (the belief again, after what was seen)
    on_goal_failed(reason)        → MemoryRequest
    on_memory_timeout()           → MemoryRequest (a retry) | FinalAnswer (gave up)
    cancel()                      → FinalAnswer (stop reason 'canceled', whatever the phase)

An asker may bound a question (`AskLimits`, from the `Ask` action): the time it is about (the
memory's clock for every request), a room to look in, a number of looks and a travel distance;
`belief` and `latest_answer` say where it stands (the action's feedback).

The value-of-information decision is `VoIPlanner.decide` on the belief the memory node sends
back, discounted for places already looked at that did not confirm a hypothesis.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from robot_memory._compat import StrEnum
from robot_memory.core.ask import AskLimits
from robot_memory.core.planner import Decision, PlannerParams, VoIPlanner, discount_visited
from robot_memory.core.protocol import (
    ActiveAnswer,
    AskBody,
    BeliefRequest,
    ErrorReply,
    LayoutRequest,
    MemoryReply,
    MemoryRequestDict,
)
from robot_memory.core.query_engine import Hypothesis
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError, RobotMemoryError, UnknownNodeError

__all__ = [
    'ActiveQuestion',
    'FinalAnswer',
    'GoToPlace',
    'MemoryRequest',
    'Phase',
    'Step',
    'discount_visited',
    'room_of_place',
]


class Phase(StrEnum):
    """Where a question stands."""

    IDLE = 'idle'
    LAYOUT = 'layout'  # waiting for the rooms and places
    BELIEF = 'belief'  # waiting for the answer and belief
    MOVING = 'moving'  # waiting for the robot to reach a place
    DONE = 'done'


@dataclass(frozen=True, slots=True)
class MemoryRequest:
    """A request for `memory/query` (JSON object with an id)."""

    request: MemoryRequestDict

    @property
    def request_id(self) -> str:
        """The id the reply will carry."""
        return str(self.request['id'])


@dataclass(frozen=True, slots=True)
class GoToPlace:
    """Drive to a place and look around there."""

    place_id: str
    position_m: tuple[float, float, float]
    decision: Decision


@dataclass(frozen=True, slots=True)
class FinalAnswer:
    """The answer to publish on `answer` (a JSON-safe dict)."""

    result: ActiveAnswer


Step = MemoryRequest | GoToPlace | FinalAnswer


def room_of_place(place_id: str, layout: SceneGraph | None = None) -> str:
    """Name the room of a place: from the layout when it has the place, else from the id."""
    if layout is not None and layout.has_node(place_id):
        room = layout.room_of(place_id)
        if room:
            return room
    # Place ids are `place:<room>/<k>` by convention (PlaceAttributes keep the real room).
    return 'room:' + place_id.split(':', 1)[-1].rsplit('/', 1)[0]


def _belief_from_reply(items: object) -> list[Hypothesis]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise InvalidInputError(f'belief must be a list, got {items!r}')
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidInputError(f'belief entry must be an object, got {item!r}')
        prob = float(item['prob'])
        if not math.isfinite(prob) or prob < 0:
            raise InvalidInputError(f'belief probability must be finite and ≥ 0, got {prob}')
        out.append(Hypothesis(item['value'], prob, frozenset(str(p) for p in item['places'])))
    return sorted(out, key=lambda h: -h.prob)


@dataclass(slots=True)
class _Trace:
    path: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    distance_m: float = 0.0
    first_goal_stamp_s: float | None = None


class ActiveQuestion:
    """Answers one question, going to look while looking is worth its cost."""

    def __init__(self, question: str | Mapping[str, Any], session_id: str,
                 planner: VoIPlanner | None = None, layout: SceneGraph | None = None,
                 memory_retries: int = 2, limits: AskLimits | None = None) -> None:
        self.limits = limits or AskLimits()
        self._ask: AskBody = {}
        if isinstance(question, str):
            if not question.strip():
                raise InvalidInputError('question must not be empty')
            self._ask['question'] = question
        elif isinstance(question, Mapping) and ('question' in question or 'query' in question):
            if 'question' in question:
                self._ask['question'] = question['question']
            if 'query' in question:
                self._ask['query'] = question['query']
        else:
            raise InvalidInputError(f'question must be text or an object with "question" or '
                                    f'"query", got {question!r}')
        self._text = str(self._ask['question']) if 'question' in self._ask else \
            json.dumps(self._ask['query'], sort_keys=True, default=str)
        if self.limits.at_s is not None:
            self._ask['now_s'] = self.limits.at_s
        self.session_id = session_id
        self.planner = planner or VoIPlanner(PlannerParams())
        self.layout = layout
        self.memory_retries = int(memory_retries)
        self.phase = Phase.IDLE
        self.trace = _Trace()
        self._seq = 0
        self._pending: MemoryRequest | None = None
        self._retries_left = self.memory_retries
        self._goal: GoToPlace | None = None
        self._robot_place: str | None = None
        self.belief: list[Hypothesis] = []  # memory's latest, after discounting the looks
        self.latest_answer: object = None  # memory's latest answer text

    # ----------------------------------------------------------- requests
    @property
    def question_text(self) -> str:
        """The question as asked: its text, or the typed query as JSON."""
        return self._text

    @property
    def pending(self) -> MemoryRequest | None:
        """The request whose reply is awaited."""
        return self._pending

    @property
    def goal(self) -> GoToPlace | None:
        """The place the robot is driving to."""
        return self._goal if self.phase is Phase.MOVING else None

    @property
    def done(self) -> bool:
        """Whether the final answer was given."""
        return self.phase is Phase.DONE

    def _next_id(self) -> str:
        self._seq += 1
        return f'{self.session_id}/{self._seq}'

    def _send(self, request: MemoryRequestDict) -> MemoryRequest:
        self._pending = MemoryRequest(request)
        self._retries_left = self.memory_retries
        return self._pending

    def _belief_request(self, wait_for_stamp_s: float | None = None) -> MemoryRequest:
        self.phase = Phase.BELIEF
        request: BeliefRequest = {'id': self._next_id(), **self._ask, 'mode': 'belief'}
        if wait_for_stamp_s is not None:
            request['wait_for_stamp_s'] = float(wait_for_stamp_s)
        return self._send(request)

    def start(self) -> MemoryRequest:
        """Begin: ask for the layout if it is not known, else for the belief."""
        if self.phase is not Phase.IDLE:
            raise InvalidInputError(f'question {self.session_id} already started')
        if self.layout is None:
            self.phase = Phase.LAYOUT
            request = LayoutRequest(id=self._next_id(), mode='layout')
            if self.limits.at_s is not None:
                request['now_s'] = self.limits.at_s
            return self._send(request)
        return self._belief_request()

    def accepts(self, reply: Mapping[str, Any]) -> bool:
        """Tell whether a `memory/answer` reply is the one this question waits for."""
        return (self._pending is not None and isinstance(reply, Mapping)
                and str(reply.get('id')) == self._pending.request_id)

    # ------------------------------------------------------------ replies
    def on_reply(self, reply: MemoryReply, robot_place: str | None = None,
                 stamp_s: float | None = None) -> Step:
        """Take the awaited reply; `stamp_s` is the robot's latest data stamp (for evidence)."""
        if not self.accepts(reply):
            raise InvalidInputError(f'reply {reply!r} is not the one awaited by '
                                    f'{self.session_id}')
        self._pending = None
        self._robot_place = robot_place
        if self.phase is Phase.LAYOUT:
            self.layout = self._layout_from(reply)
            return self._belief_request()
        if self.phase is not Phase.BELIEF:
            raise InvalidInputError(f'no reply expected while {self.phase}')
        if not reply.get('ok', False):
            return self._finish(reply, 'memory could not answer')
        query = reply.get('query')
        if isinstance(query, Mapping):
            # Ask the same typed query from now on: the text is parsed once.
            self._ask = {'query': dict(query)}
            if self.limits.at_s is not None:
                self._ask['now_s'] = self.limits.at_s
        self.latest_answer = reply.get('answer')
        try:
            belief = _belief_from_reply(reply.get('belief', []))
        except (InvalidInputError, KeyError, TypeError, ValueError) as exc:
            return self._finish(reply, f'malformed belief ({exc})')
        detection = reply.get('detection_prob')
        if isinstance(detection, int | float) and 0 < detection <= 1:
            # Memory measured how often its detector finds what is in view: use that.
            self.planner = VoIPlanner(replace(self.planner.params,
                                              detection_prob=float(detection)))
        belief = discount_visited(belief, self.trace.path, self._confirmed(reply),
                                  self.planner.params.detection_prob)
        self.belief = list(belief)
        looks = len(self.trace.path) + len(self.trace.failed)
        if looks >= self.planner.params.max_steps:
            return self._finish(reply, 'step budget spent', belief)
        layout = self.layout if self.layout is not None else SceneGraph()
        if not layout.places:
            return self._finish(reply, 'no map of places to look in', belief)
        start = robot_place if robot_place is not None and layout.has_node(robot_place) \
            else None
        excluded = frozenset(self.trace.path) | frozenset(self.trace.failed)
        scope = self.limits.scope_room
        if scope is not None:
            outside = frozenset(p for p in layout.places if room_of_place(p, layout) != scope)
            if len(outside) == len(layout.places):
                return self._finish(reply, f'no places in {scope}', belief)
            excluded |= outside
        decision = self.planner.decide(belief, start, layout, excluded)
        if decision.place is not None and self.limits.max_looks is not None and \
                looks >= self.limits.max_looks:
            return self._finish(reply, 'look budget spent', belief)  # it would look again
        self.trace.decisions.append(decision)
        if decision.place is None:
            return self._finish(reply, decision.reason, belief)
        trip_m = 0.0
        if start is not None and start != decision.place:
            # Unreachable on the map: the trip fails and the place is excluded afterwards.
            with contextlib.suppress(UnknownNodeError):
                trip_m = layout.place_path(start, decision.place)[1]
        if self.limits.max_distance_m is not None and \
                self.trace.distance_m + trip_m > self.limits.max_distance_m:
            return self._finish(reply, 'travel budget spent', belief)
        if self.trace.first_goal_stamp_s is None:
            self.trace.first_goal_stamp_s = stamp_s
        self.trace.distance_m += trip_m
        self.phase = Phase.MOVING
        self._goal = GoToPlace(decision.place, layout.get_place(decision.place).position_m,
                               decision)
        return self._goal

    def _layout_from(self, reply: MemoryReply) -> SceneGraph:
        layout = reply.get('layout')
        if reply.get('ok') and isinstance(layout, Mapping):
            try:
                return SceneGraph.from_dict(dict(layout))
            except (RobotMemoryError, KeyError, TypeError, ValueError):
                pass
        return SceneGraph()

    def _confirmed(self, reply: MemoryReply) -> object:
        """Return the room memory saw the target in since the first goal, if any."""
        value = reply.get('value')
        if self.trace.first_goal_stamp_s is None or not isinstance(value, Mapping):
            return None
        last_seen = value.get('last_seen_s')
        if isinstance(last_seen, int | float) and last_seen >= self.trace.first_goal_stamp_s:
            return value.get('room')
        return None

    # ---------------------------------------------------------- movement
    def on_arrived(self, stamp_s: float | None = None) -> MemoryRequest:
        """Note the arrival (the robot looked around there) and ask memory again."""
        if self.phase is not Phase.MOVING or self._goal is None:
            raise InvalidInputError(f'not moving (phase {self.phase})')
        self.trace.path.append(self._goal.place_id)
        return self._belief_request(stamp_s)

    def on_goal_failed(self, reason: str = 'goal not reached') -> MemoryRequest:
        """Note a goal not reached; never pick that place again for this question."""
        if self.phase is not Phase.MOVING or self._goal is None:
            raise InvalidInputError(f'not moving (phase {self.phase})')
        self.trace.failed.append(self._goal.place_id)
        return self._belief_request()

    def on_memory_timeout(self) -> MemoryRequest | FinalAnswer:
        """Resend an unanswered request under a new id, or give up with an error answer."""
        if self._pending is None:
            raise InvalidInputError('no request is waiting for a reply')
        if self._retries_left <= 0:
            self._pending = None
            return self._finish(ErrorReply(id=None, ok=False,
                                           error='the memory node did not answer'),
                                'memory timeout')
        retries = self._retries_left - 1
        body = self._pending.request.copy()
        body['id'] = self._next_id()
        request = self._send(body)
        self._retries_left = retries
        return request

    def cancel(self) -> FinalAnswer:
        """Give the question up at once (the asker canceled it): an error answer that keeps
        the places looked at so far; a reply or arrival that comes later is not awaited."""
        if self.phase is Phase.DONE:
            raise InvalidInputError(f'question {self.session_id} is already answered')
        self._pending = None
        return self._finish(ErrorReply(id=None, ok=False, error='the question was canceled'),
                            'canceled')

    # ------------------------------------------------------------- answer
    def _finish(self, reply: MemoryReply, reason: str,
                belief: Sequence[Hypothesis] = ()) -> FinalAnswer:
        self.phase = Phase.DONE
        self._goal = None
        # The reply is JSON from another process: each field is read defensively.
        answer: dict[str, Any] = {k: reply.get(k) for k in ('answer', 'value', 'confidence',
                                            'needs_verification', 'evidence', 'query')}
        answer['evidence'] = list(answer['evidence'] or [])
        answer['confidence'] = float(answer['confidence'] or 0.0)
        answer['needs_verification'] = bool(answer['needs_verification'])
        answer.update(_posterior(answer, belief, bool(self.trace.path)))
        error: Any = reply.get('error')
        rooms = []
        for place in self.trace.path:
            room = room_of_place(place, self.layout)
            if room not in rooms:
                rooms.append(room)
        result: ActiveAnswer = {
            'id': self.session_id,
            'question': self.question_text,
            'ok': bool(reply.get('ok', False)),
            'answer': answer['answer'],
            'value': answer['value'],
            'confidence': answer['confidence'],
            'needs_verification': answer['needs_verification'],
            'evidence': answer['evidence'],
            'query': answer['query'],
            'error': error or '',
            'path': list(self.trace.path),
            'failed_goals': list(self.trace.failed),
            'rooms_visited': rooms,
            'num_rooms_visited': len(rooms),
            'distance_m': round(self.trace.distance_m, 3),
            'stop_reason': reason,
            'decisions': [{'place': d.place, 'value': round(d.value, 4),
                           'cost': round(d.cost, 4), 'p_error': round(d.p_error, 4),
                           'reason': d.reason} for d in self.trace.decisions],
        }
        return FinalAnswer(result)


def _posterior(answer: Mapping[str, Any], belief: Sequence[Hypothesis],
               looked: bool) -> dict[str, Any]:
    """Prefer the belief over memory's room once looking showed memory is out of date."""
    value = answer.get('value')
    if not belief or not isinstance(value, Mapping) or 'object_id' not in value:
        return {}
    top = belief[0]
    if not str(top.value).startswith('room:'):
        return {}  # a belief over counts or states, not over where an object is
    if top.value == value.get('room'):
        return {'confidence': max(float(answer['confidence']), top.prob)}
    if not looked:
        return {}
    room_name = str(top.value).split(':', 1)[-1].replace('_', ' ')
    return {
        'value': {**value, 'room': top.value, 'room_name': room_name, 'present': False,
                  'position_m': None, 'support': None},
        'answer': f'It was not where I last saw it; most likely it is in the {room_name} '
                  f'({top.prob:.0%}).',
        'confidence': top.prob,
        'needs_verification': True,
    }

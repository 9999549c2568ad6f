"""Active answering: go and look only while the value of information beats its cost.

For a present-tense question the query engine gives a belief — hypotheses over the answer,
each tied to the places where looking would confirm it. Observing place p confirms the true
hypothesis with probability `detection_prob` if p can see it, and otherwise only lowers the
hypotheses that p could have confirmed. The value of going to p is the expected drop in the
probability of answering wrong (expected value of sample information); its cost is the travel
distance along the place graph times `cost_per_m`. The planner picks argmax(value − cost) and
stops when no action has positive net value or the best hypothesis is already likely enough.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from robot_memory.core.queries import Answer, LastSeen, Query, WhereIs
from robot_memory.core.query_engine import Hypothesis, QueryEngine
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.exceptions import InvalidInputError, UnknownNodeError

__all__ = ['ActiveResult', 'Decision', 'PlannerParams', 'VoIPlanner', 'discount_visited', 'evsi']


@dataclass(frozen=True, slots=True)
class PlannerParams:
    """Sensor model, cost weight and stopping rule."""

    detection_prob: float = 0.9
    cost_per_m: float = 0.004
    confidence_stop: float = 0.97
    max_steps: int = 8
    min_value: float = 1e-6  # below this an expected gain is rounding noise

    def __post_init__(self) -> None:
        if not 0 < self.detection_prob <= 1:
            raise InvalidInputError(f'detection_prob must be in (0, 1], got '
                                    f'{self.detection_prob}')
        if self.cost_per_m < 0 or not 0 < self.confidence_stop <= 1 or self.max_steps < 0:
            raise InvalidInputError('cost_per_m >= 0, 0 < confidence_stop <= 1, max_steps >= 0')


@dataclass(frozen=True, slots=True)
class Decision:
    """The planner's choice: a place to observe, or None to answer now."""

    place: str | None
    value: float
    cost: float
    p_error: float
    reason: str
    candidates: tuple[tuple[str, float, float], ...] = ()

    @property
    def net(self) -> float:
        """Value minus cost of the chosen action."""
        return self.value - self.cost


@dataclass(frozen=True, slots=True)
class ActiveResult:
    """An answer and what it took to get it."""

    answer: Answer
    path: tuple[str, ...]
    distance_m: float
    decisions: tuple[Decision, ...] = field(default_factory=tuple)

    @property
    def rooms_visited(self) -> int:
        """Distinct rooms among the observed places (place ids are `place:<room>/<k>`)."""
        return len({p.split(':', 1)[-1].rsplit('/', 1)[0] for p in self.path})


def _p_error(probs: Sequence[float]) -> float:
    return 1.0 - max(probs, default=0.0)


def evsi(belief: Sequence[Hypothesis], place: str, detection_prob: float) -> float:
    """Expected drop in the probability of answering wrong from observing `place`."""
    if not belief:
        return 0.0
    probs = [h.prob for h in belief]
    now = _p_error(probs)
    covers = [place in h.places for h in belief]
    p_detect = sum(p * detection_prob for p, c in zip(probs, covers, strict=True) if c)
    if p_detect <= 0:
        return 0.0
    rest = [p * (1 - detection_prob) if c else p for p, c in zip(probs, covers, strict=True)]
    total = sum(rest)
    after_miss = _p_error([r / total for r in rest]) if total > 0 else 0.0
    return max(now - (1 - p_detect) * after_miss, 0.0)


class VoIPlanner:
    """Chooses where to look next for one question."""

    def __init__(self, params: PlannerParams | None = None) -> None:
        self.params = params or PlannerParams()

    def decide(self, belief: Sequence[Hypothesis], robot_place: str | None,
               layout: SceneGraph, exclude: frozenset[str] = frozenset()) -> Decision:
        """Pick the place with the best value − cost, or None to answer now.

        `exclude` holds places already observed for this question: memory already has what
        they show.
        """
        p = self.params
        if not belief:
            return Decision(None, 0.0, 0.0, 0.0, 'looking cannot change this answer')
        p_err = _p_error([h.prob for h in belief])
        if 1 - p_err >= p.confidence_stop:
            return Decision(None, 0.0, 0.0, p_err, 'confident enough')
        places = sorted({pl for h in belief for pl in h.places} - exclude)
        scored = []
        for place in places:
            value = evsi(belief, place, p.detection_prob)
            if value <= p.min_value:
                continue
            cost = p.cost_per_m * self._distance(robot_place, place, layout)
            scored.append((place, value, cost))
        if not scored:
            return Decision(None, 0.0, 0.0, p_err, 'no observation is informative')
        place, value, cost = max(scored, key=lambda c: (c[1] - c[2], -c[2], c[0]))
        if value - cost <= 0:
            return Decision(None, value, cost, p_err, 'looking costs more than it is worth',
                            tuple(scored))
        return Decision(place, value, cost, p_err, 'worth a look', tuple(scored))

    @staticmethod
    def _distance(start: str | None, goal: str, layout: SceneGraph) -> float:
        if start is None or start == goal:
            return 0.0
        try:
            return layout.place_path(start, goal)[1]
        except UnknownNodeError:
            return math.inf

    def answer(self, engine: QueryEngine, query: Query, robot_place: str | None,
               observe: Callable[[str], float], now: Callable[[], float]) -> ActiveResult:
        """Answer `query`, observing places while it pays; `observe(place)` returns metres."""
        path: list[str] = []
        decisions: list[Decision] = []
        distance = 0.0
        start = now()
        for _ in range(self.params.max_steps):
            t = now()
            belief = _discount_visited(engine, query, engine.belief(query, t), path, start,
                                       self.params.detection_prob)
            decision = self.decide(belief, robot_place, engine.memory.layout_at(t),
                                   frozenset(path))
            decisions.append(decision)
            if decision.place is None:
                break
            distance += observe(decision.place)
            path.append(decision.place)
            robot_place = decision.place
        t = now()
        answer = engine.answer(query, t)
        belief = _discount_visited(engine, query, engine.belief(query, t), path, start,
                                   self.params.detection_prob)
        return ActiveResult(_posterior_answer(engine, query, answer, belief), tuple(path),
                            distance, tuple(decisions))


def _posterior_answer(engine: QueryEngine, query: Query, answer: Answer,
                      belief: Sequence[Hypothesis]) -> Answer:
    """Prefer the belief over memory when looking showed memory's room is out of date."""
    if not isinstance(query, WhereIs | LastSeen) or not belief or answer.value is None:
        return answer
    top = belief[0]
    if top.value == answer.value.get('room'):
        return replace(answer, confidence=max(answer.confidence, top.prob))
    value = {**answer.value, 'room': top.value, 'room_name': engine.room_name(str(top.value)),
             'relation': '', 'support': None, 'support_label': '', 'position_m': None,
             'present': False}
    text = (f'It was not where I last saw it; most likely it is in the '
            f'{value["room_name"]} ({top.prob:.0%}).')
    return replace(answer, value=value, text=text, confidence=top.prob,
                   needs_verification=True)


def discount_visited(belief: Sequence[Hypothesis], visited: Sequence[str],
                     confirmed: object, detection_prob: float) -> list[Hypothesis]:
    """Lower hypotheses that visited places would have confirmed but did not; renormalise.

    `confirmed` is the answer looking did confirm (it keeps its weight), or None.
    """
    if not visited or not belief:
        return list(belief)
    seen = set(visited)
    out = [Hypothesis(h.value, h.prob * (1 - detection_prob)
                      if h.places & seen and h.value != confirmed else h.prob, h.places)
           for h in belief]
    total = sum(h.prob for h in out)
    if total <= 0:
        return list(belief)
    return sorted((Hypothesis(h.value, h.prob / total, h.places) for h in out),
                  key=lambda h: -h.prob)


def _discount_visited(engine: QueryEngine, query: Query, belief: list[Hypothesis],
                      visited: Sequence[str], since_s: float,
                      detection_prob: float) -> list[Hypothesis]:
    """`discount_visited`, with what memory has seen of the target since `since_s`."""
    if not visited or not belief:
        return belief
    return discount_visited(belief, visited, _confirmed_value(engine, query, since_s),
                            detection_prob)


def _confirmed_value(engine: QueryEngine, query: Query, since_s: float) -> object:
    target = getattr(query, 'target', None)
    if target is None:
        return None
    for state in engine.candidates(target, engine.memory.now_s, include_missing=False):
        if state.last_seen_s >= since_s:
            return state.room_id
    return None

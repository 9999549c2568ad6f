"""The `Ask` action's goal, feedback and result as plain values (no ROS).

planner_node serves `robot_memory_interfaces/action/Ask` (`ros/interfaces.py` moves the
messages): a goal is checked here before it is accepted (`ask_goal` raises
`InvalidInputError` naming the field, so a hostile goal is rejected and counted, never run),
and what an `ActiveQuestion` does is turned into feedback (`ask_feedback`) and its final
answer into a result (`ask_result`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from robot_memory.exceptions import InvalidInputError

__all__ = [
    'ASK_MAX_DISTANCE_M',
    'ASK_MAX_LOOKS',
    'ASK_QUESTION_MAX_CHARS',
    'AskFeedback',
    'AskGoal',
    'AskLimits',
    'AskResult',
    'ask_feedback',
    'ask_goal',
    'ask_result',
    'scope_room_id',
]

ASK_QUESTION_MAX_CHARS = 4096
"""A question in words is < 1 kB (the `question` topic's limit, 64 kB, also holds typed JSON)."""
ASK_SCOPE_MAX_CHARS = 200
ASK_MAX_LOOKS = 1000
"""More looks than any home has places: a bigger number is a mistake, not a budget."""
ASK_MAX_DISTANCE_M = 100_000.0
"""100 km: a bigger travel budget is a mistake, not a budget."""
_VALUE_JSON_MAX_CHARS = 60_000


@dataclass(frozen=True, slots=True)
class AskLimits:
    """What an asker may bound: the time asked about, a room, looks, travel."""

    at_s: float | None = None
    scope_room: str | None = None  # a room id, 'room:kitchen'
    max_looks: int | None = None
    max_distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class AskGoal:
    """A checked `Ask` goal."""

    question: str
    limits: AskLimits


@dataclass(frozen=True, slots=True)
class AskFeedback:
    """Where an asked question stands."""

    phase: str
    places_looked: tuple[str, ...]
    belief: str
    confidence: float
    next_place: str


@dataclass(frozen=True, slots=True)
class AskResult:
    """The `Ask` result; `ok` False ends the goal aborted (canceled for a canceled one)."""

    ok: bool
    canceled: bool
    answer: str
    value_json: str
    confidence: float
    evidence_ids: tuple[str, ...]
    evidence_object_ids: tuple[str, ...]
    stop_reason: str
    places_looked: tuple[str, ...]
    needs_verification: bool


def scope_room_id(scope: str) -> str:
    """A room as the asker names it ('kitchen', 'Living room', 'room:kitchen') → its id."""
    name = scope.strip()
    if name.startswith('room:'):
        return name
    return 'room:' + '_'.join(name.lower().split())


def ask_goal(question: str, at_s: float, scope: str, max_looks: int,
             max_distance_m: float) -> AskGoal:
    """Check an `Ask` goal's fields; zero/empty/-1 mean 'no limit'. Raises `InvalidInputError`.

    `at_s` 0 = now; `scope` '' = anywhere; `max_looks` -1 = the planner's own limit (0 answers
    from memory only); `max_distance_m` 0 = no travel limit.
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError('question: empty')
    if len(question) > ASK_QUESTION_MAX_CHARS:
        raise InvalidInputError(f'question: {len(question)} characters (at most '
                                f'{ASK_QUESTION_MAX_CHARS})')
    if not math.isfinite(at_s) or at_s < 0:
        raise InvalidInputError(f'at: {at_s} s is no time (0 = now, else seconds ≥ 0)')
    if len(scope) > ASK_SCOPE_MAX_CHARS or any(not c.isprintable() for c in scope):
        raise InvalidInputError(f'scope: not a room name ({len(scope)} characters)')
    if isinstance(max_looks, bool) or not isinstance(max_looks, int) or \
            not -1 <= max_looks <= ASK_MAX_LOOKS:
        raise InvalidInputError(f"max_looks: {max_looks} (valid: -1 = the planner's own, "
                                f'0 … {ASK_MAX_LOOKS})')
    if not math.isfinite(max_distance_m) or not 0 <= max_distance_m <= ASK_MAX_DISTANCE_M:
        raise InvalidInputError(f'max_distance_m: {max_distance_m} (valid: 0 = no limit, '
                                f'up to {ASK_MAX_DISTANCE_M:g})')
    return AskGoal(question.strip(), AskLimits(
        at_s=float(at_s) if at_s > 0 else None,
        scope_room=scope_room_id(scope) if scope.strip() else None,
        max_looks=max_looks if max_looks >= 0 else None,
        max_distance_m=float(max_distance_m) if max_distance_m > 0 else None))


def ask_feedback(phase: str, places_looked: Sequence[str], answer: object,
                 belief: Sequence[tuple[object, float]], next_place: str | None) -> AskFeedback:
    """Feedback from a question's phase, its looks, memory's latest answer and belief.

    `belief` is (value, probability) best first; the belief text is memory's answer when it
    gave one, else the best hypothesis.
    """
    top_value, top_prob = belief[0] if belief else (None, 0.0)
    text = answer if isinstance(answer, str) and answer else \
        ('' if top_value is None else str(top_value))
    prob = float(top_prob) if math.isfinite(float(top_prob)) else 0.0
    return AskFeedback(str(phase), tuple(places_looked), text[:2000],
                       min(max(prob, 0.0), 1.0), next_place or '')


def _float01(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return min(max(number, 0.0), 1.0) if math.isfinite(number) else 0.0


def ask_result(answer: Mapping[str, object]) -> AskResult:
    """planner's final answer (the JSON it publishes on `answer`) → the `Ask` result."""
    ids: list[str] = []
    objects: list[str] = []
    evidence = answer.get('evidence')
    for item in evidence if isinstance(evidence, list) else []:
        if not isinstance(item, Mapping):
            continue
        if item.get('object_id') and str(item['object_id']) not in objects:
            objects.append(str(item['object_id']))
        obs = item.get('obs_ids')
        for obs_id in obs if isinstance(obs, list) else []:
            if str(obs_id) not in ids:
                ids.append(str(obs_id))
    value_json = json.dumps(answer.get('value'), sort_keys=True, default=str)
    if len(value_json) > _VALUE_JSON_MAX_CHARS:
        value_json = json.dumps({'truncated': True})
    path = answer.get('path')
    stop = str(answer.get('stop_reason') or '')
    text = answer.get('answer')
    return AskResult(
        ok=bool(answer.get('ok')), canceled=stop == 'canceled',
        answer=str(text) if text is not None else str(answer.get('error') or ''),
        value_json=value_json, confidence=_float01(answer.get('confidence')),
        evidence_ids=tuple(ids), evidence_object_ids=tuple(objects), stop_reason=stop,
        places_looked=tuple(str(p) for p in path) if isinstance(path, list) else (),
        needs_verification=bool(answer.get('needs_verification')))

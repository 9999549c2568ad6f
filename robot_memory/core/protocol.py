"""The `memory/query` protocol: every request the memory node serves and every reply it sends.

Requests and replies travel as JSON objects in `std_msgs/String` on `memory/query` and
`memory/answer` (`MemoryService.handle` serves them; `ActiveQuestion` in the planner sends
them). The TypedDicts here name each kind and its keys, which are the wire format; JSON
leaves them plain dicts at both ends. `parse_request` checks an incoming request and returns
it as a `ParsedRequest`.

Requests, by `mode`:

- `'layout'` (`LayoutRequest`): the rooms and places; reply `LayoutReply`.
- `'answer'`, the default (`AnswerRequest`): a question in English (key `question`) or a
  typed query (key `query`: `query_to_dict`'s form; it wins over a question sent with it);
  reply `AnswerReply`, or `UnparsedReply` for a question not understood.
- `'belief'` (`BeliefRequest`): as `'answer'`, plus hypotheses over the answer and the
  detector's measured hit rate for the value-of-information planner; reply `BeliefReply`.

Every request may carry `id` (any JSON value, echoed in the reply), `now_s` (answer as of
that time; default: memory's latest stamp), `wait_for_stamp_s` (the memory node holds the
request until it has frames that recent) and `scope: 'fleet'` (answer from the fleet's
memory, whose replies add `scope` and `robots`). A request that cannot be served comes back
as an `ErrorReply`.

The planner's own `answer` topic carries an `ActiveAnswer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypedDict

from robot_memory.bounded import check_number, loads
from robot_memory.core.queries import (
    AnswerDict,
    EvidenceDict,
    JsonValue,
    Query,
    QueryDict,
    query_from_dict,
)
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'MODES',
    'REQUEST_MAX_BYTES',
    'REQUEST_MAX_DEPTH',
    'ActiveAnswer',
    'AnswerDict',
    'AnswerReply',
    'AnswerRequest',
    'AskBody',
    'BeliefReply',
    'BeliefRequest',
    'DecisionDict',
    'ErrorReply',
    'EvidenceDict',
    'HypothesisDict',
    'JsonValue',
    'LayoutReply',
    'LayoutRequest',
    'MemoryReply',
    'MemoryRequestDict',
    'Mode',
    'ParsedRequest',
    'QueryDict',
    'decode_request',
    'parse_request',
]

Mode: TypeAlias = Literal['answer', 'belief', 'layout']
MODES: tuple[Mode, ...] = ('answer', 'belief', 'layout')
REQUEST_MAX_BYTES = 1024 * 1024
"""A typed query is < 1 kB; request text longer than 1 MiB is refused unread."""
REQUEST_MAX_DEPTH = 16
"""The deepest request nests 4 levels (request, query, target, attributes)."""


# ---------------------------------------------------------------- requests
class _RequestOptions(TypedDict, total=False):
    id: JsonValue
    now_s: float | None
    wait_for_stamp_s: float
    scope: str


class _LayoutMode(TypedDict):
    mode: Literal['layout']


class LayoutRequest(_LayoutMode, _RequestOptions):
    """Ask for the rooms and places (the static layers) in force at `now_s`."""


class AskBody(_RequestOptions, total=False):
    """An answer or belief request without its mode.

    What is asked is a question in English, a typed query, or both (the query wins);
    `parse_request` requires one of the two.
    """

    question: str
    query: QueryDict


class AnswerRequest(AskBody, total=False):
    """Ask for memory's answer (`mode` 'answer' is the default)."""

    mode: Literal['answer']


class _BeliefMode(TypedDict):
    mode: Literal['belief']


class BeliefRequest(_BeliefMode, AskBody):
    """Ask for memory's answer and its belief over the answer (for the planner)."""


MemoryRequestDict: TypeAlias = 'LayoutRequest | AnswerRequest | BeliefRequest'


# ----------------------------------------------------------------- replies
class _ReplyHead(TypedDict):
    id: JsonValue
    ok: bool


class _Reply(_ReplyHead, total=False):
    # Added by the fleet's memory (`FleetView.handle`) to a request with scope 'fleet'.
    scope: str
    robots: list[str]


class ErrorReply(_Reply):
    """A request that could not be served; `ok` is False and `error` says why."""

    error: str


class UnparsedReply(ErrorReply):
    """A question the parser did not understand: `answer` says so, `query` is None."""

    query: None
    answer: str


class LayoutReply(_Reply):
    """The layout as `SceneGraph.to_dict` writes it."""

    layout: dict[str, Any]


class AnswerReply(AnswerDict, _Reply):
    """Memory's answer (`Answer.to_dict`) with the typed query it answered."""


class HypothesisDict(TypedDict):
    """One possible answer, its probability, and the places where looking would confirm it."""

    value: JsonValue
    prob: float
    places: list[str]


class BeliefReply(AnswerReply):
    """An answer with the belief over its value and the detector's hit rate (0 … 1)."""

    belief: list[HypothesisDict]
    detection_prob: float


MemoryReply: TypeAlias = 'ErrorReply | UnparsedReply | LayoutReply | AnswerReply | BeliefReply'


# ------------------------------------------------------ the planner's answer
class DecisionDict(TypedDict):
    """One value-of-information decision: the place chosen (None: stop) and why."""

    place: str | None
    value: float
    cost: float
    p_error: float
    reason: str


class _ActiveAnswerHead(TypedDict):
    id: str
    question: str
    ok: bool
    answer: str | None
    confidence: float
    evidence: list[EvidenceDict]
    error: str
    path: list[str]
    rooms_visited: list[str]
    num_rooms_visited: int


class ActiveAnswer(_ActiveAnswerHead, total=False):
    """What the planner publishes on `answer` for a question it answered actively."""

    value: JsonValue
    needs_verification: bool
    query: QueryDict | None
    failed_goals: list[str]
    distance_m: float
    stop_reason: str
    decisions: list[DecisionDict]


# ----------------------------------------------------------------- parsing
@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A checked `memory/query` request.

    `query` is set for a typed query; otherwise `question` is the text to parse (a layout
    request has neither).
    """

    request_id: JsonValue
    mode: Mode
    now_s: float | None = None
    query: Query | None = None
    question: str = ''


def decode_request(request: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """Read a request's JSON text into an object; raises `InvalidInputError`.

    Text longer than `REQUEST_MAX_BYTES` or nested deeper than `REQUEST_MAX_DEPTH` is refused
    (`bounded.loads`): a request is a small object, and a crafted one must not cost more.
    """
    if isinstance(request, str):
        try:
            request = loads(request, 'request', max_bytes=REQUEST_MAX_BYTES,
                            max_depth=REQUEST_MAX_DEPTH)
        except InvalidInputError as exc:
            detail = str(exc).removeprefix('request: ')
            if detail.startswith('not valid JSON ('):
                detail = detail.removeprefix('not valid JSON (')[:-1]
            raise InvalidInputError(f'request is not JSON ({detail})') from None
    if not isinstance(request, Mapping):
        raise InvalidInputError('request must be a JSON object')
    return request


def parse_request(request: str | Mapping[str, Any]) -> ParsedRequest:
    """Check a `memory/query` request (JSON text or object); raises `InvalidInputError`.

    The checks run in the order `MemoryService.handle` has always made them: JSON, object,
    `now_s`, `mode`, then `query` or `question` (not needed for a layout).
    """
    data = decode_request(request)
    request_id = data.get('id')
    mode = data.get('mode', 'answer')
    now_s = None
    if data.get('now_s') is not None:
        try:
            now_s = float(data['now_s'])
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInputError(str(exc)) from exc
        now_s = check_number(now_s, 'now_s')
    if mode == 'layout':
        return ParsedRequest(request_id, 'layout', now_s)
    if mode in ('answer', 'belief'):
        if 'query' in data:
            try:
                fields = dict(data['query'])
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(str(exc)) from exc
            return ParsedRequest(request_id, mode, now_s, query=query_from_dict(fields))
        question = data.get('question')
        if isinstance(question, str):
            return ParsedRequest(request_id, mode, now_s, question=question)
        raise InvalidInputError('request needs "question" (text) or "query" (typed)')
    raise InvalidInputError(f'unknown mode {mode!r}; valid: answer, belief, layout')

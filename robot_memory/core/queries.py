"""Typed queries and answers: what a question means, and what memory says back.

Questions in English are parsed into these frozen values (`robot_memory.language`); the query
engine answers them from episodic memory. Times are resolved stamps (seconds since the Unix
epoch); a `TimeRange` with both ends None means "now".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias, TypedDict

from robot_memory._compat import StrEnum

__all__ = [
    'ATTRIBUTES',
    'OBSERVED_STATES',
    'RELATIONS',
    'STATE_PAIRS',
    'UNANSWERABLE_REASONS',
    'Answer',
    'AnswerDict',
    'AttributeOf',
    'Category',
    'Changes',
    'Contents',
    'Count',
    'Duration',
    'Evidence',
    'EvidenceDict',
    'Exists',
    'History',
    'IsAt',
    'JsonValue',
    'LastSeen',
    'Query',
    'QueryDict',
    'Relation',
    'Retrieve',
    'StateOf',
    'Target',
    'TimeRange',
    'Unanswerable',
    'Usual',
    'WhatIn',
    'WhenAppeared',
    'WhereIs',
    'WhereWas',
    'query_from_dict',
    'query_to_dict',
    'state_family',
]


class Category(StrEnum):
    """Question categories of long-term active embodied QA."""

    PRESENT = 'present'
    PAST = 'past'
    MULTI_PAST = 'multi_past'
    PAST_PRESENT = 'past_present'
    PAST_PRESENT_FUTURE = 'past_present_future'


@dataclass(frozen=True, slots=True)
class Target:
    """What a question is about: a class with optional attributes ("my red backpack")."""

    label: str
    color: str = ''
    room: str = ''
    text: str = ''


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A resolved time expression: `[start_s, end_s)`; None ends are open."""

    start_s: float | None = None
    end_s: float | None = None
    text: str = ''

    @property
    def is_now(self) -> bool:
        """Whether this means the present."""
        return self.start_s is None and self.end_s is None

    def probe_s(self, now_s: float) -> float:
        """The instant a point-in-time question asks about: the end of the range, or now."""
        if self.end_s is not None:
            return min(self.end_s - 1e-3, now_s)
        return now_s


@dataclass(frozen=True, slots=True)
class WhereIs:
    """Where is X now?"""

    target: Target
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class LastSeen:
    """Where and when was X last seen? (The robot's own past sightings: a past question.)"""

    target: Target
    category: Category = Category.PAST


@dataclass(frozen=True, slots=True)
class IsAt:
    """Is X (still) in a room, or on / in / near a piece of furniture? A yes/no question.

    `support` is the class of what X stands on, is in or is near ('sofa'); `relation` is
    'on', 'in' or 'near' ('' accepts on or in). Neither room nor support: where it was last
    seen ("is my mug still there?"). "Still" makes it `past_present`: it was there, is it
    there now?
    """

    target: Target
    room: str = ''
    support: str = ''
    relation: str = ''
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class WhereWas:
    """Where was X at a past time (and, with `also`, at each of several past times)?"""

    target: Target
    at: TimeRange
    category: Category = Category.PAST
    also: tuple[TimeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Count:
    """How many X are in a room, or on / in a piece of furniture (now, or at a time)?"""

    target: Target
    room: str = ''
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT
    support: str = ''


#: The states a `StateOf` question may ask, each with its opposite. Perception observes the
#: first three pairs (`OBSERVED_STATES`); the rest are asked ("is the bed made?") and
#: answered honestly as never observed until an attribute model reports them.
STATE_PAIRS: tuple[tuple[str, str], ...] = (
    ('open', 'closed'), ('on', 'off'), ('locked', 'unlocked'), ('made', 'unmade'),
    ('clean', 'dirty'), ('empty', 'full'), ('plugged_in', 'unplugged'))
OBSERVED_STATES = frozenset(s for pair in STATE_PAIRS[:3] for s in pair)


def state_family(state: str) -> frozenset[str]:
    """A state and its opposite ('made' → {'made', 'unmade'}); an unknown state alone."""
    for pair in STATE_PAIRS:
        if state in pair:
            return frozenset(pair)
    return frozenset({state})


@dataclass(frozen=True, slots=True)
class StateOf:
    """Is X open / on / made / empty … (now, or at a time)?"""

    target: Target
    at: TimeRange = field(default_factory=TimeRange)
    state: str = ''
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class WhatIn:
    """What is in a room (now, or at a time)?"""

    room: str
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since a time (optionally in one room, optionally for one target)?"""

    since: TimeRange
    until: TimeRange = field(default_factory=TimeRange)
    room: str = ''
    target: Target | None = None
    category: Category = Category.PAST_PRESENT


@dataclass(frozen=True, slots=True)
class History:
    """Where has X been over a period?"""

    target: Target
    since: TimeRange = field(default_factory=TimeRange)
    until: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.MULTI_PAST


@dataclass(frozen=True, slots=True)
class Usual:
    """Where is X usually (at a time of day)? Or, with `state`, is X usually on / open?

    Habits need several past instances (`multi_past`); a prediction ("where will it be
    tonight?", "where should I look?") is `past_present_future`.
    """

    target: Target
    time_of_day: str = ''
    category: Category = Category.MULTI_PAST
    state: str = ''


@dataclass(frozen=True, slots=True)
class WhenAppeared:
    """When did X first appear?"""

    target: Target
    category: Category = Category.PAST


@dataclass(frozen=True, slots=True)
class Contents:
    """What is on or in a piece of furniture or a container (now, or at a time)?

    `support_or_container` is its class ('coffee_table', 'fridge'); `relation` is 'on', 'in'
    or '' (either); `kind` narrows the answer to a class or a category of classes ("what
    *drink* is on the counter?" → 'drink'). A room picks one piece among several.
    """

    support_or_container: str
    room: str = ''
    at: TimeRange = field(default_factory=TimeRange)
    kind: str = ''
    relation: str = ''
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class AttributeOf:
    """The value of one attribute of X: 'color', 'state', 'room' or 'support'."""

    target: Target
    attribute: str
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT


@dataclass(frozen=True, slots=True)
class Exists:
    """Is there any X (in a room, on a piece of furniture)? Yes or no, with where."""

    target: Target
    room: str = ''
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT
    support: str = ''


@dataclass(frozen=True, slots=True)
class Duration:
    """How long has X been where it is (or in a room / on a piece of furniture / in a state)?

    `room_or_support` is a room id ('room:hallway') or a furniture class ('shoe_rack'); ''
    means wherever it is now. `state` asks how long it has been in that state instead.
    """

    target: Target
    room_or_support: str = ''
    state: str = ''
    category: Category = Category.MULTI_PAST


@dataclass(frozen=True, slots=True)
class Retrieve:
    """An open question that names no query shape: find the best-matching things and places.

    "Where can I make coffee?" is answered by retrieval over the scene graph (the question's
    embedding seeds personalized PageRank), with a confidence that says it is a retrieval.
    """

    text: str
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT


#: The relations a `Relation` question may ask.
RELATIONS = ('near', 'left_of', 'right_of', 'above', 'below', 'behind', 'in_front_of',
             'between')


@dataclass(frozen=True, slots=True)
class Relation:
    """What is near / left of / right of / above / below / behind / in front of X, or between
    X and `anchor2` (now, or at a time)? With `target`, only things of that class ("which mug
    is next to the kettle?").

    Left, right, behind and in front are as seen from the middle of X's room, looking at X
    (memory keeps no facing of furniture); the answer says so.
    """

    relation: str
    anchor: Target
    target: Target | None = None
    anchor2: Target | None = None
    at: TimeRange = field(default_factory=TimeRange)
    category: Category = Category.PRESENT


#: Why memory cannot answer a question (`Unanswerable.reason`).
UNANSWERABLE_REASONS: dict[str, str] = {
    'not_a_remembered_thing': 'it is not about a thing I can see and remember',
    'needs_knowledge': 'it needs knowledge or advice from outside what I have seen',
    'opinion': 'it asks for an opinion, and I only remember what I saw',
    'about_people': 'it is about people, and I remember things and places, not people',
}


@dataclass(frozen=True, slots=True)
class Unanswerable:
    """A question memory cannot answer, and why (a key of `UNANSWERABLE_REASONS`).

    Not the same as a question the parser could not read: this one was understood, and the
    honest answer is that no observation can settle it ("who lives here?", "what's the
    weather been like?", "if the power goes out, what do I do?"). `subject` is what it is
    about, when a phrase names it ("power").
    """

    text: str
    reason: str
    subject: str = ''
    category: Category = Category.PRESENT


Query = (WhereIs | LastSeen | IsAt | WhereWas | Count | StateOf | WhatIn | Changes | History
         | Usual | WhenAppeared | Contents | AttributeOf | Exists | Duration | Retrieve
         | Relation | Unanswerable)
QUERY_TYPES: dict[str, type[Query]] = {cls.__name__: cls for cls in (
    WhereIs, LastSeen, IsAt, WhereWas, Count, StateOf, WhatIn, Changes, History, Usual,
    WhenAppeared, Contents, AttributeOf, Exists, Duration, Retrieve, Relation, Unanswerable)}
ATTRIBUTES = ('color', 'state', 'room', 'support')

#: A value as JSON carries it.
JsonValue: TypeAlias = 'bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None'
#: A query as `query_to_dict` writes it: its fields by name, and its class name as `type`.
QueryDict: TypeAlias = dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of support for an answer."""

    object_id: str
    stamp_s: float
    position_m: tuple[float, float, float] | None = None
    room_id: str = ''
    obs_ids: tuple[int, ...] = ()
    note: str = ''


class _EvidenceHead(TypedDict):
    object_id: str
    stamp_s: float
    position_m: list[float] | None
    room_id: str
    obs_ids: list[int]
    note: str


class EvidenceDict(_EvidenceHead, total=False):
    """`Evidence` as JSON; the fleet's memory adds the robots that saw the object."""

    robot: str
    robots: list[str]


class AnswerDict(TypedDict):
    """`Answer` as JSON (`Answer.to_dict`)."""

    query: QueryDict | None
    answer: str
    value: JsonValue
    confidence: float
    needs_verification: bool
    evidence: list[EvidenceDict]
    error: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What memory says: a value, how sure, why, and whether it should be checked."""

    query: Query | None
    value: Any
    text: str
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    needs_verification: bool = False
    error: str = ''

    @property
    def ok(self) -> bool:
        """Whether the question was understood and answered."""
        return not self.error

    def to_dict(self) -> AnswerDict:
        """JSON-safe form (the `answer` topic and `ask --json` print this)."""
        return {
            'query': query_to_dict(self.query) if self.query is not None else None,
            'answer': self.text,
            'value': _jsonable(self.value),
            'confidence': round(float(self.confidence), 4),
            'needs_verification': self.needs_verification,
            'evidence': [_jsonable(_evidence_dict(e)) for e in self.evidence],
            'error': self.error,
        }


def _evidence_dict(e: Evidence) -> dict[str, Any]:
    return {'object_id': e.object_id, 'stamp_s': e.stamp_s, 'position_m': e.position_m,
            'room_id': e.room_id, 'obs_ids': list(e.obs_ids), 'note': e.note}


def _jsonable(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, '__dataclass_fields__'):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def query_to_dict(query: Query) -> QueryDict:
    """JSON-safe form with a `type` field."""
    out: QueryDict = {'type': type(query).__name__}
    out.update(_jsonable(query))
    return out


def query_from_dict(data: Mapping[str, Any]) -> Query:
    """Inverse of `query_to_dict`."""
    from robot_memory.exceptions import InvalidInputError

    try:
        cls = QUERY_TYPES[data['type']]
        kwargs: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            if name not in data:
                continue
            value = data[name]
            if name in ('target', 'anchor', 'anchor2'):
                value = Target(**value) if value is not None else None
            elif name in ('at', 'since', 'until'):
                value = TimeRange(**value)
            elif name == 'also':
                value = tuple(TimeRange(**v) for v in value)
            elif name == 'category':
                value = Category(value)
            kwargs[name] = value
        return cls(**kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        valid = ', '.join(QUERY_TYPES)
        raise InvalidInputError(f'malformed query {data!r} (types: {valid}): {exc}') from exc

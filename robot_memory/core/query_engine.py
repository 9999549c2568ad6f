"""Answer typed queries from episodic memory, with confidence, evidence and a belief.

Confidence comes from the staleness model: a present-tense answer is as good as the chance the
object is still where it was last seen; a past-tense answer is certain when sightings bracket
the asked time and decays with the gap otherwise. `belief()` turns a present-tense question
into hypotheses over answers, each tied to the places where it could be checked, for the
value-of-information planner.

`QueryEngine` joins the answer families, each a mixin over `EngineCore` (`engine_core.py`):
where and when (`answers_where_when.py`), contents, attributes, existence and duration
(`answers_contents.py`) and open-vocabulary retrieval (`answers_retrieve.py`).
"""

from __future__ import annotations

import math

from robot_memory.core.answers_contents import ContentsAnswers
from robot_memory.core.answers_retrieve import RetrievalAnswers
from robot_memory.core.answers_where_when import NEAR_M, WhereWhenAnswers
from robot_memory.core.engine_core import EngineParams, Hypothesis, LabelMatcher, TextScorer
from robot_memory.core.events import FactKey
from robot_memory.core.queries import (
    UNANSWERABLE_REASONS,
    Answer,
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    Relation,
    Retrieve,
    StateOf,
    Unanswerable,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
)
from robot_memory.exceptions import InvalidInputError

__all__ = ['NEAR_M', 'EngineParams', 'Hypothesis', 'LabelMatcher', 'QueryEngine', 'TextScorer']


class QueryEngine(WhereWhenAnswers, ContentsAnswers, RetrievalAnswers):
    """Answers `Query` values from an `EpisodicMemory`."""

    def answer(self, query: Query, now_s: float | None = None) -> Answer:
        """Answer one query as of `now_s` (default: the memory's clock)."""
        now = self.memory.now_s if now_s is None else now_s
        match query:
            case WhereIs():
                return self._where_is(query, now)
            case LastSeen():
                return self._last_seen(query, now)
            case WhereWas():
                return self._where_was(query, now)
            case Count():
                return self._count(query, now)
            case StateOf():
                return self._state_of(query, now)
            case WhatIn():
                return self._what_in(query, now)
            case Changes():
                return self._changes(query, now)
            case History():
                return self._history(query, now)
            case Usual():
                return self._usual(query, now)
            case WhenAppeared():
                return self._when_appeared(query, now)
            case IsAt():
                return self._is_at(query, now)
            case Contents():
                return self._contents(query, now)
            case AttributeOf():
                return self._attribute_of(query, now)
            case Exists():
                return self._exists(query, now)
            case Duration():
                return self._duration(query, now)
            case Retrieve():
                return self._retrieve(query, now)
            case Relation():
                return self._relation(query, now)
            case Unanswerable():
                return _unanswerable(query)
        raise InvalidInputError(f'not a query: {query!r}')

    def belief(self, query: Query, now_s: float | None = None) -> list[Hypothesis]:
        """Hypotheses over the answer of a present-tense query; [] if looking cannot help."""
        now = self.memory.now_s if now_s is None else now_s
        layout = self.memory.layout_at(now)

        def places_of(room: str) -> frozenset[str]:
            return frozenset(layout.places_in(room)) if layout.has_node(room) else frozenset()

        if isinstance(query, WhereIs):
            # (LastSeen is about past sightings: memory answers it, looking cannot fix it.)
            cands = self.candidates(query.target, now)
            label = self.resolve_label(query.target.label)
            best = max(cands, key=lambda s: (self._p_still(s, now), s.last_seen_s),
                       default=None)
            p_stay = self._p_still(best, now) if best is not None else 0.0
            prior = self.room_prior(best.object_id if best else None, label, now)
            hyps = []
            for room, p in prior.items():
                prob = (1 - p_stay) * p + (p_stay if best and room == best.room_id else 0.0)
                hyps.append(Hypothesis(room, prob, places_of(room)))
            return _normalise(hyps)
        if isinstance(query, IsAt) and query.at.is_now:
            answer = self.answer(query, now)
            if answer.value is None:
                return []
            room = query.room or str(answer.value.get('room') or '')
            places = places_of(room)
            p = float(answer.value['p_yes'])
            # Looking there settles it either way: both answers are checked at its places.
            return _normalise([Hypothesis('yes', p, places), Hypothesis('no', 1 - p, places)])
        if isinstance(query, StateOf) and query.at.is_now:
            cands = self.candidates(query.target, now)
            if not cands:
                return []
            best = cands[0]
            p = self._p_state(best, now) if best.present else 0.2
            states = {best.state or 'unknown'}
            others = {str(h.facts[FactKey.STATE][-1].value)
                      for h in self._histories_of(best.label)
                      if h.facts[FactKey.STATE]} - states - {''}
            places = places_of(best.room_id)
            hyps = [Hypothesis(best.state or 'unknown', p, places)]
            for s in sorted(others) or ['changed']:
                hyps.append(Hypothesis(s, (1 - p) / max(len(others), 1), places))
            return _normalise(hyps)
        if isinstance(query, Changes) and query.target is not None and query.until.is_now:
            cands = self.candidates(query.target, now)
            if not cands:
                return []
            best = cands[0]
            p = self._p_still(best, now)
            places = places_of(best.room_id)
            return _normalise([Hypothesis('stayed', p, places),
                               Hypothesis('moved', 1 - p, places)])
        if isinstance(query, AttributeOf) and query.attribute == 'state' and query.at.is_now:
            return self.belief(StateOf(query.target), now)
        if isinstance(query, Exists) and query.at.is_now and \
                query.category is not Category.PAST:
            answer = self.answer(query, now)
            p_yes = answer.confidence if answer.value['yes'] else 1.0 - answer.confidence
            if answer.value['yes']:
                rooms = {o['room'] for o in answer.value['objects'][:3]}
            else:
                rooms = {query.room} if query.room else {r['room'] for r in
                                                         answer.value['looked_in']}
            places = frozenset().union(*(places_of(r) for r in rooms)) if rooms else frozenset()
            return _normalise([Hypothesis('yes', p_yes, places),
                               Hypothesis('no', 1.0 - p_yes, places)])
        if isinstance(query, Contents) and query.at.is_now:
            answer = self.answer(query, now)
            if answer.value is None:
                return []
            rooms = {p['room'] for p in answer.value['pieces']}
            places = frozenset().union(*(places_of(r) for r in rooms))
            return _as_remembered(answer.confidence, places, answer.value['count'] + 1)
        if isinstance(query, Count | WhatIn | Changes) and _is_now(query):
            room = query.room
            if not room:
                return []
            answer = self.answer(query, now)
            size = len(answer.value.get('objects', [])) if isinstance(query, WhatIn) else 1
            return _as_remembered(answer.confidence, places_of(room), size + 1)
        return []


def _unanswerable(query: Unanswerable) -> Answer:
    """Say plainly that memory cannot answer, and why; looking around would not help."""
    why = UNANSWERABLE_REASONS.get(query.reason, query.reason)
    return Answer(query, {'kind': 'unanswerable', 'reason': query.reason,
                          'subject': query.subject},
                  f'My memory cannot answer that: {why}.', 0.0)


def _is_now(query: Count | WhatIn | Changes | Contents | Exists) -> bool:
    return query.until.is_now if isinstance(query, Changes) else query.at.is_now


def _as_remembered(p: float, places: frozenset[str], ways: int) -> list[Hypothesis]:
    """Memory's answer is right with `p`; otherwise it changed in one of several ways.

    "Changed" is not an answer one can give without looking: it stands for `ways` different
    answers (a count one more or one less, one item more or less on the table), so memory's
    own answer stays the best guess unless looking says otherwise.
    """
    ways = max(ways, 2)
    rest = (1.0 - p) / ways
    return _normalise([Hypothesis('as remembered', p, places),
                       *(Hypothesis(f'changed:{i}', rest, places) for i in range(ways))])


def _normalise(hyps: list[Hypothesis]) -> list[Hypothesis]:
    total = sum(h.prob for h in hyps)
    if total <= 0 or not math.isfinite(total):
        return hyps
    return sorted((Hypothesis(h.value, h.prob / total, h.places) for h in hyps),
                  key=lambda h: -h.prob)

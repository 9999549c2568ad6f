"""The shape of a question: the cascade of cue rules that decides which query it asks.

`ShapeRules._decide` tries the rules in a fixed order (retrieval, duration, count, first
appearance, "when", attribute, habit and prediction, changes, contents, existence, state,
what is in a room, is-at, where) and lets `SlotFiller` fill the chosen shape; the order is
the parser's main design decision, so it reads top to bottom in one place. `_build_forced`
fills the shape the intent classifier chose when no rule matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Count,
    Query,
    StateOf,
    Target,
    Usual,
    WhatIn,
    WhenAppeared,
)
from robot_memory.language.cues import (
    CHANGE,
    COUNT,
    DURATION,
    EXISTENTIAL,
    FIRST,
    FUTURE,
    HABIT,
    HAVE_ANY,
    KEEP_TARGET,
    LAST,
    PAST,
    PREDICT,
    RELATION_ASK,
    RETRIEVE,
    SAME_AS,
    SEEN,
    SEEN_ANY,
    STATE_QUESTION,
    STILL,
    STILL_THERE,
    WHAT,
    WHEN,
    WHEN_CLAUSE,
    WHERE,
    YES_NO_BE,
)
from robot_memory.language.lexicon import CONTENT_PREPOSITIONS, LOCATION_PREPOSITIONS
from robot_memory.language.names import Phrase, only_generic, place_phrases
from robot_memory.language.slots import ParseFailure, SlotFiller
from robot_memory.language.timeexpr import TimeExpression, TimeKind
from robot_memory.language.vocabulary import human_name


class ShapeRules(SlotFiller):
    """Decides a question's shape from its cue words and fills it."""

    def _decide(self, question: str, cue: str, phrases: list[Phrase], state: str,
                room_id: str, when: TimeExpression | None, now_s: float,
                matched: dict[str, Any]) -> Query:
        """The question's shape from its cue words, then the slots from its phrases.

        `matched['shape']` is set as soon as the shape is known, so that a question whose
        slots cannot be filled (an unknown room, no time for a change) still says what kind
        of question it is.
        """
        q = question.strip()
        where = bool(WHERE.search(cue))
        past = bool(PAST.search(cue))
        state_question = bool(state) or bool(STATE_QUESTION.search(cue))
        forced = matched.get('forced_shape', '')

        def shape(name: str, rule: str) -> None:
            matched['shape'] = name
            matched['rule'] = rule
            matched['category'] = str(_shape_category(name, cue, when, now_s))

        def target(room_scopes_target: bool = True) -> Target:
            # A room narrows the target ("the mug in the kitchen") unless it is the query's
            # own scope (how many mugs *in the kitchen*).
            return self._target(q, phrases, room_id if room_scopes_target else '', matched)

        def require_known_scope() -> None:
            # "How many mugs are in the cooking area / on the table?" must not become a count
            # of the whole home or room.
            if not room_id and matched.get('ignored'):
                raise ParseFailure(f'unknown room {matched["ignored"][0]!r} in {q!r}; known '
                                   f'rooms: {self._room_list()}')
            places = [' '.join(p.words) for p in phrases
                      if p.preceded_by in LOCATION_PREPOSITIONS and not only_generic(p)]
            if matched.get('place') or places:
                place = human_name(matched.get('place') or places[0])
                raise ParseFailure(f'{q!r} asks about what is at {place!r}, which is not a '
                                   'room; I can count and list things per room')

        has_object = any(p.label is not None or not only_generic(p) for p in phrases)
        what_form = bool(WHAT.search(cue)) and not where
        existential = bool(EXISTENTIAL.search(cue) or HAVE_ANY.search(cue))
        support = self._support(phrases)
        if forced:
            return self._build_forced(forced, q, cue, phrases, state, room_id, when, past,
                                      now_s, matched, target)
        if RETRIEVE.search(cue) and not HABIT.search(cue) and not KEEP_TARGET.search(cue):
            shape('Retrieve', 'retrieve')
            return self._retrieve(q, when, now_s)
        if DURATION.search(cue):
            shape('Duration', 'duration')
            return self._duration(q, target, phrases, room_id, state, matched)
        if COUNT.search(cue):
            shape('Count', 'count')
            at, category = self._at(q, when, past, now_s)
            on = self._support(phrases)
            if on is None:
                require_known_scope()
            label = ''
            if on is not None:
                # "How many cups are in the sink?": counted on / in a piece of furniture.
                label = self._read_support(on, matched)
            return Count(target(False), room_id, at, self._category(cue, category), label)
        if FIRST.search(cue) and (WHEN.search(cue) or where or re.search(
                r'\bappear|\bup\b|\barriv|\bwhat (?:day|time)\b', cue)):
            shape('WhenAppeared', 'when_appeared')
            if when is not None and when.kind is not TimeKind.NOW:
                raise ParseFailure(f'{q!r} asks when something first appeared but also names a '
                                   f'time ({when.text!r}); ask without the time')
            return WhenAppeared(target())
        if WHEN.search(cue) and not WHEN_CLAUSE.search(cue):
            shape('LastSeen', 'last_seen')
            if LAST.search(cue) or SEEN.search(cue) or SEEN_ANY.search(cue):
                return self._last_seen(q, target(), when, now_s)
            raise ParseFailure(f'{q!r} asks "when" but not when something was last seen or first '
                               'appeared; those are the "when" questions I can answer')
        attribute = self._attribute(cue)
        if attribute and not HABIT.search(cue):
            shape('AttributeOf', 'attribute')
            at, category = self._at(q, when, past, now_s)
            return AttributeOf(target(), attribute, at, self._category(cue, category))
        if HABIT.search(cue) or PREDICT.search(cue):
            shape('Usual', 'usual')
            if state_question and not where and not state:
                raise ParseFailure(f'{q!r} asks what state something is usually in; ask about one '
                                   'state, e.g. "is the lamp usually on?"')
            category = (Category.PAST_PRESENT_FUTURE if PREDICT.search(cue)
                        or FUTURE.search(cue) else Category.MULTI_PAST)
            return Usual(target(), when.time_of_day if when is not None else '', category,
                         state='' if where else state)
        if where and (FUTURE.search(cue) or (when is not None and when.is_future(now_s))):
            shape('Usual', 'usual')
            return Usual(target(), when.time_of_day if when is not None else '',
                         Category.PAST_PRESENT_FUTURE)
        if SAME_AS.search(cue) or (CHANGE.search(cue) and not where):
            shape('Changes', 'changes')
            require_known_scope_changes = not SAME_AS.search(cue)
            if require_known_scope_changes and not has_object:
                require_known_scope()
            return self._changes(q, phrases, room_id, when, now_s, matched)
        if RELATION_ASK.search(cue):
            shape('Relation', 'relation')
            at, category = self._at(q, when, past, now_s)
            return self._relation(q, cue, phrases, room_id, at, self._category(cue, category),
                                  matched)
        contents = self._contents_place(cue, phrases, what_form, existential, has_object)
        if contents is not None:
            shape('Contents', 'contents')
            at, category = self._at(q, when, past, now_s)
            return self._contents(q, contents, phrases, room_id, at,
                                  self._category(cue, category), matched)
        if existential and not where and not (what_form and not has_object):
            if room_id and not has_object:
                shape('WhatIn', 'what_in')
                at, category = self._at(q, when, past, now_s)
                return WhatIn(room_id, at, self._category(cue, category))
            shape('Exists', 'exists')
            return self._exists(q, cue, target, phrases, support, room_id, when, past, now_s,
                                matched)
        if state_question and not where:
            shape('StateOf', 'state_of')
            at, category = self._at(q, when, past, now_s)
            return StateOf(target(), at, state, self._category(cue, category))
        if what_form and not has_object:
            shape('WhatIn', 'what_in')
            require_known_scope()
        if what_form and room_id and not has_object:
            shape('WhatIn', 'what_in')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        seen = bool(SEEN.search(cue))
        if (YES_NO_BE.search(cue) and not EXISTENTIAL.search(cue) and not where
                and not seen and not LAST.search(cue)) and (
                room_id or support is not None or STILL_THERE.search(cue)):
            shape('IsAt', 'is_at')
            return self._is_at(q, cue, target, room_id, support, when, past, now_s, matched)
        if where or seen or LAST.search(cue) or (
                YES_NO_BE.search(cue) and (room_id or matched.get('place'))):
            return self._where(q, cue, target, when, past, seen, now_s, matched)
        if what_form and room_id:
            shape('WhatIn', 'what_in')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        if what_form and not room_id and not has_object and re.search(r'\bin\b', cue):
            shape('WhatIn', 'what_in')
            raise ParseFailure(f'{q!r} asks what is somewhere but names no room I know; known '
                               f'rooms: {self._room_list()}')
        raise ParseFailure(
            f'could not tell what {q!r} asks: none of the question forms I know (where is …, '
            'where was … on <day>, when did you last see …, is … still in <room>, how many … in '
            '<room>, is … open, what colour is …, what is on the <furniture>, is there any …, '
            'how long has … been …, what is in <room>, what changed since …, where is … '
            'usually, when did … first appear, where can I <do something>)')

    def _build_forced(self, shape: str, q: str, cue: str, phrases: list[Phrase], state: str,
                      room_id: str, when: TimeExpression | None, past: bool, now_s: float,
                      matched: dict[str, Any], target: Callable[..., Target]) -> Query:
        """Fill the slots of a shape the intent classifier chose (no cue rule matched)."""
        matched['shape'] = shape
        matched['rule'] = f'classifier:{shape}'
        if shape == 'Retrieve':
            return self._retrieve(q, when, now_s)
        if shape == 'Duration':
            return self._duration(q, target, phrases, room_id, state, matched)
        if shape == 'Contents':
            places = place_phrases(phrases, CONTENT_PREPOSITIONS)
            if not places:
                raise ParseFailure(f'{q!r} reads as a question about what is on or in something, '
                                   'but names no piece of furniture or container')
            at, category = self._at(q, when, past, now_s)
            return self._contents(q, places[0], phrases, room_id, at, category, matched)
        if shape == 'Exists':
            return self._exists(q, cue, target, phrases, self._support(phrases), room_id,
                                when, past, now_s, matched)
        if shape == 'WhatIn':
            if not room_id:
                raise ParseFailure(f'{q!r} reads as a question about what is in a room, but names '
                                   f'no room I know; known rooms: {self._room_list()}')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        if shape == 'Count':
            at, category = self._at(q, when, past, now_s)
            return Count(target(False), room_id, at, category)
        if shape == 'AttributeOf':
            at, category = self._at(q, when, past, now_s)
            return AttributeOf(target(), 'state' if state else 'color', at, category)
        if shape == 'StateOf':
            at, category = self._at(q, when, past, now_s)
            return StateOf(target(), at, state, self._category(cue, category))
        if shape == 'IsAt':
            return self._is_at(q, cue, target, room_id, self._support(phrases), when, past,
                               now_s, matched)
        if shape == 'Usual':
            return Usual(target(), when.time_of_day if when is not None else '',
                         Category.PAST_PRESENT_FUTURE if FUTURE.search(cue)
                         else Category.MULTI_PAST)
        if shape == 'Changes':
            return self._changes(q, phrases, room_id, when, now_s, matched)
        if shape == 'WhenAppeared':
            return WhenAppeared(target())
        if shape in ('WhereIs', 'LastSeen', 'WhereWas', 'History'):
            return self._where(q, cue, target, when, past, shape == 'LastSeen', now_s,
                               matched)
        raise ParseFailure(f'could not tell what {q!r} asks')


def _shape_category(shape: str, cue: str, when: TimeExpression | None,
                    now_s: float) -> Category:
    """What a question of a shape needs from memory, from its words and time alone (used
    where its slots could not all be filled)."""
    timed = when is not None and when.kind is not TimeKind.NOW
    past_time = timed and when is not None and not when.contains(now_s) and \
        when.kind is TimeKind.PERIOD
    if shape == 'Usual':
        return (Category.PAST_PRESENT_FUTURE if PREDICT.search(cue) or FUTURE.search(cue)
                else Category.MULTI_PAST)
    if shape in ('Duration', 'History'):
        return Category.MULTI_PAST
    if shape == 'Changes':
        if when is not None and when.kind is TimeKind.BETWEEN:
            return Category.MULTI_PAST
        return Category.PAST_PRESENT
    if shape in ('WhenAppeared', 'LastSeen', 'WhereWas'):
        return Category.PAST
    if past_time or (shape == 'Exists' and SEEN_ANY.search(cue)):
        return Category.PAST
    if STILL.search(cue):
        return Category.PAST_PRESENT
    return Category.PRESENT

"""Slot filling: the target, place and time of a question whose shape is known.

`SlotFiller` adds to the name matching the builders of each query shape: which object is
asked about, the furniture a question names, the time range and what the question needs of
memory (`Category`), and the "where" family (where is / was, last seen, history) that the
time named decides between. A question whose slots cannot be filled raises `ParseFailure`
with the reason a user reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from robot_memory.core.queries import (
    Category,
    Changes,
    Contents,
    Duration,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    Relation,
    Retrieve,
    Target,
    TimeRange,
    Usual,
    WhereIs,
    WhereWas,
)
from robot_memory.language.cues import (
    ANYTHING,
    ATTRIBUTE,
    HISTORY,
    HISTORY_STRONG,
    LAST,
    PERFECT,
    RELATION_WORD,
    SAME_AS,
    SEEN_ANY,
    STILL,
)
from robot_memory.language.lexicon import (
    ANCHOR_WORDS,
    ATTRIBUTE_NAMES,
    CONTENT_PREPOSITIONS,
    LOCATION_PREPOSITIONS,
    RELATION_NAMES,
    RELATIONS,
)
from robot_memory.language.names import (
    NameMatcher,
    Phrase,
    normalise,
    only_generic,
    place_phrases,
)
from robot_memory.language.timeexpr import DAY_S, TimeExpression, TimeKind


class ParseFailure(Exception):
    """A question the rules cannot read; the message is the user-facing reason."""


class SlotFiller(NameMatcher):
    """Builds each query shape from a question's phrases, room and time."""

    def _target(self, q: str, phrases: list[Phrase], room_id: str,
                matched: dict[str, Any]) -> Target:
        candidates = [p for p in phrases if p.words and not only_generic(p)
                      and not (len(p.words) == 1 and p.words[0] in self._colors)]
        if not candidates:
            raise ParseFailure(f'could not tell which object {q!r} is about: it names no object '
                               '(say which, e.g. "the red mug")')

        def rank(p: Phrase) -> tuple[int, int]:
            score = 2 if p.label is not None else 0
            score += 1 if p.determined or p.preceded_by == 'many' else 0
            score -= 3 if p.preceded_by in LOCATION_PREPOSITIONS else 0
            return score, -p.start

        best = max(candidates, key=rank)
        text = ' '.join(([best.color] if best.color else []) + best.words)
        matched['target'] = text
        if best.label is not None:
            label, how, score = best.label.value, best.label.how, 1.0
        else:
            label, how, score = self._open_label(best.words)
        matched.update(label=label, label_match=how)
        if how == 'embedding':
            matched['label_score'] = round(score, 3)
        if best.color:
            matched['color'] = best.color
        return Target(label, best.color, room_id, text)

    def _read_support(self, support: Phrase, matched: dict[str, Any]) -> str:
        """The class of the furniture a question names, recorded in `matched`."""
        label = self._phrase_label(support)
        matched.update(support=' '.join(support.words), support_label=label)
        return label

    def _category(self, cue: str, category: Category) -> Category:
        """Refine a point-in-time category by what the words ask of memory."""
        if category is Category.PRESENT and STILL.search(cue):
            return Category.PAST_PRESENT
        return category

    def _attribute(self, cue: str) -> str:
        m = ATTRIBUTE.search(cue)
        if m is None:
            return ''
        word = next(g for g in m.groups() if g)
        if ' or ' in word:
            return 'temperature' if {'hot', 'cold'} & set(word.split()) else 'state'
        return ATTRIBUTE_NAMES.get(word, word)

    def _retrieve(self, q: str, when: TimeExpression | None, now_s: float) -> Retrieve:
        at = TimeRange()
        category = Category.PRESENT
        if when is not None and when.kind is TimeKind.PERIOD and when.is_past(now_s):
            at, category = when.range, Category.PAST
        return Retrieve(q, at, category)

    def _duration(self, q: str, target: Callable[[bool], Target], phrases: list[Phrase],
                  room_id: str, state: str, matched: dict[str, Any]) -> Duration:
        what = target(False)
        support = self._support(phrases)
        place = room_id or (self._read_support(support, matched) if support else '')
        return Duration(what, place, state)

    def _contents_place(self, cue: str, phrases: list[Phrase], what_form: bool,
                        existential: bool, has_object: bool) -> Phrase | None:
        """The furniture or container a "what is on / in …" question asks about, if any."""
        places = place_phrases(phrases, CONTENT_PREPOSITIONS)
        if not places:
            return None
        # Phrases after the place ("the drawer *of the cabinet*", "the shelf *above the TV*")
        # describe the place, not what is on it.
        others = [p for p in phrases if p not in places and not only_generic(p)
                  and p.preceded_by not in LOCATION_PREPOSITIONS and p.preceded_by != 'of']
        anything = bool(ANYTHING.search(cue))
        if what_form and (not others or self._is_kind_filter(others, places)):
            return places[0]
        if (existential or anything) and anything and not others:
            return places[0]
        return None

    def _is_kind_filter(self, others: list[Phrase], places: list[Phrase]) -> bool:
        # "what drink is on the counter?": the one other phrase comes first, right after
        # "what"/"which".
        return len(others) == 1 and others[0].start < places[0].start and \
            others[0].preceded_by in ('what', 'which', 'any', 'some', '')

    def _contents(self, q: str, place: Phrase, phrases: list[Phrase], room_id: str,
                  at: TimeRange, category: Category, matched: dict[str, Any]) -> Contents:
        label = self._phrase_label(place)
        relation = RELATIONS.get(place.preceded_by, '')
        others = [p for p in phrases if p is not place and not only_generic(p)
                  and p.start < place.start]
        kind = ''
        if others:
            other = others[0]
            kind = self._phrase_label(other)
            matched['kind'] = kind
        matched.update(support=' '.join(place.words), support_label=label)  # the container
        return Contents(label, room_id, at, kind, relation, category)

    def _exists(self, q: str, cue: str, target: Callable[[bool], Target],
                phrases: list[Phrase], support: Phrase | None, room_id: str,
                when: TimeExpression | None, past: bool, now_s: float,
                matched: dict[str, Any]) -> Exists:
        what = target(False)
        label = ''
        if support is not None:
            label = self._read_support(support, matched)
        seen = bool(SEEN_ANY.search(cue))
        at, category = self._at(q, when, past or seen, now_s)
        if seen and at.is_now:
            category = Category.PAST
        return Exists(what, room_id, at, self._category(cue, category), label)

    def _where(self, q: str, cue: str, target: Callable[[], Target],
               when: TimeExpression | None, past: bool, seen: bool, now_s: float,
               matched: dict[str, Any]) -> Query:
        timed = when is not None and when.kind is not TimeKind.NOW

        def rule(name: str, shape: str) -> None:
            matched['rule'] = name
            matched['shape'] = shape

        also = matched.get('also_times') or ()
        if also and when is not None:
            rule('where_was', 'WhereWas')
            ranges = [when, *also]
            if any(t.is_future(now_s) for t in ranges):
                raise ParseFailure(_future_error(next(t for t in ranges if t.is_future(now_s))))
            return WhereWas(target(), when.range, Category.MULTI_PAST,
                            tuple(t.range for t in also))
        if HISTORY_STRONG.search(cue):
            rule('history', 'History')
            if timed and when is not None and when.kind is not TimeKind.TIME_OF_DAY:
                since, until = _since_until(when, now_s)
                return History(target(), since, until)
            return History(target())
        if LAST.search(cue) or (seen and not timed):
            rule('last_seen', 'LastSeen')
            return self._last_seen(q, target(), when, now_s)
        if when is not None and (when.kind in (TimeKind.SINCE, TimeKind.BETWEEN) or (
                when.kind is TimeKind.PERIOD and _span_s(when) > DAY_S + 3 * 3600)):
            rule('history', 'History')
            since, until = _since_until(when, now_s)
            return History(target(), since, until)
        if HISTORY.search(cue) and (not timed or PERFECT.search(cue)):
            rule('history', 'History')
            if timed and when is not None and when.kind is TimeKind.PERIOD:
                since, until = _since_until(when, now_s)
                return History(target(), since, until)
            return History(target())
        if timed:
            assert when is not None
            if when.kind is TimeKind.TIME_OF_DAY and not past:
                rule('usual', 'Usual')
                return Usual(target(), when.time_of_day, Category.MULTI_PAST)
            if when.is_past(now_s) or past:
                rule('where_was', 'WhereWas')
                return WhereWas(target(), when.range)
        rule('where_is', 'WhereIs')
        return WhereIs(target())

    def _relation(self, q: str, cue: str, phrases: list[Phrase], room_id: str, at: TimeRange,
                  category: Category, matched: dict[str, Any]) -> Relation:
        """What stands in a relation to a thing: the relation word, the thing after it (two,
        for "between … and …") and, before it, the kind of thing asked for ("which mug")."""
        word = RELATION_WORD.search(cue)
        assert word is not None  # RELATION_ASK matched
        relation = RELATION_NAMES[word.group(0)]
        if relation == 'near' and re.search(r'\bin front of\b', q.lower()):
            relation = 'in_front_of'  # normalise() reads "in front of" as "by"
        named = [p for p in phrases if p.words and not only_generic(p)]
        first = next((i for i, p in enumerate(named) if p.preceded_by in ANCHOR_WORDS), None)
        if first is None:
            raise ParseFailure(f'{q!r} asks what is {word.group(0)} something, but names no '
                               'thing to measure from')

        def as_target(p: Phrase, room: str = '') -> Target:
            text = ' '.join(([p.color] if p.color else []) + p.words)
            return Target(self._phrase_label(p), p.color, room, text)

        anchor = as_target(named[first], room_id)
        anchor2 = None
        if relation == 'between':
            rest = [p for p in named[first + 1:] if p.preceded_by == 'and']
            if not rest:
                raise ParseFailure(f'{q!r} asks what is between two things but names one; say '
                                   '"between the sofa and the window"')
            anchor2 = as_target(rest[0], room_id)
        kinds = [p for p in named[:first] if p.preceded_by not in LOCATION_PREPOSITIONS]
        target = as_target(kinds[0]) if kinds else None
        matched.update(relation=relation, anchor=anchor.text)
        if target is not None:
            matched['target'] = target.text
        return Relation(relation, anchor, target, anchor2, at, category)

    def _support(self, phrases: list[Phrase]) -> Phrase | None:
        """The furniture a yes/no location question names ("still on the sofa"), if any."""
        places = place_phrases(phrases, LOCATION_PREPOSITIONS)
        return places[0] if places and len(phrases) > len(places) else None

    def _is_at(self, q: str, cue: str, target: Callable[[bool], Target], room_id: str,
               support: Phrase | None, when: TimeExpression | None, past: bool, now_s: float,
               matched: dict[str, Any]) -> IsAt:
        # The room is where to check, not which object: "is the mug still in the kitchen?"
        what = target(False)
        label = relation = ''
        if support is not None:
            words = ' '.join(support.words)
            label = self._phrase_label(support)
            relation = RELATIONS.get(support.preceded_by, 'near')
            matched.update(support=words, support_label=label, relation=relation)
        at, category = self._at(q, when, past, now_s)
        if category is Category.PRESENT and STILL.search(cue):
            category = Category.PAST_PRESENT
        return IsAt(what, room_id, label, relation, at, category)

    def _last_seen(self, q: str, target: Target, when: TimeExpression | None,
                   now_s: float) -> Query:
        if when is None or when.kind is TimeKind.NOW:
            return LastSeen(target)
        if when.kind is TimeKind.PERIOD and not when.is_future(now_s):
            return WhereWas(target, when.range)
        raise ParseFailure(f'{q!r} asks where something was last seen but names a time '
                           f'({when.text!r}) I cannot use there; ask about one past day or time')

    def _at(self, q: str, when: TimeExpression | None, past: bool,
            now_s: float) -> tuple[TimeRange, Category]:
        if when is None or when.kind is TimeKind.NOW:
            return TimeRange(text=when.text if when else ''), Category.PRESENT
        if when.kind in (TimeKind.SINCE, TimeKind.BETWEEN):
            raise ParseFailure(f'{q!r} names a stretch of time ({when.text!r}) but asks about one '
                               'moment; ask about one day or time instead')
        if when.is_future(now_s):
            raise ParseFailure(_future_error(when))
        present = when.contains(now_s) and not past
        return when.range, Category.PRESENT if present else Category.PAST

    def _changes(self, q: str, phrases: list[Phrase], room_id: str,
                 when: TimeExpression | None, now_s: float, matched: dict[str, Any]) -> Changes:
        if when is None or when.kind is TimeKind.NOW:
            raise ParseFailure(f'{q!r} asks what changed but not since when; add a time such as '
                               '"since yesterday" or "since Monday"')
        if when.is_future(now_s):
            raise ParseFailure(_future_error(when))
        target = None
        if any(p.label is not None or not only_generic(p) for p in phrases):
            target = self._target(q, phrases, '', matched)
        if SAME_AS.search(normalise(q)) and when.kind is TimeKind.PERIOD:
            # "still in the same spot as on Wednesday": Wednesday's last state against now.
            end = when.end_s if when.end_s is not None else now_s
            since = TimeRange(min(end, now_s) - 1e-3, None, when.text)
            return Changes(since, TimeRange(), room_id, target, Category.PAST_PRESENT)
        since, until = _since_until(when, now_s)
        # "Between Monday and Wednesday" compares two past days, even if the second is today.
        category = (Category.MULTI_PAST if not until.is_now or when.kind is TimeKind.BETWEEN
                    else Category.PAST_PRESENT)
        return Changes(since, until, room_id, target, category)


def _span_s(when: TimeExpression) -> float:
    if when.start_s is None or when.end_s is None:
        return float('inf')
    return when.end_s - when.start_s


def _since_until(when: TimeExpression, now_s: float) -> tuple[TimeRange, TimeRange]:
    """`Changes`/`History` ends: `since` keeps the start, `until` the end (None: now)."""
    since = TimeRange(when.start_s, None, when.text)
    if when.end_s is None or when.end_s > now_s:
        return since, TimeRange()
    return since, TimeRange(None, when.end_s, when.text)


def _future_error(when: TimeExpression) -> str:
    text = re.sub(r'^on\s+', '', when.text)
    return (f'{text!r} is in the future; memory knows only the past and the present (ask '
            'where something usually is for a prediction)')

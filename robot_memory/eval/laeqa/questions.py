"""The LA-EQA questions: generated from the ground truth, and the structural check of answers.

Fifteen types over five categories, phrased by templates (built-in or `--phrasings`); each
question carries its structural truth (room and support, exact count, yes/no, day), which
`is_correct` compares an answer's value with.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from robot_memory.core.clock import DAY_PARTS, WEEKDAYS
from robot_memory.core.queries import Category
from robot_memory.sim.clock import DAY_S, SIM_EPOCH_S
from robot_memory.sim.truth import ObjectTruth

__all__ = ['ASKED_HOUR', 'EvalQuestion', 'SightedRun', 'generate_questions', 'is_correct']

# Questions come the next day at 17:00, before the evening patrol: a whole day of people
# moving things since the robot last looked, so memory is partly stale.
ASKED_HOUR = 17.0


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One benchmark question with its structural truth."""

    qid: int
    qtype: str
    category: Category
    text: str
    label: str
    color: str
    expected: dict[str, Any]
    room_id: str = ''
    day_start_s: float | None = None
    state: str = ''


class SightedRun(Protocol):
    """What the generator reads of a run: its simulator's truth and when it saw each object.

    `Patrolled` (the benchmark's patrols) and the demo's run through ROS 2 both provide it.
    """

    @property
    def sim(self) -> Any:
        """The simulator; its `truth` holds every object's facts over time."""

    @property
    def seen_gt(self) -> dict[str, list[float]]:
        """Per true object id, the stamps (s) of the frames it was seen in."""


def _describe(cls: str, color: str, unique_by_class: bool) -> str:
    name = cls.replace('_', ' ')
    return name if unique_by_class else f'{color} {name}'


def _room_name(room: str) -> str:
    return room.replace('_', ' ')


def _day_start(t: float) -> float:
    return SIM_EPOCH_S + math.floor((t - SIM_EPOCH_S) / DAY_S) * DAY_S


def generate_questions(state: SightedRun, asked_s: float, phrasings: dict[str, list[str]],
                       per_type: int = 30, seed: int = 0,
                       visible: set[str] | None = None) -> list[EvalQuestion]:
    """Questions with structural answers from the ground truth at `asked_s`.

    `visible`: the objects a camera could see from the places at question time; a listing
    question ("what is on the bed?") is asked only where every item on it was seen on the
    patrols or is visible now — otherwise no planner could answer it right.
    """
    from robot_memory.language.phrasings import (
        OPEN_STATE_TYPES,
        QUESTION_TYPES,
        fill_template,
        template_fields,
    )

    rng = np.random.default_rng(seed)
    truth = state.sim.truth
    now = truth.at(asked_s)
    # Objects inside closed furniture (fridge, wardrobe, cabinet) are never in view: a
    # question whose answer needs to see them has no right answer for a camera.
    small = {k: v for k, v in now.items() if v.mobility != 'furniture' and v.relation != 'in'}
    by_desc = Counter((v.cls, v.color) for v in small.values())
    by_class = Counter(v.cls for v in small.values())
    known = {g for g, stamps in state.seen_gt.items() if len(stamps) >= 2 and g in small}
    support_cls = {k: v.cls for k, v in now.items() if v.mobility == 'furniture'}
    questions: list[EvalQuestion] = []
    first_day = _day_start(asked_s) - 6 * DAY_S

    def desc(g: str) -> str:
        v = small[g]
        return _describe(v.cls, v.color, by_class[v.cls] == 1)

    def unique(g: str) -> bool:
        v = small[g]
        return by_desc[(v.cls, v.color)] == 1

    def add(qtype: str, text_values: dict[str, str], g: str | None, expected: dict[str, Any],
            **extra: Any) -> None:
        templates = phrasings.get(qtype)
        if not templates:
            return
        template = templates[int(rng.integers(len(templates)))]
        v = small[g] if g else None
        label = extra.pop('label', v.cls if v else '')
        color = extra.pop('color', '' if v is None or by_class[v.cls] == 1 else v.color)
        true_state = extra.pop('true_state', '')
        category = QUESTION_TYPES[qtype][1]
        if qtype in OPEN_STATE_TYPES and 'state' not in template_fields(template):
            # The open question ("what state is the oven in?"): scored on the true state.
            category = OPEN_STATE_TYPES[qtype][1]
            expected, extra['state'] = {'state': true_state}, ''
        questions.append(EvalQuestion(
            len(questions), qtype, category,
            fill_template(template, **text_values), label, color, expected, **extra))

    def sample(items: list[Any]) -> list[Any]:
        items = sorted(items)
        if len(items) <= per_type:
            return items
        idx = rng.choice(len(items), size=per_type, replace=False)
        return [items[i] for i in sorted(idx)]

    candidates = sorted(g for g in known if unique(g))
    for g in sample(candidates):
        v = small[g]
        add('where_now', {'object': desc(g)}, g,
            {'room': v.room, 'support': support_cls.get(v.support, '')})
    for g in sample(candidates):
        last = max(state.seen_gt[g])
        then = truth.at(last)[g]
        # A planner that looks may see it again: then where it is now was the last sighting.
        add('where_last_seen', {'object': desc(g)}, g,
            {'room': then.room, 'support': support_cls.get(then.support, ''),
             'or_now': {'room': small[g].room, 'support': support_cls.get(small[g].support, '')}})
    for g in sample(candidates):
        # "Is it still where I left it?": asked about the room it was last seen in.
        then = truth.at(max(state.seen_gt[g]))[g]
        add('still_there', {'object': desc(g), 'room': _room_name(then.room)}, g,
            {'yes': small[g].room == then.room}, room_id=f'room:{then.room}')
    # Day questions: objects that stayed in one room (or one state) all that day.
    day_items = []
    for g in candidates:
        for stamp in state.seen_gt[g]:
            d0 = _day_start(stamp)
            if d0 < first_day or d0 + DAY_S > asked_s:
                continue
            rooms = {iv.fact.room for iv in truth.intervals(g)
                     if iv.t_from < d0 + DAY_S and iv.t_to > d0}
            states = {iv.fact.state for iv in truth.intervals(g)
                      if iv.t_from < d0 + DAY_S and iv.t_to > d0}
            day_items.append((g, d0, tuple(sorted(rooms)), tuple(sorted(states))))
    day_items = sorted(set(day_items))
    for g, d0, rooms, _ in sample([i for i in day_items if len(i[2]) == 1]):
        add('where_on_day', {'object': desc(g), 'day': _weekday(d0)}, g, {'room': rooms[0]},
            day_start_s=d0)
    stateful = [i for i in day_items if len(i[3]) == 1 and i[3][0]]
    for g, d0, _, states in sample(stateful):
        asked = _ask_state(states[0], rng)
        add('state_on_day', {'object': desc(g), 'state': asked,
                             'day': _weekday(d0)},
            g, {'yes': asked == states[0]}, day_start_s=d0, state=asked,
            true_state=states[0])
    for g in sample([g for g in candidates if small[g].state]):
        asked = _ask_state(small[g].state, rng)
        add('state_now', {'object': desc(g), 'state': asked}, g,
            {'yes': asked == small[g].state}, state=asked, true_state=small[g].state)
    counts = Counter((v.cls, v.room) for v in small.values())
    pairs = sorted({(state.sim.truth.at(asked_s)[g].cls, state.sim.truth.at(asked_s)[g].room)
                    for g in known})
    for cls, room in sample(pairs):
        add('count_in_room', {'object': cls.replace('_', ' '), 'room': _room_name(room)}, None,
            {'count': counts[(cls, room)]}, label=cls, room_id=f'room:{room}')
    for g in sample(candidates):
        stamps = state.seen_gt[g]
        # Only days the robot had seen the object before: otherwise where it stood when the
        # day began is unknowable, not a memory error.
        days_seen = sorted({_day_start(s) for s in stamps if _day_start(s) >= first_day
                            and _day_start(s) + DAY_S <= asked_s
                            and min(stamps) < _day_start(s)})
        if not days_seen:
            continue
        d0 = days_seen[int(rng.integers(len(days_seen)))]
        before = truth.at(d0).get(g)
        if before is None:
            continue
        v = small[g]
        moved = _moved(before, v)
        add('changed_since', {'object': desc(g),
                              'day': _weekday(d0)},
            g, {'yes': moved}, day_start_s=d0)
    for g in sample(candidates):
        room_counts: Counter[str] = Counter()
        d0 = _day_start(min(iv.t_from for iv in truth.intervals(g)) if truth.intervals(g)
                        else SIM_EPOCH_S)
        d0 = max(d0, SIM_EPOCH_S)
        while d0 < asked_s:
            for _, lo, hi in DAY_PARTS:
                t = d0 + (lo + hi) / 2 * 3600.0
                fact = truth.at(t).get(g) if t < asked_s else None
                if fact is not None:
                    room_counts[fact.room] += 1
            d0 += DAY_S
        if room_counts:
            top, n = room_counts.most_common(1)[0]
            if n / sum(room_counts.values()) >= 0.6:  # only clear habits have one right answer
                add('usual_location', {'object': desc(g)}, g, {'room': top})
    appeared = []
    for g in candidates:
        ivs = truth.intervals(g)
        if ivs and ivs[0].t_from > SIM_EPOCH_S + 1.0:
            appeared.append(g)
    for g in sample(appeared):
        t0 = truth.intervals(g)[0].t_from
        add('when_appeared', {'object': desc(g)}, g,
            {'day': _weekday(t0)})
    _new_type_questions(state, asked_s, add, sample, small, known, candidates, desc, rng,
                        first_day, visible)
    return questions


def _new_type_questions(state: SightedRun, asked_s: float, add: Any, sample: Any,
                        small: dict[str, Any], known: set[str], candidates: list[str],
                        desc: Any, rng: np.random.Generator, first_day: float,
                        visible: set[str] | None) -> None:
    """Contents, attribute, exists, duration and moved-between questions.

    Questions about one object ask only about objects its words pick out alone
    (`candidates`: no other of the same class and colour), like the older types.
    """
    truth = state.sim.truth
    now = truth.at(asked_s)
    furniture = {k: v for k, v in now.items() if v.mobility == 'furniture'}
    furniture_count = Counter(v.cls for v in furniture.values())
    by_class = Counter(v.cls for v in small.values())
    # What is on a piece of furniture (one of its class, with a visible top).
    seeable = set(state.seen_gt) | (visible if visible is not None else set(small))
    pieces = sorted(k for k, v in furniture.items() if furniture_count[v.cls] == 1
                    and any(o.support == k for o in small.values())
                    and not any(o.support == k and o.relation == 'in' for o in now.values())
                    and all(g in seeable for g, o in small.items() if o.support == k))
    for k in sample(pieces):
        labels = sorted({o.cls for o in small.values() if o.support == k})
        add('contents', {'furniture': furniture[k].cls.replace('_', ' ')}, None,
            {'labels': labels}, label=furniture[k].cls)
    # The colour of an object that is the only one of its class.
    for g in sample(sorted(g for g in known if by_class[small[g].cls] == 1)):
        add('attribute', {'object': small[g].cls.replace('_', ' ')}, g,
            {'color': small[g].color}, color='')
    # Is there any <class> in <room>: both answers, from classes the robot has seen.
    rooms = sorted({v.room for v in now.values()})
    seen_classes = sorted({small[g].cls for g in known})
    pairs = []
    for cls in seen_classes:
        held = {v.room for v in small.values() if v.cls == cls}
        pairs += [(cls, r, r in held) for r in rooms]
    yes = [p for p in pairs if p[2]]
    no = [p for p in pairs if not p[2]]
    ys, ns = sample(yes), sample(no)
    half = max(1, min(len(ys), len(ns), len(ys) // 2 + 1))
    for cls, room, answer in ys[:half] + ns[:half]:
        add('exists', {'object': cls.replace('_', ' '), 'room': _room_name(room)}, None,
            {'yes': answer}, label=cls, color='', room_id=f'room:{room}')
    # How long an object has been in its room: the robot can know it from when it first
    # saw it there after it arrived.
    for g in sample(candidates):
        v = small[g]
        since = None
        for iv in sorted(truth.intervals(g), key=lambda iv: iv.t_from):
            if iv.t_from > asked_s:
                break
            if iv.fact.room != v.room:
                since = None
            elif since is None:
                since = iv.t_from
        if since is None:
            continue
        seen_after = sorted(t for t in state.seen_gt[g] if t >= since)
        if not seen_after:
            continue
        # Right if dated between the arrival and the end of the patrol that first saw it
        # there (the robot confirms a change over a few sightings of one patrol).
        known_by = seen_after[0]
        for t in seen_after[1:]:
            if t - known_by > 1800.0:
                break
            known_by = t
        add('duration', {'object': desc(g), 'room': _room_name(v.room)}, g,
            {'since_s': since, 'known_by_s': known_by}, room_id=f'room:{v.room}')
    # Did it move between two past days: seen before the first and during the second.
    items = []
    today = _day_start(asked_s)
    for g in candidates:
        stamps = state.seen_gt[g]
        for d1 in np.arange(first_day, today - DAY_S, DAY_S):
            for d2 in np.arange(d1 + DAY_S, today, DAY_S):
                if min(stamps) < d1 and any(d2 <= t < d2 + DAY_S for t in stamps):
                    items.append((g, float(d1), float(d2)))
    for g, d1, d2 in sample(items):
        before, after = truth.at(d1).get(g), truth.at(d2 + DAY_S - 1.0).get(g)
        if before is None or after is None:
            continue
        moved = _moved(before, after)
        add('moved_between', {'object': desc(g), 'day': _weekday(d1), 'day2': _weekday(d2)},
            g, {'yes': moved}, day_start_s=d1)


def _weekday(t: float) -> str:
    return WEEKDAYS[int((t - SIM_EPOCH_S) // DAY_S) % 7]


def _moved(before: ObjectTruth, after: ObjectTruth) -> bool:
    """Whether an object changed room or support, or shifted more than 0.3 m, between facts."""
    return (before.room != after.room or before.support != after.support
            or math.dist(before.position_m, after.position_m) > 0.3)


def _ask_state(true_state: str, rng: np.random.Generator) -> str:
    opposite = {'open': 'closed', 'closed': 'open', 'on': 'off', 'off': 'on'}
    if true_state in opposite and rng.random() < 0.5:
        return opposite[true_state]
    return true_state



def is_correct(q: EvalQuestion, value: Any) -> bool:
    """Structural check of an answer's value against the question's truth."""
    if not isinstance(value, dict):
        return False
    e = q.expected
    if q.qtype in ('where_now', 'where_last_seen', 'where_on_day', 'usual_location'):
        options = [e, *([e['or_now']] if 'or_now' in e else [])]
        for option in options:
            given, true = value.get('support_label') or '', option.get('support') or ''
            if value.get('room') == f'room:{option["room"]}' and not (
                    given and true and given != true):
                return True
        return False
    if q.qtype == 'count_in_room':
        return bool(value.get('count') == e['count'])
    if q.qtype in ('state_now', 'state_on_day') and 'state' in e:
        return bool(value.get('state') == e['state'])
    if q.qtype in ('state_now', 'state_on_day', 'still_there', 'exists'):
        return value.get('yes') is e['yes']
    if q.qtype in ('changed_since', 'moved_between'):
        return bool(value.get('changed')) is e['yes']
    if q.qtype == 'contents':
        return bool(sorted({o.get('label') for o in value.get('objects', [])})
                    == e['labels'])
    if q.qtype == 'attribute':
        return bool(value.get('value') == e['color'])
    if q.qtype == 'duration':
        since = value.get('since_s')
        return bool(value.get('holds') and isinstance(since, int | float)
                    and e['since_s'] - 1.0 <= since <= e['known_by_s'] + 1.0)
    if q.qtype == 'when_appeared':
        return bool(value.get('day') == e['day'])
    return False

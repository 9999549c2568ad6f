"""Answers about where and when: where X is or was, is X at a place, how many, which state,
what is in a room, what changed, where X has been, where X usually is, when X appeared.

`WhereWhenAnswers` is a mixin of `QueryEngine` (over `EngineCore`): one method per query type.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from robot_memory.core.clock import DAY_PARTS
from robot_memory.core.engine_core import EngineCore, _Timeline
from robot_memory.core.episodic import ObjectFacts, ObjectState
from robot_memory.core.events import FactKey
from robot_memory.core.queries import (
    OBSERVED_STATES,
    Answer,
    Category,
    Changes,
    Count,
    Evidence,
    History,
    IsAt,
    LastSeen,
    StateOf,
    Target,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
    state_family,
)
from robot_memory.core.wording import be, sentence_start, time_words

__all__ = ['NEAR_M', 'WhereWhenAnswers']

NEAR_M = 1.5  # 'near the sofa': within this distance of one


class WhereWhenAnswers(EngineCore):
    """Where and when questions: `WhereIs`, `LastSeen`, `IsAt`, `WhereWas`, `Count`,
    `StateOf`, `WhatIn`, `Changes`, `History`, `Usual`, `WhenAppeared`."""

    def _where_is(self, q: WhereIs | LastSeen, now: float) -> Answer:
        cands = self.candidates(q.target, now)
        if not cands:
            return self._unknown(q, q.target)
        best = max(cands, key=lambda s: (self._p_still(s, now), s.last_seen_s))
        conf = self._p_still(best, now)
        when = self.memory.clock.label(best.last_seen_s)
        if best.present:
            text = (f'The {self._describe(q.target)} is {self._place_phrase(best)} '
                    f'(last seen {when}).')
        else:
            text = (f'I last saw the {self._describe(q.target)} {self._place_phrase(best)} '
                    f'{when}, but it was gone when I looked again.')
        evidence = tuple(self._evidence(s, 'best' if s is best else 'other candidate')
                         for s in [best, *[c for c in cands if c is not best]][:5])
        return Answer(q, self._location(best), text, conf, evidence, self._verify(conf))

    def _last_seen(self, q: LastSeen, now: float) -> Answer:
        cands = self.candidates(q.target, now)
        if not cands:
            return self._unknown(q, q.target)
        best = max(cands, key=lambda s: s.last_seen_s)
        value = self._location(best)
        value['when'] = self.memory.clock.label(best.last_seen_s)
        value['day'] = self.memory.clock.weekday(best.last_seen_s)
        text = (f'I last saw the {self._describe(q.target)} {self._place_phrase(best)} '
                f'{value["when"]}.')
        conf = self._p_still(best, now)
        return Answer(q, value, text, 1.0, (self._evidence(best),), self._verify(conf))

    def _at_place(self, q: IsAt, state: ObjectState) -> bool:
        """Whether a remembered object state is where an `IsAt` query asks about."""
        if not state.present or (q.room and state.room_id != q.room):
            return False
        if not q.support:
            return True
        support = self.resolve_label(q.support)
        relation, support_id = state.support if state.support else ('', '')
        if support_id and self.label_of(support_id) == support and (
                q.relation in ('', 'near') or relation == q.relation):
            return True
        # Near it, or on it with the contact not made out (memory has no support for it).
        if (q.relation != 'near' and support_id) or state.position_m is None:
            return False
        return any(s.label == support and s.position_m is not None
                   and math.dist(s.position_m, state.position_m) <= NEAR_M
                   for s in self.memory.at(state.last_seen_s, {support}).objects.values())

    def _p_at(self, q: IsAt, best: ObjectState, here: bool, t: float) -> float:
        """P(the target is where `q` asks, at `t`): it stayed there, or it moved in unseen.

        `here`: whether memory last had it there (`_at_place`).
        """
        p_stay = self._p_still(best, t)
        if not q.room or (q.support and not here):
            return p_stay if here else 0.0
        label = best.label
        prior = self.room_prior(best.object_id, label, t).get(q.room, 0.0)
        # It may have moved into the room since: as likely as the room is stale.
        came = prior * (1.0 - self._room_staleness(q.room, label, t))
        return (p_stay if here else 0.0) + (1.0 - p_stay) * came

    def _place_words(self, q: IsAt) -> str:
        parts = []
        if q.support:
            relation = {'near': 'near', 'in': 'in'}.get(q.relation, 'on')
            parts.append(f'{relation} the {q.support.replace("_", " ")}')
        if q.room:
            parts.append(f'in the {self.room_name(q.room)}')
        return ' '.join(parts)

    def _is_at(self, q: IsAt, now: float) -> Answer:
        """Yes or no, with P(yes) in the value; no room and no support: where last seen."""
        if q.support and self.resolve_label(q.support) not in self.memory.labels():
            return Answer(q, None, f'I have no memory of a {q.support.replace("_", " ")} to '
                          'check against.', 0.0, (), needs_verification=True)
        probe = q.at.probe_s(now)
        cands = self.candidates(replace(q.target, room=''), probe)
        if not cands:
            return self._unknown(q, q.target)
        if not q.room and not q.support:
            # "Is my mug still there?": in the room where it was last seen.
            last = max(cands, key=lambda s: s.last_seen_s)
            q = replace(q, room=last.room_id)
        # Whether each candidate is there is asked once: a 'near' check replays memory.
        there = {s.object_id: self._at_place(q, s) for s in cands}
        best = max(cands, key=lambda s: (there[s.object_id], self._p_still(s, probe),
                                         s.last_seen_s))
        here = there[best.object_id]
        where = self._place_words(q)
        thing = self._describe(q.target)
        when = self.memory.clock.label(best.last_seen_s)
        if q.at.is_now:
            p = self._p_at(q, best, here, probe)
        else:
            conf = self._confidence_at(best, probe, now)
            p = conf if here else 1.0 - conf
        yes = p >= 0.5
        conf = max(p, 1.0 - p)
        still = ' still' if q.category is Category.PAST_PRESENT else ''
        verb = 'is' if q.at.is_now else 'was'
        if yes and here:
            text = f'Yes, the {thing} {verb}{still} {where} (last seen {when}).'
        elif yes:
            text = (f'Probably: it is often {where}, though I last saw the {thing} '
                    f'{self._place_phrase(best)} {when}.')
        elif here:
            text = (f'Probably not any more: I saw the {thing} {where} {when}, but that was '
                    f'long enough ago that it has likely moved.')
        elif best.present:
            text = f'No, I last saw the {thing} {self._place_phrase(best)} {when}.'
        else:
            text = (f'No, the {thing} was not there when I last looked; I saw it '
                    f'{self._place_phrase(best)} {when}.')
        value = {**self._location(best), 'yes': yes, 'p_yes': round(p, 4)}
        return Answer(q, value, text, conf, (self._evidence(best),),
                      self._verify(conf) and q.at.is_now)

    def _where_was(self, q: WhereWas, now: float) -> Answer:
        if q.also:
            return self._where_was_several(q, now)
        probe = q.at.probe_s(now)
        cands = self.candidates(q.target, probe)
        if not cands:
            when = re.sub(r'^(?:on|at|in)\s+', '',
                          time_words(q.at.text) or self.memory.clock.label(probe))
            return Answer(q, None, f'I had not seen a {self._describe(q.target)} by {when}.',
                          0.0)
        best = cands[0]
        conf = self._confidence_at(best, probe, now)
        when = time_words(q.at.text) or self.memory.clock.label(probe)
        text = (f'{sentence_start(when)}, the {self._describe(q.target)} was '
                f'{self._place_phrase(best)}.')
        return Answer(q, self._location(best), text, conf, (self._evidence(best),))

    def _where_was_several(self, q: WhereWas, now: float) -> Answer:
        """One answer per asked time ("on Monday and on Wednesday")."""
        rows: list[dict[str, Any]] = []
        parts: list[str] = []
        evidence: list[Evidence] = []
        confs: list[float] = []
        for at in (q.at, *q.also):
            answer = self._where_was(replace(q, at=at, also=()), now)
            rows.append({'at': at.text, 'location': answer.value})
            text = answer.text.rstrip('.')
            parts.append(text if not parts else text[:1].lower() + text[1:])
            evidence.extend(answer.evidence)
            confs.append(answer.confidence)
        return Answer(q, {'times': rows}, '; '.join(parts) + '.', min(confs),
                      tuple(evidence))

    def _count(self, q: Count, now: float) -> Answer:
        probe = q.at.probe_s(now)
        labels = self.label_set(q.target.label)
        label = self.resolve_label(q.target.label)
        view = self.memory.at(probe, labels)
        objs = [s for s in view.objects.values() if s.label in labels
                and (not q.target.color or s.color == q.target.color)
                and (not q.room or s.room_id == q.room)]
        if q.support:
            supports = self.label_set(q.support)
            objs = [s for s in objs if s.support and self.label_of(s.support[1]) in supports]
        n = len(objs)
        if q.at.is_now:
            # Every counted object must still be there, and nothing new have come in since
            # the room was last looked at.
            conf = self._room_staleness(q.room, label, probe)
            for s in objs:
                conf *= self._p_still(s, probe)
        else:
            conf = min((self._confidence_at(s, probe, now) for s in objs), default=0.8)
        where = f' in the {self.room_name(q.room)}' if q.room else ''
        if q.support:
            where = f' on the {q.support.replace("_", " ")}{where}'
        noun = label.replace('_', ' ') + ('' if n == 1 else 's')
        text = f'{"There is" if n == 1 else "There are"} {n} {noun}{where}.'
        if not q.at.is_now:
            text = f'{sentence_start(time_words(q.at.text or "then"))}: {n} {noun}{where}.'
        return Answer(q, {'count': n, 'room': q.room, 'label': label}, text, conf,
                      tuple(self._evidence(s) for s in objs[:10]),
                      self._verify(conf) and q.at.is_now)

    def _state_of(self, q: StateOf, now: float) -> Answer:
        probe = q.at.probe_s(now)
        cands = self.candidates(q.target, probe)
        if not cands:
            return self._unknown(q, q.target)
        best = cands[0]
        state = best.state or 'unknown'
        if q.at.is_now:
            conf = self._p_state(best, now) if best.present else 0.2
        else:
            conf = self._confidence_at(best, probe, now)
        value: dict[str, Any] = {'object_id': best.object_id, 'state': state}
        if q.state and best.state not in state_family(q.state) and \
                q.state not in OBSERVED_STATES:
            # "Is the bed made?": a state memory has never observed of it is not a "no".
            asked = q.state.replace('_', ' ')
            seen = f' (I last saw it as {best.state})' if best.state else ''
            value.update(state=None, asked=q.state, observed=False, yes=None)
            return Answer(q, value, f'I have no observation of whether the '
                                    f'{self._describe(q.target)} {be(q.target.label)} '
                                    f'{asked}{seen}.', 0.0,
                          (self._evidence(best),))
        if q.state:
            value['yes'] = state == q.state
            text = (f'{"Yes" if value["yes"] else "No"}, the {self._describe(q.target)} '
                    f'{"is" if q.at.is_now else "was"} {state}.')
        else:
            text = (f'The {self._describe(q.target)} {"is" if q.at.is_now else "was"} '
                    f'{state}.')
        return Answer(q, value, text, conf, (self._evidence(best),),
                      self._verify(conf) and q.at.is_now)

    def _what_in(self, q: WhatIn, now: float) -> Answer:
        probe = q.at.probe_s(now)
        objs = self.memory.at(probe).in_room(q.room)
        items = [{'object_id': s.object_id, 'label': s.label, 'color': s.color} for s in objs]
        counts = Counter(s.label for s in objs)
        listing = ', '.join(f'{n} {lab.replace("_", " ")}{"s" if n > 1 else ""}'
                            for lab, n in sorted(counts.items())) or 'nothing I know of'
        conf = self._room_staleness(q.room, 'movable', probe)
        return Answer(q, {'room': q.room, 'objects': items},
                      f'In the {self.room_name(q.room)}: {listing}.', conf,
                      tuple(self._evidence(s) for s in objs[:20]),
                      self._verify(conf) and q.at.is_now)

    def _changes(self, q: Changes, now: float) -> Answer:
        t1 = q.since.start_s if q.since.start_s is not None else q.since.probe_s(now)
        t2 = q.until.probe_s(now)
        diff = self.memory.diff(t1, t2)
        labels = self.label_set(q.target.label) if q.target else frozenset()
        out: dict[str, list[dict[str, Any]]] = {}
        pairs: dict[str, dict[str, tuple[ObjectFacts, ObjectFacts]]] = {
            'added': {k: (v, v) for k, v in diff.added.items()},
            'removed': {k: (v, v) for k, v in diff.removed.items()},
            'moved': diff.moved,
            'state_changed': diff.state_changed,
        }
        for kind, changes in pairs.items():
            rows: list[dict[str, Any]] = []
            for object_id, (before, after) in sorted(changes.items()):
                obj_label = self.label_of(object_id)
                if q.room and q.room not in (before[1], after[1]):
                    continue
                if labels and obj_label not in labels:
                    continue
                if q.target and q.target.color and \
                        self.memory.history(object_id).color != q.target.color:
                    continue
                rows.append({'object_id': object_id, 'label': obj_label,
                             'from_room': before[1], 'to_room': after[1],
                             'from_state': before[3], 'to_state': after[3]})
            out[kind] = rows
        target = q.target
        info = self._target_change(target, t1, t2) if target is not None else None
        n = sum(len(v) for v in out.values())
        parts = [f'{len(v)} {k.replace("_", " ")}' for k, v in out.items() if v]
        text = ('Nothing changed.' if n == 0 else 'Changes: ' + ', '.join(parts) + '.')
        conf = self._room_staleness(q.room, 'movable', t2) if q.room else 0.8
        changed = info['moved'] if info is not None else n > 0
        if target is not None and info is not None:
            since = re.sub(r'^(?:since|after|compared (?:to|with)|on)\s+', '',
                           time_words(q.since.text) or self.memory.clock.label(t1))
            thing = self._describe(target)
            if info.get('object_id') is None:
                text = f'I have no memory of a {thing}.'
            elif not q.until.is_now:
                window = time_words(q.since.text) or \
                    f'{since} and {self.memory.clock.label(t2)}'
                text = (f'Yes, the {thing} moved {window}.' if changed else
                        f'No, the {thing} did not move {window}.')
            elif changed:
                text = (f'The {thing} has moved since {since}: it was in the '
                        f'{self.room_name(info.get("from_room", ""))}, and is now in the '
                        f'{self.room_name(info.get("to_room", ""))}.'
                        if info.get('present', True) else
                        f'The {thing} has moved since {since}: it is no longer where I saw it.')
            else:
                text = (f'The {thing} has not moved since {since} (in the '
                        f'{self.room_name(info.get("to_room", ""))}).')
        value: dict[str, Any] = {'changed': changed, **out}
        if info is not None:
            value['target'] = info
        return Answer(q, value, text, conf, (), self._verify(conf) and q.until.is_now)

    def _target_change(self, target: Target, t1: float, t2: float) -> dict[str, Any]:
        """Whether one object left its place between two times (lost counts as left)."""
        cands = self.candidates(target, t2)
        if not cands:
            return {'object_id': None, 'moved': False}
        object_id, label = cands[0].object_id, {cands[0].label}
        before = self.memory.at(t1, label).find_object(object_id)
        after = self.memory.at(t2, label).find_object(object_id)
        if before is None or after is None:
            return {'object_id': object_id, 'moved': False, 'known_since': before is not None}
        moved = (before.present != after.present or before.room_id != after.room_id
                 or before.position_m is None or after.position_m is None
                 or math.dist(before.position_m, after.position_m) > 0.3)
        return {'object_id': object_id, 'moved': moved, 'from_room': before.room_id,
                'to_room': after.room_id, 'present': after.present}

    def _history(self, q: History, now: float) -> Answer:
        t1 = q.since.start_s if q.since.start_s is not None else 0.0
        t2 = q.until.probe_s(now)
        cands = self.candidates(q.target, t2)
        if not cands:
            return self._unknown(q, q.target)
        history = self.memory.history(cands[0].object_id)
        visits: list[dict[str, Any]] = [
            {'room': iv.value, 'room_name': self.room_name(str(iv.value)),
             'from_s': iv.t_from, 'to_s': iv.t_to}
            for iv in history.facts[FactKey.ROOM]
            if iv.t_from < t2 and (iv.t_to is None or iv.t_to > t1)]
        names = [v['room_name'] for v in visits]
        text = (f'The {self._describe(q.target)} was in: ' + ' → '.join(names) + '.'
                if names else f'I did not see the {self._describe(q.target)} then.')
        return Answer(q, {'object_id': cands[0].object_id, 'visits': visits}, text, 1.0,
                      (self._evidence(cands[0]),))

    def _usual(self, q: Usual, now: float) -> Answer:
        cands = self.candidates(q.target, now)
        if not cands:
            return self._unknown(q, q.target)
        object_id = cands[0].object_id
        clock = self.memory.clock
        hours = [(lo + hi) / 2 for name, lo, hi in DAY_PARTS
                 if not q.time_of_day or name == q.time_of_day]
        history = self.memory.history(object_id)
        first_day = clock.start_of_day(history.created_s)
        # Sampled from the object's own intervals: no replay of the whole world per sample.
        position, room_of, support_of, state_of = (_Timeline(history.facts[k]) for k in (
            FactKey.POSITION, FactKey.ROOM, FactKey.SUPPORT, FactKey.STATE))
        places: Counter[tuple[str, str]] = Counter()
        states: Counter[str] = Counter()
        day = first_day
        while day <= now:
            for hour in hours:
                t = day + hour * 3600.0
                if t > now or position.at(t) is None:
                    continue  # not yet known, or missing then
                support = support_of.at(t)
                places[(str(room_of.at(t) or ''), support[1] if support else '')] += 1
                if state_of.at(t):
                    states[str(state_of.at(t))] += 1
            day = clock.start_of_day(day + 36 * 3600.0)
        if q.state:
            return self._usual_state(q, object_id, states, cands[0])
        if not places:
            return Answer(q, None, f'I do not know yet where the {self._describe(q.target)} '
                          'usually is.', 0.0, (), True)
        (room, support), n = places.most_common(1)[0]
        freq = n / sum(places.values())
        part = f' in the {q.time_of_day}' if q.time_of_day else ''
        where = f'in the {self.room_name(room)}'
        if support:
            where = f'on the {self.label_of(support)} {where}'
        return Answer(q, {'object_id': object_id, 'room': room, 'support': support or None,
                          'support_label': self.label_of(support) if support else '',
                          'frequency': freq, 'samples': sum(places.values())},
                      f'The {self._describe(q.target)} is usually {where}{part} '
                      f'({freq:.0%} of the times I knew).', freq, (self._evidence(cands[0]),))

    def _usual_state(self, q: Usual, object_id: str, states: Counter[str],
                     seen: ObjectState) -> Answer:
        thing = self._describe(q.target)
        part = f' in the {q.time_of_day}' if q.time_of_day else ''
        total = sum(states.values())
        if not total:
            return Answer(q, None, f'I do not know yet what state the {thing} is usually in'
                          f'{part}.', 0.0, (), True)
        freq = states[q.state] / total
        usual = states.most_common(1)[0][0]
        yes = freq >= 0.5
        text = (f'{"Yes" if yes else "No"}, the {thing} is usually {q.state if yes else usual}'
                f'{part} ({max(freq, 1 - freq):.0%} of the times I knew).')
        return Answer(q, {'object_id': object_id, 'state': q.state, 'usual_state': usual,
                          'yes': yes, 'frequency': freq, 'samples': total},
                      text, max(freq, 1.0 - freq), (self._evidence(seen),))

    def _when_appeared(self, q: WhenAppeared, now: float) -> Answer:
        cands = self.candidates(q.target, now)
        if not cands:
            return self._unknown(q, q.target)
        first = min(cands, key=lambda s: self.memory.history(s.object_id).created_s)
        t = self.memory.history(first.object_id).created_s
        clock = self.memory.clock
        value = {'object_id': first.object_id, 'stamp_s': t, 'day': clock.weekday(t),
                 'when': clock.label(t)}
        episodes = self.memory.instances()
        earlier = [e for e in episodes if e.end_s < t]
        # The object arrived between the last session that did not see it and this one.
        if earlier:
            value['not_before_s'] = earlier[-1].end_s
        return Answer(q, value, f'I first saw the {self._describe(q.target)} {value["when"]}.',
                      1.0, (self._evidence(first),))

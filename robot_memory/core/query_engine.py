"""Answer typed queries from episodic memory, with confidence, evidence and a belief.

Confidence comes from the staleness model: a present-tense answer is as good as the chance the
object is still where it was last seen; a past-tense answer is certain when sightings bracket
the asked time and decays with the gap otherwise. `belief()` turns a present-tense question
into hypotheses over answers, each tied to the places where it could be checked, for the
value-of-information planner.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from robot_memory.core.clock import DAY_PARTS
from robot_memory.core.episodic import (
    EpisodicMemory,
    Interval,
    ObjectFacts,
    ObjectHistory,
    ObjectState,
    graph_node_id,
)
from robot_memory.core.events import FactKey
from robot_memory.core.queries import (
    ATTRIBUTES,
    Answer,
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Evidence,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    Retrieve,
    StateOf,
    Target,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
)
from robot_memory.core.retrieval import GraphIndex
from robot_memory.core.scene_graph import RoomAttributes
from robot_memory.core.taxonomy import Taxonomy, default_affordances, default_taxonomy
from robot_memory.exceptions import InvalidInputError

__all__ = ['NEAR_M', 'EngineParams', 'Hypothesis', 'QueryEngine']

NEAR_M = 1.5  # 'near the sofa': within this distance of one
SAME_SPOT_M = 0.5  # back within this distance of where it was: it had not left

LabelMatcher = Callable[[str, Sequence[str]], str | None]
# Similarity of a question to each of several descriptions (cosine, -1 … 1).
TextScorer = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass(frozen=True, slots=True)
class EngineParams:
    """Thresholds of the query engine."""

    verify_below: float = 0.8
    habit_weight: float = 0.7
    retrieval_top_k: int = 3
    retrieval_max_confidence: float = 0.6
    retrieval_min_similarity: float = 0.3


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One possible answer, its probability, and the places where looking would confirm it."""

    value: Any
    prob: float
    places: frozenset[str]


class QueryEngine:
    """Answers `Query` values from an `EpisodicMemory`."""

    def __init__(self, memory: EpisodicMemory, label_matcher: LabelMatcher | None = None,
                 params: EngineParams | None = None, *, taxonomy: Taxonomy | None = None,
                 text_scorer: TextScorer | None = None) -> None:
        self.memory = memory
        self.label_matcher = label_matcher
        self.params = params or EngineParams()
        self.taxonomy = taxonomy if taxonomy is not None else default_taxonomy()
        self.text_scorer = text_scorer
        self.affordances = default_affordances()
        self._index: tuple[int, GraphIndex] | None = None

    # ------------------------------------------------------------- helpers
    def room_name(self, room_id: str, t: float | None = None) -> str:
        """Display name of a room id ('room:living_room' → 'living room')."""
        if not room_id:
            return 'an unknown room'
        layout = self.memory.layout_at(self.memory.now_s if t is None else t)
        attrs = layout.find_node(room_id)
        name = attrs.name if isinstance(attrs, RoomAttributes) else room_id.split(':', 1)[-1]
        return name.replace('_', ' ')

    def label_of(self, object_id: str) -> str:
        """Class of a memory object, or '' when unknown."""
        return self.memory.label_of(object_id)

    def resolve_label(self, label: str) -> str:
        """The memory class a query label stands for (open-vocabulary when a matcher is set)."""
        labels = self.memory.labels()
        if label in labels:
            return label
        head = label.rsplit('_', 1)[-1]
        if head != label and head in labels:
            return head  # "kitchen_counter" is a counter: English names the kind last
        if self.label_matcher is None:
            return label
        return self.label_matcher(label, labels) or label

    def label_set(self, label: str) -> frozenset[str]:
        """The memory classes a query label covers: a category's classes, or one class."""
        if self.taxonomy.is_category(label):
            return self.taxonomy.members(label)
        return frozenset({self.resolve_label(label)})

    def candidates(self, target: Target, t: float,
                   include_missing: bool = True) -> list[ObjectState]:
        """Objects known at `t` that fit the target, most recently seen first."""
        labels = self.label_set(target.label)
        view = self.memory.at(t, labels)
        pool = list(view.objects.values())
        if include_missing:
            pool += list(view.missing.values())
        out = [s for s in pool if s.label in labels
               and (not target.color or s.color == target.color)
               and (not target.room or s.room_id == target.room)]
        return sorted(out, key=lambda s: (-s.present, -s.last_seen_s, s.object_id))

    def _p_still(self, state: ObjectState, t: float) -> float:
        if not state.present:
            return 0.0
        return self.memory.staleness.p_still_there(state.label, t - state.last_seen_s,
                                                   state.object_id, state.mobility)

    def _p_state(self, state: ObjectState, t: float) -> float:
        return self.memory.p_state_unchanged(state.object_id, t)

    def _confidence_at(self, state: ObjectState, probe: float, now: float) -> float:
        """Certainty about a fact at `probe` (a past time) given sightings around it."""
        if not state.present:
            return 0.5
        history = self.memory.history(state.object_id)
        for iv in history.facts[FactKey.POSITION]:
            if iv.holds_at(probe) and iv.last_seen_s >= probe:
                return 1.0  # seen there before and after the asked time
        dt = probe - state.last_seen_s
        return self.memory.staleness.p_still_there(state.label, max(dt, 0.0), state.object_id,
                                                   state.mobility)

    def _location(self, state: ObjectState) -> dict[str, Any]:
        relation, support = state.support if state.support else ('', '')
        return {
            'object_id': state.object_id,
            'label': state.label,
            'color': state.color,
            'room': state.room_id,
            'room_name': self.room_name(state.room_id),
            'relation': relation,
            'support': support or None,
            'support_label': self.label_of(support) if support else '',
            'position_m': state.position_m,
            'last_seen_s': state.last_seen_s,
            'present': state.present,
        }

    def _place_phrase(self, state: ObjectState) -> str:
        loc = self._location(state)
        phrase = f'in the {loc["room_name"]}'
        if loc['support_label']:
            phrase = f'{loc["relation"] or "on"} the {loc["support_label"]} {phrase}'
        return phrase

    def _evidence(self, state: ObjectState, note: str = '') -> Evidence:
        return Evidence(state.object_id, state.last_seen_s, state.position_m, state.room_id,
                        state.obs_ids, note)

    @staticmethod
    def _describe(target: Target) -> str:
        return ' '.join(p for p in (target.color, target.label.replace('_', ' ')) if p)

    def _unknown(self, query: Query, target: Target) -> Answer:
        return Answer(query, None, f'I have no memory of a {self._describe(target)}.', 0.0,
                      (), needs_verification=True)

    # -------------------------------------------------------------- answer
    def answer(self, query: Query, now_s: float | None = None) -> Answer:
        """Answer one query as of `now_s` (default: the memory's clock)."""
        now = self.memory.now_s if now_s is None else now_s
        handler = {
            WhereIs: self._where_is, LastSeen: self._last_seen, WhereWas: self._where_was,
            Count: self._count, StateOf: self._state_of, WhatIn: self._what_in,
            Changes: self._changes, History: self._history, Usual: self._usual,
            WhenAppeared: self._when_appeared, IsAt: self._is_at, Contents: self._contents,
            AttributeOf: self._attribute_of, Exists: self._exists, Duration: self._duration,
            Retrieve: self._retrieve,
        }.get(type(query))
        if handler is None:
            raise InvalidInputError(f'not a query: {query!r}')
        return handler(query, now)

    def _verify(self, confidence: float) -> bool:
        return confidence < self.params.verify_below

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
            when = re.sub(r'^(?:on|at|in)\s+', '', q.at.text or self.memory.clock.label(probe))
            return Answer(q, None, f'I had not seen a {self._describe(q.target)} by {when}.',
                          0.0)
        best = cands[0]
        conf = self._confidence_at(best, probe, now)
        when = q.at.text or self.memory.clock.label(probe)
        text = (f'{when.capitalize()}, the {self._describe(q.target)} was '
                f'{self._place_phrase(best)}.')
        return Answer(q, self._location(best), text, conf, (self._evidence(best),))

    def _where_was_several(self, q: WhereWas, now: float) -> Answer:
        """One answer per asked time ("on Monday and on Wednesday")."""
        rows, parts, evidence, confs = [], [], [], []
        for at in (q.at, *q.also):
            answer = self._where_was(replace(q, at=at, also=()), now)
            rows.append({'at': at.text, 'location': answer.value})
            text = answer.text.rstrip('.')
            parts.append(text if not parts else text[:1].lower() + text[1:])
            evidence.extend(answer.evidence)
            confs.append(answer.confidence)
        return Answer(q, {'times': rows}, '; '.join(parts) + '.', min(confs),
                      tuple(evidence))

    def _room_staleness(self, room_id: str, label: str, t: float) -> float:
        """Belief that nothing of `label` came or went in a room since the robot looked.

        A room is as fresh as its least recently seen place: a look from one corner says
        little about the far side.
        """
        layout = self.memory.layout_at(t)
        if not room_id:  # the whole house: as fresh as its least recently seen place
            places = layout.places
        else:
            places = layout.places_in(room_id) if layout.has_node(room_id) else []
        views = [self.memory.place_observed_s(p, t) for p in places]
        seen_views = [v for v in views if v is not None]
        if places and len(seen_views) == len(views):
            last = min(seen_views)
        elif not room_id:
            if not seen_views:
                return 0.3
            # Some place was never looked from: never fully sure of the house.
            last = min(seen_views) - self.memory.staleness.class_tau(label).tau_s * 0.25
        else:
            seen = [s.last_seen_s for s in self.memory.at(t).objects.values()
                    if s.room_id == room_id]
            if not seen:
                return 0.3
            # Some place of the room was never looked from: never fully sure of it.
            last = max(seen) - (self.memory.staleness.class_tau(label).tau_s * 0.25
                                if places else 0.0)
        return self.memory.staleness.p_still_there(label, max(t - last, 0.0))

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
            text = f'{(q.at.text or "Then").capitalize()}: {n} {noun}{where}.'
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
            rows = []
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
        if q.target is not None:
            out['target'] = self._target_change(q.target, t1, t2)
        n = sum(len(v) for k, v in out.items() if k != 'target')
        parts = [f'{len(v)} {k.replace("_", " ")}' for k, v in out.items() if v]
        text = ('Nothing changed.' if n == 0 else 'Changes: ' + ', '.join(parts) + '.')
        conf = self._room_staleness(q.room, 'movable', t2) if q.room else 0.8
        changed = out['target']['moved'] if q.target is not None else n > 0
        if q.target is not None:
            info = out['target']
            since = re.sub(r'^(?:since|after|compared (?:to|with)|on)\s+', '',
                           q.since.text or self.memory.clock.label(t1))
            thing = self._describe(q.target)
            if info.get('object_id') is None:
                text = f'I have no memory of a {thing}.'
            elif not q.until.is_now:
                window = q.since.text or f'{since} and {self.memory.clock.label(t2)}'
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
        return Answer(q, {'changed': changed, **out}, text, conf, (),
                      self._verify(conf) and q.until.is_now)

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
        visits = [{'room': iv.value, 'room_name': self.room_name(str(iv.value)),
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

    # ------------------------------------------------- contents, attributes
    def _contents(self, q: Contents, now: float) -> Answer:
        probe = q.at.probe_s(now)
        name = q.support_or_container.replace('_', ' ')
        pieces = self.candidates(Target(q.support_or_container, room=q.room), probe,
                                 include_missing=False)
        where = f' in the {self.room_name(q.room)}' if q.room else ''
        if not pieces:
            return Answer(q, None, f'I have no memory of a {name}{where}.', 0.0, (),
                          needs_verification=q.at.is_now)
        kinds = self.label_set(q.kind) if q.kind else frozenset()
        ids = {p.object_id for p in pieces}
        view = self.memory.at(probe)
        items = [s for s in view.objects.values()
                 if s.support and self.memory.resolve(s.support[1]) in ids
                 and (not q.relation or s.support[0] == q.relation)
                 and (not kinds or s.label in kinds)]
        items.sort(key=lambda s: (s.label, s.object_id))
        by_piece: dict[str, list[ObjectState]] = {p.object_id: [] for p in pieces}
        for s in items:
            by_piece[self.memory.resolve(s.support[1]) if s.support else ''].append(s)
        rows, phrases = [], []
        for piece in pieces:
            things = by_piece[piece.object_id]
            rows.append({'object_id': piece.object_id, 'label': piece.label,
                         'room': piece.room_id, 'room_name': self.room_name(piece.room_id),
                         'items': [self._location(s) for s in things]})
            listing = _listing([self._describe_state(s) for s in things])
            relation = q.relation or (things[0].support[0] if things and things[0].support
                                      else 'on')
            place = f'the {piece.label.replace("_", " ")}'
            if len(pieces) > 1:
                place += f' in the {self.room_name(piece.room_id)}'
            phrases.append(f'{relation} {place}: {listing or "nothing" + _kind_words(q.kind)}')
        if q.at.is_now:
            # As fresh as the piece's room: one look from a corner may not show its far side.
            label = q.kind or 'movable'
            conf = min(self._room_staleness(p.room_id, label, probe) for p in pieces)
            for s in items:
                conf = min(conf, self._p_still(s, probe))
        else:
            conf = min((self._confidence_at(s, probe, now) for s in items),
                       default=min(self._confidence_at(p, probe, now) for p in pieces))
        hidden = [p for p in pieces if p.label in self.taxonomy.members('closed_storage')
                  and p.state != 'open' and not by_piece[p.object_id]]
        if hidden:
            # Nothing seen inside a closed fridge is not the same as an empty fridge.
            conf = min(conf, 0.3)
            names = ', '.join(f'the {p.label.replace("_", " ")}' for p in hidden)
            phrases.append(f'I cannot see inside {names} while closed, so there may be '
                           'things I have not seen')
        prefix = '' if q.at.is_now else f'{(q.at.text or "then").capitalize()}, '
        text = prefix + '; '.join(phrases) + '.'
        text = text[0].upper() + text[1:]
        evidence = tuple(self._evidence(s) for s in items[:20]) + tuple(
            self._evidence(p, 'the piece looked at') for p in pieces[:3])
        value = {'pieces': rows, 'objects': [self._location(s) for s in items],
                 'count': len(items), 'kind': q.kind}
        return Answer(q, value, text, conf, evidence, self._verify(conf) and q.at.is_now)

    def _describe_state(self, s: ObjectState) -> str:
        words = ' '.join(w for w in (s.color, s.label.replace('_', ' ')) if w)
        return f'a {words}' + (f' ({s.state})' if s.state else '')

    def _attribute_of(self, q: AttributeOf, now: float) -> Answer:
        if q.attribute not in ATTRIBUTES:
            known = ', '.join({'color': 'colour'}.get(a, a) for a in ATTRIBUTES)
            return Answer(q, {'attribute': q.attribute, 'value': None},
                          f'I do not keep the {q.attribute} of things; I know their {known}.',
                          0.0)
        probe = q.at.probe_s(now)
        cands = self.candidates(q.target, probe)
        if not cands:
            return self._unknown(q, q.target)
        present = [s for s in cands if s.present] or cands
        verb = 'is' if q.at.is_now else 'was'
        values = []
        for s in present[:5]:
            if q.attribute == 'color':
                value = s.color
            elif q.attribute == 'state':
                value = s.state
            elif q.attribute == 'room':
                value = self.room_name(s.room_id) if s.room_id else ''
            else:
                value = self.label_of(s.support[1]).replace('_', ' ') if s.support else ''
            values.append((s, value))
        best, value = values[0]
        thing = self._describe(q.target)
        word = {'color': 'colour', 'support': 'what it stands on'}.get(q.attribute,
                                                                        q.attribute)
        if not value:
            text = f'I do not know the {word} of the {thing}: I have not seen one.'
            if q.attribute == 'state':
                text = (f'I have not seen the {thing} in any state I can tell (open/closed, '
                        'on/off).')
            conf = 0.0
        else:
            distinct = list(dict.fromkeys(v for _, v in values if v))
            if len(distinct) > 1:
                where = ', '.join(f'{v} ({self._place_phrase(s)})' for s, v in values if v)
                text = f'I know {len(values)} of them: {where}.'
            else:
                text = f'The {thing} {verb} {value}.'
            if q.attribute == 'color':
                conf = 1.0 / len(distinct)
            elif q.attribute == 'state':
                conf = (self._p_state(best, now) if best.present else 0.2) if q.at.is_now \
                    else self._confidence_at(best, probe, now)
                conf /= len(distinct)
            else:
                conf = (self._p_still(best, probe) if q.at.is_now
                        else self._confidence_at(best, probe, now)) / len(distinct)
        result = {'object_id': best.object_id, 'attribute': q.attribute, 'value': value,
                  'values': [{'object_id': s.object_id, 'value': v} for s, v in values]}
        if q.attribute == 'state':
            result['state'] = value
        return Answer(q, result, text, conf, tuple(self._evidence(s) for s, _ in values),
                      self._verify(conf) and q.at.is_now and q.attribute != 'color')

    # ------------------------------------------------------ exists, duration
    def _looked_in(self, t: float) -> list[dict[str, Any]]:
        """Rooms the robot has looked into by `t`, with the last time it looked."""
        layout = self.memory.layout_at(t)
        rows = []
        for room in layout.rooms:
            seen = [v for v in (self.memory.place_observed_s(p, t)
                                for p in layout.places_in(room)) if v is not None]
            if seen:
                rows.append({'room': room, 'room_name': self.room_name(room, t),
                             'last_looked_s': max(seen)})
        return sorted(rows, key=lambda r: r['room_name'])

    def _exists(self, q: Exists, now: float) -> Answer:
        probe = q.at.probe_s(now)
        ever = q.category is Category.PAST and q.at.is_now  # "have you (ever) seen a …?"
        known = self.candidates(replace(q.target, room=q.room or q.target.room), probe)
        cands = known if ever else [s for s in known if s.present]
        if q.support:
            supports = self.label_set(q.support)
            cands = [s for s in cands if s.support and self.label_of(s.support[1]) in supports]
        thing = self._describe(q.target)
        where = ''
        if q.support:
            where += f' on the {q.support.replace("_", " ")}'
        if q.room:
            where += f' in the {self.room_name(q.room)}'
        looked = self._looked_in(probe)
        if q.room:
            looked = [r for r in looked if r['room'] == q.room]
        if cands:
            best = max(cands, key=lambda s: (self._p_still(s, probe), s.last_seen_s))
            listing = '; '.join(f'{self._describe_state(s)} {self._place_phrase(s)}'
                                for s in cands[:5])
            more = f' and {len(cands) - 5} more' if len(cands) > 5 else ''
            if q.at.is_now and not ever:
                conf = max(self._p_still(s, probe) for s in cands)
                seen = self.memory.clock.label(best.last_seen_s)
                text = f'Yes: {listing}{more} (last seen {seen}).'
            elif ever:
                conf = 1.0
                text = f'Yes, I have seen {len(cands)}: {listing}{more}.'
            else:
                conf = max(self._confidence_at(s, probe, now) for s in cands)
                text = f'Yes, {q.at.text or "then"}: {listing}{more}.'
            value = {'yes': True, 'count': len(cands),
                     'objects': [self._location(s) for s in cands[:20]], 'looked_in': looked}
            return Answer(q, value, text, conf, tuple(self._evidence(s) for s in cands[:10]),
                          self._verify(conf) and q.at.is_now and not ever)
        gone = [] if ever else [s for s in known if not s.present]
        rooms = ', '.join(r['room_name'] for r in looked) or 'nowhere yet'
        text = f'No, I have not seen a{"n" if thing[:1] in "aeiou" else ""} {thing}{where}'
        if not q.at.is_now:
            text += f' {q.at.text}' if q.at.text else ' then'
        text += f' (I looked in: {rooms}).'
        if gone:
            text = (f'No: I saw {self._describe_state(gone[0])} {self._place_phrase(gone[0])} '
                    f'{self.memory.clock.label(gone[0].last_seen_s)}, but it was gone when I '
                    'looked again.')
        if q.at.is_now:
            label = next(iter(self.label_set(q.target.label)))
            rooms_to_check = [q.room] if q.room else [r['room'] for r in looked]
            # Something of the kind may have come in since each room was last looked at.
            conf = min((self._room_staleness(r, label, probe) for r in rooms_to_check),
                       default=0.3)
        else:
            conf = 0.8 if looked else 0.3
        value = {'yes': False, 'count': 0, 'objects': [], 'looked_in': looked}
        return Answer(q, value, text, conf,
                      tuple(self._evidence(s, 'gone') for s in gone[:3]),
                      self._verify(conf) and q.at.is_now and not ever)

    def _duration(self, q: Duration, now: float) -> Answer:
        known = self.candidates(q.target, now)
        cands = [s for s in known if s.present] or known
        if not cands:
            return self._unknown(q, q.target)
        thing = self._describe(q.target)
        place = q.room_or_support
        is_room = place.startswith('room:')
        supports = self.label_set(place) if place and not is_room else frozenset()
        key = (FactKey.STATE if q.state else FactKey.ROOM if is_room
               else FactKey.SUPPORT if supports else FactKey.POSITION)

        def matches(value: Any) -> bool:
            if q.state:
                return value == q.state
            if is_room:
                return value == place
            if supports:
                return bool(value) and self.label_of(value[1]) in supports
            return True

        def now_value(s: ObjectState) -> Any:
            return {FactKey.STATE: s.state, FactKey.ROOM: s.room_id,
                    FactKey.SUPPORT: s.support, FactKey.POSITION: s.position_m}[key]
        best = next((s for s in cands if s.present and matches(now_value(s))), cands[0])
        history = self.memory.history(best.object_id)
        intervals = sorted(history.facts[key], key=lambda iv: iv.t_from)
        if key is FactKey.POSITION:
            intervals = intervals[-1:]
        # The stretch that holds now (or last held): consecutive matching intervals.
        positions = _Timeline(history.facts[FactKey.POSITION])
        run: list[Interval] = []
        last: list[Interval] = []
        for iv in intervals:
            if iv.value is not None and matches(iv.value):
                if run and run[-1].t_to is not None and iv.t_from - run[-1].t_to > 1.0 and \
                        not self._same_spot(positions, run[-1].t_to, iv.t_from):
                    last, run = run, []
                run.append(iv)
            elif run:
                last, run = run, []
        run = run or last
        what = (q.state if q.state else f'in the {self.room_name(place)}' if is_room
                else f'on the {place.replace("_", " ")}' if supports else 'where it is')
        if not run:
            return Answer(q, {'object_id': best.object_id, 'holds': False}, f'I have not seen '
                          f'the {thing} {what}.', 0.8, (self._evidence(best),),
                          needs_verification=True)
        since = run[0].t_from
        end = run[-1].t_to
        holds_now = end is None and best.present
        until = now if holds_now else float(end if end is not None else best.last_seen_s)
        span = _span_words(until - since)
        clock = self.memory.clock
        value = {'object_id': best.object_id, 'holds': holds_now, 'since_s': since,
                 'until_s': None if holds_now else until, 'duration_s': until - since,
                 'since': clock.label(since)}
        # It may have been there before the robot first saw it there.
        earlier = [e for e in self.memory.instances() if e.end_s < since]
        if earlier:
            value['not_before_s'] = earlier[-1].end_s
        if holds_now:
            text = f'The {thing} has been {what} for {span} (since {clock.label(since)}).'
            conf = self._p_still(best, now) if not q.state else self._p_state(best, now)
        else:
            text = (f'The {thing} is not {what} now; it was there for {span}, from '
                    f'{clock.label(since)} to {clock.label(until)}.')
            conf = 0.9
        return Answer(q, value, text, conf, (self._evidence(best),), self._verify(conf))

    @staticmethod
    def _same_spot(positions: _Timeline, gone_s: float, back_s: float) -> bool:
        """Whether an object missed for a while came back where it stood: then, as far as
        the robot can tell, it never left (a look that missed it, not a move)."""
        before = positions.at(gone_s - 1e-3)
        after = positions.at(back_s)
        return before is not None and after is not None and \
            math.dist(before, after) <= SAME_SPOT_M

    # -------------------------------------------------------------- retrieve
    def _describe_node(self, node: str, graph: Any) -> str:
        attrs = graph.find_node(node)
        if isinstance(attrs, RoomAttributes):
            name = f'the {(attrs.name or attrs.category).replace("_", " ")}'
            use = self.affordances.get(attrs.category, '')
            return f'{name}: {use}' if use else name
        label = getattr(attrs, 'label', '')
        if not label:
            return node
        use = self.affordances.get(label, '')
        return f'a {label.replace("_", " ")}' + (f': {use}' if use else '')

    def _retrieve(self, q: Retrieve, now: float) -> Answer:
        """Open-vocabulary retrieval: the question's similarity to every object and room
        seeds personalized PageRank over the scene graph; the top objects and rooms answer."""
        probe = q.at.probe_s(now)
        view = self.memory.at(probe)
        graph = view.scene_graph()
        nodes = [*graph.objects, *graph.rooms]
        if not nodes:
            return Answer(q, None, 'My memory is empty: I have nothing to search yet.', 0.0,
                          (), needs_verification=True)
        texts = [self._describe_node(n, graph) for n in nodes]
        sims = np.asarray(self._score_text(q.text, texts), dtype=float)
        k = max(1, self.params.retrieval_top_k)
        order = np.argsort(-sims)[:k * 2]
        seeds = {nodes[i]: float(math.exp((sims[i] - sims[order[0]]) / 0.05)) for i in order
                 if sims[i] > 0}
        if not seeds:
            return Answer(q, {'kind': 'retrieval', 'results': []},
                          'Nothing I remember matches that.', 0.0, (), needs_verification=True)
        index = self.graph_index(probe) if q.at.is_now else GraphIndex(graph)
        if not all(n in index.index for n in seeds):
            index = GraphIndex(graph)  # the cached index is of another moment
        ppr = index.ppr(seeds)
        # Rank by what the question says (similarity), with the graph spreading it (PPR); a
        # "where can I …" question asks for a place, so rooms and furniture come first on a tie.
        top_ppr = max(ppr.values()) or 1.0
        wants_place = bool(re.match(r'\W*(?:where|which room|is there (?:somewhere|a place))',
                                    q.text.lower()))
        state_of = {graph_node_id(k): s for k, s in view.objects.items()}

        def is_place(node: str) -> bool:
            state = state_of.get(node)
            return node in graph.rooms or (state is not None
                                           and state.mobility in ('furniture', 'static'))

        score = {n: 0.8 * max(float(sims[i]), 0.0) + 0.2 * ppr.get(n, 0.0) / top_ppr
                 + (0.05 if wants_place and is_place(n) else 0.0)
                 for i, n in enumerate(nodes)}
        ranked = sorted(nodes, key=lambda n: -score[n])[:k]
        results: list[dict[str, Any]] = []
        for node in ranked:
            state = state_of.get(node)
            if state is not None:
                results.append({**self._location(state), 'node': node, 'layer': 'object',
                                'score': round(score[node], 4)})
            elif node in graph.rooms:
                results.append({'node': node, 'layer': 'room', 'room': node,
                                'room_name': self.room_name(node), 'label': '',
                                'places': sorted(graph.places_in(node)),
                                'score': round(score[node], 4)})
        best_sim = float(sims[order[0]])
        conf = min(self.params.retrieval_max_confidence, max(best_sim, 0.0))
        names = []
        for r in results:
            if r['layer'] == 'room':
                names.append(f'the {r["room_name"]}')
            else:
                on = r['support_label'].replace('_', ' ')
                names.append(f'the {r["label"].replace("_", " ")} '
                             f'{"on the " + on + " " if on else ""}in the {r["room_name"]}')
        if best_sim < self.params.retrieval_min_similarity:
            text = (f'Nothing I remember fits that well; the closest is {names[0]}.'
                    if names else 'Nothing I remember fits that.')
        else:
            text = f'Best match in memory: {names[0]}' + (
                f'; also {", ".join(names[1:])}' if names[1:] else '') + '.'
        text += ' (This is a search of what I remember, not a fact I observed.)'
        evidence = tuple(self._evidence(state_of[r['node']], 'retrieved')
                         for r in results if r['layer'] == 'object')
        return Answer(q, {'kind': 'retrieval', 'results': results,
                          'best_similarity': round(best_sim, 4)}, text, conf, evidence)

    def _score_text(self, text: str, descriptions: Sequence[str]) -> Sequence[float]:
        if self.text_scorer is not None:
            return self.text_scorer(text, descriptions)
        return self.word_overlap(text, descriptions)

    @staticmethod
    def word_overlap(text: str, descriptions: Sequence[str]) -> list[float]:
        """Share of each description's words the text contains (retrieval without an
        embedder: coarse, but it still finds "the sofa" for "where can I sit on the sofa")."""
        words = set(_words(text))
        return [len(words & set(_words(d))) / max(len(set(_words(d))), 1)
                for d in descriptions]

    # -------------------------------------------------------------- belief
    def graph_index(self, t: float | None = None) -> GraphIndex:
        """A PPR index over the layout plus present objects (rebuilt when memory grew)."""
        key = self.memory.num_events
        if self._index is None or self._index[0] != key:
            t = self.memory.now_s if t is None else t
            self._index = (key, GraphIndex(self.memory.at(t).scene_graph()))
        return self._index[1]

    def _histories_of(self, label: str) -> list[ObjectHistory]:
        """Histories of the objects of one class (only those are built)."""
        return [self.memory.history(o) for o in self.memory.object_ids
                if self.memory.label_of(o) == label]

    def room_prior(self, object_id: str | None, label: str, now: float) -> dict[str, float]:
        """Where an object might be, by room: its own history (habits) spread by PPR."""
        layout = self.memory.layout_at(now)
        rooms = layout.rooms
        if not rooms:
            return {}
        seeds: Counter[str] = Counter()
        if object_id is not None:
            for iv in self.memory.history(object_id).facts[FactKey.ROOM]:
                if iv.value:
                    end = iv.t_to if iv.t_to is not None else now
                    seeds[str(iv.value)] += max(end - iv.t_from, 60.0)
        for h in self._histories_of(label):
            if h.object_id != object_id:
                for iv in h.facts[FactKey.ROOM][-1:]:
                    if iv.value:
                        seeds[str(iv.value)] += 600.0
        uniform = {r: 1.0 / len(rooms) for r in rooms}
        if not seeds:
            return uniform
        index = GraphIndex(layout)
        scores = index.ppr({r: w for r, w in seeds.items() if r in index.index} or uniform)
        total = sum(scores[r] for r in rooms) or 1.0
        w = self.params.habit_weight
        return {r: w * scores[r] / total + (1 - w) * uniform[r] for r in rooms}

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
            others = {h.facts[FactKey.STATE][-1].value for h in self._histories_of(best.label)
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


class _Timeline:
    """One fact's intervals, looked up by time (bisection over their starts)."""

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self.intervals = sorted(intervals, key=lambda iv: iv.t_from)
        self.starts = [iv.t_from for iv in self.intervals]

    def at(self, t: float) -> Any:
        """The value held at `t`, or None when none holds."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and self.intervals[i].holds_at(t):
            return self.intervals[i].value
        return None


def _listing(things: Sequence[str]) -> str:
    if len(things) <= 1:
        return ''.join(things)
    return ', '.join(things[:-1]) + ' and ' + things[-1]


def _kind_words(kind: str) -> str:
    return f' of the kind {kind.replace("_", " ")!r}' if kind else ''


def _span_words(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f'{n} {unit}{"s" if n != 1 else ""}' for n, unit in
             ((days, 'day'), (hours, 'hour')) if n]
    if not days and minutes:
        parts.append(f'{minutes} minute{"s" if minutes != 1 else ""}')
    return ' '.join(parts) or 'less than a minute'


def _words(text: str) -> list[str]:
    return [w.rstrip('s') for w in re.findall(r'[a-z]+', text.lower()) if len(w) > 2]


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


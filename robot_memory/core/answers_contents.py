"""Answers about things and their attributes: what is on or in a piece of furniture, the
colour / state / room / support of X, is there any X, how long X has been where it is.

`ContentsAnswers` is a mixin of `QueryEngine` (over `EngineCore`): one method per query type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from robot_memory.core.engine_core import EngineCore, _Timeline
from robot_memory.core.episodic import Interval, ObjectState
from robot_memory.core.events import FactKey, FactValue
from robot_memory.core.queries import (
    ATTRIBUTES,
    Answer,
    AttributeOf,
    Category,
    Contents,
    Duration,
    Exists,
    Relation,
    Target,
)
from robot_memory.core.wording import be, sentence_start, time_words

__all__ = ['SAME_SPOT_M', 'ContentsAnswers', 'relation_fits']

SAME_SPOT_M = 0.5  # back within this distance of where it was: it had not left
# Relations measured on the floor plan (m): 'near' is NEAR_M of the where-answers; above /
# below want the thing over the anchor's footprint; a side (left, right, behind, in front)
# must be the main direction from the anchor, within SIDE_M; 'between' within BETWEEN_M of
# the line from one anchor to the other.
NEAR_M = 1.5
OVER_M = 0.6
SIDE_M = 2.0
BETWEEN_M = 0.75
_RELATION_WORDS = {'near': 'near', 'left_of': 'left of', 'right_of': 'right of',
                   'above': 'above', 'below': 'below', 'behind': 'behind',
                   'in_front_of': 'in front of', 'between': 'between'}


class ContentsAnswers(EngineCore):
    """`Contents`, `AttributeOf`, `Exists`, `Duration` and `Relation` questions."""

    def _relation(self, q: Relation, now: float) -> Answer:
        """Things in a spatial relation to an anchor, from positions in memory at time t."""
        if q.relation not in _RELATION_WORDS or (q.relation == 'between') != (
                q.anchor2 is not None):
            return Answer(q, None, f'I cannot measure the relation {q.relation!r} (valid: '
                                   f'{", ".join(_RELATION_WORDS)}; between needs two things).',
                          0.0, error=f'bad relation {q.relation!r}')
        probe = q.at.probe_s(now)
        anchors = []
        for wanted in (q.anchor, q.anchor2):
            if wanted is None:
                continue
            found = [s for s in self.candidates(wanted, probe, include_missing=False)
                     if s.position_m is not None]
            if not found:
                return self._unknown(q, wanted)
            anchors.append(found[0])
        anchor = anchors[0]
        anchor_m = anchor.position_m
        assert anchor_m is not None  # candidates without a position were left out above
        viewpoint: tuple[float, float] | None = None
        layout = self.memory.layout_at(probe)
        if anchor.room_id and layout.has_node(anchor.room_id):
            viewpoint = layout.get_room(anchor.room_id).centroid_m
        labels = self.label_set(q.target.label) if q.target is not None else None
        skip = {a.object_id for a in anchors}
        picked = []
        for s in self.memory.at(probe).objects.values():
            if s.object_id in skip or not s.present or s.position_m is None or (
                    labels is not None and s.label not in labels) or (
                    q.target is not None and q.target.color and s.color != q.target.color):
                continue
            second = anchors[1].position_m if len(anchors) > 1 else None
            if relation_fits(q.relation, s.position_m, anchor_m, second, viewpoint):
                gap = math.dist(s.position_m[:2], anchor_m[:2])
                picked.append((gap, s))
        picked.sort(key=lambda p: (p[0], p[1].object_id))
        words = _RELATION_WORDS[q.relation]
        place = f'the {self._describe(q.anchor)}'
        if q.anchor2 is not None:
            place += f' and the {self._describe(q.anchor2)}'
        seen_from = ''
        if q.relation in ('left_of', 'right_of', 'behind', 'in_front_of'):
            seen_from = (f' (seen from the middle of the {self.room_name(anchor.room_id)})'
                         if viewpoint is not None else ' (seen from its east side)')
        items = [{'object_id': s.object_id, 'label': s.label, 'color': s.color,
                  'room': s.room_id, 'distance_m': round(gap, 2)} for gap, s in picked]
        things = [self._describe_state(s) for _, s in picked[:8]]
        listing = (_listing(things) if len(picked) <= 8
                   else f'{", ".join(things)} and {len(picked) - 8} more')
        if not picked:
            text = f'Nothing I know of is {words} {place}{seen_from}.'
        else:
            text = f'{sentence_start(words)} {place}{seen_from}: {listing}.'
        conf = (min(self._p_still(a, now) for a in anchors) if q.at.is_now
                else min(self._confidence_at(a, probe, now) for a in anchors))
        value = {'relation': q.relation, 'anchor': anchor.object_id,
                 'anchor2': anchors[1].object_id if len(anchors) > 1 else None,
                 'viewpoint': anchor.room_id if seen_from and viewpoint else None,
                 'objects': items, 'count': len(items)}
        evidence = tuple(self._evidence(s) for s in [*anchors, *(s for _, s in picked[:10])])
        return Answer(q, value, text, conf, evidence, self._verify(conf) and q.at.is_now)

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
        prefix = '' if q.at.is_now else f'{sentence_start(time_words(q.at.text or "then"))}, '
        text = prefix + '; '.join(phrases) + '.'
        text = text[0].upper() + text[1:]
        evidence = tuple(self._evidence(s) for s in items[:20]) + tuple(
            self._evidence(p, 'the piece looked at') for p in pieces[:3])
        value = {'pieces': rows, 'objects': [self._location(s) for s in items],
                 'count': len(items), 'kind': q.kind}
        return Answer(q, value, text, conf, evidence, self._verify(conf) and q.at.is_now)

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
        verb = be(q.target.label, past=not q.at.is_now)
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
                text = f'Yes, {time_words(q.at.text or "then")}: {listing}{more}.'
            value = {'yes': True, 'count': len(cands),
                     'objects': [self._location(s) for s in cands[:20]], 'looked_in': looked}
            return Answer(q, value, text, conf, tuple(self._evidence(s) for s in cands[:10]),
                          self._verify(conf) and q.at.is_now and not ever)
        gone = [] if ever else [s for s in known if not s.present]
        rooms = ', '.join(r['room_name'] for r in looked) or 'nowhere yet'
        text = f'No, I have not seen a{"n" if thing[:1] in "aeiou" else ""} {thing}{where}'
        if not q.at.is_now:
            text += f' {time_words(q.at.text)}' if q.at.text else ' then'
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

        def matches(value: FactValue) -> bool:
            if q.state:
                return value == q.state
            if is_room:
                return value == place
            if supports:
                return isinstance(value, tuple) and self.label_of(str(value[1])) in supports
            return True

        def now_value(s: ObjectState) -> FactValue:
            return {FactKey.STATE: s.state, FactKey.ROOM: s.room_id,
                    FactKey.SUPPORT: s.support, FactKey.POSITION: s.position_m}[key]
        best = next((s for s in cands if s.present and matches(now_value(s))), cands[0])
        history = self.memory.history(best.object_id)
        intervals = sorted(history.facts[key], key=lambda iv: iv.t_from)
        if key is FactKey.POSITION:
            intervals = intervals[-1:]
        # The stretch that holds now (or last held): consecutive matching intervals. A gap
        # breaks it unless the object came back where it stood, or (asked about a room) it
        # was seen in no other room meanwhile: found elsewhere in the same room after a
        # while out of sight, nothing says it ever left the room.
        positions = _Timeline(history.facts[FactKey.POSITION])
        run: list[Interval] = []
        last: list[Interval] = []
        for iv in intervals:
            if iv.value is not None and matches(iv.value):
                if run and run[-1].t_to is not None and iv.t_from - run[-1].t_to > 1.0 and \
                        not is_room and \
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


def relation_fits(relation: str, position_m: Sequence[float], anchor_m: Sequence[float],
                  second_m: Sequence[float] | None = None,
                  viewpoint_m: Sequence[float] | None = None) -> bool:
    """Whether a thing at `position_m` stands in `relation` to the anchor.

    Sides are taken looking from `viewpoint_m` at the anchor (from the east, +x looking
    towards -x, when there is none); 'between' needs `second_m`.
    """
    dx, dy = position_m[0] - anchor_m[0], position_m[1] - anchor_m[1]
    flat = math.hypot(dx, dy)
    if relation == 'near':
        return flat <= NEAR_M
    if relation in ('above', 'below'):
        dz = position_m[2] - anchor_m[2]
        return flat <= OVER_M and (dz > 0.15 if relation == 'above' else dz < -0.15)
    if relation == 'between':
        if second_m is None:
            return False
        ax, ay = second_m[0] - anchor_m[0], second_m[1] - anchor_m[1]
        length2 = ax * ax + ay * ay
        if length2 < 1e-6:
            return False
        along = (dx * ax + dy * ay) / length2
        off = abs(dx * ay - dy * ax) / math.sqrt(length2)
        return 0.05 < along < 0.95 and off <= BETWEEN_M
    if flat > SIDE_M or flat < 0.1:
        return False
    vx, vy = ((anchor_m[0] - viewpoint_m[0], anchor_m[1] - viewpoint_m[1])
              if viewpoint_m is not None else (-1.0, 0.0))
    norm = math.hypot(vx, vy) or 1.0
    vx, vy = vx / norm, vy / norm
    ahead = dx * vx + dy * vy  # away from the viewer: behind the anchor
    right = dx * vy - dy * vx
    if relation == 'right_of':
        return right > 0.1 and abs(ahead) <= right
    if relation == 'left_of':
        return -right > 0.1 and abs(ahead) <= -right
    if relation == 'behind':
        return ahead > 0.1 and abs(right) <= ahead
    if relation == 'in_front_of':
        return -ahead > 0.1 and abs(right) <= -ahead
    return False

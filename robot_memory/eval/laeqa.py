"""`robot-memory eval laeqa`: long-term active embodied QA on the built-in simulator.

1. The robot patrols for `days` days, building memory from frames (perception only).
2. The next day at 17:00, before the evening patrol, questions are generated from the ground
   truth — nine types over five categories — phrased in English (built-in templates or
   `--phrasings`), parsed, and answered by each planner from a copy of the same memory.
3. Planners that look go to places and ingest what the camera sees there. The world is held
   still while questions are answered: each place's look-around is rendered once, when the
   questions are asked, and every planner that goes there sees those same frames.
4. Answers are checked structurally (room and support, exact counts, yes/no, day).

Baselines, side by side: `memory_only` (never looks), `explore_all` (tours every place first),
`fixed_budget` (looks at the two rooms the belief ranks highest), `frame_retrieval` (a
ReMEmbR-style store of per-frame records searched by text, time and position; no scene graph),
and `voi` (looks while the value of information beats its cost).
"""

from __future__ import annotations

import copy
import csv
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.clock import DAY_PARTS, WEEKDAYS, MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.planner import ActiveResult, PlannerParams, VoIPlanner
from robot_memory.core.queries import Answer, Category, Query
from robot_memory.core.query_engine import QueryEngine
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import Frame
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.pipeline import MappingPipeline
from robot_memory.sim.clock import DAY_S, SIM_EPOCH_S
from robot_memory.sim.detector import DetectorConfig, load_detector
from robot_memory.sim.habitat_days import household_sim

__all__ = ['PLANNERS', 'EvalQuestion', 'eval_laeqa', 'eval_laeqa_panel', 'generate_questions']

PLANNERS = ('memory_only', 'frame_retrieval', 'fixed_budget', 'explore_all', 'voi')
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


@dataclass(slots=True)
class FrameRecord:
    """What the frame-retrieval baseline keeps of one frame (after ReMEmbR)."""

    stamp_s: float
    room_id: str
    detections: list[tuple[str, str, str, tuple[float, float, float]]]


@dataclass(slots=True)
class Patrolled:
    """The state after the patrol days."""

    sim: Any
    memory: EpisodicMemory
    pipeline: MappingPipeline
    layout: SceneGraph
    records: list[FrameRecord]
    seen_gt: dict[str, list[float]] = field(default_factory=dict)


# ------------------------------------------------------------------ patrolling
def patrol(seed: int, days: int, world: str = 'apartment', progress: Any = None,
           detector: DetectorConfig | None = None, sim: Any = None) -> Patrolled:
    """Run `days` of patrols through perception; keep frame records for the baseline.

    `sim`: another simulator with household activity (Habitat days); else the built-in one.
    """
    from robot_memory.sim.backend import BuiltinSim, SimConfig

    if sim is None:
        sim = BuiltinSim(SimConfig(world=world, seed=seed,
                                   detector=detector or DetectorConfig()))
    layout = sim.scene_graph()
    memory = EpisodicMemory()
    memory.set_layout(layout, sim.now_s)
    pipeline = MappingPipeline(memory, layout)
    out = Patrolled(sim, memory, pipeline, layout, [])
    for day in range(days):
        for frame in sim.patrol_day(day):
            _ingest(out, frame, record=True)
        if progress is not None:
            progress(day)
    pipeline.flush()
    return out


def _ingest(state: Patrolled, frame: Frame, record: bool) -> None:
    result = state.pipeline.process(frame)
    if not record:
        return
    truth = state.sim.frame_truth(frame.frame_index)
    for seg in result.segment_objects:
        gt = truth.get(seg)
        if gt is not None:
            state.seen_gt.setdefault(gt, []).append(frame.stamp_s)
    x, y = float(frame.map_T_camera[0, 3]), float(frame.map_T_camera[1, 3])
    room = state.layout.find_room_at(x, y) or ''
    dets = [(o.observation.label, o.observation.attributes.get('color', ''),
             o.observation.attributes.get('state', ''), o.observation.centroid_m)
            for o in result.seen]
    state.records.append(FrameRecord(frame.stamp_s, room, dets))


# ------------------------------------------------------------------- questions
def _describe(cls: str, color: str, unique_by_class: bool) -> str:
    name = cls.replace('_', ' ')
    return name if unique_by_class else f'{color} {name}'


def _room_name(room: str) -> str:
    return room.replace('_', ' ')


def _day_start(t: float) -> float:
    return SIM_EPOCH_S + math.floor((t - SIM_EPOCH_S) / DAY_S) * DAY_S


def generate_questions(state: Patrolled, asked_s: float, phrasings: dict[str, list[str]],
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
        moved = (before.room != v.room or before.support != v.support
                 or math.dist(before.position_m, v.position_m) > 0.3)
        add('changed_since', {'object': desc(g),
                              'day': _weekday(d0)},
            g, {'yes': moved}, day_start_s=d0)
    for g in sample(candidates):
        rooms: Counter[str] = Counter()
        d0 = _day_start(min(iv.t_from for iv in truth.intervals(g)) if truth.intervals(g)
                        else SIM_EPOCH_S)
        d0 = max(d0, SIM_EPOCH_S)
        while d0 < asked_s:
            for _, lo, hi in DAY_PARTS:
                t = d0 + (lo + hi) / 2 * 3600.0
                fact = truth.at(t).get(g) if t < asked_s else None
                if fact is not None:
                    rooms[fact.room] += 1
            d0 += DAY_S
        if rooms:
            top, n = rooms.most_common(1)[0]
            if n / sum(rooms.values()) >= 0.6:  # only clear habits have one right answer
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


def _new_type_questions(state: Patrolled, asked_s: float, add: Any, sample: Any,
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
        moved = (before.room != after.room or before.support != after.support
                 or math.dist(before.position_m, after.position_m) > 0.3)
        add('moved_between', {'object': desc(g), 'day': _weekday(d1), 'day2': _weekday(d2)},
            g, {'yes': moved}, day_start_s=d1)


def _weekday(t: float) -> str:
    return WEEKDAYS[int((t - SIM_EPOCH_S) // DAY_S) % 7]


def _ask_state(true_state: str, rng: np.random.Generator) -> str:
    opposite = {'open': 'closed', 'closed': 'open', 'on': 'off', 'off': 'on'}
    if true_state in opposite and rng.random() < 0.5:
        return opposite[true_state]
    return true_state


# ---------------------------------------------------------------------- checks
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
        return value.get('count') == e['count']
    if q.qtype in ('state_now', 'state_on_day') and 'state' in e:
        return value.get('state') == e['state']
    if q.qtype in ('state_now', 'state_on_day', 'still_there', 'exists'):
        return value.get('yes') is e['yes']
    if q.qtype in ('changed_since', 'moved_between'):
        return bool(value.get('changed')) is e['yes']
    if q.qtype == 'contents':
        return sorted({o.get('label') for o in value.get('objects', [])}) == e['labels']
    if q.qtype == 'attribute':
        return value.get('value') == e['color']
    if q.qtype == 'duration':
        since = value.get('since_s')
        return (bool(value.get('holds')) and isinstance(since, int | float)
                and e['since_s'] - 1.0 <= since <= e['known_by_s'] + 1.0)
    if q.qtype == 'when_appeared':
        return value.get('day') == e['day']
    return False


# -------------------------------------------------------------------- planners
@dataclass(slots=True)
class World:
    """The frozen world at question time: pre-rendered looks from every place."""

    looks: dict[str, list[Frame]]
    dock: str
    asked_s: float


class Agent:
    """One planner's copy of memory, and how it looks at places."""

    def __init__(self, base: Patrolled, world: World, label_matcher: Any) -> None:
        start = time.perf_counter()
        memory, pipeline = copy.deepcopy((base.memory, base.pipeline))
        # The copy is the benchmark's bookkeeping (every planner starts from the same memory),
        # not part of answering: it is left out of the decision time.
        self.setup_s = time.perf_counter() - start
        self.memory: EpisodicMemory = memory
        self.pipeline: MappingPipeline = pipeline
        self.engine = QueryEngine(memory, label_matcher=label_matcher)
        self.world = world
        self.clock_s = world.asked_s
        self.place = world.dock
        self.travel_s = 0.0
        self.path_m = 0.0
        self.visited: list[str] = []

    def now(self) -> float:
        return self.clock_s

    def observe(self, place: str) -> float:
        start = time.perf_counter()
        layout = self.memory.layout_at(self.clock_s)
        _, dist = layout.place_path(self.place, place) if place != self.place else ([], 0.0)
        self.clock_s += dist / 0.5
        for k, frame in enumerate(self.world.looks.get(place, [])):
            self.pipeline.process(replace(frame, stamp_s=self.clock_s + 0.5 * k))
        self.clock_s += 0.5 * len(self.world.looks.get(place, [])) + 1.0
        self.place = place
        self.path_m += dist
        self.visited.append(place)
        self.travel_s += time.perf_counter() - start
        return dist


def _rooms_of(places: list[str]) -> int:
    return len({p.split(':', 1)[-1].rsplit('/', 1)[0] for p in places})


def _tour(layout: SceneGraph, start: str, places: list[str]) -> list[str]:
    order, here, left = [], start, set(places)
    while left:
        nxt = min(left, key=lambda p: (layout.place_path(here, p)[1], p))
        order.append(nxt)
        left.discard(nxt)
        here = nxt
    return order


def run_planner(name: str, base: Patrolled, world: World, query: Query,
                label_matcher: Any, planner_params: PlannerParams) -> tuple[Answer, Agent]:
    """Answer one parsed query with one planner; returns the answer and what it did."""
    agent = Agent(base, world, label_matcher)
    if name == 'memory_only':
        return agent.engine.answer(query, agent.now()), agent
    if name == 'voi':
        result: ActiveResult = VoIPlanner(planner_params).answer(
            agent.engine, query, agent.place, agent.observe, agent.now)
        return result.answer, agent
    if name == 'explore_all':
        layout = agent.memory.layout_at(agent.now())
        if agent.engine.belief(query, agent.now()):
            for place in _tour(layout, agent.place, sorted(world.looks)):
                agent.observe(place)
        return agent.engine.answer(query, agent.now()), agent
    if name == 'fixed_budget':
        belief = agent.engine.belief(query, agent.now())
        layout = agent.memory.layout_at(agent.now())
        rooms = [h for h in belief if h.places][:2]
        places = sorted({p for h in rooms for p in h.places})
        for place in _tour(layout, agent.place, places):
            agent.observe(place)
        return agent.engine.answer(query, agent.now()), agent
    raise InvalidInputError(f'unknown planner {name!r}; valid: {", ".join(PLANNERS)}')


def frame_retrieval_answer(q: EvalQuestion, query: Query | None, records: list[FrameRecord],
                           asked_s: float, clock: MemoryClock) -> dict[str, Any] | None:
    """Answer from per-frame records only: text match on label/colour, time filters."""
    if query is None:
        return None
    target = getattr(query, 'target', None)
    label = target.label if target is not None else q.label
    color = target.color if target is not None else ''

    Hit = tuple[float, str, str, tuple]

    def hits(until: float = math.inf, since: float = -math.inf) -> list[Hit]:
        out = []
        for r in records:
            if since <= r.stamp_s <= until:
                for lab, col, st, pos in r.detections:
                    if lab == label and (not color or col == color):
                        out.append((r.stamp_s, r.room_id, st, pos))
        return out

    if q.qtype in ('where_now', 'where_last_seen'):
        h = hits()
        return {'room': h[-1][1]} if h else None
    if q.qtype == 'where_on_day' and q.day_start_s is not None:
        h = hits(until=q.day_start_s + DAY_S)
        return {'room': h[-1][1]} if h else None
    if q.qtype in ('state_now', 'state_on_day'):
        until = q.day_start_s + DAY_S if q.qtype == 'state_on_day' and q.day_start_s else math.inf
        h = hits(until=until)
        return {'yes': h[-1][2] == q.state} if h else None
    if q.qtype == 'still_there':
        h = hits()
        return {'yes': h[-1][1] == q.room_id} if h else None
    if q.qtype == 'count_in_room':
        room_records = [r for r in records if r.room_id == q.room_id]
        if not room_records:
            return {'count': 0}
        last_visit = room_records[-1].stamp_s
        visit = [r for r in room_records if last_visit - r.stamp_s < 600.0]
        best = max(sum(1 for lab, *_ in r.detections if lab == label) for r in visit)
        return {'count': best}
    if q.qtype == 'changed_since' and q.day_start_s is not None:
        before = hits(until=q.day_start_s)
        after = hits(since=q.day_start_s)
        if not before or not after:
            return {'changed': False}
        return {'changed': math.dist(before[-1][3], after[-1][3]) > 0.3}
    if q.qtype == 'usual_location':
        h = hits()
        return {'room': Counter(r for _, r, _, _ in h).most_common(1)[0][0]} if h else None
    if q.qtype == 'when_appeared':
        h = hits()
        return {'day': clock.weekday(h[0][0])} if h else None
    return None


# ------------------------------------------------------------------------ main
def eval_laeqa(seed: int = 0, days: int = 5, world: str = 'apartment',
               planners: tuple[str, ...] = PLANNERS, phrasings_path: Path | None = None,
               out_dir: Path = Path('laeqa_out'), per_type: int = 35,
               use_embeddings: bool = True, progress: bool = False,
               planner_params: PlannerParams | None = None,
               detector: str = 'perfect', backend: str = 'builtin', scene: str = '',
               habitat_config: str | None = None) -> dict[str, Any]:
    """Run the benchmark; writes a per-question CSV and a chart, returns the summary.

    `detector`: a preset (perfect, realistic, poor) or a YAML file of detector error rates;
    the patrols and every look while answering see through it. `backend` habitat: the
    household days of a Habitat `scene` (needs habitat-sim).
    """
    from robot_memory.language.parser import QuestionParser, Vocabulary
    from robot_memory.language.phrasings import (
        BUILTIN_PHRASINGS,
        load_phrasings,
        query_matches,
    )

    for name in planners:
        if name not in PLANNERS:
            raise InvalidInputError(f'unknown planner {name!r}; valid: {", ".join(PLANNERS)}')
    phrasings = dict(BUILTIN_PHRASINGS)
    if phrasings_path is not None:
        phrasings = load_phrasings(phrasings_path)
    learned = planner_params is None
    planner_params = planner_params or PlannerParams()
    bar = _Bar(progress)
    with bar:
        bar.stage('patrolling', days)
        other = household_sim(backend, scene, seed, habitat_config, detector)
        if other is not None:
            world = Path(other.config.scene_path).name
        base = patrol(seed, days, world, progress=lambda d: bar.advance(),
                      detector=load_detector(detector), sim=other)
        sim = base.sim
        if learned:
            # The sensor model is what the patrols measured of the detector, not a constant.
            planner_params = replace(planner_params,
                                     detection_prob=base.pipeline.detection.prob())
        asked_s = SIM_EPOCH_S + days * DAY_S + ASKED_HOUR * 3600.0
        sim.step(asked_s - sim.now_s)
        dock = sim.place_id
        layout = base.layout
        bar.stage('rendering looks', len(layout.places))
        looks = {}
        visible: set[str] = set()
        for place in layout.places:
            sim.teleport(*layout.get_place(place).position_m[:2], 0.0)
            looks[place] = sim.look_around()
            for frame in looks[place]:
                visible.update(sim.frame_truth(frame.frame_index).values())
            bar.advance()
        world_state = World(looks, dock, asked_s)
        questions = generate_questions(base, asked_s, phrasings, per_type, seed, visible)
        embedder = None
        matcher = None
        if use_embeddings:
            from robot_memory.language.embeddings import default_embedder

            embedder = default_embedder()

            def matcher(label: str, labels: Any) -> str | None:
                match = embedder.best_match(label, list(labels), min_score=0.5)
                return match[0] if match else None

        vocab = Vocabulary.from_scene_graph(base.memory.at(asked_s).scene_graph())
        parser = QuestionParser(vocab, base.memory.clock, embedder)
        rows: list[dict[str, Any]] = []
        parsed_ok = 0
        bar.stage('answering', len(questions))
        for q in questions:
            parsed = parser.parse(q.text, asked_s)
            understood = query_matches(parsed.query, q.qtype, label=q.label, color=q.color,
                                       room_id=q.room_id, day_start_s=q.day_start_s,
                                       state=q.state)
            parsed_ok += understood
            for name in planners:
                start = time.perf_counter()
                if name == 'frame_retrieval':
                    value = frame_retrieval_answer(q, parsed.query, base.records, asked_s,
                                                   base.memory.clock)
                    text, conf, path_m, rooms, travel = str(value), 1.0, 0.0, 0, 0.0
                elif parsed.query is None:
                    value, text, conf, path_m, rooms, travel = None, parsed.error, 0.0, 0.0, 0, 0
                else:
                    answer, agent = run_planner(name, base, world_state, parsed.query, matcher,
                                                planner_params)
                    value, text, conf = answer.value, answer.text, answer.confidence
                    path_m, rooms, travel = agent.path_m, _rooms_of(agent.visited), \
                        agent.travel_s + agent.setup_s
                latency_ms = (time.perf_counter() - start - travel) * 1e3
                rows.append({
                    'qid': q.qid, 'type': q.qtype, 'category': str(q.category),
                    'question': q.text, 'planner': name, 'parsed': bool(understood),
                    'answer': text, 'truth': q.expected, 'correct': is_correct(q, value),
                    'confidence': round(float(conf), 3), 'path_m': round(path_m, 2),
                    'rooms_visited': rooms, 'latency_ms': round(latency_ms, 2),
                })
            bar.advance()
    summary = _summarise(rows, planners, len(questions), parsed_ok)
    summary.update({'seed': seed, 'days': days, 'world': world, 'detector': detector,
                    'detection_prob': planner_params.detection_prob,
                    'phrasings': str(phrasings_path) if phrasings_path else 'builtin'})
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(rows, out_dir / 'laeqa_questions.csv')
    _write_chart(summary, out_dir / 'laeqa_accuracy.png')
    summary['csv'] = str(out_dir / 'laeqa_questions.csv')
    summary['chart'] = str(out_dir / 'laeqa_accuracy.png')
    return summary


def _summarise(rows: list[dict[str, Any]], planners: tuple[str, ...], n_questions: int,
               parsed_ok: int) -> dict[str, Any]:
    out: dict[str, Any] = {'questions': n_questions,
                           'parse_coverage': parsed_ok / n_questions if n_questions else 0.0,
                           'planners': {}}
    for name in planners:
        mine = [r for r in rows if r['planner'] == name]
        if not mine:
            continue
        by_cat: dict[str, list[bool]] = defaultdict(list)
        by_type: dict[str, list[bool]] = defaultdict(list)
        for r in mine:
            by_cat[r['category']].append(r['correct'])
            by_type[r['type']].append(r['correct'])
        out['planners'][name] = {
            'accuracy': float(np.mean([r['correct'] for r in mine])),
            'by_category': {k: float(np.mean(v)) for k, v in sorted(by_cat.items())},
            'by_type': {k: float(np.mean(v)) for k, v in sorted(by_type.items())},
            'path_m': float(np.mean([r['path_m'] for r in mine])),
            'rooms_visited': float(np.mean([r['rooms_visited'] for r in mine])),
            'latency_ms_p95': float(np.percentile([r['latency_ms'] for r in mine], 95)),
        }
    return out


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    if not rows:
        path.write_text('')
        return
    with path.open('w', newline='', encoding='utf-8') as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write_chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    planners = list(summary['planners'])
    categories = sorted({c for p in summary['planners'].values() for c in p['by_category']})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(len(planners), 1)
    for i, name in enumerate(planners):
        acc = [summary['planners'][name]['by_category'].get(c, 0.0) for c in categories]
        ax.bar(np.arange(len(categories)) + i * width, acc, width, label=name)
    ax.set_xticks(np.arange(len(categories)) + 0.4 - width / 2, categories, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel('accuracy')
    ax.set_title(f'LA-EQA accuracy by category ({summary["questions"]} questions)')
    ax.legend(fontsize=8)
    for name in planners:
        p = summary['planners'][name]
        ax2.scatter(p['path_m'], p['accuracy'], s=60)
        ax2.annotate(name, (p['path_m'], p['accuracy']), textcoords='offset points',
                     xytext=(5, 5), fontsize=8)
    ax2.set_xlabel('mean path per question (m)')
    ax2.set_ylabel('accuracy')
    ax2.set_title('accuracy against travel')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class _Bar:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.progress import Progress

            self._progress = Progress(transient=True)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def stage(self, name: str, total: int) -> None:
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(name, total=total)

    def advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


def _panel_run(seed: int, days: int, world: str, planners: tuple[str, ...],
               phrasings_path: Path | None, out_dir: Path, per_type: int,
               detector: str) -> dict[str, Any]:
    """One panel run: the benchmark's summary with its figures also flat, per planner."""
    summary = eval_laeqa(seed, days, world, planners, phrasings_path,
                         out_dir / f'{Path(world).stem}_{seed}', per_type, detector=detector)
    for name, figures in summary['planners'].items():
        summary[f'{name}_accuracy'] = figures['accuracy']
        summary[f'{name}_path_m'] = figures['path_m']
    if {'voi', 'explore_all'} <= summary['planners'].keys():
        voi, explore = summary['planners']['voi'], summary['planners']['explore_all']
        summary['voi_minus_explore_all'] = voi['accuracy'] - explore['accuracy']
        summary['voi_path_share'] = (voi['path_m'] / explore['path_m']
                                     if explore['path_m'] else None)
    return summary


def eval_laeqa_panel(seeds: list[int], worlds: list[str], days: int = 5,
                     planners: tuple[str, ...] = PLANNERS,
                     phrasings_path: Path | None = None,
                     out_dir: Path = Path('laeqa_out'), per_type: int = 35,
                     progress: bool = False, detector: str = 'perfect',
                     workers: int | None = None) -> dict[str, Any]:
    """The benchmark on every world × seed (in parallel processes): per run, mean and min."""
    from robot_memory.eval.panel import plot_panel, run_panel, summarize

    jobs = [{'seed': seed, 'days': days, 'world': world, 'planners': planners,
             'phrasings_path': phrasings_path, 'out_dir': out_dir, 'per_type': per_type,
             'detector': detector} for world in worlds for seed in seeds]
    runs = run_panel(_panel_run, jobs, workers, progress, 'LA-EQA panel')
    keys = [f'{name}_{figure}' for name in planners for figure in ('accuracy', 'path_m')]
    keys += ['voi_minus_explore_all', 'voi_path_share', 'parse_coverage', 'detection_prob']
    out: dict[str, Any] = {
        'panel': {'seeds': seeds, 'worlds': worlds, 'days': days, 'detector': detector,
                  'planners': list(planners), 'runs': len(runs)},
        **summarize(runs, keys),
        'runs': runs,
    }
    accuracy_keys = [f'{name}_accuracy' for name in planners]
    out['png'] = str(plot_panel(runs, accuracy_keys, out_dir / 'laeqa_panel.png',
                                f'LA-EQA: {len(seeds)} seeds × {", ".join(worlds)}, {days} days',
                                {'voi_accuracy': 0.93}))
    return out

"""The LA-EQA planners: memory-only, tours, a fixed budget, VoI, and frame retrieval.

Every planner answers from its own copy of the patrolled memory (`Agent`); those that look go
to places of the `FrozenWorld` and ingest the looks rendered there at question time.
`frame_retrieval_answer` is the ReMEmbR-style baseline: per-frame records searched by text,
time and position, no scene graph.
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.planner import ActiveResult, PlannerParams, VoIPlanner
from robot_memory.core.queries import Answer, Query
from robot_memory.core.query_engine import QueryEngine
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.types import Frame
from robot_memory.eval.laeqa.patrol import FrameRecord, Patrolled
from robot_memory.eval.laeqa.questions import EvalQuestion
from robot_memory.exceptions import InvalidInputError
from robot_memory.perception.pipeline import MappingPipeline
from robot_memory.sim.clock import DAY_S

__all__ = ['PLANNERS', 'Agent', 'FrozenWorld', 'frame_retrieval_answer', 'run_planner']

PLANNERS = ('memory_only', 'frame_retrieval', 'fixed_budget', 'explore_all', 'voi')


@dataclass(slots=True)
class FrozenWorld:
    """The frozen world at question time: pre-rendered looks from every place."""

    looks: dict[str, list[Frame]]
    dock: str
    asked_s: float


class Agent:
    """One planner's copy of memory, and how it looks at places."""

    def __init__(self, base: Patrolled, world: FrozenWorld, label_matcher: Any) -> None:
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
        """Return the agent's own clock (s): question time plus its travel and looks."""
        return self.clock_s

    def observe(self, place: str) -> float:
        """Go to `place`, ingest its looks; return the distance travelled (m)."""
        start = time.perf_counter()
        layout = self.memory.layout_at(self.clock_s)
        _, dist = layout.place_path(self.place, place) if place != self.place else ([], 0.0)
        self.clock_s += dist / 0.5
        for k, frame in enumerate(self.world.looks.get(place, [])):
            self.pipeline.process(replace(frame, stamp_s=self.clock_s + 0.5 * k))
        # What the look found counts in the answer: a newcomer it could not yet tell from a
        # look-alike is settled now, as memory does before answering (MemoryService.handle).
        self.pipeline.flush()
        self.clock_s += 0.5 * len(self.world.looks.get(place, [])) + 1.0
        self.place = place
        self.path_m += dist
        self.visited.append(place)
        self.travel_s += time.perf_counter() - start
        return dist


def rooms_of(places: list[str]) -> int:
    """Count the rooms among visited place ids (`place:<room>/<n>`)."""
    return len({p.split(':', 1)[-1].rsplit('/', 1)[0] for p in places})


def _tour(layout: SceneGraph, start: str, places: list[str]) -> list[str]:
    order, here, left = [], start, set(places)
    while left:
        nxt = min(left, key=lambda p: (layout.place_path(here, p)[1], p))
        order.append(nxt)
        left.discard(nxt)
        here = nxt
    return order


def run_planner(name: str, base: Patrolled, world: FrozenWorld, query: Query,
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

    Hit = tuple[float, str, str, tuple[float, float, float]]

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

"""What every answer of the query engine builds on.

`EngineCore` holds the memory and the engine's parameters and finds what a query is about:
the memory objects that fit a target, the confidence staleness gives a remembered fact, the
words for rooms and places, how fresh a room's view is and where an object might be by room
(its habits spread over the layout). The answer families (`answers_where_when`,
`answers_contents`, `answers_retrieve`) are mixins over it; `QueryEngine` joins them.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import ArrayLike

from robot_memory.core.episodic import EpisodicMemory, Interval, ObjectHistory, ObjectState
from robot_memory.core.events import FactKey
from robot_memory.core.queries import Answer, Evidence, Query, Target
from robot_memory.core.retrieval import GraphIndex
from robot_memory.core.scene_graph import RoomAttributes
from robot_memory.core.taxonomy import Taxonomy, default_affordances, default_taxonomy
from robot_memory.core.wording import article

__all__ = ['EngineCore', 'EngineParams', 'Hypothesis', 'LabelMatcher', 'TextScorer']

LabelMatcher = Callable[[str, Sequence[str]], str | None]
# Similarity of a question to each of several descriptions (cosine, -1 … 1): a list or an
# array of one score per description.
TextScorer = Callable[[str, Sequence[str]], ArrayLike]


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


class EngineCore:
    """The memory a `QueryEngine` answers from, and the look-ups every answer shares."""

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

    def _describe_state(self, s: ObjectState) -> str:
        words = ' '.join(w for w in (s.color, s.label.replace('_', ' ')) if w)
        return f'a {words}' + (f' ({s.state})' if s.state else '')

    def _unknown(self, query: Query, target: Target) -> Answer:
        return Answer(query, None, f'I have no memory of {article(self._describe(target))}.', 0.0,
                      (), needs_verification=True)

    def _verify(self, confidence: float) -> bool:
        return confidence < self.params.verify_below

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
        seeds: defaultdict[str, float] = defaultdict(float)
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

"""Episodic memory: every object fact is a sequence of intervals `[t_from, t_to)`.

The memory is a deterministic replay of its event log (`events.py`): `apply()` is the only
mutation, and `drain()` hands the not-yet-persisted events to the store. `at(t)` is a
read-only view of the world as last known at `t`; `diff(t1, t2)` lists what changed;
`instances()` splits the history into robot sessions with human labels.

Storage grows with changes, not frames: a confirmation (`seen`) is logged at most once per
`seen_resolution_s` per object, so an object watched for a minute costs two records, not 1800.

The objects' interval records live in `object_history.py`, the views `at`, `diff` and
`instances` return in `world_view.py`, and how each event changes the records in
`event_replay.py`; this module re-exports their public names.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Collection, Iterator
from typing import Any, cast

from robot_memory.core.clock import MemoryClock
from robot_memory.core.event_replay import EventReplay
from robot_memory.core.events import (
    Event,
    FactChanged,
    FactKey,
    FactValue,
    IdentityRepaired,
    IdentitySplit,
    LayoutSet,
    ObjectCreated,
    ObjectLost,
    ObjectSeen,
    ObjectsMerged,
    PlaceObserved,
    PositionRefined,
    normalise_fact,
)
from robot_memory.core.object_history import (
    Interval,
    ObjectFacts,
    ObjectHistory,
    ObjectState,
    _Interval,
    _Object,
    _staleness_keys,
    graph_node_id,
)
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.staleness import StalenessModel, StalenessParams
from robot_memory.core.world_view import Episode, WorldDiff, WorldView
from robot_memory.exceptions import InvalidInputError, UnknownNodeError

__all__ = [
    'Episode',
    'EpisodicMemory',
    'Interval',
    'ObjectFacts',
    'ObjectHistory',
    'ObjectState',
    'WorldDiff',
    'WorldView',
    'graph_node_id',
]

log = logging.getLogger(__name__)


class EpisodicMemory(EventReplay):
    """The robot's long-term, time-indexed memory of objects, over a static layout."""

    def __init__(self, clock: MemoryClock | None = None, seen_resolution_s: float = 30.0,
                 session_gap_s: float = 1800.0,
                 staleness: StalenessParams | None = None) -> None:
        if seen_resolution_s < 0 or session_gap_s <= 0:
            raise InvalidInputError('seen_resolution_s must be >= 0 and session_gap_s > 0')
        self.clock = clock or MemoryClock()
        self.seen_resolution_s = float(seen_resolution_s)
        self.session_gap_s = float(session_gap_s)
        self.staleness = StalenessModel(staleness)
        self._objects: dict[str, _Object] = {}
        self._layouts: list[tuple[float, SceneGraph]] = []
        self._place_views: dict[str, list[float]] = {}
        self._stamps: list[float] = []
        self._journal: list[Event] = []
        self._num_events = 0

    # ---------------------------------------------------------------- writing
    def apply(self, event: Event) -> None:
        """Apply one event (validated first: a rejected event changes nothing)."""
        match event:
            case ObjectCreated():
                self._apply_created(event)
            case FactChanged():
                self._apply_fact(event)
            case ObjectSeen():
                self._apply_seen(event)
            case ObjectLost():
                self._apply_lost(event)
            case ObjectsMerged():
                self._apply_merged(event)
            case LayoutSet():
                self._apply_layout(event)
            case PlaceObserved():
                self._apply_place(event)
            case PositionRefined():
                self._apply_refined(event)
            case IdentityRepaired():
                self._apply_repaired(event)
            case IdentitySplit():
                self._apply_split(event)
            case _:
                raise InvalidInputError(f'not a memory event: {event!r}')
        if not isinstance(event, LayoutSet):
            # Sessions and the memory clock follow what the robot saw, not map updates.
            bisect.insort(self._stamps, event.stamp_s)
        self._journal.append(event)
        self._num_events += 1

    def drain(self) -> list[Event]:
        """Events applied since the last drain, in order (for the store)."""
        out, self._journal = self._journal, []
        return out

    def create_object(self, object_id: str, stamp_s: float, label: str,
                      facts: dict[FactKey, Any], obs_ids: tuple[int, ...] = (),
                      color: str = '', mobility: str = 'movable',
                      discovered: bool = False) -> None:
        """Create an object with its initial facts."""
        self.apply(ObjectCreated(stamp_s, object_id, label, color, mobility, discovered))
        for key, value in facts.items():
            self.apply(FactChanged(stamp_s, object_id, FactKey(key),
                                   normalise_fact(key, value), obs_ids))

    def set_fact(self, object_id: str, stamp_s: float, key: FactKey, value: Any,
                 obs_ids: tuple[int, ...] = ()) -> bool:
        """Give a fact a new value; False (and nothing logged) when it already holds it."""
        obj = self._get(object_id)
        value = normalise_fact(key, value)
        current = obj.open_interval(FactKey(key))
        if current is not None and current.value == value:
            return False
        self.apply(FactChanged(stamp_s, object_id, FactKey(key), value, obs_ids))
        return True

    def seen(self, object_id: str, stamp_s: float, obs_ids: tuple[int, ...] = ()) -> bool:
        """Confirm an object's facts; logged at most once per `seen_resolution_s`."""
        obj = self._get(object_id)
        if obj.seen_s and stamp_s - obj.seen_s[-1] < self.seen_resolution_s:
            return False
        self.apply(ObjectSeen(stamp_s, object_id, obs_ids))
        return True

    def lose(self, object_id: str, stamp_s: float, obs_ids: tuple[int, ...] = ()) -> bool:
        """Record confirmed absence; False when the object was not present anyway."""
        obj = self._get(object_id)
        if obj.open_interval(FactKey.POSITION) is None:
            return False
        self.apply(ObjectLost(stamp_s, object_id, obs_ids))
        return True

    def refine_position(self, object_id: str, stamp_s: float,
                        position_m: tuple[float, float, float],
                        obs_ids: tuple[int, ...] = ()) -> bool:
        """Re-estimate where a present object stands, without a move; False if it is absent."""
        obj = self._get(object_id)
        if obj.open_interval(FactKey.POSITION) is None:
            return False
        self.apply(PositionRefined(stamp_s, object_id,
                                   normalise_fact(FactKey.POSITION, position_m), obs_ids))
        return True

    def merge(self, keep_id: str, drop_id: str, stamp_s: float) -> None:
        """Fold a duplicate object into another."""
        self.apply(ObjectsMerged(stamp_s, keep_id, drop_id))

    def repair_identity(self, keep_id: str, drop_id: str, stamp_s: float) -> None:
        """`drop_id` was `keep_id` all along since it was first seen: rewrite the past."""
        since = self._get(drop_id).created_s
        self.apply(IdentityRepaired(stamp_s, keep_id, drop_id, since))

    def split_identity(self, object_id: str, new_id: str, since_s: float,
                       stamp_s: float, discovered: bool = True) -> None:
        """Undo a guess: from `since_s` on, `object_id`'s history was `new_id`'s (an object
        found there, or one that arrived there when not `discovered`)."""
        self.apply(IdentitySplit(stamp_s, object_id, new_id, since_s, discovered))

    def observe_place(self, place_id: str, stamp_s: float) -> bool:
        """Record a look from a place; logged at most once per `seen_resolution_s`."""
        views = self._place_views.get(place_id)
        if views and stamp_s - views[-1] < self.seen_resolution_s:
            return False
        self.apply(PlaceObserved(stamp_s, place_id))
        return True

    def place_observed_s(self, place_id: str, t: float | None = None) -> float | None:
        """When the robot last looked from a place, as known at `t` (None: never)."""
        views = self._place_views.get(place_id, [])
        i = bisect.bisect_right(views, self.now_s if t is None else t)
        return views[i - 1] if i else None

    def place_views(self, start_s: float, end_s: float) -> list[tuple[float, str]]:
        """Looks from places in `[start_s, end_s]`, in time order: the robot's route."""
        views = [(stamp, place_id) for place_id, stamps in self._place_views.items()
                 for stamp in stamps[bisect.bisect_left(stamps, start_s):
                                     bisect.bisect_right(stamps, end_s)]]
        return sorted(views)

    def set_layout(self, graph: SceneGraph, stamp_s: float) -> None:
        """Set the static layers (rooms, places and their edges)."""
        static = graph.copy()
        for object_id in static.objects:
            static.remove_node(object_id)
        self.apply(LayoutSet(stamp_s, static.to_dict()))

    # ---------------------------------------------------------------- reading
    @property
    def now_s(self) -> float:
        """Latest stamp memory has heard of (0 when empty)."""
        return self._stamps[-1] if self._stamps else 0.0

    @property
    def num_events(self) -> int:
        """Events applied since this memory was created (replayed ones included)."""
        return self._num_events

    @property
    def object_ids(self) -> list[str]:
        """Ids of all objects ever known (merged ones included), sorted."""
        return sorted(self._objects)

    def num_objects(self) -> int:
        """Number of objects ever known, merged duplicates excluded."""
        return sum(1 for o in self._objects.values() if o.merged_into is None)

    def has_object(self, object_id: str) -> bool:
        """Whether memory has ever known the object."""
        return object_id in self._objects

    def label_of(self, object_id: str) -> str:
        """Class of an object, or '' when memory never knew it."""
        obj = self._objects.get(object_id)
        return obj.label if obj is not None else ''

    def labels(self) -> list[str]:
        """Classes of every object memory has known, sorted."""
        return sorted({o.label for o in self._objects.values()})

    def is_discovery(self, object_id: str) -> bool:
        """Whether the object was first seen where the robot had never looked before."""
        obj = self._objects.get(object_id)
        return bool(obj is not None and obj.discovered)

    def resolve(self, object_id: str) -> str:
        """Follow merges to the id that stands for the object now."""
        seen = set()
        while (obj := self._objects.get(object_id)) and obj.merged_into and object_id not in seen:
            seen.add(object_id)
            object_id = obj.merged_into
        return object_id

    def current(self, object_id: str) -> ObjectState | None:
        """The object's latest known state (fast: open intervals only), or None if unknown."""
        obj = self._objects.get(self.resolve(object_id))
        if obj is None:
            return None
        return self._state_at(obj, max(self.now_s, obj.seen_s[-1] if obj.seen_s else 0.0))

    def history(self, object_id: str) -> ObjectHistory:
        """All intervals and sightings of one object; raises `UnknownNodeError`."""
        obj = self._objects.get(object_id)
        if obj is None:
            raise UnknownNodeError(f'no object {object_id!r} in memory')
        return ObjectHistory(
            obj.object_id, obj.label, obj.color, obj.mobility, obj.created_s, obj.merged_into,
            {k: tuple(iv.frozen() for iv in ivs) for k, ivs in obj.facts.items()},
            tuple(obj.seen_s), obj.merged_s)

    def layout_at(self, t: float) -> SceneGraph:
        """The static layers in force at `t` (the first layout before any was set)."""
        if not self._layouts:
            return SceneGraph()
        i = bisect.bisect_right([s for s, _ in self._layouts], t) - 1
        return self._layouts[max(i, 0)][1]

    def at(self, t: float, labels: Collection[str] | None = None) -> WorldView:
        """The world as last known at time `t` (only objects of `labels`, when given)."""
        present: dict[str, ObjectState] = {}
        missing: dict[str, ObjectState] = {}
        for object_id, obj in self._objects.items():
            if obj.created_s > t or (obj.merged_s is not None and obj.merged_s <= t) or \
                    (labels is not None and obj.label not in labels):
                continue
            state = self._state_at(obj, t)
            if state is None:
                continue
            (present if state.present else missing)[object_id] = state
        return WorldView(t, present, missing, self.layout_at(t))

    def _state_at(self, obj: _Object, t: float) -> ObjectState | None:
        pos = obj.interval_at(FactKey.POSITION, t)
        present = pos is not None
        if pos is None:
            pos = obj.last_interval_before(FactKey.POSITION, t)
            if pos is None:
                return None
        # A missing object is described as it was when last seen in its last place.
        probe = t if present else pos.last_seen_s

        def value(key: FactKey) -> FactValue:
            iv = obj.interval_at(key, probe)
            return iv.value if iv is not None else (None if key is FactKey.SUPPORT else '')

        i = bisect.bisect_right(obj.seen_s, probe)
        last_seen = obj.seen_s[i - 1] if i else pos.t_from
        # Each fact's intervals hold the form `normalise_fact` gives its key.
        return ObjectState(
            object_id=obj.object_id, label=obj.label, color=obj.color, mobility=obj.mobility,
            present=present, position_m=cast('tuple[float, float, float]', pos.value),
            room_id=cast(str, value(FactKey.ROOM)),
            support=cast('tuple[str, str] | None', value(FactKey.SUPPORT)),
            state=cast(str, value(FactKey.STATE)), since_s=pos.t_from,
            last_seen_s=last_seen, obs_ids=tuple(pos.obs_ids))

    def diff(self, t1: float, t2: float) -> WorldDiff:
        """What changed between `at(t1)` and `at(t2)`."""
        a, b = self.at(t1).facts(), self.at(t2).facts()
        added = {k: v for k, v in b.items() if k not in a}
        removed = {k: v for k, v in a.items() if k not in b}
        moved: dict[str, tuple[ObjectFacts, ObjectFacts]] = {}
        state_changed: dict[str, tuple[ObjectFacts, ObjectFacts]] = {}
        for k in a.keys() & b.keys():
            before, after = a[k], b[k]
            # Support first made out where the object already stood refines it; not a move.
            support_changed = before[2] != after[2] and before[2] is not None
            if before[:2] != after[:2] or support_changed:
                moved[k] = (before, after)
            if before[3] != after[3]:
                state_changed[k] = (before, after)
        return WorldDiff(t1, t2, added, removed, moved, state_changed)

    def instances(self) -> list[Episode]:
        """Robot sessions: runs of activity separated by more than `session_gap_s`."""
        episodes: list[Episode] = []
        if not self._stamps:
            return episodes
        start = prev = self._stamps[0]
        bounds = []
        for stamp in self._stamps[1:]:
            if stamp - prev > self.session_gap_s:
                bounds.append((start, prev))
                start = stamp
            prev = stamp
        bounds.append((start, prev))
        counts: dict[str, int] = {}
        for index, (lo, hi) in enumerate(bounds):
            label = self.clock.label(lo)
            counts[label] = counts.get(label, 0) + 1
            if counts[label] > 1:
                label = f'{label} ({counts[label]})'
            episodes.append(Episode(index, lo, hi, label))
        return episodes

    def p_state_unchanged(self, object_id: str, t: float | None = None) -> float:
        """Staleness belief that an object's state (on/off, open/closed) is as last seen."""
        t = self.now_s if t is None else t
        state = self.at(t).find_object(object_id)
        if state is None:
            raise UnknownNodeError(f'memory knew no object {object_id!r} at t={t}')
        obj = self._objects[object_id]
        label, key = _staleness_keys(obj, FactKey.STATE)
        return self.staleness.p_still_there(label, t - state.last_seen_s, key, 'state')

    def p_still_there(self, object_id: str, t: float | None = None) -> float:
        """Staleness belief that a present object is still where it was last seen at `t`."""
        t = self.now_s if t is None else t
        state = self.at(t).find_object(object_id)
        if state is None:
            raise UnknownNodeError(f'memory knew no object {object_id!r} at t={t}')
        if not state.present:
            return 0.0
        return self.staleness.p_still_there(state.label, t - state.last_seen_s, object_id,
                                            state.mobility)

    def iter_objects(self) -> Iterator[ObjectHistory]:
        """Histories of all objects, by id."""
        for object_id in sorted(self._objects):
            yield self.history(object_id)

    # ---------------------------------------------------------- serialising
    def to_dict(self) -> dict[str, Any]:
        """The complete state as JSON-safe data (snapshots and equality use it)."""
        def interval(iv: _Interval) -> list[Any]:
            value = list(iv.value) if isinstance(iv.value, tuple) else iv.value
            return [value, iv.t_from, iv.t_to, list(iv.obs_ids), iv.last_seen_s]

        objects = {}
        for object_id, obj in sorted(self._objects.items()):
            objects[object_id] = {
                'label': obj.label, 'color': obj.color, 'mobility': obj.mobility,
                'created_s': obj.created_s, 'merged_into': obj.merged_into,
                'merged_s': obj.merged_s, 'seen_s': list(obj.seen_s),
                'discovered': obj.discovered,
                'facts': {k.value: [interval(iv) for iv in ivs] for k, ivs in obj.facts.items()},
            }
        return {
            'objects': objects,
            'layouts': [[s, g.to_dict()] for s, g in self._layouts],
            'place_views': {k: list(v) for k, v in sorted(self._place_views.items())},
            'stamps': list(self._stamps),
            'staleness': {
                'class': {k: [t.exposure_s, t.moves]
                          for k, t in sorted(self.staleness._by_class.items())},
                'instance': {k: [t.exposure_s, t.moves]
                             for k, t in sorted(self.staleness._by_instance.items())},
            },
            'num_events': self._num_events,
        }

    def load_dict(self, data: dict[str, Any]) -> None:
        """Replace this memory's state with one written by `to_dict` (journal cleared)."""
        from robot_memory.core.staleness import _Tally

        try:
            objects: dict[str, _Object] = {}
            for object_id, o in data['objects'].items():
                obj = _Object(object_id, o['label'], o['color'], o['mobility'],
                              float(o['created_s']), merged_into=o['merged_into'],
                              merged_s=o['merged_s'], seen_s=[float(s) for s in o['seen_s']],
                              discovered=bool(o.get('discovered', False)))
                for key, ivs in o['facts'].items():
                    fk = FactKey(key)
                    obj.facts[fk] = [
                        _Interval(normalise_fact(fk, v), float(a), None if b is None else float(b),
                                  [int(i) for i in ids], float(ls))
                        for v, a, b, ids, ls in ivs]
                objects[object_id] = obj
            layouts = [(float(s), SceneGraph.from_dict(g)) for s, g in data['layouts']]
            place_views = {str(k): [float(t) for t in v]
                           for k, v in data.get('place_views', {}).items()}
            by_class = {k: _Tally(float(e), int(m))
                        for k, (e, m) in data['staleness']['class'].items()}
            by_instance = {k: _Tally(float(e), int(m))
                           for k, (e, m) in data['staleness']['instance'].items()}
            stamps = [float(s) for s in data['stamps']]
            num_events = int(data['num_events'])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f'malformed memory snapshot: {exc!r}') from exc
        self._objects, self._layouts, self._stamps = objects, layouts, stamps
        self._place_views = place_views
        self.staleness._by_class, self.staleness._by_instance = by_class, by_instance
        self._num_events = num_events
        self._journal = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EpisodicMemory) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f'EpisodicMemory(objects={self.num_objects()}, events={self._num_events}, '
                f'now_s={self.now_s})')

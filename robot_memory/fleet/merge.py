"""One memory from many robots' event logs: objects associated in the shared `map` frame.

Each robot's events are replayed into one `EpisodicMemory`. An object a robot creates is
associated, when its first position arrives, with a fleet object of the same class and
colour (an unknown colour matches any) that is present within `gate_m` — the gate perception
uses within one robot — and that no event of the same robot already maps to (one robot's two
objects stay two). Otherwise it becomes a new fleet object `<robot>/<object id>`. From then
on the robot's facts, sightings and losses apply to the fleet object in time order, so the
latest confirmed observation wins and staleness counts from the last time *any* robot saw
it. A robot's own merge of two objects merges their fleet objects.

Streams are interleaved by stamp, each robot's kept in its own order. A change a robot
confirmed late may carry a stamp older than another robot's later news of the same object;
it is then applied at that news's time (`clamped` counts them). Which robot saw what is kept
per fleet object (`sightings`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from typing import Any

from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.events import (
    Event,
    FactChanged,
    FactKey,
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
from robot_memory.exceptions import OutOfOrderError, RobotMemoryError

__all__ = ['FleetMemory', 'MergeStats']


@dataclass(slots=True)
class MergeStats:
    """Counters of the merge."""

    events: int = 0
    objects: int = 0
    associated: int = 0
    clamped: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


class FleetMemory:
    """The fleet's memory, built from `(robot_id, event)` pairs."""

    def __init__(self, memory: EpisodicMemory | None = None, gate_m: float = 0.5) -> None:
        self.memory = memory or EpisodicMemory()
        self.gate_m = gate_m
        self.stats = MergeStats()
        self._fleet_id: dict[tuple[str, str], str] = {}
        self._pending: dict[tuple[str, str], ObjectCreated] = {}
        self._members: dict[str, set[tuple[str, str]]] = {}
        self._last_stamp: dict[str, float] = {}
        self._local_facts: dict[tuple[str, str], dict[FactKey, Any]] = {}
        self._by_label: dict[str, set[str]] = {}  # fleet objects of each class
        self._taken: dict[str, set[str]] = {}  # fleet objects each robot maps to
        #: Fleet object id → sorted (stamp, robot id) of every confirmation.
        self.sightings: dict[str, list[tuple[float, str]]] = {}
        self._layout_key: Any = None

    # ---------------------------------------------------------------- reading
    def robot_at(self, fleet_id: str, stamp_s: float) -> str:
        """The robot whose confirmation of `fleet_id` is the last at or before `stamp_s`."""
        seen = self.sightings.get(fleet_id, [])
        i = bisect.bisect_right(seen, (stamp_s + 1e-6, '\uffff'))
        return seen[i - 1][1] if i else (seen[0][1] if seen else '')

    def robots_of(self, fleet_id: str) -> list[str]:
        """Every robot that saw the fleet object, in the order they first did."""
        out: list[str] = []
        for _, robot in self.sightings.get(fleet_id, []):
            if robot not in out:
                out.append(robot)
        return out

    @property
    def now_s(self) -> float:
        """The latest stamp in the fleet memory."""
        return self.memory.now_s

    # ---------------------------------------------------------------- writing
    def apply_all(self, streams: dict[str, list[Event]]) -> None:
        """Apply several robots' new events, interleaved by stamp (each kept in order)."""
        import heapq

        tagged = [[(e.stamp_s, robot, i, e) for i, e in enumerate(events)]
                  for robot, events in sorted(streams.items())]
        for _, robot, _, event in heapq.merge(*tagged, key=lambda x: x[0]):
            self.apply(robot, event)

    def apply(self, robot: str, event: Event) -> None:
        """Apply one robot's event; an event that cannot apply is counted and skipped."""
        self.stats.events += 1
        try:
            self._apply(robot, event)
        except RobotMemoryError as exc:
            self.stats.skipped += 1
            if len(self.stats.errors) < 20:
                self.stats.errors.append(f'{robot}: {exc}')

    def _apply(self, robot: str, e: Event) -> None:
        if isinstance(e, LayoutSet):
            key = repr(sorted(e.graph.get('nodes', []), key=repr))
            if key != self._layout_key:  # every robot sets the same map: keep one
                self._layout_key = key
                self.memory.apply(e)
            return
        if isinstance(e, PlaceObserved):
            self.memory.observe_place(e.place_id, e.stamp_s)
            return
        if isinstance(e, ObjectCreated):
            self._pending[(robot, e.object_id)] = e
            return
        if isinstance(e, ObjectsMerged):
            self._merge(robot, e)
            return
        if isinstance(e, IdentityRepaired):
            self._repair(robot, e)
            return
        if isinstance(e, IdentitySplit):
            # Undoing a robot's wrong guess is not replayed on the fleet's memory: its
            # objects may stand for other robots' sightings too. Counted, and the robot's
            # next sightings of either object go on as they come.
            self.stats.skipped += 1
            return
        local = (robot, e.object_id)
        if local in self._pending:
            if not (isinstance(e, FactChanged) and e.key is FactKey.POSITION):
                return  # facts before the first position come again with it
            self._create(robot, self._pending.pop(local), e)
        fid = self._fleet_id.get(local)
        if fid is None:
            self.stats.skipped += 1
            return
        facts = self._local_facts.setdefault(local, {})
        if isinstance(e, FactChanged):
            facts[e.key] = e.value
        elif isinstance(e, PositionRefined):
            facts[FactKey.POSITION] = e.value
        elif isinstance(e, ObjectLost):
            for key in (FactKey.POSITION, FactKey.ROOM, FactKey.SUPPORT):
                facts.pop(key, None)
        self._confirm(fid, robot, e.stamp_s)
        state = self.memory.current(fid)
        if isinstance(e, ObjectSeen | PositionRefined) and state is not None and \
                not state.present:
            # Another robot saw it go; this one still sees it where it knows it: it is back.
            for key in (FactKey.POSITION, FactKey.ROOM, FactKey.SUPPORT):
                if facts.get(key) is not None:
                    self._apply_clamped(fid, FactChanged(e.stamp_s, fid, key, facts[key]))
            if isinstance(e, PositionRefined):
                return
        self._apply_clamped(fid, replace(e, object_id=fid))

    def _apply_clamped(self, fid: str, e: Event) -> None:
        later = max(self._last_stamp.get(fid, e.stamp_s), e.stamp_s)
        try:
            self.memory.apply(e)
        except OutOfOrderError:
            self.stats.clamped += 1
            self.memory.apply(replace(e, stamp_s=later))
        self._last_stamp[fid] = later

    def _confirm(self, fid: str, robot: str, stamp_s: float) -> None:
        bisect.insort(self.sightings.setdefault(fid, []), (stamp_s, robot))

    def _create(self, robot: str, created: ObjectCreated, first: FactChanged) -> None:
        fid = self._associate(robot, created, first.value)
        if fid is None:
            fid = f'{robot}/{created.object_id}'
            self.memory.apply(replace(created, object_id=fid, stamp_s=first.stamp_s))
            self._last_stamp[fid] = first.stamp_s
            self._by_label.setdefault(created.label, set()).add(fid)
            self.stats.objects += 1
        else:
            self.stats.associated += 1
        self._fleet_id[(robot, created.object_id)] = fid
        self._taken.setdefault(robot, set()).add(fid)
        self._members.setdefault(fid, set()).add((robot, created.object_id))

    def _associate(self, robot: str, created: ObjectCreated, position: Any) -> str | None:
        best, best_d = None, self.gate_m
        taken = self._taken.get(robot, set())
        for fid in self._by_label.get(created.label, ()):
            if fid in taken:
                continue
            state = self.memory.current(fid)
            if state is None or not state.present or state.position_m is None:
                continue
            if created.color and state.color and created.color != state.color:
                continue
            d = math.dist(state.position_m[:2], position[:2])
            if d <= best_d:
                best, best_d = state.object_id, d
        return best

    def _repair(self, robot: str, e: IdentityRepaired) -> None:
        """A robot's history repair: the kept object takes where the other stands now, and
        the two are folded at the repair (other robots may have seen either since: the
        fleet's past is not rewritten)."""
        keep = self._fleet_id.get((robot, e.keep_id))
        drop = self._fleet_id.get((robot, e.drop_id))
        state = self.memory.current(drop) if drop is not None else None
        if keep is not None and drop is not None and keep != drop and state is not None and \
                state.present:
            for key, value in ((FactKey.POSITION, state.position_m),
                               (FactKey.ROOM, state.room_id), (FactKey.SUPPORT, state.support),
                               (FactKey.STATE, state.state)):
                self._apply_clamped(keep, FactChanged(e.stamp_s, keep, key,
                                                      normalise_fact(key, value)))
        self._merge(robot, ObjectsMerged(e.stamp_s, e.keep_id, e.drop_id))

    def _merge(self, robot: str, e: ObjectsMerged) -> None:
        keep = self._fleet_id.get((robot, e.keep_id))
        drop = self._fleet_id.get((robot, e.drop_id))
        self._pending.pop((robot, e.drop_id), None)
        if drop is not None:
            self._fleet_id[(robot, e.drop_id)] = keep or drop
        if keep is None or drop is None or keep == drop:
            return
        stamp = max(e.stamp_s, self._last_stamp.get(keep, 0.0), self._last_stamp.get(drop, 0.0))
        self.memory.apply(ObjectsMerged(stamp, keep, drop))
        for fids in self._by_label.values():
            fids.discard(drop)
        for member in self._members.pop(drop, set()):
            self._fleet_id[member] = keep
            self._members[keep].add(member)
            self._taken.setdefault(member[0], set()).add(keep)
        self.sightings[keep] = sorted(self.sightings.get(keep, []) +
                                      self.sightings.pop(drop, []))

"""One object's record in episodic memory: each fact a sequence of intervals.

`Interval`, `ObjectHistory` and `ObjectState` are what readers get (frozen); `_Object` and
`_Interval` are the mutable records `EpisodicMemory` keeps and replays events into.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from robot_memory.core.events import FactKey, FactValue

__all__ = ['MAX_EVIDENCE', 'Interval', 'ObjectFacts', 'ObjectHistory', 'ObjectState',
           'graph_node_id']

MAX_EVIDENCE = 8  # observation ids kept per interval: the first and the latest few


@dataclass(frozen=True, slots=True)
class Interval:
    """One value of one fact, held from `t_from` until `t_to` (None: still open)."""

    value: FactValue
    t_from: float
    t_to: float | None
    obs_ids: tuple[int, ...]
    last_seen_s: float

    def holds_at(self, t: float) -> bool:
        """Whether `t` falls in `[t_from, t_to)`."""
        return self.t_from <= t and (self.t_to is None or t < self.t_to)


class ObjectFacts(tuple[FactValue, FactValue, FactValue, FactValue]):
    """Comparable facts of a present object: (position, room, support, state)."""

    __slots__ = ()

    def __new__(cls, position: FactValue, room: FactValue, support: FactValue,
                state: FactValue) -> ObjectFacts:
        return super().__new__(cls, (position, room, support, state))


@dataclass(frozen=True, slots=True)
class ObjectState:
    """An object as memory knew it at one time."""

    object_id: str
    label: str
    color: str
    mobility: str
    present: bool
    position_m: tuple[float, float, float] | None
    room_id: str
    support: tuple[str, str] | None
    state: str
    since_s: float
    last_seen_s: float
    obs_ids: tuple[int, ...]

    @property
    def facts(self) -> ObjectFacts:
        """The facts that `diff` compares."""
        return ObjectFacts(self.position_m, self.room_id, self.support, self.state)


@dataclass(frozen=True, slots=True)
class ObjectHistory:
    """Everything memory holds about one object."""

    object_id: str
    label: str
    color: str
    mobility: str
    created_s: float
    merged_into: str | None
    facts: dict[FactKey, tuple[Interval, ...]]
    seen_s: tuple[float, ...]
    merged_s: float | None = None


@dataclass(slots=True)
class _Interval:
    value: FactValue
    t_from: float
    t_to: float | None
    obs_ids: list[int]
    last_seen_s: float

    def add_evidence(self, obs_ids: Iterable[int]) -> None:
        for i in obs_ids:
            if i in self.obs_ids:
                continue
            if len(self.obs_ids) >= MAX_EVIDENCE:
                # Keep the first sighting and a sliding window of the latest ones.
                del self.obs_ids[1]
            self.obs_ids.append(i)

    def frozen(self) -> Interval:
        return Interval(self.value, self.t_from, self.t_to, tuple(self.obs_ids),
                        self.last_seen_s)


def _start(interval: _Interval) -> float:
    return interval.t_from


@dataclass(slots=True)
class _Object:
    object_id: str
    label: str
    color: str
    mobility: str
    created_s: float
    facts: dict[FactKey, list[_Interval]] = field(
        default_factory=lambda: {key: [] for key in FactKey})
    seen_s: list[float] = field(default_factory=list)
    merged_into: str | None = None
    merged_s: float | None = None
    discovered: bool = False

    def open_interval(self, key: FactKey) -> _Interval | None:
        ivs = self.facts[key]
        return ivs[-1] if ivs and ivs[-1].t_to is None else None

    def interval_at(self, key: FactKey, t: float) -> _Interval | None:
        ivs = self.facts[key]
        # key=: a lookup costs log(history), not a list of every interval's start
        i = bisect.bisect_right(ivs, t, key=_start) - 1
        if i < 0:
            return None
        iv = ivs[i]
        return iv if iv.t_to is None or t < iv.t_to else None

    def last_interval_before(self, key: FactKey, t: float) -> _Interval | None:
        ivs = self.facts[key]
        i = bisect.bisect_right(ivs, t, key=_start) - 1
        return ivs[i] if i >= 0 else None


def _staleness_keys(obj: _Object, key: FactKey) -> tuple[str, str]:
    """Tally names of the staleness model: positions by class, states apart."""
    if key is FactKey.STATE:
        return f'{obj.label}#state', f'{obj.object_id}#state'
    return obj.label, obj.object_id


def graph_node_id(object_id: str) -> str:
    """The scene-graph node of a memory object id ('000012' → 'object:000012')."""
    return object_id if object_id.startswith('object:') else f'object:{object_id}'

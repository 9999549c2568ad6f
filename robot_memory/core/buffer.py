"""Short-term object-state buffer (after KARMA).

A bounded cache of recent per-object observations and *candidate changes*. A candidate (an
object appeared, moved, was removed, changed state) is consolidated into long-term memory once
it is confirmed — `confirm_k` agreeing observations, or agreement sustained for
`confirm_tau_s` — and dropped as transient noise when it is contradicted or not confirmed
within `drop_after_s`. When full, an entry is evicted by the configured policy; lookups count
hits and misses so the policies can be compared.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from robot_memory._compat import StrEnum
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'BufferParams',
    'BufferStats',
    'Candidate',
    'ChangeKind',
    'EvictionPolicy',
    'ShortTermBuffer',
]


class EvictionPolicy(StrEnum):
    """Which entry leaves a full buffer."""

    LRU = 'lru'
    LFU = 'lfu'
    FIFO = 'fifo'
    VALUE = 'value'


class ChangeKind(StrEnum):
    """Kinds of candidate change."""

    APPEARED = 'appeared'
    MOVED = 'moved'
    REMOVED = 'removed'
    STATE_CHANGED = 'state_changed'


@dataclass(frozen=True, slots=True)
class BufferParams:
    """Capacity, eviction policy and confirmation rule of the buffer."""

    capacity: int = 256
    policy: EvictionPolicy = EvictionPolicy.VALUE
    confirm_k: int = 2
    # Absences are confirmed by this many views instead (0: confirm_k), with no time shortcut:
    # a detector that misses a visible object now and then needs more of them than 1 or 2.
    confirm_k_removed: int = 0
    confirm_tau_s: float = 2.0
    drop_after_s: float = 120.0
    history: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, 'policy', _policy(self.policy))
        if self.confirm_k_removed < 0:
            raise InvalidInputError(f'confirm_k_removed must be >= 0, got '
                                    f'{self.confirm_k_removed}')
        if self.capacity < 1 or self.confirm_k < 1 or self.history < 1:
            raise InvalidInputError(
                f'capacity, confirm_k and history must be >= 1, got {self.capacity}, '
                f'{self.confirm_k}, {self.history}')
        if self.confirm_tau_s < 0 or self.drop_after_s <= 0:
            raise InvalidInputError('confirm_tau_s must be >= 0 and drop_after_s > 0')


def _policy(value: Any) -> EvictionPolicy:
    try:
        return EvictionPolicy(value)
    except ValueError:
        valid = ', '.join(p.value for p in EvictionPolicy)
        raise InvalidInputError(f'unknown eviction policy {value!r}; valid: {valid}') from None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A change seen but not yet confirmed (or just confirmed, when returned by `propose`)."""

    object_id: str
    kind: ChangeKind
    value: Any
    first_s: float
    last_s: float
    count: int
    obs_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BufferStats:
    """Counters of the buffer since it was created."""

    size: int
    lookups: int
    hits: int
    evictions: int
    evicted_candidates: int
    confirmed: int
    dropped_transient: int

    @property
    def hit_rate(self) -> float:
        """Hits per lookup (0 when nothing was looked up)."""
        return self.hits / self.lookups if self.lookups else 0.0


@dataclass(slots=True)
class _Candidate:
    kind: ChangeKind
    value: Any
    first_s: float
    last_s: float
    count: int = 1
    obs_ids: list[int] = field(default_factory=list)
    positions: list[tuple[float, float, float]] = field(default_factory=list)
    needed: int | None = None  # views asked for when it began (their prior was then)


@dataclass(slots=True)
class _Entry:
    object_id: str
    mobility: str
    inserted_s: float
    last_access_s: float
    hits: int = 0
    recent: deque[Any] = field(default_factory=deque)
    candidates: dict[ChangeKind, _Candidate] = field(default_factory=dict)


class ShortTermBuffer:
    """Bounded buffer of recent observations and candidate changes, keyed by object id."""

    def __init__(self, params: BufferParams | None = None) -> None:
        self.params = params or BufferParams()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lookups = self._hits = self._evictions = self._evicted_candidates = 0
        self._confirmed = self._dropped = 0
        self._now_s = 0.0

    # --------------------------------------------------------------- entries
    def touch(self, object_id: str, stamp_s: float, mobility: str = 'movable') -> None:
        """Look an object up (counting a hit or miss) and make it the most recent entry."""
        self._now_s = max(self._now_s, stamp_s)
        self._lookups += 1
        entry = self._entries.get(object_id)
        if entry is not None:
            self._hits += 1
            entry.hits += 1
            entry.last_access_s = stamp_s
            if self.params.policy is EvictionPolicy.LRU:
                self._entries.move_to_end(object_id)
            return
        while len(self._entries) >= self.params.capacity:
            self._evict()
        self._entries[object_id] = _Entry(object_id, mobility, stamp_s, stamp_s,
                                          recent=deque(maxlen=self.params.history))

    def remember(self, object_id: str, item: Any) -> None:
        """Append an observation to an entry's recent history."""
        entry = self._entries.get(object_id)
        if entry is not None:
            entry.recent.append(item)

    def recent(self, object_id: str) -> list[Any]:
        """Recent observations of an object (oldest first); empty if not buffered."""
        entry = self._entries.get(object_id)
        return list(entry.recent) if entry is not None else []

    def has(self, object_id: str) -> bool:
        """Whether the object has an entry (no hit counted)."""
        return object_id in self._entries

    def forget(self, object_id: str) -> None:
        """Remove an object's entry (e.g. after a merge)."""
        self._entries.pop(object_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _evict(self) -> None:
        policy = self.params.policy
        if policy in (EvictionPolicy.LRU, EvictionPolicy.FIFO):
            victim = next(iter(self._entries))
        elif policy is EvictionPolicy.LFU:
            victim = min(self._entries.values(), key=lambda e: (e.hits, e.last_access_s)).object_id
        else:
            victim = min(self._entries.values(), key=self._value).object_id
        entry = self._entries.pop(victim)
        self._evictions += 1
        self._evicted_candidates += len(entry.candidates)

    def _value(self, entry: _Entry) -> tuple[float, float]:
        # Keep what is likely to change and be looked at again: pending changes first, then
        # movable objects, frequently and recently seen ones.
        recency = math.exp(-(self._now_s - entry.last_access_s) / 60.0)
        mobility = 1.0 if entry.mobility == 'movable' else 0.2
        score = (3.0 * bool(entry.candidates) + mobility + 0.5 * math.log1p(entry.hits)
                 + recency)
        return (score, entry.last_access_s)

    # ------------------------------------------------------------ candidates
    def propose(self, object_id: str, kind: ChangeKind, value: Any, stamp_s: float,
                obs_id: int, position: tuple[float, float, float] | None = None,
                agrees: Any = None, views_needed: int | None = None) -> Candidate | None:
        """Add evidence for a change; returns the candidate when this confirms it.

        `agrees(old_value, new_value)` decides whether the evidence supports the pending
        candidate (default: equality); if not, the candidate restarts from this evidence.
        `views_needed` replaces the configured count for an absence (when `confirm_k_removed`
        is 0: how many empty views the detector's reliability calls for) and for a state
        change (how many agreeing reads the state reader's reliability calls for, fixed when
        the candidate begins).
        """
        entry = self._entries.get(object_id)
        if entry is None:
            self.touch(object_id, stamp_s)
            self._lookups -= 1  # an implicit insert is not a lookup
            entry = self._entries[object_id]
        cand = entry.candidates.get(kind)
        same = (agrees or (lambda a, b: a == b))
        if cand is None or not same(cand.value, value):
            if cand is not None:
                self._dropped += 1
            cand = _Candidate(kind, value, stamp_s, stamp_s, needed=views_needed)
            entry.candidates[kind] = cand
        else:
            cand.count += 1
            cand.first_s = min(cand.first_s, stamp_s)
            cand.last_s = max(cand.last_s, stamp_s)
        if obs_id not in cand.obs_ids:
            cand.obs_ids.append(obs_id)
        if position is not None:
            cand.positions.append(position)
        p = self.params
        if kind is ChangeKind.REMOVED and p.confirm_k_removed:
            confirmed = cand.count >= p.confirm_k_removed
        elif kind is ChangeKind.REMOVED and views_needed is not None:
            confirmed = cand.count >= max(int(views_needed), 1)
        elif kind is ChangeKind.STATE_CHANGED and cand.needed is not None:
            # The reads asked for when the first of them came: those after it only add up.
            confirmed = cand.count >= max(int(cand.needed), 1)
        else:
            confirmed = cand.count >= p.confirm_k or (
                cand.count >= 2 and cand.last_s - cand.first_s >= p.confirm_tau_s)
        if confirmed:
            del entry.candidates[kind]
            self._confirmed += 1
            value_out = cand.value
            if cand.positions:
                n = len(cand.positions)
                value_out = tuple(sum(c[i] for c in cand.positions) / n for i in range(3))
            return Candidate(object_id, kind, value_out, cand.first_s, cand.last_s, cand.count,
                             tuple(cand.obs_ids))
        return None

    def contradict(self, object_id: str, *kinds: ChangeKind) -> int:
        """Drop pending candidates of these kinds (evidence that nothing changed)."""
        entry = self._entries.get(object_id)
        if entry is None:
            return 0
        dropped = 0
        for kind in kinds or tuple(ChangeKind):
            if entry.candidates.pop(kind, None) is not None:
                dropped += 1
        self._dropped += dropped
        return dropped

    def pending(self, object_id: str | None = None) -> list[Candidate]:
        """Unconfirmed candidates, of one object or all."""
        entries = ([self._entries[object_id]] if object_id in self._entries else []
                   ) if object_id is not None else list(self._entries.values())
        return [Candidate(e.object_id, c.kind, c.value, c.first_s, c.last_s, c.count,
                          tuple(c.obs_ids))
                for e in entries for c in e.candidates.values()]

    def expire(self, now_s: float) -> int:
        """Drop candidates not confirmed within `drop_after_s`; returns how many."""
        self._now_s = max(self._now_s, now_s)
        dropped = 0
        for entry in self._entries.values():
            for kind in [k for k, c in entry.candidates.items()
                         if now_s - c.first_s > self.params.drop_after_s]:
                del entry.candidates[kind]
                dropped += 1
        self._dropped += dropped
        return dropped

    @property
    def stats(self) -> BufferStats:
        """Counters since creation."""
        return BufferStats(len(self._entries), self._lookups, self._hits, self._evictions,
                           self._evicted_candidates, self._confirmed, self._dropped)

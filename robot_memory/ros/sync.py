"""Pair messages of several streams by stamp, without rclpy (message_filters is not a wheel).

One stream is the anchor (a depth image: one per frame); every other stream must offer an
item whose stamp lies within `tolerance_s` of the anchor's. A stream may instead hold a
latest value (a fixed label map published once, transient-local) that stands in while it has
never carried stamped items. Streams are assumed to arrive in stamp order each (DDS keeps the
order per publisher), but in any order relative to each other.

An anchor is dropped, and counted under the stream that failed it, as soon as that stream has
moved past it (its newest item is later than anchor + tolerance) or when too many anchors wait.
Items of the other streams that no anchor can use any more are discarded and counted too.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from robot_memory.exceptions import InvalidInputError

__all__ = ['Matched', 'StampSynchroniser', 'SyncStats']


class Matched(NamedTuple):
    """One complete set: the anchor's stamp and one item per stream."""

    stamp_s: float
    items: dict[str, Any]


@dataclass(slots=True)
class SyncStats:
    """What the synchroniser did so far."""

    received: Counter[str] = field(default_factory=Counter)
    matched: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    discarded: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Return plain counters for diagnostics."""
        return {'received': dict(self.received), 'matched': self.matched,
                'dropped': dict(self.dropped), 'discarded': dict(self.discarded)}


class _Queue:
    """Items of one stream sorted by stamp (stamps in one list so bisect works on 3.10)."""

    __slots__ = ('items', 'stamps')

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.items: list[Any] = []

    def add(self, stamp_s: float, item: Any) -> bool:
        """Insert in order; an item with the same stamp replaces the old one (returns False)."""
        i = bisect.bisect_left(self.stamps, stamp_s)
        if i < len(self.stamps) and self.stamps[i] == stamp_s:
            self.items[i] = item
            return False
        self.stamps.insert(i, stamp_s)
        self.items.insert(i, item)
        return True

    def nearest(self, stamp_s: float, tolerance_s: float) -> int | None:
        """Index of the item closest to `stamp_s` within the tolerance, or None."""
        i = bisect.bisect_left(self.stamps, stamp_s)
        best, best_d = None, math.inf
        for j in (i - 1, i):
            if 0 <= j < len(self.stamps):
                d = abs(self.stamps[j] - stamp_s)
                if d <= tolerance_s and d < best_d:
                    best, best_d = j, d
        return best

    def pop_through(self, index: int) -> int:
        """Remove items 0..index; return how many were before `index`."""
        del self.stamps[:index + 1]
        del self.items[:index + 1]
        return index

    def pop_before(self, stamp_s: float) -> int:
        """Remove items stamped before `stamp_s`; return how many."""
        n = bisect.bisect_left(self.stamps, stamp_s)
        del self.stamps[:n]
        del self.items[:n]
        return n

    def __len__(self) -> int:
        return len(self.stamps)


class StampSynchroniser:
    """Match one anchor stream against other streams by stamp."""

    def __init__(self, anchor: str, others: Iterable[str], tolerance_s: float = 0.02,
                 queue_size: int = 30) -> None:
        others = tuple(others)
        if anchor in others or len(set(others)) != len(others):
            raise InvalidInputError(f'stream names must be distinct, got {anchor!r} and '
                                    f'{others!r}')
        if not tolerance_s >= 0:
            raise InvalidInputError(f'tolerance_s must be ≥ 0, got {tolerance_s}')
        if queue_size < 1:
            raise InvalidInputError(f'queue_size must be ≥ 1, got {queue_size}')
        self.anchor = anchor
        self.others = others
        self.tolerance_s = float(tolerance_s)
        self.queue_size = int(queue_size)
        self._queues = {name: _Queue() for name in (anchor, *others)}
        self._latest: dict[str, Any] = {}
        self._stamped: set[str] = set()
        self._newest: dict[str, float] = {}
        self.stats = SyncStats()

    @property
    def streams(self) -> tuple[str, ...]:
        """All stream names, the anchor first."""
        return (self.anchor, *self.others)

    def _check(self, stream: str) -> _Queue:
        queue = self._queues.get(stream)
        if queue is None:
            raise InvalidInputError(f'unknown stream {stream!r}; valid: '
                                    f'{", ".join(self.streams)}')
        return queue

    def set_latest(self, stream: str, item: Any) -> list[Matched]:
        """Give a stream a value that holds for every frame until stamped items arrive."""
        if stream == self.anchor:
            raise InvalidInputError(f'the anchor stream {stream!r} cannot hold a latest value')
        self._check(stream)
        self._latest[stream] = item
        self.stats.received[stream] += 1
        return self._match()

    def add(self, stream: str, stamp_s: float, item: Any) -> list[Matched]:
        """Take one stamped item; return the sets it completed, oldest first."""
        queue = self._check(stream)
        stamp_s = float(stamp_s)
        if not math.isfinite(stamp_s):
            raise InvalidInputError(f'stamp of {stream} must be finite, got {stamp_s!r}')
        self.stats.received[stream] += 1
        self._stamped.add(stream)
        self._newest[stream] = max(stamp_s, self._newest.get(stream, -math.inf))
        if not queue.add(stamp_s, item):
            self.stats.discarded[stream] += 1
        if len(queue) > self.queue_size:
            queue.pop_through(0)
            if stream == self.anchor:
                self.stats.dropped['queue_full'] += 1
            else:
                self.stats.discarded[stream] += 1
        return self._match()

    def _lookup(self, stream: str, stamp_s: float) -> tuple[str, int | None]:
        """Find a stream's partner: ('hit', index), ('latest' | 'wait' | 'miss', None)."""
        if stream not in self._stamped:
            return ('latest', None) if stream in self._latest else ('wait', None)
        newest = self._newest[stream]
        if newest < stamp_s:
            # The item stamped like the anchor (usually the same frame) may still be on its way.
            return 'wait', None
        index = self._queues[stream].nearest(stamp_s, self.tolerance_s)
        if index is not None:
            return 'hit', index
        return ('miss', None) if newest > stamp_s + self.tolerance_s else ('wait', None)

    def _match(self) -> list[Matched]:
        out: list[Matched] = []
        anchors = self._queues[self.anchor]
        while len(anchors):
            stamp = anchors.stamps[0]
            found: dict[str, tuple[str, int | None]] = {}
            state = 'hit'
            for stream in self.others:
                kind, index = self._lookup(stream, stamp)
                found[stream] = (kind, index)
                if kind == 'miss':
                    state = 'miss'
                    self.stats.dropped[f'no_{stream}'] += 1
                    break
                if kind == 'wait':
                    state = 'wait'
            if state == 'wait':
                break
            anchor_item = anchors.items[0]
            anchors.pop_through(0)
            if state == 'miss':
                continue
            items = {self.anchor: anchor_item}
            for stream, (kind, index) in found.items():
                if kind == 'latest':
                    items[stream] = self._latest[stream]
                    continue
                queue = self._queues[stream]
                items[stream] = queue.items[index]
                self.stats.discarded[stream] += queue.pop_through(index)
            self.stats.matched += 1
            out.append(Matched(stamp, items))
        self._prune()
        return out

    def _prune(self) -> None:
        """Discard items that no anchor, queued or future, can match any more."""
        anchors = self._queues[self.anchor]
        if len(anchors):
            horizon = anchors.stamps[0] - self.tolerance_s
        elif self.anchor in self._newest:
            horizon = self._newest[self.anchor] - self.tolerance_s
        else:
            return
        for stream in self.others:
            self.stats.discarded[stream] += self._queues[stream].pop_before(horizon)

    def pending(self) -> Mapping[str, int]:
        """Count the items waiting per stream."""
        return {name: len(queue) for name, queue in self._queues.items()}

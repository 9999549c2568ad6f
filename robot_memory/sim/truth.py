"""Ground truth: every object's position, room, support and state as intervals over time.

Used for scoring only; nothing from here flows into a `Frame`. An interval is half-open,
`[t_from, t_to)`; the current one of an object that still exists has `t_to = inf`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from robot_memory.exceptions import InvalidInputError, UnknownNodeError

__all__ = ['FrameTruth', 'ObjectTruth', 'TruthInterval', 'TruthLog']

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class ObjectTruth:
    """One object as it truly is during an interval."""

    obj_id: str
    cls: str
    color: str
    state: str
    room: str
    support: str  # a furniture id, '' for furniture itself
    relation: str  # 'on' | 'in' | ''
    position_m: Vec3
    size_m: Vec3
    mobility: str  # 'movable' | 'static' | 'furniture'
    # Objects of one matched set look identical (`sim/appearance.py`); '' in the flat world.
    look_group: str = ''


@dataclass(frozen=True, slots=True)
class TruthInterval:
    """A fact that held over `[t_from, t_to)` and what started it."""

    t_from: float
    t_to: float
    fact: ObjectTruth
    cause: str

    def contains(self, stamp_s: float) -> bool:
        """Whether the stamp falls inside the interval."""
        return self.t_from <= stamp_s < self.t_to


class TruthLog:
    """Per-object interval lists, appended in time order; query with `at(t)`."""

    def __init__(self) -> None:
        self._intervals: dict[str, list[TruthInterval]] = {}
        self._starts: dict[str, list[float]] = {}
        self._last_stamp = -math.inf

    # --------------------------------------------------------------- writing
    def record(self, stamp_s: float, fact: ObjectTruth, cause: str = '') -> None:
        """Start a new fact for an object at `stamp_s`, closing its current one."""
        self._check_order(stamp_s)
        items = self._intervals.setdefault(fact.obj_id, [])
        starts = self._starts.setdefault(fact.obj_id, [])
        if items and math.isinf(items[-1].t_to):
            if items[-1].t_from == stamp_s:
                # Two changes at one instant: only the later one was ever true.
                items.pop()
                starts.pop()
            else:
                items[-1] = replace(items[-1], t_to=stamp_s)
        items.append(TruthInterval(stamp_s, math.inf, fact, cause))
        starts.append(stamp_s)

    def end(self, stamp_s: float, obj_id: str) -> None:
        """Close an object's current fact: it left the world."""
        self._check_order(stamp_s)
        items = self._intervals.get(obj_id)
        if not items or not math.isinf(items[-1].t_to):
            raise InvalidInputError(f'{obj_id!r} has no open interval to end')
        items[-1] = replace(items[-1], t_to=stamp_s)

    def _check_order(self, stamp_s: float) -> None:
        if stamp_s < self._last_stamp:
            raise InvalidInputError(
                f'truth stamps must not go back: {stamp_s} < {self._last_stamp}')
        self._last_stamp = stamp_s

    # ---------------------------------------------------------------- reading
    @property
    def object_ids(self) -> list[str]:
        """Every object that ever existed, sorted."""
        return sorted(self._intervals)

    def intervals(self, obj_id: str) -> list[TruthInterval]:
        """All intervals of one object in time order."""
        try:
            return list(self._intervals[obj_id])
        except KeyError:
            raise UnknownNodeError(f'no object {obj_id!r} in the ground truth') from None

    def interval_at(self, obj_id: str, stamp_s: float) -> TruthInterval | None:
        """The interval of an object holding at `stamp_s`, or None if it did not exist."""
        items = self._intervals.get(obj_id)
        if not items:
            return None
        i = bisect.bisect_right(self._starts[obj_id], stamp_s) - 1
        if i >= 0 and items[i].contains(stamp_s):
            return items[i]
        return None

    def at(self, stamp_s: float) -> dict[str, ObjectTruth]:
        """Every object that existed at `stamp_s`, as it was then."""
        out = {}
        for obj_id in self._intervals:
            interval = self.interval_at(obj_id, stamp_s)
            if interval is not None:
                out[obj_id] = interval.fact
        return out

    def __iter__(self) -> Iterator[TruthInterval]:
        for obj_id in sorted(self._intervals):
            yield from self._intervals[obj_id]

    def num_intervals(self) -> int:
        """Number of intervals over all objects."""
        return sum(len(v) for v in self._intervals.values())

    # ---------------------------------------------------------------- export
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; open intervals have `t_to: null`."""
        objects = {}
        for obj_id in sorted(self._intervals):
            rows = []
            for iv in self._intervals[obj_id]:
                fact = asdict(iv.fact)
                del fact['obj_id']
                fact['position_m'] = [round(v, 6) for v in fact['position_m']]
                fact['size_m'] = [round(v, 6) for v in fact['size_m']]
                rows.append({'t_from': iv.t_from,
                             't_to': None if math.isinf(iv.t_to) else iv.t_to,
                             'cause': iv.cause, **fact})
            objects[obj_id] = rows
        return {'format': 'robot_memory.sim.truth/1', 'objects': objects}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TruthLog:
        """Rebuild a log written by `to_dict`."""
        log = cls()
        rows = [(row['t_from'], obj_id, row) for obj_id, items in data['objects'].items()
                for row in items]
        for obj_id, items in data['objects'].items():
            log._intervals[obj_id] = []
            log._starts[obj_id] = []
            for row in items:
                fact = ObjectTruth(obj_id, row['cls'], row['color'], row['state'], row['room'],
                                   row['support'], row['relation'], tuple(row['position_m']),
                                   tuple(row['size_m']), row['mobility'],
                                   str(row.get('look_group', '')))
                t_to = math.inf if row['t_to'] is None else float(row['t_to'])
                log._intervals[obj_id].append(
                    TruthInterval(float(row['t_from']), t_to, fact, row['cause']))
                log._starts[obj_id].append(float(row['t_from']))
        log._last_stamp = max((r[0] for r in rows), default=-math.inf)
        return log

    def save_json(self, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
        """Write the log (and optional extra top-level entries such as the world) as JSON."""
        path = Path(path)
        data = {**(dict(extra) if extra else {}), **self.to_dict(), 'hash': self.hash()}
        path.write_text(json.dumps(data, separators=(',', ':')), encoding='utf-8')
        return path

    def hash(self) -> str:
        """A stable SHA-256 of the whole log (same seed → same hash, across runs)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(',', ':'))
        return hashlib.sha256(canonical.encode('utf-8')).hexdigest()

    def __repr__(self) -> str:
        return f'TruthLog(objects={len(self._intervals)}, intervals={self.num_intervals()})'


class FrameTruth:
    """Segment id → true id of the most recent frames, kept apart from the frames themselves.

    Backends render ahead (`go_to` returns a list of frames), so evaluators look a frame's
    truth up by its index rather than asking for "the last frame".
    """

    def __init__(self, frames_kept: int = 4096) -> None:
        self.frames_kept = frames_kept
        self._by_frame: OrderedDict[int, dict[int, str]] = OrderedDict()
        self._last: dict[int, str] = {}

    def record(self, frame_index: int, truth: dict[int, str]) -> None:
        """Keep one frame's segment truth, forgetting the oldest beyond `frames_kept`."""
        self._last = truth
        self._by_frame[frame_index] = truth
        while len(self._by_frame) > self.frames_kept:
            self._by_frame.popitem(last=False)

    def last(self) -> dict[int, str]:
        """Truth of the last frame recorded."""
        return dict(self._last)

    def get(self, frame_index: int) -> dict[int, str]:
        """Truth of one recent frame; raises `UnknownNodeError` once it is forgotten."""
        truth = self._by_frame.get(frame_index)
        if truth is None:
            raise UnknownNodeError(f'no truth kept for frame {frame_index}; the last '
                                   f'{self.frames_kept} frames are kept')
        return dict(truth)

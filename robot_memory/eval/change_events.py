"""Changes scored as events: what memory reported, when, against what truly happened.

A change is scored as an event — kind, object, time — not as a difference of session ends.
The truth's events are the ones a robot could have noticed, each with the time window in which
a memory that noticed it would report it:

- **moved / state_changed**: between two consecutive looks at a confirmed object (seen in at
  least two frames before) the truth differs; moved twice between looks is one event (the net
  change, none if it came back); the window runs from the earlier look to the later one, or to
  the first clear view of the old spot after the move if that came later (an object found where
  the robot had never looked is only known to have moved once its old spot is seen empty);
- **removed**: after the last look at a confirmed object it left its spot (taken away or moved
  out of sight for good), and its old spot was in clear view afterwards; the window runs from
  the last look to that view;
- **appeared**: an object first looked at on a spot it was brought to (delivered, or carried
  from somewhere the robot never saw it) after that spot had been in clear view without it;
  an object first seen where the robot had not looked, or where it stood all along, is only
  discovered.

Memory's events are read from its intervals, per memory id (ids merged away keep the events
they had before the merge, and a merge is not a removal). Each is owned by the true object the
memory id's sightings were of around that time; a move whose sightings before and after are of
two different true objects is a swap, never a match. A memory event matches an unmatched truth
event of its kind and object when its time falls in the event's window (plus `tolerance_s`);
otherwise it is wrong — except that a report that was true when made is never counted wrong:
"gone" while the object was truly away from that spot (a move reported in two steps, gone then
found), or "appeared" of an object that truly arrived at its spot after the start.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from robot_memory.core.episodic import EpisodicMemory, Interval
from robot_memory.core.events import FactKey
from robot_memory.core.types import CameraIntrinsics
from robot_memory.sim.truth import ObjectTruth, TruthInterval, TruthLog

__all__ = [
    'CHANGE_KINDS',
    'ChangeEvent',
    'ChangeScore',
    'SpotViews',
    'ViewLog',
    'memory_events',
    'score_change_events',
    'truth_events',
]

CHANGE_KINDS = ('moved', 'removed', 'appeared', 'state_changed')

# A function `(position, half_width_m, t_from, t_to) -> stamps` of the views that had that
# spot in clear view during `(t_from, t_to)`, in time order.
SpotViews = Callable[[tuple[float, float, float], float, float, float], Sequence[float]]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change: a true one (with the window to report it in) or one memory reported."""

    kind: str
    obj: str  # true object id (truth events) or memory object id (memory events)
    t_s: float  # truth: when it happened (the earliest right report); memory: report time
    until_s: float | None = None  # truth only: the latest time a report is on time
    owner: str | None = None  # memory only: the true object the memory id stood for
    where_m: tuple[float, float, float] | None = None  # memory 'removed': the spot left


class ChangeScore(NamedTuple):
    """Event-matching result: counts per kind and the events behind them."""

    correct: Counter[str]
    reported: Counter[str]
    true: Counter[str]
    tolerated: int
    false_events: list[ChangeEvent]
    missed_events: list[ChangeEvent]

    def figures(self) -> dict[str, object]:
        """JSON-ready precision, recall, F1 and per-kind counts."""
        tp, n_mem = sum(self.correct.values()), sum(self.reported.values())
        n_true = sum(self.true.values())
        p = tp / n_mem if n_mem else 1.0
        r = tp / n_true if n_true else 1.0
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return {
            'change_precision': p, 'change_recall': r, 'change_f1': f1,
            'changes_by_kind': {k: {'true': self.true[k], 'reported': self.reported[k],
                                    'correct': self.correct[k]} for k in CHANGE_KINDS},
            'changes_tolerated': self.tolerated,
        }


def _location_differs(a: ObjectTruth, b: ObjectTruth, match_m: float) -> bool:
    return (a.room != b.room or a.support != b.support
            or math.dist(a.position_m, b.position_m) > match_m)


def _half_width(fact: ObjectTruth) -> float:
    return max(fact.size_m[0], fact.size_m[1]) / 2


def truth_events(truth: TruthLog, looks: Mapping[str, Sequence[float]], spot_views: SpotViews,
                 end_s: float, match_m: float = 0.3,
                 start_s: float | None = None) -> list[ChangeEvent]:
    """The changes a robot with these looks at each true object could have noticed."""
    events: list[ChangeEvent] = []
    for obj_id, stamps in looks.items():
        stamps = sorted(stamps)
        if len(stamps) < 2:
            continue  # never confirmed: memory cannot know it, nor its changes
        intervals = truth.intervals(obj_id)
        starts = [iv.t_from for iv in intervals]
        run_start = start_s if start_s is not None else -math.inf
        arrived = _arrived_at(intervals, _index_at(starts, stamps[0]), match_m)
        if arrived > run_start:
            fact = intervals[_index_at(starts, stamps[0])].fact
            before = spot_views(fact.position_m, _half_width(fact), run_start, arrived)
            if len(before):
                events.append(ChangeEvent('appeared', obj_id, arrived, stamps[0]))

        for a, b in itertools.pairwise(stamps[1:]):
            i, j = _index_at(starts, a), _index_at(starts, b)
            if i == j:
                continue
            fa, fb = intervals[i].fact, intervals[j].fact
            changed = intervals[i].t_to  # no report can be right before the change began
            if _location_differs(fa, fb, match_m):
                # Known to have left only once the old spot is seen empty, if that is later.
                empty = spot_views(fa.position_m, _half_width(fa), changed, end_s)
                until = max(b, empty[0]) if len(empty) else b
                events.append(ChangeEvent('moved', obj_id, changed, until))
            if fa.state != fb.state:
                events.append(ChangeEvent('state_changed', obj_id, changed, b))
        last = stamps[-1]
        k = _index_at(starts, last)
        fact = intervals[k].fact
        left = _left_at(intervals, k, match_m)
        if left is not None and left < end_s:
            empty = spot_views(fact.position_m, _half_width(fact), left, end_s)
            if len(empty):
                events.append(ChangeEvent('removed', obj_id, left, empty[0]))
    return events


def _arrived_at(intervals: Sequence[TruthInterval], k: int, match_m: float) -> float:
    """When the object came to the spot of interval `k` (delivered, or carried there)."""
    fact = intervals[k].fact
    while k > 0 and intervals[k - 1].t_to == intervals[k].t_from and \
            not _location_differs(intervals[k - 1].fact, fact, match_m):
        k -= 1
    return intervals[k].t_from


def _index_at(starts: Sequence[float], t: float) -> int:
    return bisect.bisect_right(starts, t) - 1


def _left_at(intervals: Sequence[TruthInterval], k: int, match_m: float) -> float | None:
    """When the object left the spot of interval `k` (None: it never did)."""
    fact = intervals[k].fact
    for iv in intervals[k + 1:]:
        if iv.t_from > intervals[k].t_to:
            return intervals[k].t_to  # ended, then came back later as a new interval
        if _location_differs(fact, iv.fact, match_m):
            return iv.t_from
    end = intervals[-1].t_to
    return None if math.isinf(end) else end


def memory_events(memory: EpisodicMemory, obs_truth: Mapping[int, str],
                  match_m: float = 0.3) -> list[ChangeEvent]:
    """Every change memory reported, with the true object each report was about.

    `obs_truth` maps observation ids to the true object each observation was of. A fact's
    owner is the most common true object among the observations memory keeps as its evidence
    (so a merged duplicate's observations count for the object they were folded into).
    """

    def owner(iv: Interval) -> str | None:
        ids = Counter(obs_truth[i] for i in iv.obs_ids if i in obs_truth)
        return ids.most_common(1)[0][0] if ids else None

    events: list[ChangeEvent] = []
    for object_id in memory.object_ids:
        history = memory.history(object_id)
        positions = history.facts[FactKey.POSITION]
        if not memory.is_discovery(object_id) and positions:
            events.append(ChangeEvent('appeared', object_id, history.created_s,
                                      owner=owner(positions[0])))
        for prev, cur in itertools.pairwise(positions):
            if prev.t_to is not None and prev.t_to < cur.t_from:
                events.append(ChangeEvent('removed', object_id, prev.t_to, owner=owner(prev),
                                          where_m=prev.value))
                if math.dist(prev.value, cur.value) <= match_m:
                    continue  # found again where it was: the loss was the mistake
            before, after = owner(prev), owner(cur)
            swap = before is not None and after is not None and before != after
            events.append(ChangeEvent('moved', object_id, cur.t_from,
                                      owner=None if swap else after))
        if positions and positions[-1].t_to is not None and \
                positions[-1].t_to != history.merged_s:
            last = positions[-1]
            events.append(ChangeEvent('removed', object_id, last.t_to, owner=owner(last),
                                      where_m=last.value))
        states: tuple[Interval, ...] = history.facts[FactKey.STATE]
        for prev, cur in itertools.pairwise(states):
            if prev.value and cur.value and prev.value != cur.value:
                events.append(ChangeEvent('state_changed', object_id, cur.t_from,
                                          owner=owner(cur)))
    return events


def _was_true(event: ChangeEvent, truth: TruthLog, match_m: float,
              start_s: float) -> bool:
    """Whether a report that matched no event still said something true when it was made."""
    if event.owner is None:
        return False
    intervals = truth.intervals(event.owner)
    if event.kind == 'removed':
        # True if, when memory said so, the object was gone or somewhere else.
        now = truth.interval_at(event.owner, event.t_s)
        return now is None or event.where_m is None or \
            math.dist(now.fact.position_m, event.where_m) > match_m
    if event.kind == 'appeared':
        k = _index_at([iv.t_from for iv in intervals], event.t_s)
        return k >= 0 and _arrived_at(intervals, k, match_m) > start_s
    return False


def score_change_events(true_events: Sequence[ChangeEvent],
                        reported: Sequence[ChangeEvent], truth: TruthLog,
                        tolerance_s: float = 300.0, match_m: float = 0.3,
                        start_s: float = -math.inf) -> ChangeScore:
    """Match memory's events to the truth's, one to one, by kind, object and time window."""
    by_key: dict[tuple[str, str], list[ChangeEvent]] = {}
    for e in true_events:
        by_key.setdefault((e.kind, e.obj), []).append(e)
    used: set[int] = set()
    correct: Counter[str] = Counter()
    n_reported: Counter[str] = Counter()
    tolerated = 0
    false_events: list[ChangeEvent] = []
    for e in sorted(reported, key=lambda e: e.t_s):
        candidates = [t for t in by_key.get((e.kind, e.owner or ''), ())
                      if id(t) not in used and t.t_s <= e.t_s
                      <= (t.until_s if t.until_s is not None else t.t_s) + tolerance_s]
        if candidates:
            match = min(candidates, key=lambda t: t.t_s)
            used.add(id(match))
            correct[e.kind] += 1
            n_reported[e.kind] += 1
        elif _was_true(e, truth, match_m, start_s):
            tolerated += 1
        else:
            n_reported[e.kind] += 1
            false_events.append(e)
    n_true = Counter(e.kind for e in true_events)
    missed = [e for e in true_events if id(e) not in used]
    return ChangeScore(correct, n_reported, n_true, tolerated, false_events, missed)


class ViewLog:
    """Every view of a run at low resolution: which spots were in clear view, and when.

    The scorer's own record (it does not trust perception's): camera pose and a coarse depth
    image per frame; a spot is in clear view when it projects inside the image, within
    `max_range_m`, large enough to make out, and nothing stands nearer than its near face.
    """

    def __init__(self, intrinsics: CameraIntrinsics, downsample: int = 8,
                 max_range_m: float = 4.5, min_size_px: float = 14.0,
                 margin_px: float = 16.0, near_face_max_m: float = 0.3) -> None:
        self.k = downsample
        self.intrinsics = intrinsics
        self.max_range_m = max_range_m
        self.min_size_px = min_size_px
        self.margin_px = margin_px
        self.near_face_max_m = near_face_max_m
        self._stamps: list[float] = []
        self._poses: list[np.ndarray] = []
        self._depths: list[np.ndarray] = []

    def add(self, stamp_s: float, map_T_camera: np.ndarray, depth_m: np.ndarray) -> None:
        """Record one frame's view."""
        k = self.k
        self._stamps.append(float(stamp_s))
        self._poses.append(np.linalg.inv(np.asarray(map_T_camera, dtype=np.float64)))
        self._depths.append(np.asarray(depth_m)[k // 2::k, k // 2::k].astype(np.float16))

    def __len__(self) -> int:
        return len(self._stamps)

    def __call__(self, position: tuple[float, float, float], half_width_m: float,
                 t_from: float, t_to: float) -> list[float]:
        """Stamps of the views in `(t_from, t_to)` that had `position` in clear view."""
        lo = bisect.bisect_right(self._stamps, t_from)
        hi = bisect.bisect_left(self._stamps, t_to)
        if hi <= lo:
            return []
        poses = np.stack(self._poses[lo:hi])
        p = np.array([*position, 1.0])
        x, y, z = (poses @ p)[:, :3].T
        cam = self.intrinsics
        with np.errstate(divide='ignore', invalid='ignore'):
            u = cam.fx * x / z + cam.cx
            v = cam.fy * y / z + cam.cy
            size = cam.fx * 2 * half_width_m / z
        m = self.margin_px
        ok = ((z > 0.3) & (z < self.max_range_m) & (size >= self.min_size_px)
              & (u >= m) & (u < cam.width - m) & (v >= m) & (v < cam.height - m))
        near_face = min(half_width_m + 0.05, self.near_face_max_m)
        out: list[float] = []
        for i in np.flatnonzero(ok):
            depth = self._depths[lo + i]
            r, c = int(v[i]) // self.k, int(u[i]) // self.k
            window = depth[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2].astype(np.float32)
            valid = window[np.isfinite(window) & (window > 0)]
            if valid.size and float(np.median(valid)) >= z[i] - near_face:
                out.append(self._stamps[lo + i])
        return out

"""How each event changes episodic memory: checked first, then applied to the intervals.

`EventReplay` is the mixin of `EpisodicMemory` that holds one `_apply_*` method per event
type; `EpisodicMemory.apply` dispatches to them. A check that fails raises before anything
changes (`OutOfOrderError` for an event stamped before a fact it would change).
"""

from __future__ import annotations

import bisect

from robot_memory.core.events import (
    LOCATION_FACTS,
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
)
from robot_memory.core.object_history import _Interval, _Object, _staleness_keys, _start
from robot_memory.core.scene_graph import SceneGraph
from robot_memory.core.staleness import StalenessModel
from robot_memory.exceptions import InvalidInputError, OutOfOrderError, UnknownNodeError

__all__ = ['EventReplay']


class EventReplay:
    """Applies single events to the object records, layouts and place views of a memory."""

    _objects: dict[str, _Object]
    _layouts: list[tuple[float, SceneGraph]]
    _place_views: dict[str, list[float]]
    staleness: StalenessModel

    def _get(self, object_id: str) -> _Object:
        obj = self._objects.get(object_id)
        if obj is None:
            raise UnknownNodeError(f'no object {object_id!r} in memory')
        if obj.merged_into is not None:
            raise InvalidInputError(f'object {object_id!r} was merged into {obj.merged_into!r}')
        return obj

    def _check_order(self, obj: _Object, stamp_s: float, what: str) -> None:
        if stamp_s < obj.created_s:
            raise OutOfOrderError(
                f'{what} of {obj.object_id!r} at {stamp_s} is before its creation at '
                f'{obj.created_s}')

    def _apply_created(self, e: ObjectCreated) -> None:
        if e.object_id in self._objects:
            raise InvalidInputError(f'object {e.object_id!r} already exists')
        if not e.object_id or not e.label:
            raise InvalidInputError(f'object id and label must be non-empty: {e!r}')
        self._objects[e.object_id] = _Object(e.object_id, e.label, e.color, e.mobility,
                                             e.stamp_s, discovered=bool(e.discovered))

    def _apply_fact(self, e: FactChanged) -> None:
        obj = self._get(e.object_id)
        self._check_order(obj, e.stamp_s, f'{e.key.value} change')
        ivs = obj.facts[e.key]
        current = obj.open_interval(e.key)
        if current is not None and e.stamp_s < current.t_from:
            raise OutOfOrderError(
                f'{e.key.value} of {e.object_id!r} changes at {e.stamp_s}, before its current '
                f'value was set at {current.t_from}')
        if current is None and ivs and ivs[-1].t_to is not None and e.stamp_s < ivs[-1].t_to:
            raise OutOfOrderError(
                f'{e.key.value} of {e.object_id!r} changes at {e.stamp_s}, inside an '
                f'interval that ended at {ivs[-1].t_to}')
        if current is not None and current.value == e.value:
            current.add_evidence(e.obs_ids)
            current.last_seen_s = max(current.last_seen_s, e.stamp_s)
        else:
            if current is not None:
                if e.key in (FactKey.POSITION, FactKey.STATE):
                    label, key = _staleness_keys(obj, e.key)
                    self.staleness.record_move(label, key,
                                               max(e.stamp_s - current.last_seen_s, 0.0) / 2)
                if current.t_from == e.stamp_s:
                    ivs.pop()
                else:
                    # A change confirmed late starts when it was first observed, which may
                    # precede sightings that only confirmed other facts.
                    current.t_to = e.stamp_s
                    current.last_seen_s = min(current.last_seen_s, e.stamp_s)
            ivs.append(_Interval(e.value, e.stamp_s, None, list(e.obs_ids), e.stamp_s))
        if not obj.seen_s or obj.seen_s[-1] != e.stamp_s:
            bisect.insort(obj.seen_s, e.stamp_s)

    def _apply_seen(self, e: ObjectSeen) -> None:
        obj = self._get(e.object_id)
        self._check_order(obj, e.stamp_s, 'sighting')
        for key in FactKey:
            iv = obj.open_interval(key)
            if iv is None or e.stamp_s <= iv.last_seen_s:
                continue
            if key in (FactKey.POSITION, FactKey.STATE) and (key is FactKey.POSITION or iv.value):
                label, tally = _staleness_keys(obj, key)
                self.staleness.record_stay(label, tally, e.stamp_s - iv.last_seen_s)
            iv.last_seen_s = e.stamp_s
            iv.add_evidence(e.obs_ids)
        bisect.insort(obj.seen_s, e.stamp_s)

    def _apply_lost(self, e: ObjectLost) -> None:
        obj = self._get(e.object_id)
        self._check_order(obj, e.stamp_s, 'loss')
        opened = [(k, obj.open_interval(k)) for k in LOCATION_FACTS]
        for key, iv in opened:
            if iv is not None and e.stamp_s < iv.t_from:
                raise OutOfOrderError(
                    f'{e.object_id!r} lost at {e.stamp_s}, before its {key.value} was set at '
                    f'{iv.t_from}')
        for key, iv in opened:
            if iv is None:
                continue
            if key is FactKey.POSITION:
                self.staleness.record_move(obj.label, obj.object_id,
                                           max(e.stamp_s - iv.last_seen_s, 0.0) / 2)
            if iv.t_from == e.stamp_s:
                obj.facts[key].pop()
            else:
                iv.t_to = e.stamp_s
                iv.last_seen_s = min(iv.last_seen_s, e.stamp_s)
                iv.add_evidence(e.obs_ids)

    def _apply_refined(self, e: PositionRefined) -> None:
        obj = self._get(e.object_id)
        self._check_order(obj, e.stamp_s, 'position estimate')
        iv = obj.open_interval(FactKey.POSITION)
        if iv is None or e.stamp_s < iv.t_from:
            raise OutOfOrderError(f'{e.object_id!r} has no position open at {e.stamp_s} to '
                                  f'refine')
        iv.value = e.value
        iv.add_evidence(e.obs_ids)
        iv.last_seen_s = max(iv.last_seen_s, e.stamp_s)

    def _apply_merged(self, e: ObjectsMerged) -> None:
        if e.keep_id == e.drop_id:
            raise InvalidInputError(f'cannot merge {e.keep_id!r} into itself')
        keep, drop = self._get(e.keep_id), self._get(e.drop_id)
        for key in FactKey:
            iv = drop.open_interval(key)
            if iv is not None:
                if iv.t_from >= e.stamp_s:
                    drop.facts[key].pop()
                else:
                    iv.t_to = e.stamp_s
        for stamp in drop.seen_s:
            bisect.insort(keep.seen_s, stamp)
        drop.merged_into, drop.merged_s = keep.object_id, e.stamp_s

    def _apply_repaired(self, e: IdentityRepaired) -> None:
        if e.keep_id == e.drop_id:
            raise InvalidInputError(f'cannot repair {e.keep_id!r} with itself')
        keep, drop = self._get(e.keep_id), self._get(e.drop_id)
        since = e.since_s
        if not keep.created_s <= since <= e.stamp_s:
            raise OutOfOrderError(
                f'{e.drop_id!r} taken for {e.keep_id!r} since {since}: outside '
                f'{keep.created_s}..{e.stamp_s} (created .. repaired)')
        for key in FactKey:
            ivs = keep.facts[key]
            while ivs and ivs[-1].t_from >= since:
                ivs.pop()  # what memory believed of it after it was already elsewhere
            if ivs and (ivs[-1].t_to is None or ivs[-1].t_to > since):
                ivs[-1].t_to = since
                ivs[-1].last_seen_s = min(ivs[-1].last_seen_s, since)
            ivs.extend(drop.facts[key])
            drop.facts[key] = []
        keep.seen_s = sorted([s for s in keep.seen_s if s < since] + drop.seen_s)
        drop.merged_into, drop.merged_s = keep.object_id, since

    def _apply_split(self, e: IdentitySplit) -> None:
        obj = self._get(e.object_id)
        if not e.new_id or e.new_id in self._objects:
            raise InvalidInputError(f'split of {e.object_id!r} needs a new object id, got '
                                    f'{e.new_id!r}')
        since = e.since_s
        if not obj.created_s < since <= e.stamp_s:
            raise OutOfOrderError(
                f'{e.object_id!r} split since {since}: outside {obj.created_s}..{e.stamp_s} '
                '(created .. split)')
        new = _Object(e.new_id, obj.label, obj.color, obj.mobility, since,
                      discovered=e.discovered)
        for key in FactKey:
            ivs = obj.facts[key]
            k = bisect.bisect_left(ivs, since, key=_start)
            later, ivs[k:] = ivs[k:], []
            if ivs and (ivs[-1].t_to is None or ivs[-1].t_to > since):
                # A fact that held on across the guess (a state): the other object had it too.
                last = ivs[-1]
                later.insert(0, _Interval(last.value, since, last.t_to, list(last.obs_ids),
                                          max(last.last_seen_s, since)))
                if later[1:]:
                    last.t_to = None  # it held on here until the guess took over
            elif ivs and ivs[-1].t_to == since:
                ivs[-1].t_to = None  # where it was before the wrong guess moved it
            new.facts[key] = later
        new.seen_s = [s for s in obj.seen_s if s >= since]
        obj.seen_s = [s for s in obj.seen_s if s < since]
        self._objects[e.new_id] = new

    def _apply_place(self, e: PlaceObserved) -> None:
        if not e.place_id:
            raise InvalidInputError('a place observation needs a place id')
        bisect.insort(self._place_views.setdefault(e.place_id, []), e.stamp_s)

    def _apply_layout(self, e: LayoutSet) -> None:
        graph = SceneGraph.from_dict(e.graph)
        i = bisect.bisect_right([s for s, _ in self._layouts], e.stamp_s)
        self._layouts.insert(i, (e.stamp_s, graph))

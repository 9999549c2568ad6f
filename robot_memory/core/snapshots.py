"""World snapshots and changes as flat records: what the Memory services return (no ROS).

memory_node serves `robot_memory_interfaces/srv/GetObjects` (the objects at a time) and
`GetChanges` (what changed between two times) from these; `ros/interfaces.py` turns the records
into messages. Times are checked here (`check_time`), so a hostile request is refused with a
reason, never run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from robot_memory._compat import StrEnum
from robot_memory.core.ask import scope_room_id
from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.object_history import ObjectFacts
from robot_memory.exceptions import InvalidInputError

__all__ = ['ChangeKind', 'ChangeRecord', 'ObjectRecord', 'changes_between', 'check_time',
           'objects_at']

MAX_FILTER_CHARS = 200


class ChangeKind(StrEnum):
    """How an object changed; the order is the message's constants (ADDED = 0 …)."""

    ADDED = 'added'
    REMOVED = 'removed'
    MOVED = 'moved'
    STATE_CHANGED = 'state_changed'

    @property
    def code(self) -> int:
        """The `ObjectChange.kind` constant."""
        return list(ChangeKind).index(self)


@dataclass(frozen=True, slots=True)
class ObjectRecord:
    """One object as the memory knew it at a time."""

    object_id: str
    class_name: str
    room: str
    support: str
    position_m: tuple[float, float, float]
    state: str
    color: str
    since_s: float
    last_seen_s: float
    p_still_there: float
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One change between two times."""

    kind: ChangeKind
    object_id: str
    class_name: str
    room_before: str = ''
    room_after: str = ''
    position_before_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    position_after_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    state_before: str = ''
    state_after: str = ''


def check_time(name: str, t_s: float) -> float:
    """A time from a request: finite and ≥ 0 (0 = now), else `InvalidInputError`."""
    if not math.isfinite(t_s) or t_s < 0:
        raise InvalidInputError(f'{name}: {t_s} s is no time (0 = now, else seconds ≥ 0)')
    return float(t_s)


def _check_filter(name: str, text: str) -> str:
    if len(text) > MAX_FILTER_CHARS or any(not c.isprintable() for c in text):
        raise InvalidInputError(f'{name}: not a name ({len(text)} characters)')
    return text.strip()


def _position(value: object) -> tuple[float, float, float]:
    if isinstance(value, tuple) and len(value) == 3:
        return (float(value[0]), float(value[1]), float(value[2]))
    return (0.0, 0.0, 0.0)


def objects_at(memory: EpisodicMemory, at_s: float, room: str = '',
               class_name: str = '') -> tuple[float, list[ObjectRecord]]:
    """The objects present at `at_s` (0 = the memory's now), by id; with the time used."""
    t = check_time('at', at_s) or memory.now_s
    room_id = scope_room_id(_check_filter('room', room)) if room.strip() else None
    label = _check_filter('class_name', class_name)
    out = []
    for object_id, s in sorted(memory.at(t, [label] if label else None).objects.items()):
        if room_id is not None and s.room_id != room_id:
            continue
        p = memory.staleness.p_still_there(s.label, t - s.last_seen_s, object_id, s.mobility)
        out.append(ObjectRecord(
            object_id=object_id, class_name=s.label, room=s.room_id or '',
            support=s.support[1] if s.support else '', position_m=_position(s.position_m),
            state=s.state or '', color=s.color or '', since_s=s.since_s,
            last_seen_s=s.last_seen_s, p_still_there=float(p),
            evidence_ids=tuple(str(i) for i in s.obs_ids)))
    return t, out


def changes_between(memory: EpisodicMemory, since_s: float, until_s: float,
                    room: str = '') -> list[ChangeRecord]:
    """What changed between `since_s` and `until_s` (0 = now); into or out of `room` only."""
    t1 = check_time('since', since_s)
    t2 = check_time('until', until_s) or memory.now_s
    if t2 < t1:
        raise InvalidInputError(f'until ({t2} s) is before since ({t1} s)')
    room_id = scope_room_id(_check_filter('room', room)) if room.strip() else None
    diff = memory.diff(t1, t2)
    labels = {k: s.label for view in (memory.at(t1), memory.at(t2))
              for k, s in {**view.objects, **view.missing}.items()}

    def record(kind: ChangeKind, object_id: str, before: ObjectFacts | None,
               after: ObjectFacts | None) -> ChangeRecord:
        return ChangeRecord(
            kind=kind, object_id=object_id, class_name=labels.get(object_id, ''),
            room_before=str(before[1] or '') if before else '',
            room_after=str(after[1] or '') if after else '',
            position_before_m=_position(before[0]) if before else (0.0, 0.0, 0.0),
            position_after_m=_position(after[0]) if after else (0.0, 0.0, 0.0),
            state_before=str(before[3] or '') if before and kind is ChangeKind.STATE_CHANGED
            else '',
            state_after=str(after[3] or '') if after and kind is ChangeKind.STATE_CHANGED
            else '')

    out = [record(ChangeKind.ADDED, k, None, v) for k, v in diff.added.items()]
    out += [record(ChangeKind.REMOVED, k, v, None) for k, v in diff.removed.items()]
    out += [record(ChangeKind.MOVED, k, a, b) for k, (a, b) in diff.moved.items()]
    out += [record(ChangeKind.STATE_CHANGED, k, a, b)
            for k, (a, b) in diff.state_changed.items()]
    if room_id is not None:
        out = [c for c in out if room_id in (c.room_before, c.room_after)]
    return sorted(out, key=lambda c: (c.object_id, c.kind.code))

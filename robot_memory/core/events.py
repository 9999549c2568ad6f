"""Memory events: the append-only log that the episodic memory is a replay of.

Every change to long-term memory is one of these frozen values. They serialise to plain JSON
records, so a memory file can be read by any tool and loading it runs no code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal, overload

from robot_memory._compat import StrEnum
from robot_memory.exceptions import InvalidInputError

__all__ = [
    'Event',
    'FactChanged',
    'FactKey',
    'FactValue',
    'IdentityRepaired',
    'IdentitySplit',
    'LayoutSet',
    'ObjectCreated',
    'ObjectLost',
    'ObjectSeen',
    'ObjectsMerged',
    'PositionRefined',
    'event_from_record',
    'event_to_record',
    'normalise_fact',
]


class FactKey(StrEnum):
    """The facts of an object that change over time, each kept as intervals."""

    POSITION = 'position'
    ROOM = 'room'
    SUPPORT = 'support'
    STATE = 'state'


LOCATION_FACTS = (FactKey.POSITION, FactKey.ROOM, FactKey.SUPPORT)

# position: (x, y, z) metres in map; room: room id or ''; support: (relation, object id) or
# None; state: '' or a state name ('open', 'on', …).
FactValue = tuple[float, float, float] | tuple[str, str] | str | None


@overload
def normalise_fact(key: Literal[FactKey.POSITION], value: Any) -> tuple[float, float, float]: ...


@overload
def normalise_fact(key: Literal[FactKey.SUPPORT], value: Any) -> tuple[str, str] | None: ...


@overload
def normalise_fact(key: FactKey, value: Any) -> FactValue: ...


def normalise_fact(key: FactKey, value: Any) -> FactValue:
    """Validate a fact value and return it in canonical (hashable, JSON-round-trip) form."""
    key = FactKey(key)
    if key is FactKey.POSITION:
        try:
            out = tuple(round(float(v), 4) for v in value)
        except (TypeError, ValueError):
            out = ()
        if len(out) != 3 or not all(math.isfinite(v) for v in out):
            raise InvalidInputError(f'position must be three finite numbers, got {value!r}')
        return out
    if key is FactKey.SUPPORT:
        if value is None:
            return None
        if len(value) != 2:
            raise InvalidInputError(f'support must be (relation, object id) or None: {value!r}')
        return (str(value[0]), str(value[1]))
    if value is None:
        return ''
    return str(value)


@dataclass(frozen=True, slots=True)
class ObjectCreated:
    """A new object enters memory; its time-varying facts follow as `FactChanged`.

    `discovered` marks an object found where the robot had never looked: memory learns of it,
    but nothing is known to have changed in the world.
    """

    stamp_s: float
    object_id: str
    label: str
    color: str = ''
    mobility: str = 'movable'
    discovered: bool = False


@dataclass(frozen=True, slots=True)
class FactChanged:
    """A fact takes a new value from `stamp_s` on (closing the previous interval)."""

    stamp_s: float
    object_id: str
    key: FactKey
    value: FactValue
    obs_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectSeen:
    """The object was seen with its current facts (a confirmation, not a change)."""

    stamp_s: float
    object_id: str
    obs_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectLost:
    """Confirmed negative evidence: the object is no longer where memory had it."""

    stamp_s: float
    object_id: str
    obs_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PositionRefined:
    """A better estimate of where the object has stood since its position was last set.

    Not a move: the open position interval keeps its start and takes the new value. Furniture
    is seen in parts; its centre is re-estimated from everything seen of it.
    """

    stamp_s: float
    object_id: str
    value: tuple[float, float, float]
    obs_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectsMerged:
    """Two memory objects turned out to be one; `drop_id` is folded into `keep_id`."""

    stamp_s: float
    keep_id: str
    drop_id: str


@dataclass(frozen=True, slots=True)
class IdentityRepaired:
    """Later evidence showed that `drop_id`, first seen at `since_s`, was `keep_id` moved.

    A repair of the past, not a merge at `stamp_s`: from `since_s` on, `keep_id`'s history is
    the one memory had kept for `drop_id` (it stood there, not where `keep_id` was last
    seen), and `drop_id` is folded into it. `stamp_s` is when memory learned it.
    """

    stamp_s: float
    keep_id: str
    drop_id: str
    since_s: float


@dataclass(frozen=True, slots=True)
class IdentitySplit:
    """An earlier guess that `object_id` had moved was wrong: what memory had of it from
    `since_s` on was another object, `new_id` (created here), and `object_id` is again where
    it was before. `stamp_s` is when memory learned it (the original seen back home).
    `discovered`: whether `new_id` is recorded as found (it may have stood there all along)
    rather than as arrived (it came to a spot seen empty before); records without it: found."""

    stamp_s: float
    object_id: str
    new_id: str
    since_s: float
    discovered: bool = True


@dataclass(frozen=True, slots=True)
class PlaceObserved:
    """The robot looked around from a place (what it saw there is now known, or absent)."""

    stamp_s: float
    place_id: str


@dataclass(frozen=True, slots=True)
class LayoutSet:
    """The static layers (building, rooms, places, their edges) as `SceneGraph.to_dict()`."""

    stamp_s: float
    graph: dict[str, Any]


Event = (ObjectCreated | FactChanged | ObjectSeen | ObjectLost | ObjectsMerged | LayoutSet
         | PlaceObserved | PositionRefined | IdentityRepaired | IdentitySplit)
_KINDS: dict[str, type[Event]] = {
    'created': ObjectCreated,
    'fact': FactChanged,
    'seen': ObjectSeen,
    'lost': ObjectLost,
    'merged': ObjectsMerged,
    'layout': LayoutSet,
    'place': PlaceObserved,
    'refined': PositionRefined,
    'repaired': IdentityRepaired,
    'split': IdentitySplit,
}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}


def event_to_record(event: Event) -> dict[str, Any]:
    """A JSON-safe dict with a `kind` field."""
    record: dict[str, Any] = {'kind': _KIND_OF[type(event)]}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, tuple):
            value = list(value)
        record[f.name] = value
    return record


def event_from_record(record: dict[str, Any]) -> Event:
    """Inverse of `event_to_record`; raises `InvalidInputError` on a malformed record."""
    try:
        cls = _KINDS[record['kind']]
        kwargs = {f.name: record[f.name] for f in fields(cls) if f.name in record}
        if cls is FactChanged:
            kwargs['key'] = FactKey(kwargs['key'])
            kwargs['value'] = normalise_fact(kwargs['key'], kwargs['value'])
        if cls is PositionRefined:
            kwargs['value'] = normalise_fact(FactKey.POSITION, kwargs['value'])
        if 'obs_ids' in kwargs:
            kwargs['obs_ids'] = tuple(int(i) for i in kwargs['obs_ids'])
        kwargs['stamp_s'] = _stamp(kwargs['stamp_s'], 'stamp_s')
        if cls is IdentityRepaired or cls is IdentitySplit:
            kwargs['since_s'] = _stamp(kwargs['since_s'], 'since_s')
        return cls(**kwargs)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        valid = ', '.join(sorted(_KINDS))
        shown = repr(record)
        shown = shown if len(shown) <= 300 else f'{shown[:300]}… ({len(shown)} characters)'
        raise InvalidInputError(
            f'malformed event record {shown} (kinds: {valid}): {exc}') from exc


def _stamp(value: Any, name: str) -> float:
    """A stored time as seconds; NaN, infinities and booleans are not times."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f'{name} {value!r} is not a time')
    stamp = float(value)
    if not math.isfinite(stamp):
        raise ValueError(f'{name} {value!r} is not a time')
    return stamp

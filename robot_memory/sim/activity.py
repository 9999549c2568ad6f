"""Multi-day activity: people move objects (habits and at random), deliver, remove and toggle.

Each day's plan (which kinds of events, when) is drawn from `default_rng([seed, day])` before
the day starts, and each event picks its object and target from its own
`default_rng([seed, day, k])` at the moment it happens. The world therefore evolves the same
way for a seed however finely the clock is stepped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from robot_memory.exceptions import InvalidInputError
from robot_memory.sim.clock import DAY_S, HOUR_S, SIM_EPOCH_S, day_of
from robot_memory.sim.truth import ObjectTruth, TruthLog
from robot_memory.sim.world import (
    OBJECT_CATALOG,
    ObjectInstance,
    Placement,
    World,
    WorldState,
    choose_placement,
)

__all__ = [
    'DEFAULT_HABITS',
    'ActivityConfig',
    'ActivityEvent',
    'ActivityModel',
    'Habit',
    'fact_of',
]

WEEKDAYS_ONLY = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
DELIVERY_CLASSES = ('box', 'box', 'box', 'book', 'mug', 'toy', 'bottle', 'plant', 'shoe')


@dataclass(frozen=True, slots=True)
class Habit:
    """On a day in `weekdays`, with probability `rate`, a person moves one instance of a class.

    The object is instance `instance` of `obj_class` (`obj:<class>_<instance>`); it goes to a
    free slot on furniture of a class in `to_furniture`, preferring rooms of a category in
    `to_rooms`, at a time drawn uniformly in `[start_h, end_h)`.
    """

    name: str
    obj_class: str
    to_furniture: tuple[str, ...]
    to_rooms: tuple[str, ...]
    start_h: float
    end_h: float
    rate: float
    weekdays: tuple[int, ...] = EVERY_DAY
    instance: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise InvalidInputError(f'habit {self.name!r}: rate must be in [0, 1], '
                                    f'got {self.rate}')
        if not 0.0 <= self.start_h < self.end_h <= 24.0:
            raise InvalidInputError(f'habit {self.name!r}: need 0 ≤ start_h < end_h ≤ 24, '
                                    f'got {self.start_h}, {self.end_h}')
        if self.obj_class not in OBJECT_CATALOG:
            raise InvalidInputError(f'habit {self.name!r}: unknown class {self.obj_class!r}; '
                                    f'valid: {", ".join(sorted(OBJECT_CATALOG))}')

    @property
    def obj_id(self) -> str:
        """The object the habit moves."""
        return f'obj:{self.obj_class}_{self.instance}'


DEFAULT_HABITS = (
    Habit('backpack_out_in_morning', 'backpack', ('desk', 'bed', 'nightstand'),
          ('bedroom', 'study'), 7.0, 9.0, 0.9, WEEKDAYS_ONLY),
    Habit('backpack_to_coat_hook', 'backpack', ('coat_hook',), ('hallway',), 15.0, 18.0, 0.9,
          WEEKDAYS_ONLY),
    Habit('mug_to_study', 'mug', ('desk',), ('study',), 7.0, 10.0, 0.8),
    Habit('mug_back_to_kitchen', 'mug', ('counter', 'kitchen_table'), ('kitchen',), 18.0, 22.0,
          0.8),
)


@dataclass(frozen=True, slots=True)
class ActivityConfig:
    """Rates per day of each kind of event, the waking hours and the habits."""

    random_moves_per_day: float = 12.0
    deliveries_per_day: float = 0.6
    removals_per_day: float = 0.4
    toggles_per_day: float = 10.0
    active_hours: tuple[float, float] = (7.0, 23.0)
    habits: tuple[Habit, ...] = DEFAULT_HABITS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActivityConfig:
        """Build from a scenario's `activity:` mapping (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f'unknown activity keys {sorted(unknown)}; '
                                    f'valid: {", ".join(sorted(known))}')
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k != 'habits'}
        if 'active_hours' in kwargs:
            kwargs['active_hours'] = tuple(float(v) for v in kwargs['active_hours'])
        if 'habits' in data:
            kwargs['habits'] = tuple(
                Habit(**{**h, 'to_furniture': tuple(h['to_furniture']),
                         'to_rooms': tuple(h.get('to_rooms', ())),
                         'weekdays': tuple(h.get('weekdays', EVERY_DAY))})
                for h in data['habits'])
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """Something a person did: kind is 'habit', 'move', 'deliver', 'remove' or 'toggle'."""

    stamp_s: float
    kind: str
    obj_id: str
    cause: str
    support: str = ''
    state: str = ''
    moved: bool = True


@dataclass(frozen=True, slots=True)
class _Planned:
    stamp_s: float
    kind: str
    habit: Habit | None
    key: int


def fact_of(obj: ObjectInstance, placement: Placement) -> ObjectTruth:
    """The ground-truth record of an object in a placement."""
    return ObjectTruth(obj.obj_id, obj.cls, obj.color, placement.state, placement.room,
                       placement.support_id, placement.relation, placement.position_m,
                       obj.size_m, obj.mobility, obj.look_group)


@dataclass(slots=True)
class ActivityModel:
    """Applies the planned events of each day to a world state and the ground-truth log."""

    world: World
    config: ActivityConfig = field(default_factory=ActivityConfig)
    seed: int = 0
    state: WorldState = field(init=False)
    truth: TruthLog = field(init=False)
    events: list[ActivityEvent] = field(init=False, default_factory=list)
    now_s: float = field(init=False, default=SIM_EPOCH_S)
    _queue: list[_Planned] = field(init=False, default_factory=list)
    _planned_day: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.state = self.world.initial_state.copy()
        self.truth = TruthLog()
        for furn in self.world.furniture:
            fact = ObjectTruth(furn.furn_id, furn.cls, furn.color, '', furn.room, '', '',
                               furn.center_m, furn.size_m, 'furniture')
            self.truth.record(SIM_EPOCH_S, fact, 'initial')
        for obj_id in sorted(self.state.objects):
            fact = fact_of(self.state.objects[obj_id], self.state.placements[obj_id])
            self.truth.record(SIM_EPOCH_S, fact, 'initial')

    # ---------------------------------------------------------------- clock
    def advance_to(self, stamp_s: float) -> list[ActivityEvent]:
        """Apply every event up to and including `stamp_s`; return those that happened."""
        if stamp_s < self.now_s:
            raise InvalidInputError(f'activity cannot go back in time: {stamp_s} < {self.now_s}')
        happened: list[ActivityEvent] = []
        while True:
            if not self._queue:
                next_day = max(self._planned_day + 1, day_of(self.now_s))
                if SIM_EPOCH_S + next_day * DAY_S > stamp_s:
                    break
                self._queue = self._plan_day(next_day)
                self._planned_day = next_day
                continue
            planned = self._queue[0]
            if planned.stamp_s > stamp_s:
                break
            self._queue.pop(0)
            event = self._apply(planned)
            if event is not None:
                happened.append(event)
                self.events.append(event)
        self.now_s = stamp_s
        return happened

    def _plan_day(self, day: int) -> list[_Planned]:
        cfg = self.config
        rng = np.random.default_rng([self.seed, 7, day])
        weekday = day % 7
        start = SIM_EPOCH_S + day * DAY_S
        lo, hi = cfg.active_hours
        plan: list[tuple[float, str, Habit | None]] = []
        for habit in cfg.habits:
            fire = rng.random() < habit.rate
            t = rng.uniform(habit.start_h, habit.end_h)
            if fire and weekday in habit.weekdays:
                plan.append((t, 'habit', habit))
        for kind, rate in (('move', cfg.random_moves_per_day),
                           ('remove', cfg.removals_per_day),
                           ('toggle', cfg.toggles_per_day)):
            for t in rng.uniform(lo, hi, int(rng.poisson(rate))):
                plan.append((float(t), kind, None))
        if weekday in WEEKDAYS_ONLY:
            for t in rng.uniform(9.0, 18.0, int(rng.poisson(cfg.deliveries_per_day))):
                plan.append((float(t), 'deliver', None))
        plan.sort(key=lambda p: (p[0], p[1]))
        return [_Planned(start + round(t * HOUR_S, 3), kind, habit, k)
                for k, (t, kind, habit) in enumerate(plan)]

    # --------------------------------------------------------------- events
    def _apply(self, planned: _Planned) -> ActivityEvent | None:
        rng = np.random.default_rng([self.seed, 8, day_of(planned.stamp_s), planned.key])
        handler = {'habit': self._habit, 'move': self._move, 'deliver': self._deliver,
                   'remove': self._remove, 'toggle': self._toggle}[planned.kind]
        return handler(planned, rng)

    def _habit(self, planned: _Planned, rng: np.random.Generator) -> ActivityEvent | None:
        habit = planned.habit
        assert habit is not None
        obj = self.state.objects.get(habit.obj_id)
        if obj is None:
            return None
        targets = self._supports(habit.to_furniture, habit.to_rooms)
        if not targets:
            return None
        cause = f'habit:{habit.name}'
        current = self.state.placements[obj.obj_id]
        if current.support_id in targets:
            # Already where the habit puts it: the person leaves it there.
            return ActivityEvent(planned.stamp_s, 'habit', obj.obj_id, cause,
                                 current.support_id, current.state, moved=False)
        placement = choose_placement(self.world, self.state, obj, rng, supports=targets,
                                     rooms=(), obj_state=current.state)
        if placement is None or placement.support_id not in targets:
            return None
        return self._put(planned.stamp_s, obj, placement, 'habit', cause)

    def _supports(self, furniture: Iterable[str], rooms: Iterable[str]) -> list[str]:
        classes, cats = set(furniture), set(rooms)
        ids = [f.furn_id for f in self.world.furniture if f.cls in classes]
        preferred = [i for i in ids
                     if self.world.room(self.world.furniture_by_id(i).room).category in cats]
        return preferred or ids

    def _movable(self, exclude_habits: bool = False) -> list[str]:
        protected = {h.obj_id for h in self.config.habits} if exclude_habits else set()
        return sorted(i for i, o in self.state.objects.items()
                      if o.mobility == 'movable' and i not in protected)

    def _move(self, planned: _Planned, rng: np.random.Generator) -> ActivityEvent | None:
        candidates = self._movable()
        if not candidates:
            return None
        obj = self.state.objects[candidates[int(rng.integers(len(candidates)))]]
        current = self.state.placements[obj.obj_id]
        # Half of the moves stay within the room (tidying), half carry the object elsewhere.
        if rng.random() < 0.5:
            rooms: Iterable[str] | None = (self.world.room(current.room).category,)
        else:
            rooms = OBJECT_CATALOG[obj.cls].rooms if rng.random() < 0.7 else None
        placement = choose_placement(self.world, self.state, obj, rng, rooms,
                                     obj_state=current.state)
        if placement is None:
            return None
        return self._put(planned.stamp_s, obj, placement, 'move', 'random_move')

    def _deliver(self, planned: _Planned, rng: np.random.Generator) -> ActivityEvent | None:
        cls = DELIVERY_CLASSES[int(rng.integers(len(DELIVERY_CLASSES)))]
        oc = OBJECT_CATALOG[cls]
        color = oc.colors[int(rng.integers(len(oc.colors)))]
        obj = self.world.dress(ObjectInstance(self.state.new_id(cls), cls, color, oc.size_m,
                                              'movable', oc.states), self.state.objects)
        placement = choose_placement(self.world, self.state, obj, rng, ('hallway',),
                                     obj_state=oc.states[0] if oc.states else '')
        if placement is None:
            return None
        return self._put(planned.stamp_s, obj, placement, 'deliver', 'delivery')

    def _remove(self, planned: _Planned, rng: np.random.Generator) -> ActivityEvent | None:
        candidates = self._movable(exclude_habits=True)
        if not candidates:
            return None
        obj_id = candidates[int(rng.integers(len(candidates)))]
        support = self.state.placements[obj_id].support_id
        self.state.remove(obj_id)
        self.truth.end(planned.stamp_s, obj_id)
        return ActivityEvent(planned.stamp_s, 'remove', obj_id, 'removal', support)

    def _toggle(self, planned: _Planned, rng: np.random.Generator) -> ActivityEvent | None:
        candidates = sorted(i for i, o in self.state.objects.items() if len(o.states) >= 2)
        if not candidates:
            return None
        obj = self.state.objects[candidates[int(rng.integers(len(candidates)))]]
        current = self.state.placements[obj.obj_id]
        others = [s for s in obj.states if s != current.state]
        new_state = others[int(rng.integers(len(others)))]
        self.state.set_state(obj.obj_id, new_state)
        self.truth.record(planned.stamp_s, fact_of(obj, self.state.placements[obj.obj_id]),
                          'toggle')
        return ActivityEvent(planned.stamp_s, 'toggle', obj.obj_id, 'toggle',
                             current.support_id, new_state, moved=False)

    def _put(self, stamp_s: float, obj: ObjectInstance, placement: Placement, kind: str,
             cause: str) -> ActivityEvent:
        self.state.place(obj, placement)
        self.truth.record(stamp_s, fact_of(obj, placement), cause)
        return ActivityEvent(stamp_s, kind, obj.obj_id, cause, placement.support_id,
                             placement.state)

"""What the viewer page shows, taken from an `EpisodicMemory` as plain JSON-able data.

The page scrubs through *stops*: times inside the robot's episodes (each episode's start, its
end, and every `step_s` between). For every stop the page must show exactly `memory.at(t)`, so
the world is computed here, in Python, with the memory's own `at`, and shipped as deltas: at
each stop, only the objects whose state differs from the previous stop. The page rebuilds any
stop from a keyframe every few stops plus the deltas after it (a slider step costs the changes,
not the whole memory).

An object's state is a list `[present, x, y, z, room, support, state, since, last_seen]`:
`present` 1 (in view) or 0 (missing: lost where last seen); positions in metres rounded to a
millimetre (None: unknown); `room` an index into `rooms` (-1: none); `support` is
`[relation, object id]` or None; times are whole seconds after `t0_s`. None in place of the
list means the object is not in the world at that stop (not created yet, or merged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from robot_memory.core.episodic import EpisodicMemory, ObjectState
from robot_memory.core.events import FactKey
from robot_memory.exceptions import InvalidInputError

__all__ = ['STATE_FIELDS', 'decode_stops', 'stop_index', 'view_data']

STATE_FIELDS = ('present', 'x', 'y', 'z', 'room', 'support', 'state', 'since', 'last_seen')
DEFAULT_STEP_S = 900.0


def _stop_times(memory: EpisodicMemory, step_s: float, max_stops: int
                ) -> list[tuple[float, int]]:
    """(time, episode index) of every stop, in order."""
    episodes = memory.instances()
    total_s = sum(e.end_s - e.start_s for e in episodes)
    # Widen the step when a long memory would give more stops than the page should carry.
    step_s = max(step_s, total_s / max(max_stops - 2 * len(episodes), 1))
    stops: list[tuple[float, int]] = []
    for e in episodes:
        n = max(math.ceil((e.end_s - e.start_s) / step_s), 1)
        times = [e.start_s + (e.end_s - e.start_s) * i / n for i in range(n)] + [e.end_s]
        stops += [(t, e.index) for t in times if not stops or t > stops[-1][0]]
    return stops


def _state(s: ObjectState, rooms: dict[str, int], t0_s: float) -> list[Any]:
    position = [round(v, 3) for v in s.position_m] if s.position_m else [None] * 3
    return [1 if s.present else 0, *position,
            rooms.get(s.room_id, -1), list(s.support) if s.support else None, s.state,
            round(s.since_s - t0_s), round(s.last_seen_s - t0_s)]


def view_data(memory: EpisodicMemory, title: str = 'robot memory',
              step_s: float = DEFAULT_STEP_S, max_stops: int = 600) -> dict[str, Any]:
    """Everything the viewer shows, for every stop of every episode."""
    if not step_s > 0 or max_stops < 2:
        raise InvalidInputError(f'step_s must be > 0 and max_stops >= 2, got {step_s}, '
                                f'{max_stops}')
    now = memory.now_s
    layout = memory.layout_at(now)
    episodes = memory.instances()
    t0 = math.floor(episodes[0].start_s) if episodes else 0.0
    rooms: list[dict[str, Any]] = []
    room_index: dict[str, int] = {}
    for room_id in layout.rooms:
        room = layout.get_room(room_id)
        room_index[room_id] = len(rooms)
        rooms.append({'id': room_id, 'name': room.name.replace('_', ' '),
                      'polygon': [[round(x, 3), round(y, 3)] for x, y in room.polygon_m]})
    places = [{'id': p, 'room': room_index.get(layout.get_place(p).room_id, -1),
               'xy': [round(layout.get_place(p).position_m[0], 3),
                      round(layout.get_place(p).position_m[1], 3)]}
              for p in layout.places]
    place_index = {p['id']: i for i, p in enumerate(places)}
    edges = sorted({tuple(sorted((place_index[u], place_index[v])))
                    for u, v, _ in layout.edges('traversable')
                    if u in place_index and v in place_index})
    objects = []
    object_index: dict[str, int] = {}
    for history in memory.iter_objects():
        # Rooms an object was placed in that the latest layout lacks: named, not drawn.
        for iv in history.facts.get(FactKey.ROOM, ()):
            if iv.value and iv.value not in room_index:
                room_index[str(iv.value)] = len(rooms)
                rooms.append({'id': iv.value, 'name': str(iv.value).split(':')[-1], 'polygon': []})
        object_index[history.object_id] = len(objects)
        tau = memory.staleness.tau(history.label, history.object_id, history.mobility).tau_s
        objects.append({'id': history.object_id, 'label': history.label.replace('_', ' '),
                        'color': history.color, 'mobility': history.mobility,
                        'tau_s': round(tau)})
    stops = []
    deltas: list[list[list[Any]]] = []
    previous: list[list[Any] | None] = [None] * len(objects)
    for t, episode in _stop_times(memory, step_s, max_stops):
        view = memory.at(t)
        current: list[list[Any] | None] = [None] * len(objects)
        for states in (view.objects, view.missing):
            for object_id, s in states.items():
                current[object_index[object_id]] = _state(s, room_index, t0)
        deltas.append([[i, cur] for i, (cur, prev) in enumerate(zip(current, previous,
                                                                     strict=True))
                       if cur != prev])
        previous = current
        local = memory.clock.local(t)
        stops.append({'t': t, 'episode': episode,
                      'label': f'{memory.clock.label(t)} {local:%H:%M}',
                      'date': f'{local:%a %d %b %Y %H:%M}'})
    paths = []
    for e in episodes:
        route = [place_index[p] for _, p in memory.place_views(e.start_s, e.end_s)
                 if p in place_index]
        paths.append([p for i, p in enumerate(route) if i == 0 or p != route[i - 1]])
    return {
        'format': 'robot_memory.view/1',
        'title': title,
        'now_s': now,
        't0_s': t0,
        'timezone': memory.clock.timezone,
        'building': layout.get_node('building').name,
        'episodes': [{'index': e.index, 'label': e.label, 'start_s': e.start_s,
                      'end_s': e.end_s} for e in episodes],
        'rooms': rooms,
        'places': places,
        'edges': [list(e) for e in edges],
        'objects': objects,
        'num_objects': memory.num_objects(),
        'stops': stops,
        'deltas': deltas,
        'paths': paths,
        'state_fields': list(STATE_FIELDS),
    }


def decode_stops(data: dict[str, Any]) -> list[dict[str, list[Any]]]:
    """The object states at every stop, rebuilt from the deltas (what the page does)."""
    ids = [o['id'] for o in data['objects']]
    current: list[list[Any] | None] = [None] * len(ids)
    out = []
    for delta in data['deltas']:
        for i, state in delta:
            current[i] = state
        out.append({ids[i]: s for i, s in enumerate(current) if s is not None})
    return out


def stop_index(data: dict[str, Any], t: float) -> int:
    """The last stop at or before `t` (0 before the first)."""
    times: Sequence[float] = [s['t'] for s in data['stops']]
    return max((i for i, s in enumerate(times) if s <= t), default=0)

"""`robot-memory bench store`: a synthetic week of a 200-object home through the store.

The stream is made of object observations as perception would hand them over (already
associated with memory ids): two patrol sessions a day, each seeing about 60 % of the rooms,
several frames per object; objects move, appear, vanish and change state at household rates.
It measures the memory path (consolidation) and the store path (write + commit, reopen) apart.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core import (
    Consolidator,
    EpisodicMemory,
    MemoryStore,
    ObjectObservation,
    ObservedFacts,
    PlaceAttributes,
    RoomAttributes,
    SceneGraph,
)

__all__ = ['SyntheticWeek', 'bench_store', 'replay_week', 'synthetic_week']

DAY_S = 86400.0
EPOCH_S = 1793577600.0  # 2026-11-02T00:00:00Z, a Monday
ROOMS = ('kitchen', 'living_room', 'bedroom', 'bathroom', 'study', 'hallway', 'dining_room')
CLASSES = ('mug', 'book', 'backpack', 'keys', 'laptop', 'remote', 'phone', 'bottle', 'plate',
           'shoe', 'box', 'lamp', 'plant', 'towel', 'bag', 'cup', 'pen', 'glasses')
STATEFUL = {'laptop': ('open', 'closed'), 'lamp': ('on', 'off'), 'box': ('open', 'closed')}


@dataclass(frozen=True, slots=True)
class SyntheticWeek:
    """A generated observation stream and the layout it happens in."""

    layout: SceneGraph
    frames: list[tuple[float, list[tuple[str, ObjectObservation, ObservedFacts]]]]
    absences: list[tuple[float, str]]
    num_objects: int


def _layout() -> SceneGraph:
    graph = SceneGraph('home')
    for i, name in enumerate(ROOMS):
        x0 = 5.0 * i
        graph.add_room(f'room:{name}', RoomAttributes(
            name, name, ((x0, 0.0), (x0 + 5, 0.0), (x0 + 5, 5.0), (x0, 5.0))))
        graph.add_place(f'place:{name}/0', PlaceAttributes(f'room:{name}', (x0 + 2.5, 2.5, 0.0)))
        if i:
            graph.connect_places(f'place:{ROOMS[i - 1]}/0', f'place:{name}/0')
    return graph


def synthetic_week(num_objects: int = 200, days: int = 7, seed: int = 0,
                   frames_per_object: int = 6, move_rate_per_day: float = 0.15,
                   state_rate_per_day: float = 0.3) -> SyntheticWeek:
    """Generate a deterministic week of associated observations."""
    rng = np.random.default_rng(seed)
    room_of = rng.integers(0, len(ROOMS), num_objects)
    pos = np.column_stack([5.0 * room_of + rng.uniform(0.3, 4.7, num_objects),
                           rng.uniform(0.3, 4.7, num_objects), rng.uniform(0.0, 1.5, num_objects)])
    labels = [CLASSES[i % len(CLASSES)] for i in range(num_objects)]
    states = [STATEFUL[lab][0] if lab in STATEFUL else '' for lab in labels]
    present = np.ones(num_objects, dtype=bool)
    frames: list[tuple[float, list[tuple[str, ObjectObservation, ObservedFacts]]]] = []
    absences: list[tuple[float, str]] = []
    obs_id = 0
    for day in range(days):
        for session_hour in (9.0, 19.0):
            t0 = EPOCH_S + day * DAY_S + session_hour * 3600.0
            # The world changes between sessions.
            for i in range(num_objects):
                if rng.random() < move_rate_per_day / 2:
                    room_of[i] = rng.integers(0, len(ROOMS))
                    pos[i] = (5.0 * room_of[i] + rng.uniform(0.3, 4.7), rng.uniform(0.3, 4.7),
                              rng.uniform(0.0, 1.5))
                if labels[i] in STATEFUL and rng.random() < state_rate_per_day / 2:
                    a, b = STATEFUL[labels[i]]
                    states[i] = b if states[i] == a else a
                if rng.random() < 0.005:
                    present[i] = not present[i]
            visited = rng.choice(len(ROOMS), size=math.ceil(0.6 * len(ROOMS)), replace=False)
            t = t0
            for room in visited:
                idx = [i for i in range(num_objects) if room_of[i] == room]
                for _ in range(frames_per_object):
                    t += 1.0 / 15.0
                    batch = []
                    for i in idx:
                        if not present[i]:
                            absences.append((t, f'object:{i:04d}'))
                            continue
                        noise = rng.normal(0.0, 0.02, 3)
                        attrs = {'color': 'red' if i % 2 else 'blue', 'state': states[i]}
                        obs = ObjectObservation(obs_id, t, labels[i], tuple(pos[i] + noise),
                                                attributes=attrs)
                        obs_id += 1
                        batch.append((f'object:{i:04d}', obs,
                                      ObservedFacts(f'room:{ROOMS[room_of[i]]}')))
                    frames.append((t, batch))
                t += 20.0  # drive to the next room
    return SyntheticWeek(_layout(), frames, absences, num_objects)


def replay_week(week: SyntheticWeek) -> tuple[Consolidator, list[list[Any]]]:
    """Consolidate a synthetic week (sightings and absences) into a fresh memory.

    Returns the consolidator (its `memory` holds the result) and the events of each frame.
    """
    memory = EpisodicMemory()
    memory.set_layout(week.layout, EPOCH_S)
    consolidator = Consolidator(memory)
    absences = iter(week.absences)
    pending_absence = next(absences, None)
    per_frame = []
    for t, batch in week.frames:
        for object_id, obs, facts in batch:
            consolidator.observe(object_id, obs, facts)
        while pending_absence is not None and pending_absence[0] <= t:
            consolidator.observe_absent(pending_absence[1], pending_absence[0], -1)
            pending_absence = next(absences, None)
        per_frame.append(memory.drain())
    return consolidator, per_frame


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench_store(num_objects: int = 200, days: int = 7, seed: int = 0,
                workdir: Path | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON-ready figures."""
    week = synthetic_week(num_objects, days, seed)
    (consolidator, per_frame), consolidate_s = _timed(lambda: replay_week(week))
    memory = consolidator.memory
    num_obs = sum(len(b) for _, b in week.frames)
    num_events = sum(len(e) for e in per_frame)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(workdir or tmp)
        batched_path = root / 'bench_batched.db'
        store = MemoryStore(batched_path, commit_interval_s=1.0)

        def write_batched() -> None:
            for events in per_frame:
                store.write(events)
            store.commit()

        _, write_s = _timed(write_batched)
        store.close()

        each_path = root / 'bench_each.db'
        store_each = MemoryStore(each_path, commit_interval_s=0.0)

        def write_each_frame() -> None:
            for events in per_frame:
                if events:
                    store_each.write(events)

        _, write_each_s = _timed(write_each_frame)
        store_each.close()

        db_bytes = batched_path.stat().st_size
        reopened, reopen_s = _timed(lambda: MemoryStore(batched_path).load())
        equal_after_reopen = reopened == memory

        snap_store = MemoryStore(batched_path)
        snap_store.snapshot(reopened)
        snap_store.close()
        _, reopen_snapshot_s = _timed(lambda: MemoryStore(batched_path).load())

    stats = consolidator.buffer.stats
    return {
        'objects': num_objects,
        'days': days,
        'frames': len(week.frames),
        'observations': num_obs,
        'events': num_events,
        'events_per_frame': num_events / max(len(week.frames), 1),
        'events_per_s': num_events / write_s,
        'events_per_s_commit_each_frame': num_events / write_each_s,
        'observations_per_s': num_obs / consolidate_s,
        'reopen_s': reopen_s,
        'reopen_from_snapshot_s': reopen_snapshot_s,
        'bytes_per_event': db_bytes / max(num_events, 1),
        'db_bytes': db_bytes,
        'equal_after_reopen': equal_after_reopen,
        'buffer_hit_rate': stats.hit_rate,
        'changes_confirmed': stats.confirmed,
        'candidates_dropped': stats.dropped_transient,
    }

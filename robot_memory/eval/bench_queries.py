"""Query latency against memory age: does answering stay fast after weeks of patrols?

Replays the synthetic home of `bench store` (200 objects, two patrols a day, sightings and
absences) through the consolidator for each of several lengths of time, then times every
query type's answer and, where the planner asks for one, its belief, as the median of a few
runs each.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from robot_memory.core.episodic import EpisodicMemory
from robot_memory.core.queries import (
    AttributeOf,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    Relation,
    Retrieve,
    StateOf,
    Target,
    TimeRange,
    Unanswerable,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
)
from robot_memory.core.query_engine import QueryEngine
from robot_memory.eval.bench_store import DAY_S, replay_week, synthetic_week
from robot_memory.exceptions import InvalidInputError

__all__ = ['bench_queries']


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def _queries(memory: EpisodicMemory) -> dict[str, Query]:
    now = memory.now_s
    room = memory.layout_at(now).rooms[0]
    mug = Target('mug')
    yesterday = TimeRange(now - DAY_S, now, 'yesterday')
    return {
        'WhereIs': WhereIs(mug), 'LastSeen': LastSeen(mug), 'IsAt': IsAt(mug, room),
        'WhereWas': WhereWas(mug, yesterday), 'Count': Count(mug, room),
        'StateOf': StateOf(Target('lamp'), state='on'), 'WhatIn': WhatIn(room),
        'Changes': Changes(TimeRange(now - 3 * DAY_S, None, '3 days ago'), room=room),
        'History': History(mug), 'Usual': Usual(mug), 'WhenAppeared': WhenAppeared(mug),
        'Contents': Contents(_furniture(memory)), 'AttributeOf': AttributeOf(mug, 'color'),
        'Exists': Exists(mug, room), 'Duration': Duration(mug, room),
        'Retrieve': Retrieve('where can I make a cup of tea?'),
        'Relation': Relation('near', mug),
        'Unanswerable': Unanswerable('who lives here?', 'about_people'),
    }


def _furniture(memory: EpisodicMemory) -> str:
    """The most common furniture class of a memory (what a contents question asks about)."""
    view = memory.at(memory.now_s)
    labels = sorted(s.label for s in view.objects.values() if s.mobility == 'furniture')
    return max(set(labels), key=labels.count) if labels else 'table'


def bench_queries(days: Sequence[int] = (7, 28), num_objects: int = 200, seed: int = 0,
                  runs: int = 5) -> dict[str, Any]:
    """Median answer and belief time per query type, for memories of each age in `days`."""
    if not days or min(days) < 1 or num_objects < 1 or runs < 1:
        raise InvalidInputError(f'need ages of at least 1 day, objects and runs ≥ 1; got days='
                                f'{tuple(days)}, objects={num_objects}, runs={runs}')
    out: dict[str, Any] = {'objects': num_objects, 'runs': runs, 'memories': []}
    for n_days in days:
        memory = replay_week(synthetic_week(num_objects, n_days, seed))[0].memory
        engine = QueryEngine(memory)
        now = memory.now_s
        answer_ms, belief_ms = {}, {}
        for name, query in _queries(memory).items():
            answer_ms[name] = round(_median_ms(partial(engine.answer, query, now), runs), 3)
            if engine.belief(query, now):
                belief_ms[name] = round(_median_ms(partial(engine.belief, query, now), runs), 3)
        out['memories'].append({
            'days': n_days, 'events': memory.num_events, 'objects': memory.num_objects(),
            'answer_ms': answer_ms, 'belief_ms': belief_ms,
            'answer_ms_max': max(answer_ms.values()),
        })
    return out

"""`robot-memory bench soak`: a month of patrols through memory and its store, sampled daily.

The built-in simulator's household runs for `days` simulated days; every patrol frame (640×480,
as on the robot) goes through the mapping pipeline and the SQLite store of a `MemoryService`,
exactly as memory_node ingests it. After each day the benchmark samples: resident memory
(RSS), store size, events, objects, ingest ms per frame (p95 of the day), question latency
(p95 over a fixed mix of questions asked ten times each) and the time to reopen the file in a
second, read-only store. Growth per day is the least-squares slope from day 3 on (the first
days fill the house). `ingest_ms_p95_ratio` is the p95 of the frames of the last three days
over that of days 3–5. `question_ms_p95_ratio` asks the same questions of the memory as it was
after day 3 (kept aside) and as it is at the end, alternately in one window, so that a
machine that is busier at one time than at another does not count as growth (a day's p95 of a
few milliseconds moves by half from day to day on a shared machine).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory._system import rss_mb
from robot_memory.exceptions import InvalidInputError
from robot_memory.progress import StageBar

__all__ = ['QUESTIONS', 'bench_soak']

# A fixed mix: present, past, counts, changes, habits, contents — what a month makes slower.
QUESTIONS = (
    'Where is the mug?',
    'Where was the backpack yesterday morning?',
    'How many books are in the living room?',
    'What changed in the kitchen since Monday?',
    'Where do the keys usually go?',
    'What is on the kitchen counter?',
    'When did I last see the laptop?',
    'Is the umbrella still in the hallway?',
)
WARMUP_DAYS = 3
QUESTION_REPEATS = 10  # each day: 80 timed answers, so a day's p95 is not one outlier


def _p95_ratio(by_day: list[list[float]]) -> float:
    """p95 of the last three days over p95 of days 3–5 (pooled samples)."""
    start = [v for day in by_day[WARMUP_DAYS - 1:WARMUP_DAYS + 2] for v in day]
    end = [v for day in by_day[-3:] for v in day]
    return round(float(np.percentile(end, 95) / np.percentile(start, 95)), 3)


def _question_ratio(early: Any, early_s: float, late: Any, late_s: float) -> float:
    """p95 of the question mix on the late memory over the early one, asked alternately."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(QUESTION_REPEATS):
        for question in QUESTIONS:
            for k, (service, now) in enumerate(((early, early_s), (late, late_s))):
                t0 = time.perf_counter()
                service.ask(question, now)
                times[k].append((time.perf_counter() - t0) * 1e3)
    return round(float(np.percentile(times[1], 95) / np.percentile(times[0], 95)), 3)


def _slope(days: list[int], values: list[float]) -> float:
    if len(days) < 2:
        return 0.0
    return float(np.polyfit(np.asarray(days, float), np.asarray(values, float), 1)[0])


def bench_soak(days: int = 30, seed: int = 0, world: str = 'apartment',
               png: Path | None = Path('soak.png'), progress: bool = False) -> dict[str, Any]:
    """Run the soak; per-day series, growth per day, ratios, and a PNG of the curves."""
    if days <= WARMUP_DAYS:
        raise InvalidInputError(f'days must be > {WARMUP_DAYS} (growth is measured after '
                                f'day {WARMUP_DAYS}), got {days}')
    from robot_memory.core.store import MemoryStore
    from robot_memory.service import MemoryService, MemoryServiceParams
    from robot_memory.sim.backend import BuiltinSim, SimConfig

    sim = BuiltinSim(SimConfig(world=world, seed=seed))
    series: list[dict[str, Any]] = []
    ingest_by_day: list[list[float]] = []
    start = time.perf_counter()
    with StageBar(progress) as bar, tempfile.TemporaryDirectory() as tmp:
        bar.stage('soak', days)
        db = Path(tmp) / 'soak.db'
        service = MemoryService(MemoryServiceParams(db_path=str(db), use_embeddings=False),
                                layout=sim.scene_graph())
        store = service.store
        assert store is not None
        day3: tuple[Any, float] | None = None  # (the memory after day 3, its time)
        try:
            for day in range(days):
                ingest_ms = []
                for frame in sim.patrol_day(day):
                    t0 = time.perf_counter()
                    service.ingest(frame)
                    ingest_ms.append((time.perf_counter() - t0) * 1e3)
                service.flush()
                question_ms = []
                by_question: dict[str, list[float]] = {q: [] for q in QUESTIONS}
                for _ in range(QUESTION_REPEATS):
                    for question in QUESTIONS:
                        t0 = time.perf_counter()
                        service.ask(question, sim.now_s)
                        question_ms.append((time.perf_counter() - t0) * 1e3)
                        by_question[question].append(question_ms[-1])
                t0 = time.perf_counter()
                with MemoryStore(db, read_only=True) as reader:
                    reader.load()
                reopen_s = time.perf_counter() - t0
                ingest_by_day.append(ingest_ms)
                if day + 1 == WARMUP_DAYS:
                    kept = store.new_memory()
                    kept.load_dict(service.memory.to_dict())
                    day3 = (kept, sim.now_s)
                series.append({
                    'day': day + 1,
                    'rss_mb': round(rss_mb(), 1),
                    'store_mb': round(store.file_bytes() / 1e6, 3),
                    'events': store.last_seq,
                    'objects': service.memory.num_objects(),
                    'frames': len(ingest_ms),
                    'ingest_ms_p95': round(float(np.percentile(ingest_ms, 95)), 2),
                    'question_ms_p95': round(float(np.percentile(question_ms, 95)), 2),
                    'reopen_s': round(reopen_s, 3),
                    'question_ms_median': {q: round(float(np.median(v)), 2)
                                           for q, v in by_question.items()},
                })
                bar.advance(f'day {day + 1}/{days}: {series[-1]["objects"]} objects, '
                            f'{series[-1]["rss_mb"]:.0f} MB')
            assert day3 is not None
            question_ratio = _question_ratio(MemoryService(
                MemoryServiceParams(use_embeddings=False), memory=day3[0]), day3[1],
                service, sim.now_s)
        finally:
            service.close()
    after = [s for s in series if s['day'] >= WARMUP_DAYS]
    days_after = [s['day'] for s in after]
    result = {
        'days': days,
        'seed': seed,
        'world': world,
        'frames': sum(s['frames'] for s in series),
        'wall_s': round(time.perf_counter() - start, 1),
        'rss_mb_per_day': round(_slope(days_after, [s['rss_mb'] for s in after]), 3),
        'store_mb_per_day': round(_slope([s['day'] for s in series],
                                         [s['store_mb'] for s in series]), 3),
        'events_per_day': round(_slope(days_after, [s['events'] for s in after]), 1),
        'question_ms_p95_ratio': question_ratio,
        'ingest_ms_p95_ratio': _p95_ratio(ingest_by_day),
        'reopen_s_per_day': round(_slope(days_after, [s['reopen_s'] for s in after]), 4),
        'targets': {'rss_mb_per_day': 1.0, 'question_ms_p95_ratio': 1.2,
                    'ingest_ms_p95_ratio': 1.2, 'store_mb_per_day': 5.0},
        'series': series,
    }
    if png is not None:
        result['png'] = str(_plot(series, png, f'soak: {days} days, {world} seed {seed}'))
    return result


def _plot(series: list[dict[str, Any]], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    keys = ('rss_mb', 'store_mb', 'objects', 'ingest_ms_p95', 'question_ms_p95', 'reopen_s')
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), constrained_layout=True)
    days = [s['day'] for s in series]
    for ax, key in zip(axes.ravel(), keys, strict=True):
        ax.plot(days, [s[key] for s in series], marker='.')
        ax.set_title(key)
        ax.set_xlabel('simulated day')
        ax.axvline(WARMUP_DAYS, color='grey', linewidth=0.5)
    fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

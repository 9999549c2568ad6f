"""`robot-memory demo`: the main job on the embedded default.

Builds a multi-day memory of a 200-object home from an associated observation stream, saves
it to `demo_out/memory.db`, reopens it, and prints the episodes, the world at two times and
the diff between them, with progress shown while it works.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from robot_memory.core import Consolidator, EpisodicMemory, MemoryStore
from robot_memory.eval.bench_store import EPOCH_S, synthetic_week

__all__ = ['run_demo']


def run_demo(out_dir: Path, days: int = 3, seed: int = 0,
             console: Console | None = None) -> bool:
    """Run the demo; returns whether every check passed."""
    console = console or Console()
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / 'memory.db'
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    week = synthetic_week(num_objects=200, days=days, seed=seed)
    memory = EpisodicMemory()
    memory.set_layout(week.layout, EPOCH_S)
    consolidator = Consolidator(memory)
    absences = sorted(week.absences)
    k = 0
    with MemoryStore(db) as store, Progress(console=console, transient=True) as progress:
        task = progress.add_task('building memory', total=len(week.frames))
        for t, batch in week.frames:
            for object_id, obs, facts in batch:
                consolidator.observe(object_id, obs, facts)
            while k < len(absences) and absences[k][0] <= t:
                consolidator.observe_absent(absences[k][1], absences[k][0], -1)
                k += 1
            store.sync(memory)
            progress.advance(task)
    with MemoryStore(db, create=False) as store:
        reopened = store.load()
    episodes = reopened.instances()
    table = Table(title=f'episodes in {db}')
    for col in ('#', 'when', 'objects seen'):
        table.add_column(col)
    for e in episodes:
        seen = sum(1 for s in reopened.at(e.end_s).objects.values()
                   if e.start_s <= s.last_seen_s <= e.end_s)
        table.add_row(str(e.index), e.label, str(seen))
    console.print(table)
    first, last = episodes[0], episodes[-1]
    diff = reopened.diff(first.end_s, last.end_s)
    summary = diff.summary()
    console.print(f'[bold]{first.label} → {last.label}[/]: '
                  + ', '.join(f'{len(v)} {k}' for k, v in summary.items()))
    checks = {
        'memory reopens identical': reopened == memory,
        'several episodes': len(episodes) >= 2,
        'changes detected': not diff.is_empty(),
    }
    for name, ok in checks.items():
        console.print(f'{"[green]ok[/]" if ok else "[red]FAILED[/]"}  {name}')
    console.print(f'{memory.num_events} events, {db.stat().st_size / 1e6:.2f} MB, '
                  f'{time.perf_counter() - start:.1f} s')
    return all(checks.values())

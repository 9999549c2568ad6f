"""Panels: one evaluation over many worlds and seeds, in parallel, summarised by mean and min.

A figure measured on one seed says how the code does on that seed. Every quality target of this
project is stated on a panel instead: seeds × world kinds, each run in its own process (the
simulator and perception are CPU-bound), reported per run and as `mean`, `min`, `max` and, for
counts, `total` over the runs.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from robot_memory.exceptions import InvalidInputError
from robot_memory.progress import StageBar

__all__ = ['parse_seeds', 'parse_worlds', 'plot_panel', 'run_panel', 'summarize']

WORLD_KINDS = ('apartment', 'house', 'office')


def parse_seeds(text: str) -> list[int]:
    """`'1-10'`, `'3,7,11'` or `'1-3,9'` → the seeds, in order, each once."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(',')):
        if not part:
            continue
        lo, sep, hi = part.partition('-')
        try:
            span = range(int(lo), int(hi) + 1) if sep else range(int(lo), int(lo) + 1)
        except ValueError:
            raise InvalidInputError(
                f'bad seed list {text!r}: use numbers and ranges like 1-10 or 3,7,11') from None
        if not span:
            raise InvalidInputError(f'bad seed range {part!r}: the end is before the start')
        seeds.extend(s for s in span if s not in seeds)
    if not seeds:
        raise InvalidInputError(f'no seeds in {text!r}: use e.g. 1-10 or 3,7,11')
    return seeds


def parse_worlds(text: str) -> list[str]:
    """A comma list of world kinds or YAML spec paths."""
    worlds = [w.strip() for w in str(text).split(',') if w.strip()]
    for w in worlds:
        if w not in WORLD_KINDS and not Path(w).is_file():
            raise InvalidInputError(
                f'unknown world {w!r}; valid: {", ".join(WORLD_KINDS)} or a YAML spec file')
    if not worlds:
        raise InvalidInputError('no world given; valid: ' + ', '.join(WORLD_KINDS))
    return worlds


def _workers(n_jobs: int, workers: int | None) -> int:
    if workers is not None and workers < 1:
        raise InvalidInputError(f'workers must be >= 1, got {workers}')
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (
        os.cpu_count() or 1)
    return max(1, min(n_jobs, workers or cores))


def run_panel(fn: Callable[..., dict[str, Any]], jobs: Sequence[dict[str, Any]],
              workers: int | None = None, progress: bool = False,
              label: str = 'runs') -> list[dict[str, Any]]:
    """Call `fn(**job)` for every job, in worker processes; results in the jobs' order."""
    n = _workers(len(jobs), workers)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with StageBar(progress) as bar:
        bar.stage(label, len(jobs))
        if n == 1:
            for i, job in enumerate(jobs):
                results[i] = fn(**job)
                bar.advance(_done(label, job))
        else:
            # Spawned, not forked: Open3D and torch hold threads a fork would copy mid-state.
            context = multiprocessing.get_context('spawn')
            with ProcessPoolExecutor(n, mp_context=context) as pool:
                futures = {pool.submit(fn, **job): i for i, job in enumerate(jobs)}
                for future in as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    bar.advance(_done(label, jobs[i]))
    return [r for r in results if r is not None]


def _done(label: str, job: dict[str, Any]) -> str:
    """The bar's label once `job` is done: its world and seed."""
    done = ', '.join(f'{k} {v}' for k, v in job.items() if k in ('world', 'seed'))
    return f'{label} ({done} done)'


def summarize(runs: Sequence[dict[str, Any]], keys: Sequence[str],
              counts: Sequence[str] = ()) -> dict[str, dict[str, float | None]]:
    """Mean, min and max of each figure over the runs (None where no run has it); totals of
    the `counts`."""
    out: dict[str, dict[str, float | None]] = {'mean': {}, 'min': {}, 'max': {}, 'total': {}}
    for key in keys:
        values = [float(r[key]) for r in runs
                  if isinstance(r.get(key), int | float) and not math.isnan(float(r[key]))]
        out['mean'][key] = sum(values) / len(values) if values else None
        out['min'][key] = min(values) if values else None
        out['max'][key] = max(values) if values else None
    for key in counts:
        out['total'][key] = sum(int(r.get(key) or 0) for r in runs)
    return out


def plot_panel(runs: Sequence[dict[str, Any]], keys: Sequence[str], path: Path,
               title: str, targets: dict[str, float] | None = None) -> Path:
    """One dot per run and figure, grouped by world, with the mean as a bar; PNG."""
    import matplotlib

    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure

    worlds = list(dict.fromkeys(str(r.get('world', '')) for r in runs))
    fig = Figure(figsize=(2.2 + 2.4 * len(keys), 4.2), layout='constrained')
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    colours = ('tab:blue', 'tab:orange', 'tab:green', 'tab:red', 'tab:purple')
    for ax, key in zip(axes, keys, strict=True):
        every = [float(r[key]) for r in runs if isinstance(r.get(key), int | float)]
        if every and min(every) >= 0.0 and max(every) <= 1.0:
            # Shares: zoom on where the runs are, so a few points of difference show.
            low = min([*every, *([targets[key]] if targets and key in targets else [])])
            ax.set_ylim(max(0.0, low - 0.05), 1.01)
        for w, world in enumerate(worlds):
            values = [float(r[key]) for r in runs
                      if str(r.get('world', '')) == world and r.get(key) is not None]
            if not values:
                continue
            xs = [w + 0.15 * ((i % 5) - 2) / 2 for i in range(len(values))]
            ax.scatter(xs, values, s=14, color=colours[w % len(colours)], zorder=3)
            ax.bar(w, sum(values) / len(values), width=0.6, alpha=0.25,
                   color=colours[w % len(colours)], bottom=0.0)
        if targets and key in targets:
            ax.axhline(targets[key], color='black', linestyle='--', linewidth=0.8)
        ax.set_xticks(range(len(worlds)), [Path(w).stem for w in worlds], rotation=20)
        ax.set_title(key.replace('_', ' '), fontsize=9)
        ax.grid(axis='y', alpha=0.3)
    fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path

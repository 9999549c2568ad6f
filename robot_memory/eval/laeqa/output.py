"""The LA-EQA outputs: the summary per planner, the per-question CSV and the chart."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ['summarise', 'write_chart', 'write_csv']


def summarise(rows: list[dict[str, Any]], planners: tuple[str, ...], n_questions: int,
               parsed_ok: int) -> dict[str, Any]:
    """Return accuracy per planner: overall, by category and type; path, rooms, p95 latency."""
    out: dict[str, Any] = {'questions': n_questions,
                           'parse_coverage': parsed_ok / n_questions if n_questions else 0.0,
                           'planners': {}}
    for name in planners:
        mine = [r for r in rows if r['planner'] == name]
        if not mine:
            continue
        by_cat: dict[str, list[bool]] = defaultdict(list)
        by_type: dict[str, list[bool]] = defaultdict(list)
        for r in mine:
            by_cat[r['category']].append(r['correct'])
            by_type[r['type']].append(r['correct'])
        out['planners'][name] = {
            'accuracy': float(np.mean([r['correct'] for r in mine])),
            'by_category': {k: float(np.mean(v)) for k, v in sorted(by_cat.items())},
            'by_type': {k: float(np.mean(v)) for k, v in sorted(by_type.items())},
            'path_m': float(np.mean([r['path_m'] for r in mine])),
            'rooms_visited': float(np.mean([r['rooms_visited'] for r in mine])),
            'latency_ms_p95': float(np.percentile([r['latency_ms'] for r in mine], 95)),
        }
    return out


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Write one row per question and planner (an empty file when there are none)."""
    if not rows:
        path.write_text('')
        return
    with path.open('w', newline='', encoding='utf-8') as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_chart(summary: dict[str, Any], path: Path) -> None:
    """Draw accuracy by category per planner, and accuracy against path length (PNG)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    planners = list(summary['planners'])
    categories = sorted({c for p in summary['planners'].values() for c in p['by_category']})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(len(planners), 1)
    for i, name in enumerate(planners):
        acc = [summary['planners'][name]['by_category'].get(c, 0.0) for c in categories]
        ax.bar(np.arange(len(categories)) + i * width, acc, width, label=name)
    ax.set_xticks(np.arange(len(categories)) + 0.4 - width / 2, categories, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel('accuracy')
    ax.set_title(f'LA-EQA accuracy by category ({summary["questions"]} questions)')
    ax.legend(fontsize=8)
    for name in planners:
        p = summary['planners'][name]
        ax2.scatter(p['path_m'], p['accuracy'], s=60)
        ax2.annotate(name, (p['path_m'], p['accuracy']), textcoords='offset points',
                     xytext=(5, 5), fontsize=8)
    ax2.set_xlabel('mean path per question (m)')
    ax2.set_ylabel('accuracy')
    ax2.set_title('accuracy against travel')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""HTML report of a run: map, scene graph at two times with their diff, a planner path, QA.

Images are drawn with matplotlib (Agg) and embedded, so `report.html` is one file that opens
anywhere; the PNGs are also written beside it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot_memory.core.episodic import EpisodicMemory, WorldDiff
from robot_memory.core.scene_graph import EdgeKind, SceneGraph

__all__ = ['QARow', 'draw_scene_graph', 'write_report']

_ROOM_COLORS = ('#f4e7d3', '#dfeedd', '#dde7f4', '#f3dde9', '#eeeed8', '#e4ddf2', '#d8efee')


@dataclass(frozen=True, slots=True)
class QARow:
    """One asked question and how it went."""

    question: str
    category: str
    answer: str
    truth: str
    correct: bool
    rooms_visited: int
    confidence: float
    path: tuple[str, ...] = ()


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def draw_scene_graph(graph: SceneGraph, path: Path, title: str,
                     highlight: dict[str, str] | None = None,
                     route: Sequence[str] = ()) -> Path:
    """Draw rooms, places, objects (labelled) and support edges; optionally a place route."""
    from matplotlib.patches import Polygon

    highlight = highlight or {}
    fig = _figure(10, 7)
    ax = fig.add_subplot(1, 1, 1)
    for i, room_id in enumerate(graph.rooms):
        room = graph.get_room(room_id)
        if len(room.polygon_m) >= 3:
            ax.add_patch(Polygon(room.polygon_m, closed=True, alpha=0.8,
                                 facecolor=_ROOM_COLORS[i % len(_ROOM_COLORS)],
                                 edgecolor='#444444'))
            cx, cy = room.centroid_m
            ax.text(cx, cy, room.name.replace('_', ' '), ha='center', va='center',
                    fontsize=8, color='#555555', alpha=0.8)
    for u, v, _ in graph.edges(EdgeKind.TRAVERSABLE):
        if u < v:
            (x0, y0, _), (x1, y1, _) = graph.get_place(u).position_m, graph.get_place(v).position_m
            ax.plot([x0, x1], [y0, y1], color='#9bb7d4', linewidth=0.6, zorder=1)
    for place_id in graph.places:
        x, y, _ = graph.get_place(place_id).position_m
        ax.plot([x], [y], marker='s', markersize=3, color='#1f77b4', zorder=2)
    for u, v, kind in graph.edges():
        if kind in ('supported_by', 'inside'):
            a, b = graph.get_object(u).position_m, graph.get_object(v).position_m
            ax.plot([a[0], b[0]], [a[1], b[1]], color='#777777', linewidth=0.5, zorder=2)
    change_colors: dict[str | None, str] = {
        'added': '#2ca02c', 'moved': '#ff7f0e', 'state_changed': '#9467bd', 'removed': '#d62728'}
    for object_id in graph.objects:
        obj = graph.get_object(object_id)
        x, y, _ = obj.position_m
        change = highlight.get(object_id)
        furniture = obj.mobility != 'movable'
        ax.plot([x], [y], marker='s' if furniture else 'o', markersize=6 if furniture else 4,
                color=change_colors.get(change, '#888888' if furniture else '#333333'),
                zorder=3)
        if not furniture or change:
            ax.annotate(obj.label.replace('_', ' ') + (f' ({obj.state})' if obj.state else ''),
                        (x, y), textcoords='offset points', xytext=(3, 3), fontsize=6,
                        color=change_colors.get(change, '#222222'))
    if len(route) > 1:
        pts = [graph.get_place(p).position_m for p in route if graph.has_node(p)]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color='#d62728', linewidth=2.0,
                marker='o', zorder=4, label='planner path')
        ax.legend(loc='lower right', fontsize=8)
    ax.set_aspect('equal')
    ax.autoscale()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel('x [m]')
    ax.set_ylabel('y [m]')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _diff_rows(memory: EpisodicMemory, diff: WorldDiff) -> list[tuple[str, str, str, str]]:
    rows = []
    for kind, changes in (('added', diff.added), ('removed', diff.removed),
                          ('moved', diff.moved), ('state_changed', diff.state_changed)):
        for object_id in sorted(changes):
            label = memory.history(object_id).label
            facts = changes[object_id]
            if kind in ('moved', 'state_changed'):
                before, after = facts
                detail = (f'{before[1] or "?"} → {after[1] or "?"}' if kind == 'moved'
                          else f'{before[3] or "?"} → {after[3] or "?"}')
            else:
                detail = str(facts[1] or '?')
            rows.append((kind, object_id, label, detail))
    return rows


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.name)}">'


def write_report(out_dir: Path, memory: EpisodicMemory, t1: float, t2: float,
                 rows: Sequence[QARow], map_png: Path | None = None,
                 accuracy_png: Path | None = None, route_question: QARow | None = None,
                 title: str = 'robot_memory report',
                 summary: dict[str, Any] | None = None,
                 viewer: Path | None = None) -> Path:
    """Write `report.html` (and its PNGs) into `out_dir`; returns the HTML path.

    `viewer`: the interactive page of the same memory (`robot-memory view`), linked at the top.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = memory.clock
    diff = memory.diff(t1, t2)
    highlight = {f'object:{k}' if not k.startswith('object:') else k: kind
                 for kind, ids in diff.summary().items() for k in ids}
    g1 = draw_scene_graph(memory.at(t1).scene_graph(), out_dir / 'scene_graph_before.png',
                          f'memory at {clock.label(t1)}')
    g2 = draw_scene_graph(memory.at(t2).scene_graph(), out_dir / 'scene_graph_after.png',
                          f'memory at {clock.label(t2)} (changes coloured)', highlight)
    route_png = None
    if route_question is not None and route_question.path:
        route_png = draw_scene_graph(memory.at(memory.now_s).scene_graph(),
                                     out_dir / 'planner_path.png',
                                     f'planner path: {route_question.question}',
                                     route=route_question.path)
    esc = html.escape
    parts = [f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>',
             '<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}'
             'img{max-width:100%;border:1px solid #ccc}table{border-collapse:collapse;'
             'font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}'
             '.ok{color:#2a7a2a}.bad{color:#b22}</style></head><body>',
             f'<h1>{esc(title)}</h1>']
    if viewer is not None:
        href = esc(viewer.name if viewer.parent == out_dir else viewer.as_uri())
        parts.append(f'<p><a id="viewer-link" href="{href}">Open the interactive viewer</a>: '
                     'the map at any time of any episode, what changed between two times, the '
                     "robot's path and the scene graph.</p>")
    if summary:
        parts.append('<table>' + ''.join(
            f'<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>' for k, v in summary.items())
            + '</table>')
    if map_png is not None and map_png.exists():
        parts += ["<h2>Top-down map and the robot's path</h2>", _img(map_png)]
    parts += [f'<h2>Scene graph: {esc(clock.label(t1))} and {esc(clock.label(t2))}</h2>',
              _img(g1), _img(g2), '<h3>What changed between them</h3><table>',
              '<tr><th>change</th><th>object</th><th>class</th><th>detail</th></tr>']
    parts += [f'<tr><td>{esc(k)}</td><td>{esc(o)}</td><td>{esc(lab)}</td><td>{esc(d)}</td></tr>'
              for k, o, lab, d in _diff_rows(memory, diff)]
    parts.append('</table>')
    if route_png is not None:
        parts += ['<h2>Going to look: a present-tense question</h2>',
                  f'<p>{esc(route_question.question)} → {esc(route_question.answer)}</p>',
                  _img(route_png)]
    if accuracy_png is not None and accuracy_png.exists():
        parts += ['<h2>Accuracy</h2>', _img(accuracy_png)]
    parts += ['<h2>Questions</h2><table><tr><th>question</th><th>category</th><th>answer</th>'
              '<th>truth</th><th>correct</th><th>rooms visited</th><th>confidence</th></tr>']
    for r in rows:
        cls = 'ok' if r.correct else 'bad'
        parts.append(f'<tr><td>{esc(r.question)}</td><td>{esc(r.category)}</td>'
                     f'<td>{esc(r.answer)}</td><td>{esc(r.truth)}</td>'
                     f'<td class="{cls}">{"yes" if r.correct else "no"}</td>'
                     f'<td>{r.rooms_visited}</td><td>{r.confidence:.2f}</td></tr>')
    parts.append('</table></body></html>')
    path = out_dir / 'report.html'
    path.write_text('\n'.join(parts), encoding='utf-8')
    return path

"""HTML report of a run: map, scene graph at two times with their diff, a planner path, QA.

Images are drawn with matplotlib (Agg) and embedded, so `report.html` is one file that opens
anywhere; the PNGs are also written beside it.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot_memory.core.clock import MemoryClock
from robot_memory.core.episodic import EpisodicMemory, WorldDiff
from robot_memory.core.object_history import ObjectFacts
from robot_memory.core.scene_graph import EdgeKind, SceneGraph

__all__ = ['QARow', 'change_rows', 'draw_scene_graph', 'object_name', 'when_text', 'write_report']

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


def when_text(clock: MemoryClock, stamp_s: float) -> str:
    """A time as people say it: weekday and clock ('Monday 08:00')."""
    return f'{clock.weekday(stamp_s)} {clock.local(stamp_s):%H:%M}'


def _room_name(room_id: Any) -> str:
    return str(room_id or '').split(':', 1)[-1].replace('_', ' ')


def _support_label(memory: EpisodicMemory, facts: ObjectFacts) -> str:
    """'the counter', or '' where memory knows no support (facts: position, room, support,
    state)."""
    support = facts[2]
    if not support or not memory.has_object(support[1]):
        return ''
    return f'the {memory.history(support[1]).label.replace("_", " ")}'


def _support_phrase(memory: EpisodicMemory, facts: ObjectFacts) -> str:
    """'on the counter', 'inside the fridge', or ''."""
    label = _support_label(memory, facts)
    return f'{facts[2][0]} {label}' if label else ''


def _where(memory: EpisodicMemory, facts: ObjectFacts) -> str:
    """'on the counter in the kitchen', 'in the kitchen', or '' where nothing is known."""
    room = _room_name(facts[1])
    return ' '.join(p for p in (_support_phrase(memory, facts),
                                f'in the {room}' if room else '') if p)


def object_name(memory: EpisodicMemory, object_id: str, facts: ObjectFacts | None = None
                ) -> str:
    """An object as a person names it: 'the red mug on the counter in the kitchen'."""
    history = memory.history(object_id)
    name = ' '.join(w for w in (history.color, history.label.replace('_', ' ')) if w)
    where = _where(memory, facts) if facts is not None else ''
    return f'the {name} {where}' if where else f'the {name}'


def _move_text(memory: EpisodicMemory, before: ObjectFacts, after: ObjectFacts) -> str:
    """A move in words; one within a room is said as such."""
    if before[1] and before[1] == after[1]:
        room = _room_name(after[1])
        old, new = _support_label(memory, before), _support_label(memory, after)
        gap = ''
        if before[0] is not None and after[0] is not None:
            gap = f' ({math.dist(before[0][:2], after[0][:2]):.1f} m)'
        if old != new:
            return (f'within the {room}, from {old or "somewhere else"} to '
                    f'{new or "somewhere else"}{gap}')
        still = f', still {_support_phrase(memory, after)}' if new else ''
        return f'within the {room}{still}{gap}'
    return f'from {_place(memory, before)} to {_place(memory, after)}'


def _place(memory: EpisodicMemory, facts: ObjectFacts) -> str:
    """'the shoe rack in the hallway', 'the hallway' or 'an unknown place'."""
    room = _room_name(facts[1])
    support = _support_label(memory, facts)
    if support and room:
        return f'{support} in the {room}'
    return support or (f'the {room}' if room else 'an unknown place')


def change_rows(memory: EpisodicMemory, diff: WorldDiff
                ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(changes in the home, corrections of memory): (kind, object, detail) each, in words.

    A duplicate merged into the object it was (`EpisodicMemory.merge`) leaves the world view
    like a removal; it is memory correcting itself, not something people did, and is listed
    apart.
    """
    home: list[tuple[str, str, str]] = []
    corrections: list[tuple[str, str, str]] = []
    for object_id in sorted(diff.added):
        facts = diff.added[object_id]
        home.append(('new to memory', object_name(memory, object_id, facts),
                     f'first seen {_since(memory, object_id)}'))
    for object_id in sorted(diff.removed):
        facts = diff.removed[object_id]
        history = memory.history(object_id)
        if history.merged_into is not None and history.merged_s is not None \
                and diff.t1 < history.merged_s <= diff.t2:
            kept = memory.resolve(object_id)
            corrections.append((
                'duplicate merged', object_name(memory, object_id, facts),
                f'the same as {object_name(memory, kept)}, counted twice; merged '
                f'{when_text(memory.clock, history.merged_s)}'))
            continue
        home.append(('gone', object_name(memory, object_id, facts),
                     'no longer where memory had it'))
    for object_id in sorted(diff.moved):
        before, after = diff.moved[object_id]
        home.append(('moved', object_name(memory, object_id), _move_text(memory, before, after)))
    for object_id in sorted(diff.state_changed):
        before, after = diff.state_changed[object_id]
        home.append(('state changed', object_name(memory, object_id, after),
                     f'from {before[3] or "unknown"} to {after[3] or "unknown"}'))
    return home, corrections


def _since(memory: EpisodicMemory, object_id: str) -> str:
    return when_text(memory.clock, memory.history(object_id).created_s)


def _change_table(rows: Sequence[tuple[str, str, str]], empty: str) -> str:
    esc = html.escape
    if not rows:
        return f'<p>{esc(empty)}</p>'
    return ('<table><tr><th>change</th><th>object</th><th>detail</th></tr>'
            + ''.join(f'<tr><td>{esc(k)}</td><td>{esc(o)}</td><td>{esc(d)}</td></tr>'
                      for k, o, d in rows) + '</table>')


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
    home, corrections = change_rows(memory, diff)
    parts += [f'<h2>Scene graph: {esc(clock.label(t1))} ({esc(when_text(clock, t1))}) and '
              f'{esc(clock.label(t2))} ({esc(when_text(clock, t2))})</h2>',
              _img(g1), _img(g2), '<h3>What changed in the home between them</h3>',
              _change_table(home, 'Nothing changed that memory saw.')]
    if corrections:
        parts += ['<h3>Corrections to memory (not changes in the home)</h3>',
                  '<p>Objects memory had counted twice and merged once it saw they were one.</p>',
                  _change_table(corrections, '')]
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

"""`robot-memory demo`: the main job on the embedded default, through the ROS 2 node graph.

1. Bring up sim_bridge_node + memory_node + planner_node in one process (real DDS).
2. The bridge patrols the built-in apartment for `days` simulated days; memory_node builds
   the episodic scene graph from the camera topics and saves it to `demo_out/memory.db`.
   Then a day passes without patrols (people keep moving things).
3. At 17:00 that day, about twenty questions of every category, generated from the
   simulator's ground truth, go to the planner node on `question`; it answers from memory and,
   where looking pays, sends the robot (`goal_pose`) before answering on `answer`.
4. A table of the answers is printed, and `demo_out/report.html` is written: the top-down
   map, the scene graph at two times with the diff, the planner's path for a present-tense
   question, and the accuracy chart; it links `demo_out/memory.html`, the interactive viewer
   of the demo's memory (`robot-memory view`).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from robot_memory.core.clock import MemoryClock
from robot_memory.eval.laeqa import ASKED_HOUR, EvalQuestion, generate_questions, is_correct
from robot_memory.eval.report import QARow, when_text, write_report
from robot_memory.progress import StageBar, Working
from robot_memory.sim.clock import DAY_S, SIM_EPOCH_S

__all__ = ['run_demo']

CATEGORY_ORDER = ('present', 'past', 'multi_past', 'past_present', 'past_present_future')


@dataclass(slots=True)
class _State:
    """What the question generator needs to know of the run."""

    sim: Any
    seen_gt: dict[str, list[float]] = field(default_factory=dict)


def _pick(questions: list[EvalQuestion], n: int) -> list[EvalQuestion]:
    """About `n` questions, spread over types (round robin)."""
    by_type: dict[str, list[EvalQuestion]] = defaultdict(list)
    for q in questions:
        by_type[q.qtype].append(q)
    out: list[EvalQuestion] = []
    while len(out) < n and any(by_type.values()):
        for qtype in sorted(by_type):
            if by_type[qtype] and len(out) < n:
                out.append(by_type[qtype].pop(0))
    return out


def _truth_text(q: EvalQuestion, clock: MemoryClock) -> str:
    e = q.expected
    if 'room' in e:
        room: str = e['room']
        return room.replace('_', ' ') + (f' ({e["support"]})' if e.get('support') else '')
    if 'count' in e:
        return str(e['count'])
    if 'yes' in e:
        return 'yes' if e['yes'] else 'no'
    if 'labels' in e:
        return ', '.join(label.replace('_', ' ') for label in e['labels']) or 'nothing'
    if 'color' in e or 'state' in e:
        return str(e.get('color') or e.get('state'))
    if 'since_s' in e:
        return (f'since {when_text(clock, e["since_s"])} (the robot could know it by '
                f'{when_text(clock, e["known_by_s"])})')
    return str(e.get('day', e))


def _accuracy_chart(rows: list[QARow], path: Path) -> Path:
    import matplotlib

    matplotlib.use('Agg', force=False)
    from matplotlib.figure import Figure

    cats = [c for c in CATEGORY_ORDER if any(r.category == c for r in rows)]
    acc = [sum(r.correct for r in rows if r.category == c) /
           max(sum(1 for r in rows if r.category == c), 1) for c in cats]
    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(cats, acc, color='#4c78a8')
    for i, a in enumerate(acc):
        ax.text(i, a + 0.02, f'{a:.2f}', ha='center', fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel('accuracy')
    ax.set_title(f'demo: {sum(r.correct for r in rows)}/{len(rows)} answers correct')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def run_demo(out_dir: Path, days: int = 3, seed: int = 0, questions: int = 20,
             console: Console | None = None, frame_rate_hz: float = 20.0,
             detector: str = '') -> bool:
    """Run the demo; returns whether everything worked (wrong answers are not failures).

    `detector` (a preset or YAML of error rates) makes the simulated detector err.
    """
    from robot_memory.language.phrasings import BUILTIN_PHRASINGS
    from robot_memory.ros.bringup import Bringup
    from robot_memory.ros.paths import share_file
    from robot_memory.sim.topdown import save_topdown
    from robot_memory.viewer import write_view

    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / 'memory.db'
    for stale in (db, Path(f'{db}-wal'), Path(f'{db}-shm')):
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    failures: list[str] = []
    domain_id = int(os.environ.get('ROS_DOMAIN_ID', 60 + os.getpid() % 100))
    overrides: dict[str, dict[str, Any]] = {
        'sim_bridge_node': {'mode': 'patrol', 'patrol_days': days, 'seed': seed,
                            'frame_rate_hz': frame_rate_hz, 'detector': detector},
        # Absolute: memory_node puts a relative db_path under $ROS_HOME/robot_memory.
        'memory_node': {'db_path': str(db.resolve())},
    }
    graph = Bringup('builtin', [share_file('config', 'robot_memory.yaml'),
                                share_file('config', 'sim.yaml')], overrides,
                    domain_id=domain_id, quiet=True)
    rows: list[QARow] = []
    graph.start()
    try:
        with Working(f'patrolling {days} simulated days through ROS 2') as status:
            ok = graph.wait_for_patrol(timeout_s=240.0 * days, progress=status.update)
        if not ok:
            failures.append('the patrol did not finish in time')
        assert graph.bridge is not None  # the 'builtin' bringup has a bridge
        sim = graph.bridge.sim
        memory = graph.memory.service.memory
        state = _State(sim, sim.visibility_log())
        # Ask the next afternoon, before the evening patrol: people have been moving things
        # for a day since the robot last looked, so some answers need a look.
        asked_s = SIM_EPOCH_S + days * DAY_S + ASKED_HOUR * 3600.0
        if sim.now_s < asked_s:
            sim.step(asked_s - sim.now_s)
            time.sleep(1.0)  # the bridge publishes the new /clock on its idle tick
        pool = generate_questions(state, asked_s, BUILTIN_PHRASINGS, per_type=6, seed=seed)
        chosen = _pick(pool, questions)
        with StageBar(True) as bar:
            bar.stage('asking the planner node', len(chosen))
            for q in chosen:
                reply = graph.ask(q.text, timeout_s=120.0)
                bar.advance()
                if reply is None:
                    failures.append(f'no answer to {q.text!r}')
                    rows.append(QARow(q.text, str(q.category), '(no answer)',
                                      _truth_text(q, memory.clock), False, 0, 0.0))
                    continue
                value = reply.get('value')
                rows.append(QARow(
                    q.text, str(q.category), str(reply.get('answer') or reply.get('error')),
                    _truth_text(q, memory.clock), is_correct(q, value),
                    int(reply.get('num_rooms_visited') or 0),
                    float(reply.get('confidence') or 0.0), tuple(reply.get('path') or ())))
        table = Table(title=f'{len(rows)} questions through the planner node')
        for col in ('question', 'answer', 'truth', 'correct', 'rooms visited', 'confidence'):
            table.add_column(col, overflow='fold')
        for r in rows:
            table.add_row(r.question, r.answer, r.truth,
                          '[green]yes[/]' if r.correct else '[red]no[/]',
                          str(r.rooms_visited), f'{r.confidence:.2f}')
        console.print(table)
        episodes = memory.instances()
        map_png = save_topdown(sim.world, out_dir / 'map.png', sim.truth.at(sim.now_s - 1e-3),
                               [(x, y) for _, x, y in sim.trail],
                               title=f'apartment (seed {seed}) after {days} days')
        chart = _accuracy_chart(rows, out_dir / 'accuracy.png')
        route = next((r for r in rows if r.category == 'present' and len(r.path) > 1), None)
        route = route or next((r for r in rows if r.path), None)
        correct = sum(r.correct for r in rows)
        summary = {
            'simulated days': days, 'frames ingested':
                graph.memory.stats()['frames']['ingested'],
            'objects in memory': memory.num_objects(),
            'episodes': ', '.join(e.label for e in episodes),
            'answers correct': f'{correct}/{len(rows)}',
            'memory file': str(db),
        }
        t1 = episodes[0].end_s if episodes else memory.now_s
        t2 = episodes[-1].end_s if episodes else memory.now_s
        viewer = write_view(memory, out_dir / 'memory.html',
                            title=f'robot_memory demo: {days} days in the built-in apartment')
        report = write_report(out_dir, memory, t1, t2, rows, map_png, chart, route,
                              f'robot_memory demo: {days} days in the built-in apartment',
                              summary, viewer)
    finally:
        graph.stop()
    wall = time.perf_counter() - start
    console.print(f'{correct}/{len(rows)} answers correct; report: {report}; {wall:.0f} s')
    for failure in failures:
        console.print(f'[red]FAILED[/] {failure}')
    if not rows:
        failures.append('no question was asked')
    return not failures

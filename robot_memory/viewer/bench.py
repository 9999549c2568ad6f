"""`robot-memory bench view`: the viewer page's size, load time and slider step in Chromium.

Two memories: the demo's (a memory file, or the same three days in the built-in apartment
built here without ROS) and a month of a 500-object home (the store benchmark's synthetic
household, two patrols a day). Times come from the page itself (`performance.now()`):
`load_ms` from navigation start to the first full drawing, `slider_step_ms` per step of the
slider over every stop (script, style and layout of the new stop), `slider_jump_ms` for jumps
between random stops, and `slider_frame_ms` until the new stop is painted (the next
animation frame and the task after it; frames come at 60 Hz, so this includes up to 16.7 ms
of waiting for the frame).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core import EpisodicMemory, MemoryStore
from robot_memory.viewer.browser import headless_chromium
from robot_memory.viewer.data import view_data
from robot_memory.viewer.page import render_page

__all__ = ['bench_view', 'demo_memory', 'month_memory']

_STEPS = """  // time each move of the slider to the stops given

const slider = document.getElementById('time'), out = [];
for (const k of arguments[0]) {
  const t0 = performance.now();
  slider.value = String(k);
  slider.dispatchEvent(new Event('input'));
  void document.body.offsetHeight;
  out.push(performance.now() - t0);
}
return out;
"""

_FRAMES = """
const done = arguments[arguments.length - 1], slider = document.getElementById('time');
const ks = arguments[0], out = [];
function next(i) {
  if (i >= ks.length) { done(out); return; }
  const t0 = performance.now();
  slider.value = String(ks[i]);
  slider.dispatchEvent(new Event('input'));
  requestAnimationFrame(() => setTimeout(() => {
    out.push(performance.now() - t0); next(i + 1); }, 0));
}
next(0);
"""


def demo_memory(days: int = 3, seed: int = 0) -> EpisodicMemory:
    """The demo's memory without ROS: `days` of patrols of the built-in apartment."""
    from robot_memory.eval.laeqa import patrol

    return patrol(seed, days, 'apartment').memory


def month_memory(objects: int = 500, days: int = 30, seed: int = 0) -> EpisodicMemory:
    """A month of a home with `objects` objects, two patrols a day (synthetic observations)."""
    from robot_memory.eval.bench_store import replay_week, synthetic_week

    consolidator, _ = replay_week(synthetic_week(objects, days, seed))
    return consolidator.memory


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else 0.0


def _measure(memory: EpisodicMemory, name: str, loads: int, workdir: Path,
             driver: Any) -> dict[str, Any]:
    start = time.perf_counter()
    data = view_data(memory, title=name)
    page = workdir / f'{name}.html'
    page.write_text(render_page(data), encoding='utf-8')
    build_s = time.perf_counter() - start
    load_ms = []
    for _ in range(loads):
        driver.get(page.as_uri())
        load_ms.append(driver.execute_script('return window.robotMemoryViewer.readyMs'))
    n = len(data['stops'])
    steps = driver.execute_script(_STEPS, list(range(n)))
    rng = np.random.default_rng(0)
    jumps = driver.execute_script(_STEPS, [int(k) for k in rng.integers(0, max(n, 1), 50)])
    frames = driver.execute_async_script(
        _FRAMES, [int(k) for k in rng.integers(0, max(n, 1), 20)])
    return {
        'memory': name,
        'objects': len(data['objects']),
        'episodes': len(data['episodes']),
        'stops': n,
        'page_bytes': page.stat().st_size,
        'build_s': round(build_s, 3),
        'load_ms': round(statistics.median(load_ms), 1),
        'slider_step_ms_p50': _pct(steps, 50),
        'slider_step_ms_p95': _pct(steps, 95),
        'slider_step_ms_max': _pct(steps, 100),
        'slider_jump_ms_p95': _pct(jumps, 95),
        'slider_frame_ms_p50': _pct(frames, 50),
    }


def bench_view(db: Path | None = None, objects: int = 500, days: int = 30, seed: int = 0,
               loads: int = 3, progress: Callable[[str], None] | None = None
               ) -> dict[str, Any]:
    """Measure the page of the demo memory (`db`, or built here) and of a month's memory."""
    note = progress or (lambda _: None)
    note('building the demo memory' if db is None else f'loading {db}')
    if db is None:
        demo = demo_memory()
    else:
        with MemoryStore(db, read_only=True) as store:
            demo = store.load()
    note(f'building a {days}-day, {objects}-object memory')
    month = month_memory(objects, days, seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix='robot_memory-bench-view-') as tmp, \
            headless_chromium() as driver:
        version = driver.capabilities.get('browserVersion', '')
        for name, memory in (('demo', demo), (f'{days}d_{objects}obj', month)):
            note(f'measuring the {name} page in Chromium')
            runs.append(_measure(memory, name, loads, Path(tmp), driver))
    return {'browser': f'Chromium {version}', 'runs': runs}

"""`robot-memory bench view` and `bench serve`: the viewer page in Chromium, and the server.

Two memories: the demo's (a memory file, or the same three days in the built-in apartment
built here without ROS) and a month of a 500-object home (the store benchmark's synthetic
household, two patrols a day). Times come from the page itself (`performance.now()`):
`load_ms` from navigation start to the first full drawing, `slider_step_ms` per step of the
slider over every stop (script, style and layout of the new stop), `slider_jump_ms` for jumps
between random stops, and `slider_frame_ms` until the new stop is painted (the next
animation frame and the task after it; frames come at 60 Hz, so this includes up to 16.7 ms
of waiting for the frame).

`bench serve` runs `serve` in a child process on the demo's memory (or a memory file) and
sends it what the red team sent (issue #29, rows 14 and 15): `asks` questions at once (how
many were answered, how many refused with 503, their latencies), then `slow_clients`
connections that each send one byte and stall (the server's threads, and how soon a request
sent behind them is answered). The child's thread count and resident memory are sampled from
`/proc` every 10 ms throughout.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core import EpisodicMemory, MemoryStore
from robot_memory.viewer.browser import headless_chromium
from robot_memory.viewer.data import view_data
from robot_memory.viewer.page import render_page

__all__ = ['bench_serve', 'bench_view', 'demo_memory', 'month_memory']

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


# The server under test, in its own process so that its threads and memory are its own. The
# per-client rate limit is lifted: every request comes from 127.0.0.1 and the queue is measured.
_SERVE = """
import json, sys
from robot_memory.viewer.server import MemoryServer
server = MemoryServer(sys.argv[1], port=0, embeddings=False, asks_per_s=1e6, ask_burst=10**6)
print(server.url, flush=True)
server.serve_forever()
"""


class _Sampler:
    """The peak thread count and resident memory of a process, read from /proc."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f'/proc/{pid}/status')
        self.threads = self.rss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> tuple[int, int]:
        """The process's (threads, resident KiB) now."""
        fields = dict(re.findall(r'^(\w+):\s+(\d+)', self.path.read_text(), re.M))
        return int(fields['Threads']), int(fields['VmRSS'])

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            threads, rss = self.read()
            self.threads, self.rss_kib = max(self.threads, threads), max(self.rss_kib, rss)

    @contextmanager
    def sampling(self) -> Iterator[_Sampler]:
        """Sample while the block runs."""
        self.threads, self.rss_kib = self.read()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def _call(port: int, method: str, path: str, body: bytes | None = None,
          timeout_s: float = 60.0) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one request; status 0 when the connection failed."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout_s)
    try:
        connection.request(method, path, body, {'Content-Type': 'application/json'})
        reply = connection.getresponse()
        status, data = reply.status, reply.read()
    except OSError:
        status, data = 0, b''
    finally:
        connection.close()
    return status, data, time.perf_counter() - start


def _ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else 0.0


def _parallel_asks(port: int, questions: list[str], asks: int, sampler: _Sampler
                   ) -> dict[str, Any]:
    bodies = [json.dumps({'question': questions[i % len(questions)]}).encode()
              for i in range(asks)]
    with sampler.sampling(), ThreadPoolExecutor(asks) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda body: _call(port, 'POST', '/api/ask', body), bodies))
        wall_s = time.perf_counter() - start
    seconds: dict[int, list[float]] = {}
    for status, _, s in results:
        seconds.setdefault(status, []).append(s)
    answered, refused = seconds.get(200, []), seconds.get(503, [])
    return {'asks': asks, 'answered': len(answered), 'refused_503': len(refused),
            'other': {str(k): len(v) for k, v in seconds.items() if k not in (200, 503)},
            'answered_ms_p50': _ms(answered, 50), 'answered_ms_p95': _ms(answered, 95),
            'answered_ms_max': _ms(answered, 100), 'refused_ms_p95': _ms(refused, 95),
            'all_ms_max': _ms([s for _, _, s in results], 100), 'wall_s': round(wall_s, 2),
            'server_threads_peak': sampler.threads,
            'server_rss_mib_peak': round(sampler.rss_kib / 1024, 1)}


def _slow_clients(port: int, clients: int, sampler: _Sampler) -> dict[str, Any]:
    slow: list[socket.socket] = []
    with sampler.sampling():
        start = time.perf_counter()
        try:
            for _ in range(clients):
                sock = socket.create_connection(('127.0.0.1', port), timeout=30)
                sock.sendall(b'G')
                slow.append(sock)
            opened_s = time.perf_counter() - start
            # Accepted after all of them: its answer says how the server treats a newcomer.
            behind, _, behind_s = _call(port, 'GET', '/api/version')
        finally:
            for sock in slow:
                sock.close()
        after, _, after_s = _call(port, 'GET', '/api/version')
    return {'slow_clients': clients, 'opened_s': round(opened_s, 2),
            'request_behind_them': {'status': behind, 'ms': round(behind_s * 1000, 1)},
            'request_after_them': {'status': after, 'ms': round(after_s * 1000, 1)},
            'server_threads_peak': sampler.threads,
            'server_rss_mib_peak': round(sampler.rss_kib / 1024, 1)}


def bench_serve(db: Path | None = None, asks: int = 200, slow_clients: int = 1000,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Parallel asks and slow clients against `serve` on the demo's memory (or `db`)."""
    note = progress or (lambda _: None)
    name = 'demo' if db is None else str(db)
    with tempfile.TemporaryDirectory(prefix='robot_memory-bench-serve-') as tmp:
        if db is None:
            note('building the demo memory')
            db = Path(tmp) / 'memory.db'
            with MemoryStore(db) as store:
                store.sync(demo_memory())
        note(f'serving {db}')
        child = subprocess.Popen([sys.executable, '-c', _SERVE, str(db)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            url = child.stdout.readline().strip() if child.stdout else ''
            port = int(url.rstrip('/').rsplit(':', 1)[1])
            sampler = _Sampler(child.pid)
            idle_threads, idle_rss = sampler.read()
            _, view, _ = _call(port, 'GET', '/api/view')
            labels = sorted({o['label'] for o in json.loads(view)['objects']})
            questions = [f'Where is the {label}?' for label in labels]
            _call(port, 'POST', '/api/ask', json.dumps({'question': questions[0]}).encode())
            note(f'{asks} asks at once')
            asked = _parallel_asks(port, questions, asks, sampler)
            note(f'{slow_clients} slow clients')
            stalled = _slow_clients(port, slow_clients, sampler)
        finally:
            child.terminate()
            child.wait(30)
    return {'memory': name,
            'server_idle': {'threads': idle_threads, 'rss_mib': round(idle_rss / 1024, 1)},
            'parallel_asks': asked, 'slow_clients': stalled}

"""`robot-memory bench fleet`: many robot processes replicating into one PostgreSQL server.

Each robot is a process of its own, as on a real fleet, logging in under its own role. It
replays a week of patrols (the store benchmark's synthetic household, `objects` objects, two
patrols a day; five different weeks shared round-robin) in two ways, each robot count run
twice on an empty table:

- `replay`: the week is already in the robot's SQLite file (mapped earlier, or while the
  server was away); at the start every robot connects and ships it concurrently. The rate at
  which the server takes all robots' events is `events_per_s`.
- `live`: every robot maps the week into its file as fast as it can, committing every 0.2 s,
  while its replicator ships every 0.05 s. `replication_lag_s_p95` runs from a local commit to
  the server's acknowledgement of it, `end_to_end_events_per_s` is the acknowledged rate.
  Here the robots' own mapping and the server share this machine's cores (two here), which
  a real fleet does not: it is a floor, not the server's rate.

Then, on the replayed events: `question_ms_p50/p95` for fleet questions on the merged view
(parse and answer; building the view from the server is `view_build_s`, a pull round with
nothing new `pull_ms_p50`), and `db_mb`, the events table with its indexes. Without `dsn` a
throw-away local server is started and stopped; with one, it must be an administrator's (it
creates the robots' roles).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robot_memory.core.events import event_to_record
from robot_memory.fleet.schema import add_robot, connect, init_server

__all__ = ['bench_fleet', 'robot_main']

_LOGS = 5
_QUESTIONS = ('Where is the {label}?', 'How many {label}s are there?',
              'Is there a {label} in the kitchen?', 'When did you last see the {label}?')


def _write_logs(folder: Path, objects: int, days: int) -> list[Path]:
    from robot_memory.eval.bench_store import replay_week, synthetic_week

    paths = []
    for seed in range(_LOGS):
        _, per_frame = replay_week(synthetic_week(objects, days, seed))
        path = folder / f'week{seed}.jsonl'
        with path.open('w', encoding='utf-8') as fh:
            for events in per_frame:
                fh.write(json.dumps([event_to_record(e) for e in events]) + '\n')
        paths.append(path)
    return paths


def robot_main(argv: Sequence[str] | None = None) -> None:
    """One robot of the benchmark (a process of its own): map, replicate, report."""
    import argparse
    import threading

    from robot_memory.core import MemoryStore
    from robot_memory.core.events import event_from_record
    from robot_memory.fleet.replicator import Replicator

    parser = argparse.ArgumentParser()
    for name in ('--robot-id', '--log', '--db', '--go', '--result', '--mode'):
        parser.add_argument(name, required=True)
    args = parser.parse_args(argv)
    frames = [[event_from_record(r) for r in json.loads(line)]
              for line in Path(args.log).read_text(encoding='utf-8').splitlines()]
    commits: list[tuple[int, float]] = []
    store = MemoryStore(args.db, commit_interval_s=0.2,
                        on_commit=lambda seq: commits.append((seq, time.time())))
    replicator = Replicator(args.db, os.environ['ROBOT_MEMORY_FLEET_DSN'], args.robot_id,
                            retry_s=0.2, max_retry_s=1.0)
    done = threading.Event()

    def ship() -> None:
        while True:
            replicator.sync()
            if done.is_set() and replicator.stats.acked_seq >= store.last_seq:
                return
            time.sleep(0.05)

    if args.mode == 'replay':  # the week was mapped before: its log waits to be shipped
        for events in frames:
            store.write(events)
        store.commit()
        commits.clear()
    replicator.local_seq()  # open the file and connect (once per robot) before the clock
    replicator.connect()
    Path(f'{args.result}.ready').touch()
    while not Path(args.go).exists():
        time.sleep(0.01)
    shipper = threading.Thread(target=ship, daemon=True)
    start = time.time()
    shipper.start()
    if args.mode == 'live':
        for events in frames:
            store.write(events)
        store.commit()
    done.set()
    shipper.join(timeout=600)
    acks = replicator.stats.ack_times
    lags = []
    j = 0
    for seq, t in commits:
        while j < len(acks) and acks[j][0] < seq:
            j += 1
        if j < len(acks):
            lags.append(acks[j][1] - t)
    Path(args.result).write_text(json.dumps({
        'events': store.last_seq, 'acked': replicator.stats.acked_seq, 'start': start,
        'last_ack': acks[-1][1] if acks else start, 'lags': lags,
        'failures': replicator.stats.failures}))
    store.close()
    replicator.close()


def _run(n: int, admin_dsn: str, dsn_for: Callable[[str, str], str], logs: list[Path],
         folder: Path, tag: str, mode: str) -> dict[str, Any]:
    robots = []
    for i in range(n):
        robot_id = f'{tag}_{i:03d}'
        password = secrets.token_urlsafe(16)
        add_robot(admin_dsn, robot_id, password)
        robots.append((robot_id, dsn_for(f'robot_{robot_id}', password)))
    go = folder / f'{tag}.go'
    processes = []
    for i, (robot_id, dsn) in enumerate(robots):
        result = folder / f'{robot_id}.json'
        processes.append((result, subprocess.Popen(
            [sys.executable, '-c', 'import sys; from robot_memory.fleet.bench import '
             'robot_main; robot_main(sys.argv[1:])', '--robot-id', robot_id,
             '--log', str(logs[i % len(logs)]), '--db', str(folder / f'{robot_id}.db'),
             '--go', str(go), '--result', str(result), '--mode', mode],
            env={**os.environ, 'ROBOT_MEMORY_FLEET_DSN': dsn},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
    deadline = time.monotonic() + 600
    while not all(Path(f'{r}.ready').exists() for r, _ in processes):
        if time.monotonic() > deadline or any(p.poll() is not None for _, p in processes):
            raise RuntimeError('robot processes did not start: ' + ' '.join(
                p.stderr.read().decode()[-500:] for _, p in processes if p.poll()))
        time.sleep(0.05)
    go.touch()
    for result, process in processes:
        if process.wait(timeout=900) != 0:
            raise RuntimeError(f'{result.stem} failed: {process.stderr.read().decode()[-800:]}')
    results = [json.loads(r.read_text()) for r, _ in processes]
    events = sum(r['acked'] for r in results)
    window = max(r['last_ack'] for r in results) - min(r['start'] for r in results)
    lags = [lag for r in results for lag in r['lags']]
    return {'events': events, 'lost': sum(r['events'] - r['acked'] for r in results),
            'events_per_s': round(events / window, 1) if window > 0 else 0.0,
            'lag_s_p95': round(float(np.percentile(lags, 95)), 3) if lags else 0.0,
            'window_s': round(window, 2), 'failures': sum(r['failures'] for r in results)}


def _questions(admin_dsn: str, run: dict[str, Any]) -> None:
    from robot_memory.eval.bench_store import CLASSES
    from robot_memory.fleet.view import FleetView

    view = FleetView(admin_dsn, use_embeddings=False)
    start = time.perf_counter()
    view.refresh()
    run['view_build_s'] = round(time.perf_counter() - start, 2)
    run['fleet_objects'] = view.memory.num_objects()
    pulls = []
    for _ in range(20):  # a round with nothing new: the per-robot index range scans alone
        t0 = time.perf_counter()
        view.refresh()
        pulls.append((time.perf_counter() - t0) * 1e3)
    run['pull_ms_p50'] = round(float(np.percentile(pulls, 50)), 2)
    times = []
    for i, label in enumerate(CLASSES * 3):
        question = _QUESTIONS[i % len(_QUESTIONS)].format(label=label)
        t0 = time.perf_counter()
        view.ask(question)
        times.append((time.perf_counter() - t0) * 1e3)
    view.close()
    times = times[len(_QUESTIONS):]  # the first ones build the parser's vocabulary
    run['question_ms_p50'] = round(float(np.percentile(times, 50)), 2)
    run['question_ms_p95'] = round(float(np.percentile(times, 95)), 2)
    with connect(admin_dsn) as conn:
        run['db_mb'] = round(conn.execute(
            "SELECT pg_total_relation_size('events')").fetchone()[0] / 1e6, 1)


def bench_fleet(robot_counts: Sequence[int] = (10, 50), days: int = 7, objects: int = 200,
                dsn: str | None = None,
                progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark for each robot count; returns the JSON-ready figures."""
    from robot_memory.fleet.local_server import LocalPostgres

    note = progress or (lambda _: None)
    server = None
    if dsn is None:
        note('starting a throw-away PostgreSQL server')
        server = LocalPostgres().start()
        dsn = server.dsn
    runs = []
    try:
        init_server(dsn)
        with tempfile.TemporaryDirectory(prefix='robot_memory-bench-fleet-') as tmp:
            folder = Path(tmp)
            note(f'mapping {_LOGS} synthetic weeks of {objects} objects')
            logs = _write_logs(folder, objects, days)
            dsn_for = server.dsn_for if server is not None else _dsn_for(dsn)
            for n in robot_counts:
                run: dict[str, Any] = {'robots': n}
                for mode in ('live', 'replay'):
                    if server is not None:
                        with connect(dsn) as conn:  # each run on an empty table
                            conn.execute('TRUNCATE events')
                    tag = f'{mode[0]}{n}_{int(time.time()) % 100000}'
                    note(f'{n} robots {"mapping and " if mode == "live" else ""}'
                         f'replicating {days} days each')
                    run[mode] = _run(n, dsn, dsn_for, logs, folder, tag, mode)
                with connect(dsn) as conn:
                    conn.execute('ANALYZE events')
                run['events'] = run['replay']['events']
                run['events_per_s'] = run['replay']['events_per_s']
                run['replication_lag_s_p95'] = run['live']['lag_s_p95']
                run['end_to_end_events_per_s'] = run['live']['events_per_s']
                note(f'{n} robots: fleet questions')
                _questions(dsn, run)
                runs.append(run)
    finally:
        if server is not None:
            server.close()
    return {'days': days, 'objects_per_robot': objects, 'runs': runs}


def _dsn_for(admin_dsn: str) -> Callable[[str, str], str]:
    """Robot DSNs on the administrator's server: same host, port and database."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    base = conninfo_to_dict(admin_dsn)

    def dsn_for(user: str, password: str) -> str:
        return make_conninfo(**{**base, 'user': user, 'password': password})

    return dsn_for

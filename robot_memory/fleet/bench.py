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
nothing new `pull_ms_p50`), and `db_mb`, the events table with its indexes.

Schema 3 (issue #31), on the same events: with `index_as_shipped` the robots ran the
server's indexer as they shipped (so `events_per_s` includes keeping the fleet objects
table); `index_catch_up_s` is what was left to apply after the last robot finished,
`reindex_s` a rebuild from every event in stamp order (`fleet index --rebuild`).
`server_question_ms_p50/p95` are the same questions answered by the server
(`FleetQuestions`: a round trip per look-up, the objects asked about, the same query
engine), `answers_agree` how many of them read as the view's — as the events arrived (each
robot's whole week at once), and after the rebuild. `join_first_answer_s` is a new robot's
first fleet answer: its connection, the fleet's vocabulary and the answer;
`view_join_first_answer_s` the same through a `FleetView` (every robot's events pulled and
merged first). `robot_rss_mb` is the resident memory of a robot process holding its own
memory and asking the server, `view_robot_rss_mb` the same process holding a `FleetView`
instead, `lone_robot_rss_mb` the robot answering the same questions from its own memory
alone (each a fresh process; /proc/self/status VmRSS after the questions).

Without `dsn` a throw-away local server is started and stopped; with one, it must be an
administrator's (it creates the robots' roles).
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

__all__ = ['bench_fleet', 'robot_main', 'rss_main']

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
    for name in ('--robot-id', '--log', '--db', '--go', '--result', '--mode', '--index'):
        parser.add_argument(name, required=True)
    args = parser.parse_args(argv)
    frames = [[event_from_record(r) for r in json.loads(line)]
              for line in Path(args.log).read_text(encoding='utf-8').splitlines()]
    commits: list[tuple[int, float]] = []
    store = MemoryStore(args.db, commit_interval_s=0.2,
                        on_commit=lambda seq: commits.append((seq, time.time())))
    replicator = Replicator(args.db, os.environ['ROBOT_MEMORY_FLEET_DSN'], args.robot_id,
                            retry_s=0.2, max_retry_s=1.0, index_events=args.index == '1')
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
         folder: Path, tag: str, mode: str, index: bool) -> dict[str, Any]:
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
             '--go', str(go), '--result', str(result), '--mode', mode,
             '--index', '1' if index else '0'],
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
        run['db_mb'] = round(float(conn.execute(  # schema 3: the sum of its partitions
            "SELECT pg_total_relation_size('events') + COALESCE(sum(pg_total_relation_size("
            "inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'events'::regclass"
            ).fetchone()[0]) / 1e6, 1)


def rss_main(argv: Sequence[str] | None = None) -> None:
    """A robot process for the RSS figures: its own memory, then `--mode` lone, view or
    server answering the benchmark's questions; prints its VmRSS in MB."""
    import argparse

    from robot_memory.core import MemoryStore
    from robot_memory.eval.bench_store import CLASSES

    parser = argparse.ArgumentParser()
    for name in ('--robot-id', '--db', '--mode'):
        parser.add_argument(name, required=True)
    args = parser.parse_args(argv)
    with MemoryStore(args.db, read_only=True) as store:
        own = store.load()
    asker: Any = None
    if args.mode == 'lone':  # a robot without a fleet answers from its own memory
        from robot_memory.service import MemoryService, MemoryServiceParams

        asker = MemoryService(MemoryServiceParams(use_embeddings=False), memory=own)
    elif args.mode == 'view':
        from robot_memory.fleet.view import FleetView

        asker = FleetView(os.environ['ROBOT_MEMORY_FLEET_DSN'], args.robot_id, args.db,
                          use_embeddings=False)
        asker.refresh()
    elif args.mode == 'server':
        from robot_memory.fleet.questions import FleetQuestions

        asker = FleetQuestions(os.environ['ROBOT_MEMORY_FLEET_DSN'])
    if asker is not None:
        for i, label in enumerate(CLASSES):
            asker.ask(_QUESTIONS[i % len(_QUESTIONS)].format(label=label))
    status = Path('/proc/self/status').read_text()
    rss_kb = int(next(line for line in status.splitlines()
                      if line.startswith('VmRSS')).split()[1])
    sys.stdout.write(json.dumps({'rss_mb': rss_kb / 1024, 'objects': own.num_objects()}))


def _rss(dsn: str, robot_id: str, db: Path, mode: str) -> float:
    done = subprocess.run(
        [sys.executable, '-c', 'import sys; from robot_memory.fleet.bench import rss_main; '
         'rss_main(sys.argv[1:])', '--robot-id', robot_id, '--db', str(db), '--mode', mode],
        env={**os.environ, 'ROBOT_MEMORY_FLEET_DSN': dsn}, capture_output=True, text=True,
        timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f'rss {mode} failed: {done.stderr[-800:]}')
    return round(float(json.loads(done.stdout)['rss_mb']), 1)


def _server_questions(admin_dsn: str, run: dict[str, Any], folder: Path, tag: str) -> None:
    from robot_memory.eval.bench_store import CLASSES
    from robot_memory.fleet.questions import FleetQuestions, fleet_index, fleet_reindex
    from robot_memory.fleet.view import FleetView

    with connect(admin_dsn, autocommit=True) as conn:
        start = time.perf_counter()
        fleet_index(conn)
        run['index_catch_up_s'] = round(time.perf_counter() - start, 2)
        run['server_fleet_objects'] = conn.execute(
            'SELECT count(*) FROM fleet_objects WHERE merged_into IS NULL').fetchone()[0]
        run['server_associated'] = int(conn.execute(
            'SELECT sum(associated) FROM fleet_cursor').fetchone()[0] or 0)
        run['fleet_tables_mb'] = round(float(conn.execute(
            "SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['fleet_objects', "
            "'fleet_members', 'fleet_evidence']) t").fetchone()[0]) / 1e6, 1)
    start = time.perf_counter()
    questions = FleetQuestions(admin_dsn)
    questions.ask('Where is the mug?')
    run['join_first_answer_s'] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    view = FleetView(admin_dsn, use_embeddings=False)
    view.refresh()
    view.ask('Where is the mug?')
    run['view_join_first_answer_s'] = round(time.perf_counter() - start, 3)
    times, agree, asked = [], 0, CLASSES * 3
    for i, label in enumerate(asked):
        question = _QUESTIONS[i % len(_QUESTIONS)].format(label=label)
        t0 = time.perf_counter()
        reply = questions.ask(question)
        times.append((time.perf_counter() - t0) * 1e3)
        agree += reply['answer'] == view.ask(question)['answer']
    questions.close()
    run['server_question_ms_p50'] = round(float(np.percentile(times, 50)), 2)
    run['server_question_ms_p95'] = round(float(np.percentile(times, 95)), 2)
    run['answers_agree'] = f'{agree}/{len(asked)}'
    with connect(admin_dsn, autocommit=True) as conn:  # in stamp order, as the view
        start = time.perf_counter()
        fleet_reindex(conn)
        run['reindex_s'] = round(time.perf_counter() - start, 2)
    questions, agree = FleetQuestions(admin_dsn), 0
    for i, label in enumerate(asked):
        question = _QUESTIONS[i % len(_QUESTIONS)].format(label=label)
        agree += questions.ask(question)['answer'] == view.ask(question)['answer']
    questions.close()
    view.close()
    run['answers_agree_after_reindex'] = f'{agree}/{len(asked)}'
    robot_id = f'{tag}_000'
    db = folder / f'{robot_id}.db'
    run['lone_robot_rss_mb'] = _rss(admin_dsn, robot_id, db, 'lone')
    run['robot_rss_mb'] = _rss(admin_dsn, robot_id, db, 'server')
    run['view_robot_rss_mb'] = _rss(admin_dsn, robot_id, db, 'view')


def bench_fleet(robot_counts: Sequence[int] = (10, 50), days: int = 7, objects: int = 200,
                dsn: str | None = None, index_as_shipped: bool = True,
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
                            conn.execute('TRUNCATE events, fleet_objects, fleet_members, '
                                         'fleet_evidence, fleet_cursor, fleet_layout')
                    tag = f'{mode[0]}{n}_{int(time.time()) % 100000}'
                    note(f'{n} robots {"mapping and " if mode == "live" else ""}'
                         f'replicating {days} days each')
                    run[mode] = _run(n, dsn, dsn_for, logs, folder, tag, mode,
                                     index_as_shipped)
                with connect(dsn) as conn:
                    conn.execute('ANALYZE events')
                run['events'] = run['replay']['events']
                run['events_per_s'] = run['replay']['events_per_s']
                run['replication_lag_s_p95'] = run['live']['lag_s_p95']
                run['end_to_end_events_per_s'] = run['live']['events_per_s']
                note(f'{n} robots: fleet questions')
                _questions(dsn, run)
                note(f'{n} robots: server-side fleet questions, joining, robot RSS')
                _server_questions(dsn, run, folder, tag)
                runs.append(run)
    finally:
        if server is not None:
            server.close()
    return {'days': days, 'objects_per_robot': objects, 'index_as_shipped': index_as_shipped,
            'runs': runs}


def _dsn_for(admin_dsn: str) -> Callable[[str, str], str]:
    """Robot DSNs on the administrator's server: same host, port and database."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    base = conninfo_to_dict(admin_dsn)

    def dsn_for(user: str, password: str) -> str:
        return make_conninfo(**{**base, 'user': user, 'password': password})

    return dsn_for

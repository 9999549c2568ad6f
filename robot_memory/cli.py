"""The `robot-memory` command: demo, benchmarks, simulation, inspection of memory files.

The app and its top-level commands live here; the `bench`, `eval` and `fleet` groups in
`cli_bench.py`, `cli_eval.py` and `cli_fleet.py`, options they share in `cli_options.py`, and
the ROS 2 commands beside the nodes (`robot_memory/ros/cli_commands.py`).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from robot_memory import __version__
from robot_memory._console import console, emit, out
from robot_memory.cli_bench import bench_app
from robot_memory.cli_eval import eval_app
from robot_memory.cli_fleet import ask_fleet, fleet_app
from robot_memory.cli_options import (
    EXIT_ERROR,
    EXIT_NOT_UNDERSTOOD,
    AttributesOption,
    BackendOption,
    DetectorOption,
    HabitatConfigOption,
    JsonOption,
    SceneOption,
    WorldOption,
    WorldStyleOption,
    check_at_least_one,
    check_stamp_option,
    exit_code_of_answer,
)
from robot_memory.core.queries import Unanswerable
from robot_memory.exceptions import InvalidInputError, RobotMemoryError

if TYPE_CHECKING:
    from robot_memory.core import EpisodicMemory
    from robot_memory.language.parser import QuestionParser

__all__ = ['app', 'main']

app = typer.Typer(
    name='robot-memory',
    help='Long-term episodic memory for mobile robots on ROS 2.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name='bench')
app.add_typer(eval_app, name='eval')
app.add_typer(fleet_app, name='fleet')


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option('--version', help='Print the version.')] = False,
    verbose: Annotated[bool, typer.Option('--verbose', '-v', help='Log debug detail.')] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    _say_when_models_load()
    if version:
        out.print(f'robot_memory {__version__}')
        raise typer.Exit()


class _ModelNotice(logging.Handler):
    """The language modules' log on stderr: their INFO lines (a model loading) as plain text."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno != logging.INFO:
            text = f'{record.levelname} {record.name}: {text}'
        sys.stderr.write(text + '\n')  # sys.stderr now, not when the handler was made


def _say_when_models_load() -> None:
    """Show on stderr when a language model loads: the first question waits seconds for it."""
    for name in ('robot_memory.language.embeddings', 'robot_memory.language.llm'):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _ModelNotice) for h in logger.handlers):
            logger.addHandler(_ModelNotice())
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
            logger.propagate = False


@app.command('sim')
def sim_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('sim_out'),
    seed: Annotated[int, typer.Option(help='World and activity seed.')] = 7,
    days: Annotated[int, typer.Option(
        callback=check_at_least_one, help='Simulated days.')] = 3,
    world: WorldOption = 'apartment',
    as_json: Annotated[bool, typer.Option('--json', help='Print the summary as JSON.')] =
    False,
    detector: DetectorOption = 'perfect',
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
    world_style: WorldStyleOption = 'home',
    attributes: AttributesOption = 'pixels',
) -> None:
    """Simulate patrols; write ground truth, a top-down map PNG and an MCAP recording."""
    from robot_memory.sim.commands import run_sim
    from robot_memory.sim.habitat_days import household_sim

    summary = run_sim(seed, days, out_dir, world=world, progress=True,
                      detector=detector, world_style=world_style, attributes=attributes,
                      sim=household_sim(backend, scene, seed, habitat_config, detector))
    emit(summary, as_json, f'simulation written to {out_dir}')


def _load_memory(db: Path) -> EpisodicMemory:
    """A memory file, read-only (beside a writer, if one runs)."""
    from robot_memory.core import MemoryStore

    with MemoryStore(db, read_only=True) as store:
        return store.load()


def _parser_for(db: Path | None, timezone: str, embeddings: bool) -> QuestionParser:
    """A question parser with the robot's vocabulary when a memory file is given."""
    from robot_memory.core.clock import MemoryClock
    from robot_memory.language.parser import QuestionParser, Vocabulary

    embedder = None
    if embeddings:
        from robot_memory.language.embeddings import default_embedder

        embedder = default_embedder()
    if db is None:
        return QuestionParser(Vocabulary(), MemoryClock(timezone), embedder)
    memory = _load_memory(db)
    graph = memory.at(memory.now_s).scene_graph()
    return QuestionParser(Vocabulary.from_scene_graph(graph), memory.clock, embedder)


@app.command('parse')
def parse_cmd(
    question: Annotated[str | None, typer.Argument(help='An English question.')] = None,
    file: Annotated[Path | None, typer.Option(
        '--file', help='Parse one question per line of this file (blank lines and lines '
                       'starting with # are skipped); prints one JSON object per line.')] = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print JSON.')] = False,
    now: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help='The time it is asked (s since the Unix epoch); default: now.')] = None,
    timezone: Annotated[str, typer.Option(help='IANA timezone of the robot.')] = 'UTC',
    db: Annotated[Path | None, typer.Option(
        help="Use this memory file's rooms, classes and clock as the vocabulary.")] = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match unknown words with the text embedding model.')] = True,
) -> None:
    """Show the typed query a question parses into."""
    import time as _time

    if (question is None) == (file is None):
        raise InvalidInputError('give either a question or --file FILE')
    if question is not None and not question.strip():
        raise InvalidInputError('the question is empty')
    parser = _parser_for(db, timezone, embeddings)
    when = _time.time() if now is None else now
    if file is not None:
        try:
            lines = file.read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f'cannot read {file}: {exc}') from exc
        questions = [q.strip() for q in lines if q.strip() and not q.lstrip().startswith('#')]
        parser.warm_up()
        start = _time.perf_counter()
        results = parser.parse_many(questions, when)
        elapsed = _time.perf_counter() - start
        for q, result in zip(questions, results, strict=True):
            sys.stdout.write(json.dumps({'question': q, **result.to_dict()}) + '\n')
        rate = len(questions) / elapsed if elapsed > 0 else float('inf')
        console.print(f'{len(questions)} questions, {sum(r.ok for r in results)} parsed, '
                      f'{rate:.0f} questions/s after the model loaded')
        return
    assert question is not None
    result = parser.parse(question, when)
    data = result.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data) + '\n')
    else:
        out.print_json(json.dumps(data))
    if not result.ok:
        raise typer.Exit(EXIT_NOT_UNDERSTOOD)


@app.command('ask')
def ask_cmd(
    question: Annotated[str, typer.Argument(help='An English question.')],
    db: Annotated[Path | None, typer.Option(help='A robot_memory SQLite file.')] = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print JSON.')] = False,
    now: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help="Ask as of this stamp (s); default: the memory's latest time.")] = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match unknown words with the text embedding model.')] = True,
    fleet: Annotated[str | None, typer.Option(
        help="Answer from every robot on this fleet server (DSN); --db adds this robot's "
             'own file, shipped or not, with --robot-id.')] = None,
    robot_id: Annotated[str, typer.Option(help="This robot's fleet id (with --fleet).")] = '',
) -> None:
    """Answer a question from a saved memory file (or a fleet), with evidence.

    Exit codes: 0 answered; 1 understood but not answerable from memory; 2 a bad command line
    or file; 3 the question was not understood (rephrase it).
    """
    from robot_memory.service import MemoryService, MemoryServiceParams

    if not question.strip():
        raise InvalidInputError('the question is empty')
    if fleet is not None:
        ask_fleet(question, fleet, db, robot_id, as_json, now, embeddings)
        return
    if db is None:
        raise InvalidInputError('ask needs --db FILE or --fleet DSN')
    memory = _load_memory(db)
    service = MemoryService(MemoryServiceParams(use_embeddings=embeddings), memory=memory)
    answer = service.ask(question, now)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict()) + '\n')
    else:
        out.print(answer.text)
        out.print(f'confidence {answer.confidence:.2f}'
                  + ('  (worth checking)' if answer.needs_verification else ''))
        for e in answer.evidence:
            out.print(f'  evidence: {e.object_id} seen {memory.clock.label(e.stamp_s)} '
                      f'in {e.room_id or "?"} (observations {list(e.obs_ids)})')
    # "Who lives here?" is understood, and memory cannot answer it: exit 1, as for no answer.
    code = exit_code_of_answer(answer.query is not None,
                               answer.ok and not isinstance(answer.query, Unanswerable))
    if code:
        raise typer.Exit(code)


@app.command('inspect')
def inspect_cmd(
    db: Annotated[Path, typer.Argument(help='A robot_memory SQLite file.')],
    at: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help='Show the world at this stamp (s).')] = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print JSON.')] = False,
) -> None:
    """Summarise a memory file: episodes, objects, and the world at a time."""
    memory = _load_memory(db)
    t = memory.now_s if at is None else at
    view = memory.at(t)
    result = {
        'file': str(db),
        'events': memory.num_events,
        'objects_known': memory.num_objects(),
        'objects_present': len(view),
        'objects_missing': len(view.missing),
        'at_s': t,
        'episodes': [{'label': e.label, 'start_s': e.start_s, 'end_s': e.end_s}
                     for e in memory.instances()],
    }
    if as_json:
        result['objects'] = {k: {'label': s.label, 'room': s.room_id,
                                 'position_m': s.position_m, 'state': s.state,
                                 'last_seen_s': s.last_seen_s}
                             for k, s in view.objects.items()}
        sys.stdout.write(json.dumps(result) + '\n')
        return
    out.print(f'[bold]{db}[/]: {result["events"]} events, {result["objects_known"]} objects '
              f'known, {result["objects_present"]} present at t={t:.0f}')
    episodes = Table(title='episodes')
    for col in ('#', 'label', 'start_s', 'end_s'):
        episodes.add_column(col, overflow='fold')
    for e in memory.instances():
        episodes.add_row(str(e.index), e.label, f'{e.start_s:.0f}', f'{e.end_s:.0f}')
    out.print(episodes)
    objects = Table(title=f'objects at t={t:.0f}')
    for col in ('id', 'class', 'room', 'state', 'P(still there)'):
        objects.add_column(col, overflow='fold')
    for object_id, s in sorted(view.objects.items()):
        objects.add_row(object_id, s.label, s.room_id, s.state,
                        f'{memory.p_still_there(object_id, t):.2f}')
    out.print(objects)


@app.command('view')
def view_cmd(
    db: Annotated[Path, typer.Option(help='A robot_memory SQLite file.')],
    out_file: Annotated[Path | None, typer.Option(
        '--out', help='The HTML page to write; default: beside the memory file, named after it '
                      '(demo_out/memory.db → demo_out/memory.html).')] = None,
    step_s: Annotated[float, typer.Option(
        help='Seconds between slider stops inside an episode.')] = 900.0,
) -> None:
    """Write one self-contained interactive HTML page of a memory file (no network needed)."""
    from robot_memory.viewer import write_view

    memory = _load_memory(db)
    if out_file is None:
        out_file = _default_view_path(db)
    try:
        path = write_view(memory, out_file, title=f'robot memory: {db.name}', step_s=step_s)
    except OSError as exc:
        raise InvalidInputError(f'cannot write {out_file}: {exc.strerror or exc}') from None
    out.print(f'{path} ({path.stat().st_size / 1e3:.0f} kB): {memory.num_objects()} objects, '
              f'{len(memory.instances())} episodes')


def _default_view_path(db: Path) -> Path:
    """Where `view` writes without --out: beside the memory file, with its name."""
    page = db.with_suffix('.html')
    return page if page != db else db.with_name(f'{db.name}.view.html')


@app.command('export')
def export_cmd(
    db: Annotated[Path, typer.Option(help='A robot_memory SQLite file (opened read-only).')],
    out_file: Annotated[Path, typer.Option('--out', help='The file to write.')],
    fmt: Annotated[str, typer.Option(
        '--format', help="json (the scene graph and every present object's facts) or "
                         'spark-dsg (a graph Spark-DSG / Hydra tools load).')] = 'json',
    at: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help="The world at this stamp (s); default: the memory's latest time.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the scene graph at a time (building, rooms, places, objects) for other tools."""
    from robot_memory.export import export_memory

    summary = export_memory(_load_memory(db), out_file, fmt, at, source=str(db))
    emit(summary, as_json, f'{summary["out"]}: {summary["rooms"]} rooms, '
                           f'{summary["places"]} places, {summary["objects"]} objects '
                           f'at t={summary["at_s"]:.0f} ({fmt})')


@app.command('serve')
def serve_cmd(
    db: Annotated[Path, typer.Option(help='A robot_memory SQLite file (opened read-only).')],
    host: Annotated[str, typer.Option(
        help='Address to listen on; anything but localhost exposes the memory.')] = '127.0.0.1',
    port: Annotated[int, typer.Option(help='TCP port (0: any free one).')] = 8080,
    now: Annotated[float | None, typer.Option(
        callback=check_stamp_option,
        help="Ask as of this stamp (s); default: the memory's latest time.")] = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match unknown words with the text embedding model.')] = True,
    allow_host: Annotated[list[str] | None, typer.Option(
        help='Another name the server is reached by (repeatable); requests naming any other '
             'Host or Origin than localhost and the bound address are refused.')] = None,
) -> None:
    """Serve the viewer live with an ask box, read-only beside a running memory_node."""
    from robot_memory.viewer.server import MemoryServer

    if not 0 <= port <= 65535:
        raise InvalidInputError(f'port must be in 0..65535, got {port}')
    try:
        server = MemoryServer(db, host, port, embeddings=embeddings, now_s=now,
                              allowed_hosts=allow_host or ())
    except OSError as exc:
        raise InvalidInputError(f'cannot listen on {host}:{port} ({exc.strerror or exc})') \
            from None
    out.print(f'serving {db} at {server.url} (Ctrl-C stops)')
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.print('stopped')
    finally:
        server.shutdown()


@app.command('demo')
def demo_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('demo_out'),
    days: Annotated[int, typer.Option(
        callback=check_at_least_one, help='Simulated days.')] = 3,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
    detector: DetectorOption = 'perfect',
) -> None:
    """Build a multi-day memory, show its episodes and what changed, save the memory file."""
    from robot_memory.eval.demo import run_demo

    ok = run_demo(out_dir, days=days, seed=seed, console=out, detector=detector)
    raise typer.Exit(0 if ok else 1)


def _register_ros_commands() -> None:
    # ROS commands live beside the nodes; the CLI stays usable where rclpy is missing.
    try:
        from robot_memory.ros.cli_commands import register
    except ImportError as exc:  # pragma: no cover - depends on the install
        logging.getLogger(__name__).debug('ROS commands unavailable: %s', exc)
        return
    register(app, bench_app)


_register_ros_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; errors of ours are one clear line, exit 2."""
    try:
        # Outside standalone mode click returns a command's `typer.Exit(code)` instead of
        # exiting with it: passed on, or `ask` and `demo` would exit 0 whatever they said.
        code = app(args=argv, standalone_mode=False)
    except RobotMemoryError as exc:
        console.print(f'[red]error:[/] {exc}', soft_wrap=True)  # one line, whatever the width
        sys.exit(EXIT_ERROR)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # the machine's answer (disk full, no permission): one line too
        where = f' ({exc.filename})' if exc.filename else ''
        console.print(f'[red]error:[/] {exc.strerror or exc}{where}', soft_wrap=True)
        sys.exit(EXIT_ERROR)
    except typer.Abort:
        console.print('aborted')
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        # Typer ships its own copy of click: a usage error may come from either.
        from typer import _click as typer_click  # type: ignore[attr-defined]

        if isinstance(exc, click.ClickException | typer_click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == '__main__':
    main()

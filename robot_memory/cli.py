"""The `robot-memory` command: demo, benchmarks, simulation, inspection of memory files."""

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
from robot_memory.exceptions import InvalidInputError, RobotMemoryError

if TYPE_CHECKING:
    from robot_memory.core import EpisodicMemory

__all__ = ['app', 'main']

app = typer.Typer(
    name='robot-memory',
    help='Long-term episodic memory for mobile robots on ROS 2.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help='Benchmarks that print JSON figures.', no_args_is_help=True)
app.add_typer(bench_app, name='bench')
eval_app = typer.Typer(help="Evaluations against the simulator's ground truth.",
                       no_args_is_help=True)
app.add_typer(eval_app, name='eval')
fleet_app = typer.Typer(help='Many robots, one memory, on a PostgreSQL server.',
                        no_args_is_help=True)
app.add_typer(fleet_app, name='fleet')

DsnOption = Annotated[str, typer.Option(
    '--dsn', envvar='ROBOT_MEMORY_FLEET_DSN', show_envvar=True,
    help='PostgreSQL connection string (libpq form); never stored in a file of the project.')]

@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option('--version', help='Print the version.')] = False,
    verbose: Annotated[bool, typer.Option('--verbose', '-v', help='Log debug detail.')] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    if version:
        out.print(f'robot_memory {__version__}')
        raise typer.Exit()


@bench_app.command('store')
def bench_store_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    objects: Annotated[int, typer.Option(help='Objects in the synthetic home.')] = 200,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 7,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
) -> None:
    """Event-log throughput, reopen time and bytes per event for a synthetic week."""
    from robot_memory.eval.bench_store import bench_store

    with console.status('running the store benchmark…', spinner='dots'):
        result = bench_store(objects, days, seed)
    emit(result, as_json, 'bench store')


@bench_app.command('queries')
def bench_queries_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    days: Annotated[str, typer.Option(help='Comma list of memory ages in days.')] = '7,28',
    objects: Annotated[int, typer.Option(help='Objects in the synthetic home.')] = 200,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
) -> None:
    """Query answer and belief latency per query type, against the age of memory."""
    from robot_memory.eval.bench_queries import bench_queries

    try:
        ages = tuple(int(d) for d in days.split(','))
    except ValueError:
        raise InvalidInputError(
            f'--days must be a comma list of whole days, got {days!r}') from None
    with console.status('building memories and timing queries…', spinner='dots'):
        result = bench_queries(ages, objects, seed)
    emit(result, as_json, 'bench queries')


@bench_app.command('ingest')
def bench_ingest_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    days: Annotated[int, typer.Option(help='Days of patrol to replay.')] = 1,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
) -> None:
    """Frame → perception → memory → store throughput at 640×480, per stage."""
    from robot_memory.eval.bench_ingest import bench_ingest

    with console.status('rendering a patrol, then ingesting it…', spinner='dots'):
        result = bench_ingest(seed, days, world)
    emit(result, as_json, 'bench ingest')


@bench_app.command('sim')
def bench_sim_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    frames: Annotated[int, typer.Option(help='Frames to render.')] = 300,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
) -> None:
    """Rendering speed of the built-in simulator at 640×480 on one core."""
    from robot_memory.sim.commands import bench_sim

    with console.status('rendering…', spinner='dots'):
        result = bench_sim(frames=frames, seed=seed)
    emit(result, as_json, 'bench sim')


@bench_app.command('soak')
def bench_soak_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 30,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
    png: Annotated[Path, typer.Option(help='Curves (PNG).')] = Path('soak.png'),
) -> None:
    """A month of patrols through memory and its store: RSS, store, latency per day."""
    from robot_memory.eval.bench_soak import bench_soak

    result = bench_soak(days, seed, world, png, progress=not as_json)
    emit(result, as_json, 'bench soak')


@bench_app.command('view')
def bench_view_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    db: Annotated[Path | None, typer.Option(
        help="The demo's memory file; default: the demo's three days, built here.")] = None,
    objects: Annotated[int, typer.Option(help='Objects in the long memory.')] = 500,
    days: Annotated[int, typer.Option(help='Days in the long memory.')] = 30,
) -> None:
    """Viewer page size, load time and slider step in headless Chromium."""
    from robot_memory.viewer.bench import bench_view

    with console.status('measuring the viewer…', spinner='dots') as status:
        result = bench_view(db, objects, days, progress=lambda note: status.update(note))
    emit(result, as_json, 'bench view')


@bench_app.command('fleet')
def bench_fleet_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    robots: Annotated[str, typer.Option(help='Robot counts, comma-separated.')] = '10,50',
    days: Annotated[int, typer.Option(help='Days each robot maps.')] = 7,
    objects: Annotated[int, typer.Option(help="Objects in each robot's home.")] = 200,
    dsn: Annotated[str | None, typer.Option(
        envvar='ROBOT_MEMORY_FLEET_ADMIN_DSN', show_envvar=True,
        help="An administrator's DSN; default: a throw-away local server.")] = None,
) -> None:
    """Robot processes replicating into one PostgreSQL server, then fleet questions."""
    from robot_memory.fleet.bench import bench_fleet

    try:
        counts = [int(n) for n in robots.split(',') if n.strip()]
    except ValueError:
        raise InvalidInputError(f'--robots takes counts like 10,50; got {robots!r}') from None
    if not counts or min(counts) < 1 or days < 1:
        raise InvalidInputError('--robots needs positive counts and --days at least 1')
    with console.status('benchmarking the fleet…', spinner='dots') as status:
        result = bench_fleet(counts, days, objects, dsn,
                             progress=lambda note: status.update(note))
    emit(result, as_json, 'bench fleet')


@bench_app.command('habitat')
def bench_habitat_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    scene: Annotated[str | None, typer.Option(help='Habitat scene (.glb); overrides the '
                                                   "config's scene_path.")] = None,
    config: Annotated[Path | None, typer.Option(help='HabitatConfig YAML '
                                                     '(config/habitat.yaml).')] = None,
    frames: Annotated[int, typer.Option(help='Frames to render.')] = 200,
) -> None:
    """observe() speed of the Habitat backend at 640×480: render vs conversion (needs
    habitat-sim)."""
    from robot_memory.sim.commands import bench_habitat

    try:
        with console.status('rendering with habitat-sim…', spinner='dots'):
            result = bench_habitat(scene, config, frames)
    except ImportError as exc:
        raise RobotMemoryError(str(exc)) from None
    emit(result, as_json, 'bench habitat')


# --backend for the commands that simulate: the built-in world, or a Habitat household.
BackendOption = Annotated[str, typer.Option(
    help='builtin, or habitat (needs habitat-sim): --scene with a household of moving objects')]
SceneOption = Annotated[str, typer.Option(help='Habitat scene (.glb) for --backend habitat.')]
HabitatConfigOption = Annotated[str | None, typer.Option(
    help='HabitatConfig YAML for --backend habitat (config/habitat.yaml).')]

DETECTOR_HELP = ('Simulated detector: perfect, realistic (10 % of segments missed, 3 % '
                 'wrong class, 5 % wrong colour, 3 % wrong state), poor, or a YAML file of '
                 'miss_rate, confusion_rate, color_flip_rate, state_flip_rate.')


@app.command('sim')
def sim_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('sim_out'),
    seed: Annotated[int, typer.Option(help='World and activity seed.')] = 7,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 3,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
    as_json: Annotated[bool, typer.Option('--json', help='Print the summary as JSON.')] =
    False,
    detector: Annotated[str, typer.Option(help=DETECTOR_HELP)] = 'perfect',
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
) -> None:
    """Simulate patrols; write ground truth, a top-down map PNG and an MCAP recording."""
    from robot_memory.sim.commands import run_sim
    from robot_memory.sim.habitat_days import household_sim

    summary = run_sim(seed, days, out_dir, world=world, progress=not as_json,
                      detector=detector,
                      sim=household_sim(backend, scene, seed, habitat_config, detector))
    emit(summary, as_json, f'simulation written to {out_dir}')


@eval_app.command('mapping')
def eval_mapping_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 11,
    days: Annotated[int, typer.Option(help='Days of patrol.')] = 3,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
    detector: Annotated[str, typer.Option(help=DETECTOR_HELP)] = 'perfect',
    absent_confirm_views: Annotated[int, typer.Option(
        help='Views of an empty spot that confirm an object is gone (0: 2).')] = 0,
    color_gate: Annotated[bool, typer.Option(
        help='A different known colour rules a match out (off for detectors whose colours '
             'flicker).')] = True,
    infer_moves: Annotated[bool, typer.Option(
        help='Take an object no other known object looks like for the newcomer like it seen '
             'elsewhere when it is lost or unseen all session (off: moves only with proof).')]
    = True,
    seeds: Annotated[str | None, typer.Option(
        help='A panel: seeds such as 1-10 or 3,7,11, each run on every --world.')] = None,
    workers: Annotated[int | None, typer.Option(
        help='Panel runs in parallel (default: one per core).')] = None,
    png: Annotated[Path, typer.Option(help='Panel chart (PNG).')] = Path('mapping_panel.png'),
    segmentation: Annotated[str, typer.Option(
        help="instance: the detector's instance ids and labels; class: a class-id image "
             'split into objects by depth, as memory_node does for semantic segmentation')]
    = 'instance',
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
) -> None:
    """Build memory from simulated patrols and score objects, identities and changes.

    With --seeds, every seed on every world of --world (a comma list): per-run figures plus
    their mean, min, max and totals, and a PNG of the panel.
    """
    from robot_memory.eval.mapping import eval_mapping, eval_mapping_panel
    from robot_memory.eval.panel import parse_seeds, parse_worlds

    if seeds is None:
        result = eval_mapping(seed, days, world, progress=not as_json, detector=detector,
                              absent_confirm_views=absent_confirm_views,
                              color_gate=color_gate, infer_moves=infer_moves,
                              segmentation=segmentation, backend=backend, scene=scene,
                              habitat_config=habitat_config)
        emit(result, as_json, 'eval mapping')
        return
    result = eval_mapping_panel(parse_seeds(seeds), parse_worlds(world), days,
                                progress=not as_json, detector=detector,
                                absent_confirm_views=absent_confirm_views,
                                color_gate=color_gate, infer_moves=infer_moves,
                                workers=workers, png=png, segmentation=segmentation)
    if as_json:
        emit(result, True, 'eval mapping panel')
        return
    _panel_table(result, ('object_precision', 'object_recall', 'change_precision',
                          'change_recall', 'change_f1', 'identity_switches_far_same_class'))


def _panel_table(result: dict, keys: tuple[str, ...]) -> None:
    """Print a panel's runs and its mean / min rows."""
    table = Table(title=f'panel of {result["panel"]["runs"]} runs; chart: {result.get("png")}')
    table.add_column('world')
    table.add_column('seed', justify='right')
    for key in keys:
        table.add_column(key.replace('_', ' '), justify='right')

    def cell(value: object) -> str:
        return f'{value:.3f}' if isinstance(value, float) else str(value)

    for run in result['runs']:
        table.add_row(str(run.get('world')), str(run.get('seed')),
                      *(cell(run.get(k)) for k in keys))
    for row in ('mean', 'min'):
        table.add_row(row, '', *(cell(result[row].get(k)) for k in keys))
    out.print(table)


@eval_app.command('laeqa')
def eval_laeqa_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    days: Annotated[int, typer.Option(help='Days of patrol before the questions.')] = 5,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
    planner: Annotated[str, typer.Option(
        help='all, or a comma list of memory_only, frame_retrieval, fixed_budget, '
             'explore_all, voi.')] = 'all',
    phrasings: Annotated[Path | None, typer.Option(
        help='YAML: question type → list of templates ({object}, {room}, {day}, {state}).')]
    = None,
    per_type: Annotated[int, typer.Option(help='Questions per type at most.')] = 35,
    out_dir: Annotated[Path, typer.Option('--out', help='CSV and chart folder.')] =
    Path('laeqa_out'),
    detector: Annotated[str, typer.Option(help=DETECTOR_HELP)] = 'perfect',
    seeds: Annotated[str | None, typer.Option(
        help='A panel: seeds such as 1-5 or 3,7,11, each run on every --world.')] = None,
    workers: Annotated[int | None, typer.Option(
        help='Panel runs in parallel (default: one per core).')] = None,
    backend: BackendOption = 'builtin',
    scene: SceneOption = '',
    habitat_config: HabitatConfigOption = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match object names with the text embedding model (off where it is not '
             'installed, e.g. beside habitat-sim).')] = True,
) -> None:
    """Long-term active embodied QA: generated questions, every planner side by side.

    With --seeds, every seed on every world of --world (a comma list): per-run figures, their
    mean and min per planner, and a PNG of the panel in --out.
    """
    from robot_memory.eval.laeqa import PLANNERS, eval_laeqa, eval_laeqa_panel
    from robot_memory.eval.panel import parse_seeds, parse_worlds

    names = PLANNERS if planner == 'all' else tuple(p.strip() for p in planner.split(','))
    unknown = [n for n in names if n not in PLANNERS]
    if unknown:
        raise InvalidInputError(f'unknown planner {unknown[0]!r}; valid: all, '
                                f'{", ".join(PLANNERS)}')
    if seeds is not None:
        panel = eval_laeqa_panel(parse_seeds(seeds), parse_worlds(world), days, names,
                                 phrasings, out_dir, per_type, progress=not as_json,
                                 detector=detector, workers=workers)
        if as_json:
            emit(panel, True, 'eval laeqa panel')
            return
        _panel_table(panel, (*(f'{n}_accuracy' for n in names), 'voi_minus_explore_all',
                             'voi_path_share'))
        return
    result = eval_laeqa(seed, days, world, names, phrasings, out_dir, per_type,
                        use_embeddings=embeddings, progress=not as_json, detector=detector,
                        backend=backend, scene=scene, habitat_config=habitat_config)
    if as_json:
        emit(result, True, 'eval laeqa')
        return
    table = Table(title=f'LA-EQA: {result["questions"]} questions, parse coverage '
                        f'{result["parse_coverage"]:.2f}')
    for col in ('planner', 'accuracy', *sorted({c for p in result['planners'].values()
                                                 for c in p['by_category']}),
                'path_m', 'rooms', 'p95 ms'):
        table.add_column(col)
    for name, p in result['planners'].items():
        cats = [f'{p["by_category"].get(c, float("nan")):.2f}'
                for c in sorted({c for q in result['planners'].values()
                                 for c in q['by_category']})]
        table.add_row(name, f'{p["accuracy"]:.3f}', *cats, f'{p["path_m"]:.1f}',
                      f'{p["rooms_visited"]:.2f}', f'{p["latency_ms_p95"]:.1f}')
    out.print(table)
    out.print(f'per-question CSV: {result["csv"]}; chart: {result["chart"]}')


def _load_memory(db: Path) -> EpisodicMemory:
    """A memory file, read-only (beside a writer, if one runs)."""
    from robot_memory.core import MemoryStore

    with MemoryStore(db, read_only=True) as store:
        return store.load()


def _parser_for(db: Path | None, timezone: str, embeddings: bool) -> object:
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
    parser = _parser_for(db, timezone, embeddings)
    when = _time.time() if now is None else now
    if file is not None:
        try:
            lines = file.read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f'cannot read {file}: {exc}') from exc
        questions = [q.strip() for q in lines if q.strip() and not q.lstrip().startswith('#')]
        parser.warm_up()  # type: ignore[attr-defined]
        start = _time.perf_counter()
        results = parser.parse_many(questions, when)  # type: ignore[attr-defined]
        elapsed = _time.perf_counter() - start
        for q, result in zip(questions, results, strict=True):
            sys.stdout.write(json.dumps({'question': q, **result.to_dict()}) + '\n')
        rate = len(questions) / elapsed if elapsed > 0 else float('inf')
        console.print(f'{len(questions)} questions, {sum(r.ok for r in results)} parsed, '
                      f'{rate:.0f} questions/s after the model loaded')
        return
    assert question is not None
    result = parser.parse(question, when)  # type: ignore[attr-defined]
    data = result.to_dict()
    if as_json:
        sys.stdout.write(json.dumps(data) + '\n')
    else:
        out.print_json(json.dumps(data))
    if not result.ok:
        raise typer.Exit(1)


@eval_app.command('questions')
def eval_questions_cmd(
    file: Annotated[Path, typer.Argument(help='Labelled questions (.tsv type/category/question,'
                                              ' .jsonl or .yaml).')],
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    now: Annotated[float | None, typer.Option(
        help='The time the questions are asked (s since the Unix epoch); default: now.')] = None,
    timezone: Annotated[str, typer.Option(help='IANA timezone of the robot.')] = 'UTC',
    embeddings: Annotated[bool, typer.Option(
        help='Use the text embedding model (open vocabulary and intent classifier).')] = True,
) -> None:
    """Score the parser on a labelled question file: type and category accuracy, misses."""
    from robot_memory.eval.questions import evaluate_questions

    with console.status('parsing the questions…', spinner='dots'):
        result = evaluate_questions(file, now_s=now, timezone=timezone, embeddings=embeddings)
    if as_json:
        sys.stdout.write(json.dumps(result) + '\n')
        return
    out.print(f'{result["questions"]} questions: type accuracy {result["type_accuracy"]:.3f}, '
              f'category accuracy {result["category_accuracy"]:.3f}, unsure '
              f'{result["unsure_rate"]:.3f}, {result["questions_per_s"]} questions/s')
    table = Table(title='misses')
    for col in ('line', 'question', 'expected', 'got', 'error'):
        table.add_column(col)
    for m in result['misses']:
        table.add_row(str(m['line']), m['question'],
                      f'{m["expected"]["type"]}/{m["expected"]["category"]}',
                      f'{m["got"]["type"]}/{m["got"]["category"]}', m['error'][:60])
    out.print(table)


@app.command('ask')
def ask_cmd(
    question: Annotated[str, typer.Argument(help='An English question.')],
    db: Annotated[Path | None, typer.Option(help='A robot_memory SQLite file.')] = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print JSON.')] = False,
    now: Annotated[float | None, typer.Option(
        help="Ask as of this stamp (s); default: the memory's latest time.")] = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match unknown words with the text embedding model.')] = True,
    fleet: Annotated[str | None, typer.Option(
        help="Answer from every robot on this fleet server (DSN); --db adds this robot's "
             'own file, shipped or not, with --robot-id.')] = None,
    robot_id: Annotated[str, typer.Option(help="This robot's fleet id (with --fleet).")] = '',
) -> None:
    """Answer a question from a saved memory file (or a fleet), with evidence."""
    from robot_memory.service import MemoryService, MemoryServiceParams

    if fleet is not None:
        _ask_fleet(question, fleet, db, robot_id, as_json, now, embeddings)
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
    if not answer.ok:
        raise typer.Exit(1)


def _ask_fleet(question: str, dsn: str, db: Path | None, robot_id: str, as_json: bool,
               now: float | None, embeddings: bool) -> None:
    from robot_memory.fleet.view import FleetView

    view = FleetView(dsn, robot_id if db is not None else '', db, use_embeddings=embeddings)
    try:
        view.refresh()
        reply = view.ask(question, now)
    finally:
        view.close()
    if as_json:
        sys.stdout.write(json.dumps(reply) + '\n')
    else:
        out.print(reply['answer'])
        out.print(f'confidence {reply["confidence"]:.2f} (robots: {", ".join(reply["robots"])})'
                  + ('  (worth checking)' if reply['needs_verification'] else ''))
        for e in reply['evidence']:
            out.print(f'  evidence: {e["object_id"]} seen by {e["robot"]} at '
                      f'{view.memory.clock.label(e["stamp_s"])} in {e["room_id"] or "?"}')
    if not reply['ok']:
        raise typer.Exit(1)


@app.command('inspect')
def inspect_cmd(
    db: Annotated[Path, typer.Argument(help='A robot_memory SQLite file.')],
    at: Annotated[float | None, typer.Option(help='Show the world at this stamp (s).')] = None,
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
        episodes.add_column(col)
    for e in memory.instances():
        episodes.add_row(str(e.index), e.label, f'{e.start_s:.0f}', f'{e.end_s:.0f}')
    out.print(episodes)
    objects = Table(title=f'objects at t={t:.0f}')
    for col in ('id', 'class', 'room', 'state', 'P(still there)'):
        objects.add_column(col)
    for object_id, s in sorted(view.objects.items()):
        objects.add_row(object_id, s.label, s.room_id, s.state,
                        f'{memory.p_still_there(object_id, t):.2f}')
    out.print(objects)


@app.command('view')
def view_cmd(
    db: Annotated[Path, typer.Option(help='A robot_memory SQLite file.')],
    out_file: Annotated[Path, typer.Option('--out', help='The HTML page to write.')] =
    Path('memory.html'),
    step_s: Annotated[float, typer.Option(
        help='Seconds between slider stops inside an episode.')] = 900.0,
) -> None:
    """Write one self-contained interactive HTML page of a memory file (no network needed)."""
    from robot_memory.viewer import write_view

    memory = _load_memory(db)
    path = write_view(memory, out_file, title=f'robot memory: {db.name}', step_s=step_s)
    out.print(f'{path} ({path.stat().st_size / 1e3:.0f} kB): {memory.num_objects()} objects, '
              f'{len(memory.instances())} episodes')


@app.command('serve')
def serve_cmd(
    db: Annotated[Path, typer.Option(help='A robot_memory SQLite file (opened read-only).')],
    host: Annotated[str, typer.Option(
        help='Address to listen on; anything but localhost exposes the memory.')] = '127.0.0.1',
    port: Annotated[int, typer.Option(help='TCP port (0: any free one).')] = 8080,
    now: Annotated[float | None, typer.Option(
        help="Ask as of this stamp (s); default: the memory's latest time.")] = None,
    embeddings: Annotated[bool, typer.Option(
        help='Match unknown words with the text embedding model.')] = True,
) -> None:
    """Serve the viewer live with an ask box, read-only beside a running memory_node."""
    from robot_memory.viewer.server import MemoryServer

    if not 0 <= port <= 65535:
        raise InvalidInputError(f'port must be in 0..65535, got {port}')
    try:
        server = MemoryServer(db, host, port, embeddings=embeddings, now_s=now)
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


@fleet_app.command('init')
def fleet_init_cmd(dsn: DsnOption) -> None:
    """Create or upgrade the fleet schema on the server (as its administrator)."""
    from robot_memory.fleet.schema import init_server

    versions = init_server(dsn)
    out.print(f'fleet schema version {versions["after"]} (was {versions["before"]})')


@fleet_app.command('add-robot')
def fleet_add_robot_cmd(
    robot_id: Annotated[str, typer.Argument(help='The robot id (lower-case, digits, _).')],
    dsn: DsnOption,
    password: Annotated[str, typer.Option(
        envvar='ROBOT_MEMORY_ROBOT_PASSWORD', show_envvar=True, prompt=True, hide_input=True,
        help="The robot role's password (at least 12 characters).")],
) -> None:
    """Create a robot's database role: it may insert only its own rows and read the fleet."""
    from robot_memory.fleet.schema import add_robot

    out.print(f'robot {robot_id}: role {add_robot(dsn, robot_id, password)}')


@fleet_app.command('revoke-robot')
def fleet_revoke_robot_cmd(
    robot_id: Annotated[str, typer.Argument(help='The robot id.')], dsn: DsnOption) -> None:
    """Stop a robot's role from logging in (what it shipped stays)."""
    from robot_memory.fleet.schema import revoke_robot

    revoke_robot(dsn, robot_id)
    out.print(f'robot {robot_id}: revoked')


@fleet_app.command('sync')
def fleet_sync_cmd(
    db: Annotated[Path, typer.Option(help="The robot's memory file.")],
    dsn: DsnOption,
    robot_id: Annotated[str, typer.Option(help='The id this robot ships as.')],
    follow: Annotated[bool, typer.Option(
        help='Keep shipping new events until Ctrl-C (as memory_node does).')] = False,
    period_s: Annotated[float, typer.Option(help='Seconds between looks with --follow.')] =
    1.0,
    batch_events: Annotated[int, typer.Option(help='Events per transaction.')] = 5000,
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
) -> None:
    """Ship a memory file's events to the fleet server (idempotent; resumes where it was)."""
    import time

    from robot_memory.fleet.replicator import Replicator

    with Replicator(db, dsn, robot_id, batch_events=batch_events) as replicator:
        try:
            while True:
                replicator.sync()
                if not follow:
                    break
                time.sleep(period_s)
        except KeyboardInterrupt:
            pass
        stats = replicator.stats
        result = {'robot_id': robot_id, 'acked_seq': stats.acked_seq,
                  'local_seq': stats.local_seq, 'shipped': stats.shipped,
                  'backlog': stats.backlog, 'connected': stats.connected,
                  'error': stats.last_error}
    if not stats.connected:
        raise RobotMemoryError(f'the fleet server is not reachable: {stats.last_error}')
    emit(result, as_json, 'fleet sync')


@app.command('demo')
def demo_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('demo_out'),
    days: Annotated[int, typer.Option(help='Simulated days.')] = 3,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
    detector: Annotated[str, typer.Option(help=DETECTOR_HELP)] = 'perfect',
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
        app(args=argv, standalone_mode=False)
    except RobotMemoryError as exc:
        console.print(f'[red]error:[/] {exc}')
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        console.print('aborted')
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == '__main__':
    main()

"""`robot-memory bench …`: the benchmarks that print JSON figures.

`bench ros` is added by `robot_memory/ros/cli_commands.py` where ROS 2 is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robot_memory._console import emit
from robot_memory.cli_options import JsonOption, WorldOption, WorldStyleOption
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.progress import Working

__all__ = ['bench_app']

bench_app = typer.Typer(help='Benchmarks that print JSON figures.', no_args_is_help=True)


@bench_app.command('store')
def bench_store_cmd(
    as_json: JsonOption = False,
    objects: Annotated[int, typer.Option(help='Objects in the synthetic home.')] = 200,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 7,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
) -> None:
    """Event-log throughput, reopen time and bytes per event for a synthetic week."""
    from robot_memory.eval.bench_store import bench_store

    with Working('running the store benchmark…'):
        result = bench_store(objects, days, seed)
    emit(result, as_json, 'bench store')


@bench_app.command('queries')
def bench_queries_cmd(
    as_json: JsonOption = False,
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
    with Working('building memories and timing queries…'):
        result = bench_queries(ages, objects, seed)
    emit(result, as_json, 'bench queries')


@bench_app.command('ingest')
def bench_ingest_cmd(
    as_json: JsonOption = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    days: Annotated[int, typer.Option(help='Days of patrol to replay.')] = 1,
    world: WorldOption = 'apartment',
    attribute_model: Annotated[str, typer.Option(
        help='pixels (the built-in state reader), a CLIP-family model directory, or tiny: a '
             'random tiny CLIP built for the run (its time, not its answers).')] = 'pixels',
    world_style: WorldStyleOption = 'home',
) -> None:
    """Frame → perception → memory → store throughput at 640×480, per stage."""
    from robot_memory.eval.bench_ingest import bench_ingest

    with Working('rendering a patrol, then ingesting it…'):
        result = bench_ingest(seed, days, world, attribute_model=attribute_model,
                              world_style=world_style)
    emit(result, as_json, 'bench ingest')


@bench_app.command('sim')
def bench_sim_cmd(
    as_json: JsonOption = False,
    frames: Annotated[int, typer.Option(help='Frames to render.')] = 300,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
) -> None:
    """Rendering speed of the built-in simulator at 640×480 on one core."""
    from robot_memory.sim.commands import bench_sim

    with Working('rendering…'):
        result = bench_sim(frames=frames, seed=seed)
    emit(result, as_json, 'bench sim')


@bench_app.command('soak')
def bench_soak_cmd(
    as_json: JsonOption = False,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 30,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 0,
    world: WorldOption = 'apartment',
    png: Annotated[Path, typer.Option(help='Curves (PNG).')] = Path('soak.png'),
) -> None:
    """A month of patrols through memory and its store: RSS, store, latency per day."""
    from robot_memory.eval.bench_soak import bench_soak

    result = bench_soak(days, seed, world, png, progress=True)
    emit(result, as_json, 'bench soak')


@bench_app.command('view')
def bench_view_cmd(
    as_json: JsonOption = False,
    db: Annotated[Path | None, typer.Option(
        help="The demo's memory file; default: the demo's three days, built here.")] = None,
    objects: Annotated[int, typer.Option(help='Objects in the long memory.')] = 500,
    days: Annotated[int, typer.Option(help='Days in the long memory.')] = 30,
) -> None:
    """Viewer page size, load time and slider step in headless Chromium."""
    from robot_memory.viewer.bench import bench_view

    with Working('measuring the viewer…') as status:
        result = bench_view(db, objects, days, progress=lambda note: status.update(note))
    emit(result, as_json, 'bench view')


@bench_app.command('serve')
def bench_serve_cmd(
    as_json: JsonOption = False,
    db: Annotated[Path | None, typer.Option(
        help="A memory file to serve; default: the demo's three days, built here.")] = None,
    asks: Annotated[int, typer.Option(help='Questions sent at once.')] = 200,
    slow_clients: Annotated[int, typer.Option(
        help='Connections that send one byte and stall.')] = 1000,
) -> None:
    """`serve` under parallel asks and slow clients: answered/503, latency, threads, memory."""
    from robot_memory.viewer.bench import bench_serve

    if asks < 1 or slow_clients < 0:
        raise InvalidInputError(f'asks must be >= 1 and slow_clients >= 0, got {asks}, '
                                f'{slow_clients}')
    with Working('measuring the server…') as status:
        result = bench_serve(db, asks, slow_clients, progress=lambda note: status.update(note))
    emit(result, as_json, 'bench serve')


@bench_app.command('fleet')
def bench_fleet_cmd(
    as_json: JsonOption = False,
    robots: Annotated[str, typer.Option(help='Robot counts, comma-separated.')] = '10,50',
    days: Annotated[int, typer.Option(help='Days each robot maps.')] = 7,
    objects: Annotated[int, typer.Option(help="Objects in each robot's home.")] = 200,
    dsn: Annotated[str | None, typer.Option(
        envvar='ROBOT_MEMORY_FLEET_ADMIN_DSN', show_envvar=True,
        help="An administrator's DSN; default: a throw-away local server.")] = None,
    index_as_shipped: Annotated[bool, typer.Option(
        help="Robots run the server's fleet objects indexer after each shipment.")] = True,
) -> None:
    """Robot processes replicating into one PostgreSQL server, then fleet questions."""
    from robot_memory.fleet.bench import bench_fleet

    try:
        counts = [int(n) for n in robots.split(',') if n.strip()]
    except ValueError:
        raise InvalidInputError(f'--robots takes counts like 10,50; got {robots!r}') from None
    if not counts or min(counts) < 1 or days < 1:
        raise InvalidInputError('--robots needs positive counts and --days at least 1')
    with Working('benchmarking the fleet…') as status:
        result = bench_fleet(counts, days, objects, dsn, index_as_shipped,
                             progress=lambda note: status.update(note))
    emit(result, as_json, 'bench fleet')


@bench_app.command('habitat')
def bench_habitat_cmd(
    as_json: JsonOption = False,
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
        with Working('rendering with habitat-sim…'):
            result = bench_habitat(scene, config, frames)
    except ImportError as exc:
        raise RobotMemoryError(str(exc)) from None
    emit(result, as_json, 'bench habitat')

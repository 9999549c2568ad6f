"""The `robot-memory` command: demo, benchmarks, simulation, inspection of memory files."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from robot_memory import __version__
from robot_memory.exceptions import RobotMemoryError

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

console = Console(stderr=True)
out = Console()


def _emit(result: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, sort_keys=False) + '\n')
        return
    table = Table(title=title)
    table.add_column('figure')
    table.add_column('value', justify='right')
    for key, value in result.items():
        table.add_row(key, f'{value:.4g}' if isinstance(value, float) else str(value))
    out.print(table)


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
    _emit(result, as_json, 'bench store')


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
    _emit(result, as_json, 'bench ingest')


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
    _emit(result, as_json, 'bench sim')


@app.command('sim')
def sim_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('sim_out'),
    seed: Annotated[int, typer.Option(help='World and activity seed.')] = 7,
    days: Annotated[int, typer.Option(help='Simulated days.')] = 3,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
    as_json: Annotated[bool, typer.Option('--json', help='Print the summary as JSON.')] =
    False,
) -> None:
    """Simulate patrols; write ground truth, a top-down map PNG and an MCAP recording."""
    from robot_memory.sim.commands import run_sim

    summary = run_sim(seed, days, out_dir, world=world, progress=not as_json)
    _emit(summary, as_json, f'simulation written to {out_dir}')


@eval_app.command('mapping')
def eval_mapping_cmd(
    as_json: Annotated[bool, typer.Option('--json', help='Print one JSON object.')] = False,
    seed: Annotated[int, typer.Option(help='Simulator seed.')] = 11,
    days: Annotated[int, typer.Option(help='Days of patrol.')] = 3,
    world: Annotated[str, typer.Option(help='apartment, house, office or a YAML spec.')] =
    'apartment',
) -> None:
    """Build memory from simulated patrols and score objects, identities and changes."""
    from robot_memory.eval.mapping import eval_mapping

    result = eval_mapping(seed, days, world, progress=not as_json)
    _emit(result, as_json, 'eval mapping')


@app.command('inspect')
def inspect_cmd(
    db: Annotated[Path, typer.Argument(help='A robot_memory SQLite file.')],
    at: Annotated[float | None, typer.Option(help='Show the world at this stamp (s).')] = None,
    as_json: Annotated[bool, typer.Option('--json', help='Print JSON.')] = False,
) -> None:
    """Summarise a memory file: episodes, objects, and the world at a time."""
    from robot_memory.core import MemoryStore

    with MemoryStore(db, create=False) as store:
        memory = store.load()
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


@app.command('demo')
def demo_cmd(
    out_dir: Annotated[Path, typer.Option('--out', help='Output folder.')] = Path('demo_out'),
    days: Annotated[int, typer.Option(help='Simulated days.')] = 3,
    seed: Annotated[int, typer.Option(help='Random seed.')] = 0,
) -> None:
    """Build a multi-day memory, show its episodes and what changed, save the memory file."""
    from robot_memory.eval.demo import run_demo

    ok = run_demo(out_dir, days=days, seed=seed, console=out)
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
